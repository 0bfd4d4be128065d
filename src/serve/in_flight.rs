//! Requests of one connection between their header and their reply, bounded so that a
//! client cannot make the server hold more than a few payloads.

use std::sync::{Condvar, Mutex};

/// Requests in flight at most on one connection.
pub const MAX_IN_FLIGHT: usize = 64;

/// A counter of requests in flight.
#[derive(Debug, Default)]
pub struct InFlight {
    n: Mutex<usize>,
    cv: Condvar,
}

impl InFlight {
    /// Waits for room, then counts one more request.
    pub fn enter(&self) {
        let mut n = self.n.lock().unwrap_or_else(|e| e.into_inner());
        while *n >= MAX_IN_FLIGHT {
            n = self.cv.wait(n).unwrap_or_else(|e| e.into_inner());
        }
        *n += 1;
    }

    /// A request was answered.
    pub fn leave(&self) {
        let mut n = self.n.lock().unwrap_or_else(|e| e.into_inner());
        *n = n.saturating_sub(1);
        self.cv.notify_all();
    }

    /// Waits until every request was answered.
    pub fn wait_idle(&self) {
        let mut n = self.n.lock().unwrap_or_else(|e| e.into_inner());
        while *n > 0 {
            n = self.cv.wait(n).unwrap_or_else(|e| e.into_inner());
        }
    }
}
