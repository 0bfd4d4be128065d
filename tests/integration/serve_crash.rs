//! kill -9 of `era_emulate serve` under load (qemu-io with many writes in flight): the
//! images reopen, and every write qemu-io saw acknowledged is marked and its data is
//! on the origin, exactly as after `crash` in `run`.

use crate::serve_support;

use serve_support::*;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const ORIGIN: u64 = 32 << 20;
const CHUNK: u64 = 64 << 10;

#[test]
fn every_acknowledged_write_survives_kill_9() {
    if !have("qemu-io") {
        return;
    }
    let img = Images::new(ORIGIN);
    let server = Server::start(&img, &[]);
    // Non-overlapping 64 KiB writes in random order, each with its own pattern.
    let mut rng = fastrand::Rng::with_seed(3);
    let mut chunks: Vec<u64> = (0..ORIGIN / CHUNK).collect();
    rng.shuffle(&mut chunks);
    let pattern = |c: u64| (c % 250 + 1) as u8;
    let mut cmd = Command::new("qemu-io");
    cmd.args(["-f", "raw"]);
    for &c in &chunks {
        cmd.arg("-c")
            .arg(format!("aio_write -P {} {} {CHUNK}", pattern(c), c * CHUNK));
    }
    cmd.arg("-c").arg("aio_flush").arg(img.uri());
    let mut client = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = BufReader::new(client.stdout.take().unwrap());
    let mut acked = Vec::new();
    let mut server = Some(server);
    for line in out.lines() {
        let Ok(line) = line else { break };
        // "wrote 65536/65536 bytes at offset 131072"
        if let Some(off) = line
            .strip_prefix("wrote ")
            .and_then(|l| l.split("at offset ").nth(1))
        {
            acked.push(off.trim().parse::<u64>().unwrap());
            if acked.len() == 40 {
                let st = server.take().unwrap().signal("KILL");
                assert!(!st.success());
            }
        }
    }
    let _ = client.wait();
    assert!(
        acked.len() >= 40,
        "too few writes acknowledged: {}",
        acked.len()
    );
    // Marked in the live writeset left by the crash (era 1).
    let marked = written_since(&img.meta, 1, &[]);
    let origin = std::fs::read(&img.origin).unwrap();
    for &off in &acked {
        for b in off / BLOCK_BYTES..(off + CHUNK) / BLOCK_BYTES {
            assert!(marked.binary_search(&b).is_ok(), "block {b} not marked");
        }
        let c = off / CHUNK;
        let data = &origin[off as usize..(off + CHUNK) as usize];
        assert!(data.iter().all(|&x| x == pattern(c)), "data of chunk {c}");
    }
    // The images reopen (recovering the crashed era) and close cleanly.
    reopen(&img);
    check(&img.meta);
    let after = written_since(&img.meta, 1, &[]);
    assert!(marked.iter().all(|b| after.binary_search(b).is_ok()));
}
