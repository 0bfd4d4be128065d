//! The accept loop: the NBD socket(s) and the control socket, until asked to stop;
//! then a clean shutdown: no new connections, every request read is answered, the
//! worker's queue is emptied, and the target is suspended (archive, commit) as its
//! destructor would be.

use super::connection::{serve_connection, Shared};
use super::control::{control_path, serve_control};
use super::stream::Stream;
use super::{Error, Result};
use crate::emulate::target::Target;
use crate::emulate::worker::Worker;
use std::io::ErrorKind;
use std::net::{Shutdown, SocketAddr, TcpListener};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Connections served at once at most; more are closed at once.
pub const MAX_CONNECTIONS: usize = 64;

/// How often the accept loop looks at the stop flag.
const POLL: Duration = Duration::from_millis(20);

/// Where to serve.
#[derive(Debug, Clone)]
pub struct Options {
    /// The NBD Unix socket; the control socket is beside it ([`control_path`]).
    pub socket: PathBuf,
    /// A TCP address to serve on as well.
    pub listen: Option<SocketAddr>,
}

/// Binds a Unix socket at `path`, replacing a socket file left by a server that
/// stopped (the image locks already keep two servers of one image apart).
fn bind_unix(path: &Path) -> Result<UnixListener> {
    if let Ok(m) = std::fs::symlink_metadata(path) {
        if m.file_type().is_socket() {
            let _ = std::fs::remove_file(path);
        }
    }
    let l = UnixListener::bind(path).map_err(Error::socket(format!(
        "cannot listen on {}",
        path.display()
    )))?;
    l.set_nonblocking(true)
        .map_err(Error::socket("cannot use the socket"))?;
    Ok(l)
}

/// The server's listeners; the socket files go when it is dropped.
struct Listeners {
    nbd: UnixListener,
    control: UnixListener,
    tcp: Option<TcpListener>,
    paths: [PathBuf; 2],
}

impl Drop for Listeners {
    fn drop(&mut self) {
        for p in &self.paths {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn listen(opts: &Options) -> Result<Listeners> {
    let ctl = control_path(&opts.socket);
    let nbd = bind_unix(&opts.socket)?;
    let control = match bind_unix(&ctl) {
        Ok(c) => c,
        Err(e) => {
            let _ = std::fs::remove_file(&opts.socket);
            return Err(e);
        }
    };
    let mut l = Listeners {
        nbd,
        control,
        tcp: None,
        paths: [opts.socket.clone(), ctl],
    };
    if let Some(addr) = opts.listen {
        let t =
            TcpListener::bind(addr).map_err(Error::socket(format!("cannot listen on {addr}")))?;
        t.set_nonblocking(true)
            .map_err(Error::socket("cannot use the socket"))?;
        l.tcp = Some(t);
    }
    Ok(l)
}

/// Serves `target` (constructed and resumed) until `stop` is set, then shuts down
/// cleanly. `ready` is called once the sockets listen; `log` gets what the kernel would
/// log.
pub fn serve(
    target: Target,
    opts: &Options,
    stop: &AtomicBool,
    ready: impl FnOnce(),
    log: Box<dyn Fn(&str) + Send>,
) -> Result<()> {
    let listeners = listen(opts)?;
    let (origin, length, block_size) = (target.origin(), target.length(), target.block_size());
    let worker =
        Worker::start(target, log).map_err(Error::socket("cannot start the worker thread"))?;
    let shared = Arc::new(Shared::new(origin, worker.handle(), length, block_size));
    ready();
    let mut conns: Vec<(Stream, JoinHandle<()>)> = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        let mut idle = true;
        let mut accepted = Vec::new();
        match listeners.nbd.accept() {
            Ok((s, _)) => accepted.push(Stream::Unix(s)),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(_) => {}
        }
        if let Some(t) = &listeners.tcp {
            if let Ok((s, _)) = t.accept() {
                accepted.push(Stream::Tcp(s));
            }
        }
        // A finished connection's handle closes its socket now, not at the next accept.
        conns.retain(|(_, h)| !h.is_finished());
        for s in accepted {
            idle = false;
            if conns.len() >= MAX_CONNECTIONS {
                let _ = s.shutdown(Shutdown::Both);
                continue;
            }
            let Ok(handle) = s.try_clone() else { continue };
            let sh = Arc::clone(&shared);
            if let Ok(h) = std::thread::Builder::new()
                .name("nbd-conn".into())
                .spawn(move || serve_connection(s, sh))
            {
                conns.push((handle, h));
            }
        }
        if let Ok((s, _)) = listeners.control.accept() {
            idle = false;
            let w = worker.handle();
            let _ = std::thread::Builder::new()
                .name("era-control".into())
                .spawn(move || serve_control(s, w, length));
        }
        if idle {
            std::thread::sleep(POLL);
        }
    }
    drop(listeners);
    for (s, _) in &conns {
        let _ = s.shutdown(Shutdown::Read);
    }
    for (_, h) in conns {
        let _ = h.join();
    }
    drop(shared);
    worker.stop().map_err(Error::Target)
}
