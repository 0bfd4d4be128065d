use super::*;
use crate::io::MemIo;
use crate::test_support::{assert_space_map_exact, Leaves};
use crate::units::BLOCK_SIZE;
use std::sync::Arc;

fn commit(tm: &mut TransactionManager) -> crate::space_map::SmRoot {
    let root = tm.prepare_commit().unwrap();
    tm.commit(&[0u8; BLOCK_SIZE]).unwrap();
    root
}

#[test]
fn resize_set_and_read_back() {
    let io = Arc::new(MemIo::new(2048));
    let mut tm = TransactionManager::format(io.clone(), true).unwrap();
    let mut root = empty(&mut tm).unwrap();
    root = resize::<u32>(&mut tm, root, 0, 5000, 0).unwrap();
    let mut model = vec![0u32; 5000];
    for i in (0..5000).step_by(7) {
        let v = u32::try_from(i + 1).unwrap();
        root = set(&mut tm, root, i, v).unwrap();
        model[i as usize] = v;
    }
    let sm = commit(&mut tm);
    assert_space_map_exact(io.as_ref(), &sm, &[(root, Leaves::Blocks)], &[]);
    assert_eq!(read_all::<u32>(&mut tm, root, 5000).unwrap(), model);
    // The committed array is checked by the read-side code too.
    let read = crate::array::read_array::<u32>(io.as_ref(), root, 5000).unwrap();
    assert_eq!(read, model);
    root = resize::<u32>(&mut tm, root, 5000, 1500, 0).unwrap();
    root = resize::<u32>(&mut tm, root, 1500, 3000, 9).unwrap();
    model.truncate(1500);
    model.resize(3000, 9);
    assert_eq!(get::<u32>(&mut tm, root, 2999).unwrap(), 9);
    let sm = commit(&mut tm);
    assert_space_map_exact(io.as_ref(), &sm, &[(root, Leaves::Blocks)], &[]);
    assert_eq!(read_all::<u32>(&mut tm, root, 3000).unwrap(), model);
    assert!(set::<u32>(&mut tm, root, 3000, 1).is_err());
}

#[test]
fn bitset_words_in_a_shared_array() {
    let io = Arc::new(MemIo::new(2048));
    let mut tm = TransactionManager::format(io.clone(), true).unwrap();
    let mut root = empty(&mut tm).unwrap();
    root = resize::<u64>(&mut tm, root, 0, 1200, 0).unwrap();
    commit(&mut tm);
    let snap = root;
    tm.inc(snap).unwrap();
    root = set::<u64>(&mut tm, root, 600, 0x8000_0000_0000_0001).unwrap();
    let sm = commit(&mut tm);
    assert_space_map_exact(
        io.as_ref(),
        &sm,
        &[(root, Leaves::Blocks), (snap, Leaves::Blocks)],
        &[],
    );
    assert_eq!(get::<u64>(&mut tm, snap, 600).unwrap(), 0);
    assert_eq!(
        get::<u64>(&mut tm, root, 600).unwrap(),
        0x8000_0000_0000_0001
    );
}

#[test]
fn a_transaction_larger_than_the_cache_is_written_early_and_read_back() {
    use crate::transaction::MIN_CACHE_BLOCKS;
    let io = Arc::new(MemIo::new(4096));
    let mut tm = TransactionManager::format(io.clone(), true).unwrap();
    tm.set_cache_limit(MIN_CACHE_BLOCKS);
    let mut root = empty(&mut tm).unwrap();
    // About 200 array blocks plus index nodes: three times the cache, in one transaction.
    let n = 200_000;
    root = resize::<u32>(&mut tm, root, 0, n, 3).unwrap();
    assert!(tm.cached_blocks() <= MIN_CACHE_BLOCKS);
    let mut model = vec![3u32; n as usize];
    // Changes to blocks already written out early, in the same transaction.
    for i in (0..n).step_by(997) {
        let v = u32::try_from(i + 1).unwrap();
        root = set(&mut tm, root, i, v).unwrap();
        model[i as usize] = v;
        assert!(tm.cached_blocks() <= MIN_CACHE_BLOCKS);
    }
    let sm = commit(&mut tm);
    assert_space_map_exact(io.as_ref(), &sm, &[(root, Leaves::Blocks)], &[]);
    let mut reopened = TransactionManager::open(io.clone(), &sm, true).unwrap();
    assert_eq!(read_all::<u32>(&mut reopened, root, n).unwrap(), model);

    // A second transaction, also larger than the cache, that never commits (a power
    // cut): its early writes leave the committed state intact.
    let committed = root;
    for i in (0..n).step_by(500) {
        root = set::<u32>(&mut tm, root, i, 7).unwrap();
    }
    assert_ne!(root, committed);
    let mut after_cut = TransactionManager::open(io.clone(), &sm, true).unwrap();
    assert_eq!(
        read_all::<u32>(&mut after_cut, committed, n).unwrap(),
        model
    );
    assert_space_map_exact(io.as_ref(), &sm, &[(committed, Leaves::Blocks)], &[]);
}
