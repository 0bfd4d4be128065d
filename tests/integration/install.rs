//! `make install-docs` puts every man page and every tool's completions where man, bash,
//! zsh and fish look for them, and `make uninstall` takes them away again. `make
//! install-bin` installs the binaries of the target directory cargo builds in, stripped
//! (run here with this test run's own binaries standing in for the release build, which
//! it would otherwise start).

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
    if !crate::common::skip::require(crate::common::skip::on_path("make")) {
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

/// The names of the sections of an ELF file (64-bit, little-endian).
fn elf_sections(path: &Path) -> Vec<String> {
    let f = std::fs::read(path).unwrap();
    assert_eq!(&f[..4], b"\x7fELF", "{path:?}");
    let u16_at = |o: usize| u16::from_le_bytes(f[o..o + 2].try_into().unwrap()) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(f[o..o + 4].try_into().unwrap()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(f[o..o + 8].try_into().unwrap()) as usize;
    let (shoff, shentsize, shnum, shstrndx) =
        (u64_at(0x28), u16_at(0x3a), u16_at(0x3c), u16_at(0x3e));
    let strtab = u64_at(shoff + shstrndx * shentsize + 0x18);
    (0..shnum)
        .map(|i| {
            let name = strtab + u32_at(shoff + i * shentsize);
            let end = name + f[name..].iter().position(|&b| b == 0).unwrap();
            String::from_utf8_lossy(&f[name..end]).into_owned()
        })
        .collect()
}

#[test]
fn binaries_install_stripped_from_cargos_target_dir() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if !crate::common::skip::require(crate::common::skip::on_path("make")) {
        return;
    }
    // A target directory holding this run's binaries (with their debug info) as release.
    let target = tempfile::tempdir().unwrap();
    let release = target.path().join("release");
    std::fs::create_dir(&release).unwrap();
    let built = Path::new(env!("CARGO_BIN_EXE_era_dump")).parent().unwrap();
    let tools: Vec<String> = era_tools::cli::docs::commands()
        .iter()
        .map(|c| c.get_name().to_string())
        .collect();
    for t in &tools {
        std::fs::copy(built.join(t), release.join(t)).unwrap();
    }
    let dest = tempfile::tempdir().unwrap();
    let ok = Command::new("make")
        .arg("-C")
        .arg(root)
        .args(["install-bin", "PREFIX=/usr", "CARGO=true"])
        .arg(format!("DESTDIR={}", dest.path().display()))
        .env("CARGO_TARGET_DIR", target.path())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "make install-bin failed");
    for t in &tools {
        let installed = dest.path().join("usr/bin").join(t);
        let sections = elf_sections(&installed);
        assert!(sections.iter().any(|s| s == ".text"), "{t}: {sections:?}");
        // Stripped: no debug info, no symbol table (`.debug_gdb_scripts` is loaded
        // data, kept).
        assert!(
            !sections
                .iter()
                .any(|s| [".debug_info", ".debug_line", ".symtab"].contains(&s.as_str())),
            "{t} installed unstripped: {sections:?}"
        );
        assert!(
            elf_sections(&release.join(t))
                .iter()
                .any(|s| s == ".debug_info"),
            "{t}: the stand-in had no debug info to strip"
        );
        let version = Command::new(&installed).arg("--version").output().unwrap();
        assert!(version.status.success(), "{t} --version");
    }
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
