//! Byte offsets in a chunk → 1-based line and column. The scanner counts a chunk's
//! newlines as it goes; an offset is resolved by counting from the nearer end of the
//! chunk (and back to the line's start), which only errors and the few positions kept
//! across chunks ask for.

use super::error::Pos;

/// The newlines of one chunk.
#[derive(Debug, Default)]
pub(super) struct LineIndex {
    /// Newlines in the whole chunk.
    total: u64,
}

impl LineIndex {
    /// The index of `bytes`, counted here.
    pub fn new(bytes: &[u8]) -> LineIndex {
        LineIndex {
            total: count_newlines(bytes),
        }
    }

    /// The index of a chunk holding `total` newlines.
    pub fn with_total(total: u64) -> LineIndex {
        LineIndex { total }
    }

    /// The position of `bytes[offset]` (or of the end, for `offset == bytes.len()`),
    /// where `bytes` is the chunk and `start` the position of its first byte.
    pub fn pos(&self, bytes: &[u8], start: Pos, offset: usize) -> Pos {
        let offset = offset.min(bytes.len());
        let newlines = if offset <= bytes.len() / 2 {
            count_newlines(&bytes[..offset])
        } else {
            self.total.saturating_sub(count_newlines(&bytes[offset..]))
        };
        match bytes[..offset].iter().rposition(|&b| b == b'\n') {
            Some(i) => Pos {
                line: start.line + newlines,
                col: (offset - i) as u64,
            },
            None => Pos {
                line: start.line,
                col: start.col + offset as u64,
            },
        }
    }
}

pub(super) fn count_newlines(bytes: &[u8]) -> u64 {
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

    const L1: Pos = Pos { line: 1, col: 1 };

    #[test]
    fn a_chunk_may_start_inside_a_line() {
        let idx = LineIndex::new(b"ab\ncd");
        let start = Pos { line: 7, col: 30 };
        assert_eq!(idx.pos(b"ab\ncd", start, 0), start);
        assert_eq!(idx.pos(b"ab\ncd", start, 2), Pos { line: 7, col: 32 });
        assert_eq!(idx.pos(b"ab\ncd", start, 3), Pos { line: 8, col: 1 });
        assert_eq!(idx.pos(b"ab\ncd", start, 5), Pos { line: 8, col: 3 });
    }

    #[test]
    fn resolves_lines_and_columns_across_blocks() {
        const BLOCK: usize = 4096;
        let mut text = vec![b'x'; BLOCK * 2 + 10];
        text[3] = b'\n';
        text[BLOCK - 1] = b'\n';
        text[BLOCK + 5] = b'\n';
        let idx = LineIndex::new(&text);
        assert_eq!(idx.pos(&text, L1, 0), Pos { line: 1, col: 1 });
        assert_eq!(idx.pos(&text, L1, 3), Pos { line: 1, col: 4 });
        assert_eq!(idx.pos(&text, L1, 4), Pos { line: 2, col: 1 });
        assert_eq!(
            idx.pos(&text, Pos { line: 10, col: 1 }, BLOCK),
            Pos { line: 12, col: 1 }
        );
        assert_eq!(idx.pos(&text, L1, BLOCK + 7), Pos { line: 4, col: 2 });
        assert_eq!(
            idx.pos(&text, L1, text.len()),
            Pos {
                line: 4,
                col: (BLOCK - 6 + 10) as u64 + 1
            }
        );
    }
}
