//! What a salvage could not read, and how it covered it: one [`Lost`] a kind, so that a
//! caller can tell them apart; the text each prints is the report's line.

use super::evidence::bits_reached;
use crate::pdata::salvage::ArrayExtent;
use crate::units::MetaBlock;
use std::fmt;

/// Something that could not be read, and how the repair covered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loss {
    /// The block at fault.
    pub block: MetaBlock,
    /// What was lost and how it was covered.
    pub lost: Lost,
}

impl Loss {
    /// A loss at `block`.
    pub fn new(block: MetaBlock, lost: Lost) -> Loss {
        Loss { block, lost }
    }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "block {}: {}", self.block, self.lost)
    }
}

/// Which writeset a loss is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whose {
    /// An entry of the writeset tree.
    Writeset(u32),
    /// The superblock's live current writeset.
    Current(u32),
    /// A writeset-tree leaf entry found by the scan of a device whose superblock is lost.
    Scanned(u32),
}

impl Whose {
    /// The writeset's era.
    pub fn era(self) -> u32 {
        match self {
            Whose::Writeset(e) | Whose::Current(e) | Whose::Scanned(e) => e,
        }
    }
}

impl fmt::Display for Whose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Whose::Writeset(e) => write!(f, "writeset of era {e}"),
            Whose::Current(e) => write!(f, "current writeset of era {e}"),
            Whose::Scanned(e) => write!(f, "a writeset of era {e} found by the scan"),
        }
    }
}

/// Why a writeset's bitset could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoBitset {
    /// Its bitset root is 0.
    RootZero,
    /// Its bitset root is named by the writesets of these eras too.
    Shared {
        /// The bitset root.
        root: MetaBlock,
        /// The eras of the other writesets naming it.
        eras: Vec<u32>,
    },
}

impl fmt::Display for NoBitset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoBitset::RootZero => write!(f, "its bitset root is 0"),
            NoBitset::Shared { root, eras } => write!(
                f,
                "its bitset root {root} is named by the writesets of eras {eras:?} too (at most one can be right)"
            ),
        }
    }
}

/// What was lost, and how the repair covered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lost {
    /// The superblock's `nr_blocks` disagrees with the era array's index: `used` is used.
    NrBlocks {
        /// The value the damaged metadata states.
        stated: u32,
        /// How long the era array's index shows the array to be.
        era_array: ArrayExtent,
        /// The value the repaired metadata uses.
        used: u32,
    },
    /// The superblock's `current_era` is below the eras the metadata records.
    CurrentEra {
        /// The value the damaged metadata states.
        stated: u32,
        /// The value the repaired metadata uses.
        used: u32,
    },
    /// A writeset's `nr_bits` disagrees with its bitset's length: `used` is used.
    NrBits {
        /// The writeset concerned.
        whose: Whose,
        /// The value the damaged metadata states.
        stated: u32,
        /// How long the bitset's index shows the bitset to be, in 64-bit words.
        words: ArrayExtent,
        /// The value the repaired metadata uses.
        used: u32,
    },
    /// A writeset-tree key that is no era: every block counts as written in `covered`.
    InvalidEra {
        /// The key as found.
        key: u64,
        /// The era the covered blocks count as written in.
        covered: u32,
    },
    /// Writeset-tree keys `[lo, hi)` (up to `current`) lost: every block counts as
    /// written in `covered`.
    WritesetTree {
        /// The lowest key lost.
        lo: u64,
        /// The bound above the keys lost (`None`: unbounded).
        hi: Option<u64>,
        /// The current era of the repaired metadata.
        current: u32,
        /// Why it could not be read.
        reason: String,
        /// The era the covered blocks count as written in.
        covered: u32,
    },
    /// A writeset whose bitset cannot be read at all: every block counts as written in
    /// its era.
    Bitset {
        /// The writeset concerned.
        whose: Whose,
        /// Why the bitset could not be read.
        why: NoBitset,
    },
    /// A writeset's bits of blocks `[first, end)`: they count as written in its era.
    Bits {
        /// The writeset concerned.
        whose: Whose,
        /// The first origin block concerned.
        first: u64,
        /// The origin block after the last one concerned.
        end: u64,
        /// Why it could not be read.
        reason: String,
    },
    /// Era-array entries `[first, end)`: blocks no writeset names get `current`.
    EraArray {
        /// The first origin block concerned.
        first: u64,
        /// The origin block after the last one concerned.
        end: u64,
        /// Why it could not be read.
        reason: String,
        /// The current era of the repaired metadata.
        current: u32,
    },
    /// No era-array block found for blocks `[first, end)` by the scan: they get
    /// `current`.
    EraArrayNotFound {
        /// The first origin block concerned.
        first: u64,
        /// The origin block after the last one concerned.
        end: u64,
        /// The current era of the repaired metadata.
        current: u32,
    },
}

impl fmt::Display for Lost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lost::NrBlocks {
                stated,
                era_array: e,
                used,
            } => write!(
                f,
                "superblock: nr_blocks {stated} disagrees with the era array, whose index holds {}{} values; {used} is used",
                e.min,
                match e.max {
                    Some(m) if m == e.min => String::new(),
                    Some(m) => format!("..={m}"),
                    None => " or more".into(),
                }
            ),
            Lost::CurrentEra { stated, used } => write!(
                f,
                "superblock: current_era {stated} is below the eras the metadata records; {used} is used"
            ),
            Lost::NrBits {
                whose,
                stated,
                words,
                used,
            } => {
                // The writeset's kind and era, as "current writeset of era 5".
                let (lo, hi) = bits_reached(words);
                let lo = lo.max(1);
                write!(
                    f,
                    "{whose}: nr_bits {stated} disagrees with its bitset, which reaches {lo}..={} bits; {used} is used",
                    hi.map_or("?".into(), |h| h.to_string())
                )
            }
            Lost::InvalidEra { key, covered } => write!(
                f,
                "writeset tree: an entry for era {key} is not a valid era; every block counts as written in era {covered}"
            ),
            Lost::WritesetTree {
                lo,
                hi,
                current,
                reason,
                covered,
            } => {
                let eras = match hi {
                    Some(h) => format!("eras {lo}..{}", (*h).min(u64::from(*current) + 1)),
                    None => format!("eras from {lo}"),
                };
                write!(
                    f,
                    "writeset tree: the writesets of {eras} could not be read ({reason}); every block counts as written in era {covered}"
                )
            }
            Lost::Bitset {
                whose: Whose::Scanned(era),
                why: NoBitset::RootZero,
            } => write!(
                f,
                "a writeset of era {era} has bitset root 0; every block counts as written in era {era}"
            ),
            Lost::Bitset { whose, why } => write!(
                f,
                "{whose}: {why}; every block counts as written in era {}",
                whose.era()
            ),
            Lost::Bits {
                whose,
                first,
                end,
                reason,
            } => write!(
                f,
                "{whose}: the bits of blocks {first}..{end} could not be read ({reason}); they count as written in era {}",
                whose.era()
            ),
            Lost::EraArray {
                first,
                end,
                reason,
                current,
            } => write!(
                f,
                "era array: the eras of blocks {first}..{end} could not be read ({reason}); blocks no writeset names get the current era {current}"
            ),
            Lost::EraArrayNotFound {
                first,
                end,
                current,
            } => write!(
                f,
                "era array: no readable era-array block was found for blocks {first}..{end}; they get the current era {current}"
            ),
        }
    }
}
