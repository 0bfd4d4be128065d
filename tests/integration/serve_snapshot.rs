//! A metadata snapshot taken while the server runs and writes continue: era_invalidate
//! and era_dump read the snapshot's view from the metadata image (without a lock) while
//! the server holds it; after the drop and a clean stop the later writes are in the
//! later era.

use crate::serve_support;

use serve_support::*;
use std::process::Command;

const ORIGIN: u64 = 16 << 20;

fn blocks_of(writes: &[(u64, u64)]) -> Vec<u64> {
    let mut v: Vec<u64> = writes
        .iter()
        .flat_map(|&(off, len)| off / BLOCK_BYTES..=(off + len - 1) / BLOCK_BYTES)
        .collect();
    v.sort();
    v.dedup();
    v
}

fn io_cmds(writes: &[(u64, u64)], pattern: u8) -> Vec<String> {
    let mut v: Vec<String> = writes
        .iter()
        .map(|&(off, len)| format!("aio_write -P {pattern} {off} {len}"))
        .collect();
    v.push("aio_flush".into());
    v
}

#[test]
fn snapshot_reads_back_its_view_while_writes_continue() {
    if !have("qemu-io") {
        return;
    }
    let img = Images::new(ORIGIN);
    let server = Server::start(&img, &[]);
    let mut rng = fastrand::Rng::with_seed(11);
    let mut writes = |n: usize| -> Vec<(u64, u64)> {
        (0..n)
            .map(|_| (rng.u64(0..ORIGIN / 4096 - 4) * 4096, rng.u64(1..=4) * 4096))
            .collect()
    };
    let a = writes(50);
    qemu_io(&img, &io_cmds(&a, 0x11));
    let o = server.message("take_metadata_snap");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let snap: String = server.status().split_whitespace().nth(6).unwrap().into();
    assert_ne!(snap, "-");
    // Era 2 writes go on in the background while the snapshot is read.
    let b = writes(400);
    let mut bg = Command::new("qemu-io");
    bg.args(["-f", "raw"]);
    for c in io_cmds(&b, 0x22) {
        bg.arg("-c").arg(c);
    }
    let bg = bg
        .arg(img.uri())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let snap_opt = ["--metadata-snapshot"];
    for _ in 0..3 {
        assert_eq!(written_since(&img.meta, 1, &snap_opt), blocks_of(&a));
        let dump = ok(Command::new(env!("CARGO_BIN_EXE_era_dump"))
            .arg("--metadata-snapshot")
            .arg(&img.meta));
        assert!(dump.contains("<superblock"), "{dump}");
        ok(Command::new(env!("CARGO_BIN_EXE_era_check"))
            .arg("--metadata-snapshot")
            .arg(&img.meta));
    }
    let st = bg.wait_with_output().unwrap();
    assert!(st.status.success());
    assert_eq!(written_since(&img.meta, 1, &snap_opt), blocks_of(&a));
    let o = server.message("drop_metadata_snap");
    assert!(o.status.success());
    assert_eq!(server.status().split_whitespace().nth(6), Some("-"));
    server.stop();
    check(&img.meta);
    assert_eq!(written_since(&img.meta, 2, &[]), blocks_of(&b));
}
