//! Bit arithmetic on a slice of u64 words in the on-disk layout (format.md §6): bit `i`
//! is bit `i % 64` of word `i / 64`. Bits beyond the words read as clear; where a bit
//! count `nr_bits` is given, bits at or beyond it are ignored.

use std::ops::Range;

/// Number of u64 words holding `nr_bits` bits.
pub fn nr_words(nr_bits: u64) -> u64 {
    nr_bits.div_ceil(64)
}

/// The bits of the last word of a bitset of `nr_bits` bits that are within it (every
/// bit when `nr_bits` is a multiple of 64).
pub fn tail_mask(nr_bits: u64) -> u64 {
    match nr_bits % 64 {
        0 => u64::MAX,
        rem => (1u64 << rem) - 1,
    }
}

/// Clears the bits at or beyond `nr_bits` in the last word.
pub fn mask_tail(words: &mut [u64], nr_bits: u64) {
    if let Some(last) = words.last_mut() {
        *last &= tail_mask(nr_bits);
    }
}

/// Whether bit `i` is set.
pub fn test_bit(words: &[u64], i: u64) -> bool {
    usize::try_from(i / 64)
        .ok()
        .and_then(|w| words.get(w))
        .is_some_and(|w| (w >> (i % 64)) & 1 == 1)
}

/// Sets bit `i` (the caller sizes `words`: a bit beyond them panics).
pub fn set_bit(words: &mut [u64], i: u64) {
    words[(i / 64) as usize] |= 1u64 << (i % 64);
}

/// Clears bit `i` (a bit beyond the words is clear already).
pub fn clear_bit(words: &mut [u64], i: u64) {
    if let Some(w) = usize::try_from(i / 64).ok().and_then(|w| words.get_mut(w)) {
        *w &= !(1u64 << (i % 64));
    }
}

/// The mask of bits `lo..hi` of one word (`lo < hi <= 64`).
fn span_mask(lo: u64, hi: u64) -> u64 {
    (u64::MAX >> (64 - (hi - lo))) << lo
}

/// Sets bits `[begin, end)`; those beyond the words are dropped.
pub fn set_range(words: &mut [u64], begin: u64, end: u64) {
    let mut b = begin;
    while b < end {
        let lo = b % 64;
        let base = b - lo;
        let hi = (end - base).min(64);
        match usize::try_from(b / 64).ok().and_then(|w| words.get_mut(w)) {
            Some(word) => *word |= span_mask(lo, hi),
            None => return,
        }
        b = base + hi;
    }
}

/// The first set bit in `[begin, end)`, if any.
pub fn first_set(words: &[u64], begin: u64, end: u64) -> Option<u64> {
    if begin >= end {
        return None;
    }
    let mut wi = usize::try_from(begin / 64).ok()?;
    let mut w = *words.get(wi)? & (u64::MAX << (begin % 64));
    loop {
        if w != 0 {
            let b = wi as u64 * 64 + u64::from(w.trailing_zeros());
            return (b < end).then_some(b);
        }
        wi += 1;
        if wi as u64 * 64 >= end {
            return None;
        }
        w = *words.get(wi)?;
    }
}

/// The first clear bit at or after `from`, or `nr_bits` if there is none before it.
pub fn next_clear(words: &[u64], from: u64, nr_bits: u64) -> u64 {
    if from >= nr_bits {
        return nr_bits;
    }
    let past_words = || (words.len() as u64 * 64).clamp(from, nr_bits);
    let Some(mut wi) = usize::try_from(from / 64).ok().filter(|&w| w < words.len()) else {
        return past_words();
    };
    let mut w = !words[wi] & (u64::MAX << (from % 64));
    loop {
        if w != 0 {
            return (wi as u64 * 64 + u64::from(w.trailing_zeros())).min(nr_bits);
        }
        wi += 1;
        match words.get(wi) {
            Some(&x) if (wi as u64) * 64 < nr_bits => w = !x,
            Some(_) => return nr_bits,
            None => return past_words(),
        }
    }
}

/// ORs `from` into `into`, word by word (the shorter of the two decides).
pub fn or_words(into: &mut [u64], from: &[u64]) {
    into.iter_mut().zip(from).for_each(|(a, &b)| *a |= b);
}

/// Bits `i..i + 64` as one word (bit `k` is bit `i + k`), those at or beyond `nr_bits`
/// or beyond the words clear.
pub fn bits_from(words: &[u64], nr_bits: u64, i: u64) -> u64 {
    if i >= nr_bits {
        return 0;
    }
    let wi = (i / 64) as usize;
    let sh = i % 64;
    let lo = words.get(wi).map_or(0, |&w| w >> sh);
    let hi = match sh {
        0 => 0,
        _ => words.get(wi + 1).map_or(0, |&w| w << (64 - sh)),
    };
    let left = nr_bits - i;
    if left < 64 {
        (lo | hi) & ((1u64 << left) - 1)
    } else {
        lo | hi
    }
}

/// The maximal runs `(begin, end)` of set bits, end exclusive, below `nr_bits`.
pub fn runs(words: &[u64], nr_bits: u64) -> Runs<'_> {
    runs_beginning_in(words, nr_bits, 0..nr_bits)
}

/// The maximal runs of set bits (below `nr_bits`) whose first bit lies in `bits`: a run
/// under way where `bits` starts belongs to the range before, and the last run may end
/// beyond `bits`. Splitting `0..nr_bits` into consecutive ranges lists every run of
/// [`runs`] exactly once, in order.
pub fn runs_beginning_in(words: &[u64], nr_bits: u64, bits: Range<u64>) -> Runs<'_> {
    let from = bits.start;
    let pos = if from > 0 && from < nr_bits && test_bit(words, from - 1) && test_bit(words, from) {
        next_clear(words, from, nr_bits)
    } else {
        from
    };
    Runs {
        words,
        nr_bits,
        pos,
        until: bits.end.min(nr_bits),
    }
}

/// Calls `f(begin, end)` for every maximal run of set bits, end exclusive, below
/// `nr_bits`.
pub fn for_each_run(words: &[u64], nr_bits: u64, mut f: impl FnMut(u64, u64)) {
    runs(words, nr_bits).for_each(|(b, e)| f(b, e))
}

/// [`runs_beginning_in`] by whole words: calls `f(begin, end)` for every maximal run
/// (below `nr_bits`) that begins in the words `range`.
pub fn for_each_run_beginning_in(
    words: &[u64],
    nr_bits: u64,
    range: Range<usize>,
    mut f: impl FnMut(u64, u64),
) {
    let bits = range.start as u64 * 64..range.end as u64 * 64;
    runs_beginning_in(words, nr_bits, bits).for_each(|(b, e)| f(b, e))
}

/// Iterator over maximal runs of set bits; see [`runs_beginning_in`].
#[derive(Debug, Clone)]
pub struct Runs<'a> {
    words: &'a [u64],
    nr_bits: u64,
    pos: u64,
    until: u64,
}

impl Iterator for Runs<'_> {
    type Item = (u64, u64);

    fn next(&mut self) -> Option<(u64, u64)> {
        let begin = first_set(self.words, self.pos, self.until)?;
        let end = next_clear(self.words, begin, self.nr_bits);
        self.pos = end;
        Some((begin, end))
    }
}

/// Calls `f(b)` for every set bit `b` in `bits`, in ascending order, of a bitset of
/// which `words` holds only a part: `words[k]` is word `first_word + k`, and the words
/// outside it read as clear.
pub fn for_each_set_bit(words: &[u64], first_word: u64, bits: Range<u64>, mut f: impl FnMut(u64)) {
    let (lo, stop) = (bits.start, bits.end);
    if lo >= stop {
        return;
    }
    for wi in (lo / 64).max(first_word)..stop.div_ceil(64) {
        let Some(&w) = usize::try_from(wi - first_word)
            .ok()
            .and_then(|k| words.get(k))
        else {
            break;
        };
        let base = wi * 64;
        let mut w = w;
        while w != 0 {
            let b = base + u64::from(w.trailing_zeros());
            w &= w - 1;
            if b >= lo && b < stop {
                f(b);
            }
        }
    }
}
