//! The emulator's script parser (`era_emulate`'s input) over arbitrary text, then the
//! parsed script run on a fresh in-memory metadata device. Whatever the commands do,
//! the committed metadata must stay consistent: after the run (closed cleanly, or
//! crashed if the script says so) the checker must find no error.
//!
//! Table lengths are taken modulo `era_fuzz::script::MAX_TABLE_SECTORS` and at most
//! `MAX_COMMANDS` commands run, to keep one iteration cheap.
#![no_main]

use era_fuzz::script::{bounded, run_config, MAX_COMMANDS};
use era_fuzz::PatchedIo;
use era_tools::emulate::runner::Runner;
use era_tools::emulate::script::{parse_script, Command};
use era_tools::era::check::{check, CheckOptions};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

/// Metadata device size in blocks.
const META_BLOCKS: u64 = 512;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(lines) = parse_script(text) else {
        return;
    };
    // Every parsed line prints as a command the parser reads back the same.
    for l in &lines {
        let again = parse_script(&l.command.to_string()).expect("a printed command parses");
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].command, l.command, "printed as '{}'", l.command);
    }
    let meta = Arc::new(PatchedIo::new(&[], META_BLOCKS));
    let mut runner = Runner::new(run_config(meta.clone()));
    let mut out = Vec::new();
    let mut opened = false;
    for l in lines.iter().take(MAX_COMMANDS) {
        let cmd = bounded(&l.command);
        // A refused open (no sectors, longer than the origin) formats nothing.
        let done = runner.execute(&cmd, &mut out).is_ok();
        opened |= done && matches!(cmd, Command::Open(_));
    }
    if runner.target().is_some() {
        let _ = runner.close();
    }
    if opened {
        let report = check(meta.as_ref(), &CheckOptions::default());
        assert!(
            !report.has_errors(),
            "metadata left by the emulator fails the check: {:?}",
            report.findings
        );
    }
});
