//! The XML forms of era metadata, compatible with thin-provisioning-tools: a direct,
//! parallel formatter for dumps and for `era_invalidate`'s block list.

mod blocks;
mod lines;
mod reader;
mod writer;

pub use blocks::{push_block_run, write_blocks, BLOCKS_HEAD, BLOCKS_TAIL};
pub use reader::{build_from_xml, build_from_xml_for_device, read_xml, ReadError, ReadErrorKind};
pub use writer::{XmlStyle, XmlWriter};
