//! Man pages and shell completions, generated from the argument definitions so they
//! never drift (tests/generated.rs compares them with the committed files).

use clap::CommandFactory;
use clap_complete::Shell;

/// Every tool's command definition.
pub fn commands() -> Vec<clap::Command> {
    vec![
        super::check::CheckArgs::command(),
        super::dump::DumpArgs::command(),
        super::emulate::EmulateArgs::command(),
        super::generate::GenerateArgs::command(),
        super::invalidate::InvalidateArgs::command(),
        super::restore::RestoreArgs::command(),
    ]
}

/// The shells completions are generated for.
pub const SHELLS: [Shell; 3] = [Shell::Bash, Shell::Zsh, Shell::Fish];

/// The man page (roff) of a command.
pub fn man_page(cmd: &clap::Command) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .section("8")
        .render(&mut out)?;
    Ok(out)
}

/// The man pages of a command: its own, then one per subcommand (`NAME-SUB`), as the
/// command's page refers to them. Returns (page name, roff) pairs.
pub fn man_pages(cmd: &clap::Command) -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let name = cmd.get_name().to_string();
    let mut pages = vec![(name.clone(), man_page(cmd)?)];
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let page_name = format!("{name}-{}", sub.get_name());
        let page = sub
            .clone()
            .name(page_name.clone())
            .bin_name(format!("{name} {}", sub.get_name()))
            .version(cmd.get_version().unwrap_or_default().to_string());
        pages.push((page_name, man_page(&page)?));
    }
    Ok(pages)
}

/// The completion script of a command for a shell.
pub fn completion(cmd: &clap::Command, shell: Shell) -> Vec<u8> {
    let mut cmd = cmd.clone();
    let name = cmd.get_name().to_string();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, name, &mut out);
    out
}

/// The file name of a completion script.
pub fn completion_file(name: &str, shell: Shell) -> String {
    match shell {
        Shell::Bash => format!("{name}.bash"),
        Shell::Zsh => format!("_{name}"),
        Shell::Fish => format!("{name}.fish"),
        _ => format!("{name}.{shell}"),
    }
}
