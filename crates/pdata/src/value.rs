//! The values btree leaves and dm-array blocks hold (the kernel's
//! `struct dm_btree_value_type`): one type names a value's size on disk, how it is
//! decoded and encoded, and what it holds a reference to. Readers, writers, the
//! copy-on-write code and salvage all take the value type, never a size beside a
//! decoder, so the two cannot disagree.

use super::checksum::BlockKind;
use super::codec::{get_block, get_u32, get_u64, put_block, put_u32, put_u64};
use super::transaction::TransactionManager;
use super::{Error, Result};
use crate::units::{MetaBlock, BLOCK_SIZE};
use std::convert::Infallible;
use std::fmt;

/// A value of a btree leaf or a dm-array block.
///
/// `decode` and `encode` see exactly [`SIZE`](Self::SIZE) bytes. Copying a shared leaf
/// gives each of its values' references one more holder ([`inc`](Self::inc)); dropping
/// a value drops its reference ([`dec`](Self::dec)), releasing what nothing else holds.
/// Plain data keeps the default hooks, which do nothing.
pub trait Value: Copy + Send + Sync + 'static {
    /// Bytes per value on disk.
    const SIZE: usize;

    /// [`SIZE`](Self::SIZE) as node and array-block headers record it.
    const SIZE_U32: u32 = header_size(Self::SIZE);

    /// What decoding reports: [`Infallible`] for values every bit pattern is valid for.
    type DecodeError: fmt::Display;

    /// Decodes a value from its `SIZE` bytes.
    fn decode(bytes: &[u8]) -> std::result::Result<Self, Self::DecodeError>;

    /// Encodes the value into `out` (`SIZE` bytes).
    fn encode(&self, out: &mut [u8]);

    /// Adds a reference to what the value refers to.
    fn inc(&self, _tm: &mut TransactionManager) -> Result<()> {
        Ok(())
    }

    /// Drops a reference to what the value refers to, releasing it when unreferenced.
    fn dec(&self, _tm: &mut TransactionManager) -> Result<()> {
        Ok(())
    }
}

/// A value size as a header's u32 field, checked when the constant is evaluated.
const fn header_size(size: usize) -> u32 {
    assert!(size > 0 && size <= BLOCK_SIZE, "a value fits in a block");
    size as u32
}

/// Decodes value `i` of a `kind` block at `block` from `bytes`; a value that does not
/// decode is an invalid block, naming the value.
pub fn decode_in<V: Value>(block: MetaBlock, kind: BlockKind, i: usize, bytes: &[u8]) -> Result<V> {
    V::decode(bytes).map_err(|e| Error::invalid(block, kind, format!("value {i}: {e}")))
}

/// Encodes `v` into a new buffer of `V::SIZE` bytes.
pub fn encode_vec<V: Value>(v: &V) -> Vec<u8> {
    let mut out = vec![0; V::SIZE];
    v.encode(&mut out);
    out
}

impl Value for u32 {
    const SIZE: usize = 4;
    type DecodeError = Infallible;

    fn decode(bytes: &[u8]) -> std::result::Result<u32, Infallible> {
        Ok(get_u32(bytes, 0))
    }

    fn encode(&self, out: &mut [u8]) {
        put_u32(out, 0, *self);
    }
}

impl Value for u64 {
    const SIZE: usize = 8;
    type DecodeError = Infallible;

    fn decode(bytes: &[u8]) -> std::result::Result<u64, Infallible> {
        Ok(get_u64(bytes, 0))
    }

    fn encode(&self, out: &mut [u8]) {
        put_u64(out, 0, *self);
    }
}

/// A block reference: the value of a dm-array's index (array-block index → array
/// block). The value holds a reference to the block: copying it counts one more holder,
/// dropping it one fewer.
impl Value for MetaBlock {
    const SIZE: usize = 8;
    type DecodeError = Infallible;

    fn decode(bytes: &[u8]) -> std::result::Result<MetaBlock, Infallible> {
        Ok(get_block(bytes, 0))
    }

    fn encode(&self, out: &mut [u8]) {
        put_block(out, 0, *self);
    }

    fn inc(&self, tm: &mut TransactionManager) -> Result<()> {
        tm.inc(*self).map(|_| ())
    }

    fn dec(&self, tm: &mut TransactionManager) -> Result<()> {
        tm.dec(*self).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Debug;

    /// `decode(encode(v)) == v`, and `encode` writes exactly `SIZE` bytes.
    pub fn round_trips<V: Value + PartialEq + Debug>(v: V)
    where
        V::DecodeError: Debug,
    {
        let mut out = vec![0xa5u8; V::SIZE + 1];
        v.encode(&mut out[..V::SIZE]);
        assert_eq!(out[V::SIZE], 0xa5, "encode stays within SIZE");
        assert_eq!(V::decode(&out[..V::SIZE]).unwrap(), v);
        assert_eq!(encode_vec(&v).len(), V::SIZE);
        assert_eq!(usize::try_from(V::SIZE_U32).unwrap(), V::SIZE);
    }

    #[test]
    fn u32_round_trips_in_4_bytes() {
        assert_eq!(<u32 as Value>::SIZE, 4);
        for v in [0, 1, 0x1234_5678, u32::MAX] {
            round_trips(v);
        }
        assert_eq!(encode_vec(&0x0403_0201u32), [1, 2, 3, 4]);
    }

    #[test]
    fn u64_round_trips_in_8_bytes() {
        assert_eq!(<u64 as Value>::SIZE, 8);
        for v in [0, 1, 0x0102_0304_0506_0708, u64::MAX] {
            round_trips(v);
        }
        assert_eq!(
            encode_vec(&0x0807_0605_0403_0201u64),
            [1, 2, 3, 4, 5, 6, 7, 8]
        );
    }

    #[test]
    fn block_references_round_trip_in_8_bytes() {
        assert_eq!(<MetaBlock as Value>::SIZE, 8);
        for v in [0, 1, 4096, u64::MAX] {
            round_trips(MetaBlock::new(v));
        }
    }
}
