//! Damaged metadata must give the readers an error or the right answer, never a panic or
//! a hang. Every in-use block of kernel images is zeroed, or has header fields
//! overwritten and its checksum re-sealed (so that the damage gets past the checksum and
//! reaches the structural checks), and the full read (dump, logical fold, invalidate)
//! of each view (live, and the held snapshot where there is one) is compared with the
//! undamaged image's:
//! - a view that never reads the damaged block reads exactly what it read before;
//! - a zeroed block fails the read of every view that reads it;
//! - a re-sealed forged header gives that view an error or a value, not a panic.
//!
//! The large image (a two-level era-array btree) has every node damaged and a sample of
//! its array blocks.

use crate::common;

use common::recount::view_blocks;
use common::*;
use era_tools::era::invalidate::written_since;
use era_tools::era::metadata::{open_view, read_metadata, Source};
use era_tools::io::{BlockIo, MemIo};
use era_tools::pdata::checksum::{identify, seal, BlockKind};
use era_tools::pdata::space_map::read_ref_counts;
use era_tools::units::{DataBlock, MetaBlock, BLOCK_SIZE};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// What the readers give for one view: the metadata, its logical fold and the blocks
/// written since era 1, or the error.
type Read = Result<(Vec<u32>, Vec<(DataBlock, DataBlock)>), String>;

fn read_view(io: &MemIo, source: Source) -> Read {
    let view = open_view(io, source).map_err(|e| e.to_string())?;
    let md = read_metadata(io, &view).map_err(|e| e.to_string())?;
    let logical = md.folded_eras();
    let _ = md.logical();
    Ok((logical, written_since(md, 1)))
}

#[test]
fn damaged_blocks_give_errors_or_the_undamaged_answer() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut zeroed_failures = 0;
    for case in ["metadata_snap", "crash", "resize_shrink_undigested"] {
        let image = kernel_image(case);
        let io = MemIo::from_bytes(image.clone());
        // The views of the case: the live one, and the snapshot where one is held.
        let views: Vec<(Source, Vec<bool>, Read)> =
            [(Source::Live, false), (Source::Snapshot, true)]
                .into_iter()
                .filter_map(|(source, snap)| {
                    let reads = view_blocks(&io, snap)?;
                    let clean = read_view(&io, source);
                    assert!(clean.is_ok(), "{case} {source:?}: {clean:?}");
                    Some((source, reads, clean))
                })
                .collect();
        assert_eq!(
            views.len(),
            1 + (case == "metadata_snap") as usize,
            "{case}"
        );
        let damage = |block: usize, bytes: &[u8; BLOCK_SIZE], zeroed: bool| -> usize {
            io.write_block(MetaBlock::new(block as u64), bytes).unwrap();
            let mut failed = 0;
            for (source, reads, clean) in &views {
                let what = format!(
                    "{case} {source:?}: block {block} {}",
                    if zeroed { "zeroed" } else { "forged" }
                );
                let got = read_view(&io, *source);
                if !reads[block] {
                    assert!(
                        &got == clean,
                        "{what}: a block this view never reads changed its answer: {got:?}"
                    );
                } else if zeroed {
                    assert!(got.is_err(), "{what}: read without an error");
                    failed += 1;
                }
            }
            let off = block * BLOCK_SIZE;
            let original: &[u8; BLOCK_SIZE] = image[off..off + BLOCK_SIZE].try_into().unwrap();
            io.write_block(MetaBlock::new(block as u64), original)
                .unwrap();
            failed
        };
        let sb = open_view(&io, Source::Live).unwrap().live;
        let counts = read_ref_counts(&io, &sb.sm_root).unwrap();
        let in_use: Vec<usize> = (0..counts.len()).filter(|&b| counts[b] > 0).collect();
        assert!(in_use.len() > 10, "{case}");
        for (i, &b) in in_use.iter().enumerate() {
            let off = b * BLOCK_SIZE;
            let mut block = [0u8; BLOCK_SIZE];
            block.copy_from_slice(&image[off..off + BLOCK_SIZE]);
            let kind = identify(&block);
            // In the large image every node but only a sample of array blocks.
            if in_use.len() > 500 && kind == Some(BlockKind::ArrayBlock) && i % 50 != 0 {
                continue;
            }

            zeroed_failures += damage(b, &[0u8; BLOCK_SIZE], true);

            for _ in 0..4 {
                let mut forged = block;
                for _ in 0..1 + rng.next() % 3 {
                    let at = 4 + (rng.next() % 60) as usize;
                    let value = match rng.next() % 4 {
                        0 => 0,
                        1 => 0xff,
                        _ => rng.next() as u8,
                    };
                    forged[at] = value;
                }
                if let Some(kind) = kind {
                    seal(&mut forged, kind);
                }
                damage(b, &forged, false);
            }
        }
    }
    // Every block but the space map's is read by some view.
    assert!(zeroed_failures > 50, "only {zeroed_failures} failed reads");
}
