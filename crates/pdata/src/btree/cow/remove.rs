//! Removal with the kernel's node policy (dm-btree-remove.c, `dm_btree_remove` and the
//! `remove_one` loop of `dm_btree_remove_leaves`): the path is shadowed top-down and, at
//! every internal node on it, *before* descending, the child that holds the key is
//! rebalanced with its neighbour(s), whatever its fill:
//! * a node with one child takes over the child's contents in its own block (the root
//!   keeps its block number; the child loses a reference);
//! * the first or last child goes through `rebalance2` with its one neighbour: the two
//!   merge into the left one when they hold fewer than `2 * (max / 3 + 1)` entries,
//!   else they are evened out;
//! * any other child goes through `rebalance3` with both neighbours: the centre node is
//!   emptied into the others when the three hold fewer than `4 * (max / 3) + 1`, else
//!   the entries are spread over the three.
//!
//! Entries move the way the kernel's `memmove`/`memcpy` move them, keys and values as
//! separate regions, so the stale slots behind `nr_entries` hold what the kernel's do.

use super::*;
use crate::btree::node::key_offset;

/// One child of the node being rebalanced: its slot in the parent, its (shadowed) block
/// and its contents.
struct Child {
    index: usize,
    block: MetaBlock,
    node: BlockBuf,
}

fn set_nr(n: &mut BlockBuf, nr: usize) {
    let mut h = header(n);
    h.nr_entries = nr as u32;
    h.encode(n);
}

fn value_size(n: &BlockBuf) -> usize {
    header(n).value_size as usize
}

/// Moves the `nr` entries of `n` up by `shift` slots, or down (dropping the first
/// `-shift`) when `shift` is negative (the kernel's `node_shift`).
fn node_shift(n: &mut BlockBuf, block: MetaBlock, shift: isize) -> Result<()> {
    let h = header(n);
    let (nr, vs, max) = (nr(n), value_size(n), max(n));
    let s = shift.unsigned_abs();
    if shift < 0 {
        if s > nr {
            return Err(bad(block, format!("cannot drop {s} of {nr} entries")));
        }
        n.copy_within(key_offset(s)..key_offset(nr), key_offset(0));
        n.copy_within(h.value_offset(s)..h.value_offset(nr), h.value_offset(0));
    } else {
        if nr + s > max {
            return Err(bad(block, format!("{nr} + {s} entries exceed {max}")));
        }
        n.copy_within(key_offset(0)..key_offset(nr), key_offset(s));
        n.copy_within(
            h.value_offset(0)..h.value_offset(0) + nr * vs,
            h.value_offset(s),
        );
    }
    Ok(())
}

/// Copies entries between neighbours without changing either count (the kernel's
/// `node_copy`): a negative `shift` appends the first `-shift` entries of `right` to
/// `left`; a positive one copies the last `shift` entries of `left` to the front of
/// `right`.
fn node_copy(
    left: &mut BlockBuf,
    right: &mut BlockBuf,
    block: MetaBlock,
    shift: isize,
) -> Result<()> {
    let (hl, hr) = (header(left), header(right));
    let vs = value_size(left);
    if vs != value_size(right) {
        return Err(bad(block, "neighbours with different value sizes".into()));
    }
    let nl = nr(left);
    let s = shift.unsigned_abs();
    if shift < 0 {
        if nl + s > max(left) || s > max(right) {
            return Err(bad(
                block,
                format!("{nl} + {s} entries exceed {}", max(left)),
            ));
        }
        left[key_offset(nl)..key_offset(nl + s)]
            .copy_from_slice(&right[key_offset(0)..key_offset(s)]);
        left[hl.value_offset(nl)..hl.value_offset(nl) + s * vs]
            .copy_from_slice(&right[hr.value_offset(0)..hr.value_offset(0) + s * vs]);
    } else {
        if s > nl || s > max(right) {
            return Err(bad(block, format!("cannot move {s} of {nl} entries")));
        }
        right[key_offset(0)..key_offset(s)]
            .copy_from_slice(&left[key_offset(nl - s)..key_offset(nl)]);
        right[hr.value_offset(0)..hr.value_offset(0) + s * vs]
            .copy_from_slice(&left[hl.value_offset(nl - s)..hl.value_offset(nl)]);
    }
    Ok(())
}

/// Deletes entry `i` of `n`, moving the tail down (the last old slot keeps its bytes).
fn delete_at(n: &mut BlockBuf, block: MetaBlock, i: usize) -> Result<()> {
    let (h, count) = (header(n), nr(n));
    if i >= count {
        return Err(bad(block, format!("no entry {i} among {count}")));
    }
    n.copy_within(key_offset(i + 1)..key_offset(count), key_offset(i));
    n.copy_within(
        h.value_offset(i + 1)..h.value_offset(count),
        h.value_offset(i),
    );
    set_nr(n, count - 1);
    Ok(())
}

/// Moves `count` entries from the end of `left` to the front of `right`, or `-count`
/// from the front of `right` to the end of `left` (the kernel's `shift`).
fn shift(left: &mut BlockBuf, right: &mut BlockBuf, block: MetaBlock, count: isize) -> Result<()> {
    let (nl, nr_) = (nr(left) as isize, nr(right) as isize);
    let m = max(left) as isize;
    if max(right) as isize != m
        || nl - count > m
        || nr_ + count > m
        || nl - count < 0
        || nr_ + count < 0
    {
        return Err(bad(
            block,
            format!("cannot shift {count} between {nl} and {nr_} entries"),
        ));
    }
    if count == 0 {
        return Ok(());
    }
    if count > 0 {
        node_shift(right, block, count)?;
        node_copy(left, right, block, count)?;
    } else {
        node_copy(left, right, block, count)?;
        node_shift(right, block, count)?;
    }
    set_nr(left, (nl - count) as usize);
    set_nr(right, (nr_ + count) as usize);
    Ok(())
}

/// Shadows child `index` of `parent` and points the parent at the copy (`init_child`).
fn init_child<V: Value>(
    tm: &mut TransactionManager,
    parent: &mut BlockBuf,
    index: usize,
) -> Result<Child> {
    let (block, _) = shadow_node::<V>(tm, child(parent, index))?;
    set_child(parent, index, block);
    let node = *tm.read(block, BlockKind::BtreeNode)?;
    Ok(Child { index, block, node })
}

/// Stores a child's new contents, unless the rebalance dropped it.
fn exit_child(tm: &mut TransactionManager, c: Child) -> Result<()> {
    if tm.count(c.block) != 0 {
        *tm.get_mut(c.block)? = c.node;
    }
    Ok(())
}

fn merge_threshold(n: &BlockBuf) -> usize {
    max(n) / 3
}

/// `__rebalance2`: merge `r` into `l` or even them out.
fn rebalance2_nodes(
    tm: &mut TransactionManager,
    parent: &mut BlockBuf,
    pb: MetaBlock,
    l: &mut Child,
    r: &mut Child,
) -> Result<()> {
    let (nl, nr_) = (nr(&l.node), nr(&r.node));
    if nl + nr_ < 2 * (merge_threshold(&l.node) + 1) {
        node_copy(&mut l.node, &mut r.node, l.block, -(nr_ as isize))?;
        set_nr(&mut l.node, nl + nr_);
        delete_at(parent, pb, r.index)?;
        // The right node goes, but not its children: the left one holds them now.
        tm.dec(r.block)?;
    } else {
        let target_left = (nl + nr_) / 2;
        shift(
            &mut l.node,
            &mut r.node,
            l.block,
            nl as isize - target_left as isize,
        )?;
        put_key(parent, r.index, key(&r.node, 0));
    }
    Ok(())
}

fn rebalance2<V: Value>(
    tm: &mut TransactionManager,
    pb: MetaBlock,
    parent: &mut BlockBuf,
    left_index: usize,
) -> Result<()> {
    let mut l = init_child::<V>(tm, parent, left_index)?;
    let mut r = init_child::<V>(tm, parent, left_index + 1)?;
    rebalance2_nodes(tm, parent, pb, &mut l, &mut r)?;
    exit_child(tm, l)?;
    exit_child(tm, r)
}

/// `delete_center_node`: as much of the centre as fits goes to the left, the rest to
/// the front of the right, and the centre is dropped; then the two are rebalanced.
fn delete_center(
    tm: &mut TransactionManager,
    parent: &mut BlockBuf,
    pb: MetaBlock,
    l: &mut Child,
    c: &mut Child,
    r: &mut Child,
) -> Result<()> {
    let (nl, nc, nr_) = (nr(&l.node), nr(&c.node), nr(&r.node));
    let moved = (max(&l.node) - nl).min(nc);
    node_copy(&mut l.node, &mut c.node, l.block, -(moved as isize))?;
    set_nr(&mut l.node, nl + moved);
    if moved != nc {
        let rest = nc - moved;
        node_shift(&mut r.node, r.block, rest as isize)?;
        node_copy(&mut c.node, &mut r.node, c.block, rest as isize)?;
        set_nr(&mut r.node, nr_ + rest);
    }
    put_key(parent, r.index, key(&r.node, 0));
    delete_at(parent, pb, c.index)?;
    r.index -= 1;
    tm.dec(c.block)?;
    rebalance2_nodes(tm, parent, pb, l, r)
}

/// `redistribute3`: the left gets a third (plus one when it does not divide), the centre
/// and the right a third each.
fn redistribute3(parent: &mut BlockBuf, l: &mut Child, c: &mut Child, r: &mut Child) -> Result<()> {
    let (mut nl, nc, mut nr_) = (
        nr(&l.node) as isize,
        nr(&c.node) as isize,
        nr(&r.node) as isize,
    );
    let total = nl + nc + nr_;
    let target_right = total / 3;
    let target_left = target_right + isize::from(target_right * 3 != total);
    let at = l.block;
    if nl < nr_ {
        let mut s = nl - target_left;
        if s < 0 && nc < -s {
            shift(&mut l.node, &mut c.node, at, -nc)?;
            s += nc;
            shift(&mut l.node, &mut r.node, at, s)?;
            nr_ += s;
        } else {
            shift(&mut l.node, &mut c.node, at, s)?;
        }
        shift(&mut c.node, &mut r.node, at, target_right - nr_)?;
    } else {
        let mut s = target_right - nr_;
        if s > 0 && nc < s {
            shift(&mut c.node, &mut r.node, at, nc)?;
            s -= nc;
            shift(&mut l.node, &mut r.node, at, s)?;
            nl -= s;
        } else {
            shift(&mut c.node, &mut r.node, at, s)?;
        }
        shift(&mut l.node, &mut c.node, at, nl - target_left)?;
    }
    put_key(parent, c.index, key(&c.node, 0));
    put_key(parent, r.index, key(&r.node, 0));
    Ok(())
}

fn rebalance3<V: Value>(
    tm: &mut TransactionManager,
    pb: MetaBlock,
    parent: &mut BlockBuf,
    left_index: usize,
) -> Result<()> {
    let mut l = init_child::<V>(tm, parent, left_index)?;
    let mut c = init_child::<V>(tm, parent, left_index + 1)?;
    let mut r = init_child::<V>(tm, parent, left_index + 2)?;
    let total = nr(&l.node) + nr(&c.node) + nr(&r.node);
    if total < merge_threshold(&l.node) * 4 + 1 {
        delete_center(tm, parent, pb, &mut l, &mut c, &mut r)?;
    } else {
        redistribute3(parent, &mut l, &mut c, &mut r)?;
    }
    exit_child(tm, l)?;
    exit_child(tm, c)?;
    exit_child(tm, r)
}

/// `rebalance_children` of the internal node `pb` (shadowed in this transaction), for
/// a removal of `k`.
fn rebalance_children<V: Value>(tm: &mut TransactionManager, pb: MetaBlock, k: u64) -> Result<()> {
    let mut parent = *tm.read(pb, BlockKind::BtreeNode)?;
    let count = nr(&parent);
    if count == 1 {
        let b = child(&parent, 0);
        let shared = tm.count(b) > 1;
        let c = load::<V>(tm, b)?;
        if shared {
            inc_children::<V>(tm, &c)?;
        }
        *tm.get_mut(pb)? = c;
        tm.dec(b)?;
        return Ok(());
    }
    let Some(i) = find_le(&parent, k) else {
        return Err(bad(pb, format!("key {k} vanished during removal")));
    };
    if i == 0 {
        rebalance2::<V>(tm, pb, &mut parent, i)?;
    } else if i == count - 1 {
        rebalance2::<V>(tm, pb, &mut parent, i - 1)?;
    } else {
        rebalance3::<V>(tm, pb, &mut parent, i - 1)?;
    }
    *tm.get_mut(pb)? = parent;
    Ok(())
}

/// Removes `k`; returns the new root, or `None` (and changes nothing) if `k` is absent.
/// The removed value loses the reference it held.
pub fn remove<V: Value>(
    tm: &mut TransactionManager,
    root: MetaBlock,
    k: u64,
) -> Result<Option<MetaBlock>> {
    if lookup::<V>(tm, root, k)?.is_none() {
        return Ok(None);
    }
    let (new_root, _) = shadow_node::<V>(tm, root)?;
    let mut cur = new_root;
    for _ in 0..MAX_DEPTH {
        if !is_leaf(&*tm.read(cur, BlockKind::BtreeNode)?) {
            rebalance_children::<V>(tm, cur, k)?;
        }
        let mut n = *tm.read(cur, BlockKind::BtreeNode)?;
        let Some(i) = find_le(&n, k) else {
            return Err(bad(cur, format!("key {k} vanished during removal")));
        };
        if is_leaf(&n) {
            if key(&n, i) != k {
                return Err(bad(cur, format!("key {k} vanished during removal")));
            }
            leaf_value::<V>(cur, &n, i)?.dec(tm)?;
            delete_at(&mut n, cur, i)?;
            *tm.get_mut(cur)? = n;
            return Ok(Some(new_root));
        }
        // Already shadowed by the rebalance: the step allocates nothing.
        let (s, _) = shadow_node::<V>(tm, child(&n, i))?;
        if s != child(&n, i) {
            set_child(&mut n, i, s);
            *tm.get_mut(cur)? = n;
        }
        cur = s;
    }
    Err(Error::TooDeep {
        block: root,
        max: MAX_DEPTH,
    })
}
