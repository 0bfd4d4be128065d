//! Single-level btrees (format.md §4): node layout, validated views and walks, and the
//! bulk builder of offline writers.

mod build;
pub(crate) mod cow;
mod node;
mod walk;

pub use build::{btree_nr_nodes, btree_shape, node_sizes, BtreeBuilder};
pub use node::{max_entries, NodeView, INTERNAL_FLAG, LEAF_FLAG, NODE_HEADER_SIZE};
pub use walk::{collect_leaves, walk_leaves, MAX_DEPTH};
