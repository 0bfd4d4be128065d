//! The accept loop: the NBD socket(s) and the control socket, until asked to stop;
//! then a clean shutdown: no new connections, every request read is answered (a client
//! that does not take its replies within [`STOP_GRACE`] is dropped), the worker's queue
//! is emptied, and the target is suspended (archive, commit) as its destructor would
//! be.
//!
//! Connections in their handshake, established connections and control connections
//! are counted apart (`serve::admission`): silent connections, which the
//! handshake limit ends, cannot take the places of working clients.

use super::admission::Pool;
use super::connection::{serve_connection, Limits, Shared};
use super::control::serve_control;
use super::listen::{listen, Listeners};
use super::stream::Stream;
use super::{Error, Result};
use crate::emulate::target::Target;
use crate::emulate::worker::Worker;
use std::net::{Shutdown, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Clients served at once at most (past their handshake); more are closed at once.
pub const MAX_CONNECTIONS: usize = 64;

/// Connections in their handshake at once at most; a new one evicts the oldest.
pub const MAX_HANDSHAKES: usize = 32;

/// Control connections at once at most; a new one evicts the oldest that has not sent
/// its request yet.
pub const MAX_CONTROL: usize = 16;

/// How long a clean stop waits for a connection to take its last replies before it
/// drops the connection.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// How often the accept loop looks at the stop flag.
const POLL: Duration = Duration::from_millis(20);

/// Where and how to serve.
#[derive(Debug, Clone)]
pub struct Options {
    /// The NBD Unix socket; the control socket is beside it
    /// ([`control_path`](super::control::control_path)).
    pub socket: PathBuf,
    /// A TCP address to serve on as well.
    pub listen: Option<SocketAddr>,
    /// What TRIM does, and how long a handshake may take.
    pub limits: Limits,
}

/// The server's sockets, listening (before the images are opened, so that a socket
/// path in use is refused before anything is written); they go when it is dropped.
pub struct Bound(Listeners);

/// Listens on the sockets of `opts`.
pub fn bind(opts: &Options) -> Result<Bound> {
    listen(&opts.socket, opts.listen).map(Bound)
}

/// Serves `target` (constructed and resumed) on `bound` until `stop` is set, then shuts
/// down cleanly. `ready` is called once the worker runs; `log` gets what the kernel
/// would log.
pub fn serve(
    bound: Bound,
    target: Target,
    opts: &Options,
    stop: &AtomicBool,
    ready: impl FnOnce(),
    log: Box<dyn Fn(&str) + Send>,
) -> Result<()> {
    let listeners = bound.0;
    let (origin, length, block_size) = (target.origin(), target.length(), target.block_size());
    let worker =
        Worker::start(target, log).map_err(Error::socket("cannot start the worker thread"))?;
    let shared = Arc::new(Shared::new(
        origin,
        worker.handle(),
        length,
        block_size,
        opts.limits,
        MAX_CONNECTIONS,
    ));
    let handshakes = Pool::new(MAX_HANDSHAKES);
    let controls = Pool::new(MAX_CONTROL);
    ready();
    let mut conns: Vec<(Stream, JoinHandle<()>)> = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        let mut accepted = Vec::new();
        if let Ok((s, _)) = listeners.nbd.accept() {
            accepted.push(Stream::Unix(s));
        }
        if let Some(t) = &listeners.tcp {
            if let Ok((s, _)) = t.accept() {
                accepted.push(Stream::Tcp(s));
            }
        }
        let mut idle = accepted.is_empty();
        // A finished connection's handle closes its socket now, not at the next accept.
        conns.retain(|(_, h)| !h.is_finished());
        for s in accepted {
            let ticket = if shared.connections.is_full_of_settled() {
                None
            } else {
                handshakes.admit(&s, true)
            };
            let (Some(ticket), Ok(handle)) = (ticket, s.try_clone()) else {
                let _ = s.shutdown(Shutdown::Both);
                continue;
            };
            let sh = Arc::clone(&shared);
            if let Ok(h) = std::thread::Builder::new()
                .name("nbd-conn".into())
                .spawn(move || serve_connection(s, sh, ticket))
            {
                conns.push((handle, h));
            }
        }
        if let Ok((s, _)) = listeners.control.accept() {
            idle = false;
            let s = Stream::Unix(s);
            if let (Some(ticket), Stream::Unix(s)) = (controls.admit(&s, true), s) {
                let w = worker.handle();
                let _ = std::thread::Builder::new()
                    .name("era-control".into())
                    .spawn(move || serve_control(s, ticket, w, length));
            }
        }
        if idle {
            std::thread::sleep(POLL);
        }
    }
    drop(listeners);
    close_all(conns);
    drop(shared);
    worker.stop().map_err(Error::Target)
}

/// Stops reading from every connection, waits up to [`STOP_GRACE`] for them to answer
/// what they read, then drops those still busy (a client that does not read its
/// replies).
fn close_all(conns: Vec<(Stream, JoinHandle<()>)>) {
    for (s, _) in &conns {
        let _ = s.shutdown(Shutdown::Read);
    }
    let deadline = Instant::now() + STOP_GRACE;
    while Instant::now() < deadline && conns.iter().any(|(_, h)| !h.is_finished()) {
        std::thread::sleep(POLL);
    }
    for (s, h) in conns {
        if !h.is_finished() {
            let _ = s.shutdown(Shutdown::Both);
        }
        let _ = h.join();
    }
}
