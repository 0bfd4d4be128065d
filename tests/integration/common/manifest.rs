//! The geometry a kernel case's `manifest.txt` records from the run itself: the block
//! size and the table's length in sectors when the run ended.

use super::case_dir;

/// A case's final geometry, as the harness created (or last reloaded) the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Block size in sectors.
    pub block_size: u32,
    /// The table's length in sectors.
    pub sectors: u64,
    pub nr_blocks: u32,
}

/// Reads `case`'s geometry from the last `create` or `reload` line of its manifest.
pub fn geometry(case: &str) -> Geometry {
    let text = std::fs::read_to_string(case_dir(case).join("manifest.txt")).unwrap();
    let line = text
        .lines()
        .rfind(|l| l.starts_with("create ") || l.starts_with("reload "))
        .unwrap_or_else(|| panic!("{case}: no create line in the manifest"));
    let field = |name: &str| -> u64 {
        let key = format!("{name}=");
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(key.as_str()))
            .unwrap_or_else(|| panic!("{case}: no {name} in {line:?}"))
            .parse()
            .unwrap()
    };
    Geometry {
        block_size: field("block_size").try_into().unwrap(),
        sectors: field("sectors"),
        nr_blocks: field("nr_blocks").try_into().unwrap(),
    }
}
