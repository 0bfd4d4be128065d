//! The integration tests, one binary (one link instead of thirty): each module was a test
//! binary of its own. Run one with `cargo test --test integration MODULE::`.

mod cli;
mod common;
mod completions;
mod serve_support;

mod block_device;
mod check_corruption;
mod check_kernel;
mod dump_stream;
mod emulate_cli;
mod emulate_corrupt;
mod emulate_corrupt_kernel;
mod emulate_crash;
mod emulate_damaged_digest;
mod emulate_dmtest;
mod emulate_fidelity;
mod emulate_guardrails;
mod emulate_kernel;
mod emulate_metadata_full;
mod emulate_model;
mod emulate_seed_bugs;
mod emulate_sizing;
mod emulate_traces;
mod fuzz_regressions;
mod generate_cli;
mod generated;
mod install;
mod kernel_accepts;
mod kernel_read;
mod kernel_refuses;
mod oracle_live;
mod reader_robustness;
mod repair;
mod restore;
mod restore_interrupted;
mod serve_clients;
mod serve_crash;
mod serve_eras;
mod serve_protocol;
mod serve_snapshot;
mod xml_read;
