//! The transmission phase: request headers in, simple reply headers out.

use super::consts::*;
use super::{Error, Result};
use std::io::{ErrorKind, Read};

/// A command of the transmission phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// NBD_CMD_READ: reply with `length` bytes from `offset`.
    Read,
    /// NBD_CMD_WRITE: `length` bytes of payload to write at `offset`.
    Write,
    /// NBD_CMD_DISC: the client disconnects; no reply.
    Disc,
    /// NBD_CMD_FLUSH: make every completed write durable.
    Flush,
    /// NBD_CMD_TRIM: discard the range.
    Trim,
    /// NBD_CMD_WRITE_ZEROES: write zeros to the range, no payload.
    WriteZeroes,
    /// A command this server does not know (answered EINVAL).
    Other(u16),
}

/// One request header (a write's payload follows it on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// The command flags (`CMD_FLAG_*`).
    pub flags: u16,
    /// What the client asks for.
    pub command: Command,
    /// The client's handle for the request, echoed in the reply.
    pub cookie: u64,
    /// Byte offset into the export.
    pub offset: u64,
    /// Length in bytes (of the payload, for a write).
    pub length: u32,
}

impl Request {
    /// Whether the client asked for Force Unit Access.
    pub fn fua(&self) -> bool {
        self.flags & CMD_FLAG_FUA != 0
    }

    /// Whether the client forbade punching holes (WRITE_ZEROES).
    pub fn no_hole(&self) -> bool {
        self.flags & CMD_FLAG_NO_HOLE != 0
    }

    /// The command flags this server does not take on this command, which the
    /// request is refused for (EINVAL): every flag but FUA (valid on every command),
    /// and NO_HOLE on WRITE_ZEROES (proto.md, "Command flags").
    pub fn unknown_flags(&self) -> u16 {
        let known = match self.command {
            Command::WriteZeroes => CMD_FLAG_FUA | CMD_FLAG_NO_HOLE,
            _ => CMD_FLAG_FUA,
        };
        self.flags & !known
    }
}

/// Size of a request header.
pub const REQUEST_LEN: usize = 28;

/// Decodes a request header.
pub fn decode_request(b: &[u8; REQUEST_LEN]) -> Result<Request> {
    let u16_at = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
    let u32_at = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    let u64_at = |i: usize| (u32_at(i) as u64) << 32 | u32_at(i + 4) as u64;
    let magic = u32_at(0);
    if magic != REQUEST_MAGIC {
        return Err(Error::Protocol(format!("bad request magic {magic:#x}")));
    }
    let command = match u16_at(6) {
        CMD_READ => Command::Read,
        CMD_WRITE => Command::Write,
        CMD_DISC => Command::Disc,
        CMD_FLUSH => Command::Flush,
        CMD_TRIM => Command::Trim,
        CMD_WRITE_ZEROES => Command::WriteZeroes,
        other => Command::Other(other),
    };
    Ok(Request {
        flags: u16_at(4),
        command,
        cookie: u64_at(8),
        offset: u64_at(16),
        length: u32_at(24),
    })
}

/// Reads the next request header; `None` when the client closed the connection between
/// requests.
pub fn read_request(r: &mut impl Read) -> Result<Option<Request>> {
    let mut b = [0u8; REQUEST_LEN];
    let mut got = 0;
    while got < REQUEST_LEN {
        match r.read(&mut b[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(Error::Io(ErrorKind::UnexpectedEof.into())),
            Ok(n) => got += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    decode_request(&b).map(Some)
}

/// The header of a simple reply (a successful READ's data follows it).
pub fn simple_reply(cookie: u64, error: u32) -> [u8; 16] {
    let mut m = [0u8; 16];
    m[..4].copy_from_slice(&SIMPLE_REPLY_MAGIC.to_be_bytes());
    m[4..8].copy_from_slice(&error.to_be_bytes());
    m[8..].copy_from_slice(&cookie.to_be_bytes());
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(kind: u16, flags: u16) -> [u8; REQUEST_LEN] {
        let mut b = [0u8; REQUEST_LEN];
        b[..4].copy_from_slice(&REQUEST_MAGIC.to_be_bytes());
        b[4..6].copy_from_slice(&flags.to_be_bytes());
        b[6..8].copy_from_slice(&kind.to_be_bytes());
        b[8..16].copy_from_slice(&0x0102_0304_0506_0708u64.to_be_bytes());
        b[16..24].copy_from_slice(&4096u64.to_be_bytes());
        b[24..].copy_from_slice(&512u32.to_be_bytes());
        b
    }

    #[test]
    fn decodes_a_write_with_fua() {
        let r = decode_request(&header(CMD_WRITE, CMD_FLAG_FUA)).unwrap();
        assert_eq!(r.command, Command::Write);
        assert!(r.fua() && !r.no_hole());
        assert_eq!(
            (r.cookie, r.offset, r.length),
            (0x0102_0304_0506_0708, 4096, 512)
        );
        assert_eq!(
            decode_request(&header(77, 0)).unwrap().command,
            Command::Other(77)
        );
    }

    #[test]
    fn flags_a_command_does_not_take() {
        let flags = |kind, flags| {
            decode_request(&header(kind, flags))
                .unwrap()
                .unknown_flags()
        };
        assert_eq!(flags(CMD_READ, CMD_FLAG_FUA), 0);
        assert_eq!(flags(CMD_WRITE_ZEROES, CMD_FLAG_FUA | CMD_FLAG_NO_HOLE), 0);
        assert_eq!(flags(CMD_WRITE, CMD_FLAG_NO_HOLE), CMD_FLAG_NO_HOLE);
        assert_eq!(flags(CMD_READ, 0xffff), 0xfffe);
        assert_eq!(flags(CMD_WRITE_ZEROES, 0xffff), 0xfffc);
    }

    #[test]
    fn bad_magic_and_truncation() {
        let mut h = header(CMD_READ, 0);
        h[0] = 0;
        assert!(matches!(decode_request(&h), Err(Error::Protocol(_))));
        assert!(read_request(&mut &[][..]).unwrap().is_none());
        assert!(matches!(read_request(&mut &h[..5]), Err(Error::Io(_))));
    }

    #[test]
    fn reply_layout() {
        let r = simple_reply(9, EIO);
        assert_eq!(&r[..4], &SIMPLE_REPLY_MAGIC.to_be_bytes());
        assert_eq!(&r[4..8], &5u32.to_be_bytes());
        assert_eq!(&r[8..], &9u64.to_be_bytes());
    }
}
