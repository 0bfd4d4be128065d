//! Works on byte ranges on several threads, each with a buffer of a bounded pool, and
//! hands the results to one consumer in order. Memory is the pool: `nr_buffers` buffers
//! of `capacity` bytes, whatever the number of ranges. Several requests are in flight at
//! once (one per thread), which a disk's queue and the page cache both reward.
//!
//! Std threads rather than io_uring: after coalescing, a run's I/O is one `pread` and
//! one `pwrite` of up to the buffer's size, so io_uring would save syscalls only where
//! the runs are single scattered blocks, and there the kernel's own work per block (a
//! page-cache copy, the file system's block allocation, the device's random write)
//! outweighs the syscall's entry cost; io_uring would also bring a new dependency and
//! unsafe code into a crate that forbids it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Mutex;

/// Alignment of the buffers (O_DIRECT needs the memory aligned).
const ALIGN: usize = 4096;

/// A heap buffer with an aligned window.
pub struct Buffer {
    bytes: Vec<u8>,
    start: usize,
    capacity: usize,
}

impl Buffer {
    /// A buffer of `capacity` bytes whose first byte is 4096-aligned.
    pub fn new(capacity: usize) -> Buffer {
        let bytes = vec![0u8; capacity + ALIGN];
        let start = bytes.as_ptr().align_offset(ALIGN).min(ALIGN);
        Buffer {
            bytes,
            start,
            capacity,
        }
    }

    /// The aligned window's first `len` bytes (at most the capacity).
    pub fn slice_mut(&mut self, len: usize) -> &mut [u8] {
        let len = len.min(self.capacity);
        &mut self.bytes[self.start..self.start + len]
    }

    /// The whole window.
    pub fn all_mut(&mut self) -> &mut [u8] {
        self.slice_mut(self.capacity)
    }
}

/// One piece of work: bytes `offset..offset + len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    pub offset: u64,
    pub len: usize,
}

/// How the pipeline is shaped.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub threads: usize,
    pub nr_buffers: usize,
    pub capacity: usize,
}

type Done<T, R> = (u64, T, Buffer, R);

/// Works on every piece of `pieces` (a [`Piece`], or a batch of them) with
/// `work(piece, buffer)` on `shape.threads` threads (a read, or a read and its write)
/// and calls `consume(piece, buffer, result)` for each, in the order of `pieces`, on the
/// calling thread. Stops at the first error `consume` returns, or when `stop` is set
/// (then `on_stop` gives the error).
pub fn run<T: Send, R: Send, E>(
    pieces: impl Iterator<Item = T> + Send,
    shape: Shape,
    stop: &AtomicBool,
    work: impl Fn(&T, &mut Buffer) -> R + Sync,
    mut consume: impl FnMut(&T, &mut Buffer, R) -> Result<(), E>,
    on_stop: impl Fn() -> E,
) -> Result<(), E> {
    let plan = Mutex::new(pieces.enumerate());
    let (pool_tx, pool_rx) = mpsc::channel::<Buffer>();
    for _ in 0..shape.nr_buffers.max(1) {
        // The receiver is alive: cannot fail.
        let _ = pool_tx.send(Buffer::new(shape.capacity));
    }
    let pool_rx = Mutex::new(pool_rx);
    let halt = AtomicBool::new(false);
    std::thread::scope(|s| {
        let (done_tx, done_rx) = mpsc::channel::<Done<T, R>>();
        for _ in 0..shape.threads.max(1) {
            let done_tx = done_tx.clone();
            let (plan, pool_rx, halt, work) = (&plan, &pool_rx, &halt, &work);
            s.spawn(move || loop {
                let buf = match pool_rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok(mut buf) = buf else { return };
                if halt.load(Ordering::Relaxed) || stop.load(Ordering::Relaxed) {
                    return;
                }
                let next = match plan.lock() {
                    Ok(mut p) => p.next(),
                    Err(_) => return,
                };
                let Some((seq, piece)) = next else { return };
                let res = work(&piece, &mut buf);
                if done_tx.send((seq as u64, piece, buf, res)).is_err() {
                    return;
                }
            });
        }
        drop(done_tx);
        let result = consume_in_order(&done_rx, &pool_tx, stop, &mut consume, &on_stop);
        if result.is_err() {
            halt.store(true, Ordering::Relaxed);
        }
        // Workers waiting for a buffer see the pool closed; those sending see no one.
        drop(pool_tx);
        drop(done_rx);
        result
    })
}

fn consume_in_order<T, R, E>(
    done_rx: &mpsc::Receiver<Done<T, R>>,
    pool_tx: &mpsc::Sender<Buffer>,
    stop: &AtomicBool,
    consume: &mut impl FnMut(&T, &mut Buffer, R) -> Result<(), E>,
    on_stop: &impl Fn() -> E,
) -> Result<(), E> {
    let mut waiting: BTreeMap<u64, (T, Buffer, R)> = BTreeMap::new();
    let mut next = 0u64;
    while let Ok((seq, piece, buf, res)) = done_rx.recv() {
        waiting.insert(seq, (piece, buf, res));
        while let Some((piece, mut buf, res)) = waiting.remove(&next) {
            if stop.load(Ordering::Relaxed) {
                return Err(on_stop());
            }
            consume(&piece, &mut buf, res)?;
            next += 1;
            let _ = pool_tx.send(buf);
        }
    }
    if stop.load(Ordering::Relaxed) {
        return Err(on_stop());
    }
    Ok(())
}

/// Splits byte ranges `[begin, end)` into pieces of at most `max` bytes (`max` > 0).
pub fn split(ranges: impl Iterator<Item = (u64, u64)>, max: usize) -> impl Iterator<Item = Piece> {
    let max = max.max(1) as u64;
    ranges.flat_map(move |(b, e)| {
        let n = e.saturating_sub(b).div_ceil(max);
        (0..n).map(move |i| {
            let offset = b + i * max;
            // At most `max`, a usize.
            let len = (e - offset).min(max) as usize;
            Piece { offset, len }
        })
    })
}

/// Most pieces in one batch.
const MAX_BATCH: usize = 4096;

/// Groups consecutive pieces (each at most `capacity` bytes) into batches of at most
/// `capacity` bytes in all, so that many small runs cost one hand-over between threads
/// rather than one each; a batch is read into one buffer, its pieces one after another.
pub fn batches(
    pieces: impl Iterator<Item = Piece>,
    capacity: usize,
) -> impl Iterator<Item = Vec<Piece>> {
    let mut pieces = pieces.peekable();
    std::iter::from_fn(move || {
        let (mut batch, mut used) = (Vec::new(), 0usize);
        while let Some(p) = pieces.peek() {
            if !batch.is_empty() && (used + p.len > capacity || batch.len() >= MAX_BATCH) {
                break;
            }
            used += p.len;
            batch.push(*p);
            pieces.next();
        }
        (!batch.is_empty()).then_some(batch)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    #[test]
    fn pieces_arrive_in_order_with_their_data() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let ranges = vec![
            (0u64, 10u64),
            (100, 70_000),
            (70_001, 70_002),
            (80_000, 200_000),
        ];
        let stop = AtomicBool::new(false);
        let mut got = Vec::new();
        let shape = Shape {
            threads: 3,
            nr_buffers: 4,
            capacity: 4096,
        };
        run::<Piece, io::Result<()>, ()>(
            split(ranges.clone().into_iter(), 4096),
            shape,
            &stop,
            |p: &Piece, buf| {
                let o = p.offset as usize;
                buf.slice_mut(p.len).copy_from_slice(&data[o..o + p.len]);
                Ok(())
            },
            |p: &Piece, buf, res: io::Result<()>| {
                res.unwrap();
                got.push((p.offset, buf.slice_mut(p.len).to_vec()));
                Ok(())
            },
            || (),
        )
        .unwrap();
        let want: Vec<u8> = ranges
            .iter()
            .flat_map(|&(b, e)| data[b as usize..e as usize].to_vec())
            .collect();
        let mut at = None::<u64>;
        for (o, _) in &got {
            assert!(at.is_none_or(|a| a < *o));
            at = Some(*o);
        }
        assert_eq!(
            got.into_iter().flat_map(|(_, d)| d).collect::<Vec<_>>(),
            want
        );
    }

    #[test]
    fn batches_keep_every_piece_in_order_within_the_capacity() {
        let pieces: Vec<Piece> = split(
            [(0u64, 100u64), (200, 5000), (6000, 6100), (9000, 9001)].into_iter(),
            4096,
        )
        .collect();
        let b: Vec<Vec<Piece>> = batches(pieces.clone().into_iter(), 4096).collect();
        assert_eq!(b.concat(), pieces);
        for batch in &b {
            assert!(
                batch.iter().map(|p| p.len).sum::<usize>() <= 4096,
                "{batch:?}"
            );
        }
        assert_eq!(b.len(), 3, "{b:?}");
    }

    #[test]
    fn an_error_of_the_consumer_stops_the_pipeline() {
        let stop = AtomicBool::new(false);
        let mut seen = 0;
        let shape = Shape {
            threads: 2,
            nr_buffers: 2,
            capacity: 16,
        };
        let r = run(
            split(std::iter::once((0u64, 1u64 << 20)), 16),
            shape,
            &stop,
            |_: &Piece, _| (),
            |_: &Piece, _, ()| {
                seen += 1;
                if seen == 5 {
                    Err("stop")
                } else {
                    Ok(())
                }
            },
            || "interrupted",
        );
        assert_eq!(r, Err("stop"));
        assert_eq!(seen, 5);
    }
}
