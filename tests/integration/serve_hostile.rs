//! `era_emulate serve` against hostile or broken clients, the outside testers'
//! reproductions: connections that never send the handshake must not lock working
//! clients out (over Unix and TCP), and are ended after the handshake limit; idle
//! control connections must not make `status` fail nor grow the server's threads; a
//! client that pipelines reads and never takes the replies must not hold a clean stop;
//! and a second server must not take over the socket of a live one, nor open its
//! images (refused without the readers' `--metadata-snapshot` advice).

#![allow(clippy::big_endian_bytes)] // NBD is big-endian on the wire

use crate::serve_support;

use serve_support::raw::*;
use serve_support::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ORIGIN: u64 = 8 << 20;

/// A TCP port nothing listens on at the moment.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `cmd` to its end (killed after 30 s: a hang bound); its status and output.
fn run_bounded(cmd: &mut Command) -> (bool, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.success(), text)
}

/// qemu-io writes and reads back one block through `uri`.
fn client_gets_through(uri: &str, pattern: u8) -> bool {
    let (ok, out) = run_bounded(
        Command::new("qemu-io")
            .args(["-f", "raw", "-c"])
            .arg(format!("write -P {pattern} 0 4k"))
            .arg("-c")
            .arg(format!("read -P {pattern} 0 4k"))
            .arg(uri),
    );
    ok && out.contains("read 4096/4096") && !out.contains("fail")
}

#[test]
fn silent_connections_do_not_lock_clients_out() {
    if !have("qemu-io") {
        return;
    }
    let img = Images::new(ORIGIN);
    let port = free_port();
    let server = Server::start(&img, &["--listen", &port.to_string()]);
    let tcp_uri = format!("nbd://127.0.0.1:{port}");
    for (k, tcp) in [false, true].into_iter().enumerate() {
        // More silent connections than the server serves clients.
        let mut silent: Vec<Box<dyn Read>> = Vec::new();
        for _ in 0..100 {
            if tcp {
                silent.push(Box::new(TcpStream::connect(("127.0.0.1", port)).unwrap()));
            } else {
                silent.push(Box::new(UnixStream::connect(img.socket()).unwrap()));
            }
        }
        std::thread::sleep(Duration::from_millis(500));
        let uri = if tcp { tcp_uri.clone() } else { img.uri() };
        assert!(
            client_gets_through(&uri, 10 + k as u8),
            "tcp {tcp}: a client was locked out by 100 silent connections"
        );
        assert!(server.status().starts_with("0 16384 era 8 "));
    }
    server.stop();
    check(&img.meta);
}

/// Whether the server ended the connection: end of file or a reset, not a timeout.
fn ended(s: &mut UnixStream) -> bool {
    let mut b = [0u8; 64];
    loop {
        match s.read(&mut b) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) => return e.kind() == std::io::ErrorKind::ConnectionReset,
        }
    }
}

#[test]
fn a_handshake_that_takes_too_long_is_ended() {
    let img = Images::new(ORIGIN);
    let server = Server::start(&img, &["--handshake-limit", "1"]);
    // One connection sends nothing; one sends a valid option a byte at a time.
    let mut silent = connect(&img);
    let mut slow = connect(&img);
    hello(&mut slow, 3);
    let mut option = b"IHAVEOPT".to_vec();
    option.extend_from_slice(&1u32.to_be_bytes());
    option.extend_from_slice(&1000u32.to_be_bytes());
    option.extend_from_slice(&[b'x'; 1000]);
    let t = Instant::now();
    let mut trickled = 0;
    while trickled < 50 && slow.write_all(&option[trickled..trickled + 1]).is_ok() {
        trickled += 1;
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(trickled < 50, "a handshake trickled for {:?}", t.elapsed());
    assert!(ended(&mut silent), "the silent handshake was never ended");
    // A client that completes its handshake at once is served.
    let (mut s, size) = transmission(&img);
    assert_eq!(size, ORIGIN);
    request(&mut s, 0, 1, 0, 512, MAGIC);
    assert_eq!(reply(&mut s), (0, 1));
    server.stop();
}

/// The number of threads of process `pid`.
fn threads(pid: &str) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .count()
}

#[test]
fn idle_control_connections_are_bounded() {
    let img = Images::new(ORIGIN);
    let server = Server::start(&img, &[]);
    let ctl = format!("{}.ctl", img.socket().display());
    let before = threads(&server.pid());
    let mut idle = Vec::new();
    for _ in 0..400 {
        idle.push(UnixStream::connect(&ctl).unwrap());
    }
    std::thread::sleep(Duration::from_millis(500));
    let during = threads(&server.pid());
    assert!(
        during < before + 40,
        "400 idle control connections grew the server from {before} to {during} threads"
    );
    let status = server.status();
    assert!(status.starts_with("0 16384 era 8 "), "{status}");
    server.checkpoint();
    server.stop();
}

#[test]
fn a_client_that_never_reads_its_replies_does_not_hold_a_clean_stop() {
    if !have("qemu-io") {
        return;
    }
    let img = Images::new(64 << 20);
    let server = Server::start(&img, &[]);
    // Three reads of 32 MiB pipelined, their replies never read.
    let (mut stuck, _) = transmission(&img);
    for cookie in 0..3 {
        request(&mut stuck, 0, cookie, 0, 32 << 20, MAGIC);
    }
    std::thread::sleep(Duration::from_secs(1));
    // Another client is served meanwhile, and its write is acknowledged.
    let out = qemu_io(&img, &["write -P 1 4k 4k".into()]);
    assert!(out.contains("wrote 4096/4096"), "{out}");
    // The stop ends (Server::signal gives up after 60 s) cleanly.
    let st = server.signal("TERM");
    assert!(st.success(), "{st}");
    drop(stuck);
    check(&img.meta);
    assert_eq!(written_since(&img.meta, 1, &[]), vec![1]);
    let origin = std::fs::read(&img.origin).unwrap();
    assert!(origin[4096..8192].iter().all(|&b| b == 1));
}

/// `era_emulate serve` on `img` with `--socket socket`, which must fail; its stderr.
fn serve_refused(img: &Images, socket: &Path) -> String {
    let (ok, out) = run_bounded(
        era_emulate()
            .arg("serve")
            .arg("--meta")
            .arg(&img.meta)
            .arg("--origin")
            .arg(&img.origin)
            .args(["--block-size", "8", "--socket"])
            .arg(socket),
    );
    assert!(
        !ok,
        "a second server started on {}: {out}",
        socket.display()
    );
    out
}

#[test]
fn a_live_servers_socket_is_not_taken_over() {
    let first = Images::new(ORIGIN);
    let other = Images::new(ORIGIN);
    let server = Server::start(&first, &[]);
    server.checkpoint();
    let out = serve_refused(&other, &first.socket());
    assert!(out.contains("already listening"), "{out}");
    // The first server is still the one on its sockets.
    assert!(server.status().contains(" 2 -"), "{}", server.status());
    // A live listener on PATH.ctl alone is refused too, and PATH is left alone.
    let lone = other.path("lone.sock");
    let ctl = other.path("lone.sock.ctl");
    let _listener = UnixListener::bind(&ctl).unwrap();
    let out = serve_refused(&other, &lone);
    assert!(out.contains("already listening"), "{out}");
    assert!(!lone.exists() && ctl.exists());
    server.stop();
    assert!(!first.socket().exists(), "the socket was left behind");
    // A socket file no server answers on is replaced.
    drop(UnixListener::bind(other.socket()).unwrap());
    assert!(other.socket().exists());
    let second = Server::start(&other, &[]);
    assert!(second.status().contains(" 1 -"));
    second.stop();
}

#[test]
fn a_second_server_on_held_images_is_refused_with_advice_for_a_writer() {
    let img = Images::new(ORIGIN);
    let server = Server::start(&img, &[]);
    let out = serve_refused(&img, &img.path("second.sock"));
    assert!(out.contains("in use by another process"), "{out}");
    assert!(!out.contains("--metadata-snapshot"), "{out}");
    assert!(!img.path("second.sock").exists());
    server.stop();
}
