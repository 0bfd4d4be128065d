//! `era_generate`: flags reach the generator, the file is sized to fit, bad parameters
//! fail with exit code 1 and a message, and the image reads back to what the library
//! generates for the same parameters.

use assert_cmd::Command;
use era_tools::era::generate::{generate, GenerateParams};
use era_tools::era::metadata::{open_view, read_metadata, Source};
use era_tools::io::{FileIo, OpenMode};

#[test]
fn writes_an_image_that_reads_back_as_generated() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("meta.img");
    Command::cargo_bin("era_generate")
        .unwrap()
        .args([
            "--nr-blocks",
            "70000",
            "--block-size",
            "256",
            "--current-era",
            "12",
            "--nr-writesets",
            "3",
            "--density",
            "0.25",
            "--seed",
            "7",
            "--meta-size",
            "1048576",
            "-o",
        ])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(std::fs::metadata(&out).unwrap().len(), 1 << 20);
    let io = FileIo::open(&out, OpenMode::ReadShared).unwrap();
    let md = read_metadata(&io, &open_view(&io, Source::Live).unwrap()).unwrap();
    let want = generate(&GenerateParams {
        nr_blocks: 70_000,
        block_size: 256,
        current_era: 12,
        nr_writesets: 3,
        density: 0.25,
        seed: 7,
    })
    .unwrap();
    assert!(md == want);
}

#[test]
fn bad_parameters_fail_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("meta.img");
    let assert = Command::cargo_bin("era_generate")
        .unwrap()
        .args([
            "--nr-blocks",
            "10",
            "--current-era",
            "2",
            "--nr-writesets",
            "3",
            "-o",
        ])
        .arg(&out)
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(err.contains("current era of at least 3"), "{err}");
    Command::cargo_bin("era_generate")
        .unwrap()
        .args(["--nr-blocks", "ten", "-o"])
        .arg(&out)
        .assert()
        .code(2);
}
