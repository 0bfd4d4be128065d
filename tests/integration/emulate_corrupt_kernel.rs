//! Damaged metadata with archived, undigested writesets (kernel images): the blocks the
//! digest reads or changes (writeset tree, bitsets, era array) are mutated one field at
//! a time, checksum re-sealed, then the image is opened and used. Every run must end,
//! within a time bound, with results or errors: no panic, no hang.

use crate::common;

use common::damage::{config_for, digest_blocks, within, OverlayIo};
use common::kernel_image_shared;
use era_tools::emulate::runner::Runner;
use era_tools::emulate::script::parse_script;
use era_tools::pdata::codec::put_u64;
use std::sync::Arc;
use std::time::Duration;

const USE: &str = "write 0 8\nwrite 64 8\ncheckpoint\nstatus\ntake_metadata_snap\nwrite 8 8\ndrop_metadata_snap\ncheckpoint\nstatus\n";

/// For images of a million blocks, whose every digest takes 10,000 steps: no new era.
const USE_LARGE: &str = "write 0 8\nstatus\ndiscard 64 8\n";

/// Byte offsets mutated: headers, first keys and values of btree nodes and array blocks.
const OFFSETS: [usize; 10] = [4, 8, 12, 16, 20, 24, 32, 40, 2048, 2052];

const VALUES: [u64; 5] = [0, 1, 0xffff_ffff, u64::MAX, (1 << 32) + 5];

/// Which of the digest's blocks (writeset tree, bitsets, era array, in that order) are
/// mutated.
#[derive(Clone, Copy)]
enum Pick {
    /// At most this many, evenly spread.
    Spread(usize),
    /// The first ones.
    First(usize),
}

/// Mutates the `pick` of the digest's blocks of kernel image `case`, running `script`
/// on each mutation (bounded in time). Returns the number of runs.
fn mutate_and_run(case: &str, pick: Pick, script: &'static str) -> usize {
    let img = kernel_image_shared(case);
    let blocks = digest_blocks(&img);
    assert!(blocks.len() >= 3, "{case}: no archived writeset to digest");
    let (step, take) = match pick {
        Pick::Spread(n) => (blocks.len().div_ceil(n), n),
        Pick::First(n) => (1, n),
    };
    let mut runs = 0;
    for &b in blocks.iter().step_by(step).take(take) {
        for off in OFFSETS {
            for v in VALUES {
                let io = Arc::new(OverlayIo::new(img.clone()));
                io.patch(b, |buf| put_u64(buf, off, v));
                let img = img.clone();
                let what = format!("{case}: block {b} offset {off} = {v:#x}");
                within(Duration::from_secs(30), &what, move || {
                    let mut r = Runner::new(config_for(io, &img));
                    let lines = parse_script(script).unwrap();
                    r.run(&lines, &mut Vec::new(), &mut Vec::new())
                });
                runs += 1;
            }
        }
    }
    runs
}

#[test]
fn damage_on_the_digest_path_never_panics_or_hangs() {
    let mut runs = 0;
    for case in ["checkpoints", "metadata_snap"] {
        runs += mutate_and_run(case, Pick::Spread(12), USE);
    }
    // Two archived writesets of a million bits: the writeset tree's leaf, the first
    // bitset's index and its first array block.
    runs += mutate_and_run("resize_shrink_undigested", Pick::First(3), USE_LARGE);
    assert!(runs >= 1000, "only {runs} runs");
}
