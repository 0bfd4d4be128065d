//! era_emulate: run the Linux dm-era target against a metadata image and an origin image,
//! from a script (`run`) or live over NBD (`serve`, with `message` and `status`).

use clap::Parser;
use era_tools::cli::emulate::{DiscardArg, EmulateArgs, EmulateCommand, TableArgs};
use era_tools::cli::exit;
use era_tools::emulate::devices::{check_metadata_room, open_devices};
use era_tools::emulate::origin::Origin;
use era_tools::emulate::runner::{RunConfig, Runner};
use era_tools::emulate::script::parse_script;
use era_tools::emulate::target::{check_block_size, parse_block_size, Target, SECTOR};
use era_tools::serve::control;
use era_tools::serve::server::{bind, serve, Options};
use era_tools::serve::{DiscardMode, Limits};
use era_tools::commands::Error;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

const TOOL: &str = "era_emulate";

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

fn block_size_arg(block_size: &str) -> Result<u32, Error> {
    parse_block_size(block_size)
        .and_then(|b| {
            check_block_size(b)?;
            Ok(b)
        })
        .map_err(|e| Error::Usage(format!("--block-size {block_size}: {e}")))
}

/// Reads the script: a named file or standard input. An empty regular file is refused as
/// a mistake; an empty stream (standard input, `/dev/null`) opens and closes the target.
fn read_script(script: Option<&Path>) -> Result<String, Error> {
    match script {
        Some(p) if p.as_os_str() != "-" => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| Error::Usage(format!("cannot read script {}: {e}", p.display())))?;
            if text.is_empty() && std::fs::metadata(p).is_ok_and(|m| m.is_file()) {
                return Err(Error::Usage(format!(
                    "script {}: the file is empty: give one command a line (write, read, checkpoint, status…; see era_emulate run --help)",
                    p.display()
                )));
            }
            Ok(text)
        }
        _ => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).map_err(|e| {
                Error::Usage(format!("cannot read the script from standard input: {e}"))
            })?;
            Ok(s)
        }
    }
}

fn run(table: &TableArgs, script: Option<PathBuf>) -> ExitCode {
    let result = run_script(table, script.as_deref());
    if let Ok(false) = result {
        // Each failed command has been reported on its own line.
        return ExitCode::from(exit::FAILURE);
    }
    exit::finish(TOOL, result.map(|_| ()))
}

/// Runs the script; `Ok(false)` when a command of it failed (already reported).
fn run_script(table: &TableArgs, script: Option<&Path>) -> Result<bool, Error> {
    let TableArgs {
        meta,
        origin,
        block_size,
        length,
        unsafe_no_sync,
        cache_mb: _,
    } = table;
    let text = read_script(script)?;
    let lines = parse_script(&text).map_err(|e| Error::Usage(format!("syntax error: {e}")))?;
    let block_size = block_size_arg(block_size)?;
    let sync = !unsafe_no_sync;
    let d = open_devices(meta, origin, sync)?;
    let sectors = length.unwrap_or(d.origin.len() / SECTOR);
    check_metadata_room(&d.meta, sectors, block_size)
        .map_err(|e| era_tools::emulate::Error::BadTable(format!("{}: {e}", meta.display())))?;
    let cfg = RunConfig {
        meta: Arc::new(d.meta),
        origin: Arc::new(d.origin),
        block_size,
        length: *length,
        sync,
        meta_name: meta.display().to_string(),
        origin_name: origin.display().to_string(),
    };
    let mut runner = Runner::new(cfg).with_cache_limit(table.cache_blocks());
    let stdout = std::io::stdout();
    Ok(runner.run(&lines, &mut stdout.lock(), &mut exit::prefixed_stderr(TOOL)))
}

fn serve_cmd(table: &TableArgs, opts: Options) -> ExitCode {
    let result = block_size_arg(&table.block_size).and_then(|block_size| {
        serve_devices(
            &table.meta,
            &table.origin,
            block_size,
            table.length,
            !table.unsafe_no_sync,
            table.cache_blocks(),
            opts,
        )
    });
    exit::finish(TOOL, result)
}

fn serve_devices(
    meta: &Path,
    origin: &Path,
    block_size: u32,
    length: Option<u64>,
    sync: bool,
    cache_blocks: usize,
    opts: Options,
) -> Result<(), Error> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        // Without the handler a signal still stops the server, only less tidily.
        let _ = signal_hook::flag::register(sig, Arc::clone(&stop));
    }
    let bound = bind(&opts)?;
    let d = open_devices(meta, origin, sync)?;
    let origin: Arc<dyn Origin> = Arc::new(d.origin);
    let length = length.unwrap_or(origin.len() / SECTOR);
    check_metadata_room(&d.meta, length, block_size)
        .map_err(|e| era_tools::emulate::Error::BadTable(format!("{}: {e}", meta.display())))?;
    let mut target = Target::construct(Arc::new(d.meta), origin, length, block_size, sync)?;
    target.set_cache_limit(cache_blocks);
    target.resume()?;
    let socket = opts.socket.display().to_string();
    serve(
        bound,
        target,
        &opts,
        &stop,
        || eprintln!("{TOOL}: serving {length} sectors on {socket}"),
        Box::new(|m| eprintln!("{TOOL}: log: {m}")),
    )?;
    Ok(())
}

fn control_cmd(socket: &Path, line: &str) -> ExitCode {
    match control::request(socket, line) {
        Ok(out) => {
            if !out.is_empty() {
                println!("{out}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => exit::finish(TOOL, Err(e.into())),
    }
}
