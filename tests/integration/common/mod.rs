//! Shared helpers for the integration tests: the kernel corpus and temporary images.
#![allow(dead_code)]

pub mod block_damage;
pub mod damage;
pub mod failing_io;
pub mod kernel_replay;
pub mod long_run;
pub mod loop_device;
pub mod manifest;
pub mod null_origin;
pub mod power_cut;
pub mod recount;
pub mod script;
pub mod skip;

use era_tools::era::ir::EraMetadata;
use era_tools::era::metadata::{open_view, read_metadata, Source};
use era_tools::io::BlockIo;
use era_tools::units::{DataBlock, Era};
use flate2::read::GzDecoder;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// The folder of the kernel corpus.
pub fn kernel_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/kernel")
}

/// The folder of the second kernel corpus: random and placement-stress workloads, same
/// files per case.
pub fn random_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/kernel_random")
}

/// The folder of a kernel case, in whichever corpus holds it (case names are unique
/// across the two).
pub fn case_dir(case: &str) -> PathBuf {
    let k = kernel_dir().join(case);
    if k.exists() {
        k
    } else {
        random_dir().join(case)
    }
}

fn cases_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let e = e.unwrap();
            e.path()
                .join("meta.img.gz")
                .exists()
                .then(|| e.file_name().to_string_lossy().into_owned())
        })
        .collect();
    v.sort();
    v
}

/// The cases of `testdata/kernel` alone, sorted.
pub fn first_corpus_cases() -> Vec<String> {
    let v = cases_in(&kernel_dir());
    assert!(v.len() >= 15, "kernel corpus incomplete: {v:?}");
    v
}

/// The cases of `testdata/kernel_random` alone, sorted.
pub fn random_cases() -> Vec<String> {
    let v = cases_in(&random_dir());
    assert!(v.len() >= 31, "random kernel corpus incomplete: {v:?}");
    v
}

/// Every kernel case: `testdata/kernel`, then `testdata/kernel_random`.
pub fn kernel_cases() -> Vec<String> {
    let mut v = first_corpus_cases();
    v.extend(random_cases());
    v
}

/// The contents of a `.gz` file of the corpus, decompressed once per run of the test
/// binary and shared by every test that asks for it (the kernel images alone are
/// 317 MiB decompressed, and most are read by several tests).
pub fn gunzip_shared(path: &Path) -> Arc<Vec<u8>> {
    type Cache = Mutex<HashMap<PathBuf, Arc<OnceLock<Arc<Vec<u8>>>>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let slot = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .entry(path.to_path_buf())
        .or_default()
        .clone();
    // Decompressed outside the map's lock: other files meanwhile, this one only once.
    slot.get_or_init(|| {
        let mut out = Vec::new();
        GzDecoder::new(std::fs::File::open(path).unwrap())
            .read_to_end(&mut out)
            .unwrap();
        Arc::new(out)
    })
    .clone()
}

/// A copy of the decompressed contents of a `.gz` file of the corpus.
pub fn gunzip(path: &Path) -> Vec<u8> {
    gunzip_shared(path).to_vec()
}

/// The kernel's metadata image of `case`, shared (see [`gunzip_shared`]).
pub fn kernel_image_shared(case: &str) -> Arc<Vec<u8>> {
    gunzip_shared(&case_dir(case).join("meta.img.gz"))
}

/// A copy of the kernel's metadata image of `case`, to change or own.
pub fn kernel_image(case: &str) -> Vec<u8> {
    kernel_image_shared(case).to_vec()
}

/// The kernel image of `case` unpacked into a temporary file.
pub fn kernel_image_file(case: &str) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), &*kernel_image_shared(case)).unwrap();
    f
}

/// The reference dump of `case`, if the corpus has one.
pub fn reference_dump(case: &str) -> Option<Vec<u8>> {
    let p = case_dir(case).join("reference_dump.xml.gz");
    p.exists().then(|| gunzip(&p))
}

/// Per-block truth of an `expected_workload*.txt`.
#[derive(Debug)]
pub struct Truth {
    pub nr_blocks: u32,
    pub current_era: u32,
    pub eras: BTreeMap<u32, u32>,
}

impl Truth {
    /// The era of `block` (unlisted blocks are era 0).
    pub fn era(&self, block: u32) -> u32 {
        self.eras.get(&block).copied().unwrap_or(0)
    }

    /// Asserts that `md` has this geometry and era and folds every block to its era.
    pub fn assert_folds(&self, what: &str, md: &EraMetadata) {
        assert_eq!(md.superblock.nr_blocks, self.nr_blocks, "{what}: nr_blocks");
        assert_eq!(
            md.superblock.current_era,
            Era::new(self.current_era),
            "{what}: current_era"
        );
        let folded = md.folded_eras();
        assert_eq!(folded.len(), self.nr_blocks as usize, "{what}");
        for (b, &e) in folded.iter().enumerate() {
            assert_eq!(e, self.era(b as u32), "{what}: block {b}");
        }
    }
}

/// The metadata of `source` on `io` (`what` names it in a failure).
pub fn read_era_metadata(io: &dyn BlockIo, source: Source, what: &str) -> EraMetadata {
    let view = open_view(io, source).unwrap_or_else(|e| panic!("{what}: {e}"));
    read_metadata(io, &view).unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// Reads `expected_workload.txt` (or `_snap` with `snap`).
pub fn truth(case: &str, snap: bool) -> Option<Truth> {
    let name = if snap {
        "expected_workload_snap.txt"
    } else {
        "expected_workload.txt"
    };
    truth_file(&case_dir(case).join(name))
}

/// Reads a truth file in the `expected_workload.txt` format (gzip'd if its name ends in
/// `.gz`), if it exists.
pub fn truth_file(path: &Path) -> Option<Truth> {
    if !path.exists() {
        return None;
    }
    let text = if path.extension().is_some_and(|e| e == "gz") {
        String::from_utf8(gunzip(path)).unwrap()
    } else {
        std::fs::read_to_string(path).unwrap()
    };
    let mut nr_blocks = None;
    let mut current_era = None;
    let mut eras = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix('#') {
            for word in rest.split(|c: char| c.is_whitespace() || c == ';') {
                if let Some(v) = word.strip_prefix("nr_blocks=") {
                    nr_blocks = v.parse().ok();
                }
                if let Some(v) = word.strip_prefix("current_era=") {
                    current_era = v.parse().ok();
                }
            }
            continue;
        }
        let mut it = line.split_whitespace();
        if let (Some(b), Some(e)) = (it.next(), it.next()) {
            eras.insert(b.parse().unwrap(), e.parse().unwrap());
        }
    }
    Some(Truth {
        nr_blocks: nr_blocks.expect("nr_blocks in header"),
        current_era: current_era.expect("current_era in header"),
        eras,
    })
}

/// Range minimum and maximum over a slice in O(1) per query (sparse tables), to check
/// run lists against the truth without expanding them.
pub struct RangeMinMax {
    min: Vec<Vec<u32>>,
    max: Vec<Vec<u32>>,
}

impl RangeMinMax {
    pub fn new(v: &[u32]) -> RangeMinMax {
        let mut min = vec![v.to_vec()];
        let mut max = vec![v.to_vec()];
        let mut w = 1;
        while 2 * w <= v.len() {
            let (pm, px) = (min.last().unwrap(), max.last().unwrap());
            let nm: Vec<u32> = (0..=v.len() - 2 * w)
                .map(|i| pm[i].min(pm[i + w]))
                .collect();
            let nx: Vec<u32> = (0..=v.len() - 2 * w)
                .map(|i| px[i].max(px[i + w]))
                .collect();
            min.push(nm);
            max.push(nx);
            w *= 2;
        }
        RangeMinMax { min, max }
    }

    /// (min, max) over `[b, e)`, `b < e`.
    pub fn query(&self, b: usize, e: usize) -> (u32, u32) {
        let k = (usize::BITS - 1 - (e - b).leading_zeros()) as usize;
        let w = 1 << k;
        (
            self.min[k][b].min(self.min[k][e - w]),
            self.max[k][b].max(self.max[k][e - w]),
        )
    }
}

impl Truth {
    /// The truth as one era per block.
    pub fn dense(&self) -> Vec<u32> {
        (0..self.nr_blocks).map(|b| self.era(b)).collect()
    }
}

/// Asserts that `runs` ([begin, end) pairs, ascending) are exactly the blocks whose era
/// in `truth` is at least `since`.
pub fn assert_runs_are_truth(
    runs: &[(DataBlock, DataBlock)],
    truth: &RangeMinMax,
    nr_blocks: u32,
    since: u32,
    what: &str,
) {
    let mut prev_end = 0u32;
    for &(b, e) in runs {
        let (b, e) = (b.get(), e.get());
        assert!(
            b < e && b >= prev_end && e <= nr_blocks,
            "{what}: bad run [{b}, {e})"
        );
        if b > prev_end {
            let (_, max) = truth.query(prev_end as usize, b as usize);
            assert!(
                max < since,
                "{what}: a block in [{prev_end}, {b}) has era {max} >= {since} but is not listed"
            );
        }
        let (min, _) = truth.query(b as usize, e as usize);
        assert!(
            min >= since,
            "{what}: run [{b}, {e}) holds a block of era {min} < {since}"
        );
        prev_end = e;
    }
    if prev_end < nr_blocks {
        let (_, max) = truth.query(prev_end as usize, nr_blocks as usize);
        assert!(
            max < since,
            "{what}: a block at or after {prev_end} has era {max} >= {since} but is not listed"
        );
    }
}
