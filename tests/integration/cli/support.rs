//! Running the tools and preparing inputs.

use assert_cmd::Command;
use std::path::Path;

/// The read-only tools that take one metadata INPUT.
pub const READERS: [(&str, &[&str]); 3] = [
    ("era_dump", &[]),
    ("era_invalidate", &["--written-since", "1"]),
    ("era_check", &[]),
];

/// Every tool.
pub const TOOLS: [&str; 9] = [
    "era_check",
    "era_copy",
    "era_dump",
    "era_emulate",
    "era_invalidate",
    "era_restore",
    "era_generate",
    "era_repair",
    "era_metadata_size",
];

/// A command for `tool`.
pub fn tool(name: &str) -> Command {
    Command::cargo_bin(name).unwrap()
}

/// Runs `tool args… input` and returns (exit code, stdout, stderr).
pub fn run(name: &str, args: &[&str], input: &Path) -> (i32, String, String) {
    outcome(&tool(name).args(args).arg(input).output().unwrap())
}

/// A finished run's (exit code, stdout, stderr).
fn outcome(out: &std::process::Output) -> (i32, String, String) {
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `tool args… -o dest input` and returns (exit code, stdout, stderr).
pub fn run_to_file(name: &str, args: &[&str], dest: &Path, input: &Path) -> (i32, String, String) {
    let out = tool(name)
        .args(args)
        .arg("-o")
        .arg(dest)
        .arg(input)
        .output()
        .unwrap();
    outcome(&out)
}

/// Hash of a file's bytes, to prove a tool left it unchanged.
pub fn digest(path: &Path) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::fs::read(path).unwrap().hash(&mut h);
    h.finish()
}

/// Parses `era_invalidate`'s output into the set of listed blocks.
pub fn listed_blocks(xml: &str) -> Vec<u32> {
    let mut v = Vec::new();
    let attr = |line: &str, name: &str| -> u32 {
        let key = format!("{name}=\"");
        let start = line.find(&key).unwrap() + key.len();
        let end = start + line[start..].find('"').unwrap();
        line[start..end].parse().unwrap()
    };
    for line in xml.lines() {
        let line = line.trim();
        if line.starts_with("<range") {
            let (b, e) = (attr(line, "begin"), attr(line, "end"));
            assert!(e > b + 1, "a range of fewer than two blocks: {line}");
            v.extend(b..e);
        } else if line.starts_with("<block ") {
            v.push(attr(line, "block"));
        }
    }
    v
}

/// Runs `era_restore -q -i xml -o out` (nothing on stdout); returns (exit code, stderr).
pub fn restore(xml: &Path, out: &Path) -> (i32, String) {
    let o = tool("era_restore")
        .arg("-q")
        .arg("-i")
        .arg(xml)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.stdout.is_empty());
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}
