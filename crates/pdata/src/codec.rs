//! The only place where bytes become integers: little-endian fields at fixed offsets.
//! Callers pass offsets they have already bounded by a validated header.

use crate::units::MetaBlock;

/// Reads a little-endian u32 at `off`.
pub fn get_u32(b: &[u8], off: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[off..off + 4]);
    u32::from_le_bytes(a)
}

/// Reads a little-endian u64 at `off`.
pub fn get_u64(b: &[u8], off: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[off..off + 8]);
    u64::from_le_bytes(a)
}

/// Reads a block pointer (a little-endian u64) at `off`.
pub fn get_block(b: &[u8], off: usize) -> MetaBlock {
    MetaBlock::new(get_u64(b, off))
}

/// Writes a block pointer (a little-endian u64) at `off`.
pub fn put_block(b: &mut [u8], off: usize, v: MetaBlock) {
    put_u64(b, off, v.get());
}

/// Writes a little-endian u32 at `off`.
pub fn put_u32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

/// Writes a little-endian u64 at `off`.
pub fn put_u64(b: &mut [u8], off: usize, v: u64) {
    b[off..off + 8].copy_from_slice(&v.to_le_bytes());
}
