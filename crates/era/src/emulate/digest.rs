//! The digest cursor (target.md §8): fold archived writesets into the era array, oldest
//! first, one step per worker pass.

use super::metadata::LiveMetadata;
use super::Result;
use crate::pdata::bitset::test_bit;
use crate::units::DataBlock;

/// Bits examined by one transcribe step.
pub const BITS_PER_STEP: u32 = 100;

/// Where the digest stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Digest {
    /// Nothing to do until the next kick-off.
    #[default]
    Idle,
    /// Next step: find the lowest era in the tree.
    Lookup,
    /// Next step: copy bits `[next, min(next + 100, n))` of era `era`'s writeset.
    Transcribe {
        era: u32,
        words: Vec<u64>,
        n: u32,
        next: u32,
    },
    /// Next step: remove era `era` from the tree.
    Remove { era: u32 },
}

impl Digest {
    /// Whether a digest is running.
    pub fn is_running(&self) -> bool {
        *self != Digest::Idle
    }

    /// Performs one step.
    pub fn step(&mut self, md: &mut LiveMetadata) -> Result<()> {
        let next = match std::mem::take(self) {
            Digest::Idle => Digest::Idle,
            Digest::Lookup => match md.lowest_writeset()? {
                None => Digest::Idle,
                Some((era, ws)) => {
                    let words = md.read_bitset(&ws)?;
                    Digest::Transcribe {
                        era,
                        words,
                        n: ws.nr_bits.min(md.nr_blocks),
                        next: 0,
                    }
                }
            },
            Digest::Transcribe {
                era,
                words,
                n,
                next,
            } => {
                let end = next.saturating_add(BITS_PER_STEP).min(n);
                for b in next..end {
                    if test_bit(&words, u64::from(b)) {
                        md.set_era(DataBlock::new(b), era)?;
                    }
                }
                if end >= n {
                    Digest::Remove { era }
                } else {
                    Digest::Transcribe {
                        era,
                        words,
                        n,
                        next: end,
                    }
                }
            }
            Digest::Remove { era } => {
                md.remove_writeset(era)?;
                Digest::Lookup
            }
        };
        *self = next;
        Ok(())
    }
}
