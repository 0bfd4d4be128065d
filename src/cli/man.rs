//! Man pages, rendered from the argument definitions: clap_mangen's title, name,
//! description and options, plus what it cannot know: a synopsis that names every
//! option's value, one section per `Heading: text` paragraph of the help's epilogue
//! (EXIT STATUS, DEVICES AND LOCKS…), EXAMPLES and SEE ALSO. Every subcommand gets a
//! page of its own (`era_emulate-run(8)`), as the parent's page says.

use super::examples::examples;
use clap::{ArgAction, Command};
use roff::{bold, italic, roman, Inline, Roff};
use std::io;

/// The man section of every page.
const SECTION: &str = "8";

/// Every page: (file stem, roff) for each tool and each of its subcommands.
pub fn man_pages(tools: &[Command]) -> io::Result<Vec<(String, Vec<u8>)>> {
    let names: Vec<String> = tools.iter().map(|t| t.get_name().to_string()).collect();
    let mut pages = Vec::new();
    for tool in tools {
        let mut tool = tool.clone();
        tool.build();
        let name = tool.get_name().to_string();
        pages.push((name.clone(), page(&tool, &name, &name, &names)?));
        for sub in tool.get_subcommands().filter(|s| s.get_name() != "help") {
            let stem = format!("{name}-{}", sub.get_name());
            let shown = format!("{name} {}", sub.get_name());
            let mut sub = sub.clone();
            if let Some(v) = tool.get_version() {
                sub = sub.version(v.to_string());
            }
            pages.push((stem.clone(), page(&sub, &stem, &shown, &names)?));
        }
    }
    Ok(pages)
}

/// One page: `stem` names the page, `shown` is how the command is typed.
fn page(cmd: &Command, stem: &str, shown: &str, tools: &[String]) -> io::Result<Vec<u8>> {
    let cmd = cmd
        .clone()
        .name(stem.to_string())
        .bin_name(shown.to_string());
    let man = clap_mangen::Man::new(cmd.clone()).section(SECTION);
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    let mut section = |render: &dyn Fn(&mut Vec<u8>) -> io::Result<()>| -> io::Result<()> {
        let mut part = Vec::new();
        render(&mut part)?;
        out.extend_from_slice(without_preamble(&part));
        Ok(())
    };
    section(&|w| man.render_name_section(w))?;
    section(&|w| {
        let mut roff = Roff::new();
        roff.control("SH", ["SYNOPSIS"]);
        roff.text(synopsis(&cmd, shown));
        roff.to_writer(w)
    })?;
    section(&|w| man.render_description_section(w))?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        section(&|w| man.render_options_section(w))?;
    }
    if cmd.get_subcommands().any(|s| s.get_name() != "help") {
        section(&|w| man.render_subcommands_section(w))?;
    }
    section(&|w| closing_sections(&cmd, stem, tools).to_writer(w))?;
    if cmd.get_version().is_some() {
        section(&|w| man.render_version_section(w))?;
    }
    Ok(code_spans(&String::from_utf8_lossy(&out)).into_bytes())
}

/// A rendered part without the string definitions roff puts at the top of every
/// rendering (the page keeps the title's).
fn without_preamble(part: &[u8]) -> &[u8] {
    let mut rest = part;
    for prefix in [&b".ie \\n(.g"[..], b".el .ds Aq"] {
        if rest.starts_with(prefix) {
            let end = rest
                .iter()
                .position(|&b| b == b'\n')
                .map_or(rest.len(), |i| i + 1);
            rest = &rest[end..];
        }
    }
    rest
}

/// The epilogue's sections (EXIT STATUS…), EXAMPLES and SEE ALSO.
fn closing_sections(cmd: &Command, stem: &str, tools: &[String]) -> Roff {
    let mut roff = Roff::new();
    // The long help adds the examples, which get a section of their own.
    let epilogue = cmd
        .get_after_help()
        .map(|s| s.to_string())
        .unwrap_or_default();
    for (heading, text) in epilogue_sections(&epilogue) {
        roff.control("SH", [heading.as_str()]);
        roff.text([roman(text)]);
    }
    let examples = examples(stem);
    if !examples.is_empty() {
        roff.control("SH", ["EXAMPLES"]);
        for (what, command) in examples {
            roff.text([roman(*what)]);
            roff.control("IP", [""]);
            roff.control("nf", [] as [&str; 0]);
            roff.text([bold(*command)]);
            roff.control("fi", [] as [&str; 0]);
            roff.control("PP", [] as [&str; 0]);
        }
    }
    roff.control("SH", ["SEE ALSO"]);
    roff.text(see_also(stem, tools));
    roff
}

/// `name [-o|--output FILE] --written-since N INPUT`: every option with its value's name;
/// optional ones in brackets.
fn synopsis(cmd: &Command, shown: &str) -> Vec<Inline> {
    let mut line = vec![bold(shown), roman(" ")];
    for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        if arg.is_positional() {
            continue;
        }
        let flag = match (arg.get_short(), arg.get_long()) {
            (Some(s), Some(l)) => format!("-{s}|--{l}"),
            (Some(s), None) => format!("-{s}"),
            (None, Some(l)) => format!("--{l}"),
            (None, None) => continue,
        };
        let optional = !arg.is_required_set();
        line.push(roman(if optional { "[" } else { "" }));
        line.push(bold(flag));
        if matches!(arg.get_action(), ArgAction::Set | ArgAction::Append) {
            let value = arg
                .get_value_names()
                .map(|v| v.join(" "))
                .unwrap_or_else(|| arg.get_id().as_str().to_uppercase());
            line.push(roman(" "));
            line.push(italic(value));
        }
        line.push(roman(if optional { "] " } else { " " }));
    }
    for arg in cmd.get_positionals().filter(|a| !a.is_hide_set()) {
        let value = arg
            .get_value_names()
            .map(|v| v.join(" "))
            .unwrap_or_else(|| arg.get_id().as_str().to_uppercase());
        let optional = !arg.is_required_set();
        line.push(roman(if optional { "[" } else { "" }));
        line.push(italic(value));
        line.push(roman(if optional { "] " } else { " " }));
    }
    if cmd.get_subcommands().any(|s| s.get_name() != "help") {
        line.push(italic("COMMAND"));
        line.push(roman(" ..."));
    }
    line
}

/// The epilogue's paragraphs as sections: a paragraph `Exit status: text` becomes
/// (`EXIT STATUS`, `text`); a paragraph without such a heading joins the one before (or
/// NOTES).
fn epilogue_sections(text: &str) -> Vec<(String, String)> {
    let mut sections: Vec<(String, String)> = Vec::new();
    for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        let heading = para
            .split_once(": ")
            .filter(|(h, _)| h.len() <= 32 && h.chars().all(|c| c.is_alphabetic() || c == ' '));
        match heading {
            Some((h, rest)) => sections.push((h.to_uppercase(), capitalized(rest))),
            None => match sections.last_mut() {
                Some((_, body)) => {
                    body.push_str("\n\n");
                    body.push_str(para);
                }
                None => sections.push(("NOTES".into(), para.to_string())),
            },
        }
    }
    sections
}

/// `text` with its first letter in upper case (a section's text is a sentence).
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Markdown code spans in the help text: bold on the page (plain in the NAME line,
/// which whatis reads). A line with an odd number of backticks is left as it is.
fn code_spans(roff: &str) -> String {
    let mut out = String::with_capacity(roff.len());
    let mut in_name = false;
    for line in roff.split_inclusive('\n') {
        let name_line = in_name && !line.starts_with('.');
        in_name = line.starts_with(".SH NAME") || (in_name && line.starts_with('.'));
        if line.matches('`').count() % 2 != 0 {
            out.push_str(line);
            continue;
        }
        let mut open = false;
        for c in line.chars() {
            if c == '`' {
                if !name_line {
                    out.push_str(if open { "\\fR" } else { "\\fB" });
                }
                open = !open;
            } else {
                out.push(c);
            }
        }
    }
    out
}

/// The other tools' pages, the parent's first for a subcommand, and dmsetup(8).
fn see_also(stem: &str, tools: &[String]) -> Vec<Inline> {
    let parent = stem.split_once('-').map(|(p, _)| p);
    let mut refs: Vec<&str> = parent.into_iter().collect();
    refs.extend(
        tools
            .iter()
            .map(String::as_str)
            .filter(|t| Some(*t) != parent && *t != stem),
    );
    let mut line = Vec::new();
    for r in refs {
        line.push(bold(format!("{r}({SECTION})")));
        line.push(roman(", "));
    }
    line.push(bold("dmsetup(8)"));
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_become_bold_except_in_the_name() {
        let roff =
            ".SH NAME\nx \\- a `serve`\n.SH DESCRIPTION\nrun `crash` and `close`\nodd ` one\n";
        assert_eq!(
            code_spans(roff),
            ".SH NAME\nx \\- a serve\n.SH DESCRIPTION\nrun \\fBcrash\\fR and \\fBclose\\fR\nodd ` one\n"
        );
    }

    #[test]
    fn epilogue_paragraphs_become_sections() {
        let s = epilogue_sections("Devices and locks: held.\n\nMore.\n\nExit status: 0 ok.");
        assert_eq!(
            s,
            vec![
                (
                    "DEVICES AND LOCKS".to_string(),
                    "Held.\n\nMore.".to_string()
                ),
                ("EXIT STATUS".to_string(), "0 ok.".to_string()),
            ]
        );
    }
}
