//! Writes the initial corpus of every fuzz target from `testdata/`:
//! `make_seeds OUTDIR` fills `OUTDIR/<target>/`.
//!
//! - `read_metadata`, `check`, `emulate_open`: every seed image undamaged, with each
//!   target flag, and with no-op patches (the bytes already there) on the superblock
//!   and on a few structure blocks, so that mutations start from the patch layout;
//! - `repair`: the same for its first images, and its damaged images (`REPAIR_IMAGES`)
//!   as they are, with a data block size, and with no-op patches on the superblock;
//! - `xml_read`: the metadata of the small kernel images, cut to 64 and 300 blocks and 8 writesets,
//!   dumped in both XML styles, plain and logical;
//! - `restore`: the same metadata in the `restore` target's binary form;
//! - `emulate_script`: the kernel workloads translated into emulator scripts;
//! - `nbd`: the handshakes NBD clients make, each followed by every request kind.
//! - `delta`: delta streams as `era_copy --dest-delta` writes them (empty, extents of
//!   several sizes, a failed range).

use era_fuzz::restore::{encode_metadata, shrink};
use era_fuzz::script::{translate_workload, ORIGIN_BYTES};
use era_fuzz::{encode_patch, images, repair_images, testdata, IMAGES};
use era_tools::era::ir::EraMetadata;
use era_tools::era::metadata::{open_view, read_metadata, Source};
use era_tools::io::MemIo;
use era_tools::xml::{XmlStyle, XmlWriter};
use std::fs;
use std::path::{Path, PathBuf};

// Built with the targets' coverage flags, this program links libFuzzer's runtime (for the
// coverage callbacks), which wants a fuzz entry point; libFuzzer's own `main` is not
// linked, this program has one.
use libfuzzer_sys as _;

/// Never called: this program does not fuzz.
#[no_mangle]
#[allow(improper_ctypes_definitions)]
pub extern "C" fn rust_fuzzer_test_input(_input: &[u8]) -> i32 {
    0
}

fn write(dir: &Path, name: String, data: &[u8]) {
    fs::write(dir.join(name), data).unwrap_or_else(|e| panic!("writing the seed: {e}"));
}

fn dir(out: &Path, target: &str) -> PathBuf {
    let d = out.join(target);
    fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
    d
}

fn xml(md: &EraMetadata, style: XmlStyle) -> Vec<u8> {
    let mut w = XmlWriter::new(Vec::new(), style);
    md.visit(&mut w).expect("formatting XML in memory");
    w.into_inner().expect("formatting XML in memory")
}

fn damage_seeds(out: &Path) {
    // The salvage target's images begin with these, at the same indices.
    let targets = ["read_metadata", "check", "emulate_open", "repair"];
    let dirs: Vec<PathBuf> = targets.iter().map(|t| dir(out, t)).collect();
    for (i, img) in images().iter().enumerate() {
        let block = |b: u64| &img.bytes[b as usize * 4096..(b as usize + 1) * 4096];
        let mut seeds: Vec<Vec<u8>> = Vec::new();
        for flags in [0u8, 0x10, 0x20 | 0x40] {
            seeds.push(vec![i as u8, flags]);
        }
        // Superblock fields (format.md §3): sm root, nr_blocks .. metadata_snap.
        let mut s = vec![i as u8, 0];
        encode_patch(&mut s, 0, 48, 0, &block(0)[48..48 + 128]);
        encode_patch(&mut s, 0, 176, 0, &block(0)[176..176 + 64]);
        seeds.push(s);
        // Headers of structure blocks spread over the image.
        let used = img.used_end.max(1);
        let mut s = vec![i as u8, 0];
        for b in [1, used / 4, used / 2, 3 * used / 4, used - 1] {
            encode_patch(&mut s, b as u16, 4, 0, &block(b)[4..36]);
        }
        seeds.push(s);
        for (k, s) in seeds.iter().enumerate() {
            for d in &dirs {
                write(d, format!("img{i:02}-{k}"), s);
            }
        }
    }
}

/// The salvage target's own images, damaged already: each as it is, with a data block
/// size given, and with no-op patches on the superblock.
fn repair_seeds(out: &Path) {
    let d = dir(out, "repair");
    let imgs = repair_images();
    for (i, img) in imgs.iter().enumerate().skip(images().len()) {
        let block0 = &img.bytes[..4096];
        let mut patched = vec![i as u8, 0];
        encode_patch(&mut patched, 0, 48, 0, &block0[48..48 + 128]);
        encode_patch(&mut patched, 0, 176, 0, &block0[176..176 + 64]);
        for (k, s) in [vec![i as u8, 0], vec![i as u8, 0x10 | 1 << 5], patched]
            .iter()
            .enumerate()
        {
            write(&d, format!("img{i:02}-{k}"), s);
        }
    }
}

fn metadata_seeds(out: &Path) {
    let xml_dir = dir(out, "xml_read");
    let restore_dir = dir(out, "restore");
    for (i, img) in images().iter().enumerate() {
        if img.bytes.len() > 4 << 20 {
            continue;
        }
        let io = MemIo::from_bytes(img.bytes.clone());
        for source in [Source::Live, Source::Snapshot] {
            let Ok(view) = open_view(&io, source) else {
                continue;
            };
            let md = read_metadata(&io, &view)
                .unwrap_or_else(|e| panic!("seed image {}: {e}", IMAGES[i]));
            let tag = if source == Source::Live {
                "live"
            } else {
                "snap"
            };
            for n in [64, 300] {
                let mut small = shrink(&md, n);
                small.writesets.truncate(8);
                let name = format!("img{i:02}-{tag}-{n}");
                write(&restore_dir, name.clone(), &encode_metadata(&small));
                write(
                    &xml_dir,
                    format!("{name}.xml"),
                    &xml(&small, XmlStyle::Verbose),
                );
                write(
                    &xml_dir,
                    format!("{name}-c.xml"),
                    &xml(&small, XmlStyle::Compact),
                );
                write(
                    &xml_dir,
                    format!("{name}-l.xml"),
                    &xml(&small.logical(), XmlStyle::Compact),
                );
            }
        }
    }
}

fn script_seeds(out: &Path) {
    let d = dir(out, "emulate_script");
    let nr_blocks = (ORIGIN_BYTES / 4096) as u64;
    let kernel = testdata().join("kernel");
    let mut cases: Vec<PathBuf> = fs::read_dir(&kernel)
        .unwrap_or_else(|e| panic!("{}: {e}", kernel.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("workload.sh").exists())
        .collect();
    cases.sort();
    for case in cases {
        let workload = fs::read_to_string(case.join("workload.sh"))
            .unwrap_or_else(|e| panic!("{}: {e}", case.display()));
        let name = case
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into());
        write(
            &d,
            name,
            translate_workload(&workload, nr_blocks).as_bytes(),
        );
    }
    let extra = "open\nwrite 0 8 0x10\nread 0 8\ndiscard 8 16\nflush\nstatus\ntable\n\
                 suspend\nresume\nmessage checkpoint\nreload 4096\nclose\nopen 2048\ncrash\n";
    write(&d, "every_command".into(), extra.as_bytes());
}

fn main() {
    let Some(out) = std::env::args_os().nth(1) else {
        eprintln!("usage: make_seeds OUTDIR");
        std::process::exit(2);
    };
    let out = PathBuf::from(out);
    damage_seeds(&out);
    repair_seeds(&out);
    metadata_seeds(&out);
    script_seeds(&out);
    let nbd = dir(&out, "nbd");
    for (name, bytes) in era_fuzz::nbd::seeds() {
        write(&nbd, name, &bytes);
    }
    delta_seeds(&out);
}

fn delta_seeds(out: &Path) {
    use era_tools::commands::copy::delta::{DeltaHeader, DeltaWriter};
    let d = dir(out, "delta");
    let header = DeltaHeader {
        block_size: 8,
        source_length: 1 << 20,
        since: 3,
        until: 5,
    };
    let shapes: [&[(u64, usize)]; 3] = [
        &[],
        &[(0, 4096)],
        &[(4096, 100), (65536, 8192), (1 << 19, 1)],
    ];
    for (i, extents) in shapes.iter().enumerate() {
        let mut w = DeltaWriter::new(Vec::new(), &header).expect("writing to memory");
        for (k, &(off, len)) in extents.iter().enumerate() {
            w.extent(off, &vec![k as u8 + 1; len])
                .expect("writing to memory");
        }
        if i == 2 {
            w.failed(8192, 4096).expect("writing to memory");
        }
        write(
            &d,
            format!("stream-{i}"),
            &w.finish().expect("writing to memory"),
        );
    }
}
