//! `era_emulate serve` with clients no one here wrote: nbdinfo sees the export as
//! advertised, qemu-img and nbdcopy copy a disk image in and out bit-exact, TRIM and
//! WRITE_ZEROES mark every block they touch (TRIM as the kernel does with
//! `--discard kernel`, not at all with `--discard ignore`), TCP serves the same export,
//! and several qemu-io processes connected at once mark exactly the union of their
//! writes.

use crate::serve_support;

use serve_support::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ORIGIN: u64 = 8 << 20;

fn random_image(path: &std::path::Path, len: usize, seed: u64) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut data = vec![0u8; len];
    rng.fill(&mut data);
    // Some zero stretches, which copying tools skip or send as WRITE_ZEROES.
    for i in (0..len).step_by(1 << 20) {
        data[i..i + (256 << 10)].fill(0);
    }
    std::fs::write(path, &data).unwrap();
    data
}

#[test]
fn nbdinfo_sees_the_export() {
    if !have("nbdinfo") {
        return;
    }
    let img = Images::new(ORIGIN);
    let server = Server::start(&img, &["--length", "8192"]);
    let out = ok(Command::new("nbdinfo").arg(img.uri()));
    server.stop();
    for want in [
        "export-size: 4194304",
        "can_flush: true",
        "can_fua: true",
        "can_trim: true",
        "can_zero: true",
        "can_multi_conn: true",
        "is_read_only: false",
        "block_size_minimum: 512",
    ] {
        assert!(out.contains(want), "{want} missing from:\n{out}");
    }
}

#[test]
fn qemu_img_and_nbdcopy_copy_in_and_out_bit_exact() {
    if !have_all(&["qemu-img", "nbdcopy"]) {
        return;
    }
    let img = Images::new(ORIGIN);
    let src = img.path("src.img");
    let data = random_image(&src, ORIGIN as usize, 1);
    let server = Server::start(&img, &[]);
    ok(Command::new("qemu-img")
        .args(["convert", "-n", "-f", "raw", "-O", "raw"])
        .arg(&src)
        .arg(img.uri()));
    let back = img.path("back.img");
    ok(Command::new("nbdcopy").arg(img.uri()).arg(&back));
    assert!(
        std::fs::read(&back).unwrap() == data,
        "qemu-img convert in, nbdcopy out"
    );
    ok(Command::new("qemu-img")
        .args(["compare", "-f", "raw", "-F", "raw"])
        .arg(&src)
        .arg(img.uri()));
    // nbdcopy in (several requests and connections at once) with other data.
    let src2 = img.path("src2.img");
    let data2 = random_image(&src2, ORIGIN as usize, 2);
    server.checkpoint();
    ok(Command::new("nbdcopy")
        .args(["--connections=4", "--requests=16"])
        .arg(&src2)
        .arg(img.uri()));
    ok(Command::new("nbdcopy").arg(img.uri()).arg(&back));
    assert!(std::fs::read(&back).unwrap() == data2, "nbdcopy in and out");
    server.stop();
    assert!(std::fs::read(&img.origin).unwrap() == data2);
    check(&img.meta);
    // The second copy wrote in era 2: every block that differs from zero at least.
    let since2 = written_since(&img.meta, 2, &[]);
    for (b, chunk) in data2.chunks(BLOCK_BYTES as usize).enumerate() {
        if chunk.iter().any(|&x| x != 0) {
            assert!(since2.binary_search(&(b as u64)).is_ok(), "block {b}");
        }
    }
}

#[test]
fn trim_and_write_zeroes_mark_every_block_they_touch() {
    if !have("qemu-io") {
        return;
    }
    let img = Images::new(ORIGIN);
    let server = Server::start(&img, &[]);
    qemu_io(&img, &["write -P 7 0 1M".into()]);
    server.checkpoint();
    // Era 2: a discard of 64 KiB at block 16 marks blocks 16..32; a write of zeros over
    // blocks 100..104 marks all four.
    qemu_io(
        &img,
        &[
            "discard 64k 64k".into(),
            "write -z 400k 16k".into(),
            "read -P 0 400k 16k".into(),
            "read -P 7 0 64k".into(),
        ],
    );
    server.stop();
    let mut want: Vec<u64> = (16..32).collect();
    want.extend(100..104);
    assert_eq!(written_since(&img.meta, 2, &[]), want);
    check(&img.meta);
}

/// What `discard 1M 4M` through `serve --discard MODE` leaves, after era 1 wrote the
/// whole origin: the blocks listed since era 2, the origin before and after.
fn discard_through_serve(mode: Option<&str>) -> (Vec<u64>, Vec<u8>, Vec<u8>) {
    let img = Images::new(ORIGIN);
    let extra: Vec<&str> = mode.map(|m| vec!["--discard", m]).unwrap_or_default();
    let server = Server::start(&img, &extra);
    qemu_io(&img, &["write -P 7 0 8M".into()]);
    let base = std::fs::read(&img.origin).unwrap();
    server.checkpoint();
    qemu_io(&img, &["discard 1M 4M".into()]);
    server.stop();
    check(&img.meta);
    let listed = written_since(&img.meta, 2, &[]);
    (listed, base, std::fs::read(&img.origin).unwrap())
}

/// The incremental backup: `base` with the `listed` blocks copied from `origin`.
fn incremental(base: &[u8], origin: &[u8], listed: &[u64]) -> Vec<u8> {
    let mut backup = base.to_vec();
    for &b in listed {
        let r = (b * BLOCK_BYTES) as usize..((b + 1) * BLOCK_BYTES) as usize;
        backup[r.clone()].copy_from_slice(&origin[r]);
    }
    backup
}

#[test]
fn discard_modes_and_the_incremental_backup() {
    if !have("qemu-io") {
        return;
    }
    let range = (1 << 20) / BLOCK_BYTES..(5 << 20) / BLOCK_BYTES;
    // mark (the default): every block of the range is listed, so the incremental backup
    // equals the origin, whose range now reads as zeros.
    let (listed, base, origin) = discard_through_serve(None);
    assert_eq!(listed, range.clone().collect::<Vec<_>>());
    assert!(origin[1 << 20..5 << 20].iter().all(|&b| b == 0));
    assert!(incremental(&base, &origin, &listed) == origin);
    assert_eq!(discard_through_serve(Some("mark")).0, listed);
    // kernel: only the first block is listed, as the kernel's target marks it; the
    // backup misses the rest of the range.
    let (listed, base, origin) = discard_through_serve(Some("kernel"));
    assert_eq!(listed, vec![range.start]);
    assert!(incremental(&base, &origin, &listed) != origin);
    // ignore: TRIM is not offered; nothing is discarded or listed.
    let (listed, base, origin) = discard_through_serve(Some("ignore"));
    assert_eq!(listed, Vec::<u64>::new());
    assert!(origin == base);
}

#[test]
fn tcp_serves_the_same_export() {
    if !have("qemu-io") {
        return;
    }
    let img = Images::new(ORIGIN);
    let port = 20000 + (std::process::id() % 20000) as u16;
    let server = Server::start(&img, &["--listen", &port.to_string()]);
    let uri = format!("nbd://127.0.0.1:{port}");
    ok(Command::new("qemu-io")
        .args(["-f", "raw", "-c", "write -P 9 8k 8k"])
        .arg(&uri));
    let out = qemu_io(&img, &["read -P 9 8k 8k".into()]);
    assert!(out.contains("read 8192/8192"), "{out}");
    server.stop();
    assert_eq!(written_since(&img.meta, 1, &[]), vec![2, 3]);
}

/// The server's accepted connections on its NBD socket: the lines of /proc/net/unix
/// naming the socket in the connected state (the listening socket is unconnected).
fn connections(socket: &std::path::Path) -> usize {
    let path = socket.to_str().unwrap();
    std::fs::read_to_string("/proc/net/unix")
        .unwrap()
        .lines()
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() == 8 && f[7] == path && f[5] == "03"
        })
        .count()
}

#[test]
fn simultaneous_qemu_io_clients_mark_the_union_of_their_writes() {
    if !have("qemu-io") {
        return;
    }
    const CLIENTS: u64 = 4;
    let img = Images::new(ORIGIN);
    let nr_blocks = ORIGIN / BLOCK_BYTES;
    let server = Server::start(&img, &[]);
    // Era 1: some blocks the clients overwrite later, some they do not touch.
    qemu_io(
        &img,
        &["write -P 200 0 64k".into(), "write -P 201 4M 4k".into()],
    );
    server.checkpoint();
    // Era 2: each client owns the blocks b with b % CLIENTS == k among a random third of
    // the device, writes them with aio_write (many in flight), each block with its own
    // pattern, and reads them back. Each client first sleeps 3 s after connecting, so that all of
    // them are connected together before any writes.
    let mut rng = fastrand::Rng::with_seed(8);
    let mut mine: Vec<Vec<u64>> = vec![Vec::new(); CLIENTS as usize];
    for b in 0..nr_blocks {
        if rng.u8(..3) == 0 {
            mine[(b % CLIENTS) as usize].push(b);
        }
    }
    let pattern = |b: u64| (b % 199 + 1) as u8;
    // The first client's connection is closed on the server's side as well (not kept
    // open until another client connects).
    let t = Instant::now();
    while connections(&img.socket()) > 0 {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "the server keeps a finished connection open"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut children = Vec::new();
    for blocks in &mine {
        let mut c = Command::new("qemu-io");
        c.args(["-f", "raw", "-c", "sleep 3000"]);
        for &b in blocks {
            c.arg("-c").arg(format!(
                "aio_write -P {} {} {BLOCK_BYTES}",
                pattern(b),
                b * BLOCK_BYTES
            ));
        }
        c.arg("-c").arg("aio_flush");
        for &b in blocks {
            c.arg("-c").arg(format!(
                "read -P {} {} {BLOCK_BYTES}",
                pattern(b),
                b * BLOCK_BYTES
            ));
        }
        c.arg(img.uri())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        children.push(c.spawn().unwrap());
    }
    // All of them are connected at one moment.
    let t = Instant::now();
    let mut most = 0;
    while most < CLIENTS as usize && t.elapsed() < Duration::from_secs(20) {
        most = most.max(connections(&img.socket()));
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        most >= CLIENTS as usize,
        "never all clients connected at once: at most {most}"
    );
    for (k, child) in children.into_iter().enumerate() {
        let o = child.wait_with_output().unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success() && !out.contains("failed") && !out.contains("Pattern verification"),
            "client {k}: {}\n{out}\n{}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(
            out.matches("wrote ").count(),
            mine[k].len(),
            "client {k}: writes acknowledged"
        );
    }
    server.stop();
    check(&img.meta);
    let mut union: Vec<u64> = mine.concat();
    union.sort_unstable();
    assert_eq!(written_since(&img.meta, 2, &[]), union);
    // Since era 1: the union and the first writes (blocks 0..16 and 1024).
    let mut all = union.clone();
    all.extend((0..16).chain([1024]));
    all.sort_unstable();
    all.dedup();
    assert_eq!(written_since(&img.meta, 1, &[]), all);
    // Every client's data is on the origin, the rest as before.
    let origin = std::fs::read(&img.origin).unwrap();
    for (b, chunk) in origin.chunks(BLOCK_BYTES as usize).enumerate() {
        let b = b as u64;
        let want = if union.binary_search(&b).is_ok() {
            pattern(b)
        } else if b < 16 {
            200
        } else if b == 1024 {
            201
        } else {
            0
        };
        assert!(chunk.iter().all(|&x| x == want), "block {b}");
    }
}
