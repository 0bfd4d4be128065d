//! The outside testers' repair reproductions (`testdata/repro/`, README there): each
//! damaged kernel image is repaired and must keep the promise against its undamaged
//! original: for every N, `--written-since N` lists every block the original lists, the
//! repaired metadata has at least the original's origin blocks, and a repair that says
//! nothing was lost is one `era_check` finds nothing wrong with.

use crate::common::gunzip;
use crate::repair::{folded, promise};
use era_tools::era::check::{check, CheckOptions};
use era_tools::era::metadata::read_superblock;
use era_tools::era::repair::{salvage, Lost, RepairOptions};
use era_tools::io::{BlockIo, MemIo};
use std::path::{Path, PathBuf};

fn repro(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/repro")
        .join(path)
}

fn image(path: &str) -> MemIo {
    MemIo::from_bytes(gunzip(&repro(path)))
}

/// Repairs `damaged` and checks the promise against `orig`; returns the repaired
/// metadata's folded eras.
fn keeps_promise(damaged: &str, orig: &str, data_block_size: Option<u32>) -> Vec<u32> {
    let orig_io = image(&format!("repair/{orig}.orig.img.gz"));
    let truth = folded(&orig_io);
    let current = read_superblock(&orig_io).unwrap().current_era.get();
    let io = image(&format!("repair/{damaged}.img.gz"));
    let r = salvage(
        &io,
        &RepairOptions {
            data_block_size,
            nr_blocks: None,
        },
    )
    .unwrap_or_else(|e| panic!("{damaged}: refused: {e}"));
    let out = MemIo::new(io.nr_blocks());
    r.write(&io, &out).unwrap();
    let eras = folded(&out);
    if let Err(e) = promise(&truth, &eras, current) {
        panic!(
            "{damaged}: the promise is broken: {e}\nlosses: {:#?}\nnotes: {:#?}",
            r.losses, r.notes
        );
    }
    if r.losses.is_empty() && !r.rebuilt_superblock {
        let report = check(&io, &CheckOptions::default());
        assert!(
            !report.has_errors(),
            "{damaged}: the repair says nothing was lost, but era_check finds errors"
        );
    }
    eras
}

#[test]
fn r1_superblock_and_an_era_array_block_lost() {
    for damaged in [
        "discard_sb_and_one_era_array_block",
        "discard_zero_multi_9747",
    ] {
        keeps_promise(damaged, "discard", Some(8));
    }
}

#[test]
fn r2_a_contradicted_nr_blocks_is_not_trusted() {
    let eras = keeps_promise("rand_11_7_sb_field_9507", "rand_11_7", None);
    assert!(
        eras.len() >= 8189,
        "nr_blocks is at least the era array's length"
    );
    let eras = keeps_promise("rand_23_22_sb_field_17474", "rand_23_22", None);
    assert!(
        eras.len() >= 5459,
        "nr_blocks is at least the era array's length"
    );
}

#[test]
fn r3_a_lowered_current_era_does_not_lower_recorded_eras() {
    keeps_promise("large_block_sb_field_9884", "large_block", None);
    keeps_promise("long_history_sb_field_2137", "long_history", None);
}

#[test]
fn r4_a_partly_lost_writeset_is_covered_not_dropped() {
    keeps_promise("rand_23_20_zero_multi_17746", "rand_23_20", Some(8));
    keeps_promise("crash_mid_digest_swap_fix_2538", "crash_mid_digest", None);
}

#[test]
fn r5_live_writeset_bits_beyond_a_lowered_nr_bits_are_kept() {
    keeps_promise("rand_23_17_sb_field_9559", "rand_23_17", None);
}

#[test]
fn r6_an_array_block_listed_twice_is_damage_in_both_places() {
    keeps_promise("long_history_dup_ref_9973", "long_history", None);
}

#[test]
fn r2_the_report_names_the_origin_size_written() {
    // A lying nr_blocks (1024) beside an era array whose index tells its length (5459)
    // exactly, and an older, longer era array (5462 values) left on the device: the
    // live array's length is the origin's, and the report says the size written.
    let io = image("repair/rand_23_22_sb_field_17474.img.gz");
    let r = salvage(&io, &RepairOptions::default()).unwrap();
    let used = r
        .losses
        .iter()
        .find_map(|l| match l.lost {
            Lost::NrBlocks { used, .. } => Some(used),
            _ => None,
        })
        .expect("the lying nr_blocks is reported");
    let out = MemIo::new(io.nr_blocks());
    let summary = r.write(&io, &out).unwrap();
    assert_eq!(summary.superblock.nr_blocks, used, "{:#?}", r.notes);
    assert_eq!(used, 5459);
}
