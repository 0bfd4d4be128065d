//! The bit arithmetic against a bool-per-bit model, and fixed cases.

use super::*;
use proptest::prelude::*;

fn run_list(words: &[u64], nr_bits: u64) -> Vec<(u64, u64)> {
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
        run_list(&w, 192),
        vec![(0, 1), (5, 7), (63, 66), (127, 129), (130, 131)]
    );
}

#[test]
fn full_words_and_tail() {
    let w = vec![u64::MAX, u64::MAX, 0b1];
    assert_eq!(run_list(&w, 129), vec![(0, 129)]);
    let mut w = vec![u64::MAX, u64::MAX];
    mask_tail(&mut w, 100);
    assert_eq!(run_list(&w, 100), vec![(0, 100)]);
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
        assert_eq!(run_list(&w, nr), naive);
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
        let all = run_list(&w, nr);
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

/// A bitset as one bool per bit: the model the word arithmetic must agree with.
fn model(words: &[u64], nr_bits: u64) -> Vec<bool> {
    (0..nr_bits)
        .map(|i| {
            words
                .get((i / 64) as usize)
                .is_some_and(|w| w >> (i % 64) & 1 == 1)
        })
        .collect()
}

fn model_runs(bits: &[bool]) -> Vec<(u64, u64)> {
    let mut v = Vec::new();
    let mut start = None;
    for (i, &b) in bits.iter().enumerate() {
        match (b, start) {
            (true, None) => start = Some(i as u64),
            (false, Some(s)) => {
                v.push((s, i as u64));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        v.push((s, bits.len() as u64));
    }
    v
}

/// Words with long runs of ones and of zeros as well as noise, and a bit count around
/// their end (bits beyond the words, and set bits beyond the count, both occur).
fn words_and_len() -> impl Strategy<Value = (Vec<u64>, u64)> {
    let word = prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>()];
    (prop::collection::vec(word, 0..8), 0u64..80).prop_map(|(w, cut)| {
        let nr = (w.len() as u64 * 64 + 16).saturating_sub(cut);
        (w, nr)
    })
}

proptest! {
    #[test]
    fn every_operation_agrees_with_a_bool_per_bit(
        (words, nr_bits) in words_and_len(),
        a in 0u64..600,
        b in 0u64..600,
    ) {
        let m = model(&words, nr_bits);
        let len = m.len() as u64;
        let (lo, hi) = (a.min(b), a.max(b));
        let at = |i: u64| i < len && m[i as usize];
        // Reading.
        prop_assert_eq!(nr_words(nr_bits), nr_bits.div_ceil(64));
        prop_assert_eq!(run_list(&words, nr_bits), model_runs(&m));
        prop_assert_eq!(runs(&words, nr_bits).collect::<Vec<_>>(), model_runs(&m));
        prop_assert_eq!(
            first_set(&words, lo, hi.min(nr_bits)),
            (lo..hi.min(len)).find(|&i| at(i))
        );
        prop_assert_eq!(
            next_clear(&words, lo, nr_bits),
            (lo..len).find(|&i| !at(i)).unwrap_or(len).max(lo.min(len))
        );
        let window = bits_from(&words, nr_bits, lo);
        for k in 0..64 {
            prop_assert_eq!(window >> k & 1 == 1, at(lo + k));
        }
        let mut set = Vec::new();
        for_each_set_bit(&words, 0, lo..hi.min(nr_bits), |x| set.push(x));
        prop_assert_eq!(set, (lo..hi.min(len)).filter(|&i| at(i)).collect::<Vec<_>>());
        // Runs split at any bit boundary are every run once.
        let mut split: Vec<(u64, u64)> = runs_beginning_in(&words, nr_bits, 0..lo).collect();
        split.extend(runs_beginning_in(&words, nr_bits, lo..hi));
        split.extend(runs_beginning_in(&words, nr_bits, hi..u64::MAX));
        prop_assert_eq!(split, model_runs(&m));
        // Writing, through the owned type.
        let mut bits = Bits::from_words(words.clone(), nr_bits);
        prop_assert_eq!(bits.words().len() as u64, nr_words(nr_bits));
        prop_assert_eq!(model(bits.words(), len), m.clone());
        let mut want = m.clone();
        bits.insert_range(lo..hi);
        for i in lo..hi.min(len) {
            want[i as usize] = true;
        }
        prop_assert_eq!(model(bits.words(), len), want.clone());
        prop_assert_eq!(bits.insert(a), a < len && !want[a as usize]);
        if a < len {
            want[a as usize] = true;
        }
        prop_assert!(!bits.insert(a));
        prop_assert_eq!(bits.contains(a), a < len);
        let mut cleared = bits.clone().into_words();
        clear_bit(&mut cleared, b);
        for i in 0..len {
            prop_assert_eq!(test_bit(&cleared, i), want[i as usize] && i != b);
        }
        bits.union_words(&words);
        for (i, &x) in m.iter().enumerate() {
            want[i] |= x;
        }
        prop_assert_eq!(model(bits.words(), len), want.clone());
        prop_assert_eq!(bits.runs().collect::<Vec<_>>(), model_runs(&want));
        prop_assert_eq!(bits.first_set(lo..hi), (lo..hi.min(len)).find(|&i| want[i as usize]));
        // Nothing beyond the bit count is kept.
        let mut tail = bits.clone().into_words();
        mask_tail(&mut tail, nr_bits);
        prop_assert_eq!(tail.as_slice(), bits.words());
    }

    #[test]
    fn set_range_sets_exactly_the_range(n in 0usize..6, a in 0u64..400, b in 0u64..400) {
        let (lo, hi) = (a.min(b), a.max(b));
        let mut words = vec![0u64; n];
        set_range(&mut words, lo, hi);
        let covered = n as u64 * 64;
        let m = model(&words, covered);
        for (i, &x) in m.iter().enumerate() {
            prop_assert_eq!(x, (lo..hi).contains(&(i as u64)));
        }
    }
}
