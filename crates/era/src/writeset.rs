//! The writeset tree: era (u64 key) → `{nr_bits, root}` (12-byte value).

use super::superblock::WritesetRoot;
use super::{Error, Result};
use crate::io::BlockIo;
use crate::pdata::btree::collect_leaves;
use crate::pdata::value::Value;
use crate::units::{Era, MetaBlock};

/// Leaf value size of the writeset tree.
pub const WRITESET_VALUE_SIZE: u32 = WritesetRoot::SIZE_U32;

/// A writeset to read: its era and root, and whether it is the live current writeset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WritesetSource {
    /// The era whose writes the writeset records (its key in the writeset tree).
    pub era: Era,
    /// Its size in bits and its bitset's root.
    pub root: WritesetRoot,
    /// True for the superblock's current writeset, false for an archived one.
    pub live: bool,
}

/// The archived writesets of the tree at `root`, eras ascending.
pub fn read_writeset_tree(io: &dyn BlockIo, root: MetaBlock) -> Result<Vec<WritesetSource>> {
    let entries = collect_leaves::<WritesetRoot>(io, root)?;
    entries
        .into_iter()
        .map(|(key, ws)| {
            let era = u32::try_from(key).map_err(|_| Error::Inconsistent {
                block: root,
                reason: format!("writeset tree key {key} is not a 32-bit era"),
            })?;
            if ws.root.is_zero() {
                return Err(Error::Inconsistent {
                    block: root,
                    reason: format!("writeset of era {era} has root 0"),
                });
            }
            Ok(WritesetSource {
                era: Era::new(era),
                root: ws,
                live: false,
            })
        })
        .collect()
}

/// The one rule on the eras of a view's writesets, which `era_check` reports and
/// `era_restore` refuses alike: `eras` (ascending and distinct: the archived eras plus
/// the live current writeset's) must form one contiguous range. The kernel archives
/// every era it starts and digests the oldest first, so it never leaves a gap
/// (format.md §8); `era_dump` 1.3.3 fails on one. Returns what is wrong.
pub fn writeset_eras_fault(eras: &[u64]) -> Option<String> {
    let (&first, &last) = (eras.first()?, eras.last()?);
    // Not `last - first + 1`: that overflows for the eras 0 and 2^64 - 1 (keys are 64 bits).
    if last.checked_sub(first) == Some(eras.len() as u64 - 1) {
        return None;
    }
    let shown: Vec<String> = eras.iter().take(16).map(|e| e.to_string()).collect();
    let more = if eras.len() > 16 { ", ..." } else { "" };
    Some(format!(
        "the writeset eras ({}{more}) are not one contiguous range",
        shown.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writeset_eras_must_be_one_contiguous_range() {
        assert_eq!(writeset_eras_fault(&[]), None);
        assert_eq!(writeset_eras_fault(&[7]), None);
        assert_eq!(writeset_eras_fault(&[2, 3, 4]), None);
        assert!(writeset_eras_fault(&[0, u64::MAX]).is_some());
        assert_eq!(
            writeset_eras_fault(&[1, 3]).as_deref(),
            Some("the writeset eras (1, 3) are not one contiguous range")
        );
    }
}
