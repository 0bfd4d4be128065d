//! Crash safety of `era_emulate` (target.md §14, format.md §9): a power cut after the
//! k-th metadata block write, for every k over a workload with checkpoints, snapshots
//! and resizes. Writes not yet flushed are lost. After each cut the metadata must open
//! (recovering the live writeset), be consistent with an exact space map, and record
//! every write that completed before the cut in (at least) the era it was made in.

mod common;

use common::recount::assert_space_map_exact;
use era_tools::emulate::origin::MemOrigin;
use era_tools::emulate::runner::{RunConfig, Runner};
use era_tools::emulate::script::{parse_script, Command};
use era_tools::era::metadata::{open_view, read_metadata, Source};
use era_tools::io::{BlockIo, MemIo};
use era_tools::units::{BlockBuf, MetaBlock, BLOCK_SIZE};
use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A device with a volatile write cache that loses power after `cut_after` writes.
struct PowerCutIo {
    durable: Mutex<Vec<u8>>,
    cache: Mutex<HashMap<MetaBlock, BlockBuf>>,
    writes: AtomicU64,
    cut_after: u64,
    nr_blocks: u64,
}

impl PowerCutIo {
    fn new(nr_blocks: u64, cut_after: u64) -> PowerCutIo {
        PowerCutIo {
            durable: Mutex::new(vec![0; nr_blocks as usize * BLOCK_SIZE]),
            cache: Mutex::new(HashMap::new()),
            writes: AtomicU64::new(0),
            cut_after,
            nr_blocks,
        }
    }

    fn is_cut(&self) -> bool {
        self.writes.load(Ordering::SeqCst) >= self.cut_after
    }

    fn cut() -> io::Error {
        io::Error::other("power cut")
    }

    /// What survives the power cut.
    fn durable_image(&self) -> Vec<u8> {
        self.durable.lock().unwrap().clone()
    }
}

impl BlockIo for PowerCutIo {
    fn nr_blocks(&self) -> u64 {
        self.nr_blocks
    }
    fn read_block(&self, block: MetaBlock, buf: &mut BlockBuf) -> io::Result<()> {
        if let Some(b) = self.cache.lock().unwrap().get(&block) {
            buf.copy_from_slice(b);
            return Ok(());
        }
        let d = self.durable.lock().unwrap();
        let o = block as usize * BLOCK_SIZE;
        buf.copy_from_slice(&d[o..o + BLOCK_SIZE]);
        Ok(())
    }
    fn write_block(&self, block: MetaBlock, buf: &BlockBuf) -> io::Result<()> {
        if self.is_cut() {
            return Err(Self::cut());
        }
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.cache.lock().unwrap().insert(block, *buf);
        Ok(())
    }
    fn flush(&self) -> io::Result<()> {
        if self.is_cut() {
            return Err(Self::cut());
        }
        let mut d = self.durable.lock().unwrap();
        for (b, buf) in self.cache.lock().unwrap().drain() {
            let o = b as usize * BLOCK_SIZE;
            d[o..o + BLOCK_SIZE].copy_from_slice(&buf);
        }
        Ok(())
    }
}

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

/// Runs the workload until the power cut; returns the blocks of every completed write
/// with the era it completed in, and the number of metadata writes made.
fn run_until_cut(io: Arc<PowerCutIo>) -> (Vec<(u32, u32)>, u64) {
    let mut runner = Runner::new(config(io.clone()));
    let mut done = Vec::new();
    let mut cmds = vec![Command::Open(None)];
    cmds.extend(
        parse_script(WORKLOAD)
            .unwrap()
            .into_iter()
            .map(|l| l.command),
    );
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
            let era = t.metadata().current_era;
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
    (done, io.writes.load(Ordering::SeqCst))
}

#[test]
fn every_power_cut_leaves_recoverable_metadata_that_keeps_completed_writes() {
    let (_, total) = run_until_cut(Arc::new(PowerCutIo::new(META_BLOCKS, u64::MAX)));
    assert!(total > 100, "workload too small: {total} writes");
    let mut checked = 0;
    for k in 0..=total {
        let io = Arc::new(PowerCutIo::new(META_BLOCKS, k));
        let (done, _) = run_until_cut(io.clone());
        let image = io.durable_image();
        if image[..BLOCK_SIZE].iter().all(|&b| b == 0) {
            assert!(
                done.is_empty(),
                "cut {k}: writes completed before the format"
            );
            continue;
        }
        let mem = MemIo::from_bytes(image);
        let what = format!("cut after {k} of {total} writes");
        assert_space_map_exact(&mem, &what);
        let before = open_view(&mem, Source::Live).unwrap().sb.current_era;
        // Reopen (recovery) on the crash image and close cleanly.
        let meta = Arc::new(mem);
        let mut runner = Runner::new(config(meta.clone()));
        runner
            .execute(&Command::Open(Some(ORIGIN_SECTORS)), &mut Vec::new())
            .unwrap_or_else(|e| panic!("{what}: reopen: {e}"));
        assert_eq!(
            runner.target().unwrap().metadata().current_era,
            before + 1,
            "{what}"
        );
        runner.close().unwrap();
        assert_space_map_exact(meta.as_ref(), &what);
        let view = open_view(meta.as_ref(), Source::Live).unwrap();
        let md = read_metadata(meta.as_ref(), &view).unwrap();
        let folded = md.folded_eras();
        let mut want: HashMap<u32, u32> = HashMap::new();
        for (b, e) in done {
            let w = want.entry(b).or_default();
            *w = (*w).max(e);
        }
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
    }
    assert!(checked > 1000, "only {checked} completed writes checked");
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
        let mut cmds = vec![Command::Open(None)];
        cmds.extend(
            parse_script(WORKLOAD)
                .unwrap()
                .into_iter()
                .map(|l| l.command),
        );
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
                let era = t.metadata().current_era;
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
        self.read_block(0, &mut b).unwrap();
        b.iter().all(|&x| x == 0)
    }
}
