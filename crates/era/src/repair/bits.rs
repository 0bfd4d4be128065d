//! The salvage of one writeset's bitset, shared by the salvage of a superblock's roots
//! and the rebuild from a scan: its size from what its index evidences, then one read of
//! the whole bitset (an array block at a time) to find what is lost. Lost bits count as
//! written in the writeset's era (through the [`Floor`]); the bits themselves are read
//! again when the writeset is written ([`super::plan`]).

use super::evidence::{lose_last_block, nr_bits as nr_bits_of};
use super::floor::Floor;
use super::loss::{Loss, Lost, Whose};
use super::plan::Bits;
use crate::io::BlockIo;
use crate::pdata::array::block::array_max_entries;
use crate::pdata::bitset::nr_words;
use crate::pdata::salvage::{salvage_index, ArrayExtent, ArrayIndex};
use crate::superblock::WritesetRoot;

/// A bitset's index and size, before its blocks are read.
#[derive(Debug, Clone)]
pub struct Sized {
    pub index: ArrayIndex<u64>,
    /// The words its index evidences.
    pub words: ArrayExtent,
    /// The size used: the stated one if the index admits it.
    pub nr_bits: u32,
    /// Whether its last block disagrees with the stated size (and is not trusted).
    pub suspect: bool,
}

/// Reads the index of the bitset `ws` names and sizes it (`hint`: the origin size it
/// was likely created with; `cap`: what the device can describe).
pub fn size(io: &dyn BlockIo, ws: WritesetRoot, hint: u32, cap: u64) -> Sized {
    let index = salvage_index::<u64>(io, ws.root, nr_words(cap));
    let words = index.extent(io);
    let (nr_bits, suspect) = nr_bits_of(ws.nr_bits, &words, hint, cap);
    Sized {
        index,
        words,
        nr_bits,
        suspect,
    }
}

/// Reads the bitset `ws` names (sized by [`size`]) once to find what is lost: every
/// lost range becomes a loss of `whose` and raises `floor` to its era. Returns where its
/// bits are.
pub fn salvage(
    io: &dyn BlockIo,
    whose: Whose,
    ws: WritesetRoot,
    sized: Sized,
    losses: &mut Vec<Loss>,
    floor: &mut Floor,
) -> Bits {
    let Sized {
        index,
        nr_bits,
        suspect,
        ..
    } = sized;
    let words = nr_words(u64::from(nr_bits));
    let mut lost = index.read_blocks(io, words, 0..u64::MAX, &mut |_, _| {});
    if suspect {
        lose_last_block(
            &mut lost,
            words,
            u64::from(array_max_entries(8)),
            ws.root,
            format!(
                "its bitset's last block and its nr_bits {} disagree on the bitset's length; one of them is wrong",
                ws.nr_bits
            ),
        );
    }
    let era = whose.era();
    let lost_words = lost.iter().map(|l| (l.first, l.end)).collect();
    for l in lost {
        let (first, end) = (l.first * 64, (l.end * 64).min(u64::from(nr_bits)));
        losses.push(Loss::new(
            l.block,
            Lost::Bits {
                whose,
                first,
                end,
                reason: l.reason,
            },
        ));
        floor.raise(first, end, era);
    }
    Bits::Array {
        index,
        nr_bits,
        lost: lost_words,
    }
}
