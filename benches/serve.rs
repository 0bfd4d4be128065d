//! `era_emulate serve` measured with qemu-img bench (run by hand; needs qemu-utils):
//!
//! `cargo bench --bench serve`
//!
//! 1. Group commit: N 4 KiB writes, each to a block not yet marked in the era (so each
//!    needs a commit with fdatasync), with 1 and then 16 requests in flight; the ratio
//!    of their times is what writes in flight together gain by sharing one commit.
//! 2. Rewrites: the same N writes again (blocks already marked: the fast path), 16 in
//!    flight, against the same writes to a raw `qemu-nbd` export of an image of the same
//!    size (persistent, `-t`).
//!
//! `ERA_BENCH_SERVE_WRITES` sets N (default 4,000); `BENCH_DIR` the folder (default /tmp).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ORIGIN: u64 = 1 << 30;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn wait_for(path: &Path, child: &mut Child) {
    let t = Instant::now();
    while !path.exists() {
        assert!(child.try_wait().unwrap().is_none(), "the server exited");
        assert!(t.elapsed() < Duration::from_secs(30), "no socket");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Seconds `qemu-img bench` takes for `n` 4 KiB writes at `offset`, `depth` in flight.
fn bench(uri: &str, n: u64, depth: u32, offset: u64) -> f64 {
    let t = Instant::now();
    let st = Command::new("qemu-img")
        .args(["bench", "-w", "-f", "raw", "-s", "4k", "-S", "4k"])
        .args(["-c", &n.to_string(), "-d", &depth.to_string()])
        .args(["-o", &offset.to_string()])
        .arg(uri)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    t.elapsed().as_secs_f64()
}

fn main() {
    let n = env("ERA_BENCH_SERVE_WRITES", 4000);
    let dir =
        tempfile::tempdir_in(std::env::var("BENCH_DIR").unwrap_or_else(|_| "/tmp".into())).unwrap();
    let (meta, origin, raw) = (
        dir.path().join("meta.img"),
        dir.path().join("origin.img"),
        dir.path().join("raw.img"),
    );
    std::fs::File::create(&meta)
        .unwrap()
        .set_len(64 << 20)
        .unwrap();
    for p in [&origin, &raw] {
        std::fs::File::create(p).unwrap().set_len(ORIGIN).unwrap();
    }
    let socket = dir.path().join("era.sock");
    let mut server = Command::new(env!("CARGO_BIN_EXE_era_emulate"))
        .arg("serve")
        .arg("--meta")
        .arg(&meta)
        .arg("--origin")
        .arg(&origin)
        .args(["--block-size", "8", "--socket"])
        .arg(&socket)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&socket, &mut server);
    let uri = format!("nbd+unix:///?socket={}", socket.display());
    let region = n * 4096;
    let t1 = bench(&uri, n, 1, 0);
    let t16 = bench(&uri, n, 16, region);
    println!(
        "first writes, one commit each at 1 in flight: {:.0} writes/s; 16 in flight: {:.0} writes/s; group commit gain {:.1}x",
        n as f64 / t1,
        n as f64 / t16,
        t1 / t16
    );
    let era = bench(&uri, n, 16, region);
    let _ = Command::new("kill").arg(server.id().to_string()).status();
    let _ = server.wait();

    let raw_sock = dir.path().join("raw.sock");
    let mut qemu_nbd = Command::new("qemu-nbd")
        .args(["-t", "-f", "raw", "-k"])
        .arg(&raw_sock)
        .arg(&raw)
        .spawn()
        .unwrap();
    wait_for(&raw_sock, &mut qemu_nbd);
    let raw_uri = format!("nbd+unix:///?socket={}", raw_sock.display());
    bench(&raw_uri, n, 16, region);
    let plain = bench(&raw_uri, n, 16, region);
    let _ = qemu_nbd.kill();
    let _ = qemu_nbd.wait();
    println!(
        "rewrites at 16 in flight: era_emulate serve {:.0} writes/s, qemu-nbd {:.0} writes/s: {:.2}x",
        n as f64 / era,
        n as f64 / plain,
        plain / era
    );
}
