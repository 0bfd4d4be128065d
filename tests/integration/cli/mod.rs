//! Command-line tests of every tool, run against the built binaries.

mod check;
mod contract;
mod dump;
mod interrupted;
mod invalidate;
mod invalidate_formats;
mod locking;
mod messages;
mod metadata_size;
mod output_is_input;
mod output_paths;
mod progress;
mod repair;
mod restore;
pub(crate) mod support;
mod tpt_compat;
mod xml_detection;
