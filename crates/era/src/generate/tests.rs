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
