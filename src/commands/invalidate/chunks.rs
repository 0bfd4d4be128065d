//! The runs of a block set formatted in parallel: the origin is cut into chunks of
//! blocks, each chunk's runs (those beginning in it) are formatted into its own buffer
//! by one task, and the buffers are written in order, a few chunks at a time, so that
//! the output is the same bytes as a sequential listing and memory stays bounded.

use crate::era::invalidate::DataBlockSet;
use crate::units::DataBlock;
use rayon::prelude::*;
use std::io::{self, Write};

/// Blocks per chunk: at worst (every other block set) about 2 MB of XML.
const CHUNK_BLOCKS: u32 = 1 << 17;

/// Chunks formatted between two writes.
const CHUNKS_IN_FLIGHT: usize = 8;

/// Writes `fmt(buf, num, run)` for every run of `set` in order, dropping the first
/// `skip` bytes of the whole (for a separator that only goes between runs).
pub fn write_runs(
    out: &mut dyn Write,
    set: &DataBlockSet,
    mut skip: usize,
    fmt: impl Fn(&mut Vec<u8>, &mut itoa::Buffer, (DataBlock, DataBlock)) + Sync,
) -> io::Result<()> {
    let nr_blocks = set.nr_blocks();
    let nr_chunks = nr_blocks.div_ceil(CHUNK_BLOCKS);
    let mut bufs: Vec<Vec<u8>> = vec![Vec::new(); CHUNKS_IN_FLIGHT];
    let mut first = 0u32;
    while first < nr_chunks {
        let n = (nr_chunks - first).min(CHUNKS_IN_FLIGHT as u32);
        bufs.par_iter_mut()
            .zip(first..first + n)
            .for_each(|(buf, c)| {
                buf.clear();
                let from = c.saturating_mul(CHUNK_BLOCKS);
                let until = from.saturating_add(CHUNK_BLOCKS).min(nr_blocks);
                let mut num = itoa::Buffer::new();
                for run in set.runs_beginning_in(DataBlock::new(from), DataBlock::new(until)) {
                    fmt(buf, &mut num, run);
                }
            });
        for buf in bufs.iter().take(n as usize) {
            let drop = skip.min(buf.len());
            skip -= drop;
            out.write_all(&buf[drop..])?;
        }
        first += n;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_output_is_the_sequential_listing() {
        let mut rng = fastrand::Rng::with_seed(3);
        for nr_blocks in [
            0,
            1,
            63,
            64,
            CHUNK_BLOCKS - 1,
            CHUNK_BLOCKS + 5,
            CHUNK_BLOCKS * 9 + 77,
        ] {
            let mut set = DataBlockSet::new(nr_blocks);
            let words: Vec<u64> = (0..nr_blocks.div_ceil(64))
                .map(|_| match rng.u8(0..3) {
                    0 => u64::MAX,
                    1 => 0,
                    _ => rng.u64(..),
                })
                .collect();
            set.union_words(&words);
            let fmt =
                |buf: &mut Vec<u8>, num: &mut itoa::Buffer, (b, e): (DataBlock, DataBlock)| {
                    buf.push(b',');
                    buf.extend_from_slice(num.format(b.get()).as_bytes());
                    buf.push(b'-');
                    buf.extend_from_slice(num.format(e.get()).as_bytes());
                };
            let mut want = Vec::new();
            let mut num = itoa::Buffer::new();
            for run in set.runs() {
                fmt(&mut want, &mut num, run);
            }
            let mut got = Vec::new();
            write_runs(&mut got, &set, 1, fmt).unwrap();
            assert_eq!(got, want.get(1..).unwrap_or_default(), "{nr_blocks} blocks");
        }
    }
}
