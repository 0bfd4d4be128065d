//! One instance of the era target (one loaded table): constructor, resume, postsuspend,
//! the worker's passes with the deterministic schedule of target.md §9, the I/O path
//! (§7), messages (§11) and status (§12).

use super::digest::Digest;
use super::era_map::EraMap;
use super::metadata::LiveMetadata;
use super::origin::Origin;
use super::{Error, Result};
use crate::io::BlockIo;
use crate::units::{DataBlock, Era, MetaBlock};
use std::sync::Arc;

/// Sector size in bytes.
pub const SECTOR: u64 = 512;

/// Sectors moved to or from the origin at a time.
const CHUNK_SECTORS: u64 = 2048;

/// The figures of an INFO status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// Metadata blocks in use (target.md §9.4).
    pub used: u64,
    /// Metadata blocks the space map manages.
    pub total: u64,
    /// The era writes are being recorded in.
    pub current_era: Era,
    /// Block of the held snapshot.
    pub snap: Option<MetaBlock>,
}

impl Status {
    /// The INFO status line of a table of `length` sectors, as `dmsetup status`
    /// prints it.
    pub fn line(&self, length: u64) -> String {
        let snap = self.snap.map_or("-".to_string(), |b| b.to_string());
        format!(
            "0 {length} era 8 {}/{} {} {snap}",
            self.used, self.total, self.current_era
        )
    }
}

/// A message to the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// `checkpoint`: roll over to the next era and commit (target.md §11.1).
    Checkpoint,
    /// `take_metadata_snap`: roll over, then hold a frozen copy of the superblock and
    /// its two trees for userland; refused while one is held (target.md §11.2).
    TakeMetadataSnap,
    /// `drop_metadata_snap`: release the held copy; refused when none is held
    /// (target.md §11.3).
    DropMetadataSnap,
}

impl Message {
    /// Parses the words of `dmsetup message`, as the kernel does (one word, any case).
    pub fn parse(words: &[&str]) -> Result<Message> {
        if words.len() != 1 {
            return Err(Error::BadMessage(
                "incorrect number of message arguments".into(),
            ));
        }
        match words[0].to_ascii_lowercase().as_str() {
            "checkpoint" => Ok(Message::Checkpoint),
            "take_metadata_snap" => Ok(Message::TakeMetadataSnap),
            "drop_metadata_snap" => Ok(Message::DropMetadataSnap),
            _ => Err(Error::BadMessage(format!(
                "unsupported message '{}'",
                words[0]
            ))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rpc {
    Rollover,
    Archive,
    Message(Message),
    Status,
}

/// A request queued for the worker besides deferred writes (target.md §9.1 b).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// A `dmsetup message`.
    Message(Message),
    /// The INFO status figures.
    Status,
}

/// What a pass returns to the request that woke it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// No figures: the reply to a message or a pass with no request.
    None,
    /// The figures a [`Request::Status`] asked for.
    Status(Status),
}

/// The outcome of one worker pass: one result shared by every deferred write of the
/// batch (they share one commit), and the queued request's own result.
#[derive(Debug)]
pub struct PassOutcome {
    /// Whether the batch's writes were recorded and committed; shared by every write.
    pub writes: std::result::Result<(), Arc<Error>>,
    /// The request's result; `None` when none was queued.
    pub request: Option<Result<Reply>>,
}

/// A running (or suspended) era target.
pub struct Target {
    md: LiveMetadata,
    origin: Arc<dyn Origin>,
    length: u64,
    block_size: u32,
    instance_nr_blocks: u32,
    in_core: Arc<EraMap>,
    archived_pending: bool,
    digest: Digest,
    followup: bool,
    suspended: bool,
    /// Digest failures, as the kernel would log them.
    pub log: Vec<String>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("length", &self.length)
            .field("block_size", &self.block_size)
            .field("suspended", &self.suspended)
            .finish()
    }
}

/// The constructor's block-size rule (target.md §2, check 7): a positive multiple of 8.
pub fn check_block_size(block_size: u32) -> Result<()> {
    if block_size == 0 || !block_size.is_multiple_of(8) {
        return Err(Error::BadTable(format!(
            "Invalid block size: {block_size} sectors; the block size must be a positive multiple of 8 sectors (4096 bytes), for example 8, 24 or 128"
        )));
    }
    Ok(())
}

/// Refuses a table of no sectors, or one that reaches past the origin's end. (The
/// kernel accepts a longer table; every I/O past the origin's end then fails after its
/// block was marked, so the emulator refuses it at load.)
fn check_length(length: u64, origin_bytes: u64) -> Result<()> {
    let origin_sectors = origin_bytes / SECTOR;
    if length == 0 {
        return Err(Error::BadLength(format!(
            "the table has no sectors (the origin has {origin_sectors}): nothing to map"
        )));
    }
    if length > origin_sectors {
        return Err(Error::BadLength(format!(
            "the table's length ({length} sectors) is larger than the origin ({origin_sectors} sectors)"
        )));
    }
    Ok(())
}

impl Target {
    /// The constructor (target.md §2, §3): checks the block size and opens or formats
    /// the metadata. The target is not live until [`resume`](Self::resume).
    pub fn construct(
        meta: Arc<dyn BlockIo>,
        origin: Arc<dyn Origin>,
        length: u64,
        block_size: u32,
        sync: bool,
    ) -> Result<Target> {
        check_block_size(block_size)?;
        check_length(length, origin.len())?;
        let (md, formatted) = LiveMetadata::open_or_format(meta, block_size, sync)?;
        Ok(Target {
            md,
            origin,
            length,
            block_size,
            instance_nr_blocks: 0,
            in_core: Arc::new(EraMap::new()),
            archived_pending: !formatted,
            digest: Digest::Idle,
            followup: false,
            suspended: false,
            log: Vec::new(),
        })
    }

    /// Sets how many 4 KiB metadata blocks are kept in memory: the bound of the
    /// metadata's share of the memory, however large a transaction is.
    pub fn set_cache_limit(&mut self, blocks: usize) {
        self.md.set_cache_limit(blocks);
    }

    /// Table length in sectors.
    pub fn length(&self) -> u64 {
        self.length
    }

    /// Block size in sectors.
    pub fn block_size(&self) -> u32 {
        self.block_size
    }

    /// Whether the target is suspended.
    pub fn is_suspended(&self) -> bool {
        self.suspended
    }

    /// The metadata (for inspection).
    pub fn metadata(&self) -> &LiveMetadata {
        &self.md
    }

    /// Preresume (target.md §4): resize on the instance's first resume, then roll over.
    pub fn resume(&mut self) -> Result<()> {
        let new_size = self.length.div_ceil(self.block_size as u64);
        if new_size != self.instance_nr_blocks as u64 {
            if new_size >= crate::units::ORIGIN_BLOCKS_LIMIT {
                return Err(Error::BadResume(format!(
                    "Invalid number of origin blocks {new_size}"
                )));
            }
            let n = new_size as u32; // < 2^31, checked above
            if let Err(e) = self.md.resize(n).and_then(|_| self.md.commit()) {
                self.md.abort();
                return Err(e);
            }
            self.in_core.reset(n);
            self.instance_nr_blocks = n;
        }
        self.suspended = false;
        let r = self.operate(None, Some(Rpc::Rollover)).map(|_| ());
        if r.is_err() {
            // A failed resume leaves the device suspended.
            self.suspended = true;
        }
        r
    }

    /// Postsuspend (target.md §10.2): archive, stop the worker after at most one more
    /// pass, commit.
    pub fn suspend(&mut self) -> Result<()> {
        let archived = self.pass(None, Some(Rpc::Archive));
        self.suspended = true;
        if self.followup {
            self.followup = false;
            let _ = self.pass(None, None);
            self.followup = false;
        }
        let committed = self.md.commit();
        if committed.is_err() {
            self.md.abort();
        }
        archived.and(committed).map(|_| ())
    }

    /// INFO status (an RPC: wakes the worker and commits).
    pub fn status(&mut self) -> Result<Status> {
        self.check_live()?;
        match self.operate(None, Some(Rpc::Status))? {
            Reply::Status(s) => Ok(s),
            Reply::None => Err(Error::BadMessage("status produced no figures".into())),
        }
    }

    /// A message.
    pub fn message(&mut self, m: Message) -> Result<()> {
        self.check_live()?;
        self.operate(None, Some(Rpc::Message(m))).map(|_| ())
    }

    fn check_live(&self) -> Result<()> {
        if self.suspended {
            Err(Error::Suspended)
        } else {
            Ok(())
        }
    }

    fn check_range(&self, sector: u64, count: u64) -> Result<()> {
        let end = sector.saturating_add(count);
        if count == 0 || end > self.length {
            return Err(Error::BeyondEnd {
                start: sector,
                end,
                length: self.length,
            });
        }
        Ok(())
    }

    fn in_core_bit(&self, b: DataBlock) -> bool {
        self.in_core.is_marked(b)
    }

    /// The in-core marks of the current era, shared with a fast I/O path: a write whose
    /// blocks are all marked needs no pass (target.md §7.3 step 1).
    pub fn era_map(&self) -> Arc<EraMap> {
        Arc::clone(&self.in_core)
    }

    /// The origin.
    pub fn origin(&self) -> Arc<dyn Origin> {
        Arc::clone(&self.origin)
    }

    /// The blocks `first..=last` that a request of `count` sectors at `sector` touches,
    /// once it is checked to lie inside the table.
    pub fn blocks_of(&self, sector: u64, count: u64) -> Result<(DataBlock, DataBlock)> {
        self.check_range(sector, count)?;
        let bs = self.block_size as u64;
        Ok((
            DataBlock::new((sector / bs) as u32),
            DataBlock::new(((sector + count - 1) / bs) as u32),
        ))
    }

    /// One worker pass for a batch (target.md §9.2): a digest step, the deferred writes'
    /// marks of `blocks` with one commit, then `request`. A live server calls this for
    /// each batch and [`tick`](Self::tick) while idle; `run` calls it through
    /// `operate`'s deterministic schedule.
    pub fn work(&mut self, blocks: &[DataBlock], request: Option<Request>) -> PassOutcome {
        if self.suspended {
            return PassOutcome {
                writes: Err(Arc::new(Error::Suspended)),
                request: request.map(|_| Err(Error::Suspended)),
            };
        }
        let rpc = request.map(|r| match r {
            Request::Message(m) => Rpc::Message(m),
            Request::Status => Rpc::Status,
        });
        let (writes, request) = self.pass_parts(blocks, rpc);
        PassOutcome {
            writes: writes.map_err(Arc::new),
            request,
        }
    }

    /// Whether a follow-up pass (a digest step) is scheduled.
    pub fn followup_pending(&self) -> bool {
        self.followup && !self.suspended
    }

    /// One follow-up pass (a background digest step between batches).
    pub fn tick(&mut self) {
        if self.followup_pending() {
            self.followup = false;
            let _ = self.pass(None, None);
        }
    }

    /// Marks `blocks` (deferring those not yet marked in core), as the write path does.
    fn mark_blocks(&mut self, blocks: impl Iterator<Item = DataBlock>) -> Result<()> {
        let deferred: Vec<DataBlock> = blocks.filter(|&b| !self.in_core_bit(b)).collect();
        if !deferred.is_empty() {
            self.operate(Some(&deferred), None)?;
        }
        Ok(())
    }

    /// Checks a write of `count` sectors at `sector` and marks (and commits) every
    /// block it touches that is not yet marked in this era.
    fn mark_write(&mut self, sector: u64, count: u64) -> Result<()> {
        self.check_live()?;
        let (first, last) = self.blocks_of(sector, count)?;
        self.mark_blocks((first.get()..=last.get()).map(DataBlock::new))
    }

    /// A write of `data` (whole sectors) at `sector` (target.md §7.2, §7.3), sent to the
    /// origin straight from `data` once its blocks are marked.
    pub fn write(&mut self, sector: u64, data: &[u8]) -> Result<()> {
        let count = data.len() as u64 / SECTOR;
        self.mark_write(sector, count)?;
        let offset = sector * SECTOR;
        self.origin
            .write_at(offset, &data[..(count * SECTOR) as usize])
            .map_err(|source| Error::Origin { offset, source })
    }

    /// A write of `count` sectors at `sector` whose data `fill(offset, buf)` provides
    /// piece by piece (`offset` in sectors from `sector`): every block is marked and
    /// committed first, then the data goes to the origin.
    pub fn write_with(
        &mut self,
        sector: u64,
        count: u64,
        mut fill: impl FnMut(u64, &mut [u8]),
    ) -> Result<()> {
        self.mark_write(sector, count)?;
        let mut buf = vec![0u8; (CHUNK_SECTORS.min(count) * SECTOR) as usize];
        let mut done = 0;
        while done < count {
            let n = CHUNK_SECTORS.min(count - done);
            let piece = &mut buf[..(n * SECTOR) as usize];
            fill(done, piece);
            let offset = (sector + done) * SECTOR;
            self.origin
                .write_at(offset, piece)
                .map_err(|source| Error::Origin { offset, source })?;
            done += n;
        }
        Ok(())
    }

    /// A discard: marks only the block of its first sector (target.md §7.1). The
    /// origin's data is left as it is.
    pub fn discard(&mut self, sector: u64, count: u64) -> Result<()> {
        self.check_live()?;
        self.check_range(sector, count)?;
        let b = DataBlock::new((sector / self.block_size as u64) as u32);
        self.mark_blocks(std::iter::once(b))
    }

    /// A read of `count` sectors at `sector`.
    pub fn read(&mut self, sector: u64, count: u64) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.read_with(sector, count, |piece| out.extend_from_slice(piece))?;
        Ok(out)
    }

    /// A read of `count` sectors at `sector`, handed to `sink` piece by piece.
    pub fn read_with(
        &mut self,
        sector: u64,
        count: u64,
        mut sink: impl FnMut(&[u8]),
    ) -> Result<()> {
        self.check_live()?;
        self.check_range(sector, count)?;
        let mut buf = vec![0u8; (CHUNK_SECTORS.min(count) * SECTOR) as usize];
        let mut done = 0;
        while done < count {
            let n = CHUNK_SECTORS.min(count - done);
            let piece = &mut buf[..(n * SECTOR) as usize];
            let offset = (sector + done) * SECTOR;
            self.origin
                .read_at(offset, piece)
                .map_err(|source| Error::Origin { offset, source })?;
            sink(piece);
            done += n;
        }
        Ok(())
    }

    /// An empty flush, passed to the origin.
    pub fn flush(&mut self) -> Result<()> {
        self.check_live()?;
        self.origin
            .flush()
            .map_err(|source| Error::Origin { offset: 0, source })
    }

    /// One pass for the operation, then the follow-up passes until the digest rests.
    fn operate(&mut self, writes: Option<&[DataBlock]>, rpc: Option<Rpc>) -> Result<Reply> {
        let r = self.pass(writes, rpc);
        while self.followup && !self.suspended {
            self.followup = false;
            let _ = self.pass(None, None);
        }
        r
    }

    /// One worker pass (target.md §9.2). A metadata failure aborts the open
    /// transaction, so that nothing half done is ever committed (the kernel has no
    /// abort; it would commit whatever the failed step left).
    fn pass(&mut self, writes: Option<&[DataBlock]>, rpc: Option<Rpc>) -> Result<Reply> {
        let (w, r) = self.pass_parts(writes.unwrap_or(&[]), rpc);
        w?;
        r.unwrap_or(Ok(Reply::None))
    }

    /// Drops the uncommitted changes; a digest in progress starts again at the next
    /// pass.
    fn abort(&mut self) {
        self.md.abort();
        if self.digest.is_running() {
            self.archived_pending = true;
        }
        self.digest = Digest::Idle;
        self.followup = false;
    }

    /// The steps of one pass; the writes' result and the request's result apart.
    fn pass_parts(
        &mut self,
        writes: &[DataBlock],
        rpc: Option<Rpc>,
    ) -> (Result<()>, Option<Result<Reply>>) {
        if self.archived_pending {
            self.archived_pending = false;
            if !self.digest.is_running() {
                self.digest = Digest::Lookup;
            }
        }
        self.followup = false;
        if self.digest.is_running() {
            if let Err(e) = self.digest.step(&mut self.md) {
                self.log.push(format!(
                    "process_old_eras: digest step failed, stopping digestion: {e}"
                ));
                self.md.abort();
                self.digest = Digest::Idle;
            }
            self.followup = self.digest.is_running();
        }
        let mut w = Ok(());
        if !writes.is_empty() {
            w = self
                .deferred_writes(writes)
                .map_err(|e| Error::WriteMark(Arc::new(e)));
            if w.is_err() {
                self.abort();
            }
        }
        let r = rpc.map(|rpc| {
            let r = self.run_rpc(rpc).and_then(|reply| {
                self.md.commit()?;
                Ok(reply)
            });
            match r {
                // A rejected message still commits (§9.2 step 4).
                Err(Error::BadMessage(m)) => match self.md.commit() {
                    Ok(()) => Err(Error::BadMessage(m)),
                    Err(e) => {
                        self.abort();
                        Err(e)
                    }
                },
                Err(e) => {
                    self.abort();
                    Err(e)
                }
                ok => ok,
            }
        });
        (w, r)
    }

    fn deferred_writes(&mut self, blocks: &[DataBlock]) -> Result<()> {
        let mut need_commit = false;
        for &b in blocks {
            if !self.in_core_bit(b) {
                self.md.mark(b)?;
                need_commit = true;
            }
        }
        if need_commit {
            self.md.commit()?;
            self.in_core.set(blocks);
        }
        Ok(())
    }

    fn rollover(&mut self) -> Result<()> {
        if self.md.archive()? {
            self.archived_pending = true;
        }
        self.md.new_era()?;
        self.in_core.reset(self.md.nr_blocks);
        Ok(())
    }

    fn run_rpc(&mut self, rpc: Rpc) -> Result<Reply> {
        match rpc {
            Rpc::Rollover | Rpc::Message(Message::Checkpoint) => self.rollover()?,
            Rpc::Archive => {
                if self.md.archive()? {
                    self.archived_pending = true;
                }
            }
            Rpc::Status => {
                return Ok(Reply::Status(Status {
                    used: self.md.used(),
                    total: self.md.total(),
                    current_era: self.md.current_era,
                    snap: (!self.md.metadata_snap.is_zero()).then_some(self.md.metadata_snap),
                }))
            }
            Rpc::Message(Message::TakeMetadataSnap) => {
                if !self.md.metadata_snap.is_zero() {
                    return Err(Error::BadMessage(
                        "metadata_take_snap: metadata snapshot already exists".into(),
                    ));
                }
                self.rollover()?;
                self.md.commit()?;
                self.md.take_snapshot()?;
            }
            Rpc::Message(Message::DropMetadataSnap) => {
                if self.md.metadata_snap.is_zero() {
                    return Err(Error::BadMessage(
                        "metadata_drop_snap: no snap to drop".into(),
                    ));
                }
                self.md.drop_snapshot()?;
            }
        }
        Ok(Reply::None)
    }
}
