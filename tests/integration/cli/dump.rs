//! era_dump against the kernel corpus: default, --logical, --compact,
//! --metadata-snapshot and -o.

use super::support::*;
use crate::common::*;
use era_tools::era::metadata::read_superblock;
use era_tools::io::MemIo;
use era_tools::units::Era;

fn logical_eras(xml: &str) -> Vec<(u32, u32)> {
    xml.lines()
        .filter(|l| l.trim_start().starts_with("<era "))
        .map(|l| {
            let nums: Vec<u32> = l
                .split('"')
                .skip(1)
                .step_by(2)
                .map(|n| n.parse().unwrap())
                .collect();
            (nums[0], nums[1])
        })
        .collect()
}

#[test]
fn default_dump_equals_the_reference_tool() {
    for case in ["crash", "metadata_snap", "resize_shrink"] {
        let img = kernel_image_file(case);
        let (code, out, err) = run("era_dump", &[], img.path());
        assert_eq!(code, 0, "{case}: {err}");
        assert!(out.as_bytes() == reference_dump(case).unwrap(), "{case}");
    }
}

#[test]
fn logical_dump_gives_every_block_its_truth() {
    for case in kernel_cases() {
        let img = kernel_image_file(&case);
        let (code, out, err) = run("era_dump", &["--logical"], img.path());
        assert_eq!(code, 0, "{case}: {err}");
        let t = truth(&case, false).unwrap();
        assert!(out.starts_with(&format!(
            "<superblock uuid=\"\" block_size=\"{}\" nr_blocks=\"{}\" current_era=\"{}\">\n  <era_array>",
            out.split("block_size=\"").nth(1).unwrap().split('"').next().unwrap(),
            t.nr_blocks,
            t.current_era
        )), "{case}");
        assert!(!out.contains("<writeset"), "{case}");
        let eras = logical_eras(&out);
        assert_eq!(eras.len(), t.nr_blocks as usize, "{case}");
        for (b, e) in eras {
            assert_eq!(e, t.era(b), "{case} block {b}");
        }
    }
}

#[test]
fn snapshot_dump_reads_the_held_snapshot() {
    let img = kernel_image_file("metadata_snap");
    let (code, out, err) = run(
        "era_dump",
        &["--logical", "--metadata-snapshot"],
        img.path(),
    );
    assert_eq!(code, 0, "{err}");
    let t = truth("metadata_snap", true).unwrap();
    assert!(out.contains(&format!("current_era=\"{}\"", t.current_era)));
    for (b, e) in logical_eras(&out) {
        assert_eq!(e, t.era(b), "block {b}");
    }
    let img = kernel_image_file("crash");
    let (code, out, err) = run("era_dump", &["--metadata-snapshot"], img.path());
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.contains("no metadata snapshot"), "{err}");
}

#[test]
fn compact_dump_lists_the_marked_runs() {
    let img = kernel_image_file("crash");
    let (code, out, _) = run("era_dump", &["--compact"], img.path());
    assert_eq!(code, 0);
    assert!(out.contains("  <writeset era=\"3\" nr_bits=\"16384\">\n    <marked block_begin=\"3\" len=\"1\"/>\n    <marked block_begin=\"5\" len=\"2\"/>\n    <marked block_begin=\"2000\" len=\"1\"/>\n  </writeset>"), "{out}");
    assert!(!out.contains("<bit "));
}

#[test]
fn output_file_is_written_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let img = kernel_image_file("checkpoints");
    let dest = dir.path().join("out.xml");
    let out = tool("era_dump")
        .arg("-o")
        .arg(&dest)
        .arg(img.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert!(std::fs::read(&dest).unwrap() == reference_dump("checkpoints").unwrap());
    // A new file gets the usual mode for new files, not a temporary file's 0600.
    use std::os::unix::fs::PermissionsExt;
    let umask = std::process::Command::new("sh")
        .args(["-c", "umask"])
        .output()
        .unwrap();
    let umask = u32::from_str_radix(String::from_utf8(umask.stdout).unwrap().trim(), 8).unwrap();
    let mode = std::fs::metadata(&dest).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o666 & !umask, "mode {mode:o}");
    std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = tool("era_dump")
        .arg("-o")
        .arg(&dest)
        .arg(img.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let mode = std::fs::metadata(&dest).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640, "an existing file keeps its mode");

    // A failing dump leaves an existing file as it was and creates no new one.
    let bad = dir.path().join("bad.img");
    std::fs::write(&bad, vec![0u8; 8192]).unwrap();
    std::fs::write(&dest, b"previous").unwrap();
    let out = tool("era_dump")
        .arg("-o")
        .arg(&dest)
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read(&dest).unwrap(), b"previous");
    let fresh = dir.path().join("fresh.xml");
    let out = tool("era_dump")
        .arg("-o")
        .arg(&fresh)
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!fresh.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".era-tools-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Writes `md` into a fresh image file with our writer.
fn image_of(md: &era_tools::era::ir::EraMetadata) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().unwrap();
    f.as_file().set_len(1 << 20).unwrap();
    let io =
        era_tools::io::FileIo::open(f.path(), era_tools::io::OpenMode::WriteExclusive).unwrap();
    era_tools::era::restore::write_metadata(&io, md).unwrap();
    f
}

/// Changes the key of the second writeset in the (one-leaf) writeset tree to `era`.
fn rekey_second_writeset(path: &std::path::Path, era: u64) {
    use era_tools::pdata::checksum::{seal, BlockKind};
    let mut image = std::fs::read(path).unwrap();
    let sb = read_superblock(&MemIo::from_bytes(image.clone())).unwrap();
    let leaf = sb.writeset_tree_root.index().unwrap() * 4096;
    let block: &mut [u8; 4096] = (&mut image[leaf..leaf + 4096]).try_into().unwrap();
    assert_eq!(u64::from_le_bytes(block[40..48].try_into().unwrap()), 4);
    block[40..48].copy_from_slice(&era.to_le_bytes());
    seal(block, BlockKind::BtreeNode);
    std::fs::write(path, image).unwrap();
}

#[test]
fn metadata_the_reference_tool_refuses_still_dumps() {
    use era_tools::era::ir::{EraMetadata, SuperblockIr, Writeset};
    // Writesets with a gap that do not end at the current era. Our writer refuses a gap
    // (era_check warns about it), so eras 3 and 4 are written and 4 becomes 7 in the
    // writeset tree's leaf.
    let md = EraMetadata {
        superblock: SuperblockIr {
            uuid: String::new(),
            block_size: 8,
            nr_blocks: 100,
            current_era: Era::new(10),
        },
        writesets: vec![
            Writeset {
                era: Era::new(3),
                nr_bits: 100,
                bits: vec![1 << 4, 0],
            },
            Writeset {
                era: Era::new(4),
                nr_bits: 100,
                bits: vec![0, 1 << 2],
            },
        ],
        era_array: vec![1; 100],
    };
    let img = image_of(&md);
    rekey_second_writeset(img.path(), 7);
    let (code, out, err) = run("era_dump", &["--compact"], img.path());
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(
            "<writeset era=\"3\" nr_bits=\"100\">\n    <marked block_begin=\"4\" len=\"1\"/>"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "<writeset era=\"7\" nr_bits=\"100\">\n    <marked block_begin=\"66\" len=\"1\"/>"
        ),
        "{out}"
    );
    let (code, out, _) = run("era_dump", &["--logical"], img.path());
    assert_eq!(code, 0);
    assert!(
        out.contains("<era block=\"4\" era=\"3\"/>")
            && out.contains("<era block=\"66\" era=\"7\"/>")
    );

    // An empty era array, as the kernel leaves it between format and first resume.
    let empty = EraMetadata {
        superblock: SuperblockIr {
            uuid: String::new(),
            block_size: 8,
            nr_blocks: 0,
            current_era: Era::new(0),
        },
        writesets: vec![],
        era_array: vec![],
    };
    let img = image_of(&empty);
    let (code, out, err) = run("era_dump", &[], img.path());
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "<superblock uuid=\"\" block_size=\"8\" nr_blocks=\"0\" current_era=\"0\">\n  <era_array>\n  </era_array>\n</superblock>"
    );
}

#[test]
fn a_fifo_output_is_written_directly() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let img = kernel_image_file("crash");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("era_dump"))
        .arg("-o")
        .arg(&fifo)
        .arg(img.path())
        .spawn()
        .unwrap();
    let text = std::fs::read(&fifo).unwrap();
    let status = child.wait_with_output().unwrap().status;
    assert!(status.success());
    assert!(text == reference_dump("crash").unwrap());
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names,
        vec![std::ffi::OsString::from("pipe")],
        "no temporary file beside a FIFO"
    );
}
