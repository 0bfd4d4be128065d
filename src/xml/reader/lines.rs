//! Byte offsets in a chunk → 1-based line and column. Each chunk starts at the start of
//! a line; its newlines are counted once, per block, so that any offset resolves by
//! scanning at most one block.

use super::error::Pos;

/// Bytes per counted block.
const BLOCK: usize = 4096;

/// The newlines of one chunk.
#[derive(Debug, Default)]
pub(super) struct LineIndex {
    /// Newlines before each block.
    before: Vec<u32>,
    /// Newlines in the whole chunk.
    pub total: u64,
}

impl LineIndex {
    pub fn new(bytes: &[u8]) -> LineIndex {
        let mut before = Vec::with_capacity(bytes.len() / BLOCK + 1);
        let mut n: u64 = 0;
        for block in bytes.chunks(BLOCK) {
            before.push(n as u32);
            n += count_newlines(block);
        }
        LineIndex { before, total: n }
    }

    /// The position of `bytes[offset]` (or of the end, for `offset == bytes.len()`),
    /// where `bytes` is the chunk and `first_line` the number of its first line.
    pub fn pos(&self, bytes: &[u8], first_line: u64, offset: usize) -> Pos {
        let offset = offset.min(bytes.len());
        let block = offset / BLOCK;
        let from = block * BLOCK;
        let before = self.before.get(block).copied().unwrap_or(0);
        let line = first_line + u64::from(before) + count_newlines(&bytes[from..offset]);
        let line_start = bytes[..offset]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        Pos {
            line,
            col: (offset - line_start) as u64 + 1,
        }
    }
}

fn count_newlines(bytes: &[u8]) -> u64 {
    // Written so that it vectorizes: 64 byte-wide counters over fixed-size words,
    // emptied before they can overflow.
    const LANES: usize = 64;
    let mut total = 0u64;
    for part in bytes.chunks(255 * LANES) {
        let mut acc = [0u8; LANES];
        let mut words = part.chunks_exact(LANES);
        for w in &mut words {
            if let Ok(w) = <&[u8; LANES]>::try_from(w) {
                for i in 0..LANES {
                    acc[i] += u8::from(w[i] == b'\n');
                }
            }
        }
        total += acc.iter().map(|&a| u64::from(a)).sum::<u64>();
        total += words.remainder().iter().filter(|&&b| b == b'\n').count() as u64;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_newlines_at_any_length_and_alignment() {
        let text: Vec<u8> = (0..40_000u32)
            .map(|i| {
                if i % 7 == 0 || i % 61 == 0 {
                    b'\n'
                } else {
                    b'a'
                }
            })
            .collect();
        for (from, to) in [(0, 0), (0, 1), (3, 70), (1, 20_000), (5, 40_000)] {
            let part = &text[from..to];
            let want = part.iter().filter(|&&b| b == b'\n').count() as u64;
            assert_eq!(count_newlines(part), want, "{from}..{to}");
        }
    }

    #[test]
    fn resolves_lines_and_columns_across_blocks() {
        let mut text = vec![b'x'; BLOCK * 2 + 10];
        text[3] = b'\n';
        text[BLOCK - 1] = b'\n';
        text[BLOCK + 5] = b'\n';
        let idx = LineIndex::new(&text);
        assert_eq!(idx.total, 3);
        assert_eq!(idx.pos(&text, 1, 0), Pos { line: 1, col: 1 });
        assert_eq!(idx.pos(&text, 1, 3), Pos { line: 1, col: 4 });
        assert_eq!(idx.pos(&text, 1, 4), Pos { line: 2, col: 1 });
        assert_eq!(idx.pos(&text, 10, BLOCK), Pos { line: 12, col: 1 });
        assert_eq!(idx.pos(&text, 1, BLOCK + 7), Pos { line: 4, col: 2 });
        assert_eq!(
            idx.pos(&text, 1, text.len()),
            Pos {
                line: 4,
                col: (BLOCK - 6 + 10) as u64 + 1
            }
        );
    }
}
