//! R7 (testdata/repro): `era_restore` must write only what `era_check` accepts, at every size
//! of the era array. The restore writes the array a batch of 256 array blocks (260,608
//! eras) at a time; an XML that omitted the trailing entries of an array longer than one
//! batch lost every batch after the last entry given ("an array of 260609 values needs
//! 257 array blocks, the index has 256"), with exit 0. Each size class of the array's
//! index (format.md §5.2: one leaf of up to 252 array blocks, a root over several
//! leaves, a root over internal nodes) and of the restore's batches is restored from
//! XML with all entries, none, only the first, and the first and last, and the result
//! must pass `era_check` and list exactly the blocks the XML gave to `era_invalidate`.

use crate::cli::support::{restore, run};
use crate::common::gunzip;
use std::fmt::Write as _;
use std::path::Path;

/// Eras per array block, array blocks per index leaf, per restore batch.
const M: u64 = 1018;
const LEAF: u64 = 252;
const BATCH: u64 = 256 * M;

/// Which entries of the era array an XML gives (every one given has era 1).
#[derive(Debug, Clone, Copy)]
enum Entries {
    All,
    None,
    First,
    FirstAndLast,
}

impl Entries {
    fn blocks(self, nr_blocks: u64) -> Vec<u64> {
        match self {
            Entries::All => (0..nr_blocks).collect(),
            Entries::None => vec![],
            Entries::First => vec![0],
            Entries::FirstAndLast => {
                let mut v = vec![0, nr_blocks - 1];
                v.dedup();
                v
            }
        }
    }
}

fn xml(nr_blocks: u64, blocks: &[u64]) -> String {
    let mut s = format!(
        "<superblock uuid=\"\" block_size=\"8\" nr_blocks=\"{nr_blocks}\" current_era=\"2\">\n<era_array>\n"
    );
    for b in blocks {
        writeln!(s, "<era block=\"{b}\" era=\"1\"/>").unwrap();
    }
    s.push_str("</era_array>\n</superblock>\n");
    s
}

/// Restores `text` into a fresh image big enough for `nr_blocks`, checks it and
/// compares the blocks `era_invalidate` lists with `blocks`.
fn restore_and_check(dir: &Path, what: &str, text: &str, nr_blocks: u64, blocks: &[u64]) {
    let input = dir.join("in.xml");
    std::fs::write(&input, text).unwrap();
    let out = dir.join("out.img");
    let array_blocks = nr_blocks.div_ceil(M);
    let f = std::fs::File::create(&out).unwrap();
    f.set_len((array_blocks + array_blocks / 100 + 64) * 4096)
        .unwrap();
    let (code, err) = restore(&input, &out);
    assert_eq!(code, 0, "{what}: era_restore: {err}");
    let (code, stdout, err) = run("era_check", &[], &out);
    assert_eq!((code, err.as_str()), (0, ""), "{what}: era_check: {stdout}");
    let (code, listed, err) = run(
        "era_invalidate",
        &["--written-since", "1", "--format", "ranges"],
        &out,
    );
    assert_eq!(code, 0, "{what}: era_invalidate: {err}");
    let mut want = String::new();
    let mut i = 0;
    while i < blocks.len() {
        let mut j = i + 1;
        while j < blocks.len() && blocks[j] == blocks[j - 1] + 1 {
            j += 1;
        }
        writeln!(want, "{} {}", blocks[i], blocks[j - 1] + 1).unwrap();
        i = j;
    }
    assert!(listed == want, "{what}: era_invalidate lists {listed:.300}");
}

#[test]
fn restored_arrays_of_every_size_class_pass_the_checker() {
    let dir = tempfile::tempdir().unwrap();
    let sizes = [
        // One array block, one index leaf.
        1,
        M,
        M + 1,
        LEAF * M,
        // Two index leaves under a root, within the first batch.
        LEAF * M + 1,
        BATCH - 1,
        BATCH,
        // A second batch.
        BATCH + 1,
        2 * BATCH + 7,
    ];
    for nr_blocks in sizes {
        for entries in [
            Entries::All,
            Entries::None,
            Entries::First,
            Entries::FirstAndLast,
        ] {
            let blocks = entries.blocks(nr_blocks);
            let what = format!("{nr_blocks} blocks, entries {entries:?}");
            restore_and_check(
                dir.path(),
                &what,
                &xml(nr_blocks, &blocks),
                nr_blocks,
                &blocks,
            );
        }
    }
}

/// A root over internal nodes: more than 252 × 252 array blocks (64.6 million eras,
/// 248 MiB of array blocks), the trailing entries omitted.
#[test]
fn a_three_level_index_restored_sparse_passes_the_checker() {
    let dir = tempfile::tempdir().unwrap();
    let nr_blocks = LEAF * LEAF * M + 1;
    for entries in [Entries::None, Entries::FirstAndLast] {
        let blocks = entries.blocks(nr_blocks);
        let what = format!("{nr_blocks} blocks, entries {entries:?}");
        restore_and_check(
            dir.path(),
            &what,
            &xml(nr_blocks, &blocks),
            nr_blocks,
            &blocks,
        );
    }
}

/// The outside testers' inputs, as they were given.
#[test]
fn the_outside_reproductions_restore_to_checked_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let repro = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/repro/limits");
    for (name, nr_blocks, blocks) in [
        ("e260608", 260_608, vec![]),
        ("e260609", 260_609, vec![]),
        ("sparse_first", 1 << 20, vec![0]),
        ("sparse_ends", 1 << 20, vec![0, (1 << 20) - 1]),
    ] {
        let text = String::from_utf8(gunzip(&repro.join(format!("{name}.xml.gz")))).unwrap();
        restore_and_check(dir.path(), name, &text, nr_blocks, &blocks);
    }
}
