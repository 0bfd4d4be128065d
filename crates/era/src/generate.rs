//! Deterministic synthetic era metadata for tests and benchmarks.
//!
//! Writesets cover the eras `current_era - nr_writesets + 1 ..= current_era`, each bit
//! set with probability `density`; the era array holds eras below the first writeset's
//! era, so the data looks like metadata whose older writesets were digested. The output
//! depends only on the parameters (not on the number of threads): every chunk of words
//! draws from its own generator seeded from `(seed, stream, chunk)`.

use super::ir::{EraMetadata, SuperblockIr, Writeset};
use super::restore::{check_geometry, validate};
use super::{Error, Result};
use crate::pdata::bitset::nr_words;
use crate::units::Era;
use rayon::prelude::*;

/// Values drawn per generator (one chunk of work).
const CHUNK: usize = 64 * 1024;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GenerateParams {
    /// Origin blocks (length of the era array and of every writeset).
    pub nr_blocks: u32,
    /// Origin block size in sectors.
    pub block_size: u32,
    /// The superblock's current era; era-array entries are drawn below the oldest
    /// writeset's era.
    pub current_era: u32,
    /// Archived writesets, for the eras ending at `current_era`; at most `current_era`.
    pub nr_writesets: u32,
    /// Fraction of bits set in each writeset, in `[0, 1]`.
    pub density: f64,
    /// Seed of the generators: the same parameters give the same metadata, whatever
    /// the number of threads.
    pub seed: u64,
}

impl GenerateParams {
    /// The era of the oldest writeset (`current_era + 1` when there is none).
    fn first_writeset_era(&self) -> u64 {
        self.current_era as u64 + 1 - self.nr_writesets as u64
    }

    fn check(&self) -> Result<()> {
        let bad = |reason: String| Err(Error::InvalidInput { reason });
        if !(0.0..=1.0).contains(&self.density) {
            return bad(format!("density {} is not within [0, 1]", self.density));
        }
        if self.nr_writesets > self.current_era {
            return bad(format!(
                "{} writesets need a current era of at least {} (eras start at 1)",
                self.nr_writesets, self.nr_writesets
            ));
        }
        check_geometry(self.block_size, self.nr_blocks)
    }
}

/// A generator for one chunk of one stream.
fn rng(seed: u64, stream: u64, chunk: u64) -> fastrand::Rng {
    let mix = seed
        ^ stream.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ chunk.wrapping_add(1).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    // SplitMix64's finaliser, so that nearby (seed, stream, chunk) give unrelated states.
    let mut z = mix.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    fastrand::Rng::with_seed(z ^ (z >> 31))
}

/// Generates the metadata `p` describes.
pub fn generate(p: &GenerateParams) -> Result<EraMetadata> {
    p.check()?;
    let n = p.nr_blocks as usize;
    let first = p.first_writeset_era();
    let mut era_array = vec![0u32; n];
    era_array
        .par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(ci, chunk)| {
            let mut r = rng(p.seed, 0, ci as u64);
            for e in chunk {
                *e = (r.u64(..) % first) as u32;
            }
        });
    // P(bit set) = threshold / 2^32.
    let threshold = (p.density * 4_294_967_296.0) as u64;
    let writesets = (0..p.nr_writesets)
        .map(|i| {
            let mut bits = vec![0u64; nr_words(n as u64) as usize];
            bits.par_chunks_mut(CHUNK / 64)
                .enumerate()
                .for_each(|(ci, words)| {
                    let mut r = rng(p.seed, 1 + i as u64, ci as u64);
                    for (wi, w) in words.iter_mut().enumerate() {
                        let base = (ci * (CHUNK / 64) + wi) * 64;
                        for bit in 0..64.min(n.saturating_sub(base)) {
                            if (r.u32(..) as u64) < threshold {
                                *w |= 1 << bit;
                            }
                        }
                    }
                });
            Writeset {
                era: Era::new((first + i as u64) as u32),
                nr_bits: p.nr_blocks,
                bits,
            }
        })
        .collect();
    let md = EraMetadata {
        superblock: SuperblockIr {
            uuid: String::new(),
            block_size: p.block_size,
            nr_blocks: p.nr_blocks,
            current_era: Era::new(p.current_era),
        },
        writesets,
        era_array,
    };
    validate(&md)?;
    Ok(md)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> GenerateParams {
        GenerateParams {
            nr_blocks: 200_000,
            block_size: 128,
            current_era: 100,
            nr_writesets: 4,
            density: 0.1,
            seed: 42,
        }
    }

    #[test]
    fn generation_is_deterministic_and_seeded() {
        let a = generate(&params()).unwrap();
        assert_eq!(a, generate(&params()).unwrap());
        let b = generate(&GenerateParams {
            seed: 43,
            ..params()
        })
        .unwrap();
        assert_ne!(a.era_array, b.era_array);
        assert_ne!(a.writesets, b.writesets);
    }

    #[test]
    fn generated_metadata_has_the_asked_shape() {
        let md = generate(&params()).unwrap();
        assert_eq!(md.superblock.nr_blocks, 200_000);
        assert_eq!(md.superblock.block_size, 128);
        assert_eq!(md.era_array.len(), 200_000);
        let eras: Vec<u32> = md.writesets.iter().map(|w| w.era.get()).collect();
        assert_eq!(eras, vec![97, 98, 99, 100]);
        assert!(md.era_array.iter().all(|&e| e < 97));
        assert!(md.era_array.contains(&96));
        assert!(md.era_array.contains(&0));
        for ws in &md.writesets {
            assert_eq!(ws.nr_bits, 200_000);
            assert_eq!(ws.bits.len(), 3125);
            let set: u32 = ws.bits.iter().map(|w| w.count_ones()).sum();
            assert!((19_000..21_000).contains(&set), "{set} bits set");
        }
        assert_ne!(md.writesets[0].bits, md.writesets[1].bits);
    }

    #[test]
    fn tail_bits_stay_clear_and_extreme_densities_work() {
        let p = GenerateParams {
            nr_blocks: 100,
            density: 1.0,
            ..params()
        };
        let md = generate(&p).unwrap();
        assert_eq!(md.writesets[0].bits, vec![u64::MAX, (1 << 36) - 1]);
        let md = generate(&GenerateParams { density: 0.0, ..p }).unwrap();
        assert!(md.writesets.iter().all(|w| w.bits.iter().all(|&x| x == 0)));
        let md = generate(&GenerateParams {
            nr_writesets: 0,
            current_era: 0,
            ..p
        })
        .unwrap();
        assert!(md.writesets.is_empty() && md.era_array.iter().all(|&e| e == 0));
    }

    #[test]
    fn bad_parameters_are_refused() {
        for p in [
            GenerateParams {
                density: 1.5,
                ..params()
            },
            GenerateParams {
                nr_writesets: 101,
                ..params()
            },
            GenerateParams {
                block_size: 7,
                ..params()
            },
            GenerateParams {
                nr_blocks: u32::MAX,
                ..params()
            },
        ] {
            assert!(
                matches!(generate(&p), Err(Error::InvalidInput { .. })),
                "{p:?}"
            );
        }
    }
}
