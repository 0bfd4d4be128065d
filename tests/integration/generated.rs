//! The man pages under `man/` and the completions under `completions/` are generated from
//! the argument definitions. This test renders them again and compares; run it with
//! `UPDATE_GOLDEN=1` to rewrite the committed files after changing an option.

use era_tools::cli::docs::{commands, completion, completion_file, man_pages, SHELLS};
use std::path::Path;

fn compare_or_update(path: &Path, fresh: &[u8], stale: &mut Vec<String>) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, fresh).unwrap();
    } else if std::fs::read(path).ok().as_deref() != Some(fresh) {
        stale.push(path.display().to_string());
    }
}

#[test]
fn man_pages_and_completions_are_in_sync() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stale = Vec::new();
    let pages = man_pages().unwrap();
    for (stem, man) in &pages {
        let text = String::from_utf8_lossy(man);
        compare_or_update(&root.join("man").join(format!("{stem}.8")), man, &mut stale);
        let name_line = format!(".SH NAME\n{}", stem.replace('-', "\\-"));
        assert!(text.contains(&name_line), "{stem}: {text}");
        assert!(text.contains(".SH \"EXIT STATUS\""), "{stem}");
        assert!(!text.contains(".SH EXTRA"), "{stem}");
    }
    // Every page a page points to exists, and no stray page is left.
    let stems: Vec<&str> = pages.iter().map(|(s, _)| s.as_str()).collect();
    for (stem, man) in &pages {
        let text = String::from_utf8_lossy(man)
            .replace("\\-", "-")
            .replace("\\fB", "")
            .replace("\\fR", "");
        for word in text
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-' || c == '(' || c == ')'))
        {
            if let Some(page) = word.strip_suffix("(8)").filter(|p| p.starts_with("era_")) {
                assert!(
                    stems.contains(&page),
                    "{stem} points to {page}(8), which does not exist"
                );
            }
        }
    }
    for entry in std::fs::read_dir(root.join("man")).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().into_owned();
        let stem = file.strip_suffix(".8").unwrap_or(&file).to_string();
        if !stems.contains(&stem.as_str()) {
            stale.push(format!("man/{file} (no such page any more)"));
        }
    }
    for cmd in commands() {
        let name = cmd.get_name().to_string();
        for shell in SHELLS {
            let script = completion(&cmd, shell);
            let file = root.join("completions").join(completion_file(&name, shell));
            compare_or_update(&file, &script, &mut stale);
        }
    }
    assert!(
        stale.is_empty(),
        "out of date (regenerate with UPDATE_GOLDEN=1 cargo test --test integration generated): {stale:?}"
    );
}

/// Options that take a number (their value is named N, SECTORS, ERA, FRACTION or BYTES)
/// complete no file names, in any shell.
#[test]
fn numeric_options_complete_no_file_names() {
    use clap_complete::Shell;
    const NUMERIC: [&str; 5] = ["N", "SECTORS", "ERA", "FRACTION", "BYTES"];
    let mut checked = 0;
    for top in commands() {
        let mut cmds = vec![top.clone()];
        cmds.extend(top.get_subcommands().cloned());
        for cmd in &cmds {
            for arg in cmd.get_arguments() {
                let numeric = arg
                    .get_value_names()
                    .is_some_and(|v| v.iter().all(|n| NUMERIC.contains(&n.as_str())));
                let Some(long) = arg.get_long().filter(|_| numeric) else {
                    continue;
                };
                checked += 1;
                let bash = String::from_utf8(completion(&top, Shell::Bash)).unwrap();
                let case = format!("--{long})\n");
                for (at, _) in bash.match_indices(&case) {
                    let body = &bash[at + case.len()..];
                    let body = &body[..body.find(";;").unwrap()];
                    assert!(
                        !body.contains("compgen -f"),
                        "{} --{long}: bash completes file names:\n{body}",
                        top.get_name()
                    );
                }
                let fish = String::from_utf8(completion(&top, Shell::Fish)).unwrap();
                let line = fish
                    .lines()
                    .find(|l| l.contains(&format!("-l {long} ")))
                    .unwrap();
                assert!(line.contains(" -f"), "fish --{long}: {line}");
            }
        }
    }
    assert!(checked >= 9, "only {checked} numeric options found");
}

/// The committed man pages as `man` renders them: no Markdown backticks, every section
/// starting with a capital, each page with examples of its own, and `--help` ending with
/// the same examples.
#[test]
fn man_pages_read_well_and_help_has_the_examples() {
    use std::process::Command;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    if Command::new("man").arg("--version").output().is_err() {
        assert!(std::env::var_os("CI").is_none(), "no man in CI");
        println!("skipped: man is not installed");
        return;
    }
    let render = |stem: &str| {
        let out = Command::new("man")
            .arg("-l")
            .arg(root.join(format!("{stem}.8")))
            .env("MANWIDTH", "200")
            .output()
            .unwrap();
        assert!(out.status.success(), "{stem}");
        String::from_utf8(out.stdout).unwrap()
    };
    let mut examples = std::collections::HashMap::new();
    for (stem, _) in man_pages().unwrap() {
        let text = render(&stem);
        assert!(!text.contains('`'), "{stem}: a backtick:\n{text}");
        let lines: Vec<&str> = text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            let heading = !l.is_empty() && l.chars().all(|c| c.is_ascii_uppercase() || c == ' ');
            if !heading
                || [
                    "NAME",
                    "SYNOPSIS",
                    "OPTIONS",
                    "SUBCOMMANDS",
                    "SEE ALSO",
                    "VERSION",
                ]
                .contains(l)
            {
                continue;
            }
            let body = lines[i + 1..]
                .iter()
                .find(|b| !b.trim().is_empty())
                .unwrap();
            // A sentence, or a command name (printed in bold).
            let first = body.trim_start().chars().next().unwrap();
            assert!(
                !first.is_lowercase() || body.trim_start().starts_with("era_"),
                "{stem}: {l} starts in lower case: {body}"
            );
        }
        let ex = text
            .split("\nEXAMPLES\n")
            .nth(1)
            .map(|e| e.split("\nSEE ALSO").next().unwrap().to_string());
        examples.insert(stem.clone(), ex);
    }
    let emulate = render("era_emulate");
    assert!(
        !emulate.contains("offline against two image files"),
        "{emulate}"
    );
    assert!(emulate.contains("NBD"), "{emulate}");
    let serve = examples["era_emulate-serve"].clone().unwrap();
    for page in ["era_emulate-message", "era_emulate-status"] {
        let ex = examples[page]
            .clone()
            .unwrap_or_else(|| panic!("{page}: no examples"));
        assert_ne!(ex, serve, "{page} copies serve's example");
    }
    let inv = examples["era_invalidate"].clone().unwrap();
    for needle in ["--format ranges", "--format json", "--unit", "--length"] {
        assert!(
            inv.contains(needle),
            "era_invalidate(8) has no {needle} example:\n{inv}"
        );
    }
    // --help ends with the examples of the page (a line of each command).
    for cmd in commands() {
        let name = cmd.get_name().to_string();
        let out = Command::new(env!("CARGO_BIN_EXE_era_check").replace("era_check", &name))
            .arg("--help")
            .output()
            .unwrap();
        let help = String::from_utf8(out.stdout).unwrap();
        let ex = help
            .split("\nExamples:\n")
            .nth(1)
            .unwrap_or_else(|| panic!("{name} --help has no examples:\n{help}"));
        let page = examples[&name].clone().unwrap();
        let first_command = page
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with(&name))
            .unwrap();
        assert!(
            ex.contains(first_command),
            "{name} --help lacks {first_command}:\n{ex}"
        );
    }
}
