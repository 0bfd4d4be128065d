//! The target's worker on a thread of its own, for a live server (target.md §9 with the
//! kernel's timing instead of `run`'s deterministic schedule): it takes every deferred
//! write and request queued since its last pass as one batch, marks the writes' blocks
//! with one commit (group commit), answers each request, and runs the digest's
//! follow-up passes in the background while no batch is waiting.

use super::era_map::EraMap;
use super::target::{Reply, Request, Target};
use super::{Error, Result};
use crate::units::DataBlock;
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Called once a deferred write's blocks are marked and committed (`Ok`), or with the
/// error every write of the failed batch gets.
pub type WriteDone = Box<dyn FnOnce(std::result::Result<(), Arc<Error>>) + Send>;

/// Jobs taken in one batch at most (the rest wait for the next pass).
const MAX_BATCH: usize = 1024;

enum Job {
    Write {
        first: DataBlock,
        last: DataBlock,
        done: WriteDone,
    },
    Request {
        request: Request,
        done: Sender<Result<Reply>>,
    },
    Stop,
}

/// A way to queue work for the worker; cheap to clone, one per connection.
#[derive(Clone)]
pub struct WorkerHandle {
    tx: Sender<Job>,
    map: Arc<EraMap>,
}

impl WorkerHandle {
    /// The in-core marks of the current era (the fast path's check).
    pub fn era_map(&self) -> &EraMap {
        &self.map
    }

    /// Queues a write touching blocks `first..=last`; `done` is called after the commit
    /// that marks them. When the worker has stopped, `done` gets [`Error::Suspended`].
    pub fn defer_write(&self, first: DataBlock, last: DataBlock, done: WriteDone) {
        if let Err(mpsc::SendError(Job::Write { done, .. })) =
            self.tx.send(Job::Write { first, last, done })
        {
            done(Err(Arc::new(Error::Suspended)));
        }
    }

    /// Sends a message or an INFO status request and waits for its answer.
    pub fn request(&self, request: Request) -> Result<Reply> {
        let (tx, rx) = mpsc::channel();
        self.tx
            .send(Job::Request { request, done: tx })
            .map_err(|_| Error::Suspended)?;
        rx.recv().unwrap_or(Err(Error::Suspended))
    }
}

/// The running worker.
pub struct Worker {
    handle: WorkerHandle,
    thread: JoinHandle<Result<()>>,
}

impl Worker {
    /// Moves a resumed target onto the worker's thread. `log` receives what the kernel
    /// would only log (a failed digest step).
    pub fn start(target: Target, log: Box<dyn Fn(&str) + Send>) -> std::io::Result<Worker> {
        let (tx, rx) = mpsc::channel();
        let map = target.era_map();
        let thread = std::thread::Builder::new()
            .name("era-worker".into())
            .spawn(move || work(target, rx, log))?;
        Ok(Worker {
            handle: WorkerHandle { tx, map },
            thread,
        })
    }

    /// A handle to queue work.
    pub fn handle(&self) -> WorkerHandle {
        self.handle.clone()
    }

    /// Processes what is queued, then suspends the target (postsuspend: archive and
    /// commit) and ends the thread; the target's destructor follows.
    pub fn stop(self) -> Result<()> {
        let _ = self.handle.tx.send(Job::Stop);
        drop(self.handle);
        self.thread
            .join()
            .unwrap_or_else(|_| Err(Error::BadResume("the worker thread panicked".into())))
    }
}

fn work(mut target: Target, rx: Receiver<Job>, log: Box<dyn Fn(&str) + Send>) -> Result<()> {
    let mut stopping = false;
    loop {
        let first = if stopping || target.followup_pending() {
            match rx.try_recv() {
                Ok(j) => j,
                Err(TryRecvError::Empty) if !stopping => {
                    target.tick();
                    for m in std::mem::take(&mut target.log) {
                        log(&m);
                    }
                    continue;
                }
                Err(_) => break,
            }
        } else {
            match rx.recv() {
                Ok(j) => j,
                Err(_) => break,
            }
        };
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        stopping |= batch(&mut target, jobs);
        for m in std::mem::take(&mut target.log) {
            log(&m);
        }
    }
    target.suspend()
}

/// One batch: one pass for every write and the first request, one more pass for each
/// further request. Returns whether a stop was asked for.
fn batch(target: &mut Target, jobs: Vec<Job>) -> bool {
    let map = target.era_map();
    let mut stop = false;
    let mut blocks = Vec::new();
    let mut writes = Vec::new();
    let mut requests = Vec::new();
    for j in jobs {
        match j {
            Job::Write { first, last, done } => {
                blocks.extend(
                    (first.get()..=last.get())
                        .map(DataBlock::new)
                        .filter(|&b| !map.is_marked(b)),
                );
                writes.push(done);
            }
            Job::Request { request, done } => requests.push((request, done)),
            Job::Stop => stop = true,
        }
    }
    let mut requests = requests.into_iter();
    let first = requests.next();
    if !writes.is_empty() || first.is_some() {
        let out = target.work(&blocks, first.as_ref().map(|r| r.0));
        for done in writes {
            done(out.writes.clone());
        }
        if let Some((_, done)) = first {
            let _ = done.send(out.request.unwrap_or(Ok(Reply::None)));
        }
    }
    for (request, done) in requests {
        let out = target.work(&[], Some(request));
        let _ = done.send(out.request.unwrap_or(Ok(Reply::None)));
    }
    stop
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulate::origin::MemOrigin;
    use crate::io::{BlockIo, MemIo};
    use crate::units::{BlockBuf, MetaBlock};
    use std::sync::atomic::{AtomicU64, Ordering};

    /// Metadata in memory that counts its flushes (two per commit).
    struct Counting {
        io: MemIo,
        flushes: Arc<AtomicU64>,
    }

    impl BlockIo for Counting {
        fn nr_blocks(&self) -> u64 {
            self.io.nr_blocks()
        }
        fn read_block(&self, b: MetaBlock, buf: &mut BlockBuf) -> std::io::Result<()> {
            self.io.read_block(b, buf)
        }
        fn write_block(&self, b: MetaBlock, buf: &BlockBuf) -> std::io::Result<()> {
            self.io.write_block(b, buf)
        }
        fn flush(&self) -> std::io::Result<()> {
            self.flushes.fetch_add(1, Ordering::SeqCst);
            self.io.flush()
        }
    }

    fn target() -> (Target, Arc<AtomicU64>) {
        let flushes = Arc::new(AtomicU64::new(0));
        let io = Counting {
            io: MemIo::new(1024),
            flushes: Arc::clone(&flushes),
        };
        let mut t = Target::construct(
            Arc::new(io),
            Arc::new(MemOrigin::new(1 << 20)),
            2048,
            8,
            true,
        )
        .unwrap();
        t.resume().unwrap();
        (t, flushes)
    }

    #[test]
    fn a_batch_of_writes_shares_one_commit() {
        let (t, flushes) = target();
        let before = flushes.load(Ordering::SeqCst);
        let jobs: Vec<Job> = (0..16u32)
            .map(|b| Job::Write {
                first: DataBlock::new(b * 3),
                last: DataBlock::new(b * 3 + 1),
                done: Box::new(|r| assert!(r.is_ok())),
            })
            .collect();
        let mut t = t;
        assert!(!batch(&mut t, jobs));
        assert_eq!(flushes.load(Ordering::SeqCst) - before, 2, "one commit");
        let map = t.era_map();
        assert!(
            (0..16u32).all(|b| map.all_marked(DataBlock::new(b * 3), DataBlock::new(b * 3 + 1)))
        );
        assert!(!map.is_marked(DataBlock::new(2)));
        // Already marked: no commit at all.
        let again = vec![Job::Write {
            first: DataBlock::new(0),
            last: DataBlock::new(1),
            done: Box::new(|r| assert!(r.is_ok())),
        }];
        batch(&mut t, again);
        assert_eq!(flushes.load(Ordering::SeqCst) - before, 2);
    }

    #[test]
    fn the_thread_answers_and_stops_cleanly() {
        let (t, _) = target();
        let w = Worker::start(t, Box::new(|_| {})).unwrap();
        let h = w.handle();
        let (tx, rx) = mpsc::channel();
        for b in 0..32u32 {
            let tx = tx.clone();
            let b = DataBlock::new(b);
            h.defer_write(b, b, Box::new(move |r| tx.send(r.is_ok()).unwrap()));
        }
        assert!((0..32).all(|_| rx.recv().unwrap()));
        assert!(h
            .era_map()
            .all_marked(DataBlock::new(0), DataBlock::new(31)));
        let era = |r| match r {
            Ok(Reply::Status(s)) => s.current_era,
            other => panic!("{other:?}"),
        };
        assert_eq!(era(h.request(Request::Status)), crate::units::Era::new(1));
        h.request(Request::Message(
            crate::emulate::target::Message::Checkpoint,
        ))
        .unwrap();
        assert_eq!(era(h.request(Request::Status)), crate::units::Era::new(2));
        assert!(!h.era_map().is_marked(DataBlock::new(0)));
        w.stop().unwrap();
        // After the stop, work is refused, not lost silently.
        assert!(matches!(h.request(Request::Status), Err(Error::Suspended)));
        let (tx, rx) = mpsc::channel();
        h.defer_write(
            DataBlock::new(0),
            DataBlock::new(0),
            Box::new(move |r| tx.send(r.is_err()).unwrap()),
        );
        assert!(rx.recv().unwrap());
    }
}
