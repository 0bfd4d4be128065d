//! The target's worker on a thread of its own, for a live server (target.md §9 with the
//! kernel's timing instead of `run`'s deterministic schedule): it takes every deferred
//! write and request queued since its last pass as one batch, marks the writes' blocks
//! with one commit (group commit), answers each request, and runs the digest's
//! follow-up passes in the background while no batch is waiting.

use super::era_map::EraMap;
use super::target::{Reply, Request, Target};
use super::{Error, Result};
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
        first: u32,
        last: u32,
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
    pub fn defer_write(&self, first: u32, last: u32, done: WriteDone) {
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
                blocks.extend((first..=last).filter(|&b| !map.is_marked(b)));
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
