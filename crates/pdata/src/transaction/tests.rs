use super::*;
use crate::io::MemIo;
use crate::space_map::read_ref_counts;

#[test]
fn format_then_commit_writes_an_exact_space_map() {
    let io = Arc::new(MemIo::new(40_000));
    let mut tm = TransactionManager::format(io.clone(), true).unwrap();
    assert_eq!(tm.nr_blocks(), 40_000);
    let a = btree_cow::empty::<u64>(&mut tm).unwrap();
    assert_eq!(
        a,
        MetaBlock::new(6),
        "three bitmaps at 3..=5, then the first allocation"
    );
    let root = tm.prepare_commit().unwrap();
    tm.commit(&[0u8; BLOCK_SIZE]).unwrap();
    assert_eq!(root.nr_allocated, 7);
    assert_eq!(tm.used(), 7);
    let counts = read_ref_counts(io.as_ref(), &root).unwrap();
    assert_eq!(&counts[..8], &[1, 1, 1, 1, 1, 1, 1, 0]);
    // A change in the next transaction copies the bitmap and the index.
    let (s, shared) = tm.shadow(a, BlockKind::BtreeNode).unwrap();
    assert!(!shared);
    assert_ne!(s, a);
    assert_eq!(tm.used(), 7 + 1 + 1);
    let root2 = tm.prepare_commit().unwrap();
    tm.commit(&[0u8; BLOCK_SIZE]).unwrap();
    assert_ne!(root2.bitmap_root, root.bitmap_root);
    assert_eq!(root2.nr_allocated, 7);
    let counts = read_ref_counts(io.as_ref(), &root2).unwrap();
    assert_eq!(counts[a.index().unwrap()], 0);
    assert_eq!(counts[s.index().unwrap()], 1);
    // Reopen from disk.
    let tm2 = TransactionManager::open(io.clone(), &root2, true).unwrap();
    assert_eq!(tm2.count(s), 1);
    assert_eq!(tm2.used(), 7);
}

#[test]
fn allocation_fails_cleanly_when_full() {
    let io = Arc::new(MemIo::new(8));
    let mut tm = TransactionManager::format(io, true).unwrap();
    for _ in 0..4 {
        tm.new_block(BlockKind::BtreeNode).unwrap();
    }
    assert!(matches!(
        tm.new_block(BlockKind::BtreeNode),
        Err(Error::NoSpace { nr_blocks: 8 })
    ));
}

#[test]
fn a_damaged_nr_free_that_would_overflow_is_an_error_naming_the_index() {
    let io = Arc::new(MemIo::new(100));
    let mut tm = TransactionManager::format(io.clone(), true).unwrap();
    let a = tm.new_block(BlockKind::BtreeNode).unwrap();
    let root = tm.prepare_commit().unwrap();
    tm.commit(&[0u8; BLOCK_SIZE]).unwrap();
    // The hints are read from disk on open (as the kernel does): damage nr_free.
    let mut entries = read_index(io.as_ref(), &root).unwrap();
    entries[0].nr_free = u32::MAX;
    write_block(
        io.as_ref(),
        root.bitmap_root,
        &pack_index(root.bitmap_root, &entries),
    )
    .unwrap();
    let mut tm = TransactionManager::open(io.clone(), &root, true).unwrap();
    assert_eq!(tm.dec(a).unwrap(), 0);
    match tm.prepare_commit() {
        Err(Error::Invalid {
            block,
            kind,
            reason,
        }) => {
            assert_eq!((block, kind), (root.bitmap_root, BlockKind::Index));
            assert!(reason.contains("nr_free 4294967295 overflows"), "{reason}");
        }
        other => panic!("expected an error naming the index, got {other:?}"),
    }
}
