//! The XML forms of era metadata, compatible with thin-provisioning-tools: a direct,
//! parallel formatter for dumps and for `era_invalidate`'s block list.

mod blocks;
mod writer;

pub use blocks::write_blocks;
pub use writer::{XmlStyle, XmlWriter};
