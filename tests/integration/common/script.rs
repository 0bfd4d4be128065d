//! Running emulator script text and collecting what it printed.

use era_tools::emulate::runner::Runner;
use era_tools::emulate::script::parse_script;

/// Runs each line of `script` on `runner` (panicking on an error) and returns the lines
/// it printed.
pub fn run_script(runner: &mut Runner, script: &str) -> Vec<String> {
    let mut out = Vec::new();
    for l in parse_script(script).unwrap() {
        runner
            .execute(&l.command, &mut out)
            .unwrap_or_else(|e| panic!("{}: {e}", l.command));
    }
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}
