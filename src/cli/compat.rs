//! Options thin-provisioning-tools' era tools take, accepted with the same meaning so
//! that scripts written for them run unchanged.

use clap::Args;

/// `--io-engine`, which chooses thin-provisioning-tools' I/O engine, and `-V` with
/// their hidden `-v`.
#[derive(Debug, Args)]
pub struct Compat {
    /// Accepted for compatibility with thin-provisioning-tools and ignored: the I/O is
    /// always synchronous (O_DIRECT on block devices).
    #[arg(long, value_name = "ENGINE", value_parser = ["sync", "async"])]
    pub io_engine: Option<String>,
    /// Print version (also -v, as in thin-provisioning-tools).
    #[arg(short = 'V', long, short_alias = 'v', action = clap::ArgAction::Version)]
    pub version: (),
}
