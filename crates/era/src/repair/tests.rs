use super::*;
use crate::io::MemIo;
use crate::ir::{SuperblockIr, Writeset};
use crate::pdata::write_block;
use crate::restore::write_metadata;
use crate::units::zeroed_block;
use crate::units::{Era, MetaBlock};

fn sample() -> EraMetadata {
    let nr_blocks = 5000u32;
    EraMetadata {
        superblock: SuperblockIr {
            uuid: String::new(),
            block_size: 128,
            nr_blocks,
            current_era: Era::new(9),
        },
        writesets: vec![
            Writeset {
                era: Era::new(7),
                nr_bits: nr_blocks,
                bits: (0..79).map(|i| if i % 3 == 0 { 0x11 } else { 0 }).collect(),
            },
            Writeset {
                era: Era::new(8),
                nr_bits: nr_blocks,
                bits: (0..79).map(|i| if i % 5 == 0 { 0x3 } else { 0 }).collect(),
            },
        ],
        era_array: (0..nr_blocks).map(|b| b % 7).collect(),
    }
}

fn written(md: &EraMetadata) -> (MemIo, crate::restore::WriteSummary) {
    let io = MemIo::new(1024);
    let summary = write_metadata(&io, md).unwrap();
    (io, summary)
}

#[test]
fn undamaged_metadata_is_salvaged_exactly() {
    let md = sample();
    let (io, _) = written(&md);
    let r = salvage(&io, &RepairOptions::default()).unwrap();
    assert!(r.losses.is_empty(), "{:?}", r.losses);
    assert_eq!(r.metadata(&io).unwrap(), md);
}

#[test]
fn an_unreadable_era_array_gives_the_current_era_to_blocks_no_writeset_names() {
    let md = sample();
    let (io, summary) = written(&md);
    write_block(&io, summary.superblock.era_array_root, &zeroed_block()).unwrap();
    let r = salvage(&io, &RepairOptions::default()).unwrap();
    assert_eq!(r.losses.len(), 1, "{:?}", r.losses);
    assert_eq!(r.losses[0].block, summary.superblock.era_array_root);
    let (truth, got) = (md.folded_eras(), r.metadata(&io).unwrap().folded_eras());
    for (b, (&t, &g)) in truth.iter().zip(&got).enumerate() {
        assert!(g >= t, "block {b}: {g} < {t}");
        let in_writeset = md
            .writesets
            .iter()
            .any(|w| crate::pdata::bitset::test_bit(&w.bits, b as u64));
        assert_eq!(g, if in_writeset { t } else { 9 }, "block {b}");
    }
}

#[test]
fn a_zeroed_superblock_needs_the_block_size_and_is_rebuilt_with_it() {
    let md = sample();
    let (io, _) = written(&md);
    write_block(&io, MetaBlock::new(0), &zeroed_block()).unwrap();
    let e = salvage(&io, &RepairOptions::default()).unwrap_err();
    assert!(e.to_string().contains("--data-block-size"), "{e}");
    let opts = RepairOptions {
        data_block_size: Some(128),
        nr_blocks: None,
    };
    let r = salvage(&io, &opts).unwrap();
    assert!(r.rebuilt_superblock);
    assert_eq!(r.metadata(&io).unwrap().folded_eras(), md.folded_eras());
    // No structure shows era 9, which passed without writes: the highest era found is 8.
    let want = SuperblockIr {
        current_era: Era::new(8),
        ..md.superblock.clone()
    };
    assert_eq!(r.metadata(&io).unwrap().superblock, want);
}

/// Reads as `inner` does, but fails every read of one block once `fail` names it: a
/// device that fails between the salvage and the write.
struct FailLater {
    inner: MemIo,
    fail: std::sync::atomic::AtomicU64,
}

impl FailLater {
    fn new(inner: MemIo) -> FailLater {
        FailLater {
            inner,
            fail: u64::MAX.into(),
        }
    }

    fn fail(&self, block: MetaBlock) {
        self.fail
            .store(block.get(), std::sync::atomic::Ordering::Relaxed);
    }
}

impl BlockIo for FailLater {
    fn nr_blocks(&self) -> u64 {
        self.inner.nr_blocks()
    }
    fn read_block(
        &self,
        block: MetaBlock,
        buf: &mut crate::units::BlockBuf,
    ) -> std::io::Result<()> {
        if block.get() == self.fail.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(std::io::Error::from_raw_os_error(5));
        }
        self.inner.read_block(block, buf)
    }
    fn write_block(&self, block: MetaBlock, buf: &crate::units::BlockBuf) -> std::io::Result<()> {
        self.inner.write_block(block, buf)
    }
    fn flush(&self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The first array block of `value_size`-byte values on `io`: 4, an era-array block; 8,
/// a writeset's bitset block.
fn first_array_block(io: &dyn BlockIo, value_size: u32) -> MetaBlock {
    (0..io.nr_blocks())
        .map(MetaBlock::new)
        .find(|&b| {
            crate::pdata::read_block(io, b)
                .ok()
                .and_then(|d| scan::array_block(b, &d))
                .is_some_and(|h| h.value_size == value_size)
        })
        .expect("an array block")
}

#[test]
fn a_block_that_fails_after_the_salvage_fails_the_write_as_the_inputs() {
    let md = sample();
    for value_size in [4, 8] {
        let (mem, _) = written(&md);
        let io = FailLater::new(mem);
        let block = first_array_block(&io, value_size);
        let r = salvage(&io, &RepairOptions::default()).unwrap();
        assert!(r.losses.is_empty(), "{:?}", r.losses);
        io.fail(block);
        let out = MemIo::new(1024);
        match r.write(&io, &out) {
            Err(StreamError::Read(e)) => {
                assert_eq!(e.block(), Some(block), "{e}");
                let msg = e.to_string();
                assert!(
                    msg.starts_with(&format!("block {block}: reading failed")),
                    "{msg}"
                );
                assert!(msg.contains("I/O error"), "{msg}");
            }
            other => panic!("{value_size}-byte values: {other:?}"),
        }
        assert!(
            matches!(r.metadata(&io), Err(Error::Reread { block: b, .. }) if b == block),
            "{value_size}-byte values"
        );
    }
}

#[test]
fn a_block_that_changes_after_the_salvage_fails_the_write_as_the_inputs() {
    let md = sample();
    let (io, _) = written(&md);
    let block = first_array_block(&io, 4);
    let r = salvage(&io, &RepairOptions::default()).unwrap();
    let mut data = crate::pdata::read_block(&io, block).unwrap();
    data[100] ^= 0xff;
    write_block(&io, block, &data).unwrap();
    match r.write(&io, &MemIo::new(1024)) {
        Err(StreamError::Read(e)) => {
            assert_eq!(e.block(), Some(block), "{e}");
            assert!(e.to_string().contains("checksum"), "{e}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_block_the_salvage_lost_is_no_error_when_it_is_read_again() {
    let md = sample();
    let (mem, _) = written(&md);
    let io = FailLater::new(mem);
    for value_size in [4, 8] {
        io.fail(first_array_block(&io, value_size));
        let r = salvage(&io, &RepairOptions::default()).unwrap();
        assert_eq!(r.losses.len(), 1, "{:?}", r.losses);
        r.write(&io, &MemIo::new(1024)).unwrap();
        r.metadata(&io).unwrap();
    }
}

/// A device that takes no write.
struct Unwritable(MemIo);

impl BlockIo for Unwritable {
    fn nr_blocks(&self) -> u64 {
        self.0.nr_blocks()
    }
    fn read_block(
        &self,
        block: MetaBlock,
        buf: &mut crate::units::BlockBuf,
    ) -> std::io::Result<()> {
        self.0.read_block(block, buf)
    }
    fn write_block(&self, _: MetaBlock, _: &crate::units::BlockBuf) -> std::io::Result<()> {
        Err(std::io::Error::from_raw_os_error(28))
    }
    fn flush(&self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn an_output_that_fails_fails_the_write_as_the_outputs() {
    let md = sample();
    let (io, _) = written(&md);
    let r = salvage(&io, &RepairOptions::default()).unwrap();
    match r.write(&io, &Unwritable(MemIo::new(1024))) {
        Err(StreamError::Visit(e)) => assert!(e.to_string().contains("I/O error"), "{e}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_rebuilt_superblock_reads_every_version_again_as_the_salvage_read_it() {
    let md = sample();
    for value_size in [4, 8] {
        let (mem, _) = written(&md);
        write_block(&mem, MetaBlock::new(0), &zeroed_block()).unwrap();
        let io = FailLater::new(mem);
        let block = first_array_block(&io, value_size);
        let opts = RepairOptions {
            data_block_size: Some(128),
            nr_blocks: None,
        };
        let r = salvage(&io, &opts).unwrap();
        assert!(r.rebuilt_superblock);
        r.write(&io, &MemIo::new(1024)).unwrap();
        io.fail(block);
        match r.write(&io, &MemIo::new(1024)) {
            Err(StreamError::Read(e)) => assert_eq!(e.block(), Some(block), "{e}"),
            other => panic!("{value_size}-byte values: {other:?}"),
        }
    }
}
