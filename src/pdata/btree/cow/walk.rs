//! Whole-tree walks of the copy-on-write code: collecting every entry and releasing a
//! tree. Like the kernel's, they check each node's header against the tree and bound
//! the depth, but neither keys nor revisits: a damaged tree gives what the kernel's
//! walk would give.

use super::*;
use crate::pdata::btree::node::NodeView;
use crate::pdata::btree::walk::{walk_tree, BtreeVisitor, Flow, NodeAt, WalkFault};

/// What a walk does with each node it reads.
enum Action<'o> {
    Collect(&'o mut Vec<Entry>),
    /// Drop one reference to each node; a node that becomes free releases its children
    /// and values in turn (one still shared is not entered).
    Release,
}

struct Cow<'t, 'o> {
    tm: &'t mut TransactionManager,
    tt: &'t TreeType,
    action: Action<'o>,
}

impl BtreeVisitor for Cow<'_, '_> {
    type Error = Error;
    type Block = Box<BlockBuf>;
    type Mark = ();

    fn read(&mut self, at: &NodeAt) -> Result<Option<Box<BlockBuf>>> {
        let b = at.block;
        if matches!(self.action, Action::Release) && self.tm.count(b) > 1 {
            self.tm.dec(b)?;
            return Ok(None);
        }
        let n = load(self.tm, b, self.tt)?;
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

    fn leaf(&mut self, _: &NodeAt, node: &NodeView, (): ()) -> Result<()> {
        let n = node.nr_entries as usize;
        match &mut self.action {
            Action::Collect(out) => {
                out.extend((0..n).map(|i| (node.key(i), node.value(i).to_vec())));
            }
            Action::Release => {
                for i in 0..n {
                    self.tt.dec(self.tm, node.value(i))?;
                }
            }
        }
        Ok(())
    }

    fn child(&mut self, _: &NodeAt, _: MetaBlock, (): ()) -> Result<bool> {
        Ok(true)
    }
}

/// Every entry in key order.
pub fn collect(tm: &mut TransactionManager, root: MetaBlock, tt: &TreeType) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    let mut v = Cow {
        tm,
        tt,
        action: Action::Collect(&mut out),
    };
    walk_tree(root, tt.size() as u32, &mut v)?;
    Ok(out)
}

/// Drops one reference to the tree at `root`; nodes that become free release their
/// children and values in turn.
pub fn release(tm: &mut TransactionManager, root: MetaBlock, tt: &TreeType) -> Result<()> {
    let mut v = Cow {
        tm,
        tt,
        action: Action::Release,
    };
    walk_tree(root, tt.size() as u32, &mut v)
}
