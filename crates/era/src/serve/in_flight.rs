//! Requests of one connection between their header and their reply, bounded in number
//! and in payload bytes, so that a client cannot make the server hold more than a few
//! payloads (one request of the largest size is always let through alone).

use std::sync::{Condvar, Mutex};

/// Requests in flight at most on one connection.
pub const MAX_IN_FLIGHT: usize = 64;

/// Payload bytes (reads' and writes' data) held at most on one connection, unless one
/// request alone is larger.
pub const MAX_BYTES: u64 = 64 << 20;

#[derive(Debug, Default)]
struct Count {
    requests: usize,
    bytes: u64,
}

/// A counter of requests in flight.
#[derive(Debug, Default)]
pub struct InFlight {
    n: Mutex<Count>,
    cv: Condvar,
}

impl InFlight {
    /// Waits for room, then counts one more request holding `bytes`.
    pub fn enter(&self, bytes: u64) {
        let mut n = self.n.lock().unwrap_or_else(|e| e.into_inner());
        while n.requests >= MAX_IN_FLIGHT || (n.requests > 0 && n.bytes + bytes > MAX_BYTES) {
            n = self.cv.wait(n).unwrap_or_else(|e| e.into_inner());
        }
        n.requests += 1;
        n.bytes += bytes;
    }

    /// A request holding `bytes` was answered.
    pub fn leave(&self, bytes: u64) {
        let mut n = self.n.lock().unwrap_or_else(|e| e.into_inner());
        n.requests = n.requests.saturating_sub(1);
        n.bytes = n.bytes.saturating_sub(bytes);
        self.cv.notify_all();
    }

    /// Waits until every request was answered.
    pub fn wait_idle(&self) {
        let mut n = self.n.lock().unwrap_or_else(|e| e.into_inner());
        while n.requests > 0 {
            n = self.cv.wait(n).unwrap_or_else(|e| e.into_inner());
        }
    }
}
