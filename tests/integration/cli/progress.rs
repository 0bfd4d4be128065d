//! Progress: on a terminal, `era_restore` and `era_dump -o FILE` show a bar with a
//! percentage and a rate with its unit; on a pipe they print nothing. The terminal is a pseudo-terminal made by
//! `script` (util-linux).

use super::support::*;
use crate::common::*;
use std::path::Path;
use std::process::Command;

/// Runs `bin args…` on a pseudo-terminal; returns (exit code, what the terminal showed).
fn on_terminal(bin: &Path, args: &[&str]) -> Option<(i32, String)> {
    let mut line = bin.display().to_string();
    for a in args {
        line.push(' ');
        line.push_str(a);
    }
    let out = Command::new("script")
        .args(["-q", "-e", "-c", &line, "/dev/null"])
        .output()
        .ok()?;
    Some((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

#[test]
fn bars_on_a_terminal_silence_on_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("in.xml");
    std::fs::write(&xml, reference_dump("bigger").unwrap()).unwrap();
    let meta = dir.path().join("meta.img");
    std::fs::File::create(&meta)
        .unwrap()
        .set_len(8 << 20)
        .unwrap();
    let dump = dir.path().join("out.xml");
    let (xml_s, meta_s, dump_s) = (
        xml.to_str().unwrap(),
        meta.to_str().unwrap(),
        dump.to_str().unwrap(),
    );
    let restore_bin = assert_cmd::cargo::cargo_bin("era_restore");
    let dump_bin = assert_cmd::cargo::cargo_bin("era_dump");
    if !crate::common::skip::require(crate::common::skip::on_path("script")) {
        return;
    }
    let (code, shown) = on_terminal(&restore_bin, &["-i", xml_s, "-o", meta_s]).unwrap();
    assert_eq!(code, 0, "{shown}");
    assert!(
        shown.contains("reading XML") && shown.contains('%'),
        "{shown:?}"
    );
    let (code, shown) = on_terminal(&dump_bin, &["-o", dump_s, meta_s]).unwrap();
    assert_eq!(code, 0, "{shown}");
    assert!(
        shown.contains("writing XML") && shown.contains('%'),
        "{shown:?}"
    );
    // The rate has its unit (indicatif's bare rate reads "1234.5678/s").
    assert!(shown.contains(" entries/s"), "{shown:?}");
    assert!(std::fs::read(&dump).unwrap() == reference_dump("bigger").unwrap());

    // On a pipe: nothing on stderr.
    let o = tool("era_restore")
        .args(["-i", xml_s, "-o", meta_s])
        .output()
        .unwrap();
    assert_eq!((o.status.code(), o.stderr.as_slice()), (Some(0), &b""[..]));
    let (code, _, err) = run("era_dump", &["-o", dump_s], &meta);
    assert_eq!((code, err.as_str()), (0, ""));
}
