//! Aligned bounce buffers for direct I/O (`O_DIRECT` needs the memory, the offset and
//! the length aligned to the device's logical block size; 4096 covers every device).

use std::cell::RefCell;
use std::io;

/// Alignment of every direct transfer.
const ALIGN: usize = 4096;

/// Largest transfer through one bounce buffer.
const MAX_BOUNCE: usize = 1 << 20;

/// A heap buffer with an aligned window of `MAX_BOUNCE` bytes.
struct Bounce {
    bytes: Vec<u8>,
}

impl Bounce {
    fn new() -> Bounce {
        Bounce {
            bytes: vec![0; MAX_BOUNCE + ALIGN],
        }
    }

    /// The aligned window's first `len` bytes (`len <= MAX_BOUNCE`).
    fn window(&mut self, len: usize) -> &mut [u8] {
        let start = self.bytes.as_ptr().align_offset(ALIGN);
        &mut self.bytes[start..start + len]
    }
}

thread_local! {
    static BOUNCE: RefCell<Option<Bounce>> = const { RefCell::new(None) };
}

/// Calls `f` with an aligned buffer of `min(len, 1 MiB)` bytes (this thread's own, reused
/// between calls) and returns what it returns.
pub(super) fn with_bounce<T>(
    len: usize,
    f: impl FnOnce(&mut [u8]) -> io::Result<T>,
) -> io::Result<T> {
    BOUNCE.with(|cell| {
        let mut slot = cell
            .try_borrow_mut()
            .map_err(|_| io::Error::other("direct I/O bounce buffer in use (re-entrant call)"))?;
        let bounce = slot.get_or_insert_with(Bounce::new);
        f(bounce.window(len.min(MAX_BOUNCE)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_aligned_and_bounded() {
        for len in [4096, 8192, 3 << 20] {
            with_bounce(len, |w| {
                assert_eq!(w.as_ptr() as usize % ALIGN, 0);
                assert_eq!(w.len(), len.min(MAX_BOUNCE));
                Ok(())
            })
            .unwrap();
        }
    }
}
