//! The fixed newstyle handshake, server side: options EXPORT_NAME, GO, INFO, LIST and
//! ABORT; every other option is answered NBD_REP_ERR_UNSUP (so a client asking for
//! structured replies or TLS goes on with simple replies, or gives up).

use super::consts::*;
use super::{Error, Result};
use std::io::{Read, Write};

/// What the server offers: one export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    /// The export's name (clients ask for "" by default).
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Transmission flags (`FLAG_HAS_FLAGS` is added).
    pub flags: u16,
    /// Block size constraints: minimum, preferred, maximum payload.
    pub block_size: (u32, u32, u32),
}

fn read_u32(r: &mut impl Read) -> Result<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_be_bytes(b))
}

fn read_u64(r: &mut impl Read) -> Result<u64> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b)?;
    Ok(u64::from_be_bytes(b))
}

/// Sends one option reply.
fn reply(w: &mut impl Write, opt: u32, kind: u32, data: &[u8]) -> Result<()> {
    let mut m = Vec::with_capacity(20 + data.len());
    m.extend_from_slice(&REPLY_MAGIC.to_be_bytes());
    m.extend_from_slice(&opt.to_be_bytes());
    m.extend_from_slice(&kind.to_be_bytes());
    m.extend_from_slice(&(data.len() as u32).to_be_bytes());
    m.extend_from_slice(data);
    w.write_all(&m)?;
    Ok(())
}

/// Parses the payload of NBD_OPT_INFO / NBD_OPT_GO: the export name (the requested
/// info types are not needed: the server always sends what it has).
fn parse_info_request(data: &[u8]) -> Option<&[u8]> {
    let len = u32::from_be_bytes(data.get(..4)?.try_into().ok()?) as usize;
    let name = data.get(4..4usize.checked_add(len)?)?;
    let rest = &data[4 + len..];
    let n = u16::from_be_bytes(rest.get(..2)?.try_into().ok()?) as usize;
    (rest.len() == 2 + 2 * n).then_some(name)
}

fn info_replies(w: &mut impl Write, opt: u32, export: &Export) -> Result<()> {
    let mut e = Vec::with_capacity(12);
    e.extend_from_slice(&INFO_EXPORT.to_be_bytes());
    e.extend_from_slice(&export.size.to_be_bytes());
    e.extend_from_slice(&(export.flags | FLAG_HAS_FLAGS).to_be_bytes());
    reply(w, opt, REP_INFO, &e)?;
    let (min, pref, max) = export.block_size;
    let mut b = Vec::with_capacity(14);
    b.extend_from_slice(&INFO_BLOCK_SIZE.to_be_bytes());
    b.extend_from_slice(&min.to_be_bytes());
    b.extend_from_slice(&pref.to_be_bytes());
    b.extend_from_slice(&max.to_be_bytes());
    reply(w, opt, REP_INFO, &b)?;
    reply(w, opt, REP_ACK, &[])
}

/// Runs the handshake on a fresh connection. `Ok` means the client entered the
/// transmission phase for `export`; [`Error::Aborted`] that it ended the negotiation.
pub fn negotiate<S: Read + Write>(s: &mut S, export: &Export) -> Result<()> {
    let mut hello = Vec::with_capacity(18);
    hello.extend_from_slice(&NBDMAGIC.to_be_bytes());
    hello.extend_from_slice(&IHAVEOPT.to_be_bytes());
    hello.extend_from_slice(&(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES).to_be_bytes());
    s.write_all(&hello)?;
    s.flush()?;
    let client = read_u32(s)?;
    if client & !(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES) != 0 {
        return Err(Error::Protocol(format!("unknown client flags {client:#x}")));
    }
    let no_zeroes = client & FLAG_C_NO_ZEROES != 0;
    loop {
        if read_u64(s)? != IHAVEOPT {
            return Err(Error::Protocol("option without IHAVEOPT".into()));
        }
        let opt = read_u32(s)?;
        let len = read_u32(s)?;
        if len > MAX_OPTION_LEN {
            return Err(Error::Protocol(format!("option {opt} of {len} bytes")));
        }
        let mut data = vec![0u8; len as usize];
        s.read_exact(&mut data)?;
        match opt {
            OPT_EXPORT_NAME => {
                if data != export.name.as_bytes() {
                    // No error reply exists for this option: the server closes.
                    return Err(Error::Aborted);
                }
                let mut m = Vec::with_capacity(134);
                m.extend_from_slice(&export.size.to_be_bytes());
                m.extend_from_slice(&(export.flags | FLAG_HAS_FLAGS).to_be_bytes());
                if !no_zeroes {
                    m.extend_from_slice(&[0u8; 124]);
                }
                s.write_all(&m)?;
                s.flush()?;
                return Ok(());
            }
            OPT_ABORT => {
                // The client may close before reading the acknowledgement.
                let _ = reply(s, opt, REP_ACK, &[]).and_then(|_| Ok(s.flush()?));
                return Err(Error::Aborted);
            }
            OPT_LIST if !data.is_empty() => reply(s, opt, REP_ERR_INVALID, &[])?,
            OPT_LIST => {
                let mut m = Vec::new();
                m.extend_from_slice(&(export.name.len() as u32).to_be_bytes());
                m.extend_from_slice(export.name.as_bytes());
                reply(s, opt, REP_SERVER, &m)?;
                reply(s, opt, REP_ACK, &[])?;
            }
            OPT_INFO | OPT_GO => match parse_info_request(&data) {
                None => reply(s, opt, REP_ERR_INVALID, b"malformed request")?,
                Some(name) if name != export.name.as_bytes() => {
                    reply(s, opt, REP_ERR_UNKNOWN, b"no such export")?
                }
                Some(_) => {
                    info_replies(s, opt, export)?;
                    if opt == OPT_GO {
                        s.flush()?;
                        return Ok(());
                    }
                }
            },
            _ => reply(s, opt, REP_ERR_UNSUP, &[])?,
        }
        s.flush()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// A connection whose client side is scripted.
    struct Duplex {
        input: Cursor<Vec<u8>>,
        output: Vec<u8>,
    }
    impl Read for Duplex {
        fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
            self.input.read(b)
        }
    }
    impl Write for Duplex {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.output.write(b)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn export() -> Export {
        Export {
            name: String::new(),
            size: 1 << 20,
            flags: FLAG_SEND_FLUSH,
            block_size: (512, 4096, 1 << 25),
        }
    }

    fn option(opt: u32, data: &[u8]) -> Vec<u8> {
        let mut v = IHAVEOPT.to_be_bytes().to_vec();
        v.extend_from_slice(&opt.to_be_bytes());
        v.extend_from_slice(&(data.len() as u32).to_be_bytes());
        v.extend_from_slice(data);
        v
    }

    fn run(client: Vec<u8>) -> (Result<()>, Vec<u8>) {
        let mut d = Duplex {
            input: Cursor::new(client),
            output: Vec::new(),
        };
        let r = negotiate(&mut d, &export());
        (r, d.output)
    }

    #[test]
    fn export_name_gives_size_and_flags() {
        let mut c = 3u32.to_be_bytes().to_vec();
        c.extend(option(OPT_EXPORT_NAME, b""));
        let (r, out) = run(c);
        assert!(r.is_ok());
        assert_eq!(&out[..8], &NBDMAGIC.to_be_bytes());
        assert_eq!(&out[18..26], &(1u64 << 20).to_be_bytes());
        assert_eq!(
            &out[26..28],
            &(FLAG_SEND_FLUSH | FLAG_HAS_FLAGS).to_be_bytes()
        );
        assert_eq!(out.len(), 28);
    }

    #[test]
    fn unknown_option_then_go() {
        let mut c = 1u32.to_be_bytes().to_vec();
        c.extend(option(8, b""));
        c.extend(option(OPT_GO, &[0, 0, 0, 0, 0, 1, 0, 3]));
        let (r, out) = run(c);
        assert!(r.is_ok());
        // The structured-reply option is refused.
        assert_eq!(&out[18 + 12..18 + 16], &REP_ERR_UNSUP.to_be_bytes());
        // Then INFO (export), INFO (block size), ACK.
        let kinds: Vec<u32> = [38 + 12, 38 + 20 + 12 + 12, 38 + 32 + 20 + 14 + 12]
            .iter()
            .map(|&i| u32::from_be_bytes(out[i..i + 4].try_into().unwrap()))
            .collect();
        assert_eq!(kinds, [REP_INFO, REP_INFO, REP_ACK]);
    }

    #[test]
    fn bad_requests_are_refused_not_panicking() {
        for data in [
            &[][..],
            &[0, 0, 0, 9, 0][..],
            &[0xff; 6][..],
            &[0, 0, 0, 1, b'x', 0, 0][..],
        ] {
            let mut c = 1u32.to_be_bytes().to_vec();
            c.extend(option(OPT_INFO, data));
            c.extend(option(OPT_ABORT, b""));
            let (r, out) = run(c);
            assert!(matches!(r, Err(Error::Aborted)));
            let kind = u32::from_be_bytes(out[30..34].try_into().unwrap());
            assert!(
                kind == REP_ERR_INVALID || kind == REP_ERR_UNKNOWN,
                "{kind:#x}"
            );
        }
    }

    #[test]
    fn unknown_client_flags_and_truncation_end_the_connection() {
        assert!(matches!(
            run(8u32.to_be_bytes().to_vec()).0,
            Err(Error::Protocol(_))
        ));
        assert!(matches!(run(vec![0, 0]).0, Err(Error::Io(_))));
        let mut c = 1u32.to_be_bytes().to_vec();
        c.extend(option(OPT_LIST, b"")[..10].to_vec());
        assert!(matches!(run(c).0, Err(Error::Io(_))));
    }
}
