//! `era_invalidate`'s output: `<blocks>`, one `<range begin= end=/>` per run of two or
//! more blocks and one `<block block=/>` per single block, `</blocks>`, no final newline.

use std::io::{self, Write};

/// Writes the block list for the runs `[begin, end)`.
pub fn write_blocks(out: &mut dyn Write, runs: &[(u32, u32)]) -> io::Result<()> {
    let mut buf = Vec::with_capacity(64 * 1024);
    buf.extend_from_slice(b"<blocks>");
    let mut num = itoa::Buffer::new();
    for &(b, e) in runs {
        if e > b + 1 {
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
        if buf.len() > 60 * 1024 {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    buf.extend_from_slice(b"\n</blocks>");
    out.write_all(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_ranges_singles_and_empty() {
        let mut v = Vec::new();
        write_blocks(&mut v, &[(0, 4), (7, 8), (10, 12)]).unwrap();
        assert_eq!(
            String::from_utf8(v).unwrap(),
            "<blocks>\n  <range begin=\"0\" end=\"4\"/>\n  <block block=\"7\"/>\n  <range begin=\"10\" end=\"12\"/>\n</blocks>"
        );
        let mut v = Vec::new();
        write_blocks(&mut v, &[]).unwrap();
        assert_eq!(v, b"<blocks>\n</blocks>");
    }
}
