//! The superblock's sizes taken as the largest value the rest of the metadata evidences:
//! a field with a valid checksum can still be wrong (a bit flipped before the checksum
//! was computed, a tool's bug), and a size smaller than the structures it describes
//! would drop what they record. Every size is also bounded by what the device can hold,
//! so that no claim sizes an allocation by itself.

use crate::io::BlockIo;
use crate::pdata::array_block::array_max_entries;
use crate::pdata::bitset::nr_words;
use crate::pdata::salvage::ArrayExtent;
use crate::pdata::space_map::MAX_METADATA_BLOCKS;
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

/// A writeset's `nr_bits`: the stated one if its bitset's length (in words) admits it,
/// else `hint` (the origin size it was likely created with) moved into the range the
/// bitset reaches.
pub fn nr_bits(stated: u32, words: &ArrayExtent, hint: u32, cap: u64) -> u32 {
    if words.admits(nr_words(u64::from(stated))) && u64::from(stated) <= cap {
        return stated;
    }
    let lo = words.min.saturating_sub(1).saturating_mul(64) + u64::from(words.min > 0);
    let hi = words.max.map_or(cap, |w| w.saturating_mul(64));
    clamp(u64::from(hint).max(u64::from(stated)), lo, hi, cap)
}

/// The origin size: the era array's length when its index tells it exactly; else the
/// largest of the claim and the writesets' sizes, within what the index admits.
pub fn nr_blocks(
    claim: u32,
    era: &ArrayExtent,
    ws_bits: impl Iterator<Item = u32>,
    cap: u64,
) -> u32 {
    if let Some(len) = era.exact() {
        return clamp(len, len, len, cap);
    }
    let want = ws_bits.map(u64::from).fold(u64::from(claim), u64::max);
    clamp(want, era.min, era.max.unwrap_or(cap), cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAP: u64 = 1 << 20;

    #[test]
    fn an_exact_era_array_decides_the_origin_size() {
        let e = ArrayExtent {
            min: 8189,
            max: Some(8189),
        };
        assert_eq!(nr_blocks(0, &e, [9000].into_iter(), CAP), 8189);
        assert_eq!(nr_blocks(u32::MAX >> 1, &e, [].into_iter(), CAP), 8189);
    }

    #[test]
    fn an_open_era_array_takes_the_largest_evidence_within_the_device() {
        let e = ArrayExtent {
            min: 1019,
            max: None,
        };
        assert_eq!(nr_blocks(5, &e, [3000].into_iter(), CAP), 3000);
        assert_eq!(nr_blocks(u32::MAX, &e, [].into_iter(), CAP), CAP as u32);
        let e = ArrayExtent {
            min: 1019,
            max: Some(2036),
        };
        assert_eq!(nr_blocks(5000, &e, [].into_iter(), CAP), 2036);
    }

    #[test]
    fn writeset_bits_reach_as_far_as_the_bitset() {
        let w = ArrayExtent {
            min: 16,
            max: Some(16),
        };
        assert_eq!(nr_bits(1021, &w, 1021, CAP), 1021);
        assert_eq!(nr_bits(1, &w, 1021, CAP), 1021);
        assert_eq!(nr_bits(1, &w, 5, CAP), 961);
        assert_eq!(nr_bits(5000, &w, 1021, CAP), 1024);
    }
}
