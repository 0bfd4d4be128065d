//! Command-line tests of every tool, run against the built binaries.

#[path = "../common/mod.rs"]
mod common;

mod check;
mod contract;
mod dump;
mod invalidate;
mod locking;
mod output_paths;
mod repair;
mod restore;
mod support;
mod xml_detection;
