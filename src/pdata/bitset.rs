//! dm-bitset (format.md §6): a dm-array of u64 words; bit `i` is bit `i % 64` of word
//! `i / 64`.

use super::array::read_array;
use super::Result;
use crate::io::BlockIo;
use crate::units::MetaBlock;

/// Number of u64 words holding `nr_bits` bits.
pub fn nr_words(nr_bits: u64) -> u64 {
    nr_bits.div_ceil(64)
}

/// Reads the bitset at `root` as words. Bits at or beyond `nr_bits` are cleared, as
/// readers must ignore them.
pub fn read_bitset(io: &dyn BlockIo, root: MetaBlock, nr_bits: u64) -> Result<Vec<u64>> {
    let mut words = read_array::<u64>(io, root, nr_words(nr_bits))?;
    mask_tail(&mut words, nr_bits);
    Ok(words)
}

/// Clears the bits at or beyond `nr_bits` in the last word.
pub fn mask_tail(words: &mut [u64], nr_bits: u64) {
    let rem = nr_bits % 64;
    if rem != 0 {
        if let Some(last) = words.last_mut() {
            *last &= (1u64 << rem) - 1;
        }
    }
}

/// Whether bit `i` is set.
pub fn test_bit(words: &[u64], i: u64) -> bool {
    words
        .get((i / 64) as usize)
        .is_some_and(|w| (w >> (i % 64)) & 1 == 1)
}

/// Sets bit `i` (the caller sizes `words`).
pub fn set_bit(words: &mut [u64], i: u64) {
    words[(i / 64) as usize] |= 1u64 << (i % 64);
}

/// Calls `f(begin, end)` for every maximal run of set bits, end exclusive, clipped to
/// `nr_bits`.
pub fn for_each_run(words: &[u64], nr_bits: u64, mut f: impl FnMut(u64, u64)) {
    let mut emit = |s: u64, e: u64| {
        let e = e.min(nr_bits);
        if s < e {
            f(s, e)
        }
    };
    let mut run_start: Option<u64> = None;
    for (wi, &w) in words.iter().enumerate() {
        let base = wi as u64 * 64;
        if base >= nr_bits {
            break;
        }
        if w == 0 {
            if let Some(s) = run_start.take() {
                emit(s, base);
            }
            continue;
        }
        if w == u64::MAX && run_start.is_some() {
            continue;
        }
        let mut bit = 0u32;
        while bit < 64 {
            let rest = w >> bit;
            match run_start {
                Some(s) => {
                    let ones = rest.trailing_ones();
                    if ones >= 64 - bit {
                        break;
                    }
                    bit += ones;
                    emit(s, base + bit as u64);
                    run_start = None;
                }
                None => {
                    if rest == 0 {
                        break;
                    }
                    bit += rest.trailing_zeros();
                    run_start = Some(base + bit as u64);
                }
            }
        }
    }
    if let Some(s) = run_start {
        emit(s, words.len() as u64 * 64);
    }
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

/// Calls `f(begin, end)` for every maximal run of set bits (clipped to `nr_bits`) that
/// begins in the words `range`: a run under way where the range starts belongs to the
/// range before, and a range's last run may end beyond it. Splitting the words into
/// consecutive ranges lists every run of [`for_each_run`] exactly once, in order.
pub fn for_each_run_beginning_in(
    words: &[u64],
    nr_bits: u64,
    range: std::ops::Range<usize>,
    mut f: impl FnMut(u64, u64),
) {
    let end = range.end.min(words.len());
    let start = range.start.min(end);
    let base = start as u64 * 64;
    if base >= nr_bits {
        return;
    }
    let end_bit = end as u64 * 64;
    let carried = start > 0 && test_bit(words, base - 1) && test_bit(words, base);
    for_each_run(&words[start..end], nr_bits - base, |b, e| {
        if carried && b == 0 {
            return;
        }
        let (b, mut e) = (base + b, base + e);
        if e == end_bit && e < nr_bits {
            e = next_clear(words, e, nr_bits);
        }
        f(b, e)
    });
}

/// The first clear bit at or after `from`, or `nr_bits` if there is none before it.
fn next_clear(words: &[u64], from: u64, nr_bits: u64) -> u64 {
    let mut wi = (from / 64) as usize;
    let mut w = match words.get(wi) {
        Some(&x) => !x & (u64::MAX << (from % 64)),
        None => return nr_bits,
    };
    loop {
        if w != 0 {
            return (wi as u64 * 64 + u64::from(w.trailing_zeros())).min(nr_bits);
        }
        wi += 1;
        match words.get(wi) {
            Some(&x) if (wi as u64) * 64 < nr_bits => w = !x,
            _ => return nr_bits.min(wi as u64 * 64).max(from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(words: &[u64], nr_bits: u64) -> Vec<(u64, u64)> {
        let mut v = Vec::new();
        for_each_run(words, nr_bits, |a, b| v.push((a, b)));
        v
    }

    #[test]
    fn runs_within_and_across_words() {
        let mut w = vec![0u64; 3];
        for i in [0, 5, 6, 63, 64, 65, 127, 128, 130] {
            set_bit(&mut w, i);
        }
        assert_eq!(
            runs(&w, 192),
            vec![(0, 1), (5, 7), (63, 66), (127, 129), (130, 131)]
        );
    }

    #[test]
    fn full_words_and_tail() {
        let w = vec![u64::MAX, u64::MAX, 0b1];
        assert_eq!(runs(&w, 129), vec![(0, 129)]);
        let mut w = vec![u64::MAX, u64::MAX];
        mask_tail(&mut w, 100);
        assert_eq!(runs(&w, 100), vec![(0, 100)]);
    }

    #[test]
    fn runs_match_a_naive_scan() {
        let mut seed = 0x1234_5678_9abc_def0u64;
        for _ in 0..50 {
            let nr = 5 * 64 - (seed % 70);
            let mut w = vec![0u64; nr.div_ceil(64) as usize];
            for x in w.iter_mut() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                *x = match seed % 4 {
                    0 => 0,
                    1 => u64::MAX,
                    _ => seed,
                };
            }
            mask_tail(&mut w, nr);
            let mut naive = Vec::new();
            let mut start = None;
            for i in 0..nr {
                match (test_bit(&w, i), start) {
                    (true, None) => start = Some(i),
                    (false, Some(s)) => {
                        naive.push((s, i));
                        start = None
                    }
                    _ => {}
                }
            }
            if let Some(s) = start {
                naive.push((s, nr));
            }
            assert_eq!(runs(&w, nr), naive);
        }
    }

    #[test]
    fn runs_split_by_word_ranges_are_every_run_once() {
        let mut seed = 0x0bad_5eed_u64;
        for _ in 0..300 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let nr_words = (seed % 9) as usize;
            let nr = (nr_words as u64 * 64).saturating_sub(seed % 70);
            let mut w: Vec<u64> = (0..nr_words)
                .map(|i| match (seed >> (i * 3)) % 4 {
                    0 => 0,
                    1 => u64::MAX,
                    _ => seed.rotate_left(i as u32 * 7),
                })
                .collect();
            if seed.is_multiple_of(5) {
                mask_tail(&mut w, nr);
            }
            let all = runs(&w, nr);
            let step = 1 + (seed % 3) as usize;
            let mut split = Vec::new();
            let mut s = 0;
            while s < nr_words {
                for_each_run_beginning_in(&w, nr, s..s + step, |a, b| split.push((a, b)));
                s += step;
            }
            assert_eq!(split, all, "{w:x?} {nr} {step}");
        }
    }

    #[test]
    fn words_from_any_bit() {
        let w = vec![0x8000_0000_0000_0001u64, 0xffff_0000_0000_0003];
        assert_eq!(bits_from(&w, 128, 0), w[0]);
        assert_eq!(bits_from(&w, 128, 63), 1 | w[1] << 1);
        assert_eq!(bits_from(&w, 66, 63), 0b111);
        assert_eq!(bits_from(&w, 128, 127), 1);
        assert_eq!(bits_from(&w, 200, 130), 0);
        for i in 0..140 {
            for k in 0..64 {
                let want = i + k < 100 && test_bit(&w, i + k);
                assert_eq!((bits_from(&w, 100, i) >> k) & 1 == 1, want, "{i} {k}");
            }
        }
    }
}
