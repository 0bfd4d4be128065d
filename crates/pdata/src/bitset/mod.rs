//! dm-bitset (format.md §6): a dm-array of u64 words, bit `i` being bit `i % 64` of word
//! `i / 64`; in memory the same words, as a slice ([`words`]) or owned ([`Bits`]).
//!
//! Our own type rather than `fixedbitset` or `bitvec`: the disk, the IR and the XML
//! writer all hand over u64 words in this layout, and dump and invalidate need runs
//! beginning in a word range and 64-bit windows over them, which neither crate gives
//! without a copy or a per-bit walk.
//!
//! - [`words`]: the bit arithmetic on a word slice that every user shares.
//! - [`Bits`]: an owned bitset of a fixed number of bits.
//! - [`read_bitset`]: reading one whole; [`cow`]: updating one in a transaction;
//!   `builder`: writing one.

mod bits;
pub mod builder;
pub mod cow;
mod reader;
#[cfg(test)]
mod tests;
pub mod words;

pub use bits::Bits;
pub use reader::read_bitset;
pub use words::{
    bits_from, clear_bit, first_set, for_each_run, for_each_run_beginning_in, for_each_set_bit,
    mask_tail, next_clear, nr_words, or_words, runs, runs_beginning_in, set_bit, set_range,
    tail_mask, test_bit, Runs,
};
