//! `era_emulate serve` driven by qemu-io: random writes (several in flight) across
//! checkpoints sent with `era_emulate message`; after a clean stop (SIGTERM, exit 0)
//! `era_invalidate --written-since N` equals the model of which blocks were written
//! when, the status line counts the eras, and the metadata passes era_check.

use crate::serve_support;

use serve_support::*;
use std::collections::BTreeMap;

const ORIGIN: u64 = 16 << 20;

/// Random writes: (offset, length), both whole sectors, inside the origin.
fn random_writes(rng: &mut fastrand::Rng, n: usize) -> Vec<(u64, u64)> {
    (0..n)
        .map(|_| {
            let len = rng.u64(1..=24) * 512;
            let off = rng.u64(0..(ORIGIN - len) / 512) * 512;
            (off, len)
        })
        .collect()
}

#[test]
fn written_since_matches_the_model_across_checkpoints() {
    if !have("qemu-io") {
        return;
    }
    let img = Images::new(ORIGIN);
    let server = Server::start(&img, &[]);
    let mut rng = fastrand::Rng::with_seed(7);
    let mut model: BTreeMap<u64, u32> = BTreeMap::new();
    // The first resume of formatted metadata starts era 1.
    for era in 1..=4u32 {
        let writes = random_writes(&mut rng, 40);
        let mut cmds: Vec<String> = writes
            .iter()
            .map(|&(off, len)| format!("aio_write -P {} {off} {len}", era + 0x40))
            .collect();
        cmds.push("aio_flush".into());
        let out = qemu_io(&img, &cmds);
        assert_eq!(out.matches("wrote ").count(), writes.len(), "{out}");
        for &(off, len) in &writes {
            for b in off / BLOCK_BYTES..=(off + len - 1) / BLOCK_BYTES {
                model.insert(b, era);
            }
        }
        let status = server.status();
        let fields: Vec<&str> = status.split_whitespace().collect();
        assert_eq!(fields[..4], ["0", &(ORIGIN / 512).to_string(), "era", "8"]);
        assert_eq!(fields[5], era.to_string(), "{status}");
        server.checkpoint();
    }
    server.stop();
    for since in 1..=5u32 {
        let want: Vec<u64> = model
            .iter()
            .filter(|(_, &e)| e >= since)
            .map(|(&b, _)| b)
            .collect();
        assert_eq!(written_since(&img.meta, since, &[]), want, "since {since}");
    }
    check(&img.meta);
}

#[test]
fn rejected_messages_and_a_restart() {
    if !have("qemu-io") {
        return;
    }
    let img = Images::new(1 << 20);
    let server = Server::start(&img, &[]);
    let o = server.message("drop_metadata_snap");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no snap to drop"));
    assert_eq!(server.message("frobnicate").status.code(), Some(1));
    qemu_io(&img, &["write -P 1 0 4096".into()]);
    // SIGINT stops as cleanly as SIGTERM, and removes the sockets.
    assert!(server.signal("INT").success());
    assert!(!img.socket().exists());
    // The images are free again: a second server reopens them (era 2 after the
    // rollover at resume) and sees the data.
    let server = Server::start(&img, &[]);
    assert!(server.status().split_whitespace().nth(5) == Some("2"));
    let out = qemu_io(&img, &["read -P 1 0 4096".into()]);
    assert!(out.contains("read 4096/4096"), "{out}");
    server.stop();
    assert_eq!(written_since(&img.meta, 1, &[]), vec![0]);
    check(&img.meta);
}
