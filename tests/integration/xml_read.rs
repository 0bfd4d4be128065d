//! The XML reader against the kernel corpus and against the writer: every reference dump
//! of thin-provisioning-tools must read back to exactly what the binary reader finds in
//! the kernel's image, and writing that again must give the same bytes; any metadata
//! written in either style must read back unchanged.

use crate::common;

use common::*;
use era_tools::era::ir::{EraMetadata, SuperblockIr, Writeset};
use era_tools::era::metadata::{open_view, read_metadata, Source};
use era_tools::io::MemIo;
use era_tools::units::Era;
use era_tools::xml::{build_from_xml, XmlStyle, XmlWriter};
use proptest::prelude::*;

fn binary(case: &str) -> EraMetadata {
    let io = MemIo::from_bytes(kernel_image(case));
    let view = open_view(&io, Source::Live).unwrap_or_else(|e| panic!("{case}: {e}"));
    read_metadata(&io, &view).unwrap_or_else(|e| panic!("{case}: {e}"))
}

fn render(md: &EraMetadata, style: XmlStyle) -> Vec<u8> {
    let mut w = XmlWriter::new(Vec::new(), style);
    md.visit(&mut w).unwrap();
    w.into_inner().unwrap()
}

#[test]
fn reference_dumps_read_back_to_the_kernel_images() {
    let mut seen = 0;
    for case in kernel_cases() {
        let Some(reference) = reference_dump(&case) else {
            continue;
        };
        let from_xml = build_from_xml(&reference[..]).unwrap_or_else(|e| panic!("{case}: {e}"));
        let from_disk = binary(&case);
        assert!(from_xml == from_disk, "{case}: XML and image disagree");
        // The folded view must also match the kernel's own per-block truth.
        let t = truth(&case, false).unwrap();
        let folded = from_xml.folded_eras();
        for (b, &e) in folded.iter().enumerate() {
            assert_eq!(e, t.era(b as u32), "{case}: block {b}");
        }
        assert!(
            render(&from_xml, XmlStyle::Verbose) == reference,
            "{case}: verbose rewrite differs from the reference"
        );
        let compact = render(&from_xml, XmlStyle::Compact);
        let again = build_from_xml(&compact[..]).unwrap_or_else(|e| panic!("{case}: {e}"));
        assert!(
            again == from_disk,
            "{case}: compact form reads back differently"
        );
        assert!(
            render(&again, XmlStyle::Compact) == compact,
            "{case}: compact rewrite differs"
        );
        seen += 1;
    }
    assert!(seen >= 10, "only {seen} reference dumps");
}

/// Runs crossing 64-bit word boundaries, overlapping and out of order, in both forms:
/// exactly the named bits are set (format.md §13.1: the reference tool gets this wrong).
#[test]
fn runs_across_word_boundaries_set_exactly_their_bits() {
    let xml = r#"<superblock uuid="" block_size="8" nr_blocks="300" current_era="2">
  <writeset era="2" nr_bits="300">
    <marked block_begin="10" len="90"/>
    <marked block_begin="127" len="2"/>
    <bit block="200" value="true"/>
    <marked block_begin="60" len="10"/>
    <bit block="5" value="true"/>
    <bit block="6" value="false"/>
    <marked block_begin="255" len="45"/>
    <marked block_begin="150" len="0"/>
  </writeset>
  <era_array>
  </era_array>
</superblock>"#;
    let md = build_from_xml(xml.as_bytes()).unwrap();
    let ws = &md.writesets[0];
    let mut want = vec![false; 300];
    for b in (5..6)
        .chain(10..100)
        .chain(127..129)
        .chain(200..201)
        .chain(255..300)
    {
        want[b] = true;
    }
    for (b, &w) in want.iter().enumerate() {
        let got = ws.bits[b / 64] >> (b % 64) & 1 == 1;
        assert_eq!(got, w, "bit {b}");
    }
    assert_eq!(ws.bits.len(), 5);
    assert_eq!(md.era_array, vec![0; 300]);
}

fn metadata() -> impl Strategy<Value = EraMetadata> {
    (
        0u32..300,
        0u32..6,
        prop::sample::select(vec![8u32, 128, 1024]),
    )
        .prop_flat_map(|(nr_blocks, nr_ws, block_size)| {
            let current_era = 3 + nr_ws;
            let writesets = prop::collection::vec(
                (0u32..400).prop_flat_map(move |nr_bits| {
                    (
                        Just(nr_bits),
                        prop::collection::vec(
                            prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>()],
                            nr_bits.div_ceil(64) as usize,
                        ),
                    )
                }),
                nr_ws as usize,
            );
            let uuid = prop_oneof![Just(String::new()), "[ -~]{0,12}", "\\PC{0,8}"];
            (
                uuid,
                Just(block_size),
                Just(nr_blocks),
                Just(current_era),
                writesets,
                prop::collection::vec(0u32..=current_era, nr_blocks as usize),
                Just((0..nr_ws).collect::<Vec<u32>>()).prop_shuffle(),
            )
        })
        .prop_map(
            |(uuid, block_size, nr_blocks, current_era, ws, eras, order)| {
                let writesets = ws
                    .into_iter()
                    .enumerate()
                    .map(|(i, (nr_bits, mut bits))| {
                        let tail = nr_bits % 64;
                        if tail != 0 {
                            if let Some(last) = bits.last_mut() {
                                *last &= (1u64 << tail) - 1;
                            }
                        }
                        Writeset {
                            // Distinct eras, in any order.
                            era: Era::new(current_era - order[i]),
                            nr_bits,
                            bits,
                        }
                    })
                    .collect();
                EraMetadata {
                    superblock: SuperblockIr {
                        uuid,
                        block_size,
                        nr_blocks,
                        current_era: Era::new(current_era),
                    },
                    writesets,
                    era_array: eras,
                }
            },
        )
}

proptest! {
    #[test]
    fn writer_output_reads_back_unchanged(md in metadata()) {
        for style in [XmlStyle::Verbose, XmlStyle::Compact] {
            let xml = render(&md, style);
            let back = build_from_xml(&xml[..]).map_err(|e| {
                TestCaseError::fail(format!("{style:?}: {e}\n{}", String::from_utf8_lossy(&xml)))
            })?;
            prop_assert_eq!(&back, &md, "{:?}", style);
        }
    }
}

proptest! {
    /// Damaged XML never panics the reader or the builder; what is accepted is
    /// consistent metadata that writes and reads back unchanged.
    #[test]
    fn damaged_xml_is_rejected_or_consistent(
        md in metadata(),
        compact in any::<bool>(),
        edits in prop::collection::vec(
            (any::<prop::sample::Index>(), prop::sample::select(b"<>/\"'= \n-!?0179a&;#x".to_vec()), 0u8..3),
            1..6,
        ),
    ) {
        let style = if compact { XmlStyle::Compact } else { XmlStyle::Verbose };
        let mut xml = render(&md, style);
        for (at, b, op) in edits {
            let at = at.index(xml.len() + 1);
            match op {
                0 => xml.insert(at, b),
                1 if at < xml.len() => { xml.remove(at); }
                _ if at < xml.len() => xml[at] = b,
                _ => xml.push(b),
            }
        }
        if let Ok(back) = build_from_xml(&xml[..]) {
            prop_assert!(back.era_array.len() == back.superblock.nr_blocks as usize);
            for ws in &back.writesets {
                prop_assert!(ws.era <= back.superblock.current_era);
                prop_assert_eq!(ws.bits.len(), ws.nr_bits.div_ceil(64) as usize);
            }
            let again = build_from_xml(&render(&back, XmlStyle::Compact)[..]).unwrap();
            prop_assert_eq!(again, back);
        }
    }
}
