//! Shared helpers for the integration tests: the kernel corpus and temporary images.
#![allow(dead_code)]

pub mod recount;

use flate2::read::GzDecoder;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The folder of the kernel corpus.
pub fn kernel_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/kernel")
}

/// Every case of the kernel corpus, sorted.
pub fn kernel_cases() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(kernel_dir())
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
    assert!(v.len() >= 15, "kernel corpus incomplete: {v:?}");
    v
}

/// Decompresses a `.gz` file of the corpus.
pub fn gunzip(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The kernel's metadata image of `case`.
pub fn kernel_image(case: &str) -> Vec<u8> {
    gunzip(&kernel_dir().join(case).join("meta.img.gz"))
}

/// The kernel image of `case` unpacked into a temporary file.
pub fn kernel_image_file(case: &str) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), kernel_image(case)).unwrap();
    f
}

/// The reference dump of `case`, if the corpus has one.
pub fn reference_dump(case: &str) -> Option<Vec<u8>> {
    let p = kernel_dir().join(case).join("reference_dump.xml.gz");
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
}

/// Reads `expected_workload.txt` (or `_snap` with `snap`).
pub fn truth(case: &str, snap: bool) -> Option<Truth> {
    let name = if snap {
        "expected_workload_snap.txt"
    } else {
        "expected_workload.txt"
    };
    let text = std::fs::read_to_string(kernel_dir().join(case).join(name)).ok()?;
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
