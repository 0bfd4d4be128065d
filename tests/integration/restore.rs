//! The writer against the kernel's images and against random metadata: whatever the
//! readers decode from an image must be written back to an image that decodes to the
//! same metadata and the same verbose dump, with an exact space map. Reference counts
//! are recomputed here by walking every structure (format.md §7.5), independently of
//! the writer; the walk is itself checked against the kernel's own space maps.

use crate::common;

use common::recount::assert_space_map_exact;
use common::*;
use era_tools::era::ir::{EraMetadata, SuperblockIr, Writeset};
use era_tools::era::metadata::{open_view, read_metadata, read_superblock, Source};
use era_tools::era::restore::{blocks_needed, write_metadata};
use era_tools::era::Error;
use era_tools::io::{BlockIo, MemIo};
use era_tools::units::Era;
use era_tools::units::MetaBlock;
use era_tools::xml::{XmlStyle, XmlWriter};
use proptest::prelude::*;
use std::collections::HashSet;

fn read(io: &dyn BlockIo, source: Source) -> EraMetadata {
    let view = open_view(io, source).unwrap();
    read_metadata(io, &view).unwrap()
}

fn verbose_dump(md: &EraMetadata) -> Vec<u8> {
    let mut w = XmlWriter::new(Vec::new(), XmlStyle::Verbose);
    md.visit(&mut w).unwrap();
    w.into_inner().unwrap()
}

/// Writes `md` on a device of `blocks` blocks and checks everything read back.
fn round_trip(md: &EraMetadata, blocks: u64, what: &str) -> MemIo {
    let io = MemIo::new(blocks);
    let summary = write_metadata(&io, md).unwrap_or_else(|e| panic!("{what}: {e}"));
    let back = read(&io, Source::Live);
    assert!(back == *md, "{what}: metadata differs after the round trip");
    let view = open_view(&io, Source::Live).unwrap();
    assert_eq!(
        view.current_writeset, None,
        "{what}: restored current writeset"
    );
    assert_eq!(view.sb.current_writeset.nr_bits, md.superblock.nr_blocks);
    assert_eq!(view.sb.metadata_snap, MetaBlock::new(0));
    assert_eq!(summary.superblock, view.sb);
    assert_space_map_exact(&io, what);
    io
}

#[test]
fn the_reference_walk_agrees_with_every_kernel_space_map() {
    for case in kernel_cases() {
        let io = MemIo::from_bytes(kernel_image(&case));
        assert_space_map_exact(&io, &case);
    }
}

#[test]
fn every_kernel_image_round_trips_through_the_writer() {
    for case in kernel_cases() {
        let image = kernel_image(&case);
        let blocks = (image.len() / 4096) as u64;
        let kio = MemIo::from_bytes(image);
        let md = read(&kio, Source::Live);
        let io = round_trip(&md, blocks, &case);
        // Equal metadata dumps equally; where the reference tool's verbose dump of the
        // kernel image exists (the cases small enough to dump), ours of the restored
        // image must equal it byte for byte.
        if let Some(reference) = reference_dump(&case) {
            assert!(
                verbose_dump(&read(&io, Source::Live)) == reference,
                "{case}: dump of the restored image differs from the reference dump"
            );
        }
        let t = truth(&case, false).unwrap();
        let folded = read(&io, Source::Live).folded_eras();
        assert!(
            folded
                .iter()
                .enumerate()
                .all(|(b, &e)| e == t.era(b as u32)),
            "{case}: folded eras differ from the truth"
        );
    }
}

#[test]
fn a_live_current_writeset_becomes_the_last_archived_one() {
    let kio = MemIo::from_bytes(kernel_image("crash"));
    let view = open_view(&kio, Source::Live).unwrap();
    assert!(
        view.current_writeset.is_some(),
        "crash holds a live writeset"
    );
    let md = read_metadata(&kio, &view).unwrap();
    let io = round_trip(&md, kio.nr_blocks(), "crash");
    let sb = read_superblock(&io).unwrap();
    let tree = era_tools::era::writeset::read_writeset_tree(&io, sb.writeset_tree_root).unwrap();
    assert_eq!(tree.last().unwrap().era, view.sb.current_era);
}

#[test]
fn snapshot_views_round_trip_too() {
    let mut seen = 0;
    for case in kernel_cases() {
        let kio = MemIo::from_bytes(kernel_image(&case));
        if read_superblock(&kio).unwrap().metadata_snap == MetaBlock::new(0) {
            continue;
        }
        let md = read(&kio, Source::Snapshot);
        round_trip(&md, kio.nr_blocks(), &format!("{case} (snapshot)"));
        seen += 1;
    }
    assert!(seen >= 1);
}

#[test]
fn a_too_small_device_is_refused_with_the_size_it_needs() {
    let kio = MemIo::from_bytes(kernel_image("bigger"));
    let md = read(&kio, Source::Live);
    let need = blocks_needed(&md).unwrap();
    let io = MemIo::from_bytes(vec![0xee; (need as usize - 1) * 4096]);
    match write_metadata(&io, &md) {
        Err(Error::DeviceTooSmall { needed_bytes, .. }) => assert_eq!(needed_bytes, need * 4096),
        other => panic!("expected DeviceTooSmall, got {other:?}"),
    }
    assert!(io.to_bytes().iter().all(|&b| b == 0xee), "nothing written");
    round_trip(&md, need, "bigger at its minimum size");
}

#[test]
fn writing_twice_gives_the_same_bytes() {
    let kio = MemIo::from_bytes(kernel_image("checkpoints"));
    let md = read(&kio, Source::Live);
    let a = MemIo::new(kio.nr_blocks());
    let b = MemIo::from_bytes(vec![0xa5; kio.nr_blocks() as usize * 4096]);
    let used = write_metadata(&a, &md).unwrap().blocks_used as usize;
    write_metadata(&b, &md).unwrap();
    assert!(a.to_bytes()[..used * 4096] == b.to_bytes()[..used * 4096]);
}

// ---- random metadata ----

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Bits of a writeset: empty, full, sparse or dense, from `seed`.
fn random_bits(nr_bits: u32, kind: u8, mut seed: u64) -> Vec<u64> {
    let mut words: Vec<u64> = (0..(nr_bits as u64).div_ceil(64))
        .map(|_| match kind {
            0 => 0,
            1 => u64::MAX,
            2 => {
                let r = xorshift(&mut seed);
                if r.is_multiple_of(17) {
                    1 << (r >> 58)
                } else {
                    0
                }
            }
            _ => xorshift(&mut seed),
        })
        .collect();
    era_tools::pdata::bitset::mask_tail(&mut words, nr_bits as u64);
    words
}

fn size_strategy() -> impl Strategy<Value = u32> {
    prop_oneof![
        6 => 0u32..3000,
        3 => 3000u32..70_000,
        1 => 256_537u32..300_000,
    ]
}

prop_compose! {
    fn metadata()(
        nr_blocks in size_strategy(),
        block_size in (1u32..2048).prop_map(|x| x * 8),
        current_era in 0u32..1_000_000,
        ws in proptest::collection::vec((0u32..40, prop_oneof![3 => size_strategy(), 1 => 8_300_000u32..8_400_000], 0u8..4, any::<u64>()), 0..5),
        seed in any::<u64>(),
    ) -> EraMetadata {
        let mut seed = seed | 1;
        let mut eras = HashSet::new();
        let mut writesets: Vec<Writeset> = ws
            .into_iter()
            .enumerate()
            // Contiguous eras ending at the current era: restore refuses a gap.
            .filter_map(|(i, (_, nr_bits, kind, s))| {
                let era = current_era.checked_sub(i as u32)?;
                let nr_bits = if s % 3 == 0 { nr_blocks } else { nr_bits };
                eras.insert(era).then(|| Writeset { era: Era::new(era), nr_bits, bits: random_bits(nr_bits, kind, s | 1) })
            })
            .collect();
        // Dump order: eras ascending, as the reader returns them.
        writesets.sort_by_key(|w| w.era);
        let era_array = (0..nr_blocks)
            .map(|_| (xorshift(&mut seed) % (current_era as u64 + 1)) as u32)
            .collect();
        EraMetadata {
            superblock: SuperblockIr { uuid: String::new(), block_size, nr_blocks, current_era: Era::new(current_era) },
            writesets,
            era_array,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_metadata_round_trips(md in metadata(), slack in prop_oneof![0u64..3, 17_000u64..17_100]) {
        let need = blocks_needed(&md).unwrap();
        let io = MemIo::new(need - 1);
        let refused = matches!(write_metadata(&io, &md), Err(Error::DeviceTooSmall { .. }));
        prop_assert!(refused);
        round_trip(&md, need + slack, "random");
    }
}

fn render(md: &EraMetadata, style: XmlStyle) -> Vec<u8> {
    let mut w = XmlWriter::new(Vec::new(), style);
    md.visit(&mut w).unwrap();
    w.into_inner().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// The whole era_restore path: random metadata → XML → parse → write → read → XML
    /// gives the same XML. The verbose form is used where it stays small.
    #[test]
    fn random_xml_restores_and_dumps_back(md in metadata(), compact in any::<bool>()) {
        let bits: u64 = md.writesets.iter().map(|w| w.nr_bits as u64).sum::<u64>() + md.superblock.nr_blocks as u64;
        let style = if compact || bits > 200_000 { XmlStyle::Compact } else { XmlStyle::Verbose };
        let xml = render(&md, style);
        let parsed = era_tools::xml::build_from_xml(&xml[..]).unwrap();
        let io = MemIo::new(blocks_needed(&parsed).unwrap());
        write_metadata(&io, &parsed).unwrap();
        let back = read(&io, Source::Live);
        prop_assert!(render(&back, style) == xml);
    }
}
