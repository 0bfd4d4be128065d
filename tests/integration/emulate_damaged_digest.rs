//! The digest on damaged writeset trees (kernel images, checksums re-sealed): a key the
//! digest cannot use or cannot remove stops the digest with a logged error naming the
//! block, as the kernel's failed removal does. It never spins.

use crate::common;

use common::damage::{config_for, key_offset, leaf_keys, within, writeset_leaves, OverlayIo};
use common::kernel_image_shared;
use era_tools::emulate::runner::Runner;
use era_tools::emulate::script::parse_script;
use era_tools::pdata::codec::put_u64;
use std::sync::Arc;
use std::time::Duration;

const USE: &str = "write 0 8\ncheckpoint\nwrite 8 8\nstatus\ncheckpoint\nstatus\n";

/// Sets key `i` of the writeset leaf `leaf` of kernel image `case` to `key`, runs
/// [`USE`] (bounded in time) and returns what the run reported on its error stream.
fn run_with_key(case: &str, i: usize, key: u64) -> (u64, String) {
    let img = kernel_image_shared(case);
    let leaf = writeset_leaves(&img)[0];
    assert!(leaf_keys(&img, leaf).len() > i, "{case}: too few writesets");
    let io = Arc::new(OverlayIo::new(img.clone()));
    io.patch(leaf, |b| put_u64(b, key_offset(i), key));
    let err = within(Duration::from_secs(60), case, move || {
        let mut err = Vec::new();
        Runner::new(config_for(io, &img)).run(
            &parse_script(USE).unwrap(),
            &mut Vec::new(),
            &mut err,
        );
        String::from_utf8(err).unwrap()
    });
    (leaf.get(), err)
}

#[test]
fn a_writeset_key_beyond_32_bits_stops_the_digest() {
    let key = (1u64 << 32) + 5;
    let (leaf, err) = run_with_key("checkpoints", 0, key);
    assert!(
        err.contains(&format!("block {leaf}")) && err.contains(&key.to_string()),
        "the error names neither the leaf {leaf} nor the key: {err}"
    );
}

#[test]
fn a_writeset_the_removal_cannot_find_stops_the_digest() {
    // Out of order: the lowest-key walk finds era 1000 first, the keyed lookup of the
    // removal does not find it.
    let (_, err) = run_with_key("huge", 0, 1000);
    assert!(
        err.contains("stopping digestion") && err.contains("1000"),
        "no digest failure for era 1000: {err}"
    );
}
