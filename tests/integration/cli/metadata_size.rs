//! `era_metadata_size`: the size a target needs, as era_emulate accepts it.

use super::support::*;
use era_tools::era::sizing::MetadataSize;

fn size(args: &[&str]) -> (i32, String, String) {
    let out = tool("era_metadata_size").args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn prints_the_size_era_emulate_asks_for() {
    let needed = MetadataSize::for_origin(1 << 40, 128).bytes();
    let (code, stdout, stderr) = size(&["--block-size", "128", "--origin-size", "1099511627776"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with(&format!("{needed} bytes ("))
            && stdout.contains("16777216 origin blocks"),
        "{stdout}"
    );
    // Units in, units out, numbers only.
    let (_, n, _) = size(&["-b", "64k", "-s", "1t", "-n"]);
    assert_eq!(n.trim(), needed.to_string());
    let (_, n, _) = size(&["--nr-blocks", "16777216", "-n", "-u", "blocks"]);
    assert_eq!(n.trim(), (needed / 4096).to_string());
    let (_, n, _) = size(&["-b", "128", "-s", "1t", "-n", "-u", "mib"]);
    assert_eq!(n.trim(), needed.div_ceil(1 << 20).to_string());
}

#[test]
fn impossible_geometries_are_usage_errors() {
    for args in [
        &["--origin-size", "1t"][..],                   // no block size
        &["--block-size", "12", "--origin-size", "1t"], // not a multiple of 8
        &["--block-size", "8"],                         // no origin
        &["--block-size", "8", "--origin-size", "8p"],  // more than 2^31 blocks
        &["--block-size", "8", "--origin-size", "7t"],  // more than the space map addresses
    ] {
        let (code, stdout, stderr) = size(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stdout.is_empty());
        assert!(
            stderr.contains("era_metadata_size") || stderr.starts_with("error:"),
            "{stderr}"
        );
    }
}
