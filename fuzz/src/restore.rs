//! Era metadata from fuzz bytes (target `restore`), and the round trip that both the
//! `restore` and the `xml_read` targets put valid metadata through.
//!
//! # The metadata format
//!
//! ```text
//! u8      block_size / 8 (0 gives block size 0, which must be refused)
//! u16 LE  nr_blocks
//! u32 LE  current_era
//! u8      writesets (modulo 9), each:
//!           u32 LE era, u16 LE nr_bits, u8 runs, each run u16 LE begin, u16 LE len
//!           (bits set within the writeset's words: bits at or beyond nr_bits
//!           included, which restore must write as zero)
//! u8      era runs, each u16 LE begin, u16 LE len, u32 LE era (cut at nr_blocks)
//! ```
//!
//! Missing bytes read as zeros.

use crate::Bytes;
use era_tools::era::check::{check, CheckOptions};
use era_tools::era::ir::{EraMetadata, SuperblockIr, Writeset};
use era_tools::era::metadata::{open_view, read_metadata, Source};
use era_tools::era::restore::{blocks_needed, validate, write_metadata};
use era_tools::era::Error;
use era_tools::io::MemIo;
use era_tools::pdata::bitset::{for_each_run, nr_words, set_range};
use era_tools::units::{Era, BLOCK_SIZE};

/// Devices larger than this (in blocks) are not restored: the round trip would cost
/// more than a fuzz iteration should.
pub const MAX_RESTORE_BLOCKS: u64 = 1024;

fn words(nr_bits: u32) -> usize {
    nr_words(u64::from(nr_bits)) as usize
}

/// Decodes metadata in the format of the module docs.
pub fn decode_metadata(data: &[u8]) -> EraMetadata {
    let mut r = Bytes::new(data);
    let block_size = r.u8() as u32 * 8;
    let nr_blocks = r.u16() as u32;
    let current_era = r.u32();
    let mut writesets = Vec::new();
    for _ in 0..r.u8() % 9 {
        let era = r.u32();
        let nr_bits = r.u16() as u32;
        let mut bits = vec![0u64; words(nr_bits)];
        for _ in 0..r.u8() {
            let (begin, len) = (r.u16(), r.u16());
            set_range(
                &mut bits,
                u64::from(begin),
                u64::from(begin) + u64::from(len),
            );
        }
        writesets.push(Writeset {
            era: Era::new(era),
            nr_bits,
            bits,
        });
    }
    let mut era_array = vec![0u32; nr_blocks as usize];
    for _ in 0..r.u8() {
        let (begin, len, era) = (r.u16() as usize, r.u16() as usize, r.u32());
        let end = (begin + len).min(era_array.len());
        if begin < end {
            era_array[begin..end].fill(era);
        }
    }
    EraMetadata {
        superblock: SuperblockIr {
            uuid: String::new(),
            block_size,
            nr_blocks,
            current_era: Era::new(current_era),
        },
        writesets,
        era_array,
    }
}

/// Encodes metadata whose geometry fits the format (nr_blocks and nr_bits below 2^16,
/// block size a multiple of 8 below 2048, at most 8 writesets); runs beyond 255 are
/// dropped. The seed generator's inverse of [`decode_metadata`].
pub fn encode_metadata(md: &EraMetadata) -> Vec<u8> {
    let mut out = Vec::new();
    let sb = &md.superblock;
    out.push((sb.block_size / 8) as u8);
    out.extend_from_slice(&(sb.nr_blocks as u16).to_le_bytes());
    out.extend_from_slice(&sb.current_era.get().to_le_bytes());
    let wss = &md.writesets[..md.writesets.len().min(8)];
    out.push(wss.len() as u8);
    for ws in wss {
        out.extend_from_slice(&ws.era.get().to_le_bytes());
        out.extend_from_slice(&(ws.nr_bits as u16).to_le_bytes());
        let mut runs = Vec::new();
        for_each_run(&ws.bits, ws.nr_bits as u64, |b, e| runs.push((b, e)));
        runs.truncate(255);
        out.push(runs.len() as u8);
        for (b, e) in runs {
            out.extend_from_slice(&(b as u16).to_le_bytes());
            out.extend_from_slice(&((e - b) as u16).to_le_bytes());
        }
    }
    let mut runs: Vec<(usize, usize, u32)> = Vec::new();
    for (i, &e) in md.era_array.iter().enumerate() {
        match runs.last_mut() {
            Some((b, l, era)) if *era == e && *b + *l == i => *l += 1,
            _ if e != 0 => runs.push((i, 1, e)),
            _ => {}
        }
    }
    runs.truncate(255);
    out.push(runs.len() as u8);
    for (b, l, e) in runs {
        out.extend_from_slice(&(b as u16).to_le_bytes());
        out.extend_from_slice(&(l as u16).to_le_bytes());
        out.extend_from_slice(&e.to_le_bytes());
    }
    out
}

/// `md` cut to its first `n` blocks (and each writeset to its first `n` bits).
pub fn shrink(md: &EraMetadata, n: u32) -> EraMetadata {
    let mut out = md.clone();
    out.superblock.nr_blocks = out.superblock.nr_blocks.min(n);
    out.era_array.truncate(out.superblock.nr_blocks as usize);
    for ws in &mut out.writesets {
        ws.nr_bits = ws.nr_bits.min(n);
        ws.bits.truncate(words(ws.nr_bits));
        if ws.nr_bits % 64 != 0 {
            if let Some(last) = ws.bits.last_mut() {
                *last &= (1u64 << (ws.nr_bits % 64)) - 1;
            }
        }
    }
    out
}

/// What reading back a restored `md` must give: writesets in ascending era with the
/// bits at or beyond `nr_bits` cleared, and no uuid (the binary format has none).
fn expected_after_restore(md: &EraMetadata) -> EraMetadata {
    let mut want = md.clone();
    want.superblock.uuid.clear();
    want.writesets.sort_by_key(|ws| ws.era);
    for ws in &mut want.writesets {
        let n = ws.nr_bits as u64;
        for (i, w) in ws.bits.iter_mut().enumerate() {
            let first = i as u64 * 64;
            if first >= n {
                *w = 0;
            } else if n - first < 64 {
                *w &= (1u64 << (n - first)) - 1;
            }
        }
    }
    want
}

fn all_zero(io: &MemIo) -> bool {
    io.to_bytes().iter().all(|&b| b == 0)
}

/// Restores `md` and checks what restore promises: invalid metadata is refused with
/// nothing written; valid metadata (if small) fits
/// on `blocks_needed` blocks and not on one fewer (where nothing is written), the image
/// passes the checker without an error, and it reads back as `md`.
pub fn restore_round_trip(md: &EraMetadata) {
    if validate(md).is_err() {
        let io = MemIo::new(16);
        assert!(
            write_metadata(&io, md).is_err(),
            "invalid metadata was restored"
        );
        assert!(all_zero(&io), "a refused restore wrote to the device");
        return;
    }
    let Some(need) = blocks_needed(md) else {
        return;
    };
    if need > MAX_RESTORE_BLOCKS {
        return;
    }
    let small = MemIo::new(need - 1);
    match write_metadata(&small, md) {
        Err(Error::DeviceTooSmall { needed_blocks, .. }) => {
            assert_eq!(needed_blocks, need, "DeviceTooSmall names blocks_needed")
        }
        other => panic!(
            "restore onto {} blocks, one fewer than blocks_needed: {other:?}",
            need - 1
        ),
    }
    assert!(all_zero(&small), "a refused restore wrote to the device");

    let io = MemIo::new(need);
    let summary = write_metadata(&io, md).unwrap_or_else(|e| {
        panic!("valid metadata does not restore onto blocks_needed = {need} blocks: {e}")
    });
    assert!(summary.blocks_used <= summary.blocks_managed && summary.blocks_managed <= need);

    let report = check(&io, &CheckOptions::default());
    assert!(
        !report.has_errors(),
        "restored metadata fails the check: {:?}",
        report.findings
    );
    let view = open_view(&io, Source::Live).expect("restored superblock reads back");
    let back = read_metadata(&io, &view).expect("restored metadata reads back");
    assert_eq!(
        back,
        expected_after_restore(md),
        "restored metadata reads back different"
    );
    assert_eq!(io.to_bytes().len(), need as usize * BLOCK_SIZE);
}
