use super::*;
use crate::io::MemIo;
use crate::pdata::codec::get_u64;
use crate::pdata::test_support::assert_space_map_exact;
use std::collections::BTreeMap;
use std::sync::Arc;

const T8: Plain = Plain(8);

fn commit(tm: &mut TransactionManager) -> crate::pdata::space_map::SmRoot {
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
    let mut root = empty(&mut tm, &T8).unwrap();
    let mut model = BTreeMap::new();
    for (n, k) in shuffled(3000).into_iter().enumerate() {
        root = insert(&mut tm, root, &T8, k * 3, &(k + 7).to_le_bytes()).unwrap();
        model.insert(k * 3, k + 7);
        if n % 500 == 0 {
            commit(&mut tm);
        }
    }
    let sm = commit(&mut tm);
    assert_space_map_exact(io.as_ref(), &sm, &[(root, &T8)], &[]);
    let all = collect(&mut tm, root, &T8).unwrap();
    assert_eq!(all.len(), 3000);
    for (k, v) in &all {
        assert_eq!(model[k], get_u64(v, 0));
    }
    assert_eq!(lookup(&mut tm, root, &T8, 4).unwrap(), None);
    assert_eq!(
        lookup(&mut tm, root, &T8, 30).unwrap(),
        Some(17u64.to_le_bytes().to_vec())
    );
    for (n, k) in shuffled(3000).into_iter().enumerate() {
        if k % 4 != 0 {
            root = remove(&mut tm, root, &T8, k * 3).unwrap().unwrap();
            model.remove(&(k * 3));
        }
        if n % 700 == 0 {
            commit(&mut tm);
        }
    }
    assert_eq!(remove(&mut tm, root, &T8, 1).unwrap(), None);
    let sm = commit(&mut tm);
    assert_space_map_exact(io.as_ref(), &sm, &[(root, &T8)], &[]);
    let all: Vec<(u64, u64)> = collect(&mut tm, root, &T8)
        .unwrap()
        .into_iter()
        .map(|(k, v)| (k, get_u64(&v, 0)))
        .collect();
    let want: Vec<(u64, u64)> = model.into_iter().collect();
    assert_eq!(all, want);
    assert_eq!(first(&mut tm, root, &T8).unwrap().unwrap().1 .0, 0);
    // Remove everything: the tree collapses to one empty leaf.
    for (k, _) in want {
        root = remove(&mut tm, root, &T8, k).unwrap().unwrap();
    }
    assert_eq!(first(&mut tm, root, &T8).unwrap(), None);
    let sm = commit(&mut tm);
    assert_space_map_exact(io.as_ref(), &sm, &[(root, &T8)], &[]);
    assert_eq!(sm.nr_allocated, 1 + 3 + 1);
}

#[test]
fn shared_tree_is_copied_and_released() {
    let (io, mut tm) = setup(4096);
    let mut root = empty(&mut tm, &T8).unwrap();
    for k in 0..600u64 {
        root = insert(&mut tm, root, &T8, k, &k.to_le_bytes()).unwrap();
    }
    commit(&mut tm);
    // A second holder of the tree, as a metadata snapshot would be.
    let snap = root;
    tm.inc(snap).unwrap();
    for k in 0..600u64 {
        if k % 3 == 0 {
            root = insert(&mut tm, root, &T8, k, &(k + 1000).to_le_bytes()).unwrap();
        }
    }
    root = remove(&mut tm, root, &T8, 599).unwrap().unwrap();
    let sm = commit(&mut tm);
    assert_ne!(root, snap);
    assert_space_map_exact(io.as_ref(), &sm, &[(root, &T8), (snap, &T8)], &[]);
    let old = collect(&mut tm, snap, &T8).unwrap();
    assert_eq!(old.len(), 600);
    assert!(old.iter().all(|(k, v)| get_u64(v, 0) == *k));
    let new = collect(&mut tm, root, &T8).unwrap();
    assert_eq!(new.len(), 599);
    assert_eq!(get_u64(&new[3].1, 0), 1003);
    release(&mut tm, snap, &T8).unwrap();
    let sm = commit(&mut tm);
    assert_space_map_exact(io.as_ref(), &sm, &[(root, &T8)], &[]);
}

#[test]
fn counts_of_three_go_to_the_ref_count_tree() {
    let (io, mut tm) = setup(1024);
    let root = empty(&mut tm, &T8).unwrap();
    commit(&mut tm);
    tm.inc(root).unwrap();
    tm.inc(root).unwrap();
    let sm = commit(&mut tm);
    let counts = crate::pdata::space_map::read_ref_counts(io.as_ref(), &sm).unwrap();
    assert_eq!(counts[root.index().unwrap()], 3);
    tm.dec(root).unwrap();
    let sm = commit(&mut tm);
    let counts = crate::pdata::space_map::read_ref_counts(io.as_ref(), &sm).unwrap();
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
    let mut root = empty(&mut tm, &T8).unwrap();
    for k in 0..277u64 {
        root = insert(&mut tm, root, &T8, k, &k.to_le_bytes()).unwrap();
    }
    assert_eq!(child_fill(&mut tm, root), [126, 151]);
    // Every removal first evens out the two leaves (rebalance2), whatever their fill,
    // then deletes from the one holding the key.
    root = remove(&mut tm, root, &T8, 276).unwrap().unwrap();
    assert_eq!(child_fill(&mut tm, root), [138, 138]);
    for k in 197..276u64 {
        root = remove(&mut tm, root, &T8, k).unwrap().unwrap();
    }
    assert_eq!(child_fill(&mut tm, root), [99, 98]);
    // Below 2 * (252 / 3 + 1) = 170 entries the two merge; the root keeps one child
    // until the next removal copies that child into the root's own block.
    for k in (168..197u64).rev() {
        root = remove(&mut tm, root, &T8, k).unwrap().unwrap();
    }
    assert_eq!(child_fill(&mut tm, root), [168]);
    let before = root;
    root = remove(&mut tm, root, &T8, 167).unwrap().unwrap();
    assert_eq!(root, before);
    let n = *tm.read(root, BlockKind::BtreeNode).unwrap();
    assert!(is_leaf(&n));
    assert_eq!(nr(&n), 167);
    // The slot behind the last entry keeps what delete_at left there.
    assert_eq!(key(&n, 167), 167);
}
