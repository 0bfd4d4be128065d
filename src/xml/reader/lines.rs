//! Byte offsets → 1-based line and column, kept up to date as events go by.

use super::error::Pos;

/// The line the reader is on and the offset where that line starts.
#[derive(Debug, Clone, Copy)]
pub(super) struct Lines {
    line: u64,
    line_start: u64,
}

impl Lines {
    pub fn new() -> Lines {
        Lines {
            line: 1,
            line_start: 0,
        }
    }

    /// The position of `offset`, which must lie on the current line.
    #[inline]
    pub fn pos(&self, offset: u64) -> Pos {
        Pos {
            line: self.line,
            col: offset.saturating_sub(self.line_start) + 1,
        }
    }

    /// Moves past `bytes`, which start at `base`.
    #[inline]
    pub fn advance(&mut self, base: u64, bytes: &[u8]) {
        if !bytes.contains(&b'\n') {
            return;
        }
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' {
                self.line += 1;
                self.line_start = base + i as u64 + 1;
            }
        }
    }

    /// Moves past `bytes`, which start at `base` and must be white space; otherwise
    /// stays put and returns the index of the first other byte.
    #[inline]
    pub fn advance_blank(&mut self, base: u64, bytes: &[u8]) -> Result<(), usize> {
        let mut next = *self;
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'\n' => {
                    next.line += 1;
                    next.line_start = base + i as u64 + 1;
                }
                b' ' | b'\t' | b'\r' => {}
                _ => return Err(i),
            }
        }
        *self = next;
        Ok(())
    }

    /// The position of `bytes[idx]`, where `bytes` start at `base` on the current line.
    pub fn pos_within(&self, base: u64, bytes: &[u8], idx: usize) -> Pos {
        let mut l = *self;
        l.advance(base, &bytes[..idx.min(bytes.len())]);
        l.pos(base + idx as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lines_and_columns() {
        let mut l = Lines::new();
        assert_eq!(l.pos(0), Pos { line: 1, col: 1 });
        l.advance(0, b"ab\ncd\ne");
        assert_eq!(l.pos(6), Pos { line: 3, col: 1 });
        assert_eq!(l.pos(8), Pos { line: 3, col: 3 });
        assert_eq!(l.pos_within(8, b"x\n  y", 4), Pos { line: 4, col: 3 });
    }
}
