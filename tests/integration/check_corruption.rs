//! Every metadata block the kernel's images use is damaged in turn, in four ways (a
//! flipped byte inside its used part, zeroed, a wrong self block number with a re-sealed
//! checksum, a bad checksum). The check must fail, and one of its findings must name the
//! damaged block. Finishing at all shows that no damage makes the check panic or hang.
//! Outside the long run (`ERA_LONG_TESTS=1`) a seeded sample of the blocks of each kind
//! is damaged.

use crate::common;

use common::block_damage::{block_of, damage, used_end, Damage, PatchedIo};
use common::long_run::sample;
use common::*;
use era_tools::era::check::{check, CheckOptions, CheckReport};
use era_tools::pdata::checksum::{self, BlockKind};
use era_tools::pdata::codec::{get_u64, put_u64};
use era_tools::pdata::space_map::read_ref_counts;
use era_tools::units::{MetaBlock, BLOCK_SIZE};

fn names_block(report: &CheckReport, b: MetaBlock) -> bool {
    let needle = format!("block {b}");
    report.findings.iter().any(|f| {
        f.block == Some(b)
            || f.message.match_indices(&needle).any(|(i, _)| {
                !f.message[i + needle.len()..].starts_with(|c: char| c.is_ascii_digit())
            })
    })
}

/// Blocks of each kind damaged outside the long run.
const SAMPLED_PER_KIND: usize = 6;

/// The blocks in use of `case` that `keep` selects, with their kinds, and how many there
/// are: all of them in the long run, else a seeded sample of each kind.
fn blocks_to_damage(
    case: &str,
    base: &[u8],
    keep: impl Fn(MetaBlock, BlockKind) -> bool,
) -> (Vec<(MetaBlock, BlockKind)>, usize) {
    let clean = era_tools::io::MemIo::from_bytes(base.to_vec());
    let sb = era_tools::era::metadata::read_superblock(&clean).unwrap();
    let counts = read_ref_counts(&clean, &sb.sm_root).unwrap();
    let mut by_kind: Vec<(BlockKind, Vec<MetaBlock>)> = Vec::new();
    let mut selected = 0;
    for (b, _) in counts.iter().enumerate().filter(|(_, &c)| c > 0) {
        let b = MetaBlock::new(b as u64);
        let kind = checksum::identify(&block_of(base, b)).unwrap();
        if !keep(b, kind) {
            continue;
        }
        selected += 1;
        match by_kind.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, v)) => v.push(b),
            None => by_kind.push((kind, vec![b])),
        }
    }
    let seed = case
        .bytes()
        .fold(0u64, |h, c| h.wrapping_mul(31).wrapping_add(c.into()));
    let chosen = by_kind
        .into_iter()
        .flat_map(|(kind, blocks)| {
            sample(blocks, SAMPLED_PER_KIND, seed)
                .into_iter()
                .map(move |b| (b, kind))
        })
        .collect();
    (chosen, selected)
}

/// Damages each selected block of `case` in every way (a sample of each kind outside the
/// long run); returns how many blocks were selected.
fn damage_every_block(case: &str, keep: impl Fn(MetaBlock, BlockKind) -> bool) -> usize {
    let base = kernel_image_shared(case);
    let mut failures = Vec::new();
    let (chosen, selected) = blocks_to_damage(case, &base, keep);
    for (b, kind) in chosen {
        let orig = block_of(&base, b);
        for how in Damage::ALL {
            let io = PatchedIo::one(&base, b, damage(&orig, b, &how));
            let report = check(&io, &CheckOptions::default());
            let label = how.label();
            if !report.has_errors() {
                failures.push(format!("{case}: {kind} block {b} {label}: no error"));
            } else if !names_block(&report, b) {
                let all: Vec<String> = report.findings.iter().map(|f| f.to_string()).collect();
                failures.push(format!(
                    "{case}: {kind} block {b} {label}: no finding names it:\n  {}",
                    all.join("\n  ")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    selected
}

#[test]
fn every_block_of_metadata_snap() {
    assert!(damage_every_block("metadata_snap", |_, _| true) >= 33);
}

#[test]
fn every_block_of_crash() {
    assert!(damage_every_block("crash", |_, _| true) >= 25);
}

#[test]
fn every_block_of_bigger() {
    assert!(damage_every_block("bigger", |_, _| true) >= 25);
}

#[test]
fn every_block_of_drop_snap_and_reopen() {
    assert!(damage_every_block("drop_snap", |_, _| true) >= 20);
    assert!(damage_every_block("reopen", |_, _| true) >= 20);
}

/// 1142 blocks, most of them era-array blocks: every block that is not an array block,
/// and every 32nd array block (the check of this image takes ~30 ms in a debug build).
#[test]
fn sampled_blocks_of_resize_shrink_undigested() {
    let blocks = damage_every_block("resize_shrink_undigested", |b, kind| {
        kind != BlockKind::ArrayBlock || b.get() % 32 == 0
    });
    assert!(blocks >= 40, "{blocks}");
}

/// Random field values written into blocks in use, re-sealed so that the checksum and
/// self block number stay valid and the damage reaches the deeper checks: pointers to
/// anywhere (cycles, shared children, other block types), absurd sizes and counts.
#[test]
fn resealed_random_fields_never_panic() {
    // FUZZ_ITERATIONS=N runs a longer campaign (the default keeps the test short).
    let iterations: usize = std::env::var("FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600);
    for case in ["metadata_snap", "crash", "resize_shrink"] {
        let base = kernel_image_shared(case);
        let clean = era_tools::io::MemIo::from_bytes(base.to_vec());
        let sb = era_tools::era::metadata::read_superblock(&clean).unwrap();
        let counts = read_ref_counts(&clean, &sb.sm_root).unwrap();
        let used: Vec<MetaBlock> = (0..counts.len())
            .filter(|&b| counts[b] > 0)
            .map(|b| MetaBlock::new(b as u64))
            .collect();
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut with_errors = 0;
        for _ in 0..iterations {
            let b = used[(next() % used.len() as u64) as usize];
            let orig = block_of(&base, b);
            let kind = checksum::identify(&orig).unwrap();
            let mut d = orig.clone();
            for _ in 0..1 + next() % 3 {
                let end = used_end(&orig, kind).max(32);
                let off = 4 + (next() as usize % (end - 4)) / 4 * 4;
                let off = off.min(BLOCK_SIZE - 8);
                let v = match next() % 6 {
                    0 => 0,
                    1 => 1,
                    2 => used[(next() % used.len() as u64) as usize].get(),
                    3 => u32::MAX as u64,
                    4 => next(),
                    _ => get_u64(&d[..], off).wrapping_add(1),
                };
                if next() % 2 == 0 {
                    d[off..off + 4].copy_from_slice(&(v as u32).to_le_bytes());
                } else {
                    put_u64(&mut d[..], off, v);
                }
            }
            if next() % 8 != 0 {
                checksum::seal(&mut d, kind);
            }
            let io = PatchedIo::one(&base, b, d);
            let report = check(&io, &CheckOptions::default());
            with_errors += report.has_errors() as usize;
        }
        // Much of the damage lands where the format allows anything (era values, bitset
        // words, unused slots, the snapshot copy's stale fields); the rest must be noticed.
        assert!(
            with_errors > 200,
            "{case}: only {with_errors} of 600 noticed"
        );
    }
}
