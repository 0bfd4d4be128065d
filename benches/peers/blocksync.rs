//! A full-scan checksum sync, the peer `benches/copy.sh` measures era_copy against:
//! what blocksync-fast does on one machine. Reads the source and the destination whole,
//! a megabyte at a time, compares each block's crc32c, writes the blocks that differ
//! (adjacent ones in one write) and makes the destination durable.
//!
//! cargo build --release --example blocksync
//! blocksync SRC DST [BLOCK_BYTES]       # default 4096; DST as long as SRC

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::FileExt;

const CHUNK: usize = 1 << 20;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(src), Some(dst)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: blocksync SRC DST [BLOCK_BYTES]");
        std::process::exit(2);
    };
    let block: usize = args.get(3).and_then(|b| b.parse().ok()).unwrap_or(4096);
    let mut src = File::open(src)?;
    let dst = OpenOptions::new().read(true).write(true).open(dst)?;
    let (mut a, mut b) = (vec![0u8; CHUNK], vec![0u8; CHUNK]);
    let (mut at, mut written) = (0u64, 0u64);
    loop {
        let n = read_full(&mut src, &mut a)?;
        if n == 0 {
            break;
        }
        dst.read_exact_at(&mut b[..n], at)?;
        // Differing blocks, adjacent ones merged: (first byte, end) within the chunk.
        let mut run: Option<(usize, usize)> = None;
        for i in (0..n).step_by(block) {
            let e = (i + block).min(n);
            if crc32c::crc32c(&a[i..e]) == crc32c::crc32c(&b[i..e]) {
                continue;
            }
            match &mut run {
                Some((_, end)) if *end == i => *end = e,
                _ => {
                    flush(&dst, &a, at, run.take(), &mut written)?;
                    run = Some((i, e));
                }
            }
        }
        flush(&dst, &a, at, run, &mut written)?;
        at += n as u64;
    }
    dst.sync_data()?;
    eprintln!("blocksync: scanned {at} bytes, wrote {written}");
    Ok(())
}

fn flush(
    dst: &File,
    a: &[u8],
    at: u64,
    run: Option<(usize, usize)>,
    written: &mut u64,
) -> std::io::Result<()> {
    if let Some((b, e)) = run {
        dst.write_all_at(&a[b..e], at + b as u64)?;
        *written += (e - b) as u64;
    }
    Ok(())
}

fn read_full(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}
