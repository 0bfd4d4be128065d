//! era_emulate: run the Linux dm-era target against a metadata image and an origin image.

use anyhow::Context;
use clap::Parser;
use era_tools::cli::emulate::{EmulateArgs, EmulateCommand};
use era_tools::emulate::devices::open_devices;
use era_tools::emulate::runner::{RunConfig, Runner};
use era_tools::emulate::script::parse_script;
use era_tools::emulate::target::{check_block_size, parse_block_size};
use std::io::Read;
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    let args = EmulateArgs::parse();
    let EmulateCommand::Run {
        meta,
        origin,
        block_size,
        length,
        unsafe_no_sync,
        script,
    } = args.command;
    let text = match &script {
        Some(p) if p.as_os_str() != "-" => std::fs::read_to_string(p)
            .with_context(|| format!("cannot read script {}", p.display())),
        _ => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map(|_| s)
                .context("cannot read the script from stdin")
        }
    };
    let text = match text {
        Ok(t) => t,
        Err(e) => {
            eprintln!("era_emulate: {e:#}");
            return ExitCode::from(2);
        }
    };
    let lines = match parse_script(&text) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("era_emulate: syntax error: {e}");
            return ExitCode::from(2);
        }
    };
    let block_size = match parse_block_size(&block_size).and_then(|b| {
        check_block_size(b)?;
        Ok(b)
    }) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("era_emulate: --block-size {block_size}: {e}");
            return ExitCode::from(2);
        }
    };
    let sync = !unsafe_no_sync;
    let cfg = match open_devices(&meta, &origin, sync) {
        Ok(d) => RunConfig {
            meta: Arc::new(d.meta),
            origin: Arc::new(d.origin),
            block_size,
            length,
            sync,
            meta_name: meta.display().to_string(),
            origin_name: origin.display().to_string(),
        },
        Err(e) => {
            eprintln!("era_emulate: {e}");
            return ExitCode::from(1);
        }
    };
    let mut runner = Runner::new(cfg);
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let ok = runner.run(&lines, &mut stdout.lock(), &mut stderr.lock());
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
