//! The NBD target: the fuzz bytes are everything a client sends on one connection,
//! the handshake and then requests. The server's side must answer with well-formed
//! option replies and never panic; a connection that reaches the transmission phase
//! then has its request headers decoded (and writes' payloads skipped) until the bytes
//! end or break the protocol.

use era_tools::nbd::consts::*;
use era_tools::nbd::handshake::{negotiate, Export};
use era_tools::nbd::request::{read_request, simple_reply, Command};
use std::io::{Cursor, Read, Write};

/// The largest write payload the server reads (as `serve` advertises it).
const MAX_PAYLOAD: u32 = 32 << 20;

/// One connection whose client side is the fuzz input.
struct Duplex<'a> {
    input: Cursor<&'a [u8]>,
    output: Vec<u8>,
}

impl Read for Duplex<'_> {
    fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
        self.input.read(b)
    }
}

impl Write for Duplex<'_> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.output.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The export the target serves (as `serve` does: one export, the empty name).
pub fn export() -> Export {
    Export {
        name: String::new(),
        size: 1 << 30,
        flags: FLAG_SEND_FLUSH | FLAG_SEND_FUA | FLAG_SEND_TRIM | FLAG_SEND_WRITE_ZEROES,
        block_size: (512, 4096, MAX_PAYLOAD),
    }
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// Checks what the server sent during the handshake: the greeting, then whole option
/// replies; when the client entered transmission, the last is GO's ACK or the
/// EXPORT_NAME reply (size and flags, with or without the 124 zero bytes).
fn check_handshake(out: &[u8], entered: bool) {
    assert!(out.len() >= 18, "no greeting");
    assert_eq!(&out[..8], &NBDMAGIC.to_be_bytes());
    assert_eq!(&out[8..16], &IHAVEOPT.to_be_bytes());
    let mut rest = &out[18..];
    let mut last = None;
    while rest.len() >= 20 && rest[..8] == REPLY_MAGIC.to_be_bytes() {
        let (kind, len) = (be32(&rest[12..16]), be32(&rest[16..20]) as usize);
        assert!(rest.len() >= 20 + len, "an option reply cut short");
        assert!(
            len <= MAX_OPTION_LEN as usize,
            "an option reply of {len} bytes"
        );
        last = Some(kind);
        rest = &rest[20 + len..];
    }
    match (entered, rest.len()) {
        (true, 10 | 134) => {
            assert_eq!(&rest[..8], &export().size.to_be_bytes());
            assert!(rest[10..].iter().all(|&b| b == 0));
        }
        (true, 0) => assert_eq!(last, Some(REP_ACK), "GO ended without an ACK"),
        (false, 0) => {}
        (_, n) => panic!("{n} bytes after the option replies"),
    }
}

/// Runs one connection over `data`.
pub fn exchange(data: &[u8]) {
    let mut conn = Duplex {
        input: Cursor::new(data),
        output: Vec::new(),
    };
    let entered = negotiate(&mut conn, &export()).is_ok();
    check_handshake(&conn.output, entered);
    if !entered {
        return;
    }
    let mut input = conn.input;
    while let Ok(Some(r)) = read_request(&mut input) {
        assert_eq!(r.unknown_flags() & !r.flags, 0);
        assert_eq!(r.fua(), r.flags & CMD_FLAG_FUA != 0);
        if r.command == Command::Write {
            if r.length > MAX_PAYLOAD {
                break;
            }
            let mut payload = (&mut input).take(r.length as u64);
            if std::io::copy(&mut payload, &mut std::io::sink()).ok() != Some(r.length as u64) {
                break;
            }
        }
        let reply = simple_reply(r.cookie, EINVAL);
        assert_eq!(&reply[8..], &r.cookie.to_be_bytes());
        if r.command == Command::Disc {
            break;
        }
    }
}

/// A request header.
fn request(cmd: u16, flags: u16, cookie: u64, offset: u64, len: u32) -> Vec<u8> {
    let mut m = REQUEST_MAGIC.to_be_bytes().to_vec();
    m.extend_from_slice(&flags.to_be_bytes());
    m.extend_from_slice(&cmd.to_be_bytes());
    m.extend_from_slice(&cookie.to_be_bytes());
    m.extend_from_slice(&offset.to_be_bytes());
    m.extend_from_slice(&len.to_be_bytes());
    m
}

/// An option.
fn option(opt: u32, data: &[u8]) -> Vec<u8> {
    let mut m = IHAVEOPT.to_be_bytes().to_vec();
    m.extend_from_slice(&opt.to_be_bytes());
    m.extend_from_slice(&(data.len() as u32).to_be_bytes());
    m.extend_from_slice(data);
    m
}

/// Seed connections: the handshakes qemu and libnbd make (GO, EXPORT_NAME, with
/// LIST, INFO, refused options and ABORT), each followed by every request kind.
pub fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut requests = Vec::new();
    requests.extend(request(CMD_READ, 0, 1, 0, 4096));
    requests.extend(request(CMD_WRITE, CMD_FLAG_FUA, 2, 4096, 512));
    requests.extend([0xa5u8; 512]);
    requests.extend(request(CMD_TRIM, 0, 3, 8192, 65536));
    requests.extend(request(CMD_WRITE_ZEROES, CMD_FLAG_NO_HOLE, 4, 0, 4096));
    requests.extend(request(CMD_FLUSH, 0, 5, 0, 0));
    requests.extend(request(CMD_READ, 0xffff, 6, 0, 512));
    requests.extend(request(CMD_DISC, 0, 7, 0, 0));
    let go = [0u8, 0, 0, 0, 0, 1, 0, 3];
    let handshakes: [(&str, u32, Vec<Vec<u8>>); 4] = [
        ("go", 3, vec![option(8, b""), option(OPT_GO, &go)]),
        ("export_name", 1, vec![option(OPT_EXPORT_NAME, b"")]),
        (
            "list_info_go",
            3,
            vec![
                option(OPT_LIST, b""),
                option(OPT_INFO, &go),
                option(99, b"x"),
                option(OPT_GO, &go),
            ],
        ),
        (
            "abort",
            3,
            vec![option(OPT_INFO, &[0, 0, 0, 9]), option(OPT_ABORT, b"")],
        ),
    ];
    handshakes
        .into_iter()
        .map(|(name, flags, options)| {
            let mut c = flags.to_be_bytes().to_vec();
            c.extend(options.concat());
            c.extend(&requests);
            (name.to_string(), c)
        })
        .collect()
}
