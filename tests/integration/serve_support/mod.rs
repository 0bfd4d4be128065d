//! Helpers of the `serve` tests: images, a server spawned from the built binary, the
//! outside NBD clients (qemu-io, qemu-img, nbdinfo, nbdcopy) and the era tools.
#![allow(dead_code)]

pub mod raw;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Sectors per era block in these tests (4 KiB blocks).
pub const BLOCK_SECTORS: u64 = 8;
pub const BLOCK_BYTES: u64 = BLOCK_SECTORS * 512;

/// Whether `tool` is on PATH. Without it the test is skipped, visibly, unless `CI` is
/// set: then a missing client is a failure (.ci/run installs them). See
/// [`crate::common::skip`].
pub fn have(tool: &str) -> bool {
    crate::common::skip::require(crate::common::skip::on_path(tool))
}

/// Whether every tool of `tools` is there.
pub fn have_all(tools: &[&str]) -> bool {
    tools.iter().all(|t| have(t))
}

/// A temporary folder with a zeroed metadata image and an origin image.
pub struct Images {
    pub dir: tempfile::TempDir,
    pub meta: PathBuf,
    pub origin: PathBuf,
}

impl Images {
    /// Metadata of 8 MiB, an origin of `origin_bytes` (zeros, or `fill`).
    pub fn new(origin_bytes: u64) -> Images {
        let dir = tempfile::tempdir().unwrap();
        let meta = dir.path().join("meta.img");
        let origin = dir.path().join("origin.img");
        std::fs::File::create(&meta)
            .unwrap()
            .set_len(8 << 20)
            .unwrap();
        std::fs::File::create(&origin)
            .unwrap()
            .set_len(origin_bytes)
            .unwrap();
        Images { dir, meta, origin }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The socket path of the server of these images.
    pub fn socket(&self) -> PathBuf {
        self.path("nbd.sock")
    }

    /// The NBD URI of the server's socket.
    pub fn uri(&self) -> String {
        format!("nbd+unix:///?socket={}", self.socket().display())
    }
}

/// A running `era_emulate serve`.
pub struct Server {
    child: Option<Child>,
    pub socket: PathBuf,
}

pub fn era_emulate() -> Command {
    Command::new(env!("CARGO_BIN_EXE_era_emulate"))
}

/// `era_emulate SUB` with the images' table arguments.
fn with_table(sub: &str, img: &Images) -> Command {
    let mut c = era_emulate();
    c.arg(sub)
        .arg("--meta")
        .arg(&img.meta)
        .arg("--origin")
        .arg(&img.origin)
        .args(["--block-size", &BLOCK_SECTORS.to_string()]);
    c
}

/// Opens and cleanly closes the images with `era_emulate run` (an empty script).
pub fn reopen(img: &Images) {
    let st = with_table("run", img).arg("/dev/null").status().unwrap();
    assert!(st.success(), "run on the images: {st}");
}

impl Server {
    /// Starts a server on `img` with `extra` arguments and waits for its sockets.
    pub fn start(img: &Images, extra: &[&str]) -> Server {
        let socket = img.socket();
        let child = with_table("serve", img)
            .arg("--socket")
            .arg(&socket)
            .args(extra)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let mut s = Server {
            child: Some(child),
            socket,
        };
        let ctl = PathBuf::from(format!("{}.ctl", s.socket.display()));
        let t = Instant::now();
        while !(s.socket.exists() && ctl.exists()) {
            if let Some(st) = s.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("the server exited at start: {st}");
            }
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "the server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        s
    }

    /// The server's process id.
    pub fn pid(&self) -> String {
        self.child.as_ref().unwrap().id().to_string()
    }

    /// Sends `signal` and waits (at most 60 s) for the exit status.
    pub fn signal(mut self, signal: &str) -> std::process::ExitStatus {
        let ok = Command::new("kill")
            .args([&format!("-{signal}"), &self.pid()])
            .status()
            .unwrap();
        assert!(ok.success());
        let mut child = self.child.take().unwrap();
        let t = Instant::now();
        loop {
            if let Some(st) = child.try_wait().unwrap() {
                return st;
            }
            if t.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                panic!("the server did not stop after SIG{signal}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A clean stop (SIGTERM), which must exit 0.
    pub fn stop(self) {
        let st = self.signal("TERM");
        assert!(st.success(), "the server exited with {st} after SIGTERM");
    }

    /// `era_emulate message --socket S WORDS`.
    pub fn message(&self, words: &str) -> Output {
        era_emulate()
            .arg("message")
            .arg("--socket")
            .arg(&self.socket)
            .args(words.split_whitespace())
            .output()
            .unwrap()
    }

    /// `era_emulate status --socket S`, which must succeed.
    pub fn status(&self) -> String {
        let o = era_emulate()
            .arg("status")
            .arg("--socket")
            .arg(&self.socket)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "status: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap().trim().to_string()
    }

    /// A message that must succeed.
    pub fn checkpoint(&self) {
        let o = self.message("checkpoint");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Runs a command that must succeed; returns its stdout.
pub fn ok(cmd: &mut Command) -> String {
    let o = cmd.output().unwrap();
    assert!(
        o.status.success(),
        "{cmd:?} failed: {}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// `qemu-io` on the export with `cmds` (each one `-c`).
pub fn qemu_io(img: &Images, cmds: &[String]) -> String {
    let mut c = Command::new("qemu-io");
    c.args(["-f", "raw"]);
    for cmd in cmds {
        c.arg("-c").arg(cmd);
    }
    c.arg(img.uri());
    ok(&mut c)
}

/// Blocks listed by `era_invalidate --written-since since` (and `extra` options).
pub fn written_since(meta: &Path, since: u32, extra: &[&str]) -> Vec<u64> {
    let out = ok(Command::new(env!("CARGO_BIN_EXE_era_invalidate"))
        .args(["--written-since", &since.to_string()])
        .args(extra)
        .arg(meta));
    parse_blocks(&out)
}

/// The blocks of era_invalidate's XML: `<block block="B"/>` and
/// `<range begin="B" end="E"/>` (end exclusive).
pub fn parse_blocks(xml: &str) -> Vec<u64> {
    let attr = |line: &str, name: &str| -> Option<u64> {
        let i = line.find(&format!("{name}=\""))? + name.len() + 2;
        line[i..].split('"').next()?.parse().ok()
    };
    let mut v = Vec::new();
    for line in xml.lines() {
        if line.contains("<range") {
            let (b, e) = (attr(line, "begin").unwrap(), attr(line, "end").unwrap());
            v.extend(b..e);
        } else if line.contains("<block ") {
            v.push(attr(line, "block").unwrap());
        }
    }
    v
}

/// `era_check` on the metadata must pass.
pub fn check(meta: &Path) {
    ok(Command::new(env!("CARGO_BIN_EXE_era_check")).arg(meta));
}
