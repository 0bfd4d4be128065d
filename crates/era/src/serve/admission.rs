//! A bounded pool of connections. A connection that has not yet shown it is a working
//! client (an NBD handshake under way, a control request not yet sent) is evictable:
//! when the pool is full, the oldest such connection is shut down to make room, so
//! that idle or silent connections cannot lock working clients out. A settled
//! connection (one doing work) is never evicted; when every connection in a full pool
//! is settled, a new one is refused.

use super::stream::Stream;
use std::collections::VecDeque;
use std::net::Shutdown;
use std::sync::{Arc, Mutex};

struct Entry {
    id: u64,
    stream: Stream,
    evictable: bool,
}

#[derive(Default)]
struct Inner {
    next: u64,
    entries: VecDeque<Entry>,
}

/// Connections counted against one cap.
pub(crate) struct Pool {
    cap: usize,
    inner: Mutex<Inner>,
}

/// A connection's place in a pool, given back when dropped.
pub(crate) struct Ticket {
    pool: Arc<Pool>,
    id: u64,
}

impl Pool {
    /// A pool of at most `cap` connections.
    pub fn new(cap: usize) -> Arc<Pool> {
        Arc::new(Pool {
            cap,
            inner: Mutex::default(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts `stream` in (evictable or settled). When the pool is full, the oldest
    /// evictable connection is shut down and leaves it; `None` when none can leave (or
    /// the stream cannot be shared).
    pub fn admit(self: &Arc<Self>, stream: &Stream, evictable: bool) -> Option<Ticket> {
        let handle = stream.try_clone().ok()?;
        let mut inner = self.lock();
        if inner.entries.len() >= self.cap {
            let oldest = inner.entries.iter().position(|e| e.evictable)?;
            if let Some(e) = inner.entries.remove(oldest) {
                let _ = e.stream.shutdown(Shutdown::Both);
            }
        }
        let id = inner.next;
        inner.next += 1;
        inner.entries.push_back(Entry {
            id,
            stream: handle,
            evictable,
        });
        Some(Ticket {
            pool: Arc::clone(self),
            id,
        })
    }

    /// Whether the pool holds `cap` connections that cannot be evicted.
    pub fn is_full_of_settled(&self) -> bool {
        let inner = self.lock();
        inner.entries.len() >= self.cap && inner.entries.iter().all(|e| !e.evictable)
    }
}

impl Ticket {
    /// The connection is doing work now: it can no longer be evicted.
    pub fn settle(&self) {
        if let Some(e) = self
            .pool
            .lock()
            .entries
            .iter_mut()
            .find(|e| e.id == self.id)
        {
            e.evictable = false;
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.pool.lock().entries.retain(|e| e.id != self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::net::UnixStream;

    fn pair() -> (Stream, UnixStream) {
        let (a, b) = UnixStream::pair().unwrap();
        (Stream::Unix(a), b)
    }

    fn is_shut(peer: &mut UnixStream) -> bool {
        peer.set_nonblocking(true).unwrap();
        matches!(peer.read(&mut [0u8; 1]), Ok(0))
    }

    #[test]
    fn the_oldest_evictable_connection_makes_room() {
        let pool = Pool::new(2);
        let (a, mut pa) = pair();
        let (b, mut pb) = pair();
        let (c, mut pc) = pair();
        let ta = pool.admit(&a, true).unwrap();
        let tb = pool.admit(&b, true).unwrap();
        ta.settle();
        let tc = pool.admit(&c, true).unwrap();
        // a is settled, so b (the oldest evictable) was shut down.
        assert!(!is_shut(&mut pa));
        assert!(is_shut(&mut pb));
        assert!(!is_shut(&mut pc));
        drop(tb);
        tc.settle();
        assert!(pool.is_full_of_settled());
        let (d, _pd) = pair();
        assert!(pool.admit(&d, true).is_none());
        drop(ta);
        assert!(!pool.is_full_of_settled());
        assert!(pool.admit(&d, false).is_some());
    }
}
