//! Era metadata → XML, byte for byte as thin-provisioning-tools prints it: no
//! declaration, two-space indent, each element on its own line, no final newline.
//!
//! Bits and eras are formatted in parallel in chunks and written in order.

use super::lines::LineBuf;
use crate::ir::{SuperblockIr, Visitor, WritesetIr};
use crate::pdata::bitset::{bits_from, for_each_run_beginning_in};
use crate::units::DataBlock;
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

/// Lines formatted per parallel task (a multiple of 64: a task's bits are whole words).
const CHUNK: usize = 8 * 1024;
/// Chunks formatted per batch. A batch is written out while the next one is formatted,
/// so two batches are held: about 2 x 4 x 8192 x 45 bytes, 3 MiB. Small enough to stay
/// in the processor's caches (formatting into memory that was evicted costs half as
/// much again), large enough that the joins between batches cost little.
const CHUNKS_PER_BATCH: usize = 4;

/// A [`Visitor`] that writes XML to `W`.
pub struct XmlWriter<W: Write> {
    out: W,
    style: XmlStyle,
    nr_blocks: u32,
    /// Blocks of the open writeset already written (verbose style, run input).
    emitted: u32,
    started: bool,
    /// Formatted chunks not yet written, in order: `pending[..nr_pending]`.
    pending: Vec<LineBuf>,
    nr_pending: usize,
    /// Chunks the next batch is formatted into.
    spare: Vec<LineBuf>,
}

impl<W: Write> XmlWriter<W> {
    /// A writer to `out` in `style`; nothing is written before the first visit.
    pub fn new(out: W, style: XmlStyle) -> XmlWriter<W> {
        XmlWriter {
            out,
            style,
            nr_blocks: 0,
            emitted: 0,
            started: false,
            pending: Vec::new(),
            nr_pending: 0,
            spare: Vec::new(),
        }
    }

    /// Flushes and returns the output.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.write_pending()?;
        self.out.flush()?;
        Ok(self.out)
    }

    /// Writes the chunks formatted but not yet written.
    fn write_pending(&mut self) -> io::Result<()> {
        let n = std::mem::take(&mut self.nr_pending);
        write_chunks(&mut self.out, &self.pending[..n])
    }

    fn line(&mut self, indent: usize, content: &[u8]) -> io::Result<()> {
        self.write_pending()?;
        if self.started {
            self.out.write_all(b"\n")?;
        }
        self.started = true;
        self.out.write_all(&b"        "[..indent])?;
        self.out.write_all(content)
    }
}

impl<W: Write + Send> XmlWriter<W> {
    /// Formats items `0..total` in parallel chunks of `CHUNK` with `f(range, buf)` and
    /// writes them in order: each batch is written while the next is formatted.
    fn format_parallel(
        &mut self,
        total: usize,
        f: impl Fn(std::ops::Range<usize>, &mut LineBuf) + Sync,
    ) -> io::Result<()> {
        self.started = true;
        let batch = CHUNK * CHUNKS_PER_BATCH;
        let mut start = 0;
        while start < total {
            let stop = (start + batch).min(total);
            let nr_chunks = (stop - start).div_ceil(CHUNK);
            if self.spare.len() < nr_chunks {
                self.spare.resize_with(nr_chunks, LineBuf::default);
            }
            let (out, pending) = (&mut self.out, &self.pending[..self.nr_pending]);
            let spare = &mut self.spare[..nr_chunks];
            let (written, ()) = rayon::join(
                || write_chunks(out, pending),
                || {
                    spare.par_iter_mut().enumerate().for_each(|(c, buf)| {
                        buf.clear();
                        let s = start + c * CHUNK;
                        f(s..(s + CHUNK).min(stop), buf);
                    })
                },
            );
            written?;
            std::mem::swap(&mut self.pending, &mut self.spare);
            self.nr_pending = nr_chunks;
            start = stop;
        }
        Ok(())
    }

    /// `<bit/>` lines for blocks `begin..end`, valued by `bits` (see
    /// [`LineBuf::push_bits`]).
    fn bits_lines(
        &mut self,
        begin: u32,
        end: u32,
        bits: impl Fn(u64) -> u64 + Sync,
    ) -> io::Result<()> {
        let n = end.saturating_sub(begin) as usize;
        self.format_parallel(n, |r, buf| {
            buf.push_bits(u64::from(begin) + r.start as u64, r.len(), &bits)
        })
    }
}

/// The bits up to and including the last one set in word `i`, whose value is `w` (not
/// 0): in 64 bits, as the last word of a bitset of 2^32 - 1 bits ends at bit 2^32.
fn bits_through(i: usize, w: u64) -> u64 {
    (i as u64) * 64 + 64 - u64::from(w.leading_zeros())
}

fn write_chunks<W: Write>(out: &mut W, chunks: &[LineBuf]) -> io::Result<()> {
    for c in chunks {
        out.write_all(c.text())?;
    }
    Ok(())
}

impl<W: Write + Send> Visitor for XmlWriter<W> {
    type Error = io::Error;

    fn superblock_begin(&mut self, sb: &SuperblockIr) -> io::Result<()> {
        self.nr_blocks = sb.nr_blocks;
        let s = format!(
            "<superblock uuid=\"{}\" block_size=\"{}\" nr_blocks=\"{}\" current_era=\"{}\">",
            quick_xml::escape::escape(sb.uuid.as_str()),
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

    fn writeset_run(&mut self, begin: DataBlock, len: u32) -> io::Result<()> {
        let begin = begin.get();
        match self.style {
            XmlStyle::Compact => {
                self.write_pending()?;
                let mut buf = LineBuf::default();
                buf.push_marked(begin, len);
                self.out.write_all(buf.text())
            }
            XmlStyle::Verbose => {
                let end = begin.saturating_add(len);
                let from = self.emitted;
                self.bits_lines(from, begin.max(from), |_| 0)?;
                self.bits_lines(begin.max(from), end, |_| u64::MAX)?;
                self.emitted = self.emitted.max(end);
                Ok(())
            }
        }
    }

    fn writeset_words(&mut self, words: &[u64], nr_bits: u32) -> io::Result<()> {
        match self.style {
            XmlStyle::Compact => {
                // Chunks of CHUNK / 64 words: each lists the runs beginning in it.
                let per = CHUNK / 64;
                let nr_words = words.len().min(nr_bits.div_ceil(64) as usize);
                self.format_parallel(nr_words.div_ceil(per) * CHUNK, |r, buf| {
                    let first = r.start / CHUNK * per;
                    let mut lines = buf.marked();
                    for_each_run_beginning_in(
                        words,
                        u64::from(nr_bits),
                        first..first + per,
                        |b, e| lines.push(b as u32, (e - b) as u32),
                    );
                })
            }
            XmlStyle::Verbose => {
                // The reference writes every block up to the last marked one, then
                // unmarked blocks up to the superblock's nr_blocks.
                let last_set = words
                    .iter()
                    .rposition(|&w| w != 0)
                    .map_or(0, |i| bits_through(i, words[i]));
                // At most `nr_bits`, a u32.
                let end = u32::try_from(last_set.min(u64::from(nr_bits)))
                    .unwrap_or(nr_bits)
                    .max(self.nr_blocks);
                let nr_bits = u64::from(nr_bits);
                self.bits_lines(0, end, |b| bits_from(words, nr_bits, b))?;
                self.emitted = end;
                Ok(())
            }
        }
    }

    fn writeset_end(&mut self) -> io::Result<()> {
        if self.style == XmlStyle::Verbose && self.emitted < self.nr_blocks {
            let from = self.emitted;
            self.bits_lines(from, self.nr_blocks, |_| 0)?;
        }
        self.line(2, b"</writeset>")
    }

    fn era_array_begin(&mut self) -> io::Result<()> {
        self.line(2, b"<era_array>")
    }

    fn eras(&mut self, first: DataBlock, eras: &[u32]) -> io::Result<()> {
        self.format_parallel(eras.len(), |r, buf| {
            buf.push_eras(u64::from(first.get()) + r.start as u64, &eras[r])
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
mod tests {
    use super::*;
    use crate::ir::{EraMetadata, Writeset};
    use crate::units::{DataBlock, Era};

    fn sample() -> EraMetadata {
        EraMetadata {
            superblock: SuperblockIr {
                uuid: String::new(),
                block_size: 8,
                nr_blocks: 4,
                current_era: Era::new(3),
            },
            writesets: vec![Writeset {
                era: Era::new(3),
                nr_bits: 4,
                bits: vec![0b0110],
            }],
            era_array: vec![0, 1, 2, 0],
        }
    }

    fn render(md: &EraMetadata, style: XmlStyle) -> String {
        let mut w = XmlWriter::new(Vec::new(), style);
        md.visit(&mut w).unwrap();
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    }

    #[test]
    fn verbose_layout() {
        assert_eq!(
            render(&sample(), XmlStyle::Verbose),
            "<superblock uuid=\"\" block_size=\"8\" nr_blocks=\"4\" current_era=\"3\">\n  <writeset era=\"3\" nr_bits=\"4\">\n    <bit block=\"0\" value=\"false\"/>\n    <bit block=\"1\" value=\"true\"/>\n    <bit block=\"2\" value=\"true\"/>\n    <bit block=\"3\" value=\"false\"/>\n  </writeset>\n  <era_array>\n    <era block=\"0\" era=\"0\"/>\n    <era block=\"1\" era=\"1\"/>\n    <era block=\"2\" era=\"2\"/>\n    <era block=\"3\" era=\"0\"/>\n  </era_array>\n</superblock>"
        );
    }

    #[test]
    fn uuid_is_escaped_as_an_attribute_value() {
        let mut md = sample();
        md.superblock.uuid = "a<b>c&d'e\"f é".to_string();
        let s = render(&md, XmlStyle::Compact);
        assert!(
            s.starts_with("<superblock uuid=\"a&lt;b&gt;c&amp;d&apos;e&quot;f é\" block_size"),
            "{s}"
        );
    }

    #[test]
    fn compact_layout() {
        let s = render(&sample(), XmlStyle::Compact);
        assert!(s.contains("  <writeset era=\"3\" nr_bits=\"4\">\n    <marked block_begin=\"1\" len=\"2\"/>\n  </writeset>"));
    }

    #[test]
    fn empty_era_array_and_runs_path_agree() {
        let mut md = sample();
        md.era_array.clear();
        md.superblock.nr_blocks = 0;
        let s = render(&md, XmlStyle::Verbose);
        assert!(s.ends_with("  <era_array>\n  </era_array>\n</superblock>"));

        // The run-based path (as the XML reader drives it) gives the same bytes.
        let md = sample();
        let mut w = XmlWriter::new(Vec::new(), XmlStyle::Verbose);
        w.superblock_begin(&md.superblock).unwrap();
        w.writeset_begin(&WritesetIr {
            era: Era::new(3),
            nr_bits: 4,
        })
        .unwrap();
        w.writeset_run(DataBlock::new(1), 2).unwrap();
        w.writeset_end().unwrap();
        w.era_array_begin().unwrap();
        w.eras(DataBlock::new(0), &md.era_array).unwrap();
        w.era_array_end().unwrap();
        w.superblock_end().unwrap();
        assert_eq!(
            String::from_utf8(w.into_inner().unwrap()).unwrap(),
            render(&md, XmlStyle::Verbose)
        );
    }

    /// The verbose writer finds the end of a writeset's last set bit: for a word at
    /// index 2^26 - 1 (the last of a bitset of 2^32 - 1 bits) it ends at bit 2^32, which
    /// overflowed in 32 bits. Here the words run on past `nr_bits` (the allocation is
    /// zeroed lazily: one page is touched).
    #[test]
    fn last_set_bit_at_the_top_of_u32_is_found_in_64_bits() {
        let mut words = vec![0u64; 1 << 26];
        words[(1 << 26) - 1] = 1 << 63;
        let mut w = XmlWriter::new(Vec::new(), XmlStyle::Verbose);
        w.superblock_begin(&sample().superblock).unwrap();
        w.writeset_begin(&WritesetIr {
            era: Era::new(3),
            nr_bits: 4,
        })
        .unwrap();
        w.writeset_words(&words, 4).unwrap();
        w.writeset_end().unwrap();
        let s = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert!(
            s.ends_with("<bit block=\"3\" value=\"false\"/>\n  </writeset>"),
            "{s}"
        );
        assert_eq!(bits_through((1 << 26) - 1, 1 << 63), 1 << 32);
    }
}
