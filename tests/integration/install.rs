//! `make install-docs` puts every man page and every tool's completions where man, bash,
//! zsh and fish look for them, and `make uninstall` takes them away again. (`make
//! install` adds the release binaries; it is not run here, since it builds them.)

use std::path::Path;
use std::process::Command;

fn make(root: &Path, target: &str, destdir: &Path) -> bool {
    Command::new("make")
        .arg("-C")
        .arg(root)
        .arg(target)
        .arg(format!("DESTDIR={}", destdir.display()))
        .arg("PREFIX=/usr")
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn docs_install_where_users_look_and_uninstall() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let has_make = Command::new("make").arg("--version").output().is_ok();
    if !crate::common::skip::require(
        has_make
            .then_some(())
            .ok_or("no make (apt-get install make)".into()),
    ) {
        return;
    }
    let dest = tempfile::tempdir().unwrap();
    assert!(make(root, "install-docs", dest.path()));
    let usr = dest.path().join("usr/share");
    let mut pages = 0;
    for entry in std::fs::read_dir(root.join("man")).unwrap() {
        let name = entry.unwrap().file_name();
        assert!(usr.join("man/man8").join(&name).is_file(), "{name:?}");
        pages += 1;
    }
    let tools: Vec<String> = era_tools::cli::docs::commands()
        .iter()
        .map(|c| c.get_name().to_string())
        .collect();
    assert!(pages > tools.len());
    for t in &tools {
        for path in [
            format!("bash-completion/completions/{t}"),
            format!("zsh/site-functions/_{t}"),
            format!("fish/vendor_completions.d/{t}.fish"),
        ] {
            assert!(usr.join(&path).is_file(), "{path}");
        }
    }
    assert!(make(root, "uninstall", dest.path()));
    let left: Vec<_> = walk(dest.path());
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// Every file below `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            files.extend(walk(&p));
        } else {
            files.push(p);
        }
    }
    files
}
