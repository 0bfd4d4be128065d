//! A connection's completer: takes the writes whose marks the worker committed (or
//! failed to), sends their data to the origin, flushes once for all the FUA writes of
//! a batch, and replies.

use super::connection::{errno, perform, Conn, Pending};
use crate::emulate::Error;
use crate::nbd::consts::EIO;
use std::sync::mpsc::Receiver;
use std::sync::Arc;

/// A write and the outcome of its batch's commit.
pub(crate) type Done = (std::result::Result<(), Arc<Error>>, Pending);

/// Runs until every sender (the reader's and the worker's) is gone.
pub(crate) fn run(rx: Receiver<Done>, conn: Arc<Conn>) {
    let origin = Arc::clone(&conn.shared.origin);
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while let Ok(d) = rx.try_recv() {
            batch.push(d);
        }
        let mut errors: Vec<u32> = batch
            .iter()
            .map(|(r, p)| match r {
                Err(e) => errno(e),
                Ok(()) => match perform(origin.as_ref(), p) {
                    Ok(()) => 0,
                    Err(_) => EIO,
                },
            })
            .collect();
        let fua = batch
            .iter()
            .zip(&errors)
            .any(|((_, p), &e)| p.fua && e == 0);
        if fua && origin.flush().is_err() {
            for ((_, p), e) in batch.iter().zip(errors.iter_mut()) {
                if p.fua {
                    *e = EIO;
                }
            }
        }
        for ((_, p), e) in batch.iter().zip(errors) {
            conn.reply(p.head, e, None);
        }
    }
}
