//! The server's listening sockets: the NBD Unix socket, its control socket beside it
//! and optionally TCP. A socket path a live server answers on is refused (a probe
//! connects to it); only a stale socket file, which nothing answers, is replaced. The
//! socket files are removed when the server stops, unless another program replaced
//! them meanwhile.

use super::control::control_path;
use super::{Error, Result};
use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

/// Makes `path` free for a new socket: refuses it when a server answers there, removes
/// a socket file nothing answers on. Anything else at `path` is left for `bind` to
/// refuse.
fn claim(path: &Path) -> Result<()> {
    let Ok(m) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if !m.file_type().is_socket() {
        return Ok(());
    }
    match UnixStream::connect(path) {
        Ok(_) => Err(Error::InUse(path.to_path_buf())),
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => match std::fs::remove_file(path) {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(Error::Socket {
                what: format!("cannot remove the stale socket {}", path.display()),
                source: e,
            }),
            _ => Ok(()),
        },
        Err(e) => Err(Error::Socket {
            what: format!("cannot tell whether a server listens on {}", path.display()),
            source: e,
        }),
    }
}

/// A bound Unix socket and the identity of its file.
fn bind_unix(path: &Path) -> Result<(UnixListener, (u64, u64))> {
    let l = UnixListener::bind(path).map_err(Error::socket(format!(
        "cannot listen on {}",
        path.display()
    )))?;
    l.set_nonblocking(true)
        .map_err(Error::socket("cannot use the socket"))?;
    let id = std::fs::symlink_metadata(path)
        .map(|m| (m.dev(), m.ino()))
        .unwrap_or_default();
    Ok((l, id))
}

/// The server's listeners; their socket files go when they are dropped.
pub(crate) struct Listeners {
    pub nbd: UnixListener,
    pub control: UnixListener,
    pub tcp: Option<TcpListener>,
    files: Vec<(PathBuf, (u64, u64))>,
}

impl Drop for Listeners {
    fn drop(&mut self) {
        for (p, id) in &self.files {
            let ours = std::fs::symlink_metadata(p).is_ok_and(|m| (m.dev(), m.ino()) == *id);
            if ours {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

/// Listens on `socket`, `socket.ctl` and `tcp`.
pub(crate) fn listen(socket: &Path, tcp: Option<SocketAddr>) -> Result<Listeners> {
    let ctl = control_path(socket);
    claim(socket)?;
    claim(&ctl)?;
    let (nbd, nbd_id) = bind_unix(socket)?;
    let mut files = vec![(socket.to_path_buf(), nbd_id)];
    let control = match bind_unix(&ctl) {
        Ok((c, id)) => {
            files.push((ctl, id));
            c
        }
        Err(e) => {
            let _ = std::fs::remove_file(socket);
            return Err(e);
        }
    };
    let mut l = Listeners {
        nbd,
        control,
        tcp: None,
        files,
    };
    if let Some(addr) = tcp {
        let t =
            TcpListener::bind(addr).map_err(Error::socket(format!("cannot listen on {addr}")))?;
        t.set_nonblocking(true)
            .map_err(Error::socket("cannot use the socket"))?;
        l.tcp = Some(t);
    }
    Ok(l)
}
