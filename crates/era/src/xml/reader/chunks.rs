//! Cutting the input into chunks that end at a line end (or else after a `>`), and
//! scanning them on the thread pool while the calling thread reads ahead and drives
//! the results in order.

use super::driver::Driver;
use super::error::{Pos, ReadError, ReadErrorKind};
use super::scan::{rescan, scan, End, Item, Scan};
use crate::ir::Visitor;
use std::collections::VecDeque;
use std::fmt::Display;
use std::io::{self, BufRead};
use std::sync::mpsc;

/// The size of the first chunk.
const FIRST_CHUNK: usize = 64 << 10;

/// The longest chunk read while no line end or `>` shows where to cut it.
const MAX_UNCUT: usize = 8 << 20;

/// The longest markup (element, comment, …) accepted across chunks.
const MAX_MARKUP: usize = 64 << 20;

/// Reads chunks of about `target` bytes, cut after a line end or a `>`.
struct Splitter<R> {
    input: R,
    /// The size of the next chunk: small at first, doubling up to `max`, so that small
    /// inputs cost little.
    target: usize,
    max: usize,
    /// Bytes after the last line end of the previous chunk.
    carry: Vec<u8>,
    eof: bool,
    /// A read failure, reported after the chunk read before it.
    error: Option<io::Error>,
}

impl<R: BufRead> Splitter<R> {
    /// The next chunk in `buf[..len]` (reusing `buf`), or `None` at the end.
    fn next(&mut self, mut buf: Vec<u8>) -> io::Result<Option<(Vec<u8>, usize)>> {
        if self.eof && self.carry.is_empty() {
            return match self.error.take() {
                Some(e) => Err(e),
                None => Ok(None),
            };
        }
        // Whole-chunk requests after the carried bytes, so that a `BufReader` of up to
        // `target` bytes passes them straight through without a copy of its own.
        let mut want = self.target + self.carry.len();
        self.target = (self.target * 2).min(self.max);
        if buf.len() < want {
            buf.resize(want, 0);
        }
        let mut len = self.carry.len();
        buf[..len].copy_from_slice(&self.carry);
        self.carry.clear();
        let mut searched = 0;
        loop {
            while len < want && !self.eof {
                match self.input.read(&mut buf[len..want]) {
                    Ok(0) => self.eof = true,
                    Ok(n) => len += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    // What was read before still goes out; the error comes next.
                    Err(e) => {
                        self.error = Some(e);
                        self.eof = true;
                    }
                }
            }
            if self.eof {
                return Ok((len > 0).then_some((buf, len)));
            }
            // Cut after the last line end, or else after the last `>`: never just
            // after a `<`, where quick-xml could not tell a cut from bad markup.
            let part = &buf[searched..len];
            if let Some(i) = part
                .iter()
                .rposition(|&b| b == b'\n')
                .or_else(|| part.iter().rposition(|&b| b == b'>'))
            {
                let cut = searched + i + 1;
                self.carry.extend_from_slice(&buf[cut..len]);
                return Ok(Some((buf, cut)));
            }
            // Nowhere to cut. Past `MAX_UNCUT` bytes, cut anyway (before a `<` near
            // the end, if any): a chunk ending inside markup is joined to the next one
            // up to `MAX_MARKUP`, which bounds the memory a huge tag or attribute costs.
            if len >= MAX_UNCUT {
                let near_end = &buf[len - 2..len];
                let cut = match near_end.iter().position(|&b| b == b'<') {
                    Some(i) if len - 2 + i > 0 => len - 2 + i,
                    _ => len,
                };
                self.carry.extend_from_slice(&buf[cut..len]);
                return Ok(Some((buf, cut)));
            }
            searched = len;
            want = want.saturating_mul(2).min(MAX_UNCUT);
            buf.resize(want, 0);
        }
    }
}

/// Scans chunks of `input` ahead on the thread pool and drives them in order.
/// Returns the position of the end of the input.
pub(super) fn drive<R: BufRead, V: Visitor>(
    input: R,
    driver: &mut Driver<'_, V>,
    target: usize,
    window: usize,
) -> Result<Pos, ReadError>
where
    V::Error: Display,
{
    let mut pipe = Pipe {
        splitter: Splitter {
            input,
            target: target.min(FIRST_CHUNK),
            max: target,
            carry: Vec::new(),
            eof: false,
            error: None,
        },
        window: window.max(1),
        sent: 0,
        taken: 0,
        arrived: VecDeque::new(),
        free: Vec::new(),
        free_items: Vec::new(),
        read_error: None,
        channel: mpsc::channel(),
    };
    // Where the next chunk starts.
    let mut start = Pos { line: 1, col: 1 };
    let mut at_start = true;
    while let Some(mut s) = pipe.take()? {
        // A chunk ending inside markup is joined to what follows, and scanned on from
        // that markup. Each join at least doubles what is scanned again, so that an
        // element never closed costs linear time, up to the limit.
        while let End::Unclosed { at, .. } = s.end {
            let at = at as usize;
            let tail = s.len - at;
            if tail > MAX_MARKUP {
                return Err(ReadError::new(
                    s.lines.pos(s.bytes(), start, at),
                    ReadErrorKind::Invalid,
                    "markup longer than 64 MiB, or never closed",
                ));
            }
            let mut more = Vec::new();
            while more.len() < tail.max(1) {
                let Some(next) = pipe.take()? else { break };
                more.extend_from_slice(next.bytes());
                pipe.free.push(next.buf);
                pipe.free_items.push(next.items);
            }
            if more.is_empty() {
                if pipe.read_error.is_some() {
                    // Cut short by a read failure, reported once the items before
                    // the cut are delivered.
                    s.end = End::Clean;
                }
                break;
            }
            s = rescan(s, at, &more, at_start);
        }
        driver.chunk(&s, start)?;
        at_start = false;
        start = s.lines.pos(s.bytes(), start, s.len);
        pipe.free.push(s.buf);
        pipe.free_items.push(s.items);
    }
    if let Some(e) = pipe.read_error {
        return Err(read_error(start, e));
    }
    driver.finish(start)?;
    Ok(start)
}

/// A failure to read the input, after what was read up to `end`.
fn read_error(end: Pos, e: io::Error) -> ReadError {
    ReadError::new(
        end,
        ReadErrorKind::Io,
        format_args!("cannot read the input: {e}"),
    )
}

/// A scan and its chunk's sequence number.
type Numbered = (u64, Scan);

/// The chunks in flight.
struct Pipe<R> {
    splitter: Splitter<R>,
    window: usize,
    /// Chunks sent to the pool, and taken back in order.
    sent: u64,
    taken: u64,
    /// Scans that arrived ahead of their turn, by sequence number.
    arrived: VecDeque<Numbered>,
    /// Buffers and item vectors to reuse.
    free: Vec<Vec<u8>>,
    free_items: Vec<Vec<Item>>,
    read_error: Option<io::Error>,
    channel: (mpsc::Sender<Numbered>, mpsc::Receiver<Numbered>),
}

impl<R: BufRead> Pipe<R> {
    /// Fills the window, then returns the next chunk's scan in order.
    fn take(&mut self) -> Result<Option<Scan>, ReadError> {
        while self.sent - self.taken < self.window as u64 && self.read_error.is_none() {
            let buf = self.free.pop().unwrap_or_default();
            match self.splitter.next(buf) {
                Ok(Some((buf, len))) => {
                    let seq = self.sent;
                    let items = self.free_items.pop().unwrap_or_default();
                    if rayon::current_thread_index().is_some() {
                        // Called from the pool itself: waiting on it could deadlock.
                        self.arrived
                            .push_back((seq, scan(buf, len, seq == 0, items)));
                    } else {
                        let tx = self.channel.0.clone();
                        rayon::spawn(move || {
                            // The receiver is gone only if reading stopped early.
                            let _ = tx.send((seq, scan(buf, len, seq == 0, items)));
                        });
                    }
                    self.sent += 1;
                }
                Ok(None) => break,
                Err(e) => self.read_error = Some(e),
            }
        }
        if self.taken == self.sent {
            return Ok(None);
        }
        let want = self.taken;
        loop {
            if let Some(i) = self.arrived.iter().position(|(seq, _)| *seq == want) {
                self.taken += 1;
                return Ok(self.arrived.remove(i).map(|(_, s)| s));
            }
            match self.channel.1.recv() {
                Ok(got) => self.arrived.push_back(got),
                Err(_) => {
                    return Err(ReadError::new(
                        Pos { line: 0, col: 0 },
                        ReadErrorKind::Io,
                        "a scanning thread stopped",
                    ))
                }
            }
        }
    }
}
