//! Runs a parsed script against the emulated target: open (constructor + resume), each
//! command, and a clean close at the end unless the last command was `crash`.

use super::origin::Origin;
use super::script::{Command, Line};
use super::target::{Message, Target, SECTOR};
use super::{Error, Result};
use crate::io::BlockIo;
use std::io::Write;
use std::sync::Arc;

/// The devices and table of a run.
#[derive(Clone)]
pub struct RunConfig {
    /// The metadata device.
    pub meta: Arc<dyn BlockIo>,
    /// The origin device, which writes reach after their blocks are marked.
    pub origin: Arc<dyn Origin>,
    /// Block size in sectors.
    pub block_size: u32,
    /// Table length in sectors; the origin's size when `None`.
    pub length: Option<u64>,
    /// Flush (fdatasync) at every commit.
    pub sync: bool,
    /// The metadata device's name, printed by `table`.
    pub meta_name: String,
    /// The origin's name, printed by `table`.
    pub origin_name: String,
}

/// The state of a run: at most one open target.
pub struct Runner {
    cfg: RunConfig,
    target: Option<Target>,
    cache_limit: usize,
}

impl Runner {
    /// A runner with no device open.
    pub fn new(cfg: RunConfig) -> Runner {
        Runner {
            cfg,
            target: None,
            cache_limit: crate::pdata::transaction::DEFAULT_CACHE_BLOCKS,
        }
    }

    /// The same runner, with targets that keep at most `blocks` 4 KiB metadata blocks
    /// in memory.
    pub fn with_cache_limit(mut self, blocks: usize) -> Runner {
        self.cache_limit = blocks;
        self
    }

    /// The default table length: the origin's size in whole sectors.
    pub fn default_length(&self) -> u64 {
        self.cfg.length.unwrap_or(self.cfg.origin.len() / SECTOR)
    }

    /// The open target, if any.
    pub fn target(&self) -> Option<&Target> {
        self.target.as_ref()
    }

    /// Creates the device: constructor + resume.
    pub fn open(&mut self, length: Option<u64>) -> Result<()> {
        if self.target.is_some() {
            return Err(Error::AlreadyOpen);
        }
        let length = length.unwrap_or(self.default_length());
        let mut t = Target::construct(
            Arc::clone(&self.cfg.meta),
            Arc::clone(&self.cfg.origin),
            length,
            self.cfg.block_size,
            self.cfg.sync,
        )?;
        t.set_cache_limit(self.cache_limit);
        t.resume()?;
        self.target = Some(t);
        Ok(())
    }

    /// `dmsetup reload`, suspend, resume (target.md §10.4): the new instance is
    /// constructed while the old one is live, so it reads the metadata as last committed;
    /// then the old one's postsuspend archives and commits (its blocks reach the device,
    /// free in the view the new instance read, and its superblock is overwritten by the
    /// new instance's first commit); then the new instance resumes. The old instance's
    /// postsuspend failing does not stop the reload.
    fn reload(&mut self, length: u64) -> Result<()> {
        let mut old = self.target.take().ok_or(Error::NotOpen)?;
        let mut new = match Target::construct(
            Arc::clone(&self.cfg.meta),
            Arc::clone(&self.cfg.origin),
            length,
            self.cfg.block_size,
            self.cfg.sync,
        ) {
            Ok(t) => t,
            Err(e) => {
                // A table the kernel refuses to load leaves the old one live.
                self.target = Some(old);
                return Err(e);
            }
        };
        if !old.is_suspended() {
            let _ = old.suspend();
        }
        drop(old);
        new.set_cache_limit(self.cache_limit);
        new.resume()?;
        self.target = Some(new);
        Ok(())
    }

    /// Removes the device: postsuspend (unless suspended already) and destructor.
    pub fn close(&mut self) -> Result<()> {
        let mut t = self.target.take().ok_or(Error::NotOpen)?;
        if !t.is_suspended() {
            t.suspend()?;
        }
        Ok(())
    }

    /// Stops the device at once (power cut): no postsuspend.
    pub fn crash(&mut self) {
        self.target = None;
    }

    fn live(&mut self) -> Result<&mut Target> {
        self.target.as_mut().ok_or(Error::NotOpen)
    }

    /// The INFO status line, as `dmsetup status` prints it.
    pub fn status_line(&mut self) -> Result<String> {
        let t = self.live()?;
        Ok(t.status()?.line(t.length()))
    }

    /// Runs one command; output lines go to `out`.
    pub fn execute(&mut self, cmd: &Command, out: &mut dyn Write) -> Result<()> {
        let say = |out: &mut dyn Write, s: String| {
            // Output errors (a closed pipe) do not change the device.
            let _ = writeln!(out, "{s}");
        };
        match cmd {
            Command::Write {
                sector,
                count,
                byte,
            } => self
                .live()?
                .write_with(*sector, *count, |_, buf| buf.fill(*byte)),
            Command::Read { sector, count } => {
                let mut crc = 0;
                self.live()?.read_with(*sector, *count, |piece| {
                    crc = crc32c::crc32c_append(crc, piece);
                })?;
                say(out, format!("read {sector} {count} crc32c={crc:08x}"));
                Ok(())
            }
            Command::Discard { sector, count } => self.live()?.discard(*sector, *count),
            Command::Flush => self.live()?.flush(),
            Command::Message(words) => {
                let t = self.live()?;
                if t.is_suspended() {
                    return Err(Error::Suspended);
                }
                let w: Vec<&str> = words.iter().map(String::as_str).collect();
                t.message(Message::parse(&w)?)
            }
            Command::Status => {
                let line = self.status_line()?;
                say(out, line);
                Ok(())
            }
            Command::Table => {
                let t = self.target.as_ref().ok_or(Error::NotOpen)?;
                say(
                    out,
                    format!(
                        "0 {} era {} {} {}",
                        t.length(),
                        self.cfg.meta_name,
                        self.cfg.origin_name,
                        t.block_size()
                    ),
                );
                Ok(())
            }
            Command::Suspend => {
                let t = self.live()?;
                if !t.is_suspended() {
                    t.suspend()?;
                }
                Ok(())
            }
            Command::Resume => {
                let t = self.live()?;
                if t.is_suspended() {
                    t.resume()?;
                }
                Ok(())
            }
            Command::Reload(len) => self.reload(*len),
            Command::Close => self.close(),
            Command::Open(len) => self.open(*len),
            Command::Crash => {
                self.crash();
                Ok(())
            }
        }
    }

    /// Opens the device, runs `lines`, and closes it cleanly unless the last command was
    /// `crash`. Errors are reported on `err`, one a line, with their script line number
    /// (the caller adds the tool's name); an error opening the device (the first open, a
    /// script's `open` or `reload`) names the device it concerns ([`Error::naming`]).
    /// Returns whether every command succeeded.
    pub fn run(&mut self, lines: &[Line], out: &mut dyn Write, err: &mut dyn Write) -> bool {
        if let Err(e) = self.open(None) {
            let e = e.naming(&self.cfg.meta_name, &self.cfg.origin_name);
            let _ = writeln!(err, "{e}");
            return false;
        }
        let mut ok = true;
        for line in lines {
            if let Err(e) = self.execute(&line.command, out) {
                // A device that cannot be opened again is named, as at the first open.
                let e = match line.command {
                    Command::Open(_) | Command::Reload(_) => {
                        e.naming(&self.cfg.meta_name, &self.cfg.origin_name)
                    }
                    _ => e,
                };
                let _ = writeln!(err, "line {}: {}: {e}", line.number, line.command);
                ok = false;
            }
            // What the kernel would only log (a failed digest step) is reported too.
            if let Some(t) = self.target.as_mut() {
                for msg in std::mem::take(&mut t.log) {
                    let _ = writeln!(err, "line {}: log: {msg}", line.number);
                }
            }
        }
        let crashed = matches!(lines.last(), Some(l) if l.command == Command::Crash);
        if !crashed && self.target.is_some() {
            if let Err(e) = self.close() {
                let _ = writeln!(err, "the device did not close cleanly: {e}");
                ok = false;
            }
        }
        ok
    }
}
