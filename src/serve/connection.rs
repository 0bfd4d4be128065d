//! One NBD connection: the handshake, then a reader that decodes requests and answers
//! reads, flushes and writes to blocks already marked in this era at once (the fast
//! path, target.md §7.3 step 1), and hands every other write to the worker; its
//! completer sends the data to the origin once the mark is committed. Replies go out
//! in completion order, so several requests are in flight at once.

use super::completer;
use super::in_flight::InFlight;
use super::stream::Stream;
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
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};

/// Largest READ or WRITE payload (advertised as the maximum block size).
pub const MAX_PAYLOAD: u32 = 32 << 20;

/// Zeros written at a time by WRITE_ZEROES.
const ZERO_CHUNK: u64 = 1 << 20;

/// What every connection serves.
pub struct Shared {
    pub origin: Arc<dyn Origin>,
    pub worker: WorkerHandle,
    /// Block size in sectors.
    pub block_size: u64,
    pub export: Export,
}

impl Shared {
    /// The export of a table of `length` sectors with blocks of `block_size` sectors.
    pub fn new(
        origin: Arc<dyn Origin>,
        worker: WorkerHandle,
        length: u64,
        block_size: u32,
    ) -> Shared {
        Shared {
            origin,
            worker,
            block_size: block_size as u64,
            export: Export {
                name: String::new(),
                size: length * SECTOR,
                flags: FLAG_SEND_FLUSH
                    | FLAG_SEND_FUA
                    | FLAG_SEND_TRIM
                    | FLAG_SEND_WRITE_ZEROES
                    | FLAG_CAN_MULTI_CONN,
                block_size: (SECTOR as u32, 4096, MAX_PAYLOAD),
            },
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
}

impl Conn {
    /// Sends a simple reply (and a successful read's data); a vanished client is
    /// noticed by the reader.
    pub fn reply(&self, head: Head, error: u32, data: Option<&[u8]>) {
        {
            let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
            let _ = w
                .write_all(&simple_reply(head.cookie, error))
                .and_then(|_| data.map_or(Ok(()), |d| w.write_all(d)));
        }
        self.in_flight.leave(head.held);
    }
}

/// Serves one accepted connection until the client disconnects, breaks the protocol or
/// the server shuts the connection's reading side; every request read is answered
/// before the connection closes.
pub fn serve_connection(mut stream: Stream, shared: Arc<Shared>) {
    if stream.set_blocking().is_err() || negotiate(&mut stream, &shared.export).is_err() {
        let _ = stream.shutdown(Shutdown::Both);
        return;
    }
    let Ok(writer) = stream.try_clone() else {
        return;
    };
    let conn = Arc::new(Conn {
        shared,
        writer: Mutex::new(writer),
        in_flight: InFlight::default(),
    });
    let (tx, rx) = mpsc::channel();
    let c = Arc::clone(&conn);
    let completer = std::thread::Builder::new()
        .name("nbd-completer".into())
        .spawn(move || completer::run(rx, c));
    let mut reader = BufReader::with_capacity(256 << 10, stream);
    if completer.is_ok() {
        while let Ok(Some(r)) = read_request(&mut reader) {
            if !handle(&conn, &mut reader, r, &tx) {
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
        Command::Trim => submit(conn, tx, &r, head, false, Op::Trim(r.length as u64)),
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

/// A write-like request: at once if its blocks are marked in this era, else after the
/// worker's commit. A discard marks only the block of its first sector (target.md §7.1).
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
