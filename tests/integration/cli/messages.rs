//! What a new user reads: values no run can accept are usage errors (exit 2), and a
//! missing metadata snapshot says how to take one.

use super::support::*;

#[test]
fn impossible_values_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = tool("era_generate")
        .args(["--nr-blocks", "100", "--density", "2", "-o"])
        .arg(dir.path().join("m.img"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(!dir.path().join("m.img").exists());
    let out = tool("era_invalidate")
        .args([
            "--written-since",
            "1",
            "--unit",
            "bytes",
            "--format",
            "ranges",
        ])
        .args(["--length", "0", "meta.img"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

#[test]
fn a_missing_snapshot_says_how_to_take_one() {
    let dir = tempfile::tempdir().unwrap();
    let meta = dir.path().join("meta.img");
    let out = tool("era_generate")
        .args(["--nr-blocks", "100", "-o"])
        .arg(&meta)
        .output()
        .unwrap();
    assert!(out.status.success());
    let (code, _, stderr) = run("era_dump", &["--metadata-snapshot"], &meta);
    assert_eq!(code, 1);
    assert!(stderr.contains("take_metadata_snap"), "{stderr}");
}

/// A copy of the bundled example image in `dir`, with a byte of block `block` changed
/// (block 9 is an era-array block, block 2 a node of the space map's ref-count tree,
/// which the target reads at open: a bad checksum).
fn damaged_example(dir: &std::path::Path, block: usize) -> std::path::PathBuf {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/example/meta.img");
    let mut image = std::fs::read(src).unwrap();
    image[block * 4096 + 40] ^= 0x55;
    let path = dir.join(format!("damaged-{block}.img"));
    std::fs::write(&path, &image).unwrap();
    path
}

const REPAIR_HINT: &str = "the metadata is damaged: run era_repair to salvage it";

#[test]
fn damaged_metadata_points_to_era_repair() {
    let dir = tempfile::tempdir().unwrap();
    let damaged = damaged_example(dir.path(), 9);
    for (name, args) in [
        ("era_check", &[][..]),
        ("era_invalidate", &["--written-since", "1"][..]),
    ] {
        let (code, _, err) = run(name, args, &damaged);
        assert_eq!(code, 1, "{name}: {err}");
        assert!(err.contains("bad checksum"), "{name}: {err}");
        assert_eq!(
            err.lines().last(),
            Some(format!("{name}: {REPAIR_HINT}").as_str()),
            "{name}: {err}"
        );
        // Not for a missing file.
        let (code, _, err) = run(name, args, &dir.path().join("missing.img"));
        assert_eq!(code, 1, "{name}: {err}");
        assert!(!err.contains("era_repair"), "{name}: {err}");
    }
    // Quiet is quiet; era_repair does not point to itself.
    let (code, _, err) = run("era_check", &["-q"], &damaged);
    assert_eq!((code, err.as_str()), (1, ""));
    // Metadata that was never formatted is not damage to salvage.
    let blank = dir.path().join("blank.img");
    std::fs::File::create(&blank)
        .unwrap()
        .set_len(1 << 20)
        .unwrap();
    for (name, args) in [
        ("era_check", &[][..]),
        ("era_invalidate", &["--written-since", "1"][..]),
    ] {
        let (code, _, err) = run(name, args, &blank);
        assert_eq!(code, 1, "{name}: {err}");
        assert!(err.contains("never been formatted"), "{name}: {err}");
        assert!(!err.contains("era_repair"), "{name}: {err}");
    }
}

/// No part of `line` says the same thing twice: a path, or the text of an OS error.
fn assert_not_doubled(line: &str, path: &str, what: &str) {
    assert!(
        !line.contains(&format!("{path}: {path}")),
        "{what}: doubled path: {line}"
    );
    assert!(
        line.matches("os error").count() <= 1,
        "{what}: doubled OS error: {line}"
    );
}

#[test]
fn no_text_is_doubled() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.img");
    let m = missing.to_str().unwrap();
    let origin = dir.path().join("origin.img");
    std::fs::File::create(&origin)
        .unwrap()
        .set_len(1 << 20)
        .unwrap();
    // A missing input.
    for (name, args) in READERS {
        let (code, _, err) = run(name, args, &missing);
        assert_eq!(code, 1, "{name}: {err}");
        assert_not_doubled(&err, m, name);
    }
    // A socket in a directory that does not exist.
    let out = tool("era_emulate")
        .args(["serve", "--block-size", "8", "--meta", m, "--origin"])
        .arg(&origin)
        .arg("--socket")
        .arg(dir.path().join("no/such/dir/s.sock"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("No such file or directory"), "{err}");
    assert_not_doubled(&err, m, "era_emulate serve");
    // An image another process holds.
    let held = dir.path().join("meta.img");
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/example/meta.img");
    std::fs::copy(example, &held).unwrap();
    let h = held.to_str().unwrap();
    let holder = std::fs::File::options()
        .read(true)
        .write(true)
        .open(&held)
        .unwrap();
    holder.try_lock().unwrap();
    for (name, args) in READERS {
        let (code, _, err) = run(name, args, &held);
        assert_eq!(code, 1, "{name}: {err}");
        assert!(err.contains("in use by another process"), "{name}: {err}");
        assert_not_doubled(&err, h, name);
    }
    let out = tool("era_emulate")
        .args(["run", "--block-size", "8", "--meta", h, "--origin"])
        .arg(&origin)
        .write_stdin("")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("in use by another process"), "{err}");
    assert_not_doubled(&err, h, "era_emulate run");
}

/// Every line of `err` starts with `TOOL: ` and carries no second label.
fn assert_one_prefix(name: &str, err: &str) {
    assert!(!err.is_empty(), "{name}: nothing on stderr");
    for line in err.lines() {
        let prefix = format!("{name}: ");
        let rest = line
            .strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("{name}: no prefix: {line}"));
        for label in ["error:", "open:", "close:"] {
            assert!(
                !rest.starts_with(label) && !rest.contains(&format!(": {label}")),
                "{name}: a second label {label}: {line}"
            );
        }
        assert!(
            !rest.starts_with(&prefix),
            "{name}: the prefix twice: {line}"
        );
    }
}

#[test]
fn every_tool_has_one_prefix_on_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let damaged = damaged_example(dir.path(), 9);
    let missing = dir.path().join("missing.img");
    let out_img = dir.path().join("out.img");
    let origin = dir.path().join("origin.img");
    std::fs::File::create(&origin)
        .unwrap()
        .set_len(1 << 20)
        .unwrap();
    let meta = dir.path().join("fresh.img");
    std::fs::File::create(&meta)
        .unwrap()
        .set_len(4 << 20)
        .unwrap();
    for (name, args) in READERS {
        for input in [&damaged, &missing] {
            let (code, _, err) = run(name, args, input);
            assert_eq!(code, 1, "{name}: {err}");
            assert_one_prefix(name, &err);
        }
    }
    let runs: Vec<(&str, Vec<std::ffi::OsString>, &str)> = vec![
        (
            "era_repair",
            vec![
                "-i".into(),
                missing.clone().into(),
                "-o".into(),
                out_img.clone().into(),
            ],
            "",
        ),
        (
            "era_restore",
            vec![
                "-i".into(),
                missing.clone().into(),
                "-o".into(),
                out_img.clone().into(),
            ],
            "",
        ),
        (
            "era_copy",
            vec![
                "--metadata".into(),
                damaged.clone().into(),
                "--written-since".into(),
                "0".into(),
                "--source".into(),
                origin.clone().into(),
                "--dest".into(),
                out_img.clone().into(),
            ],
            "",
        ),
        (
            "era_emulate",
            vec![
                "run".into(),
                "--block-size".into(),
                "8".into(),
                "--meta".into(),
                damaged_example(dir.path(), 2).into(),
                "--origin".into(),
                origin.clone().into(),
            ],
            "",
        ),
        (
            "era_emulate",
            vec![
                "run".into(),
                "--block-size".into(),
                "8".into(),
                "--meta".into(),
                meta.clone().into(),
                "--origin".into(),
                origin.clone().into(),
            ],
            "write 0 8\nwrite 99999999 8\nmessage bogus\n",
        ),
        (
            "era_emulate",
            vec![
                "status".into(),
                "--socket".into(),
                dir.path().join("none.sock").into(),
            ],
            "",
        ),
    ];
    for (name, args, stdin) in runs {
        let out = tool(name).args(&args).write_stdin(stdin).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name} {args:?}: {err}");
        assert_one_prefix(name, &err);
    }
}

#[test]
fn empty_files_given_to_run_say_they_are_empty() {
    let dir = tempfile::tempdir().unwrap();
    let (empty, meta, origin) = (
        dir.path().join("empty"),
        dir.path().join("meta.img"),
        dir.path().join("origin.img"),
    );
    std::fs::File::create(&empty).unwrap();
    std::fs::File::create(&meta)
        .unwrap()
        .set_len(4 << 20)
        .unwrap();
    std::fs::File::create(&origin)
        .unwrap()
        .set_len(1 << 20)
        .unwrap();
    let script = dir.path().join("script.txt");
    std::fs::write(&script, "write 0 8\n").unwrap();
    let emulate = |meta: &std::path::Path, origin: &std::path::Path, script: &std::path::Path| {
        let out = tool("era_emulate")
            .args(["run", "--block-size", "8", "--meta"])
            .arg(meta)
            .arg("--origin")
            .arg(origin)
            .arg(script)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = emulate(&meta, &origin, &empty);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("script") && err.contains("is empty"), "{err}");
    assert!(std::fs::read(&meta).unwrap().iter().all(|&b| b == 0));
    let (code, err) = emulate(&empty, &origin, &script);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("metadata device") && err.contains("is empty"),
        "{err}"
    );
    let (code, err) = emulate(&meta, &empty, &script);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("data device") && err.contains("is empty"),
        "{err}"
    );
    assert!(std::fs::read(&meta).unwrap().iter().all(|&b| b == 0));
    // An empty stream is no mistake: it opens and cleanly closes the target.
    let (code, err) = emulate(&meta, &origin, std::path::Path::new("/dev/null"));
    assert_eq!(code, 0, "{err}");
}

/// The crash image with `n` adjacent free blocks marked as used: a run of leaks.
fn leaked_run(n: usize) -> (Vec<u8>, usize) {
    use era_tools::era::metadata::read_superblock;
    use era_tools::io::{BlockIo, MemIo};
    use era_tools::pdata::space_map::{pack_bitmap, pack_index, read_bitmap, read_index};
    use era_tools::units::MetaBlock;
    let io = MemIo::from_bytes(crate::common::kernel_image("crash"));
    let mut sb = read_superblock(&io).unwrap();
    let mut index = read_index(&io, &sb.sm_root).unwrap();
    let bitmap_block = index[0].blocknr;
    let mut entries = read_bitmap(&io, bitmap_block).unwrap();
    let first = (0..entries.len() - n)
        .find(|&i| entries[i..i + n].iter().all(|&e| e == 0))
        .unwrap();
    entries[first..first + n].fill(1);
    io.write_block(bitmap_block, &pack_bitmap(bitmap_block, &entries))
        .unwrap();
    index[0].nr_free -= n as u32;
    index[0].none_free_before = entries.iter().position(|&e| e == 0).unwrap() as u32;
    let index_block = sb.sm_root.bitmap_root;
    io.write_block(index_block, &pack_index(index_block, &index))
        .unwrap();
    sb.sm_root.nr_allocated += n as u64;
    io.write_block(MetaBlock::new(0), &sb.pack()).unwrap();
    (io.to_bytes(), first)
}

#[test]
fn a_run_of_leaked_blocks_is_one_line() {
    let (image, first) = leaked_run(3);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leaks.img");
    std::fs::write(&path, image).unwrap();
    let (code, _, err) = run("era_check", &[], &path);
    assert_eq!(code, 1, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "era_check: warning: blocks {first}-{} (3 blocks): leaked:",
            first + 2
        )),
        "{err}"
    );
}

#[test]
fn logical_compact_is_accepted_and_documented() {
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/example/meta.img");
    let (code, logical, err) = run("era_dump", &["--logical"], &example);
    assert_eq!(code, 0, "{err}");
    let (code, both, err) = run("era_dump", &["--logical", "--compact"], &example);
    assert_eq!(code, 0, "{err}");
    assert_eq!(both, logical);
    let help = tool("era_dump").arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("With --logical, which prints no writesets"),
        "{help}"
    );
}

/// Damaged metadata is named: the file, then the block, in every reader's message.
#[test]
fn damage_names_the_file_and_the_block() {
    let dir = tempfile::tempdir().unwrap();
    let damaged = damaged_example(dir.path(), 9);
    let path = damaged.display().to_string();
    for (name, args) in [
        ("era_dump", &[][..]),
        ("era_invalidate", &["--written-since", "1"][..]),
    ] {
        let (code, _, err) = run(name, args, &damaged);
        assert_eq!(code, 1, "{name}: {err}");
        let named = format!("{name}: {path}: block 9: array block: bad checksum");
        assert!(err.starts_with(&named), "{name}: {err}");
    }
}

/// A metadata error of era_restore and era_repair says which side it is: the input is
/// named as it is, a failure to write the output is "writing OUTPUT".
#[test]
fn restore_and_repair_tell_the_input_from_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/example/meta.img");
    let xml = dir.path().join("in.xml");
    let (code, _, err) = run_to_file("era_dump", &[], &xml, &example);
    assert_eq!(code, 0, "{err}");
    let small = dir.path().join("small.img");
    std::fs::File::create(&small)
        .unwrap()
        .set_len(8192)
        .unwrap();
    let writing = format!(
        "writing {}: the metadata device is too small",
        small.display()
    );
    // The output is too small.
    let out = tool("era_restore")
        .arg("-i")
        .arg(&xml)
        .arg("-o")
        .arg(&small)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.starts_with(&format!("era_restore: {writing}")), "{err}");
    let out = tool("era_repair")
        .arg("-i")
        .arg(&example)
        .arg("-o")
        .arg(&small)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.starts_with(&format!("era_repair: {writing}")), "{err}");
    // The input describes metadata that cannot be: named after the input.
    let bad = dir.path().join("bad.xml");
    std::fs::write(
        &bad,
        "<superblock uuid=\"\" block_size=\"8\" nr_blocks=\"16\" current_era=\"1\">\n<writeset era=\"2\" nr_bits=\"16\">\n",
    )
    .unwrap();
    let big = dir.path().join("big.img");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(1 << 20)
        .unwrap();
    let out = tool("era_restore")
        .arg("-i")
        .arg(&bad)
        .arg("-o")
        .arg(&big)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with(&format!("era_restore: {}: line 2", bad.display())),
        "{err}"
    );
    assert!(!err.contains("writing"), "{err}");
}
