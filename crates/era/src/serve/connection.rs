//! One NBD connection: the handshake, then a reader that decodes requests and answers
//! reads, flushes and writes to blocks already marked in this era at once (the fast
//! path, target.md §7.3 step 1), and hands every other write to the worker; its
//! completer sends the data to the origin once the mark is committed. Replies go out
//! in completion order, so several requests are in flight at once. A reply that cannot
//! be sent (the client stopped reading) breaks the connection: it is shut down and the
//! requests still queued are dropped unanswered.

use super::admission::{Pool, Ticket};
use super::completer;
use super::in_flight::InFlight;
use super::stream::{Deadline, Stream};
use crate::emulate::origin::Origin;
use crate::emulate::target::SECTOR;
use crate::emulate::worker::WorkerHandle;
use crate::emulate::Error as TargetError;
use crate::nbd::consts::*;
use crate::nbd::handshake::{negotiate, Export};
use crate::nbd::request::{read_request, simple_reply, Command, Request};
use crate::units::DataBlock;
use std::io::{BufReader, Read, Write};
use std::net::Shutdown;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Largest READ or WRITE payload (advertised as the maximum block size).
pub const MAX_PAYLOAD: u32 = 32 << 20;

/// Zeros written at a time by WRITE_ZEROES.
const ZERO_CHUNK: u64 = 1 << 20;

/// What a TRIM (discard) request does to the era metadata and to the origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DiscardMode {
    /// Marks every block the discard touches, then punches a hole in the origin: every
    /// block whose contents change is listed by `era_invalidate` (safe for backups).
    #[default]
    Mark,
    /// As the kernel's target: marks only the block of the discard's first sector
    /// (target.md §7.1), then punches a hole in the origin; the other blocks change
    /// unmarked.
    Kernel,
    /// TRIM is not advertised; a TRIM request is refused (EINVAL) and nothing changes.
    Ignore,
}

/// How the server treats its clients.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// What a TRIM does.
    pub discard: DiscardMode,
    /// How long a client may take over its handshake.
    pub handshake: Duration,
}

/// What every connection serves.
pub struct Shared {
    pub origin: Arc<dyn Origin>,
    pub worker: WorkerHandle,
    /// Block size in sectors.
    pub block_size: u64,
    pub export: Export,
    pub limits: Limits,
    /// The connections past their handshake.
    pub(crate) connections: Arc<Pool>,
}

impl Shared {
    /// The export of a table of `length` sectors with blocks of `block_size` sectors,
    /// serving at most `max_connections` clients at once.
    pub fn new(
        origin: Arc<dyn Origin>,
        worker: WorkerHandle,
        length: u64,
        block_size: u32,
        limits: Limits,
        max_connections: usize,
    ) -> Shared {
        let trim = if limits.discard == DiscardMode::Ignore {
            0
        } else {
            FLAG_SEND_TRIM
        };
        Shared {
            origin,
            worker,
            block_size: block_size as u64,
            export: Export {
                name: String::new(),
                size: length * SECTOR,
                flags: FLAG_SEND_FLUSH
                    | FLAG_SEND_FUA
                    | trim
                    | FLAG_SEND_WRITE_ZEROES
                    | FLAG_CAN_MULTI_CONN,
                block_size: (SECTOR as u32, 4096, MAX_PAYLOAD),
            },
            limits,
            connections: Pool::new(max_connections),
        }
    }
}

/// What a write-like request does to the origin once its blocks are marked.
#[derive(Debug)]
pub(crate) enum Op {
    Write(Vec<u8>),
    Zero(u64),
    Trim(u64),
}

/// What a reply needs of its request: the cookie, and the payload bytes it holds
/// against the connection's budget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Head {
    pub cookie: u64,
    pub held: u64,
}

impl Head {
    fn of(r: &Request) -> Head {
        let held = match r.command {
            Command::Read | Command::Write if r.length <= MAX_PAYLOAD => r.length as u64,
            _ => 0,
        };
        Head {
            cookie: r.cookie,
            held,
        }
    }
}

/// A write-like request waiting for its mark.
#[derive(Debug)]
pub(crate) struct Pending {
    pub head: Head,
    pub offset: u64,
    pub fua: bool,
    pub op: Op,
}

/// Sends `p`'s data to the origin (its blocks are marked).
pub(crate) fn perform(origin: &dyn Origin, p: &Pending) -> std::io::Result<()> {
    match &p.op {
        Op::Write(data) => origin.write_at(p.offset, data),
        Op::Zero(len) => {
            let zeros = vec![0u8; ZERO_CHUNK.min(*len) as usize];
            let mut done = 0;
            while done < *len {
                let n = ZERO_CHUNK.min(len - done);
                origin.write_at(p.offset + done, &zeros[..n as usize])?;
                done += n;
            }
            Ok(())
        }
        Op::Trim(len) => origin.discard(p.offset, *len),
    }
}

/// The NBD error for a failed write-like request.
pub(crate) fn errno(e: &TargetError) -> u32 {
    match e {
        TargetError::BeyondEnd { .. } => ENOSPC,
        TargetError::Suspended => ESHUTDOWN,
        _ => EIO,
    }
}

/// The state of one connection shared by its reader and completer.
pub(crate) struct Conn {
    pub shared: Arc<Shared>,
    writer: Mutex<Stream>,
    pub in_flight: InFlight,
    /// A reply could not be sent: nothing more is sent or read.
    broken: AtomicBool,
}

impl Conn {
    /// Sends a simple reply (and a successful read's data). When the client does not
    /// take it (gone, or not reading until the write timeout), the connection is shut
    /// down and later replies are not sent.
    pub fn reply(&self, head: Head, error: u32, data: Option<&[u8]>) {
        if !self.broken.load(Ordering::SeqCst) {
            let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
            let sent = w
                .write_all(&simple_reply(head.cookie, error))
                .and_then(|_| data.map_or(Ok(()), |d| w.write_all(d)));
            if sent.is_err() {
                self.broken.store(true, Ordering::SeqCst);
                let _ = w.shutdown(Shutdown::Both);
            }
        }
        self.in_flight.leave(head.held);
    }

    fn is_broken(&self) -> bool {
        self.broken.load(Ordering::SeqCst)
    }
}

/// Runs the handshake within the handshake limit, then takes a place among the
/// connections; `None` when the connection must close.
fn admit(stream: &mut Stream, shared: &Shared, handshake: Ticket) -> Option<Ticket> {
    negotiate(
        &mut Deadline::new(stream, shared.limits.handshake),
        &shared.export,
    )
    .ok()?;
    stream.set_read_timeout(None).ok()?;
    stream.set_blocking().ok()?;
    let place = shared.connections.admit(stream, false);
    drop(handshake);
    place
}

/// Serves one accepted connection (holding `handshake`, its place among the
/// connections in their handshake) until the client disconnects, breaks the protocol
/// or stops reading, or the server shuts the connection's reading side; every request
/// read is answered before the connection closes, unless it broke.
pub fn serve_connection(mut stream: Stream, shared: Arc<Shared>, handshake: Ticket) {
    let place = match stream.set_blocking() {
        Ok(()) => admit(&mut stream, &shared, handshake),
        Err(_) => None,
    };
    let Some(_place) = place else {
        let _ = stream.shutdown(Shutdown::Both);
        return;
    };
    let Ok(writer) = stream.try_clone() else {
        return;
    };
    let conn = Arc::new(Conn {
        shared,
        writer: Mutex::new(writer),
        in_flight: InFlight::default(),
        broken: AtomicBool::new(false),
    });
    let (tx, rx) = mpsc::channel();
    let c = Arc::clone(&conn);
    let completer = std::thread::Builder::new()
        .name("nbd-completer".into())
        .spawn(move || completer::run(rx, c));
    let mut reader = BufReader::with_capacity(256 << 10, stream);
    if completer.is_ok() {
        while let Ok(Some(r)) = read_request(&mut reader) {
            if conn.is_broken() || !handle(&conn, &mut reader, r, &tx) {
                break;
            }
        }
    }
    drop(tx);
    conn.in_flight.wait_idle();
    if let Ok(h) = completer {
        let _ = h.join();
    }
    let _ = reader.get_ref().shutdown(Shutdown::Both);
}

/// Checks a request's range; `Ok(None)` for an empty one. Returns the sector range.
fn check(r: &Request, size: u64, write: bool) -> Result<Option<(u64, u64)>, u32> {
    let out = if write { ENOSPC } else { EINVAL };
    if r.length == 0 {
        return if r.offset > size { Err(out) } else { Ok(None) };
    }
    match r.offset.checked_add(r.length as u64) {
        Some(end) if end <= size => {}
        _ => return Err(out),
    }
    if !r.offset.is_multiple_of(SECTOR) || !(r.length as u64).is_multiple_of(SECTOR) {
        return Err(EINVAL);
    }
    Ok(Some((r.offset / SECTOR, r.length as u64 / SECTOR)))
}

/// Handles one request; false when the connection must end.
fn handle(
    conn: &Arc<Conn>,
    reader: &mut impl Read,
    r: Request,
    tx: &Sender<completer::Done>,
) -> bool {
    let shared = &conn.shared;
    let size = shared.export.size;
    if r.command == Command::Disc {
        return false;
    }
    if r.command == Command::Write && r.length > MAX_PAYLOAD {
        // The payload cannot be skipped safely: end the connection.
        return false;
    }
    let head = Head::of(&r);
    conn.in_flight.enter(head.held);
    if r.unknown_flags() != 0 {
        // The payload of a refused write is read all the same, to stay in step.
        if r.command == Command::Write && !skip(reader, r.length) {
            conn.in_flight.leave(head.held);
            return false;
        }
        conn.reply(head, EINVAL, None);
        return true;
    }
    match r.command {
        Command::Read => {
            if r.length > MAX_PAYLOAD {
                conn.reply(head, EINVAL, None);
                return true;
            }
            match check(&r, size, false) {
                Err(e) => conn.reply(head, e, None),
                Ok(_) => {
                    let mut buf = vec![0u8; r.length as usize];
                    match shared.origin.read_at(r.offset, &mut buf) {
                        Ok(()) => conn.reply(head, 0, Some(&buf)),
                        Err(_) => conn.reply(head, EIO, None),
                    }
                }
            }
        }
        Command::Write => {
            let mut data = vec![0u8; r.length as usize];
            if reader.read_exact(&mut data).is_err() {
                conn.in_flight.leave(head.held);
                return false;
            }
            submit(conn, tx, &r, head, true, Op::Write(data));
        }
        Command::WriteZeroes => submit(conn, tx, &r, head, true, Op::Zero(r.length as u64)),
        Command::Trim => match shared.limits.discard {
            DiscardMode::Ignore => conn.reply(head, EINVAL, None),
            DiscardMode::Kernel => submit(conn, tx, &r, head, false, Op::Trim(r.length as u64)),
            DiscardMode::Mark => submit(conn, tx, &r, head, true, Op::Trim(r.length as u64)),
        },
        Command::Flush => {
            let e = if shared.origin.flush().is_ok() {
                0
            } else {
                EIO
            };
            conn.reply(head, e, None);
        }
        Command::Disc | Command::Other(_) => conn.reply(head, EINVAL, None),
    }
    true
}

/// Reads and drops `len` bytes; false when the client went away.
fn skip(reader: &mut impl Read, len: u32) -> bool {
    std::io::copy(&mut reader.take(len as u64), &mut std::io::sink()).is_ok_and(|n| n == len as u64)
}

/// A write-like request: at once if its blocks are marked in this era, else after the
/// worker's commit. It marks every block it touches, or (`all` false: a discard as the
/// kernel does it, target.md §7.1) only the block of its first sector.
fn submit(
    conn: &Arc<Conn>,
    tx: &Sender<completer::Done>,
    r: &Request,
    head: Head,
    all: bool,
    op: Op,
) {
    let shared = &conn.shared;
    let (sector, count) = match check(r, shared.export.size, true) {
        Err(e) => return conn.reply(head, e, None),
        Ok(None) => return conn.reply(head, 0, None),
        Ok(Some(range)) => range,
    };
    let first = sector / shared.block_size;
    let last = if all {
        (sector + count - 1) / shared.block_size
    } else {
        first
    };
    let (first, last) = (DataBlock::new(first as u32), DataBlock::new(last as u32));
    let p = Pending {
        head,
        offset: r.offset,
        fua: r.fua(),
        op,
    };
    if shared.worker.era_map().all_marked(first, last) {
        let ok = perform(shared.origin.as_ref(), &p).and_then(|_| {
            if p.fua {
                shared.origin.flush()
            } else {
                Ok(())
            }
        });
        conn.reply(head, if ok.is_ok() { 0 } else { EIO }, None);
    } else {
        let tx = tx.clone();
        shared.worker.defer_write(
            first,
            last,
            Box::new(move |res| {
                let _ = tx.send((res, p));
            }),
        );
    }
}
