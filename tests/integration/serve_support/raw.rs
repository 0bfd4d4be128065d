//! A raw NBD client for the tests that break the protocol on purpose (no client
//! library would): the greeting, an EXPORT_NAME handshake, requests with any magic
//! and flags, and simple replies.
#![allow(clippy::big_endian_bytes)] // NBD is big-endian on the wire

use super::Images;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// The magic of a request.
pub const MAGIC: u32 = 0x2560_9513;

/// A connection to the server's NBD socket; reads give up after 20 s (a hang bound).
pub fn connect(img: &Images) -> UnixStream {
    let s = UnixStream::connect(img.socket()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

/// Reads the greeting and sends the client flags.
pub fn hello(s: &mut UnixStream, flags: u32) {
    let mut g = [0u8; 18];
    s.read_exact(&mut g).unwrap();
    assert_eq!(&g[..8], b"NBDMAGIC");
    assert_eq!(&g[8..16], b"IHAVEOPT");
    s.write_all(&flags.to_be_bytes()).unwrap();
}

/// A connection in the transmission phase (NBD_OPT_EXPORT_NAME, no zeroes); returns it
/// and the export's size.
pub fn transmission(img: &Images) -> (UnixStream, u64) {
    let (s, size, _) = transmission_flags(img);
    (s, size)
}

/// [`transmission`], with the export's transmission flags.
pub fn transmission_flags(img: &Images) -> (UnixStream, u64, u16) {
    let mut s = connect(img);
    hello(&mut s, 3);
    let mut o = b"IHAVEOPT".to_vec();
    o.extend_from_slice(&1u32.to_be_bytes());
    o.extend_from_slice(&0u32.to_be_bytes());
    s.write_all(&o).unwrap();
    let mut r = [0u8; 10];
    s.read_exact(&mut r).unwrap();
    let size = u64::from_be_bytes(r[..8].try_into().unwrap());
    (s, size, u16::from_be_bytes([r[8], r[9]]))
}

/// One request header: `magic`, `flags`, command `cmd`.
pub struct Header {
    pub magic: u32,
    pub flags: u16,
    pub cmd: u16,
    pub cookie: u64,
    pub offset: u64,
    pub len: u32,
}

impl Header {
    /// A well-formed request without flags.
    pub fn new(cmd: u16, cookie: u64, offset: u64, len: u32) -> Header {
        Header {
            magic: MAGIC,
            flags: 0,
            cmd,
            cookie,
            offset,
            len,
        }
    }

    /// Sends the header.
    pub fn send(&self, s: &mut UnixStream) {
        let mut m = self.magic.to_be_bytes().to_vec();
        m.extend_from_slice(&self.flags.to_be_bytes());
        m.extend_from_slice(&self.cmd.to_be_bytes());
        m.extend_from_slice(&self.cookie.to_be_bytes());
        m.extend_from_slice(&self.offset.to_be_bytes());
        m.extend_from_slice(&self.len.to_be_bytes());
        s.write_all(&m).unwrap();
    }
}

/// Sends a request header without flags.
pub fn request(s: &mut UnixStream, cmd: u16, cookie: u64, offset: u64, len: u32, magic: u32) {
    Header {
        magic,
        ..Header::new(cmd, cookie, offset, len)
    }
    .send(s);
}

/// Reads one simple reply: (error, cookie).
pub fn reply(s: &mut UnixStream) -> (u32, u64) {
    let mut r = [0u8; 16];
    s.read_exact(&mut r).unwrap();
    assert_eq!(u32::from_be_bytes(r[..4].try_into().unwrap()), 0x6744_6698);
    (
        u32::from_be_bytes(r[4..8].try_into().unwrap()),
        u64::from_be_bytes(r[8..].try_into().unwrap()),
    )
}

/// Whether the server closed the connection (end of file or an error).
pub fn closed(s: &mut impl Read) -> bool {
    let mut b = [0u8; 1];
    matches!(s.read(&mut b), Ok(0) | Err(_))
}
