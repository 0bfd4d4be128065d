//! [`Bits`]: an owned bitset of a fixed number of bits, its words in the on-disk layout.

use super::words::{self, Runs};
use std::ops::Range;

/// A bitset of `nr_bits` bits held as `ceil(nr_bits / 64)` u64 words (bit `i` is bit
/// `i % 64` of word `i / 64`, as on disk); bits at or beyond `nr_bits` are kept clear.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bits {
    words: Vec<u64>,
    nr_bits: u64,
}

impl Bits {
    /// `nr_bits` clear bits (a zeroed allocation: untouched pages cost nothing).
    pub fn new(nr_bits: u64) -> Bits {
        Bits {
            words: vec![0; words::nr_words(nr_bits) as usize],
            nr_bits,
        }
    }

    /// The bitset of `nr_bits` bits whose words are `words`, cut or padded with clear
    /// words to the number `nr_bits` needs, the bits beyond `nr_bits` cleared.
    pub fn from_words(mut words: Vec<u64>, nr_bits: u64) -> Bits {
        words.resize(words::nr_words(nr_bits) as usize, 0);
        words::mask_tail(&mut words, nr_bits);
        Bits { words, nr_bits }
    }

    /// The number of bits.
    pub fn nr_bits(&self) -> u64 {
        self.nr_bits
    }

    /// The words.
    pub fn words(&self) -> &[u64] {
        &self.words
    }

    /// The words, to change a range of them at once; the bits beyond `nr_bits` are
    /// cleared again when the borrow ends.
    pub fn with_words_mut<R>(&mut self, f: impl FnOnce(&mut [u64]) -> R) -> R {
        let r = f(&mut self.words);
        words::mask_tail(&mut self.words, self.nr_bits);
        r
    }

    /// The words, giving up the set.
    pub fn into_words(self) -> Vec<u64> {
        self.words
    }

    /// Whether bit `i` is set (false at or beyond `nr_bits`).
    pub fn contains(&self, i: u64) -> bool {
        words::test_bit(&self.words, i)
    }

    /// Sets bit `i`; true if it was clear. A bit at or beyond `nr_bits` is not set.
    pub fn insert(&mut self, i: u64) -> bool {
        if i >= self.nr_bits || self.contains(i) {
            return false;
        }
        words::set_bit(&mut self.words, i);
        true
    }

    /// Sets bits `[begin, end)` (those below `nr_bits`).
    pub fn insert_range(&mut self, bits: Range<u64>) {
        words::set_range(&mut self.words, bits.start, bits.end.min(self.nr_bits));
    }

    /// The first set bit in `bits`, if any.
    pub fn first_set(&self, bits: Range<u64>) -> Option<u64> {
        words::first_set(&self.words, bits.start, bits.end.min(self.nr_bits))
    }

    /// The first clear bit at or after `from`, or `nr_bits` if there is none.
    pub fn next_clear(&self, from: u64) -> u64 {
        words::next_clear(&self.words, from, self.nr_bits)
    }

    /// Sets every bit set in `other`, a bitset in the same layout of any length (its
    /// bits at or beyond `nr_bits` are ignored).
    pub fn union_words(&mut self, other: &[u64]) {
        self.with_words_mut(|w| words::or_words(w, other))
    }

    /// The maximal runs `(begin, end)` of set bits, in order.
    pub fn runs(&self) -> Runs<'_> {
        words::runs(&self.words, self.nr_bits)
    }

    /// The maximal runs whose first bit lies in `bits` (the last may end beyond it);
    /// see [`words::runs_beginning_in`].
    pub fn runs_beginning_in(&self, bits: Range<u64>) -> Runs<'_> {
        words::runs_beginning_in(&self.words, self.nr_bits, bits)
    }
}
