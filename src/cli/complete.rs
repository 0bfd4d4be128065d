//! Repairs to clap_complete's bash output: its generated function offers the option
//! list wherever no option value is expected, even where the command takes a file
//! (`era_check <TAB>` completed only to `-`). For every command or subcommand whose
//! positional argument names a file, the patched function offers options only after
//! a `-`, and otherwise returns no match, so that bash's `-o default` completes file
//! names.

use clap::{Command, ValueHint};

/// Whether `cmd` takes a file as a positional argument.
fn takes_a_file(cmd: &Command) -> bool {
    cmd.get_positionals().any(|a| {
        !matches!(a.get_value_hint(), ValueHint::Other)
            && a.get_possible_values().is_empty()
            && a.get_num_args().is_none_or(|n| n.takes_values())
    })
}

/// The bash script with the case blocks of file-taking commands patched.
pub fn patch_bash(script: &str, cmd: &Command) -> String {
    let name = cmd.get_name();
    let mut labels = Vec::new();
    if takes_a_file(cmd) && !cmd.has_subcommands() {
        labels.push(name.to_string());
    }
    for sub in cmd.get_subcommands().filter(|s| takes_a_file(s)) {
        labels.push(format!("{name}__subcmd__{}", sub.get_name()));
    }
    let mut out = script.to_string();
    for label in labels {
        let head = format!("\n        {label})\n");
        let Some(start) = out.find(&head) else {
            continue;
        };
        let end = out[start..]
            .find("\n            ;;\n")
            .map_or(out.len(), |e| start + e);
        let block = &out[start..end];
        let patched = patch_block(block);
        out.replace_range(start..end, &patched);
    }
    out
}

/// Options only after a `-`; no match (so file names) for a positional.
fn patch_block(block: &str) -> String {
    let mut lines: Vec<String> = block.lines().map(str::to_string).collect();
    for l in lines.iter_mut() {
        if l.trim_start()
            .starts_with("if [[ ${cur} == -* || ${COMP_CWORD} -eq ")
        {
            let indent = &l[..l.len() - l.trim_start().len()];
            *l = format!("{indent}if [[ ${{cur}} == -* ]] ; then");
        }
    }
    // The last reply of the block is the option list again: no match instead.
    if let Some(last) = lines.iter_mut().rev().find(|l| {
        l.trim_start()
            .starts_with("COMPREPLY=( $(compgen -W \"${opts}\"")
    }) {
        let indent = &last[..last.len() - last.trim_start().len()];
        *last = format!("{indent}COMPREPLY=()");
    }
    let mut s = lines.join("\n");
    if block.ends_with('\n') {
        s.push('\n');
    }
    s
}
