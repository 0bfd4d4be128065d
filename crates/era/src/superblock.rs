//! The era superblock (format.md §3): layout, decoding with every check the kernel makes,
//! and encoding.

use super::interrupted::{is_interrupted_marker, INTERRUPTED_MESSAGE};
use super::{Error, Result};
use crate::pdata;
use crate::pdata::btree::cow as btree_cow;
use crate::pdata::checksum::{self, BlockKind};
use crate::pdata::codec::{get_block, get_u32, get_u64, put_block, put_u32, put_u64};
use crate::pdata::space_map::{SmRoot, SM_ROOT_SIZE};
use crate::pdata::transaction::TransactionManager;
use crate::pdata::value::Value;
use crate::units::{BlockBuf, Era, MetaBlock, BLOCK_SECTORS, BLOCK_SIZE};
use std::convert::Infallible;

/// What every tool says about an all-zeros superblock at block 0.
pub const NEVER_FORMATTED: &str = "the metadata has never been formatted";

/// What every tool says about a block 0 with another magic.
pub const NOT_ERA: &str = "this is not era metadata";

/// Whether a message about block 0 says it holds no era metadata to salvage (never
/// formatted, another format, or an interrupted `era_restore`): not damage that
/// `era_repair` can mend.
pub fn says_not_metadata(message: &str) -> bool {
    [NEVER_FORMATTED, NOT_ERA, INTERRUPTED_MESSAGE]
        .iter()
        .any(|m| message.contains(m))
}

/// The superblock's magic number.
pub const MAGIC: u64 = 2_126_579_579;
/// The only metadata version there is.
pub const VERSION: u32 = 1;
/// Where the live superblock lives.
pub const SUPERBLOCK_LOCATION: MetaBlock = MetaBlock::new(0);

const FLAGS_OFF: usize = 4;
const BLOCKNR_OFF: usize = FLAGS_OFF + 4;
const UUID_OFF: usize = BLOCKNR_OFF + 8;
const MAGIC_OFF: usize = UUID_OFF + 16;
const VERSION_OFF: usize = MAGIC_OFF + 8;
const SM_ROOT_OFF: usize = VERSION_OFF + 4;
const DATA_BLOCK_SIZE_OFF: usize = SM_ROOT_OFF + 128;
const METADATA_BLOCK_SIZE_OFF: usize = DATA_BLOCK_SIZE_OFF + 4;
const NR_BLOCKS_OFF: usize = METADATA_BLOCK_SIZE_OFF + 4;
const CURRENT_ERA_OFF: usize = NR_BLOCKS_OFF + 4;
const CURRENT_WRITESET_OFF: usize = CURRENT_ERA_OFF + 4;
const WRITESET_TREE_ROOT_OFF: usize = CURRENT_WRITESET_OFF + WRITESET_ROOT_SIZE;
const ERA_ARRAY_ROOT_OFF: usize = WRITESET_TREE_ROOT_OFF + 8;
const METADATA_SNAP_OFF: usize = ERA_ARRAY_ROOT_OFF + 8;
/// Bytes of the block that carry meaning; the rest is zero.
pub const SUPERBLOCK_USED: usize = METADATA_SNAP_OFF + 8;

/// Size of a packed writeset root (`nr_bits: u32`, `root: u64`).
pub const WRITESET_ROOT_SIZE: usize = 12;

/// A writeset's size and bitset root, as stored in the superblock and the writeset tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WritesetRoot {
    /// The bitset's length in bits: the origin's size in blocks when the writeset was
    /// created.
    pub nr_bits: u32,
    /// Bitset root; 0 means none (current writeset only).
    pub root: MetaBlock,
}

impl WritesetRoot {
    /// Decodes the 12 packed bytes.
    pub fn unpack(b: &[u8]) -> WritesetRoot {
        WritesetRoot {
            nr_bits: get_u32(b, 0),
            root: get_block(b, 4),
        }
    }

    /// Encodes into 12 bytes.
    pub fn pack(&self, b: &mut [u8]) {
        put_u32(b, 0, self.nr_bits);
        put_block(b, 4, self.root);
    }
}

/// The writeset tree's value: it holds a reference to the writeset's bitset, a
/// dm-array of u64 words. Copying it counts one more holder of the bitset's index root;
/// dropping it releases the bitset when nothing else holds it.
impl Value for WritesetRoot {
    const SIZE: usize = WRITESET_ROOT_SIZE;
    type DecodeError = Infallible;

    fn decode(bytes: &[u8]) -> std::result::Result<WritesetRoot, Infallible> {
        Ok(WritesetRoot::unpack(bytes))
    }

    fn encode(&self, out: &mut [u8]) {
        self.pack(out);
    }

    fn inc(&self, tm: &mut TransactionManager) -> pdata::Result<()> {
        self.root.inc(tm)
    }

    fn dec(&self, tm: &mut TransactionManager) -> pdata::Result<()> {
        btree_cow::release::<MetaBlock>(tm, self.root)
    }
}

/// Every field of the era superblock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Superblock {
    /// The kernel and these tools write 0 and never read it (thin-provisioning-tools'
    /// `era_restore` writes 1, "clean shutdown").
    pub flags: u32,
    /// The block's self-reference: 0 for the live superblock, the copy's location for a
    /// metadata snapshot.
    pub blocknr: MetaBlock,
    /// Unused: the kernel blanks it at every commit.
    pub uuid: [u8; 16],
    /// [`MAGIC`] in era metadata.
    pub magic: u64,
    /// [`VERSION`] in metadata either the kernel or the tools accept.
    pub version: u32,
    /// The metadata space map's root (format.md §7.1).
    pub sm_root: SmRoot,
    /// Origin block size in 512-byte sectors.
    pub data_block_size: u32,
    /// Metadata block size in 512-byte sectors: 8. Not checked on read.
    pub metadata_block_size: u32,
    /// Origin blocks: the era array's length.
    pub nr_blocks: u32,
    /// The era being recorded now.
    pub current_era: Era,
    /// The writeset recording writes of `current_era`; root 0 when none is on disk.
    pub current_writeset: WritesetRoot,
    /// Root of the btree of archived writesets (key: era), not yet folded into the era
    /// array. Always a valid node.
    pub writeset_tree_root: MetaBlock,
    /// Root of the era array: per origin block, the era of its last digested write.
    pub era_array_root: MetaBlock,
    /// The snapshot copy's location; 0 = none.
    pub metadata_snap: MetaBlock,
}

impl Superblock {
    /// Decodes a block without any check.
    pub fn decode(data: &BlockBuf) -> Superblock {
        let mut uuid = [0u8; 16];
        uuid.copy_from_slice(&data[UUID_OFF..UUID_OFF + 16]);
        Superblock {
            flags: get_u32(data, FLAGS_OFF),
            blocknr: get_block(data, BLOCKNR_OFF),
            uuid,
            magic: get_u64(data, MAGIC_OFF),
            version: get_u32(data, VERSION_OFF),
            sm_root: SmRoot::unpack(&data[SM_ROOT_OFF..SM_ROOT_OFF + SM_ROOT_SIZE]),
            data_block_size: get_u32(data, DATA_BLOCK_SIZE_OFF),
            metadata_block_size: get_u32(data, METADATA_BLOCK_SIZE_OFF),
            nr_blocks: get_u32(data, NR_BLOCKS_OFF),
            current_era: Era::new(get_u32(data, CURRENT_ERA_OFF)),
            current_writeset: WritesetRoot::unpack(
                &data[CURRENT_WRITESET_OFF..CURRENT_WRITESET_OFF + WRITESET_ROOT_SIZE],
            ),
            writeset_tree_root: get_block(data, WRITESET_TREE_ROOT_OFF),
            era_array_root: get_block(data, ERA_ARRAY_ROOT_OFF),
            metadata_snap: get_block(data, METADATA_SNAP_OFF),
        }
    }

    /// Decodes and validates the superblock (or snapshot copy) read from `location`:
    /// magic, checksum, self-reference and version, as the kernel does. Block 0 holding
    /// the mark of an interrupted `era_restore` is named as such.
    pub fn unpack(data: &BlockBuf, location: MetaBlock) -> Result<Superblock> {
        let bad = |reason: String| Error::BadSuperblock {
            block: location,
            reason,
        };
        if location == SUPERBLOCK_LOCATION && is_interrupted_marker(data) {
            return Err(bad(INTERRUPTED_MESSAGE.into()));
        }
        if data.iter().all(|&b| b == 0) {
            return Err(bad(format!("superblock is all zeros: {NEVER_FORMATTED}")));
        }
        let sb = Superblock::decode(data);
        if sb.magic != MAGIC {
            return Err(bad(format!(
                "bad superblock magic {:#x} (expected {MAGIC:#x}): {NOT_ERA}",
                sb.magic
            )));
        }
        checksum::verify(data, BlockKind::Superblock, location)?;
        if sb.version != VERSION {
            return Err(bad(format!(
                "unsupported metadata version {} (only {VERSION} exists)",
                sb.version
            )));
        }
        Ok(sb)
    }

    /// Encodes the superblock at `self.blocknr`, sealed, with zeros beyond the used bytes.
    pub fn pack(&self) -> Box<BlockBuf> {
        let mut b = Box::new([0u8; BLOCK_SIZE]);
        let d = &mut b[..];
        put_u32(d, FLAGS_OFF, self.flags);
        put_block(d, BLOCKNR_OFF, self.blocknr);
        d[UUID_OFF..UUID_OFF + 16].copy_from_slice(&self.uuid);
        put_u64(d, MAGIC_OFF, self.magic);
        put_u32(d, VERSION_OFF, self.version);
        self.sm_root
            .pack(&mut d[SM_ROOT_OFF..SM_ROOT_OFF + SM_ROOT_SIZE]);
        put_u32(d, DATA_BLOCK_SIZE_OFF, self.data_block_size);
        put_u32(d, METADATA_BLOCK_SIZE_OFF, self.metadata_block_size);
        put_u32(d, NR_BLOCKS_OFF, self.nr_blocks);
        put_u32(d, CURRENT_ERA_OFF, self.current_era.get());
        self.current_writeset
            .pack(&mut d[CURRENT_WRITESET_OFF..CURRENT_WRITESET_OFF + WRITESET_ROOT_SIZE]);
        put_block(d, WRITESET_TREE_ROOT_OFF, self.writeset_tree_root);
        put_block(d, ERA_ARRAY_ROOT_OFF, self.era_array_root);
        put_block(d, METADATA_SNAP_OFF, self.metadata_snap);
        checksum::seal(&mut b, BlockKind::Superblock);
        b
    }

    /// A superblock with the constant fields set and everything else zero.
    pub fn new(data_block_size: u32) -> Superblock {
        Superblock {
            flags: 0,
            blocknr: SUPERBLOCK_LOCATION,
            uuid: [0; 16],
            magic: MAGIC,
            version: VERSION,
            sm_root: SmRoot::default(),
            data_block_size,
            metadata_block_size: BLOCK_SECTORS,
            nr_blocks: 0,
            current_era: Era::new(0),
            current_writeset: WritesetRoot::default(),
            writeset_tree_root: MetaBlock::new(0),
            era_array_root: MetaBlock::new(0),
            metadata_snap: MetaBlock::new(0),
        }
    }
}

#[cfg(test)]
mod tests {
    //! Example A of format.md §12.4, byte for byte.
    use super::*;

    fn example_a() -> Superblock {
        let mut sb = Superblock::new(128);
        sb.sm_root = SmRoot {
            nr_blocks: 256,
            nr_allocated: 6,
            bitmap_root: MetaBlock::new(1),
            ref_count_root: MetaBlock::new(2),
        };
        sb.writeset_tree_root = MetaBlock::new(4);
        sb.era_array_root = MetaBlock::new(5);
        sb
    }

    #[test]
    fn example_a_checksum_and_bytes() {
        let b = example_a().pack();
        assert_eq!(&b[0..4], &[0x49, 0x41, 0x1d, 0xd9]);
        assert_eq!(&b[32..40], &[0x7b, 0x07, 0xc1, 0x7e, 0, 0, 0, 0]);
        assert_eq!(&b[172..180], &[0x80, 0, 0, 0, 8, 0, 0, 0]);
        assert!(b[SUPERBLOCK_USED..].iter().all(|&x| x == 0));
        assert_eq!(
            Superblock::unpack(&b, MetaBlock::new(0)).ok(),
            Some(example_a())
        );
    }

    #[test]
    fn rejects_zeroes_magic_checksum_blocknr_version() {
        let zero = [0u8; BLOCK_SIZE];
        assert!(Superblock::unpack(&zero, MetaBlock::new(0))
            .unwrap_err()
            .to_string()
            .contains("all zeros"));

        let mut b = example_a().pack();
        b[32] ^= 1;
        assert!(Superblock::unpack(&b, MetaBlock::new(0))
            .unwrap_err()
            .to_string()
            .contains("magic"));

        let mut b = example_a().pack();
        b[300] = 1;
        assert!(Superblock::unpack(&b, MetaBlock::new(0))
            .unwrap_err()
            .to_string()
            .contains("checksum"));

        assert!(Superblock::unpack(&example_a().pack(), MetaBlock::new(3))
            .unwrap_err()
            .to_string()
            .contains("says it is block 0"));

        let mut sb = example_a();
        sb.version = 2;
        assert!(Superblock::unpack(&sb.pack(), MetaBlock::new(0))
            .unwrap_err()
            .to_string()
            .contains("version 2"));
    }

    /// The writeset tree's value: decode inverts encode, SIZE is the bytes encode writes,
    /// and the layout is `nr_bits` (le32) then the bitset root (le64).
    #[test]
    fn writeset_root_value_round_trips() {
        use crate::pdata::value::encode_vec;
        let samples = [
            WritesetRoot::default(),
            WritesetRoot {
                nr_bits: 16_000_000,
                root: MetaBlock::new(0x0102_0304_0506_0708),
            },
            WritesetRoot {
                nr_bits: u32::MAX,
                root: MetaBlock::new(u64::MAX),
            },
        ];
        for ws in samples {
            let bytes = encode_vec(&ws);
            assert_eq!(bytes.len(), <WritesetRoot as Value>::SIZE);
            assert_eq!(bytes.len(), WRITESET_ROOT_SIZE);
            assert_eq!(&bytes[..4], &ws.nr_bits.to_le_bytes());
            assert_eq!(&bytes[4..], &ws.root.get().to_le_bytes());
            let Ok(back) = <WritesetRoot as Value>::decode(&bytes);
            assert_eq!(back, ws);
        }
        assert_eq!(<WritesetRoot as Value>::SIZE_U32, 12);
    }
}
