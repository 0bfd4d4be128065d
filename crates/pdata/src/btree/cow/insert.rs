//! Insertion with the kernel's node policy (dm-btree since 2015): on the way down every
//! full node is given room first. A full root is split beneath itself into two
//! children; any other full node first shares entries with an unshared sibling that has
//! at least [`SPACE_THRESHOLD`] free slots (left one first), and otherwise is split:
//! one node into two at the edges of its parent (or next to a shared sibling), two into
//! three elsewhere. Appending keys in order thus fills nodes almost completely, which
//! is what gives the kernel's era arrays their shape.

use super::*;
use crate::value::encode_vec;

/// Free slots a sibling needs before entries are moved into it.
const SPACE_THRESHOLD: usize = 8;

fn read_node(tm: &mut TransactionManager, b: MetaBlock) -> Result<BlockBuf> {
    Ok(*tm.read(b, BlockKind::BtreeNode)?)
}

fn write_node(tm: &mut TransactionManager, b: MetaBlock, node: BlockBuf) -> Result<()> {
    *tm.get_mut(b)? = node;
    Ok(())
}

fn new_node_like(tm: &mut TransactionManager, like: &BlockBuf) -> Result<(MetaBlock, BlockBuf)> {
    let b = tm.new_block(BlockKind::BtreeNode)?;
    let mut n = [0u8; BLOCK_SIZE];
    let mut h = header(like);
    h.nr_entries = 0;
    h.encode(&mut n);
    Ok((b, n))
}

fn insert_entry(node: &mut BlockBuf, at: usize, k: u64, v: &[u8]) {
    let mut es = entries(node);
    es.insert(at, (k, v.to_vec()));
    set_entries(node, &es);
}

/// Shadows child `i` of `parent` (a node writable in this transaction) and points the
/// parent at the copy.
fn shadow_child<V: Value>(
    tm: &mut TransactionManager,
    parent: MetaBlock,
    i: usize,
) -> Result<MetaBlock> {
    let mut p = read_node(tm, parent)?;
    let (s, _) = shadow_node::<V>(tm, child(&p, i))?;
    set_child(&mut p, i, s);
    write_node(tm, parent, p)?;
    Ok(s)
}

/// Splits `left`'s and `right`'s entries evenly between them (the left one gets the
/// smaller half).
fn redistribute2(left: &mut BlockBuf, right: &mut BlockBuf) {
    let mut all = entries(left);
    all.extend(entries(right));
    let tl = all.len() / 2;
    set_entries(left, &all[..tl]);
    set_entries(right, &all[tl..]);
}

/// Spreads `left`'s and `right`'s entries over the three nodes (`center` is empty).
fn redistribute3(left: &mut BlockBuf, center: &mut BlockBuf, right: &mut BlockBuf) {
    let mut all = entries(left);
    all.extend(entries(right));
    let total = all.len();
    let tl = total / 3;
    let tc = (total - tl) / 2;
    set_entries(left, &all[..tl]);
    set_entries(center, &all[tl..tl + tc]);
    set_entries(right, &all[tl + tc..]);
}

/// Turns the full root `b` into an internal node over two new children holding its
/// entries (the root keeps its block).
fn split_beneath(tm: &mut TransactionManager, b: MetaBlock) -> Result<()> {
    let mut root = read_node(tm, b)?;
    let all = entries(&root);
    let nl = all.len() / 2;
    let (lb, mut left) = new_node_like(tm, &root)?;
    let (rb, mut right) = new_node_like(tm, &root)?;
    set_entries(&mut left, &all[..nl]);
    set_entries(&mut right, &all[nl..]);
    let lk = key(&left, 0);
    let rk = key(&right, 0);
    write_node(tm, lb, left)?;
    write_node(tm, rb, right)?;
    // Only the header and the two entries change (btree_split_beneath): the rest of the
    // block keeps the old node's keys and values, as in the kernel's images.
    let old = header(&root);
    let h = NodeHeader {
        nr_entries: 2,
        ..NodeHeader {
            blocknr: old.blocknr,
            padding: old.padding,
            ..NodeHeader::empty(true, 0)
        }
    };
    h.encode(&mut root);
    put_key(&mut root, 0, lk);
    put_value(&mut root, &h, 0, &lb.to_le_bytes());
    put_key(&mut root, 1, rk);
    put_value(&mut root, &h, 1, &rb.to_le_bytes());
    write_node(tm, b, root)
}

/// Makes room in `cur`, child `i` of `parent`; returns the node the key now belongs in.
fn rebalance_or_split<V: Value>(
    tm: &mut TransactionManager,
    parent: MetaBlock,
    i: usize,
    cur: MetaBlock,
    k: u64,
) -> Result<MetaBlock> {
    let p = read_node(tm, parent)?;
    let nr_parent = nr(&p);
    let free = |n: &BlockBuf| max(n) - nr(n);
    let mut left_shared = false;
    let mut right_shared = false;
    if i > 0 {
        let lb = child(&p, i - 1);
        left_shared = tm.count(lb) > 1;
        if !left_shared && free(&load::<V>(tm, lb)?) >= SPACE_THRESHOLD {
            let ls = shadow_child::<V>(tm, parent, i - 1)?;
            let mut left = read_node(tm, ls)?;
            let mut right = read_node(tm, cur)?;
            redistribute2(&mut left, &mut right);
            let rk = key(&right, 0);
            write_node(tm, ls, left)?;
            write_node(tm, cur, right)?;
            let mut p = read_node(tm, parent)?;
            put_key(&mut p, i, rk);
            write_node(tm, parent, p)?;
            return Ok(if k < rk { ls } else { cur });
        }
    }
    if i + 1 < nr_parent {
        let rb = child(&p, i + 1);
        right_shared = tm.count(rb) > 1;
        if !right_shared && free(&load::<V>(tm, rb)?) >= SPACE_THRESHOLD {
            let rs = shadow_child::<V>(tm, parent, i + 1)?;
            let mut left = read_node(tm, cur)?;
            let mut right = read_node(tm, rs)?;
            redistribute2(&mut left, &mut right);
            let rk = key(&right, 0);
            write_node(tm, cur, left)?;
            write_node(tm, rs, right)?;
            let mut p = read_node(tm, parent)?;
            put_key(&mut p, i + 1, rk);
            write_node(tm, parent, p)?;
            return Ok(if k < rk { cur } else { rs });
        }
    }
    if left_shared || right_shared || nr_parent <= 2 || i == 0 || i + 1 == nr_parent {
        split_one_into_two(tm, parent, i, cur, k)
    } else {
        split_two_into_three::<V>(tm, parent, i, cur, k)
    }
}

fn split_one_into_two(
    tm: &mut TransactionManager,
    parent: MetaBlock,
    i: usize,
    cur: MetaBlock,
    k: u64,
) -> Result<MetaBlock> {
    let mut left = read_node(tm, cur)?;
    let (rb, mut right) = new_node_like(tm, &left)?;
    redistribute2(&mut left, &mut right);
    let rk = key(&right, 0);
    write_node(tm, cur, left)?;
    write_node(tm, rb, right)?;
    let mut p = read_node(tm, parent)?;
    insert_entry(&mut p, i + 1, rk, &rb.to_le_bytes());
    write_node(tm, parent, p)?;
    Ok(if k < rk { cur } else { rb })
}

fn split_two_into_three<V: Value>(
    tm: &mut TransactionManager,
    parent: MetaBlock,
    i: usize,
    cur: MetaBlock,
    k: u64,
) -> Result<MetaBlock> {
    let (middle_index, lb, rb) = if i == 0 {
        (1, cur, shadow_child::<V>(tm, parent, 1)?)
    } else {
        (i, shadow_child::<V>(tm, parent, i - 1)?, cur)
    };
    let mut left = read_node(tm, lb)?;
    let mut right = read_node(tm, rb)?;
    let (mb, mut middle) = new_node_like(tm, &left)?;
    redistribute3(&mut left, &mut middle, &mut right);
    let (mk, rk) = (key(&middle, 0), key(&right, 0));
    write_node(tm, lb, left)?;
    write_node(tm, mb, middle)?;
    write_node(tm, rb, right)?;
    let mut p = read_node(tm, parent)?;
    put_key(&mut p, middle_index, rk);
    insert_entry(&mut p, middle_index, mk, &mb.to_le_bytes());
    write_node(tm, parent, p)?;
    Ok(if k < mk {
        lb
    } else if k < rk {
        mb
    } else {
        rb
    })
}

fn has_space_for_insert(node: &BlockBuf, k: u64) -> bool {
    if nr(node) < max(node) {
        return true;
    }
    is_leaf(node) && find_le(node, k).is_some_and(|i| key(node, i) == k)
}

/// Inserts or replaces `k → v`; returns the new root. A replaced value different from
/// `v` loses the reference it held.
pub fn insert<V: Value>(
    tm: &mut TransactionManager,
    root: MetaBlock,
    k: u64,
    v: &V,
) -> Result<MetaBlock> {
    let v = &encode_vec(v)[..];
    let (new_root, _) = shadow_node::<V>(tm, root)?;
    let mut cur = new_root;
    let mut parent: Option<(MetaBlock, usize)> = None;
    for _ in 0..MAX_DEPTH {
        let node = read_node(tm, cur)?;
        if !has_space_for_insert(&node, k) {
            cur = match parent {
                None => {
                    split_beneath(tm, cur)?;
                    cur
                }
                Some((p, i)) => rebalance_or_split::<V>(tm, p, i, cur, k)?,
            };
        }
        let mut node = read_node(tm, cur)?;
        let pos = find_le(&node, k);
        if is_leaf(&node) {
            if let Some(i) = pos.filter(|&i| key(&node, i) == k) {
                let old = value(&node, i).to_vec();
                let h = header(&node);
                put_value(&mut node, &h, i, v);
                write_node(tm, cur, node)?;
                if old != v {
                    decode_in::<V>(cur, BlockKind::BtreeNode, i, &old)?.dec(tm)?;
                }
            } else {
                insert_entry(&mut node, pos.map_or(0, |i| i + 1), k, v);
                write_node(tm, cur, node)?;
            }
            return Ok(new_root);
        }
        if nr(&node) == 0 {
            return Err(bad(cur, "internal node with no entries".into()));
        }
        let i = match pos {
            Some(i) => i,
            None => {
                put_key(&mut node, 0, k);
                write_node(tm, cur, node)?;
                0
            }
        };
        let c = shadow_child::<V>(tm, cur, i)?;
        parent = Some((cur, i));
        cur = c;
    }
    Err(Error::TooDeep {
        block: root,
        max: MAX_DEPTH,
    })
}
