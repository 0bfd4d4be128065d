//! Crash safety of `era_emulate` (target.md §14, format.md §9): a power cut after the
//! k-th metadata block write, for every k (a seeded sample of them outside the long run,
//! `ERA_LONG_TESTS=1`) over a workload with checkpoints, snapshots and resizes. Writes
//! not yet flushed are lost, or all of them survive, or a random subset does (a volatile
//! disk cache): a commit that overwrites a block the last durable superblock still
//! references is caught by the last two. After each cut the metadata must open
//! (recovering the live writeset), check clean with an exact space map, and record every
//! write that completed before the cut in (at least) the era it was made in.

use crate::common;

use common::long_run::sample;
use common::power_cut::{PowerCutIo, Survival};
use common::recount::assert_space_map_exact;
use era_tools::emulate::origin::MemOrigin;
use era_tools::emulate::runner::{RunConfig, Runner};
use era_tools::emulate::script::{parse_script, Command};
use era_tools::era::check::{check, CheckOptions};
use era_tools::era::metadata::{open_view, read_metadata, Source};
use era_tools::io::{BlockIo, MemIo};
use era_tools::pdata::transaction::{DEFAULT_CACHE_BLOCKS, MIN_CACHE_BLOCKS};
use era_tools::units::MetaBlock;
use era_tools::units::BLOCK_SIZE;
use std::collections::HashMap;
use std::sync::Arc;

const META_BLOCKS: u64 = 256;
const ORIGIN_SECTORS: u64 = 1024;
const BS: u64 = 8;

const WORKLOAD: &str = "
write 8 8
write 16 16
checkpoint
write 16 8
write 40 8
take_metadata_snap
write 40 8
write 56 8
status
drop_metadata_snap
reload 768
write 640 8
checkpoint
take_metadata_snap
write 720 8
write 24 8
suspend
resume
write 32 8
reload 400
write 392 8
discard 96 40
close
open 600
drop_metadata_snap
write 80 8
checkpoint
write 8 8
take_metadata_snap
status
";

fn config(meta: Arc<dyn BlockIo>) -> RunConfig {
    RunConfig {
        meta,
        origin: Arc::new(MemOrigin::new((ORIGIN_SECTORS * 512) as usize)),
        block_size: BS as u32,
        length: Some(512),
        sync: true,
        meta_name: "meta".into(),
        origin_name: "origin".into(),
    }
}

/// The open, then every command of [`WORKLOAD`].
fn workload_commands() -> Vec<Command> {
    let mut cmds = vec![Command::Open(None)];
    cmds.extend(
        parse_script(WORKLOAD)
            .unwrap()
            .into_iter()
            .map(|l| l.command),
    );
    cmds
}

/// Runs the workload until the power cut; returns the blocks of every completed write
/// with the era it completed in, and the number of metadata writes made.
fn run_until_cut(io: Arc<PowerCutIo>, cache_blocks: usize) -> (Vec<(u32, u32)>, u64) {
    let mut runner = Runner::new(config(io.clone())).with_cache_limit(cache_blocks);
    let mut done = Vec::new();
    let cmds = workload_commands();
    for cmd in &cmds {
        if let Command::Reload(len) | Command::Open(Some(len)) = cmd {
            // A shrink drops the blocks beyond the new end from tracking.
            done.retain(|&(b, _)| (b as u64) < len / BS);
        }
        let r = runner.execute(cmd, &mut Vec::new());
        if r.is_err() {
            assert!(io.is_cut(), "{cmd} failed without a power cut: {r:?}");
            break;
        }
        if let (
            Command::Write { sector, count, .. } | Command::Discard { sector, count },
            Some(t),
        ) = (cmd, runner.target())
        {
            let era = t.metadata().current_era.get();
            let last = if matches!(cmd, Command::Discard { .. }) {
                *sector
            } else {
                sector + count - 1
            };
            for b in sector / BS..=last / BS {
                done.push((b as u32, era));
            }
        }
    }
    (done, io.writes())
}

/// Random subsets drawn at each cut.
const SUBSETS_PER_CUT: u64 = 4;

/// Power cuts checked by default: a seeded sample of the workload's metadata writes
/// (each cut replays the workload up to it, so all of them cost the square of its
/// length). The long run (`ERA_LONG_TESTS=1`) cuts after every write.
const SAMPLED_CUTS: usize = 48;

/// Cuts the power after every metadata write of the workload (a sample of them outside
/// the long run), leaving the unflushed writes that `policies(k)` name, and checks each
/// image left behind. The target keeps at most `cache_blocks` metadata blocks in memory.
fn check_every_power_cut(cache_blocks: usize, policies: impl Fn(u64) -> Vec<Survival>) {
    let (_, total) = run_until_cut(
        Arc::new(PowerCutIo::new(META_BLOCKS, u64::MAX)),
        cache_blocks,
    );
    assert!(total > 100, "workload too small: {total} writes");
    let cuts = sample((0..=total).collect(), SAMPLED_CUTS, cache_blocks as u64);
    let mut checked = 0;
    for &k in &cuts {
        let io = Arc::new(PowerCutIo::new(META_BLOCKS, k));
        let (done, _) = run_until_cut(io.clone(), cache_blocks);
        for policy in policies(k) {
            let what = format!("cut after {k} of {total} writes, {policy:?} survive");
            checked += check_image(io.durable_image(policy), &done, &what);
        }
    }
    // About ten completed writes a cut on average: far fewer means cuts that check
    // nothing.
    assert!(
        checked > 5 * cuts.len(),
        "only {checked} completed writes checked in {} cuts",
        cuts.len()
    );
}

/// Checks the image a cut left: it opens, checks clean, and keeps every write in
/// `done`. Returns the number of writes checked.
fn check_image(image: Vec<u8>, done: &[(u32, u32)], what: &str) -> usize {
    if image[..BLOCK_SIZE].iter().all(|&b| b == 0) {
        assert!(
            done.is_empty(),
            "{what}: writes completed before the format"
        );
        return 0;
    }
    let mem = MemIo::from_bytes(image);
    let report = check(&mem, &CheckOptions::default());
    assert!(
        report.findings.is_empty(),
        "{what}: era_check: {:?}",
        report.findings
    );
    assert_space_map_exact(&mem, what);
    let before = open_view(&mem, Source::Live).unwrap().sb.current_era;
    // Reopen (recovery) on the crash image and close cleanly.
    let meta = Arc::new(mem);
    let mut runner = Runner::new(config(meta.clone()));
    runner
        .execute(&Command::Open(Some(ORIGIN_SECTORS)), &mut Vec::new())
        .unwrap_or_else(|e| panic!("{what}: reopen: {e}"));
    assert_eq!(
        runner.target().unwrap().metadata().current_era,
        before.next(),
        "{what}"
    );
    runner.close().unwrap();
    assert_space_map_exact(meta.as_ref(), what);
    let view = open_view(meta.as_ref(), Source::Live).unwrap();
    let md = read_metadata(meta.as_ref(), &view).unwrap();
    let folded = md.folded_eras();
    let mut want: HashMap<u32, u32> = HashMap::new();
    for &(b, e) in done {
        let w = want.entry(b).or_default();
        *w = (*w).max(e);
    }
    let mut checked = 0;
    for (b, e) in want {
        if (b as usize) < folded.len() {
            checked += 1;
            assert!(
                folded[b as usize] >= e,
                "{what}: block {b} written in era {e}, metadata says {}",
                folded[b as usize]
            );
        }
    }
    checked
}

#[test]
fn every_power_cut_losing_the_cache_leaves_recoverable_metadata() {
    check_every_power_cut(DEFAULT_CACHE_BLOCKS, |_| vec![Survival::None]);
}

#[test]
fn every_power_cut_keeping_the_cache_leaves_recoverable_metadata() {
    check_every_power_cut(DEFAULT_CACHE_BLOCKS, |_| vec![Survival::All]);
}

#[test]
fn every_power_cut_keeping_part_of_the_cache_leaves_recoverable_metadata() {
    check_every_power_cut(DEFAULT_CACHE_BLOCKS, |k| {
        (0..SUBSETS_PER_CUT)
            .map(|s| Survival::Random(k * SUBSETS_PER_CUT + s))
            .collect()
    });
}

/// With the smallest cache, transactions write their new blocks out before commit
/// (and again if they change): a cut at any of those writes still leaves the last
/// commit intact.
#[test]
fn every_power_cut_with_the_smallest_cache_leaves_recoverable_metadata() {
    let (_, default) = run_until_cut(
        Arc::new(PowerCutIo::new(META_BLOCKS, u64::MAX)),
        DEFAULT_CACHE_BLOCKS,
    );
    let (_, small) = run_until_cut(
        Arc::new(PowerCutIo::new(META_BLOCKS, u64::MAX)),
        MIN_CACHE_BLOCKS,
    );
    assert!(
        small > default,
        "no early writes: {small} vs {default} writes"
    );
    check_every_power_cut(MIN_CACHE_BLOCKS, |k| {
        let mut p = vec![Survival::None, Survival::All];
        p.extend((0..SUBSETS_PER_CUT).map(|s| Survival::Random(k * SUBSETS_PER_CUT + s)));
        p
    });
}

/// Metadata devices too small for the workload: every operation that runs out of space
/// fails cleanly (its transaction is dropped), later ones still run, and the metadata
/// left behind is consistent and keeps every completed write.
#[test]
fn running_out_of_metadata_space_never_corrupts() {
    let mut failures = 0;
    let mut recovered = 0;
    for blocks in (8..48u64).chain((48..400).step_by(7)) {
        let meta = Arc::new(MemIo::new(blocks));
        let mut cfg = config(meta.clone());
        if blocks >= 48 {
            // 65536 blocks: an era array of 65 array blocks, two-block bitsets.
            cfg.origin = Arc::new(MemOrigin::new(65536 * BS as usize * 512));
            cfg.length = Some(65536 * BS);
        }
        let mut runner = Runner::new(cfg);
        let mut done: Vec<(u32, u32)> = Vec::new();
        let mut failed_before = false;
        let cmds = workload_commands();
        for cmd in &cmds {
            if let Command::Reload(len) | Command::Open(Some(len)) = cmd {
                done.retain(|&(b, _)| (b as u64) < len / BS);
            }
            if runner.execute(cmd, &mut Vec::new()).is_err() {
                failures += 1;
                failed_before = true;
                continue;
            }
            if failed_before && matches!(cmd, Command::Write { .. }) {
                // A failed operation leaves nothing half done behind it.
                recovered += 1;
            }
            if let (Command::Write { sector, count, .. }, Some(t)) = (cmd, runner.target()) {
                let era = t.metadata().current_era.get();
                for b in sector / BS..=(sector + count - 1) / BS {
                    done.push((b as u32, era));
                }
            }
        }
        let _ = runner.close();
        let what = format!("{blocks} metadata blocks");
        if meta.read_block_zeroed() {
            continue;
        }
        assert_space_map_exact(meta.as_ref(), &what);
        let view = open_view(meta.as_ref(), Source::Live).unwrap();
        let folded = read_metadata(meta.as_ref(), &view).unwrap().folded_eras();
        for (b, e) in done {
            if (b as usize) < folded.len() {
                assert!(folded[b as usize] >= e, "{what}: block {b} era {e} lost");
            }
        }
    }
    assert!(
        failures > 50,
        "the devices were never full ({failures} failures)"
    );
    eprintln!("{failures} failures, {recovered} writes after one");
    assert!(recovered >= 25, "writes after a failure: {recovered}");
}

trait Zeroed {
    fn read_block_zeroed(&self) -> bool;
}

impl Zeroed for MemIo {
    fn read_block_zeroed(&self) -> bool {
        let mut b = [0u8; BLOCK_SIZE];
        self.read_block(MetaBlock::new(0), &mut b).unwrap();
        b.iter().all(|&x| x == 0)
    }
}
