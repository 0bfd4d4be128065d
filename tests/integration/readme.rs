//! The README's shell examples run as written, in order, in a fresh directory, with the
//! tools built by this test run on `PATH`, and print what the README says they print.
//!
//! Each fenced block is marked by its info string:
//! - `sh`: run here, in one temporary directory shared by the blocks in README order;
//! - `sh repo`: run in the repository (the quick start); `cargo run [--release] --bin T --`
//!   there becomes `T`, the tool this test run built;
//! - `sh requires=A,B`: run only where the programs A and B are installed (else skipped,
//!   visibly; under CI a failure: `common::skip`);
//! - `sh no-test`: not run (it needs a kernel era target, root, or is the build itself);
//! - `text output`: what the block before it prints on standard output, exactly.

use crate::common::skip::{on_path, require};
use std::path::{Path, PathBuf};
use std::process::Command;

struct Block {
    /// The line of the opening fence (1-based).
    line: usize,
    info: Vec<String>,
    body: String,
}

fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in text.lines().enumerate() {
        let Some(rest) = line.strip_prefix("```") else {
            if let Some(b) = &mut open {
                b.body.push_str(line);
                b.body.push('\n');
            }
            continue;
        };
        match open.take() {
            Some(b) => out.push(b),
            None => {
                open = Some(Block {
                    line: i + 1,
                    info: rest.split_whitespace().map(String::from).collect(),
                    body: String::new(),
                })
            }
        }
    }
    assert!(open.is_none(), "README: a fence is not closed");
    out
}

/// The directory of the tools this test run built.
fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_era_dump"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `cargo run [--release] --bin T -- ARGS` becomes `T ARGS`.
fn without_cargo(body: &str) -> String {
    body.lines()
        .map(|l| {
            let rest = l
                .strip_prefix("cargo run --release --bin ")
                .or_else(|| l.strip_prefix("cargo run --bin "));
            match rest.and_then(|r| r.split_once(" -- ")) {
                Some((tool, args)) => format!("{tool} {args}"),
                None => {
                    assert!(!l.starts_with("cargo "), "README: cannot run `{l}`");
                    l.to_string()
                }
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs `body` with bash (errors fatal, as a careful script would) in `dir`; returns
/// its standard output.
fn run(body: &str, dir: &Path, what: &str) -> String {
    let path = format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // Whatever the block left in the background is stopped when it ends, even early.
    let script = format!("trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n{body}");
    let out = Command::new("timeout")
        .args(["120", "bash", "-euo", "pipefail", "-c", &script])
        .current_dir(dir)
        .env("PATH", path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{body}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn readme_examples_run_as_written() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(repo.join("README.md")).unwrap();
    let blocks = blocks(&text);
    let fresh = tempfile::tempdir().unwrap();
    let (mut ran, mut outputs) = (0, 0);
    let mut last: Option<(String, String)> = None;
    for b in &blocks {
        let what = format!("README.md:{} ({})", b.line, b.info.join(" "));
        match b.info.first().map(String::as_str) {
            Some("sh") => {}
            Some("text") => {
                if b.info.get(1).map(String::as_str) == Some("output") {
                    let (from, stdout) = last
                        .take()
                        .unwrap_or_else(|| panic!("{what}: no block ran just before it"));
                    assert_eq!(
                        stdout.trim_end(),
                        b.body.trim_end(),
                        "{what}: output of {from}"
                    );
                    outputs += 1;
                }
                continue;
            }
            _ => {
                last = None;
                continue;
            }
        }
        last = None;
        let (mut dir, mut body, mut runs) = (fresh.path(), b.body.clone(), true);
        for word in &b.info[1..] {
            if word == "no-test" {
                runs = false;
            } else if word == "repo" {
                dir = repo;
                body = without_cargo(&b.body);
            } else if let Some(tools) = word.strip_prefix("requires=") {
                let found = tools.split(',').try_for_each(on_path);
                runs &= require(found.map_err(|e| format!("{what}: {e}")));
            } else {
                panic!("{what}: unknown mark `{word}`");
            }
        }
        if runs {
            let stdout = run(&body, dir, &what);
            last = Some((what, stdout));
            ran += 1;
        }
    }
    // The quick start, the image-file examples (with the sample outputs they print) and
    // the server example are all there.
    assert!(ran >= 3, "only {ran} README blocks ran");
    assert!(outputs >= 2, "only {outputs} outputs checked");
}
