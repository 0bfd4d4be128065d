//! The emulator opening damaged metadata (the constructor's open path, then the target
//! at work on it: writes, checkpoints, a metadata snapshot, a reload, status, close or
//! crash). Damaged metadata must give errors, never a panic or a hang.
//!
//! Input: the damage format of `era_fuzz` (flag bit 4: end with a crash instead of a
//! clean close).
#![no_main]

use era_fuzz::damaged;
use era_fuzz::script::run_config;
use era_tools::emulate::runner::Runner;
use era_tools::emulate::script::{parse_script, Line};
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};

const USE: &str = "write 0 8\nwrite 2000 8\ncheckpoint\nstatus\nwrite 8 8\n\
take_metadata_snap\nwrite 16 8\ndrop_metadata_snap\nreload 1024\nwrite 1016 8\n\
discard 24 8\nread 0 16\nstatus\n";

fn script() -> &'static [Line] {
    static S: OnceLock<Vec<Line>> = OnceLock::new();
    S.get_or_init(|| parse_script(USE).expect("the fixed script parses"))
}

fuzz_target!(|data: &[u8]| {
    let Some(d) = damaged(data) else { return };
    let crash = d.flags & 0x10 != 0;
    let mut runner = Runner::new(run_config(Arc::new(d.io)));
    if runner.open(None).is_err() {
        return;
    }
    let mut out = Vec::new();
    for l in script() {
        let _ = runner.execute(&l.command, &mut out);
    }
    if crash {
        runner.crash();
    } else {
        let _ = runner.close();
    }
});
