//! The superblock's sizes taken as the largest value the rest of the metadata evidences:
//! a field with a valid checksum can still be wrong (a bit flipped before the checksum
//! was computed, a tool's bug), and a size smaller than the structures it describes
//! would drop what they record. Every size is also bounded by what the device can hold,
//! so that no claim sizes an allocation by itself.

use crate::io::BlockIo;
use crate::pdata::array::block::array_max_entries;
use crate::pdata::array::nr_array_blocks;
use crate::pdata::bitset::nr_words;
use crate::pdata::salvage::{ArrayExtent, LostValues};
use crate::pdata::space_map::MAX_METADATA_BLOCKS;
use crate::units::MetaBlock;
use crate::units::ORIGIN_BLOCKS_LIMIT;

/// The most origin blocks an era array on `io` can describe (below 2^31).
pub fn capacity(io: &dyn BlockIo) -> u64 {
    let blocks = io.nr_blocks().min(MAX_METADATA_BLOCKS);
    (blocks * u64::from(array_max_entries(4))).min(ORIGIN_BLOCKS_LIMIT - 1)
}

/// `want` moved into `[lo, hi]`, both first bounded by `cap`.
fn clamp(want: u64, lo: u64, hi: u64, cap: u64) -> u32 {
    let (lo, hi) = (lo.min(cap), hi.min(cap));
    let v = want.clamp(lo, hi.max(lo));
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// The fewest and the most bits a bitset of `words` words holds (`None`: no bound).
/// Saturating: a lost index subtree under a damaged key far up puts the words near 2^64.
pub fn bits_reached(words: &ArrayExtent) -> (u64, Option<u64>) {
    let lo = words
        .min
        .saturating_sub(1)
        .saturating_mul(64)
        .saturating_add(u64::from(words.min > 0));
    (lo, words.max.map(|w| w.saturating_mul(64)))
}

/// A writeset's `nr_bits`, and whether its bitset's last block must be taken as lost:
/// the stated one if its bitset's length (in words) admits it, else `hint` (the origin
/// size it was likely created with) moved into the range the bitset reaches.
///
/// As for the era array ([`nr_blocks`]): when the index lists exactly as many blocks as
/// the stated size needs but the last one holds another number of words, the block and
/// the claim disagree (one of them is wrong, perhaps a block swapped in from the middle
/// of the bitset), so the larger size is kept and the last block's bits are not trusted.
pub fn nr_bits(stated: u32, words: &ArrayExtent, hint: u32, cap: u64) -> (u32, bool) {
    let s = u64::from(stated);
    if words.admits(nr_words(s)) && s <= cap {
        return (stated, false);
    }
    let (lo, hi) = bits_reached(words);
    let hi = hi.unwrap_or(cap);
    let nr = clamp(u64::from(hint).max(s), lo, hi, cap);
    let fits = words.exact().is_some() && words.blocks == Some(nr_array_blocks(nr_words(s), 8));
    if fits {
        return (nr.max(clamp(s, s, s, cap)), true);
    }
    (nr, false)
}

/// Marks the last array block of an array of `len` values (`per_block` to a block) as
/// lost in `lost` (the ranges [`crate::pdata::salvage::ArrayIndex::values`] found),
/// for when [`nr_blocks`] or [`nr_bits`] finds it disagreeing with the stated length.
pub fn lose_last_block(
    lost: &mut Vec<LostValues>,
    len: u64,
    per_block: u64,
    block: MetaBlock,
    reason: String,
) {
    let first = (len.saturating_sub(1) / per_block) * per_block;
    lost.retain(|l| l.first < first);
    for l in lost.iter_mut() {
        l.end = l.end.min(first);
    }
    lost.push(LostValues {
        first,
        end: len,
        block,
        reason,
    });
}

/// The origin size, and whether the era array's last block must be taken as lost.
///
/// A claim that needs as many array blocks as the index lists stands, unless the last
/// block holds more values: then that many (the largest evidenced), and since the block
/// and the claim disagree (one of them is wrong, perhaps a block swapped in from the
/// middle of the array), the last block's values are not trusted. A claim the index's
/// block count contradicts gives way to the array's length when the index tells it
/// exactly; otherwise the largest of the claim and the writesets' sizes, within what the
/// index admits. All bounded by what the device can hold.
pub fn nr_blocks(
    claim: u32,
    era: &ArrayExtent,
    ws_bits: impl Iterator<Item = u32>,
    cap: u64,
) -> (u32, bool) {
    let s = u64::from(claim);
    let fits = era.blocks == Some(nr_array_blocks(s, 4));
    match era.exact() {
        Some(len) if fits && len > s => (clamp(len, len, len, cap), true),
        Some(len) if fits && len < s => (clamp(s, s, s, cap), true),
        Some(len) if !fits => (clamp(len, len, len, cap), false),
        _ if fits => (clamp(s, s, s, cap), false),
        _ => {
            let want = ws_bits.map(u64::from).fold(s, u64::max);
            let v = clamp(want, era.min, era.max.unwrap_or(cap), cap);
            (v, false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAP: u64 = 1 << 20;

    fn exact(len: u64) -> ArrayExtent {
        ArrayExtent {
            min: len,
            max: Some(len),
            blocks: Some(len.div_ceil(1018)),
        }
    }

    #[test]
    fn a_claim_the_index_contradicts_gives_way_to_the_era_array() {
        let e = exact(8189);
        assert_eq!(nr_blocks(0, &e, [9000].into_iter(), CAP), (8189, false));
        assert_eq!(nr_blocks(1024, &e, [].into_iter(), CAP), (8189, false));
        assert_eq!(
            nr_blocks(u32::MAX >> 1, &e, [].into_iter(), CAP),
            (8189, false)
        );
    }

    #[test]
    fn a_claim_the_last_block_disagrees_with_takes_the_larger_and_loses_the_block() {
        let e = exact(16384);
        assert_eq!(nr_blocks(16384, &e, [].into_iter(), CAP), (16384, false));
        assert_eq!(nr_blocks(16383, &e, [].into_iter(), CAP), (16384, true));
        assert_eq!(nr_blocks(16385, &e, [].into_iter(), CAP), (16385, true));
        // A full block swapped in at the end.
        assert_eq!(
            nr_blocks(16384, &exact(17306), [].into_iter(), CAP),
            (17306, true)
        );
    }

    #[test]
    fn an_open_era_array_takes_the_largest_evidence_within_the_device() {
        let e = ArrayExtent {
            min: 1019,
            max: None,
            blocks: None,
        };
        assert_eq!(nr_blocks(5, &e, [3000].into_iter(), CAP), (3000, false));
        assert_eq!(
            nr_blocks(u32::MAX, &e, [].into_iter(), CAP),
            (CAP as u32, false)
        );
        let e = ArrayExtent {
            min: 1019,
            max: Some(2036),
            blocks: Some(2),
        };
        assert_eq!(nr_blocks(5000, &e, [].into_iter(), CAP), (2036, false));
    }

    #[test]
    fn writeset_bits_reach_as_far_as_the_bitset() {
        let w = ArrayExtent {
            min: 16,
            max: Some(16),
            blocks: Some(1),
        };
        assert_eq!(nr_bits(1021, &w, 1021, CAP), (1021, false));
        assert_eq!(nr_bits(1, &w, 1021, CAP), (1021, true));
        assert_eq!(nr_bits(1, &w, 5, CAP), (961, true));
        // One block, as 5000 bits need, but holding 16 words: the claim is kept and
        // the block not trusted.
        assert_eq!(nr_bits(5000, &w, 1021, CAP), (5000, true));
        let two = ArrayExtent {
            blocks: Some(2),
            ..w
        };
        assert_eq!(nr_bits(5000, &two, 1021, CAP), (1024, false));
        // A full block swapped in at the end of a 100,000-bit bitset (1563 words in 4
        // blocks of 509, the last holding 36).
        let swapped = ArrayExtent {
            min: 2036,
            max: Some(2036),
            blocks: Some(4),
        };
        assert_eq!(nr_bits(100_000, &swapped, 100_000, CAP), (130_241, true));
    }
}
