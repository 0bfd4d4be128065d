//! `era_invalidate`'s output: `<blocks>`, one `<range begin= end=/>` per run of two or
//! more blocks and one `<block block=/>` per single block, `</blocks>`, no final newline.

use crate::units::DataBlock;
use std::io::{self, Write};

/// What precedes the runs.
pub const BLOCKS_HEAD: &[u8] = b"<blocks>";
/// What follows the runs.
pub const BLOCKS_TAIL: &[u8] = b"\n</blocks>";

/// Appends the element of the run `[b, e)`: a `<range>` for two or more blocks, a
/// `<block>` for one, nothing for none.
pub fn push_block_run(buf: &mut Vec<u8>, num: &mut itoa::Buffer, run: (DataBlock, DataBlock)) {
    let (b, e) = (run.0.get(), run.1.get());
    if e > b.saturating_add(1) {
        buf.extend_from_slice(b"\n  <range begin=\"");
        buf.extend_from_slice(num.format(b).as_bytes());
        buf.extend_from_slice(b"\" end=\"");
        buf.extend_from_slice(num.format(e).as_bytes());
        buf.extend_from_slice(b"\"/>");
    } else if e > b {
        buf.extend_from_slice(b"\n  <block block=\"");
        buf.extend_from_slice(num.format(b).as_bytes());
        buf.extend_from_slice(b"\"/>");
    }
}

/// Writes the block list for the runs `[begin, end)`.
pub fn write_blocks(out: &mut dyn Write, runs: &[(DataBlock, DataBlock)]) -> io::Result<()> {
    let mut buf = Vec::with_capacity(64 * 1024);
    buf.extend_from_slice(BLOCKS_HEAD);
    let mut num = itoa::Buffer::new();
    for &run in runs {
        push_block_run(&mut buf, &mut num, run);
        if buf.len() > 60 * 1024 {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    buf.extend_from_slice(BLOCKS_TAIL);
    out.write_all(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_ranges_singles_and_empty() {
        let mut v = Vec::new();
        let b = DataBlock::new;
        write_blocks(&mut v, &[(b(0), b(4)), (b(7), b(8)), (b(10), b(12))]).unwrap();
        assert_eq!(
            String::from_utf8(v).unwrap(),
            "<blocks>\n  <range begin=\"0\" end=\"4\"/>\n  <block block=\"7\"/>\n  <range begin=\"10\" end=\"12\"/>\n</blocks>"
        );
        let mut v = Vec::new();
        write_blocks(&mut v, &[]).unwrap();
        assert_eq!(v, b"<blocks>\n</blocks>");
    }
}
