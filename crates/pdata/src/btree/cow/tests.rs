use super::*;
use crate::io::MemIo;
use crate::test_support::{assert_space_map_exact, Leaves};
use std::collections::BTreeMap;
use std::sync::Arc;

fn commit(tm: &mut TransactionManager) -> crate::space_map::SmRoot {
    let root = tm.prepare_commit().unwrap();
    tm.commit(&[0u8; BLOCK_SIZE]).unwrap();
    root
}

fn setup(blocks: u64) -> (Arc<MemIo>, TransactionManager) {
    let io = Arc::new(MemIo::new(blocks));
    let tm = TransactionManager::format(io.clone(), true).unwrap();
    (io, tm)
}

/// A deterministic permutation of 0..n.
fn shuffled(n: u64) -> Vec<u64> {
    let mut v: Vec<u64> = (0..n).collect();
    let mut s = 12345u64;
    for i in (1..v.len()).rev() {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        v.swap(i, (s >> 33) as usize % (i + 1));
    }
    v
}

#[test]
fn insert_lookup_remove_many_keys_with_commits() {
    let (io, mut tm) = setup(4096);
    let mut root = empty::<u64>(&mut tm).unwrap();
    let mut model = BTreeMap::new();
    for (n, k) in shuffled(3000).into_iter().enumerate() {
        root = insert::<u64>(&mut tm, root, k * 3, &(k + 7)).unwrap();
        model.insert(k * 3, k + 7);
        if n % 500 == 0 {
            commit(&mut tm);
        }
    }
    let sm = commit(&mut tm);
    assert_space_map_exact(io.as_ref(), &sm, &[(root, Leaves::Plain)], &[]);
    let all = collect::<u64>(&mut tm, root).unwrap();
    assert_eq!(all.len(), 3000);
    for (k, v) in &all {
        assert_eq!(model[k], *v);
    }
    assert_eq!(lookup::<u64>(&mut tm, root, 4).unwrap(), None);
    assert_eq!(lookup::<u64>(&mut tm, root, 30).unwrap(), Some(17));
    for (n, k) in shuffled(3000).into_iter().enumerate() {
        if k % 4 != 0 {
            root = remove::<u64>(&mut tm, root, k * 3).unwrap().unwrap();
            model.remove(&(k * 3));
        }
        if n % 700 == 0 {
            commit(&mut tm);
        }
    }
    assert_eq!(remove::<u64>(&mut tm, root, 1).unwrap(), None);
    let sm = commit(&mut tm);
    assert_space_map_exact(io.as_ref(), &sm, &[(root, Leaves::Plain)], &[]);
    let all: Vec<(u64, u64)> = collect::<u64>(&mut tm, root).unwrap();
    let want: Vec<(u64, u64)> = model.into_iter().collect();
    assert_eq!(all, want);
    assert_eq!(first::<u64>(&mut tm, root).unwrap().unwrap().1 .0, 0);
    // Remove everything: the tree collapses to one empty leaf.
    for (k, _) in want {
        root = remove::<u64>(&mut tm, root, k).unwrap().unwrap();
    }
    assert_eq!(first::<u64>(&mut tm, root).unwrap(), None);
    let sm = commit(&mut tm);
    assert_space_map_exact(io.as_ref(), &sm, &[(root, Leaves::Plain)], &[]);
    assert_eq!(sm.nr_allocated, 1 + 3 + 1);
}

#[test]
fn shared_tree_is_copied_and_released() {
    let (io, mut tm) = setup(4096);
    let mut root = empty::<u64>(&mut tm).unwrap();
    for k in 0..600u64 {
        root = insert::<u64>(&mut tm, root, k, &k).unwrap();
    }
    commit(&mut tm);
    // A second holder of the tree, as a metadata snapshot would be.
    let snap = root;
    tm.inc(snap).unwrap();
    for k in 0..600u64 {
        if k % 3 == 0 {
            root = insert::<u64>(&mut tm, root, k, &(k + 1000)).unwrap();
        }
    }
    root = remove::<u64>(&mut tm, root, 599).unwrap().unwrap();
    let sm = commit(&mut tm);
    assert_ne!(root, snap);
    assert_space_map_exact(
        io.as_ref(),
        &sm,
        &[(root, Leaves::Plain), (snap, Leaves::Plain)],
        &[],
    );
    let old = collect::<u64>(&mut tm, snap).unwrap();
    assert_eq!(old.len(), 600);
    assert!(old.iter().all(|(k, v)| *v == *k));
    let new = collect::<u64>(&mut tm, root).unwrap();
    assert_eq!(new.len(), 599);
    assert_eq!(new[3].1, 1003);
    release::<u64>(&mut tm, snap).unwrap();
    let sm = commit(&mut tm);
    assert_space_map_exact(io.as_ref(), &sm, &[(root, Leaves::Plain)], &[]);
}

#[test]
fn counts_of_three_go_to_the_ref_count_tree() {
    let (io, mut tm) = setup(1024);
    let root = empty::<u64>(&mut tm).unwrap();
    commit(&mut tm);
    tm.inc(root).unwrap();
    tm.inc(root).unwrap();
    let sm = commit(&mut tm);
    let counts = crate::space_map::read_ref_counts(io.as_ref(), &sm).unwrap();
    assert_eq!(counts[root.index().unwrap()], 3);
    tm.dec(root).unwrap();
    let sm = commit(&mut tm);
    let counts = crate::space_map::read_ref_counts(io.as_ref(), &sm).unwrap();
    assert_eq!(counts[root.index().unwrap()], 2);
}

/// The number of entries of every child of internal node `b`.
fn child_fill(tm: &mut TransactionManager, b: MetaBlock) -> Vec<usize> {
    let n = *tm.read(b, BlockKind::BtreeNode).unwrap();
    assert!(!is_leaf(&n));
    (0..nr(&n))
        .map(|i| nr(&tm.read(child(&n, i), BlockKind::BtreeNode).unwrap()))
        .collect()
}

#[test]
fn removal_rebalances_top_down_as_the_kernel() {
    // 277 keys appended in order give the kernel's two leaves of an era array index of
    // 277 blocks (`shrink_two_level` in testdata/kernel): 126 and 151 entries.
    let (_io, mut tm) = setup(1024);
    let mut root = empty::<u64>(&mut tm).unwrap();
    for k in 0..277u64 {
        root = insert::<u64>(&mut tm, root, k, &k).unwrap();
    }
    assert_eq!(child_fill(&mut tm, root), [126, 151]);
    // Every removal first evens out the two leaves (rebalance2), whatever their fill,
    // then deletes from the one holding the key.
    root = remove::<u64>(&mut tm, root, 276).unwrap().unwrap();
    assert_eq!(child_fill(&mut tm, root), [138, 138]);
    for k in 197..276u64 {
        root = remove::<u64>(&mut tm, root, k).unwrap().unwrap();
    }
    assert_eq!(child_fill(&mut tm, root), [99, 98]);
    // Below 2 * (252 / 3 + 1) = 170 entries the two merge; the root keeps one child
    // until the next removal copies that child into the root's own block.
    for k in (168..197u64).rev() {
        root = remove::<u64>(&mut tm, root, k).unwrap().unwrap();
    }
    assert_eq!(child_fill(&mut tm, root), [168]);
    let before = root;
    root = remove::<u64>(&mut tm, root, 167).unwrap().unwrap();
    assert_eq!(root, before);
    let n = *tm.read(root, BlockKind::BtreeNode).unwrap();
    assert!(is_leaf(&n));
    assert_eq!(nr(&n), 167);
    // The slot behind the last entry keeps what delete_at left there.
    assert_eq!(key(&n, 167), 167);
}
