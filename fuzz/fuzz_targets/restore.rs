//! Restore (`write_metadata` onto a `MemIo`) of metadata decoded from the fuzz bytes
//! (format in `era_fuzz::restore`): invalid metadata must be refused with an error, valid
//! metadata must restore onto exactly `blocks_needed` blocks, pass the checker and read
//! back unchanged.
#![no_main]

use era_fuzz::restore::{decode_metadata, restore_round_trip};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    restore_round_trip(&decode_metadata(data));
});
