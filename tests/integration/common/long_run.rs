//! The long run: the exhaustive sweeps (every power cut, every block damaged in every way)
//! run in full only when `ERA_LONG_TESTS=1` (`.ci/run` sets it). By default each runs a
//! seeded sample, the same on every run, so that a plain `cargo test` stays quick and
//! still exercises every sweep.

/// Whether this is the long run (`ERA_LONG_TESTS=1`).
pub fn long_run() -> bool {
    std::env::var_os("ERA_LONG_TESTS").is_some_and(|v| v == "1")
}

/// All of `items` in the long run; otherwise `n` of them (all if there are no more),
/// chosen by a shuffle seeded with `seed`, in their original order.
pub fn sample<T>(items: Vec<T>, n: usize, seed: u64) -> Vec<T> {
    if long_run() || items.len() <= n {
        return items;
    }
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut keep = vec![false; items.len()];
    for i in rand_subset(&mut rng, items.len(), n) {
        keep[i] = true;
    }
    items
        .into_iter()
        .zip(keep)
        .filter_map(|(x, k)| k.then_some(x))
        .collect()
}

/// `n` distinct indices below `len` (a partial Fisher-Yates shuffle).
fn rand_subset(rng: &mut fastrand::Rng, len: usize, n: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..len).collect();
    for i in 0..n {
        let j = rng.usize(i..len);
        idx.swap(i, j);
    }
    idx.truncate(n);
    idx
}

#[test]
fn a_sample_is_seeded_ordered_and_of_the_size_asked() {
    if long_run() {
        assert_eq!(sample((0..100).collect(), 10, 7).len(), 100);
        return;
    }
    let a = sample((0..100).collect::<Vec<u32>>(), 10, 7);
    assert_eq!(a.len(), 10);
    assert!(a.windows(2).all(|w| w[0] < w[1]), "{a:?}");
    assert_eq!(a, sample((0..100).collect(), 10, 7));
    assert_ne!(a, sample((0..100).collect(), 10, 8));
    assert_eq!(sample(vec![1, 2, 3], 10, 7), vec![1, 2, 3]);
}
