//! The control endpoint, like `dmsetup message` and `dmsetup status` on a live target:
//! a Unix socket beside the NBD socket (`PATH.ctl`) that takes one line,
//! `status` or `message WORD...`, and answers one line, `ok [STATUS LINE]` or
//! `error TEXT`.

use super::admission::Ticket;
use super::{Error, Result};
use crate::emulate::target::{Message, Reply, Request};
use crate::emulate::worker::WorkerHandle;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Longest request line taken.
const MAX_LINE: u64 = 4096;

/// How long a client waits for the server (which may be busy with a commit).
const TIMEOUT: Duration = Duration::from_secs(60);

/// How long the server waits for a client's request line, and for its reply to be
/// taken: a client sends its line at once.
const SERVER_TIMEOUT: Duration = Duration::from_secs(5);

/// The control socket of the server on `socket`.
pub fn control_path(socket: &Path) -> PathBuf {
    let mut p = socket.as_os_str().to_owned();
    p.push(".ctl");
    PathBuf::from(p)
}

/// Answers one control request; `length` is the table's length in sectors. The line is
/// words (no nom: a `match` on them is the whole grammar), as in the script language.
pub fn answer(line: &str, worker: &WorkerHandle, length: u64) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    let r = match words.split_first() {
        Some((&"status", [])) => worker.request(Request::Status).map(|r| match r {
            Reply::Status(s) => format!("ok {}", s.line(length)),
            Reply::None => "ok".into(),
        }),
        Some((&"message", args)) => Message::parse(args)
            .and_then(|m| worker.request(Request::Message(m)))
            .map(|_| "ok".into()),
        _ => return format!("error unknown control request {:?}", line.trim()),
    };
    match r {
        Ok(s) => s,
        Err(e) => format!("error {e}").replace('\n', " "),
    }
}

/// Serves one control connection, holding `ticket` (its place among the control
/// connections, evictable until its request line is in).
pub(crate) fn serve_control(stream: UnixStream, ticket: Ticket, worker: WorkerHandle, length: u64) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(SERVER_TIMEOUT));
    let _ = stream.set_write_timeout(Some(SERVER_TIMEOUT));
    let Ok(mut w) = stream.try_clone() else {
        return;
    };
    let mut line = String::new();
    let mut r = BufReader::new(stream).take(MAX_LINE);
    let reply = match r.read_line(&mut line) {
        Ok(_) if line.ends_with('\n') => {
            ticket.settle();
            answer(&line, &worker, length)
        }
        _ => "error the request must be one line".into(),
    };
    let _ = writeln!(w, "{reply}");
}

/// Sends one control request to the server on `socket`; returns the text after `ok`.
pub fn request(socket: &Path, line: &str) -> Result<String> {
    let ctl = control_path(socket);
    let mut s = UnixStream::connect(&ctl).map_err(Error::socket(format!(
        "cannot connect to {}",
        ctl.display()
    )))?;
    let io = |what: &str| Error::socket(format!("{what} {}", ctl.display()));
    s.set_read_timeout(Some(TIMEOUT))
        .map_err(io("cannot use"))?;
    writeln!(s, "{line}").map_err(io("cannot write to"))?;
    let mut reply = String::new();
    BufReader::new(s)
        .take(1 << 16)
        .read_line(&mut reply)
        .map_err(io("cannot read from"))?;
    let reply = reply.trim_end();
    if let Some(rest) = reply.strip_prefix("ok") {
        Ok(rest.trim_start().to_string())
    } else if let Some(rest) = reply.strip_prefix("error ") {
        Err(Error::Refused(rest.to_string()))
    } else {
        Err(Error::Refused(format!("unexpected answer {reply:?}")))
    }
}
