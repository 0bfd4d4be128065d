//! The NBD handshake and request parser (`era_emulate serve`'s first contact with a
//! client) over arbitrary client bytes: well-formed option replies, never a panic
//! (`era_fuzz::nbd::exchange`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    era_fuzz::nbd::exchange(data);
});
