//! era_emulate: run the Linux dm-era target against a metadata image and an origin image,
//! from a script (`run`) or live over NBD (`serve`, with `message` and `status`).

use anyhow::Context;
use clap::Parser;
use era_tools::cli::emulate::{DiscardArg, EmulateArgs, EmulateCommand, TableArgs};
use era_tools::emulate::devices::{check_metadata_room, open_devices};
use era_tools::emulate::origin::Origin;
use era_tools::emulate::runner::{RunConfig, Runner};
use era_tools::emulate::script::parse_script;
use era_tools::emulate::target::{check_block_size, parse_block_size, Target, SECTOR};
use era_tools::serve::control;
use era_tools::serve::server::{bind, serve, Options};
use era_tools::serve::{DiscardMode, Limits};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

fn main() -> ExitCode {
    let args = EmulateArgs::parse();
    match args.command {
        EmulateCommand::Run { table, script } => run(&table, script),
        EmulateCommand::Serve {
            table,
            socket,
            listen,
            discard,
            handshake_limit,
        } => {
            let discard = match discard {
                DiscardArg::Mark => DiscardMode::Mark,
                DiscardArg::Kernel => DiscardMode::Kernel,
                DiscardArg::Ignore => DiscardMode::Ignore,
            };
            let limits = Limits {
                discard,
                handshake: Duration::from_secs(handshake_limit),
            };
            serve_cmd(
                &table,
                Options {
                    socket,
                    listen,
                    limits,
                },
            )
        }
        EmulateCommand::Message { socket, words } => {
            control_cmd(&socket, &format!("message {}", words.join(" ")))
        }
        EmulateCommand::Status { socket } => control_cmd(&socket, "status"),
    }
}

fn block_size_arg(block_size: &str) -> Result<u32, ExitCode> {
    parse_block_size(block_size)
        .and_then(|b| {
            check_block_size(b)?;
            Ok(b)
        })
        .map_err(|e| {
            eprintln!("era_emulate: --block-size {block_size}: {e}");
            ExitCode::from(2)
        })
}

fn run(table: &TableArgs, script: Option<PathBuf>) -> ExitCode {
    let TableArgs {
        meta,
        origin,
        block_size,
        length,
        unsafe_no_sync,
        cache_mb: _,
    } = table;
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
    let block_size = match block_size_arg(block_size) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let sync = !unsafe_no_sync;
    let opened = open_devices(meta, origin, sync).and_then(|d| {
        let sectors = length.unwrap_or(d.origin.len() / SECTOR);
        check_metadata_room(&d.meta, sectors, block_size)
            .map_err(|e| era_tools::emulate::Error::BadTable(format!("{}: {e}", meta.display())))?;
        Ok(d)
    });
    let cfg = match opened {
        Ok(d) => RunConfig {
            meta: Arc::new(d.meta),
            origin: Arc::new(d.origin),
            block_size,
            length: *length,
            sync,
            meta_name: meta.display().to_string(),
            origin_name: origin.display().to_string(),
        },
        Err(e) => {
            eprintln!("era_emulate: {e}");
            return ExitCode::from(1);
        }
    };
    let mut runner = Runner::new(cfg).with_cache_limit(table.cache_blocks());
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let ok = runner.run(&lines, &mut stdout.lock(), &mut stderr.lock());
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn serve_cmd(table: &TableArgs, opts: Options) -> ExitCode {
    let block_size = match block_size_arg(&table.block_size) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let sync = !table.unsafe_no_sync;
    match serve_devices(
        &table.meta,
        &table.origin,
        block_size,
        table.length,
        sync,
        table.cache_blocks(),
        opts,
    ) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("era_emulate: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn serve_devices(
    meta: &Path,
    origin: &Path,
    block_size: u32,
    length: Option<u64>,
    sync: bool,
    cache_blocks: usize,
    opts: Options,
) -> anyhow::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("cannot install the signal handlers")?;
    }
    let bound = bind(&opts).context("serve")?;
    let d = open_devices(meta, origin, sync)?;
    let origin: Arc<dyn Origin> = Arc::new(d.origin);
    let length = length.unwrap_or(origin.len() / SECTOR);
    check_metadata_room(&d.meta, length, block_size).with_context(|| meta.display().to_string())?;
    let mut target =
        Target::construct(Arc::new(d.meta), origin, length, block_size, sync).context("open")?;
    target.set_cache_limit(cache_blocks);
    target.resume().context("open")?;
    let socket = opts.socket.display().to_string();
    serve(
        bound,
        target,
        &opts,
        &stop,
        || eprintln!("era_emulate: serving {length} sectors on {socket}"),
        Box::new(|m| eprintln!("era_emulate: log: {m}")),
    )
    .context("serve")
}

fn control_cmd(socket: &Path, line: &str) -> ExitCode {
    match control::request(socket, line) {
        Ok(out) => {
            if !out.is_empty() {
                println!("{out}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("era_emulate: {e}");
            ExitCode::from(1)
        }
    }
}
