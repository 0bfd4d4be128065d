//! Man pages and shell completions, generated from the argument definitions so they
//! never drift (tests/integration/generated.rs compares them with the committed files).

use clap::CommandFactory;
use clap_complete::Shell;

/// Every tool's command definition.
pub fn commands() -> Vec<clap::Command> {
    vec![
        super::check::CheckArgs::command(),
        super::copy::CopyArgs::command(),
        super::dump::DumpArgs::command(),
        super::emulate::EmulateArgs::command(),
        super::generate::GenerateArgs::command(),
        super::invalidate::InvalidateArgs::command(),
        super::metadata_size::MetadataSizeArgs::command(),
        super::repair::RepairArgs::command(),
        super::restore::RestoreArgs::command(),
    ]
}

/// The shells completions are generated for.
pub const SHELLS: [Shell; 3] = [Shell::Bash, Shell::Zsh, Shell::Fish];

/// Every man page: (file stem, roff) for each tool and each of its subcommands.
pub fn man_pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    super::man::man_pages(&commands())
}

/// The completion script of a command for a shell.
pub fn completion(cmd: &clap::Command, shell: Shell) -> Vec<u8> {
    let mut cmd = cmd.clone();
    let name = cmd.get_name().to_string();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, name, &mut out);
    if shell == Shell::Bash {
        let script = String::from_utf8_lossy(&out);
        return super::complete::patch_bash(&script, &cmd).into_bytes();
    }
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
