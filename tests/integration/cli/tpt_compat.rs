//! thin-provisioning-tools' era tools as a drop-in: their short `-r` of era_dump's
//! `--repair`, `-q` that silences era_repair's report, `--io-engine` (accepted and
//! ignored) and the hidden `-v` for the version.

use super::support::*;

/// A small valid metadata image.
fn image(dir: &std::path::Path) -> std::path::PathBuf {
    let meta = dir.join("meta.img");
    let out = tool("era_generate")
        .args([
            "--nr-blocks",
            "1000",
            "--current-era",
            "3",
            "--nr-writesets",
            "1",
            "-o",
        ])
        .arg(&meta)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    meta
}

#[test]
fn dump_takes_r_for_repair() {
    let dir = tempfile::tempdir().unwrap();
    let meta = image(dir.path());
    let short = tool("era_dump").arg("-r").arg(&meta).output().unwrap();
    let long = tool("era_dump")
        .arg("--repair")
        .arg(&meta)
        .output()
        .unwrap();
    assert_eq!(short.status.code(), Some(0), "{short:?}");
    assert_eq!(short.stdout, long.stdout);
}

#[test]
fn repair_q_prints_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let meta = image(dir.path());
    let fixed = dir.path().join("fixed.img");
    std::fs::File::create(&fixed)
        .unwrap()
        .set_len(4 << 20)
        .unwrap();
    let out = tool("era_repair")
        .arg("-q")
        .arg("-i")
        .arg(&meta)
        .arg("-o")
        .arg(&fixed)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn io_engine_and_v_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let meta = image(dir.path());
    for (name, args) in READERS {
        for engine in ["sync", "async"] {
            let out = tool(name)
                .args(args)
                .args(["--io-engine", engine])
                .arg(&meta)
                .output()
                .unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "{name} --io-engine {engine}: {out:?}"
            );
        }
        let out = tool(name).arg("--help").output().unwrap();
        let help = String::from_utf8(out.stdout).unwrap();
        assert!(
            help.contains("--io-engine") && help.contains("ignored"),
            "{name}: {help}"
        );
        let out = tool(name).arg("-v").output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{name} -v");
        assert!(String::from_utf8(out.stdout)
            .unwrap()
            .contains(env!("CARGO_PKG_VERSION")));
    }
    let out = tool("era_check")
        .args(["--io-engine", "fast"])
        .arg(&meta)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
