//! `era_repair` and `era_dump --repair` on damaged kernel images: the output holds valid
//! metadata that lists at least every block the truth lists, the input is untouched, and
//! what could not be read is named on standard error.

use super::support::*;
use crate::common::{kernel_image, truth};
use std::path::Path;

/// The image of `case` in a temporary file with `block` zeroed.
fn damaged(case: &str, block: usize) -> tempfile::NamedTempFile {
    let mut img = kernel_image(case);
    img[block * 4096..(block + 1) * 4096].fill(0);
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), img).unwrap();
    f
}

/// An empty output image of `size` bytes.
fn output(size: u64) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().unwrap();
    f.as_file().set_len(size).unwrap();
    f
}

fn repair(args: &[&str], input: &Path, out: &Path) -> (i32, String) {
    let o = tool("era_repair")
        .arg("-i")
        .arg(input)
        .arg("-o")
        .arg(out)
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The blocks era_invalidate lists since `n` on `img` include the truth's.
fn assert_covers_truth(case: &str, img: &Path) {
    let t = truth(case, false).unwrap();
    for n in 0..=t.current_era + 1 {
        let (code, out, err) = run("era_invalidate", &["--written-since", &n.to_string()], img);
        assert_eq!(code, 0, "{err}");
        let listed: std::collections::HashSet<u32> = listed_blocks(&out).into_iter().collect();
        for b in 0..t.nr_blocks {
            if t.era(b) >= n {
                assert!(
                    listed.contains(&b),
                    "{case}: since {n}: block {b} is not listed"
                );
            }
        }
    }
}

#[test]
fn a_damaged_writeset_tree_is_repaired_and_named() {
    // Block 4 of `crash` is not what matters: find the writeset tree root by reading.
    let img = kernel_image("crash");
    let sb = era_tools::era::superblock::Superblock::decode(img[..4096].try_into().unwrap());
    let input = damaged("crash", sb.writeset_tree_root.index().unwrap());
    let before = digest(input.path());
    let out = output(4 << 20);
    let (code, err) = repair(&[], input.path(), out.path());
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!("block {}", sb.writeset_tree_root)) && err.contains("writeset tree"),
        "{err}"
    );
    assert_eq!(digest(input.path()), before, "the input is never written");
    let (code, _, err) = run("era_check", &[], out.path());
    assert_eq!(code, 0, "{err}");
    assert_covers_truth("crash", out.path());
}

#[test]
fn an_intact_image_is_copied_exactly_and_dump_repair_prints_it() {
    let input = damaged("metadata_snap", 1023); // a block not in use: nothing lost
    let out = output(4 << 20);
    let (code, err) = repair(&[], input.path(), out.path());
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("nothing was lost"), "{err}");
    let logical = |p: &Path| run("era_dump", &["--logical"], p).1;
    assert_eq!(logical(out.path()), logical(input.path()));
    let (code, xml, _) = run("era_dump", &["--repair", "--logical"], input.path());
    assert_eq!(code, 0);
    assert_eq!(xml, logical(input.path()));
}

#[test]
fn a_zeroed_superblock_needs_the_block_size() {
    let input = damaged("crash", 0);
    let out = output(4 << 20);
    let (code, err) = repair(&[], input.path(), out.path());
    assert_eq!(code, 1);
    assert!(err.contains("--data-block-size"), "{err}");
    assert_eq!(
        digest(out.path()),
        digest(output(4 << 20).path()),
        "nothing written"
    );
    let (code, err) = repair(&["--data-block-size", "8"], input.path(), out.path());
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("rebuilt"), "{err}");
    assert_covers_truth("crash", out.path());
    let (code, xml, err) = run(
        "era_dump",
        &["--repair", "--data-block-size", "8"],
        input.path(),
    );
    assert_eq!(code, 0, "{err}");
    assert!(xml.contains("<superblock"));
}

#[test]
fn the_output_may_not_be_the_input() {
    let input = damaged("crash", 1023);
    let before = digest(input.path());
    let (code, err) = repair(&[], input.path(), input.path());
    assert_eq!(code, 2, "a usage error");
    assert!(err.contains("is the input"), "{err}");
    assert_eq!(digest(input.path()), before);
}

/// A 4 MiB image whose superblock claims 2^28 or 2^31−1 origin blocks (its era array
/// holds 16384): both tools run under a 500 MB address-space limit and answer from what
/// the era array holds instead of allocating for the claim.
#[test]
fn a_huge_claimed_nr_blocks_is_sized_by_what_the_metadata_holds() {
    for name in ["nb_2p28", "nb_2p31m1"] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/repro/limits");
        let input = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(
            input.path(),
            crate::common::gunzip(&dir.join(format!("{name}.img.gz"))),
        )
        .unwrap();
        let out = output(64 << 20);
        let limited = |tool: &str, args: &str| {
            let bin = assert_cmd::cargo::cargo_bin(tool);
            let o = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("ulimit -v 500000; exec \"$0\" {args}"))
                .arg(&bin)
                .output()
                .unwrap();
            (
                o.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&o.stdout).into_owned(),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        };
        let (i, o) = (input.path().display(), out.path().display());
        let (code, _, err) = limited("era_repair", &format!("-i {i} -o {o}"));
        assert_eq!(code, 0, "{name}: era_repair: {err}");
        assert!(
            err.contains("nr_blocks"),
            "{name}: the change is named: {err}"
        );
        let (code, _, err) = run("era_check", &[], out.path());
        assert_eq!(code, 0, "{name}: {err}");
        let (code, xml, err) = limited("era_dump", &format!("--repair {i}"));
        assert_eq!(code, 0, "{name}: era_dump --repair: {err}");
        assert!(xml.contains("nr_blocks=\"16384\""), "{name}: {xml:.300}");
    }
}

#[test]
fn a_bad_data_block_size_names_the_option() {
    let input = damaged("crash", 1023);
    let out = output(4 << 20);
    let (code, err) = repair(&["--data-block-size", "25"], input.path(), out.path());
    assert_eq!(code, 1);
    assert!(
        err.contains("25") && err.contains("--data-block-size"),
        "{err}"
    );
}

/// Runs `tool args` through `sh -c` under an address-space limit of `kib` KiB; returns
/// (exit code, stderr).
fn under_limit(kib: u64, tool: &str, args: &str) -> (i32, String) {
    let bin = assert_cmd::cargo::cargo_bin(tool);
    let o = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {kib}; exec \"$0\" {args}"))
        .arg(&bin)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Zeroes the `nth` array block of 4-byte values (an era-array block) of the image at
/// `path`; returns its block number.
fn zero_era_array_block(path: &Path, nth: usize) -> u64 {
    use std::io::{Read, Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let mut block = vec![0u8; 4096];
    let mut seen = 0;
    for b in 0.. {
        f.read_exact(&mut block).expect("an era-array block");
        let word = |at: usize| u32::from_le_bytes(block[at..at + 4].try_into().unwrap());
        if word(4) == 1018 && word(12) == 4 {
            seen += 1;
            if seen == nth {
                f.seek(SeekFrom::Start(b * 4096)).unwrap();
                f.write_all(&[0; 4096]).unwrap();
                return b;
            }
        }
    }
    unreachable!()
}

/// The salvage streams: 2^25 origin blocks (152 MB of metadata, which the salvage used
/// to hold whole in memory at 4.4 bytes a block) are repaired and dumped under a
/// 100 MB address-space limit, undamaged and with an era-array block zeroed (the
/// damaged path: losses, a scan of the device, every version found).
#[test]
fn the_salvage_of_a_large_origin_runs_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let meta = dir.path().join("meta.img");
    let out = dir.path().join("out.img");
    let (code, _, err) = run(
        "era_generate",
        &[
            "--nr-blocks",
            "33554432",
            "--current-era",
            "100",
            "--nr-writesets",
            "4",
            "--density",
            "0.1",
            "--seed",
            "1",
            "-o",
        ],
        &meta,
    );
    assert_eq!(code, 0, "{err}");
    let size = std::fs::metadata(&meta).unwrap().len();
    for damaged in [false, true] {
        if damaged {
            zero_era_array_block(&meta, 1000);
        }
        std::fs::File::create(&out).unwrap().set_len(size).unwrap();
        let (m, o) = (meta.display(), out.display());
        let (code, err) = under_limit(100_000, "era_repair", &format!("-i {m} -o {o}"));
        assert_eq!(code, 0, "era_repair (damaged: {damaged}): {err}");
        assert!(
            err.contains("33554432 origin blocks"),
            "damaged: {damaged}: {err}"
        );
        assert_eq!(damaged, err.contains("could not read"), "{err}");
        let (code, _, err) = run("era_check", &[], &out);
        assert_eq!(code, 0, "{err}");
        let (code, err) = under_limit(
            100_000,
            "era_dump",
            &format!("--repair --compact {m} > /dev/null"),
        );
        assert_eq!(code, 0, "era_dump --repair (damaged: {damaged}): {err}");
    }
}
