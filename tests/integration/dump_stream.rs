//! The streaming reader `era_dump` uses gives what the whole in-memory read gives: the
//! same metadata, the same logical fold and the same XML bytes, on every kernel image
//! and on metadata larger than one group of era-array blocks; and damage met on the way
//! is an error naming the damaged block.

use crate::common;

use common::*;
use era_tools::era::ir::{EraMetadata, SuperblockIr, Writeset};
use era_tools::era::ir_builder::IrBuilder;
use era_tools::era::metadata::{open_view, read_metadata, Source, View};
use era_tools::era::restore::write_metadata;
use era_tools::era::stream::{MetadataStream, Shape, StreamError};
use era_tools::io::{BlockIo, MemIo};
use era_tools::pdata::array::array_block_pointers;
use era_tools::units::Era;
use era_tools::xml::{XmlStyle, XmlWriter};

fn streamed(io: &MemIo, view: &View, shape: Shape) -> EraMetadata {
    let stream = MetadataStream::open(io, view, shape).unwrap();
    let mut b = IrBuilder::new();
    stream.run(&mut b).unwrap();
    b.into_metadata().unwrap()
}

fn xml_streamed(io: &MemIo, view: &View, shape: Shape, style: XmlStyle) -> Vec<u8> {
    let stream = MetadataStream::open(io, view, shape).unwrap();
    let mut w = XmlWriter::new(Vec::new(), style);
    stream.run(&mut w).unwrap();
    w.into_inner().unwrap()
}

fn xml_whole(md: &EraMetadata, style: XmlStyle) -> Vec<u8> {
    let mut w = XmlWriter::new(Vec::new(), style);
    md.visit(&mut w).unwrap();
    w.into_inner().unwrap()
}

/// Every form of the dump, streamed and whole, agree on `io`'s view `source`.
fn assert_stream_is_the_whole_read(io: &MemIo, source: Source, what: &str) {
    let view = open_view(io, source).unwrap();
    let md = read_metadata(io, &view).unwrap();
    assert!(streamed(io, &view, Shape::Full) == md, "{what}: full");
    let logical = md.logical();
    assert!(
        streamed(io, &view, Shape::Logical) == logical,
        "{what}: logical"
    );
    // The verbose form of the largest images (millions of lines per writeset) is left
    // to the kernel_read and cli tests, which compare it with the reference tool's.
    let styles: &[XmlStyle] = match md.superblock.nr_blocks {
        0..=300_000 => &[XmlStyle::Verbose, XmlStyle::Compact],
        _ => &[XmlStyle::Compact],
    };
    for &style in styles {
        assert!(
            xml_streamed(io, &view, Shape::Full, style) == xml_whole(&md, style),
            "{what}: {style:?}"
        );
    }
    assert!(
        xml_streamed(io, &view, Shape::Logical, XmlStyle::Verbose)
            == xml_whole(&logical, XmlStyle::Verbose),
        "{what}: logical XML"
    );
}

#[test]
fn every_kernel_image_streams_as_it_reads_whole() {
    for case in kernel_cases() {
        let io = MemIo::from_bytes(kernel_image(&case));
        assert_stream_is_the_whole_read(&io, Source::Live, &case);
        if open_view(&io, Source::Snapshot).is_ok() {
            assert_stream_is_the_whole_read(&io, Source::Snapshot, &format!("{case} snapshot"));
        }
    }
}

/// Metadata of `nr_blocks` blocks (three groups of era-array blocks and more) whose
/// writesets are longer and shorter than the era array, written on a fresh device.
fn large(nr_blocks: u32) -> (MemIo, EraMetadata) {
    let mut rng = fastrand::Rng::with_seed(7);
    let writeset = |era: u32, nr_bits: u32, rng: &mut fastrand::Rng| {
        let mut bits: Vec<u64> = (0..nr_bits.div_ceil(64)).map(|_| rng.u64(..)).collect();
        if !nr_bits.is_multiple_of(64) {
            if let Some(last) = bits.last_mut() {
                *last &= (1u64 << (nr_bits % 64)) - 1;
            }
        }
        Writeset {
            era: Era::new(era),
            nr_bits,
            bits,
        }
    };
    let md = EraMetadata {
        superblock: SuperblockIr {
            uuid: String::new(),
            block_size: 128,
            nr_blocks,
            current_era: Era::new(40),
        },
        writesets: vec![
            writeset(37, nr_blocks + 70_000, &mut rng),
            writeset(38, nr_blocks / 3 + 5, &mut rng),
            writeset(39, nr_blocks, &mut rng),
        ],
        era_array: (0..nr_blocks).map(|_| rng.u32(0..37)).collect(),
    };
    let io = MemIo::new(4096);
    write_metadata(&io, &md).unwrap();
    (io, md)
}

#[test]
fn metadata_of_many_groups_streams_as_it_reads_whole() {
    let (io, md) = large(400_000);
    let view = open_view(&io, Source::Live).unwrap();
    assert!(read_metadata(&io, &view).unwrap() == md);
    assert!(streamed(&io, &view, Shape::Full) == md);
    assert!(streamed(&io, &view, Shape::Logical) == md.logical());
    assert!(
        xml_streamed(&io, &view, Shape::Full, XmlStyle::Compact)
            == xml_whole(&md, XmlStyle::Compact)
    );
    assert!(
        xml_streamed(&io, &view, Shape::Logical, XmlStyle::Verbose)
            == xml_whole(&md.logical(), XmlStyle::Verbose)
    );
}

/// The error of a stream of `shape`, as text.
fn stream_error(io: &MemIo, shape: Shape) -> String {
    let view = open_view(io, Source::Live).unwrap();
    let e = match MetadataStream::open(io, &view, shape) {
        Err(e) => return e.to_string(),
        Ok(stream) => stream.run(&mut IrBuilder::new()),
    };
    match e {
        Err(StreamError::Read(e)) => e.to_string(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn damaged_blocks_met_on_the_way_are_named() {
    let (io, _) = large(400_000);
    let view = open_view(&io, Source::Live).unwrap();
    let nr_blocks = u64::from(view.sb.nr_blocks);
    let era_blocks = array_block_pointers(&io, view.sb.era_array_root, nr_blocks, 4).unwrap();
    let tree =
        era_tools::era::writeset::read_writeset_tree(&io, view.sb.writeset_tree_root).unwrap();
    // The writeset longer than the era array: its last bitset block holds bits no
    // era-array entry has, which the logical fold reads only to check it.
    let long = tree.iter().find(|w| w.era == Era::new(37)).unwrap();
    let words = u64::from(long.root.nr_bits).div_ceil(64);
    let bits = array_block_pointers(&io, long.root.root, words, 8).unwrap();
    let zero = [0u8; 4096];
    for (block, shapes) in [
        (era_blocks[300], &[Shape::Full, Shape::Logical][..]),
        (bits[3], &[Shape::Full, Shape::Logical][..]),
        (*bits.last().unwrap(), &[Shape::Full, Shape::Logical][..]),
    ] {
        let mut saved = [0u8; 4096];
        io.read_block(block, &mut saved).unwrap();
        io.write_block(block, &zero).unwrap();
        let whole = read_metadata(&io, &view).unwrap_err().to_string();
        assert!(whole.contains(&format!("block {block}")), "{whole}");
        for &shape in shapes {
            let e = stream_error(&io, shape);
            assert!(e.contains(&format!("block {block}")), "{shape:?}: {e}");
        }
        io.write_block(block, &saved).unwrap();
    }
}
