//! The salvage (`era_repair` and `era_dump --repair`: `era::repair::salvage`) over damaged
//! images, then what each tool does with it: the XML writer, and `write_metadata` onto a
//! device of `blocks_needed` blocks. The salvage must end in metadata or an error, never
//! a panic or a hang; the metadata it returns must be valid, dump, and restore to an
//! image that passes the checker and reads back the same (`restore_round_trip`).
//!
//! Input: the damage format of `era_fuzz` over `repair_images()` (the kernel and derived
//! seeds, then the outside testers' damaged images); flag bit 4: give a data block size
//! of `8 × (flags >> 5)` sectors (0 included, which must be refused), as
//! `--data-block-size` does.
#![no_main]

use era_fuzz::restore::restore_round_trip;
use era_fuzz::{damaged_among, repair_images};
use era_tools::era::repair::{salvage, RepairOptions};
use era_tools::era::restore::validate;
use era_tools::xml::{XmlStyle, XmlWriter};
use libfuzzer_sys::fuzz_target;

/// Origin blocks of the largest salvage dumped as XML.
const MAX_DUMP_BLOCKS: u32 = 1 << 16;

fuzz_target!(|data: &[u8]| {
    let Some(d) = damaged_among(repair_images(), data) else {
        return;
    };
    let opts = RepairOptions {
        data_block_size: (d.flags & 0x10 != 0).then(|| 8 * u32::from(d.flags >> 5)),
        // The rescue option for an unreadable size: a structure that describes more
        // blocks must still win over it.
        nr_blocks: (d.flags & 0x10 != 0).then(|| 1 << u32::from(d.flags >> 5)),
    };
    let Ok(repaired) = salvage(&d.io, &opts) else {
        return;
    };
    let md = &repaired
        .metadata(&d.io)
        .expect("the salvaged blocks read again as the salvage read them");
    if let Err(e) = validate(md) {
        panic!("the salvage returned invalid metadata: {e}");
    }
    // A dump costs a line per block: of the small ones only, as restore_round_trip.
    if md.superblock.nr_blocks <= MAX_DUMP_BLOCKS {
        let mut w = XmlWriter::new(std::io::sink(), XmlStyle::Compact);
        md.visit(&mut w).expect("dumping to a sink");
    }
    restore_round_trip(md);
});
