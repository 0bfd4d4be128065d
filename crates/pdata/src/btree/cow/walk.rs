//! Whole-tree walks of the copy-on-write code: collecting every entry and releasing a
//! tree. Like the kernel's, they check each node's header against the tree and bound
//! the depth, but neither keys nor revisits: a damaged tree gives what the kernel's
//! walk would give.

use super::*;
use crate::btree::node::NodeView;
use crate::btree::walk::{walk_tree, BtreeVisitor, Flow, NodeAt, WalkFault};

/// What a walk does with each node it reads.
enum Action<'o, V> {
    Collect(&'o mut Vec<(u64, V)>),
    /// Drop one reference to each node; a node that becomes free releases its children
    /// and values in turn (one still shared is not entered).
    Release,
}

struct Cow<'t, 'o, V> {
    tm: &'t mut TransactionManager,
    action: Action<'o, V>,
}

impl<V: Value> BtreeVisitor for Cow<'_, '_, V> {
    type Error = Error;
    type Block = Box<BlockBuf>;
    type Mark = ();

    fn read(&mut self, at: &NodeAt) -> Result<Option<Box<BlockBuf>>> {
        let b = at.block;
        if matches!(self.action, Action::Release) && self.tm.count(b) > 1 {
            self.tm.dec(b)?;
            return Ok(None);
        }
        let n = load::<V>(self.tm, b)?;
        if matches!(self.action, Action::Release) {
            self.tm.dec(b)?;
        }
        Ok(Some(Box::new(n)))
    }

    fn fault(&mut self, at: &NodeAt, fault: WalkFault) -> Result<Flow> {
        match fault {
            WalkFault::TooDeep => Err(Error::TooDeep {
                block: at.block,
                max: MAX_DEPTH,
            }),
            // `load` has checked the header against the tree already.
            WalkFault::Header(f) => Err(bad(at.block, f.to_string())),
            _ => Ok(Flow::Continue),
        }
    }

    fn node(&mut self, _: &NodeAt, _: &NodeView) -> Result<()> {
        Ok(())
    }

    fn leaf(&mut self, at: &NodeAt, node: &NodeView, (): ()) -> Result<()> {
        for i in 0..node.nr_entries as usize {
            let v: V = decode_in(at.block, BlockKind::BtreeNode, i, node.value(i))?;
            match &mut self.action {
                Action::Collect(out) => out.push((node.key(i), v)),
                Action::Release => v.dec(self.tm)?,
            }
        }
        Ok(())
    }

    fn child(&mut self, _: &NodeAt, _: MetaBlock, (): ()) -> Result<bool> {
        Ok(true)
    }
}

/// Every entry in key order.
pub fn collect<V: Value>(tm: &mut TransactionManager, root: MetaBlock) -> Result<Vec<(u64, V)>> {
    let mut out = Vec::new();
    let mut v = Cow {
        tm,
        action: Action::Collect(&mut out),
    };
    walk_tree(root, V::SIZE_U32, &mut v)?;
    Ok(out)
}

/// Drops one reference to the tree at `root`; nodes that become free release their
/// children and values in turn.
pub fn release<V: Value>(tm: &mut TransactionManager, root: MetaBlock) -> Result<()> {
    let mut v = Cow {
        tm,
        action: Action::<V>::Release,
    };
    walk_tree(root, V::SIZE_U32, &mut v)
}
