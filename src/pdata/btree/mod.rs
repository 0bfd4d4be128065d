//! Single-level btrees (format.md §4): node layout, validated views and walks.

pub mod cow;
mod node;
mod walk;

pub use node::{max_entries, NodeView, INTERNAL_FLAG, LEAF_FLAG, NODE_HEADER_SIZE};
pub use walk::{collect_leaves, walk_leaves, MAX_DEPTH};
