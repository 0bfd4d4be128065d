//! `era_emulate serve` with clients no one here wrote: nbdinfo sees the export as
//! advertised, qemu-img and nbdcopy copy a disk image in and out bit-exact, TRIM and
//! WRITE_ZEROES follow the kernel's rules, and TCP serves the same export.

mod serve_support;

use serve_support::*;
use std::process::Command;

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
fn trim_marks_its_first_block_and_write_zeroes_marks_all() {
    if !have("qemu-io") {
        return;
    }
    let img = Images::new(ORIGIN);
    let server = Server::start(&img, &[]);
    qemu_io(&img, &["write -P 7 0 1M".into()]);
    server.checkpoint();
    // Era 2: a discard of 64 KiB at block 16 marks block 16 only; a write of zeros
    // over blocks 100..104 marks all four.
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
    assert_eq!(
        written_since(&img.meta, 2, &[]),
        vec![16, 100, 101, 102, 103]
    );
    check(&img.meta);
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
