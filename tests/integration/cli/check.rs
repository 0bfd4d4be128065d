//! era_check on the kernel corpus, on damaged metadata and on a leak (a warning).

use super::support::*;
use crate::common::*;
use era_tools::era::metadata::read_superblock;
use era_tools::io::{BlockIo, MemIo};
use era_tools::pdata::space_map::{pack_bitmap, pack_index, read_bitmap, read_index};
use era_tools::units::MetaBlock;

#[test]
fn every_kernel_image_passes_silently() {
    for case in kernel_cases() {
        let img = kernel_image_file(&case);
        let (code, out, err) = run("era_check", &[], img.path());
        assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""), "{case}");
    }
}

#[test]
fn damage_is_reported_with_its_block_and_fails() {
    let mut image = kernel_image("crash");
    let sb = read_superblock(&MemIo::from_bytes(image.clone())).unwrap();
    let root = sb.era_array_root.index().unwrap();
    image[root * 4096 + 40] ^= 0x55;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.img");
    std::fs::write(&path, &image).unwrap();
    let (code, out, err) = run("era_check", &[], &path);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(
        err.starts_with(&format!("era_check: block {root}:")),
        "{err}"
    );
    let (code, _, err) = run("era_check", &["-q"], &path);
    assert_eq!((code, err.as_str()), (1, ""));
    // The superblock alone is fine.
    let (code, _, err) = run("era_check", &["--super-block-only"], &path);
    assert_eq!((code, err.as_str()), (0, ""));
}

/// The crash image with one free block marked as used: a leak.
fn leaked_image() -> (Vec<u8>, u64) {
    let io = MemIo::from_bytes(kernel_image("crash"));
    let mut sb = read_superblock(&io).unwrap();
    let mut index = read_index(&io, &sb.sm_root).unwrap();
    let bitmap_block = index[0].blocknr;
    let mut entries = read_bitmap(&io, bitmap_block).unwrap();
    let free = entries.iter().position(|&e| e == 0).unwrap();
    entries[free] = 1;
    io.write_block(bitmap_block, &pack_bitmap(bitmap_block, &entries))
        .unwrap();
    index[0].nr_free -= 1;
    index[0].none_free_before = entries.iter().position(|&e| e == 0).unwrap() as u32;
    let index_block = sb.sm_root.bitmap_root;
    io.write_block(index_block, &pack_index(index_block, &index))
        .unwrap();
    sb.sm_root.nr_allocated += 1;
    io.write_block(MetaBlock::new(0), &sb.pack()).unwrap();
    (io.to_bytes(), free as u64)
}

#[test]
fn a_leak_is_a_warning_that_can_be_ignored() {
    let (image, leaked) = leaked_image();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leak.img");
    std::fs::write(&path, image).unwrap();
    let (code, _, err) = run("era_check", &[], &path);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.starts_with(&format!("era_check: warning: block {leaked}:")),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let (code, _, err) = run("era_check", &["--ignore-non-fatal-errors"], &path);
    assert_eq!(code, 0);
    assert!(err.contains("warning"), "the warning is still shown: {err}");
}

#[test]
fn a_metadata_block_size_other_than_8_is_only_a_warning() {
    // Neither the kernel nor the reference tools read the field (format.md §3.1).
    let io = MemIo::from_bytes(kernel_image("checkpoints"));
    let mut sb = read_superblock(&io).unwrap();
    sb.metadata_block_size = 16;
    io.write_block(MetaBlock::new(0), &sb.pack()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mbs.img");
    std::fs::write(&path, io.to_bytes()).unwrap();
    let (code, _, err) = run("era_check", &["--ignore-non-fatal-errors"], &path);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err.trim_end(),
        "era_check: warning: block 0: superblock: metadata_block_size 16 sectors, expected 8 (the field is not used)"
    );
}
