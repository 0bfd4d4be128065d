//! The delta stream (docs/delta-format.md): a header, extents each with their data and a
//! crc32c, and a trailer with the totals. Integers are little-endian. [`DeltaWriter`]
//! writes one; [`DeltaReader`] reads one back, checking every checksum and total, and
//! never holding more than one extent ([`MAX_EXTENT_BYTES`]).

use std::io::{self, Read, Write};

/// The stream's first eight bytes.
pub const MAGIC: [u8; 8] = *b"ERADELTA";
/// The only version written and read.
pub const VERSION: u32 = 1;
/// Bytes of the header.
pub const HEADER_BYTES: usize = 48;
/// Bytes of a record's head (an extent's, a failed range's or the trailer's).
pub const RECORD_BYTES: usize = 32;
/// The largest extent a stream may hold (the writer splits longer runs).
pub const MAX_EXTENT_BYTES: u64 = 16 << 20;

const KIND_EXTENT: u32 = 1;
const KIND_FAILED: u32 = 2;
const KIND_TRAILER: u32 = 3;

/// What the header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeltaHeader {
    /// Origin block size in 512-byte sectors.
    pub block_size: u32,
    /// The source's length in bytes: where the destination ends.
    pub source_length: u64,
    /// The eras covered: blocks written in `since` or later, up to era `until`.
    pub since: u32,
    pub until: u32,
}

/// The trailer's totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeltaTotals {
    pub extents: u64,
    pub bytes: u64,
    /// Ranges the source could not read (`--keep-going`): not in the stream.
    pub failed: u64,
}

/// One record of the stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Record<'a> {
    /// `data` belongs at byte `offset` of the destination.
    Extent { offset: u64, data: &'a [u8] },
    /// Bytes `offset..offset + length` could not be read from the source.
    Failed { offset: u64, length: u64 },
}

/// One record of the stream, its extent's data in a buffer the caller gave
/// ([`DeltaReader::next_into`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Head {
    /// `length` bytes for byte `offset` of the destination.
    Extent { offset: u64, length: usize },
    /// Bytes `offset..offset + length` could not be read from the source.
    Failed { offset: u64, length: u64 },
}

/// Why a delta stream cannot be applied. Every error names the extent (counted from 0)
/// and its offset where it has one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeltaError {
    #[error("not an era delta stream (the magic is {found:02x?}, not \"ERADELTA\")")]
    BadMagic { found: [u8; 8] },
    #[error("delta version {found} is not supported (this era_copy reads version {VERSION})")]
    Version { found: u32 },
    #[error("the header's checksum is wrong (damaged header)")]
    HeaderChecksum,
    #[error("the header is invalid: {reason}")]
    BadHeader { reason: String },
    #[error("truncated: the stream ends {what}")]
    Truncated { what: String },
    #[error("record {index}: its head's checksum is wrong (damaged stream)")]
    RecordChecksum { index: u64 },
    #[error("record {index}: {reason}")]
    BadRecord { index: u64, reason: String },
    #[error("record {index}: unknown kind {kind}")]
    BadKind { index: u64, kind: u32 },
    #[error("extent {index} (bytes {offset}..{end}): {reason}")]
    BadExtent {
        index: u64,
        offset: u64,
        end: u64,
        reason: String,
    },
    #[error(
        "extent {index} (bytes {offset}..{end}): the data's checksum is wrong (damaged stream)"
    )]
    DataChecksum { index: u64, offset: u64, end: u64 },
    #[error("the trailer's totals ({trailer}) do not match the stream ({stream})")]
    Totals { trailer: String, stream: String },
    #[error("{0}")]
    Io(#[from] io::Error),
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn get_u32(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(w)
}

fn get_u64(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

impl DeltaHeader {
    fn pack(&self) -> [u8; HEADER_BYTES] {
        let mut b = [0u8; HEADER_BYTES];
        b[..8].copy_from_slice(&MAGIC);
        put_u32(&mut b, 8, VERSION);
        put_u32(&mut b, 12, 0); // flags: no compression
        put_u32(&mut b, 16, self.block_size);
        put_u32(&mut b, 20, self.since);
        put_u32(&mut b, 24, self.until);
        put_u64(&mut b, 28, self.source_length);
        let crc = crc32c::crc32c(&b[..HEADER_BYTES - 4]);
        put_u32(&mut b, HEADER_BYTES - 4, crc);
        b
    }

    fn unpack(b: &[u8; HEADER_BYTES]) -> Result<DeltaHeader, DeltaError> {
        let mut found = [0u8; 8];
        found.copy_from_slice(&b[..8]);
        if found != MAGIC {
            return Err(DeltaError::BadMagic { found });
        }
        if crc32c::crc32c(&b[..HEADER_BYTES - 4]) != get_u32(b, HEADER_BYTES - 4) {
            return Err(DeltaError::HeaderChecksum);
        }
        let version = get_u32(b, 8);
        if version != VERSION {
            return Err(DeltaError::Version { found: version });
        }
        let bad = |reason: String| Err(DeltaError::BadHeader { reason });
        let flags = get_u32(b, 12);
        if flags != 0 {
            return bad(format!("unknown flags {flags:#x}"));
        }
        let h = DeltaHeader {
            block_size: get_u32(b, 16),
            since: get_u32(b, 20),
            until: get_u32(b, 24),
            source_length: get_u64(b, 28),
        };
        if b[36..44].iter().any(|&x| x != 0) {
            return bad("the reserved bytes 36..44 are not zero".into());
        }
        if h.block_size == 0 {
            return bad("the block size is 0 sectors".into());
        }
        if h.since > h.until.saturating_add(1) {
            return bad(format!("era range {}..{} goes backwards", h.since, h.until));
        }
        Ok(h)
    }
}

/// A record head: kind, offset, length, the data's crc32c, then its own crc32c.
fn pack_record(kind: u32, offset: u64, length: u64, data_crc: u32) -> [u8; RECORD_BYTES] {
    let mut b = [0u8; RECORD_BYTES];
    put_u32(&mut b, 0, kind);
    put_u64(&mut b, 8, offset);
    put_u64(&mut b, 16, length);
    put_u32(&mut b, 24, data_crc);
    let crc = crc32c::crc32c(&b[..RECORD_BYTES - 4]);
    put_u32(&mut b, RECORD_BYTES - 4, crc);
    b
}

/// Writes a delta stream to `W`.
pub struct DeltaWriter<W: Write> {
    out: W,
    totals: DeltaTotals,
}

impl<W: Write> DeltaWriter<W> {
    /// Writes the header.
    pub fn new(mut out: W, header: &DeltaHeader) -> io::Result<DeltaWriter<W>> {
        out.write_all(&header.pack())?;
        Ok(DeltaWriter {
            out,
            totals: DeltaTotals::default(),
        })
    }

    /// Writes `data` for byte `offset`, split into extents of at most
    /// [`MAX_EXTENT_BYTES`].
    pub fn extent(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut at = offset;
        for piece in data.chunks(MAX_EXTENT_BYTES as usize) {
            self.extent_with_crc(at, piece, crc32c::crc32c(piece))?;
            at += piece.len() as u64;
        }
        Ok(())
    }

    /// Writes one extent, `data` for byte `offset` (at most [`MAX_EXTENT_BYTES`]),
    /// whose crc32c `crc` the caller computed (on another thread).
    pub fn extent_with_crc(&mut self, offset: u64, data: &[u8], crc: u32) -> io::Result<()> {
        let len = data.len() as u64;
        if len == 0 || len > MAX_EXTENT_BYTES {
            return Err(io::Error::other(format!(
                "an extent of {len} bytes (1..={MAX_EXTENT_BYTES})"
            )));
        }
        self.out
            .write_all(&pack_record(KIND_EXTENT, offset, len, crc))?;
        self.out.write_all(data)?;
        self.totals.extents += 1;
        self.totals.bytes += len;
        Ok(())
    }

    /// The totals so far.
    pub fn totals(&self) -> DeltaTotals {
        self.totals
    }

    /// Records bytes `offset..offset + length` as unreadable.
    pub fn failed(&mut self, offset: u64, length: u64) -> io::Result<()> {
        self.out
            .write_all(&pack_record(KIND_FAILED, offset, length, 0))?;
        self.totals.failed += 1;
        Ok(())
    }

    /// Writes the trailer and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        let t = self.totals;
        let mut b = pack_record(KIND_TRAILER, t.extents, t.bytes, 0);
        // The failed count sits in the data-checksum field's place of a trailer.
        put_u32(&mut b, 4, u32::try_from(t.failed).unwrap_or(u32::MAX));
        let crc = crc32c::crc32c(&b[..RECORD_BYTES - 4]);
        put_u32(&mut b, RECORD_BYTES - 4, crc);
        self.out.write_all(&b)?;
        Ok(self.out)
    }
}

/// Reads a delta stream, checking as it goes.
pub struct DeltaReader<R: Read> {
    input: R,
    header: DeltaHeader,
    buf: Vec<u8>,
    totals: DeltaTotals,
    records: u64,
    done: bool,
}

/// Reads exactly `buf.len()` bytes; `Ok(false)` when the stream ended first.
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<bool> {
    let mut done = 0;
    while done < buf.len() {
        match r.read(&mut buf[done..]) {
            Ok(0) => return Ok(false),
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

impl<R: Read> DeltaReader<R> {
    /// Reads and checks the header.
    pub fn new(mut input: R) -> Result<DeltaReader<R>, DeltaError> {
        let mut b = [0u8; HEADER_BYTES];
        if !read_full(&mut input, &mut b)? {
            return Err(DeltaError::Truncated {
                what: "inside the header".into(),
            });
        }
        let header = DeltaHeader::unpack(&b)?;
        Ok(DeltaReader {
            input,
            header,
            buf: Vec::new(),
            totals: DeltaTotals::default(),
            records: 0,
            done: false,
        })
    }

    /// The header.
    pub fn header(&self) -> &DeltaHeader {
        &self.header
    }

    /// The totals so far (all of them once [`DeltaReader::next_record`] returned `None`).
    pub fn totals(&self) -> DeltaTotals {
        self.totals
    }

    /// The next record, its checksums verified; `None` after a trailer whose totals
    /// match. An extent's data is read whole before it is returned, so a stream that is
    /// truncated or damaged inside an extent is refused before any of it is used.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, DeltaError> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let head = self.next_into(&mut buf);
        self.buf = buf;
        Ok(head?.map(|h| match h {
            Head::Extent { offset, .. } => Record::Extent {
                offset,
                data: &self.buf,
            },
            Head::Failed { offset, length } => Record::Failed { offset, length },
        }))
    }

    /// As [`DeltaReader::next_record`], an extent's data appended to `out` (which is as
    /// it was when the extent is refused), so that a caller can gather many extents in
    /// one buffer.
    pub fn next_into(&mut self, out: &mut Vec<u8>) -> Result<Option<Head>, DeltaError> {
        if self.done {
            return Ok(None);
        }
        let index = self.records;
        let mut b = [0u8; RECORD_BYTES];
        if !read_full(&mut self.input, &mut b)? {
            return Err(DeltaError::Truncated {
                what: format!(
                    "after {} extents ({} bytes), without the trailer",
                    self.totals.extents, self.totals.bytes
                ),
            });
        }
        if crc32c::crc32c(&b[..RECORD_BYTES - 4]) != get_u32(&b, RECORD_BYTES - 4) {
            return Err(DeltaError::RecordChecksum { index });
        }
        self.records += 1;
        let kind = get_u32(&b, 0);
        let offset = get_u64(&b, 8);
        let length = get_u64(&b, 16);
        let (field4, data_crc) = (get_u32(&b, 4), get_u32(&b, 24));
        let unused_set = match kind {
            KIND_EXTENT => field4 != 0,
            KIND_FAILED => field4 != 0 || data_crc != 0,
            _ => data_crc != 0,
        };
        if unused_set {
            return Err(DeltaError::BadRecord {
                index,
                reason: "a field this kind of record does not use is not zero".into(),
            });
        }
        match kind {
            KIND_TRAILER => {
                let t = DeltaTotals {
                    extents: offset,
                    bytes: length,
                    failed: u64::from(get_u32(&b, 4)),
                };
                if t != self.totals {
                    return Err(DeltaError::Totals {
                        trailer: totals_text(&t),
                        stream: totals_text(&self.totals),
                    });
                }
                self.done = true;
                Ok(None)
            }
            KIND_EXTENT | KIND_FAILED => {
                let ext = self.totals.extents;
                let end = offset
                    .checked_add(length)
                    .filter(|&e| e <= self.header.source_length);
                let Some(end) = end else {
                    return Err(DeltaError::BadExtent {
                        index: ext,
                        offset,
                        end: offset.saturating_add(length),
                        reason: format!(
                            "beyond the source's end at byte {}",
                            self.header.source_length
                        ),
                    });
                };
                if kind == KIND_FAILED {
                    self.totals.failed += 1;
                    return Ok(Some(Head::Failed { offset, length }));
                }
                if length == 0 || length > MAX_EXTENT_BYTES {
                    return Err(DeltaError::BadExtent {
                        index: ext,
                        offset,
                        end,
                        reason: format!("a length of {length} bytes (1..={MAX_EXTENT_BYTES})"),
                    });
                }
                // length <= MAX_EXTENT_BYTES: fits any usize.
                let (start, len) = (out.len(), length as usize);
                // Read into the spare capacity, not zeroed first: `take` stops at the
                // extent's end, a short count is a truncated stream.
                out.reserve(len);
                let got = (&mut self.input).take(length).read_to_end(out)?;
                let refused = if got < len {
                    Some(DeltaError::Truncated {
                        what: format!("inside extent {ext} (bytes {offset}..{end})"),
                    })
                } else if crc32c::crc32c(&out[start..]) != get_u32(&b, 24) {
                    Some(DeltaError::DataChecksum {
                        index: ext,
                        offset,
                        end,
                    })
                } else {
                    None
                };
                if let Some(e) = refused {
                    out.truncate(start);
                    return Err(e);
                }
                self.totals.extents += 1;
                self.totals.bytes += length;
                Ok(Some(Head::Extent {
                    offset,
                    length: len,
                }))
            }
            kind => Err(DeltaError::BadKind { index, kind }),
        }
    }
}

fn totals_text(t: &DeltaTotals) -> String {
    format!(
        "{} extents, {} bytes, {} failed ranges",
        t.extents, t.bytes, t.failed
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: DeltaHeader = DeltaHeader {
        block_size: 8,
        source_length: 1 << 20,
        since: 3,
        until: 7,
    };

    fn stream(extents: &[(u64, Vec<u8>)]) -> Vec<u8> {
        let mut w = DeltaWriter::new(Vec::new(), &HEADER).unwrap();
        for (off, data) in extents {
            w.extent(*off, data).unwrap();
        }
        w.finish().unwrap()
    }

    fn read_all(bytes: &[u8]) -> Result<Vec<(u64, Vec<u8>)>, DeltaError> {
        let mut r = DeltaReader::new(bytes)?;
        assert_eq!(*r.header(), HEADER);
        let mut v = Vec::new();
        while let Some(rec) = r.next_record()? {
            if let Record::Extent { offset, data } = rec {
                v.push((offset, data.to_vec()));
            }
        }
        Ok(v)
    }

    #[test]
    fn a_stream_reads_back_as_written() {
        let ext = vec![
            (0, vec![1u8; 4096]),
            (8192, vec![2u8; 12288]),
            (1 << 19, vec![3u8; 7]),
        ];
        assert_eq!(read_all(&stream(&ext)).unwrap(), ext);
        assert_eq!(read_all(&stream(&[])).unwrap(), vec![]);
    }

    #[test]
    fn every_truncation_is_refused() {
        let bytes = stream(&[(0, vec![1u8; 5000]), (8192, vec![2u8; 100])]);
        for cut in 0..bytes.len() {
            let err = read_all(&bytes[..cut]).unwrap_err();
            assert!(
                matches!(err, DeltaError::Truncated { .. }),
                "cut at {cut}: {err}"
            );
        }
    }

    #[test]
    fn every_bit_flip_is_refused() {
        let bytes = stream(&[(0, vec![1u8; 300]), (8192, vec![2u8; 100])]);
        for i in 0..bytes.len() {
            for bit in [0, 5] {
                let mut b = bytes.clone();
                b[i] ^= 1 << bit;
                assert!(
                    read_all(&b).is_err(),
                    "flip of bit {bit} of byte {i} passed"
                );
            }
        }
    }

    #[test]
    fn a_damaged_extent_is_named() {
        let mut bytes = stream(&[(0, vec![1u8; 300]), (8192, vec![2u8; 100])]);
        let second_data = HEADER_BYTES + RECORD_BYTES + 300 + RECORD_BYTES + 10;
        bytes[second_data] ^= 1;
        let err = read_all(&bytes).unwrap_err().to_string();
        assert!(err.contains("extent 1 (bytes 8192..8292)"), "{err}");
    }

    #[test]
    fn another_version_is_refused_by_name() {
        let mut bytes = stream(&[]);
        bytes[8] = 2;
        let crc = crc32c::crc32c(&bytes[..HEADER_BYTES - 4]);
        bytes[HEADER_BYTES - 4..HEADER_BYTES].copy_from_slice(&crc.to_le_bytes());
        let err = read_all(&bytes).unwrap_err();
        assert!(matches!(err, DeltaError::Version { found: 2 }), "{err}");
    }

    #[test]
    fn long_data_is_split_into_bounded_extents() {
        let data = vec![9u8; (MAX_EXTENT_BYTES as usize) + 4096];
        let mut w = DeltaWriter::new(
            Vec::new(),
            &DeltaHeader {
                source_length: 64 << 20,
                ..HEADER
            },
        )
        .unwrap();
        w.extent(4096, &data).unwrap();
        let bytes = w.finish().unwrap();
        let mut r = DeltaReader::new(&bytes[..]).unwrap();
        let mut got = Vec::new();
        while let Some(Record::Extent { offset, data }) = r.next_record().unwrap() {
            got.push((offset, data.len() as u64));
        }
        assert_eq!(
            got,
            vec![(4096, MAX_EXTENT_BYTES), (4096 + MAX_EXTENT_BYTES, 4096)]
        );
    }
}
