//! The mark `era_restore` leaves in block 0 while it writes (target.md §3).
//!
//! The restore writes and flushes this block before anything else, and replaces it with
//! the superblock only once every other block is written. A device it leaves behind
//! part-way is therefore not all zeros, so neither the kernel nor `era_emulate` formats
//! empty metadata over it, and it is no superblock (its blocknr field is ASCII), so the
//! kernel refuses to load it with ENOTBLK (observed: `testdata/kernel_refuses/`). Every
//! tool that reads block 0 names it with [`INTERRUPTED_MESSAGE`].

use crate::units::{BlockBuf, BLOCK_SIZE};

/// The bytes at offset 0 of the mark; the rest of the block is zero.
pub const INTERRUPTED_TAG: &[u8] = b"era_restore: interrupted\0";

/// What every tool says about a device holding the mark.
pub const INTERRUPTED_MESSAGE: &str =
    "an interrupted era_restore left this device; run era_restore again";

/// The mark: [`INTERRUPTED_TAG`], then zeros.
pub fn interrupted_marker() -> Box<BlockBuf> {
    let mut b = Box::new([0u8; BLOCK_SIZE]);
    b[..INTERRUPTED_TAG.len()].copy_from_slice(INTERRUPTED_TAG);
    b
}

/// Whether `data` is exactly the mark.
pub fn is_interrupted_marker(data: &BlockBuf) -> bool {
    data.starts_with(INTERRUPTED_TAG) && data[INTERRUPTED_TAG.len()..].iter().all(|&b| b == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mark_is_recognised_and_nothing_else() {
        let mark = interrupted_marker();
        assert!(is_interrupted_marker(&mark));
        assert!(!is_interrupted_marker(&[0u8; BLOCK_SIZE]));
        let mut other = mark.clone();
        other[BLOCK_SIZE - 1] = 1;
        assert!(!is_interrupted_marker(&other));
        // Not blank, and its blocknr field (offset 8) is not 0: the kernel opens it,
        // and refuses it.
        assert!(mark.iter().any(|&b| b != 0));
        assert_ne!(&mark[8..16], &[0u8; 8]);
    }
}
