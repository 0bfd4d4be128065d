//! Single-level btrees (format.md §4): the node codec, validated views and walks, and
//! the bulk builder of offline writers.

mod build;
pub mod cow;
mod node;
mod walk;

pub use build::{btree_nr_nodes, btree_shape, node_sizes, BtreeBuilder};
pub use node::{
    get_key, get_value, key_offset, max_entries, pack_node, put_entries, put_key, put_value,
    NodeFault, NodeHeader, NodeView, INTERNAL_FLAG, INTERNAL_VALUE_SIZE, LEAF_FLAG,
    NODE_HEADER_SIZE,
};
pub use walk::{
    collect_leaves, walk_leaves, walk_tree, BtreeVisitor, Flow, NodeAt, WalkFault, MAX_DEPTH,
};
