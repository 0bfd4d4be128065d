//! Emulator scripts: bounds that keep one fuzz iteration cheap, and the translation of
//! the kernel workloads in `testdata/` into seed scripts.

use era_tools::emulate::origin::MemOrigin;
use era_tools::emulate::runner::RunConfig;
use era_tools::emulate::script::Command;
use era_tools::io::BlockIo;
use std::sync::Arc;

/// Origin size of the script targets, in bytes (256 blocks of 8 sectors).
pub const ORIGIN_BYTES: usize = 256 * 4096;
/// Table lengths (`open N`, `reload N`) are taken modulo this, in sectors: a table of
/// 2^31 blocks is valid but costs gigabytes, which says nothing about the parser.
pub const MAX_TABLE_SECTORS: u64 = 1 << 16;
/// Commands run per input at most.
pub const MAX_COMMANDS: usize = 200;

/// The table of the script targets: block size 8, an in-memory origin of
/// [`ORIGIN_BYTES`], metadata on `meta`.
pub fn run_config(meta: Arc<dyn BlockIo>) -> RunConfig {
    RunConfig {
        meta,
        origin: Arc::new(MemOrigin::new(ORIGIN_BYTES)),
        block_size: 8,
        length: None,
        sync: false,
        meta_name: "meta".into(),
        origin_name: "origin".into(),
    }
}

/// `cmd` with its table length brought below [`MAX_TABLE_SECTORS`].
pub fn bounded(cmd: &Command) -> Command {
    match cmd {
        Command::Reload(n) => Command::Reload(n % MAX_TABLE_SECTORS),
        Command::Open(Some(n)) => Command::Open(Some(n % MAX_TABLE_SECTORS)),
        other => other.clone(),
    }
}

/// Translates a kernel workload (`testdata/kernel/*/workload.sh`, the oracle harness's
/// vocabulary) into an emulator script on an origin of `nr_blocks` blocks of 8 sectors.
/// Blocks are taken modulo `nr_blocks`, reload lengths scaled from the case's origin
/// (`#@ ORIGIN_MB=`) to this one; words the emulator has no counterpart for are dropped.
pub fn translate_workload(workload: &str, nr_blocks: u64) -> String {
    let case_sectors = workload
        .lines()
        .find_map(|l| l.strip_prefix("#@ ORIGIN_MB="))
        .and_then(|mb| mb.trim().parse::<u64>().ok())
        .map_or(nr_blocks * 8, |mb| mb * 2048);
    let mut out = String::new();
    for line in workload.lines() {
        let body = line.split('#').next().unwrap_or("");
        let words: Vec<&str> = body.split_whitespace().collect();
        let Some((&cmd, args)) = words.split_first() else {
            continue;
        };
        let nums: Vec<u64> = args.iter().filter_map(|a| a.parse().ok()).collect();
        match cmd {
            "era_create" => out.push_str("open\n"),
            "wb" => {
                for b in &nums {
                    out.push_str(&format!("write {} 8\n", (b % nr_blocks) * 8));
                }
            }
            "wsect" if nums.len() == 2 => {
                let s = nums[0] % (nr_blocks * 8);
                out.push_str(&format!("write {s} {}\n", nums[1].clamp(1, 64)));
            }
            "wrange" if nums.len() == 2 => {
                let b = nums[0] % nr_blocks;
                let n = nums[1].clamp(1, nr_blocks - b);
                out.push_str(&format!("write {} {}\n", b * 8, n * 8));
            }
            "rb" => {
                for b in &nums {
                    out.push_str(&format!("read {} 8\n", (b % nr_blocks) * 8));
                }
            }
            "checkpoint" => out.push_str("checkpoint\n"),
            "suspend_resume" => out.push_str("suspend\nresume\n"),
            "take_snap" => out.push_str("take_metadata_snap\n"),
            "drop_snap" => out.push_str("drop_metadata_snap\n"),
            "era_reload" if nums.len() == 1 => {
                let scaled = nums[0].saturating_mul(nr_blocks * 8) / case_sectors;
                let sectors = scaled.clamp(8, MAX_TABLE_SECTORS - 8) / 8 * 8;
                out.push_str(&format!("reload {sectors}\n"))
            }
            "era_status" => out.push_str("status\n"),
            "era_remove" => out.push_str("close\n"),
            _ => {}
        }
    }
    if !workload.contains("era_remove") {
        // The kernel case ends with the machine powered off.
        out.push_str("crash\n");
    }
    out
}
