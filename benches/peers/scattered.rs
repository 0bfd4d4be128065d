//! The scattered floor `benches/copy.sh` measures era_copy against: the least a copy of
//! the changed ranges can do. One thread, one `pread` and one `pwrite` per range of a
//! list (`era_invalidate --format ranges --unit bytes`: `BEGIN END` per line), then one
//! `fdatasync`; no metadata, no threads, no checks. Where era_copy comes close to it,
//! the rest of the gap to one sequential `dd` is the scattered I/O's own cost.
//!
//! cargo build --release --example scattered
//! scattered SRC DST RANGES

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::FileExt;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(src), Some(dst), Some(ranges)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("usage: scattered SRC DST RANGES");
        std::process::exit(2);
    };
    let src = File::open(src)?;
    let dst = OpenOptions::new().write(true).open(dst)?;
    let mut buf = vec![0u8; 1 << 20];
    for line in BufReader::new(File::open(ranges)?).lines() {
        let line = line?;
        let mut words = line.split_whitespace().map(|w| w.parse::<u64>());
        let (Some(Ok(begin)), Some(Ok(end))) = (words.next(), words.next()) else {
            eprintln!("scattered: not a range: {line}");
            std::process::exit(2);
        };
        let mut at = begin;
        while at < end {
            let n = usize::try_from(end - at).map_or(buf.len(), |n| n.min(buf.len()));
            src.read_exact_at(&mut buf[..n], at)?;
            dst.write_all_at(&buf[..n], at)?;
            at += n as u64;
        }
    }
    dst.sync_data()
}
