//! Blocks written since an era: every block whose folded era is at least the threshold
//! (the live current writeset included).

use super::ir::EraMetadata;

/// Maximal runs `[begin, end)` of blocks whose logical era is `>= since`.
pub fn written_since(md: EraMetadata, since: u32) -> Vec<(u32, u32)> {
    runs_at_least(&md.into_folded_eras(), since)
}

/// Maximal runs `[begin, end)` of indices whose value is `>= since`.
pub fn runs_at_least(eras: &[u32], since: u32) -> Vec<(u32, u32)> {
    let mut runs = Vec::new();
    let mut start: Option<usize> = None;
    for (b, &e) in eras.iter().enumerate() {
        match (e >= since, start) {
            (true, None) => start = Some(b),
            (false, Some(s)) => {
                runs.push((s as u32, b as u32));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        runs.push((s as u32, eras.len() as u32));
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_cover_exactly_the_blocks_at_or_above() {
        let eras = [0, 3, 4, 1, 5, 5, 2, 9];
        assert_eq!(runs_at_least(&eras, 3), vec![(1, 3), (4, 6), (7, 8)]);
        assert_eq!(runs_at_least(&eras, 0), vec![(0, 8)]);
        assert_eq!(runs_at_least(&eras, 10), vec![]);
    }
}
