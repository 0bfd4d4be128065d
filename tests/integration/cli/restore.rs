//! era_restore: round trips of every kernel image through the XML forms, the accepted
//! input forms, and outputs left untouched on any error.

use super::support::*;
use crate::common::*;
use std::path::Path;

/// A zero-filled output image of `bytes`.
fn blank_output(dir: &Path, name: &str, bytes: u64) -> std::path::PathBuf {
    let p = dir.join(name);
    let f = std::fs::File::create(&p).unwrap();
    f.set_len(bytes).unwrap();
    p
}

fn dump(args: &[&str], img: &Path) -> String {
    let (code, out, err) = run("era_dump", args, img);
    assert_eq!(code, 0, "{err}");
    out
}

#[test]
fn every_kernel_image_round_trips_through_each_xml_form() {
    let dir = tempfile::tempdir().unwrap();
    for case in kernel_cases() {
        let img = kernel_image_file(&case);
        let size = std::fs::metadata(img.path()).unwrap().len();
        // The verbose form of the large cases runs to gigabytes: the compact and
        // logical forms cover them.
        let forms: &[&[&str]] = if reference_dump(&case).is_some() {
            &[&[], &["--compact"], &["--logical"]]
        } else {
            &[&["--compact"], &["--logical"]]
        };
        for args in forms {
            let first = dump(args, img.path());
            let xml = dir.path().join("in.xml");
            std::fs::write(&xml, &first).unwrap();
            let out = blank_output(dir.path(), "out.img", size);
            let (code, err) = restore(&xml, &out);
            assert_eq!(code, 0, "{case} {args:?}: {err}");
            assert!(
                dump(args, &out) == first,
                "{case} {args:?}: the second dump differs"
            );
            let (code, _, err) = run("era_check", &[], &out);
            assert_eq!((code, err.as_str()), (0, ""), "{case} {args:?}");
        }
    }
}

#[test]
fn accepts_every_form_the_format_allows() {
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("in.xml");
    std::fs::write(
        &xml,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- written by hand -->
<superblock current_era="9" nr_blocks="200" block_size="128" uuid="">
  <writeset nr_bits="200" era="8">
    <marked len="90" block_begin="10"/>
    <bit value="true" block="5"/>
    <marked block_begin="60" len="70"/>
    <bit block="150" value="false"/>
  </writeset>
  <writeset era="9" nr_bits="200"/>
  <era_array/>
</superblock>
"#,
    )
    .unwrap();
    let out = blank_output(dir.path(), "out.img", 1 << 20);
    let (code, err) = restore(&xml, &out);
    assert_eq!(code, 0, "{err}");
    let compact = dump(&["--compact"], &out);
    assert_eq!(
        compact,
        "<superblock uuid=\"\" block_size=\"128\" nr_blocks=\"200\" current_era=\"9\">\n  <writeset era=\"8\" nr_bits=\"200\">\n    <marked block_begin=\"5\" len=\"1\"/>\n    <marked block_begin=\"10\" len=\"120\"/>\n  </writeset>\n  <writeset era=\"9\" nr_bits=\"200\">\n  </writeset>\n  <era_array>\n"
            .to_string()
            + &(0..200).map(|b| format!("    <era block=\"{b}\" era=\"0\"/>\n")).collect::<String>()
            + "  </era_array>\n</superblock>"
    );
}

#[test]
fn the_output_is_untouched_on_any_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.img");
    std::fs::write(&out, kernel_image("crash")).unwrap();
    let before = digest(&out);
    let good = dir.path().join("good.xml");
    std::fs::write(&good, reference_dump("checkpoints").unwrap()).unwrap();
    let cases: &[(&str, &str)] = &[
        ("truncated", "<superblock uuid=\"\" block_size=\"8\" nr_blocks=\"4\" current_era=\"1\">\n  <era_array>\n"),
        ("unknown element", "<superblock uuid=\"\" block_size=\"8\" nr_blocks=\"4\" current_era=\"1\">\n  <eras/>\n</superblock>"),
        ("era out of range", "<superblock uuid=\"\" block_size=\"8\" nr_blocks=\"4\" current_era=\"1\">\n  <era_array>\n    <era block=\"4\" era=\"1\"/>\n  </era_array>\n</superblock>"),
        ("not a number", "<superblock uuid=\"\" block_size=\"8\" nr_blocks=\"four\" current_era=\"1\">\n</superblock>"),
    ];
    for (what, text) in cases {
        let xml = dir.path().join("bad.xml");
        std::fs::write(&xml, text).unwrap();
        let (code, err) = restore(&xml, &out);
        assert_eq!(code, 1, "{what}");
        assert!(
            err.starts_with("era_restore: ") && err.contains("line "),
            "{what}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{what}: {err}");
        assert_eq!(digest(&out), before, "{what} changed the output");
    }
    // Usage errors.
    let o = tool("era_restore").arg("-i").arg(&good).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    // A missing output is not created.
    let missing = dir.path().join("missing.img");
    let (code, err) = restore(&good, &missing);
    assert_eq!(code, 1);
    assert!(err.contains("does not exist"), "{err}");
    assert!(!missing.exists());
    // Too small: the message says how many bytes are needed.
    let small = blank_output(dir.path(), "small.img", 8 * 4096);
    let small_before = digest(&small);
    let (code, err) = restore(&good, &small);
    assert_eq!(code, 1);
    assert!(err.contains("bytes"), "{err}");
    assert_eq!(digest(&small), small_before);
    // And the good input does restore over the old metadata.
    let (code, err) = restore(&good, &out);
    assert_eq!(code, 0, "{err}");
    assert!(dump(&[], &out).as_bytes() == reference_dump("checkpoints").unwrap());
}

/// An error found only at the end of an input whose metadata is larger than what the
/// writer holds back (16 MiB): the image file is still left as it was, and the same
/// input without the error restores over it.
#[test]
fn a_late_error_in_large_metadata_leaves_the_image_file_untouched() {
    let dir = tempfile::tempdir().unwrap();
    // 5,000,000 origin blocks: an era array of about 4,900 array blocks (19 MiB).
    let xml = "<superblock uuid=\"\" block_size=\"8\" nr_blocks=\"5000000\" current_era=\"3\">\n  <era_array>\n    <era block=\"0\" era=\"1\"/>\n    <era block=\"4999999\" era=\"2\"/>\n  </era_array>\n";
    let out = dir.path().join("out.img");
    let image = kernel_image("crash");
    let f = std::fs::File::create(&out).unwrap();
    f.set_len(24 << 20).unwrap();
    drop(f);
    {
        use std::os::unix::fs::FileExt;
        let f = std::fs::OpenOptions::new().write(true).open(&out).unwrap();
        f.write_all_at(&image, 0).unwrap();
    }
    let before = digest(&out);
    let bad = dir.path().join("bad.xml");
    // Cut off before its last line: wrong only at the very end, when every era-array
    // block has been written.
    std::fs::write(&bad, xml).unwrap();
    let (code, err) = restore(&bad, &out);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("line "), "{err}");
    assert_eq!(digest(&out), before, "a late error changed the output");
    let good = dir.path().join("good.xml");
    std::fs::write(&good, format!("{xml}</superblock>\n")).unwrap();
    let (code, err) = restore(&good, &out);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run("era_check", &[], &out);
    assert_eq!((code, err.as_str()), (0, ""));
    let logical = dump(&["--logical"], &out);
    assert!(logical.contains("<era block=\"4999999\" era=\"2\"/>"));
}

#[test]
fn the_same_xml_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("in.xml");
    std::fs::write(&xml, reference_dump("metadata_snap").unwrap()).unwrap();
    let a = blank_output(dir.path(), "a.img", 4 << 20);
    let b = dir.path().join("b.img");
    std::fs::write(&b, &kernel_image("bigger")[..4 << 20]).unwrap();
    let c = blank_output(dir.path(), "c.img", 4 << 20);
    assert_eq!(restore(&xml, &a).0, 0);
    assert_eq!(restore(&xml, &b).0, 0);
    assert_eq!(restore(&xml, &c).0, 0);
    assert_eq!(digest(&a), digest(&c));
    // Over old metadata, every block in use is the same; the rest keeps its old bytes.
    let (a, b) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let io = era_tools::io::MemIo::from_bytes(a.clone());
    let sb = era_tools::era::metadata::read_superblock(&io).unwrap();
    let counts = era_tools::pdata::space_map::read_ref_counts(&io, &sb.sm_root).unwrap();
    let used: Vec<usize> = (0..counts.len()).filter(|&i| counts[i] > 0).collect();
    assert!(used.len() > 20);
    for i in used {
        assert!(
            a[i * 4096..(i + 1) * 4096] == b[i * 4096..(i + 1) * 4096],
            "block {i}"
        );
    }
}

/// Runs `era_restore -q -i INPUT -o OUT` through `sh -c` after `ulimit -v` (1 GB of
/// address space), with `feed` (a shell command, or none) piped into standard input.
fn restore_limited(input: &str, out: &Path, feed: Option<&str>) -> (i32, String) {
    let bin = env!("CARGO_BIN_EXE_era_restore");
    let run = format!(
        "ulimit -v 1000000; exec '{bin}' -q -i '{input}' -o '{}'",
        out.display()
    );
    let script = match feed {
        Some(feed) => format!("{feed} | ( {run} )"),
        None => run,
    };
    let start = std::time::Instant::now();
    let o = std::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    assert!(start.elapsed().as_secs() < 60, "too slow: {script}");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn a_huge_declared_size_is_refused_before_memory_is_reserved() {
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("huge.xml");
    std::fs::write(
        &xml,
        "<superblock uuid=\"\" block_size=\"8\" nr_blocks=\"2147483647\" current_era=\"1\">\n</superblock>\n",
    )
    .unwrap();
    let out = blank_output(dir.path(), "out.img", 1 << 20);
    let (code, err) = restore_limited(&xml.to_string_lossy(), &out, None);
    assert_eq!(code, 1, "{err}");
    // The output's fault, named as such.
    let written = format!(
        "writing {}: the metadata device is too small",
        out.display()
    );
    assert!(err.contains(&written), "{err}");
    assert!(std::fs::read(&out).unwrap().iter().all(|&b| b == 0));
    // A writeset declaring more bits than the output holds is refused the same way.
    std::fs::write(
        &xml,
        "<superblock uuid=\"\" block_size=\"8\" nr_blocks=\"16\" current_era=\"1\">\n<writeset era=\"1\" nr_bits=\"2147483647\">\n",
    )
    .unwrap();
    let (code, err) = restore_limited(&xml.to_string_lossy(), &out, None);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&written), "{err}");
}

#[test]
fn a_huge_attribute_is_refused_with_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let out = blank_output(dir.path(), "out.img", 1 << 20);
    // A 1 GiB uuid, never written to disk: streamed into standard input.
    let feed = "{ printf '<superblock uuid=\"'; head -c 1073741824 /dev/zero | tr '\\000' A; }";
    let (code, err) = restore_limited("/dev/stdin", &out, Some(feed));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("longer than 64 MiB"), "{err}");
    // A long one that fits in memory is named.
    let xml = dir.path().join("long.xml");
    let uuid = "u".repeat(10_000);
    std::fs::write(
        &xml,
        format!("<superblock uuid=\"{uuid}\" block_size=\"8\" nr_blocks=\"0\" current_era=\"0\">\n<era_array>\n</era_array>\n</superblock>\n"),
    )
    .unwrap();
    let (code, err) = restore(&xml, &out);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("attribute \"uuid\" of <superblock> is 10000 bytes long"),
        "{err}"
    );
    assert!(std::fs::read(&out).unwrap().iter().all(|&b| b == 0));
}

/// `<superblock>` with current era `current` and an empty writeset of each of `eras`.
fn writesets_xml(current: u32, eras: &[u32]) -> String {
    let mut x = format!(
        "<superblock uuid=\"\" block_size=\"8\" nr_blocks=\"4\" current_era=\"{current}\">\n"
    );
    for e in eras {
        x += &format!("<writeset era=\"{e}\" nr_bits=\"4\">\n</writeset>\n");
    }
    x + "<era_array>\n</era_array>\n</superblock>\n"
}

#[test]
fn restore_writes_nothing_that_check_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("in.xml");
    let out = blank_output(dir.path(), "out.img", 1 << 20);
    // Eras 1 and 3 with current era 3: a gap the kernel never leaves, which era_check
    // reports. Refused, the output untouched.
    std::fs::write(&xml, writesets_xml(3, &[1, 3])).unwrap();
    let (code, err) = restore(&xml, &out);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("the writeset eras (1, 3) are not one contiguous range"),
        "{err}"
    );
    assert!(std::fs::read(&out).unwrap().iter().all(|&b| b == 0));
    // Contiguous eras, ending at the current era or before it (a snapshot's dump), are
    // restored and check clean.
    for (current, eras) in [(3, &[2, 3][..]), (3, &[1, 2][..]), (5, &[][..])] {
        std::fs::write(&xml, writesets_xml(current, eras)).unwrap();
        let (code, err) = restore(&xml, &out);
        assert_eq!(code, 0, "{eras:?}: {err}");
        let (code, _, err) = run("era_check", &[], &out);
        assert_eq!((code, err.as_str()), (0, ""), "{eras:?}");
    }
}
