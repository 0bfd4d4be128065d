//! Leaf value types (the kernel's `dm_btree_value_type`): a tree is known by the size
//! of its leaf values and by what a value holds a reference to. Copying a shared leaf
//! gives each of its values' references one more holder ([`ValueType::inc`]); dropping a
//! value drops its reference ([`ValueType::dec`]), releasing what nothing else holds.

use super::{release, TransactionManager};
use crate::pdata::codec::get_block;
use crate::pdata::Result;
use crate::units::MetaBlock;
use std::fmt;

/// What one leaf value holds a reference to.
#[derive(Clone, Copy)]
pub enum ValueRef {
    /// Nothing: plain data.
    None,
    /// A block of plain data (an array block).
    Block(MetaBlock),
    /// The root of a tree whose leaves are of the given type (a dm-array's index).
    Tree(MetaBlock, &'static TreeType),
}

/// The type of a tree's leaf values.
pub trait ValueType: fmt::Debug + Sync {
    /// Bytes per value.
    fn size(&self) -> usize;

    /// What `v` (exactly [`size`](Self::size) bytes) holds a reference to.
    fn reference(&self, v: &[u8]) -> ValueRef;

    /// Adds a reference to what `v` refers to.
    fn inc(&self, tm: &mut TransactionManager, v: &[u8]) -> Result<()> {
        match self.reference(v) {
            ValueRef::None => Ok(()),
            ValueRef::Block(b) | ValueRef::Tree(b, _) => tm.inc(b).map(|_| ()),
        }
    }

    /// Drops a reference to what `v` refers to, releasing it when unreferenced.
    fn dec(&self, tm: &mut TransactionManager, v: &[u8]) -> Result<()> {
        match self.reference(v) {
            ValueRef::None => Ok(()),
            ValueRef::Block(b) => tm.dec(b).map(|_| ()),
            ValueRef::Tree(root, tt) => release(tm, root, tt),
        }
    }
}

/// A tree, as its leaf value type.
pub type TreeType = dyn ValueType;

/// Plain values of the given size (the ref-count tree's counts, for instance).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plain(pub usize);

impl ValueType for Plain {
    fn size(&self) -> usize {
        self.0
    }

    fn reference(&self, _: &[u8]) -> ValueRef {
        ValueRef::None
    }
}

/// The values of a dm-array's index: the u64 block number of an array block of plain
/// values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArrayBlocks;

impl ValueType for ArrayBlocks {
    fn size(&self) -> usize {
        8
    }

    fn reference(&self, v: &[u8]) -> ValueRef {
        ValueRef::Block(get_block(v, 0))
    }
}

/// The index tree of a dm-array: array-block index → array block.
pub const ARRAY_INDEX_TREE: ArrayBlocks = ArrayBlocks;

/// Values of `size` bytes holding, at `offset`, the u64 root of a dm-array of plain
/// values (a bitset, for instance).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArrayRoots {
    pub size: usize,
    pub offset: usize,
}

impl ValueType for ArrayRoots {
    fn size(&self) -> usize {
        self.size
    }

    fn reference(&self, v: &[u8]) -> ValueRef {
        ValueRef::Tree(get_block(v, self.offset), &ARRAY_INDEX_TREE)
    }
}
