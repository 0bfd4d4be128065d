use super::*;

#[test]
fn max_entries_match_spec() {
    assert_eq!(array_max_entries(4), 1018);
    assert_eq!(array_max_entries(8), 509);
}

#[test]
fn shapes_match_spec_vectors() {
    assert_eq!(nr_array_blocks(0, 4), 0);
    assert_eq!(nr_array_blocks(1018, 4), 1);
    assert_eq!(nr_array_blocks(1019, 4), 2);
    assert_eq!(nr_array_blocks(16_384_000, 4), 16095);
    assert_eq!(nr_array_blocks(2_147_483_647, 4), 2_109_513);
    assert_eq!(nr_array_blocks(33_554_432, 8), 65923);
}

#[test]
fn runs_split_on_gaps_and_length() {
    assert_eq!(
        consecutive_runs(
            &[
                MetaBlock::new(5),
                MetaBlock::new(6),
                MetaBlock::new(7),
                MetaBlock::new(9),
                MetaBlock::new(10),
                MetaBlock::new(3)
            ],
            2
        ),
        vec![(0, 2), (2, 1), (3, 2), (5, 1)]
    );
}

#[test]
fn runs_of_pointers_at_the_top_of_u64_do_not_overflow() {
    // Damaged array blocks pointers (fuzz/regressions/read_metadata/).
    assert_eq!(
        consecutive_runs(
            &[
                MetaBlock::new(u64::MAX - 1),
                MetaBlock::new(u64::MAX),
                MetaBlock::new(0),
                MetaBlock::new(1)
            ],
            256
        ),
        vec![(0, 2), (2, 2)]
    );
}
