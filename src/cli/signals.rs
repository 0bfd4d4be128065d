//! Termination signals in the tools that stage an output. A staging file normally has
//! no name and goes with the process; where the filesystem gave it a name, SIGINT,
//! SIGTERM and SIGHUP remove it before the process dies of the signal as it would have
//! without a handler (so that the shell still sees, say, 130 for SIGINT).

use crate::io::staging::remove_named;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use signal_hook::low_level::emulate_default_handler;

/// Starts the thread that, on the first termination signal, removes the named staging
/// files and ends the process by that signal. Without it (the handler could not be
/// installed) the signals keep their default action.
pub fn remove_staging_on_signals() {
    let Ok(mut signals) = Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            remove_named();
            // Returns only if the default action could not be taken.
            let _ = emulate_default_handler(sig);
            std::process::abort();
        }
    });
}
