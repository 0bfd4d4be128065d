//! Damaged metadata must never make the readers panic or hang: every in-use block of
//! kernel images is zeroed, or has header fields overwritten and its checksum re-sealed
//! (so that the damage gets past the checksum and reaches the structural checks), and
//! the full read (dump, logical fold, invalidate) must end in a value or an error.
//! The large image (a two-level era-array btree) has every node damaged and a sample of
//! its array blocks.

use crate::common;

use common::*;
use era_tools::era::invalidate::written_since;
use era_tools::era::metadata::{open_view, read_metadata, Source};
use era_tools::io::{BlockIo, MemIo};
use era_tools::pdata::checksum::{identify, seal, BlockKind};
use era_tools::pdata::space_map::read_ref_counts;
use era_tools::units::MetaBlock;
use era_tools::units::BLOCK_SIZE;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn read_everything(io: &MemIo) -> Result<(), String> {
    for source in [Source::Live, Source::Snapshot] {
        let view = open_view(io, source).map_err(|e| e.to_string())?;
        let md = read_metadata(io, &view).map_err(|e| e.to_string())?;
        let _ = md.logical();
        let _ = written_since(md, 1);
    }
    Ok(())
}

#[test]
fn damaged_blocks_give_errors_not_panics() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut errors = 0;
    for case in ["metadata_snap", "crash", "resize_shrink_undigested"] {
        let image = kernel_image(case);
        let io = MemIo::from_bytes(image.clone());
        let damage = |block: usize, bytes: &[u8; BLOCK_SIZE]| {
            io.write_block(MetaBlock::new(block as u64), bytes).unwrap();
            let outcome = read_everything(&io);
            let off = block * BLOCK_SIZE;
            let original: &[u8; BLOCK_SIZE] = image[off..off + BLOCK_SIZE].try_into().unwrap();
            io.write_block(MetaBlock::new(block as u64), original)
                .unwrap();
            outcome
        };
        let view = open_view(&io, Source::Live).unwrap();
        let counts = read_ref_counts(&io, &view.live.sm_root).unwrap();
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

            errors += damage(b, &[0u8; BLOCK_SIZE]).is_err() as usize;

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
                let _ = damage(b, &forged);
            }
        }
    }
    assert!(errors > 0, "no damage was ever detected");
}
