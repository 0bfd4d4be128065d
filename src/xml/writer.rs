//! Era metadata → XML, byte for byte as thin-provisioning-tools prints it: no
//! declaration, two-space indent, each element on its own line, no final newline.
//!
//! Bits and eras are formatted in parallel in chunks and written in order.

use crate::era::ir::{SuperblockIr, Visitor, WritesetIr};
use crate::pdata::bitset::test_bit;
use rayon::prelude::*;
use std::io::{self, Write};

/// How writesets are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XmlStyle {
    /// One `<bit block= value=/>` per block.
    Verbose,
    /// One `<marked block_begin= len=/>` per run of marked blocks.
    Compact,
}

/// Lines formatted per parallel task.
const CHUNK: usize = 16 * 1024;
/// Chunks formatted before they are written out (bounds memory).
const CHUNKS_PER_BATCH: usize = 64;

/// A [`Visitor`] that writes XML to `W`.
pub struct XmlWriter<W: Write> {
    out: W,
    style: XmlStyle,
    nr_blocks: u32,
    /// Blocks of the open writeset already written (verbose style, run input).
    emitted: u32,
    started: bool,
    /// Formatting buffers, reused from batch to batch.
    bufs: Vec<Vec<u8>>,
}

impl<W: Write> XmlWriter<W> {
    pub fn new(out: W, style: XmlStyle) -> XmlWriter<W> {
        XmlWriter {
            out,
            style,
            nr_blocks: 0,
            emitted: 0,
            started: false,
            bufs: Vec::new(),
        }
    }

    /// Flushes and returns the output.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }

    fn line(&mut self, indent: usize, content: &[u8]) -> io::Result<()> {
        if self.started {
            self.out.write_all(b"\n")?;
        }
        self.started = true;
        self.out.write_all(&b"        "[..indent])?;
        self.out.write_all(content)
    }

    fn bits_lines(
        &mut self,
        begin: u32,
        end: u32,
        value: impl Fn(u32) -> bool + Sync,
    ) -> io::Result<()> {
        self.started = true;
        format_parallel(
            &mut self.out,
            &mut self.bufs,
            begin as usize,
            end as usize,
            |b, buf| push_bit(buf, b as u32, value(b as u32)),
        )
    }
}

fn push_bit(buf: &mut Vec<u8>, block: u32, value: bool) {
    let mut n = itoa::Buffer::new();
    buf.extend_from_slice(b"\n    <bit block=\"");
    buf.extend_from_slice(n.format(block).as_bytes());
    buf.extend_from_slice(if value {
        b"\" value=\"true\"/>"
    } else {
        b"\" value=\"false\"/>"
    });
}

fn push_marked(buf: &mut Vec<u8>, begin: u32, len: u32) {
    let mut n = itoa::Buffer::new();
    buf.extend_from_slice(b"\n    <marked block_begin=\"");
    buf.extend_from_slice(n.format(begin).as_bytes());
    buf.extend_from_slice(b"\" len=\"");
    buf.extend_from_slice(n.format(len).as_bytes());
    buf.extend_from_slice(b"\"/>");
}

/// Formats items `begin..end` with `f` in parallel chunks and writes them in order.
/// `bufs` keeps the chunk buffers between calls, so that large outputs do not allocate
/// (and fault in) fresh memory for every batch.
fn format_parallel<W: Write>(
    out: &mut W,
    bufs: &mut Vec<Vec<u8>>,
    begin: usize,
    end: usize,
    f: impl Fn(usize, &mut Vec<u8>) + Sync,
) -> io::Result<()> {
    let batch = CHUNK * CHUNKS_PER_BATCH;
    let mut start = begin;
    while start < end {
        let stop = (start + batch).min(end);
        let nr_chunks = (stop - start).div_ceil(CHUNK);
        if bufs.len() < nr_chunks {
            bufs.resize_with(nr_chunks, Vec::new);
        }
        bufs[..nr_chunks]
            .par_iter_mut()
            .enumerate()
            .for_each(|(c, buf)| {
                buf.clear();
                let s = start + c * CHUNK;
                for i in s..(s + CHUNK).min(stop) {
                    f(i, buf);
                }
            });
        for buf in &bufs[..nr_chunks] {
            out.write_all(buf)?;
        }
        start = stop;
    }
    Ok(())
}

/// Escapes an attribute value.
fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c => o.push(c),
        }
    }
    o
}

impl<W: Write> Visitor for XmlWriter<W> {
    type Error = io::Error;

    fn superblock_begin(&mut self, sb: &SuperblockIr) -> io::Result<()> {
        self.nr_blocks = sb.nr_blocks;
        let s = format!(
            "<superblock uuid=\"{}\" block_size=\"{}\" nr_blocks=\"{}\" current_era=\"{}\">",
            escape(&sb.uuid),
            sb.block_size,
            sb.nr_blocks,
            sb.current_era
        );
        self.line(0, s.as_bytes())
    }

    fn writeset_begin(&mut self, ws: &WritesetIr) -> io::Result<()> {
        self.emitted = 0;
        let s = format!("<writeset era=\"{}\" nr_bits=\"{}\">", ws.era, ws.nr_bits);
        self.line(2, s.as_bytes())
    }

    fn writeset_run(&mut self, begin: u32, len: u32) -> io::Result<()> {
        match self.style {
            XmlStyle::Compact => {
                let mut buf = Vec::new();
                push_marked(&mut buf, begin, len);
                self.out.write_all(&buf)
            }
            XmlStyle::Verbose => {
                let end = begin.saturating_add(len);
                let from = self.emitted;
                self.bits_lines(from, begin.max(from), |_| false)?;
                self.bits_lines(begin.max(from), end, |_| true)?;
                self.emitted = self.emitted.max(end);
                Ok(())
            }
        }
    }

    fn writeset_words(&mut self, words: &[u64], nr_bits: u32) -> io::Result<()> {
        match self.style {
            XmlStyle::Compact => {
                let mut buf = Vec::new();
                crate::pdata::bitset::for_each_run(words, nr_bits as u64, |b, e| {
                    push_marked(&mut buf, b as u32, (e - b) as u32)
                });
                self.out.write_all(&buf)
            }
            XmlStyle::Verbose => {
                // The reference writes every block up to the last marked one, then
                // unmarked blocks up to the superblock's nr_blocks.
                let mut last_set = 0u32;
                for (i, &w) in words.iter().enumerate().rev() {
                    if w != 0 {
                        last_set = (i as u32) * 64 + 64 - w.leading_zeros();
                        break;
                    }
                }
                let end = last_set.min(nr_bits).max(self.nr_blocks);
                self.bits_lines(0, end, |b| b < nr_bits && test_bit(words, b as u64))?;
                self.emitted = end;
                Ok(())
            }
        }
    }

    fn writeset_end(&mut self) -> io::Result<()> {
        if self.style == XmlStyle::Verbose && self.emitted < self.nr_blocks {
            let from = self.emitted;
            self.bits_lines(from, self.nr_blocks, |_| false)?;
        }
        self.line(2, b"</writeset>")
    }

    fn era_array_begin(&mut self) -> io::Result<()> {
        self.line(2, b"<era_array>")
    }

    fn eras(&mut self, first: u32, eras: &[u32]) -> io::Result<()> {
        self.started = true;
        format_parallel(&mut self.out, &mut self.bufs, 0, eras.len(), |i, buf| {
            let mut n = itoa::Buffer::new();
            buf.extend_from_slice(b"\n    <era block=\"");
            buf.extend_from_slice(n.format(first as usize + i).as_bytes());
            buf.extend_from_slice(b"\" era=\"");
            buf.extend_from_slice(n.format(eras[i]).as_bytes());
            buf.extend_from_slice(b"\"/>");
        })
    }

    fn era_array_end(&mut self) -> io::Result<()> {
        self.line(2, b"</era_array>")
    }

    fn superblock_end(&mut self) -> io::Result<()> {
        self.line(0, b"</superblock>")?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests;
