//! The writeset tree: era (u64 key) → `{nr_bits, root}` (12-byte value).

use super::superblock::{WritesetRoot, WRITESET_ROOT_SIZE};
use super::{Error, Result};
use crate::io::BlockIo;
use crate::pdata::btree::collect_leaves;
use crate::units::MetaBlock;

/// Leaf value size of the writeset tree.
pub const WRITESET_VALUE_SIZE: u32 = WRITESET_ROOT_SIZE as u32;

/// A writeset to read: its era and root, and whether it is the live current writeset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WritesetSource {
    pub era: u32,
    pub root: WritesetRoot,
    pub live: bool,
}

/// The archived writesets of the tree at `root`, eras ascending.
pub fn read_writeset_tree(io: &dyn BlockIo, root: MetaBlock) -> Result<Vec<WritesetSource>> {
    let entries = collect_leaves(io, root, WRITESET_VALUE_SIZE, WritesetRoot::unpack)?;
    entries
        .into_iter()
        .map(|(key, ws)| {
            let era = u32::try_from(key).map_err(|_| Error::Inconsistent {
                block: root,
                reason: format!("writeset tree key {key} is not a 32-bit era"),
            })?;
            if ws.root == 0 {
                return Err(Error::Inconsistent {
                    block: root,
                    reason: format!("writeset of era {era} has root 0"),
                });
            }
            Ok(WritesetSource {
                era,
                root: ws,
                live: false,
            })
        })
        .collect()
}
