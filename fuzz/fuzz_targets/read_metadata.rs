//! The binary readers over damaged images: the superblock, the writeset tree, the
//! bitsets and the era array (`open_view` + `read_metadata`, as `era_dump` and
//! `era_invalidate` use them), then the dump and invalidate paths on what was read.
//!
//! Input: the damage format of `era_fuzz` (flag bit 4: read through the metadata
//! snapshot; bit 5: compact XML; bits 6..8: the `written_since` threshold).
#![no_main]

use era_fuzz::damaged;
use era_tools::era::invalidate::written_since;
use era_tools::era::metadata::{open_view, read_metadata, Source};
use era_tools::pdata::bitset::nr_words;
use era_tools::xml::{XmlStyle, XmlWriter};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(d) = damaged(data) else { return };
    let source = if d.flags & 0x10 != 0 {
        Source::Snapshot
    } else {
        Source::Live
    };
    let Ok(view) = open_view(&d.io, source) else {
        return;
    };
    let Ok(md) = read_metadata(&d.io, &view) else {
        return;
    };
    // What the reader promises about what it returns.
    assert_eq!(md.era_array.len(), view.sb.nr_blocks as usize);
    assert_eq!(md.superblock.nr_blocks, view.sb.nr_blocks);
    for ws in &md.writesets {
        assert_eq!(ws.bits.len() as u64, nr_words(ws.nr_bits as u64));
        if ws.nr_bits % 64 != 0 {
            let last = ws.bits.last().copied().unwrap_or(0);
            assert_eq!(last >> (ws.nr_bits % 64), 0, "bits beyond nr_bits are set");
        }
    }
    // Dump it.
    let style = if d.flags & 0x20 != 0 {
        XmlStyle::Compact
    } else {
        XmlStyle::Verbose
    };
    let mut w = XmlWriter::new(std::io::sink(), style);
    md.visit(&mut w).expect("dumping to a sink");
    // Invalidate from it.
    let since = u32::from(d.flags >> 6);
    let nr_blocks = md.superblock.nr_blocks;
    let runs = written_since(md, since);
    let mut prev = None;
    for &(b, e) in &runs {
        assert!(
            b < e && e.get() <= nr_blocks,
            "run {b}..{e} of {nr_blocks} blocks"
        );
        assert!(prev.is_none_or(|p| p < b), "runs overlap or touch");
        prev = Some(e);
    }
});
