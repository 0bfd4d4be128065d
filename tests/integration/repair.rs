//! The repair promise, over every metadata block of the kernel's images: each block in
//! use is damaged in turn (zeroed, a flipped byte, a wrong self block number, a bad
//! checksum), the damaged image is repaired into a fresh device through the writer, the
//! result is read back, and for every N from 0 to the current era + 1 the blocks
//! `--written-since N` lists on it must include every block the truth of the undamaged
//! image lists. The test also counts the repairs that lose nothing at all (the same
//! blocks for every N) and prints the counts per case.
//!
//! A superblock damaged beyond use where no metadata snapshot copy records the data
//! block size is refused with the reason; the repair is then run again with the block
//! size given (`--data-block-size`), and must keep the promise.

use crate::common;

use common::block_damage::{block_of, damage, Damage, PatchedIo};
use common::*;
use era_tools::era::invalidate::runs_at_least;
use era_tools::era::metadata::{open_view, read_metadata, read_superblock, Source};
use era_tools::era::repair::{salvage, RepairOptions};
use era_tools::era::restore::write_metadata;
use era_tools::io::{BlockIo, MemIo};
use era_tools::pdata::checksum::{self, BlockKind};
use era_tools::pdata::space_map::read_ref_counts;
use era_tools::units::MetaBlock;
use std::sync::Arc;

/// Per case: what was damaged and how the repairs fared.
#[derive(Debug, Default)]
struct Tally {
    damaged: usize,
    kept: usize,
    lossless: usize,
    refused: usize,
}

/// Whether `repaired` lists, for every N in `0..=current + 1`, at least the blocks
/// `truth` lists; `Err` names the first N and block that break the promise.
pub(crate) fn promise(truth: &[u32], repaired: &[u32], current: u32) -> Result<(), String> {
    if repaired.len() < truth.len() {
        return Err(format!(
            "the repaired metadata has {} blocks, the truth {}",
            repaired.len(),
            truth.len()
        ));
    }
    // Per block first: the promise for every N is exactly this.
    if let Some(b) = (0..truth.len()).find(|&b| repaired[b] < truth[b]) {
        return Err(format!(
            "block {b}: repaired era {} < true era {}",
            repaired[b], truth[b]
        ));
    }
    // And literally, N by N, as era_invalidate lists runs (sampled on long eras).
    let step = (current / 8).max(1);
    let ns = (0..=current + 1)
        .step_by(step as usize)
        .chain([current, current + 1]);
    for n in ns {
        let want = runs_at_least(truth, n);
        let got = runs_at_least(&repaired[..truth.len()], n);
        let mut gi = got.iter().peekable();
        for &(b, e) in &want {
            while gi.peek().is_some_and(|&&(_, ge)| ge <= b) {
                gi.next();
            }
            match gi.peek() {
                Some(&&(gb, ge)) if gb <= b && e <= ge => {}
                _ => {
                    return Err(format!(
                        "--written-since {n}: blocks {b}..{e} not all listed"
                    ))
                }
            }
        }
    }
    Ok(())
}

/// The folded eras of the metadata on `io`, read back through the strict reader.
pub(crate) fn folded(io: &dyn BlockIo) -> Vec<u32> {
    let view = open_view(io, Source::Live).expect("the repaired superblock reads");
    read_metadata(io, &view)
        .expect("the repaired metadata reads")
        .into_folded_eras()
}

/// Repairs `io` into a fresh device and returns its folded eras, or the refusal.
pub(crate) fn repair(io: &dyn BlockIo, opts: &RepairOptions) -> Result<Vec<u32>, String> {
    let r = salvage(io, opts).map_err(|e| e.to_string())?;
    let out = MemIo::new(io.nr_blocks());
    write_metadata(&out, &r.metadata).map_err(|e| format!("the writer refused: {e}"))?;
    Ok(folded(&out))
}

/// Every block of the image in use, with its kind.
type InUse = [(MetaBlock, BlockKind)];

/// Damages the blocks `select` picks from those in use, each in the ways it gives, and
/// checks every repair.
fn matrix(case: &str, select: impl Fn(&InUse) -> Vec<(MetaBlock, Vec<Damage>)>) -> Tally {
    let base = Arc::new(kernel_image(case));
    let clean = MemIo::from_bytes(base.to_vec());
    let sb = read_superblock(&clean).unwrap();
    let t = truth(case, false).unwrap();
    let dense = t.dense();
    assert_eq!(
        folded(&clean),
        dense,
        "{case}: the undamaged image is its truth"
    );
    let counts = read_ref_counts(&clean, &sb.sm_root).unwrap();
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    let started = std::time::Instant::now();
    let in_use: Vec<(MetaBlock, BlockKind)> = (0..counts.len())
        .filter(|&b| counts[b] > 0)
        .map(|b| {
            let b = MetaBlock::new(b as u64);
            let kind = checksum::identify(&block_of(&base, b))
                .expect("every block in use has a valid checksum");
            (b, kind)
        })
        .collect();
    for (b, ways) in select(&in_use) {
        let orig = block_of(&base, b);
        let kind = checksum::identify(&orig).unwrap();
        for how in ways {
            let io = PatchedIo {
                base: base.clone(),
                block: b,
                data: damage(&orig, b, &how),
            };
            tally.damaged += 1;
            let label = format!("{case}: {kind} block {b} {}", how.label());
            let outcome = match repair(&io, &RepairOptions::default()) {
                Err(e) if b == MetaBlock::new(0) && e.contains("--data-block-size") => {
                    tally.refused += 1;
                    let opts = RepairOptions {
                        data_block_size: Some(sb.data_block_size),
                        nr_blocks: None,
                    };
                    repair(&io, &opts)
                }
                other => other,
            };
            match outcome {
                Err(e) => failures.push(format!("{label}: {e}")),
                Ok(eras) => match promise(&dense, &eras, t.current_era) {
                    Err(e) => failures.push(format!("{label}: {e}")),
                    Ok(()) => {
                        tally.kept += 1;
                        tally.lossless += (eras == dense) as usize;
                    }
                },
            }
        }
    }
    println!(
        "{case:26} damaged {:5}  promise kept {:5}  lossless {:5}  refused without --data-block-size {:3}  ({:.1} s)",
        tally.damaged,
        tally.kept,
        tally.lossless,
        tally.refused,
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    tally
}

/// Every block in use, in every way.
fn every_block(in_use: &InUse) -> Vec<(MetaBlock, Vec<Damage>)> {
    in_use
        .iter()
        .map(|&(b, _)| (b, Damage::ALL.to_vec()))
        .collect()
}

/// Up to `per_kind` blocks of each kind, evenly spaced, the superblock always, each
/// zeroed or with a flipped byte in turn (both for the superblock).
fn sample(per_kind: usize) -> impl Fn(&InUse) -> Vec<(MetaBlock, Vec<Damage>)> {
    move |in_use| {
        let mut picked = vec![(MetaBlock::new(0), vec![Damage::Zero, Damage::FlipByte])];
        for kind in BlockKind::ALL {
            let of_kind: Vec<MetaBlock> = in_use
                .iter()
                .filter(|&&(b, k)| k == kind && b != MetaBlock::new(0))
                .map(|&(b, _)| b)
                .collect();
            let n = of_kind.len().min(per_kind);
            for i in 0..n {
                let b = of_kind[i * of_kind.len() / n];
                let how = if picked.len() % 2 == 0 {
                    Damage::Zero
                } else {
                    Damage::FlipByte
                };
                picked.push((b, vec![how]));
            }
        }
        picked
    }
}

/// The small images: every block in use, in every way.
#[test]
fn every_block_of_the_small_images() {
    let mut total = Tally::default();
    for case in kernel_cases() {
        if LARGE.iter().any(|(c, _)| *c == case) {
            continue;
        }
        let t = matrix(&case, every_block);
        total.damaged += t.damaged;
        total.kept += t.kept;
        total.lossless += t.lossless;
        assert!(t.damaged > 0);
    }
    println!(
        "{:26} damaged {:5}  promise kept {:5}  lossless {:5}",
        "total", total.damaged, total.kept, total.lossless
    );
}

/// The large images, and how many blocks of each kind are sampled (a repair of the
/// 2^20-block `huge` takes about two seconds in a debug build).
const LARGE: [(&str, usize); 5] = [
    ("bigger", usize::MAX),
    ("wide", 4),
    ("resize_shrink_undigested", 3),
    ("resize_grow_undigested", 3),
    ("huge", 2),
];

/// The large images: a sample of the blocks of every kind, the superblock always.
#[test]
fn sampled_blocks_of_the_large_images() {
    for (case, per_kind) in LARGE {
        let t = if per_kind == usize::MAX {
            matrix(case, every_block)
        } else {
            matrix(case, sample(per_kind))
        };
        assert!(t.damaged > 0);
    }
}
