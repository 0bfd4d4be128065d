//! The XML reader (`era_restore`'s input) over arbitrary bytes, then restore: metadata
//! the reader accepts and `validate` passes is restored onto an in-memory device of
//! `blocks_needed` blocks, checked, and read back (`era_fuzz::restore::restore_round_trip`).
#![no_main]

use era_fuzz::restore::restore_round_trip;
use era_tools::xml::build_from_xml;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(md) = build_from_xml(data) else {
        return;
    };
    assert_eq!(md.era_array.len(), md.superblock.nr_blocks as usize);
    restore_round_trip(&md);
});
