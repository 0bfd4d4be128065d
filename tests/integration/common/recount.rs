//! Recounts every reference of an era metadata image from its roots (format.md §7.5)
//! with the read-side code, to compare with the on-disk space map.

use era_tools::era::superblock::Superblock;
use era_tools::io::BlockIo;
use era_tools::pdata::btree::NodeView;
use era_tools::pdata::codec::get_block;
use era_tools::pdata::read_block;
use era_tools::pdata::space_map::{read_index, read_ref_counts, ENTRIES_PER_BITMAP};
use era_tools::units::MetaBlock;

#[derive(Clone, Copy)]
enum Refs {
    None,
    ArrayBlocks,
    Bitsets,
}

fn walk(io: &dyn BlockIo, b: MetaBlock, refs: Refs, counts: &mut [u32]) {
    let i = b.index().unwrap();
    counts[i] += 1;
    if counts[i] > 1 {
        return;
    }
    let data = read_block(io, b).unwrap();
    let n = NodeView::parse(b, &data).unwrap();
    for i in 0..n.nr_entries as usize {
        if !n.is_leaf() {
            walk(io, n.value_block(i), refs, counts);
            continue;
        }
        match refs {
            Refs::None => {}
            Refs::ArrayBlocks => counts[n.value_block(i).index().unwrap()] += 1,
            Refs::Bitsets => walk(io, get_block(n.value(i), 4), Refs::ArrayBlocks, counts),
        }
    }
}

/// The reference count of every managed block, computed from the live superblock (and
/// the held snapshot, if any).
pub fn recount(io: &dyn BlockIo) -> Vec<u32> {
    let sb = Superblock::unpack(
        &read_block(io, MetaBlock::new(0)).unwrap(),
        MetaBlock::new(0),
    )
    .unwrap();
    let root = sb.sm_root;
    let mut counts = vec![0u32; root.nr_blocks as usize];
    counts[0] += 1;
    counts[root.bitmap_root.index().unwrap()] += 1;
    for e in read_index(io, &root)
        .unwrap()
        .iter()
        .take(root.nr_bitmaps() as usize)
    {
        counts[e.blocknr.index().unwrap()] += 1;
    }
    walk(io, root.ref_count_root, Refs::None, &mut counts);
    walk(io, sb.writeset_tree_root, Refs::Bitsets, &mut counts);
    walk(io, sb.era_array_root, Refs::ArrayBlocks, &mut counts);
    if !sb.current_writeset.root.is_zero() {
        walk(io, sb.current_writeset.root, Refs::ArrayBlocks, &mut counts);
    }
    if !sb.metadata_snap.is_zero() {
        let snap = Superblock::unpack(&read_block(io, sb.metadata_snap).unwrap(), sb.metadata_snap)
            .unwrap();
        counts[sb.metadata_snap.index().unwrap()] += 1;
        walk(io, snap.writeset_tree_root, Refs::Bitsets, &mut counts);
        walk(io, snap.era_array_root, Refs::ArrayBlocks, &mut counts);
    }
    counts
}

/// The blocks the readers of one view visit: the live superblock, then for the live view
/// its writeset tree, archived bitsets, era array and current writeset; for the snapshot
/// view (`snapshot`, `None` when none is held) the snapshot copy and the trees it roots.
/// The space map is no part of either.
pub fn view_blocks(io: &dyn BlockIo, snapshot: bool) -> Option<Vec<bool>> {
    let sb = Superblock::unpack(
        &read_block(io, MetaBlock::new(0)).unwrap(),
        MetaBlock::new(0),
    )
    .unwrap();
    let mut counts = vec![0u32; sb.sm_root.nr_blocks as usize];
    counts[0] += 1;
    let view = if snapshot {
        if sb.metadata_snap.is_zero() {
            return None;
        }
        counts[sb.metadata_snap.index().unwrap()] += 1;
        Superblock::unpack(&read_block(io, sb.metadata_snap).unwrap(), sb.metadata_snap).unwrap()
    } else {
        if !sb.current_writeset.root.is_zero() {
            walk(io, sb.current_writeset.root, Refs::ArrayBlocks, &mut counts);
        }
        sb
    };
    walk(io, view.writeset_tree_root, Refs::Bitsets, &mut counts);
    walk(io, view.era_array_root, Refs::ArrayBlocks, &mut counts);
    Some(counts.into_iter().map(|c| c > 0).collect())
}

/// Asserts that the on-disk space map (counts, `nr_allocated`) equals an independent
/// recount, that the index hints are on the safe side of it, and that `era_check` finds nothing (but for writeset eras that
/// are not contiguous, which random metadata may have).
pub fn assert_space_map_exact(io: &dyn BlockIo, what: &str) {
    let report = era_tools::era::check::check(io, &era_tools::era::check::CheckOptions::default());
    let findings: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.is_error() || !f.message.contains("not one contiguous range"))
        .collect();
    assert!(findings.is_empty(), "{what}: era_check: {findings:?}");
    let sb = Superblock::unpack(
        &read_block(io, MetaBlock::new(0)).unwrap(),
        MetaBlock::new(0),
    )
    .unwrap();
    let disk = read_ref_counts(io, &sb.sm_root).unwrap();
    let refs = recount(io);
    for (b, (d, r)) in disk.iter().zip(&refs).enumerate() {
        assert_eq!(d, r, "{what}: block {b}: space map {d}, references {r}");
    }
    let allocated = disk.iter().filter(|&&c| c != 0).count() as u64;
    assert_eq!(allocated, sb.sm_root.nr_allocated, "{what}: nr_allocated");
    // The index hints are lower bounds of the truth on the safe side, as the kernel
    // keeps them (format.md §7.2): `nr_free` at least the free entries (more right after
    // a format, whose index the kernel's bootstrap wrote), `none_free_before` at most the
    // first free entry (it lags).
    let index = read_index(io, &sb.sm_root).unwrap();
    for (i, chunk) in disk.chunks(ENTRIES_PER_BITMAP).enumerate() {
        let used = chunk.iter().filter(|&&c| c != 0).count();
        let first_free = chunk.iter().position(|&c| c == 0).unwrap_or(chunk.len());
        assert!(
            index[i].nr_free as usize >= ENTRIES_PER_BITMAP - used,
            "{what}: nr_free of bitmap {i}: {} below the {} free entries",
            index[i].nr_free,
            ENTRIES_PER_BITMAP - used
        );
        assert!(
            index[i].none_free_before as usize <= first_free,
            "{what}: none_free_before of bitmap {i}: {} past the first free entry {first_free}",
            index[i].none_free_before
        );
    }
}
