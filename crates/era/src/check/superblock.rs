//! Checks of the era superblock and of the metadata-snapshot copy (format.md §3, §10.4
//! items 1–3): what the kernel verifies on open, and the ranges of every field.

use crate::interrupted::{is_interrupted_marker, INTERRUPTED_MESSAGE};
use crate::pdata::check::Checker;
use crate::pdata::checksum::{self, BlockKind};
use crate::pdata::codec::get_u32;
use crate::pdata::space_map::MAX_METADATA_BLOCKS;
use crate::superblock::{Superblock, MAGIC, SUPERBLOCK_LOCATION, VERSION};
use crate::superblock::{NEVER_FORMATTED, NOT_ERA};
use crate::units::{origin_blocks_ok, MetaBlock, BLOCK_SECTORS};

/// Reads the superblock (or snapshot copy) at `location` and checks what the kernel
/// checks on open: not blank (nor the mark of an interrupted restore), magic, checksum, self-reference, version. Returns it unless
/// it is blank, unreadable or not era metadata at all; a bad checksum, blocknr or version
/// is reported and the fields are still used, so that the rest can be checked.
pub fn read_superblock(ck: &mut Checker, location: MetaBlock, what: &str) -> Option<Superblock> {
    let data = ck.read_raw(location, what)?;
    if location == SUPERBLOCK_LOCATION && is_interrupted_marker(&data) {
        ck.error(location, format!("{what}: {INTERRUPTED_MESSAGE}"));
        return None;
    }
    if data.iter().all(|&b| b == 0) {
        let why = if location.is_zero() {
            format!(": {NEVER_FORMATTED}")
        } else {
            String::new()
        };
        ck.error(location, format!("{what}: all zeros{why}"));
        return None;
    }
    let sb = Superblock::decode(&data);
    if sb.magic != MAGIC {
        ck.error(
            location,
            format!(
                "{what}: bad magic {:#x} (expected {MAGIC:#x}): {NOT_ERA}",
                sb.magic
            ),
        );
        return None;
    }
    let stored = get_u32(&data[..], 0);
    let computed = checksum::compute(&data, BlockKind::Superblock);
    if stored != computed {
        ck.error(
            location,
            format!("{what}: bad checksum (stored {stored:#010x}, computed {computed:#010x})"),
        );
    }
    if sb.blocknr != location {
        ck.error(
            location,
            format!("{what}: blocknr field says {}", sb.blocknr),
        );
    }
    if sb.version != VERSION {
        ck.error(
            location,
            format!(
                "{what}: unsupported metadata version {} (only {VERSION} exists)",
                sb.version
            ),
        );
    }
    Some(sb)
}

/// Checks a pointer field of the superblock at `location`: non-zero unless `optional`,
/// and inside both the space map and the device.
fn check_pointer(
    ck: &mut Checker,
    location: MetaBlock,
    what: &str,
    field: &str,
    value: MetaBlock,
    optional: bool,
    space_map_blocks: u64,
) {
    let device = ck.device_blocks();
    if value.is_zero() {
        if !optional {
            ck.error(
                location,
                format!("{what}: {field} is 0, but it must point to a block"),
            );
        }
    } else if !value.is_below(device) {
        ck.error(
            location,
            format!("{what}: {field} {value} lies beyond the end of the device ({device} blocks)"),
        );
    } else if !value.is_below(space_map_blocks) {
        ck.error(
            location,
            format!(
                "{what}: {field} {value} lies beyond the space map's {space_map_blocks} blocks"
            ),
        );
    }
}

/// Checks the fields of the live superblock at block 0.
pub fn check_live_fields(ck: &mut Checker, sb: &Superblock) {
    const WHAT: &str = "superblock";
    let loc = SUPERBLOCK_LOCATION;
    let device = ck.device_blocks();
    if sb.data_block_size == 0 || !sb.data_block_size.is_multiple_of(BLOCK_SECTORS) {
        ck.error(
            loc,
            format!(
                "{WHAT}: data_block_size {} sectors is not a positive multiple of {BLOCK_SECTORS}",
                sb.data_block_size
            ),
        );
    }
    // Neither the kernel nor the reference tools read this field (format.md §3.1).
    if sb.metadata_block_size != BLOCK_SECTORS {
        ck.warning(
            loc,
            format!(
                "{WHAT}: metadata_block_size {} sectors, expected {BLOCK_SECTORS} (the field is not used)",
                sb.metadata_block_size
            ),
        );
    }
    if !origin_blocks_ok(sb.nr_blocks) {
        ck.error(
            loc,
            format!(
                "{WHAT}: nr_blocks {} is not below 2^31 origin blocks",
                sb.nr_blocks
            ),
        );
    }
    let cw = sb.current_writeset;
    if !cw.root.is_zero() && !origin_blocks_ok(cw.nr_bits) {
        ck.error(
            loc,
            format!(
                "{WHAT}: current writeset has nr_bits {}, not below 2^31",
                cw.nr_bits
            ),
        );
    }
    let sm = &sb.sm_root;
    if sm.nr_blocks == 0 {
        ck.error(loc, format!("{WHAT}: the space map manages 0 blocks"));
    }
    if sm.nr_blocks > device {
        ck.error(
            loc,
            format!(
                "{WHAT}: the space map manages {} blocks, more than the device's {device}",
                sm.nr_blocks
            ),
        );
    }
    if sm.nr_blocks > MAX_METADATA_BLOCKS {
        ck.error(
            loc,
            format!(
                "{WHAT}: the space map manages {} blocks, more than the {MAX_METADATA_BLOCKS} one index can describe",
                sm.nr_blocks
            ),
        );
    }
    if sm.nr_allocated > sm.nr_blocks {
        ck.error(
            loc,
            format!(
                "{WHAT}: space map nr_allocated {} exceeds its nr_blocks {}",
                sm.nr_allocated, sm.nr_blocks
            ),
        );
    }
    // (field, value, may it be 0?)
    let pointers = [
        ("space-map index root", sm.bitmap_root, false),
        ("ref-count tree root", sm.ref_count_root, false),
        ("writeset_tree_root", sb.writeset_tree_root, false),
        ("era_array_root", sb.era_array_root, false),
        ("current writeset root", cw.root, true),
        ("metadata_snap", sb.metadata_snap, true),
    ];
    for (field, value, optional) in pointers {
        check_pointer(ck, loc, WHAT, field, value, optional, sm.nr_blocks);
    }
}

/// Checks the fields of the snapshot copy that the snapshot holds (format.md §3.2): only
/// its two roots and the size of its era array mean anything.
pub fn check_snapshot_fields(
    ck: &mut Checker,
    snap: &Superblock,
    location: MetaBlock,
    space_map_blocks: u64,
) {
    let what = "metadata snapshot";
    check_pointer(
        ck,
        location,
        what,
        "writeset_tree_root",
        snap.writeset_tree_root,
        false,
        space_map_blocks,
    );
    check_pointer(
        ck,
        location,
        what,
        "era_array_root",
        snap.era_array_root,
        false,
        space_map_blocks,
    );
    if !origin_blocks_ok(snap.nr_blocks) {
        ck.error(
            location,
            format!(
                "{what}: nr_blocks {} is not below 2^31 origin blocks",
                snap.nr_blocks
            ),
        );
    }
    if !snap.metadata_snap.is_zero() {
        ck.warning(
            location,
            format!(
                "{what}: its own metadata_snap is {}, expected 0 (ignored)",
                snap.metadata_snap
            ),
        );
    }
}
