//! `era_emulate`: the dm-era target in userspace over a metadata image and an origin
//! image, driven by a script (`run`), served over NBD (`serve`), or sent a control line
//! (`message`, `status`) while it is served.

use super::error::{Error, Result};
use crate::emulate::devices::{check_metadata_room, open_devices, Devices};
use crate::emulate::origin::Origin;
use crate::emulate::runner::{RunConfig, Runner};
use crate::emulate::script::parse_script;
use crate::emulate::target::{check_block_size, Target, SECTOR};
use crate::serve::control;
use crate::serve::server::{bind, serve, Options};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

/// The table: the two devices and the target's arguments.
#[derive(Debug, Clone)]
pub struct TableOptions {
    /// The metadata device or image.
    pub meta: PathBuf,
    /// The origin (data) device or image.
    pub origin: PathBuf,
    /// The block size in sectors, as written on the command line (read as the kernel
    /// reads a table's argument).
    pub block_size: String,
    /// The table's length in sectors; the origin's size when `None`.
    pub length: Option<u64>,
    /// Flush (fdatasync) the devices at every commit.
    pub sync: bool,
    /// How many 4 KiB metadata blocks the target keeps in memory at most.
    pub cache_blocks: usize,
}

/// What `era_emulate` was asked to do.
#[derive(Debug, Clone)]
pub enum EmulateOptions {
    /// Runs a script against the target: `None` or `-` reads standard input.
    Run {
        /// The devices and the table.
        table: TableOptions,
        /// The script file.
        script: Option<PathBuf>,
    },
    /// Serves the target over NBD until stopped.
    Serve {
        /// The devices and the table.
        table: TableOptions,
        /// The sockets and the limits of the server.
        server: Options,
    },
    /// Sends one line (`message …` or `status`) to a running server's control socket.
    Control {
        /// The server's socket (the control socket is beside it).
        socket: PathBuf,
        /// The line to send.
        line: String,
    },
}

/// Runs `era_emulate`. What a script or a control request prints goes to `out`; errors
/// of single script commands, the kernel's log and the server's notes go to `report`,
/// one a line. `stop` ends a server. A script whose commands failed (each already
/// reported) is [`Error::Reported`].
pub fn run(
    opts: &EmulateOptions,
    stop: &AtomicBool,
    out: &mut dyn Write,
    report: Box<dyn Write + Send>,
) -> Result<()> {
    match opts {
        EmulateOptions::Run { table, script } => run_script(table, script.as_deref(), out, report),
        EmulateOptions::Serve { table, server } => serve_table(table, server, stop, report),
        EmulateOptions::Control { socket, line } => {
            let reply = control::request(socket, line)?;
            if !reply.is_empty() {
                writeln!(out, "{reply}").map_err(|e| Error::output("-", e))?;
            }
            Ok(())
        }
    }
}

/// Parses a block size as the kernel's `sscanf("%u%c")` accepts a table's argument,
/// then applies the constructor's rule; a usage error naming `--block-size` otherwise.
fn block_size(arg: &str) -> Result<u32> {
    let usage = |why: String| Error::Usage(format!("--block-size {arg}: {why}"));
    let t = arg.trim_start();
    let parsed = if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        t.parse::<u32>().ok()
    } else {
        None
    };
    let b = parsed.ok_or_else(|| usage("Error parsing block size".into()))?;
    check_block_size(b).map_err(|e| usage(e.to_string()))?;
    Ok(b)
}

/// Reads the script: a named file or standard input. An empty regular file is refused as
/// a mistake; an empty stream (standard input, `/dev/null`) opens and closes the target.
fn read_script(script: Option<&Path>) -> Result<String> {
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

/// Opens the table's devices and refuses metadata too small for a table of `length`
/// sectors (the origin's size when `None`); returns the devices and the length.
fn open_table(table: &TableOptions, block_size: u32) -> Result<(Devices, u64)> {
    let d = open_devices(&table.meta, &table.origin, table.sync)?;
    let length = table.length.unwrap_or(d.origin.len() / SECTOR);
    check_metadata_room(&d.meta, length, block_size)
        .map_err(|e| crate::emulate::Error::BadTable(format!("{}: {e}", table.meta.display())))?;
    Ok((d, length))
}

/// `run`: the script against the target.
fn run_script(
    table: &TableOptions,
    script: Option<&Path>,
    out: &mut dyn Write,
    mut report: Box<dyn Write + Send>,
) -> Result<()> {
    let text = read_script(script)?;
    let lines = parse_script(&text).map_err(|e| Error::Usage(format!("syntax error: {e}")))?;
    let block_size = block_size(&table.block_size)?;
    let (d, _) = open_table(table, block_size)?;
    let cfg = RunConfig {
        meta: Arc::new(d.meta),
        origin: Arc::new(d.origin),
        block_size,
        length: table.length,
        sync: table.sync,
        meta_name: table.meta.display().to_string(),
        origin_name: table.origin.display().to_string(),
    };
    let mut runner = Runner::new(cfg).with_cache_limit(table.cache_blocks);
    if runner.run(&lines, out, &mut report) {
        Ok(())
    } else {
        Err(Error::Reported)
    }
}

/// `serve`: the target behind the NBD server until `stop` is set.
fn serve_table(
    table: &TableOptions,
    server: &Options,
    stop: &AtomicBool,
    report: Box<dyn Write + Send>,
) -> Result<()> {
    let block_size = block_size(&table.block_size)?;
    let bound = bind(server)?;
    let (d, length) = open_table(table, block_size)?;
    let origin: Arc<dyn Origin> = Arc::new(d.origin);
    let named = |e: crate::emulate::Error| {
        e.naming(
            &table.meta.display().to_string(),
            &table.origin.display().to_string(),
        )
    };
    let mut target = Target::construct(Arc::new(d.meta), origin, length, block_size, table.sync)
        .map_err(named)?;
    target.set_cache_limit(table.cache_blocks);
    target.resume().map_err(named)?;
    let report = Arc::new(Mutex::new(report));
    let say = move |line: &str| {
        if let Ok(mut r) = report.lock() {
            // A report that cannot be written is no reason to stop serving.
            let _ = writeln!(r, "{line}");
        }
    };
    let socket = server.socket.display().to_string();
    let ready_say = say.clone();
    serve(
        bound,
        target,
        server,
        stop,
        move || ready_say(&format!("serving {length} sectors on {socket}")),
        Box::new(move |m| say(&format!("log: {m}"))),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_sizes_are_read_as_the_kernel_reads_them() {
        assert_eq!(block_size("128").unwrap(), 128);
        assert_eq!(block_size(" 8").unwrap(), 8);
        let msg = |s: &str| block_size(s).unwrap_err().to_string();
        assert_eq!(msg("12x"), "--block-size 12x: Error parsing block size");
        assert_eq!(msg(""), "--block-size : Error parsing block size");
        assert!(msg("12").starts_with("--block-size 12: Invalid block size: 12 sectors"));
        assert!(matches!(block_size("0"), Err(Error::Usage(_))));
    }
}
