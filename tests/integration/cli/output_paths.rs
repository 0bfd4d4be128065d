//! `-o -` is standard output; a missing output directory is named as such (not by the
//! temporary file's name); error messages read as English.

use super::support::*;
use crate::common::*;
use era_tools::era::metadata::read_superblock;
use era_tools::io::MemIo;

#[test]
fn dash_means_standard_output() {
    let img = kernel_image_file("checkpoints");
    let cwd = tempfile::tempdir().unwrap();
    for (name, args) in [
        ("era_dump", &["-o", "-"][..]),
        ("era_invalidate", &["--written-since", "1", "-o", "-"][..]),
    ] {
        let without: Vec<&str> = args[..args.len() - 2].to_vec();
        let (_, want, _) = run(name, &without, img.path());
        let o = tool(name)
            .current_dir(cwd.path())
            .args(args)
            .arg(img.path())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{name}");
        assert!(String::from_utf8_lossy(&o.stdout) == want, "{name}");
        assert!(
            !cwd.path().join("-").exists(),
            "{name} created a file named -"
        );
    }
}

#[test]
fn a_missing_output_directory_is_named() {
    let img = kernel_image_file("checkpoints");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("no/such/dir/out.xml");
    let (code, _, err) = run("era_dump", &["-o", out.to_str().unwrap()], img.path());
    assert_eq!(code, 1);
    assert!(
        err.contains("does not exist") && err.contains("no/such/dir"),
        "{err}"
    );
    assert!(!err.contains(".era-tools-"), "{err}");
}

#[test]
fn a_bad_array_block_checksum_is_named_plainly() {
    let mut image = kernel_image("crash");
    let sb = read_superblock(&MemIo::from_bytes(image.clone())).unwrap();
    // The era array's root is a leaf (17 array blocks); its first value, after the
    // 32-byte header and max_entries keys, is the first array block.
    let root = sb.era_array_root.index().unwrap() * 4096;
    let max_entries = u32::from_le_bytes(image[root + 20..root + 24].try_into().unwrap());
    let values = root + 32 + 8 * max_entries as usize;
    let first = u64::from_le_bytes(image[values..values + 8].try_into().unwrap());
    image[first as usize * 4096 + 100] ^= 1;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.img");
    std::fs::write(&path, &image).unwrap();
    let (code, _, err) = run("era_dump", &[], &path);
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!("block {first}: array block: bad checksum")),
        "{err}"
    );
}
