//! The repair promise, over the kernel's images and every kind of damage of
//! [`crate::repair_damage`]: each damaged image is repaired into a fresh device through
//! the writer, the result is read back, and for every N from 0 to the current era + 1
//! the blocks `--written-since N` lists on it must include every block the truth of the
//! undamaged image lists, on every block in use. Each kind prints how many repairs were
//! tried, kept the promise, lost nothing at all (the same blocks for every N) and were
//! refused for want of an option, and fails on any break.
//!
//! A refusal that names the option it needs (`--data-block-size` when no metadata
//! snapshot copy records the block size, `--nr-blocks`) is run again with the option,
//! and must then keep the promise. By default each kind runs a seeded sample of each
//! case; `ERA_LONG_TESTS=1` runs every scenario (a sample of the largest images).

use crate::common;

use crate::repair_damage::{scenarios, Kind};
use common::block_damage::block_of;
use common::*;
use era_tools::era::check::{check, CheckOptions};
use era_tools::era::invalidate::runs_at_least;
use era_tools::era::metadata::{open_view, read_metadata, read_superblock, Source};
use era_tools::era::repair::{salvage, RepairOptions};
use era_tools::io::{BlockIo, MemIo};
use era_tools::pdata::checksum::{self, BlockKind};
use era_tools::pdata::space_map::read_ref_counts;
use era_tools::units::MetaBlock;
use std::sync::Arc;

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
    r.write(io, &out)
        .map_err(|e| format!("the writer refused: {e}"))?;
    Ok(folded(&out))
}

/// How the repairs of one case fared.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    tried: usize,
    held: usize,
    lossless: usize,
    /// Refused for want of an option (`--data-block-size`, `--nr-blocks`), then
    /// repaired with it.
    refused: usize,
    /// Damage era_check finds nothing wrong with (blocks swapped whole, self block
    /// numbers fixed): the damaged image is valid metadata of another history, and the
    /// promise is held against what it records instead.
    undetectable: usize,
}

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, o: Tally) {
        self.tried += o.tried;
        self.held += o.held;
        self.lossless += o.lossless;
        self.refused += o.refused;
        self.undetectable += o.undetectable;
    }
}

/// Whether the whole matrix runs (`ERA_LONG_TESTS=1`), or a seeded sample of each kind.
fn long() -> bool {
    std::env::var("ERA_LONG_TESTS").is_ok_and(|v| v == "1")
}

/// Repairs every scenario of `kind` on `case` (all of them, or `sample` picked by a
/// seeded shuffle, or only the one labelled `only`) and checks the promise on every
/// in-use block; returns the tally and the breaks.
fn matrix(
    case: &str,
    kind: Kind,
    sample: Option<usize>,
    only: Option<&str>,
) -> (Tally, Vec<String>) {
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
    let in_use: Vec<(MetaBlock, BlockKind)> = (0..counts.len())
        .filter(|&b| counts[b] > 0)
        .map(|b| {
            let b = MetaBlock::new(b as u64);
            let kind = checksum::identify(&block_of(&base, b))
                .expect("every block in use has a valid checksum");
            (b, kind)
        })
        .collect();
    let mut all = scenarios(&base, &in_use, kind);
    if let Some(label) = only {
        all.retain(|s| s.label == label);
    }
    if let Some(n) = sample {
        let seed = case.bytes().fold(kind as u64, |h, c| {
            h.wrapping_mul(31).wrapping_add(u64::from(c))
        });
        fastrand::Rng::with_seed(seed).shuffle(&mut all);
        all.truncate(n);
    }
    let mut tally = Tally::default();
    let mut breaks = Vec::new();
    for scenario in all {
        let io = scenario.io(&base);
        tally.tried += 1;
        let label = format!("{case}: {}", scenario.label);
        let reference = if check(&io, &CheckOptions::default()).has_errors() {
            dense.clone()
        } else {
            tally.undetectable += 1;
            folded(&io)
        };
        let outcome = match repair(&io, &RepairOptions::default()) {
            Err(e) if e.contains("--data-block-size") || e.contains("--nr-blocks") => {
                tally.refused += 1;
                let opts = RepairOptions {
                    data_block_size: Some(sb.data_block_size),
                    nr_blocks: Some(sb.nr_blocks),
                };
                repair(&io, &opts)
            }
            other => other,
        };
        match outcome {
            Err(e) => breaks.push(format!("{label}: {e}")),
            Ok(eras) => match promise(&reference, &eras, t.current_era) {
                Err(e) => breaks.push(format!("{label}: {e}")),
                Ok(()) => {
                    tally.held += 1;
                    tally.lossless += (eras == reference) as usize;
                }
            },
        }
    }
    (tally, breaks)
}

/// Runs `kind` over `cases` (each with its sample size, `None` for all), prints the
/// tallies and fails on any break.
fn run_kind(kind: Kind, cases: &[(String, Option<usize>)]) {
    let started = std::time::Instant::now();
    let mut total = Tally::default();
    let mut breaks = Vec::new();
    for (case, sample) in cases {
        let (t, b) = matrix(case, kind, *sample, None);
        total += t;
        breaks.extend(b);
    }
    println!(
        "{kind:?}: tried {}  promise held {}  lossless {}  refused {} (then repaired with the option)  undetectable {} (era_check clean)  broken {}  ({} cases, {:.1} s)",
        total.tried,
        total.held,
        total.lossless,
        total.refused,
        total.undetectable,
        breaks.len(),
        cases.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(total.tried > 0, "{kind:?}: nothing tried");
    assert!(breaks.is_empty(), "{kind:?}:\n{}", breaks.join("\n"));
}

/// The large images, and how many scenarios of each kind they sample even in the long
/// run (a repair of the 2^20-block `huge` takes about two seconds in a debug build).
const LARGE: [(&str, usize); 5] = [
    ("bigger", usize::MAX),
    ("wide", 12),
    ("resize_shrink_undigested", 10),
    ("resize_grow_undigested", 10),
    ("huge", 4),
];

/// Scenarios per kind and case in the default (sampled) run.
const SAMPLE: usize = 3;

/// Every kernel case with its sample size: all scenarios in the long run (but for the
/// large images), `SAMPLE` otherwise (one for the large images).
/// `ERA_REPAIR_CASE=name` runs only that kernel case (all its scenarios when long).
fn cases() -> Vec<(String, Option<usize>)> {
    let only = std::env::var("ERA_REPAIR_CASE").ok();
    kernel_cases()
        .into_iter()
        .filter(|case| only.as_ref().is_none_or(|o| o == case))
        .map(|case| {
            let large = LARGE.iter().find(|(c, _)| *c == case).map(|&(_, n)| n);
            let n = match (long(), large) {
                (true, Some(usize::MAX)) | (true, None) => None,
                (true, Some(n)) => Some(n),
                (false, Some(_)) => Some(1),
                (false, None) => Some(SAMPLE),
            };
            (case, n)
        })
        .collect()
}

#[test]
fn one_damaged_block() {
    run_kind(Kind::Block, &cases());
}

#[test]
fn a_superblock_field_changed_under_a_valid_checksum() {
    run_kind(Kind::SuperblockField, &cases());
}

#[test]
fn two_blocks_swapped() {
    run_kind(Kind::Swap, &cases());
}

#[test]
fn a_value_listed_twice() {
    run_kind(Kind::ListedTwice, &cases());
}

#[test]
fn the_superblock_lost_with_another_block() {
    run_kind(Kind::SuperblockLostAnd, &cases());
}

#[test]
fn a_btree_key_moved_up() {
    run_kind(Kind::KeyMoved, &cases());
}

/// A writeset bitset's partial last block swapped with a full block of the same bitset,
/// self block numbers fixed: the bitset's index now ends in a full block, and the bits
/// the true last block held (block 99998, resp. 261120, written in era 5) must still be
/// listed.
#[test]
fn a_bitset_s_last_block_swapped_with_a_full_one() {
    for (case, label) in [
        (
            "shrink_two_level",
            "array block block 119 swapped with array block block 123, block numbers fixed",
        ),
        (
            "stress_wide_paced",
            "array block block 1256 swapped with array block block 1260, block numbers fixed",
        ),
    ] {
        let (tally, breaks) = matrix(case, Kind::Swap, None, Some(label));
        assert_eq!(tally.tried, 1, "{case}: the scenario {label} exists");
        assert!(breaks.is_empty(), "{case}:\n{}", breaks.join("\n"));
    }
}
