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
