//! The committed completions, loaded by the real shells: bash, zsh and fish must load
//! every tool's script without a complaint and offer what the arguments define: the
//! values of an option that takes one of a list (with their descriptions intact), the
//! options after a `-`, and file names where a tool takes a file. A missing shell fails
//! the test under CI (CI set) and is reported as skipped otherwise.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("completions")
}

/// Whether `shell` can be run; fails under CI when it cannot.
fn have(shell: &str) -> bool {
    let ok = Command::new(shell)
        .arg("-c")
        .arg("exit 0")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "{shell} is not installed (apt-get install {shell})"
        );
        println!("skipped: {shell} is not installed");
    }
    ok
}

/// Runs `script` in `shell` (with `args` before `-c`); returns stdout and stderr.
fn shell(shell: &str, args: &[&str], script: &str) -> (String, String) {
    let out = Command::new(shell)
        .args(args)
        .arg("-c")
        .arg(script)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn tools() -> Vec<String> {
    era_tools::cli::docs::commands()
        .iter()
        .map(|c| c.get_name().to_string())
        .collect()
}

const FORMAT_VALUES: [&str; 3] = ["xml", "ranges", "json"];

#[test]
fn fish_loads_every_completion_and_offers_the_values() {
    if !have("fish") {
        return;
    }
    for t in tools() {
        let file = root().join(format!("{t}.fish"));
        let (_, err) = shell(
            "fish",
            &["--no-config"],
            &format!("source {}", file.display()),
        );
        assert!(err.is_empty(), "fish cannot load {t}.fish: {err}");
    }
    let file = root().join("era_invalidate.fish");
    let (out, err) = shell(
        "fish",
        &["--no-config"],
        &format!(
            "source {}; complete -C 'era_invalidate --format '",
            file.display()
        ),
    );
    assert!(err.is_empty(), "{err}");
    let mut values: Vec<&str> = out.lines().map(|l| l.split('\t').next().unwrap()).collect();
    values.sort_unstable();
    assert_eq!(values, ["json", "ranges", "xml"], "{out}");
    assert!(out.contains("BEGIN END"), "{out}");
}

#[test]
fn zsh_loads_every_completion_and_keeps_the_value_descriptions() {
    if !have("zsh") {
        return;
    }
    for t in tools() {
        let file = root().join(format!("_{t}"));
        let (_, err) = shell(
            "zsh",
            &["-f", "-n"],
            &std::fs::read_to_string(&file).unwrap(),
        );
        assert!(err.is_empty(), "zsh cannot parse _{t}: {err}");
    }
    // The action of --format, split as _arguments splits a ((value\:description …))
    // action: eval ws=( … ).
    let file = root().join("_era_invalidate");
    let script = format!(
        r#"autoload -U is-at-least
compdef() {{ :; }}
_arguments() {{ local s; for s in "$@"; do [[ $s == --format=* ]] && print -r -- "$s"; done; }}
source {}
spec=$(_era_invalidate)
action=${{spec#*:FORMAT:}}
eval ws\=\( "${{action[3,-3]}}" \)
print -rl -- "${{ws[@]}}""#,
        file.display()
    );
    let (out, err) = shell("zsh", &["-f"], &script);
    assert!(err.is_empty(), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    for (line, value) in lines.iter().zip(FORMAT_VALUES) {
        assert!(line.starts_with(&format!("{value}:")), "{out}");
    }
    assert!(lines[1].contains("BEGIN END line per run"), "{out}");
}

#[test]
fn bash_completes_options_values_and_file_names() {
    if !have("bash") {
        return;
    }
    // COMPREPLY for the words typed; an empty reply lets `-o default` complete files.
    let reply = |t: &str, words: &[&str]| {
        let file = root().join(format!("{t}.bash"));
        let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
        let cword = words.len() - 1;
        let prev = if cword > 0 { words[cword - 1] } else { "" };
        let script = format!(
            "source {}; COMP_WORDS=({}); COMP_CWORD={cword}; _{} {t} '{}' '{prev}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"; complete -p {t}",
            file.display(),
            quoted.join(" "),
            t,
            words[cword]
        );
        let (out, err) = shell("bash", &["--norc", "--noprofile"], &script);
        assert!(err.is_empty(), "{t}: {err}");
        let mut lines: Vec<String> = out
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        let spec = lines.pop().unwrap();
        (lines, spec)
    };
    for t in ["era_check", "era_dump", "era_invalidate"] {
        let (words, spec) = reply(t, &[t, ""]);
        assert!(
            words.is_empty(),
            "{t} <TAB> offers {words:?} instead of files"
        );
        assert!(spec.contains("-o default"), "{spec}");
        let (words, _) = reply(t, &[t, "-"]);
        assert!(words.iter().any(|w| w == "--help"), "{t} -<TAB>: {words:?}");
    }
    let (words, _) = reply("era_invalidate", &["era_invalidate", "--format", ""]);
    assert_eq!(words, FORMAT_VALUES);
    // The subcommand names still complete, and run's script is a file.
    let (words, _) = reply("era_emulate", &["era_emulate", ""]);
    assert!(words.iter().any(|w| w == "serve"), "{words:?}");
}
