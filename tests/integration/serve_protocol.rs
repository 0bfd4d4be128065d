//! Protocol abuse against `era_emulate serve` with a raw client: unknown client flags,
//! a bad request magic, requests beyond the end, unaligned or unknown requests, and a
//! client that vanishes in the middle of a write's payload get an NBD error or a closed
//! connection; the server stays up, serves the next client, and stops cleanly. Command
//! flags a command does not take are refused with EINVAL (proto.md, "Command flags").
#![allow(clippy::big_endian_bytes)] // NBD is big-endian on the wire

use crate::serve_support;

use serve_support::raw::*;
use serve_support::*;
use std::io::{Read, Write};

const ORIGIN: u64 = 1 << 20;

#[test]
fn bad_clients_get_errors_and_the_server_stays_up() {
    if !have("qemu-io") {
        return;
    }
    let img = Images::new(ORIGIN);
    let server = Server::start(&img, &[]);

    // Unknown client flags: closed.
    let mut s = connect(&img);
    hello(&mut s, 0x80);
    assert!(closed(&mut s));

    // An unknown option gets NBD_REP_ERR_UNSUP, then ABORT is acknowledged.
    let mut s = connect(&img);
    hello(&mut s, 3);
    for opt in [99u32, 2] {
        let mut o = b"IHAVEOPT".to_vec();
        o.extend_from_slice(&opt.to_be_bytes());
        o.extend_from_slice(&0u32.to_be_bytes());
        s.write_all(&o).unwrap();
        let mut r = [0u8; 20];
        s.read_exact(&mut r).unwrap();
        let kind = u32::from_be_bytes(r[12..16].try_into().unwrap());
        assert_eq!(kind, if opt == 2 { 1 } else { (1 << 31) + 1 });
    }
    assert!(closed(&mut s));

    // Errors on requests, the connection going on.
    let (mut s, size) = transmission(&img);
    assert_eq!(size, ORIGIN);
    request(&mut s, 0, 1, ORIGIN, 512, MAGIC); // read past the end
    assert_eq!(reply(&mut s), (22, 1));
    request(&mut s, 1, 2, ORIGIN - 512, 1024, MAGIC); // write past the end
    s.write_all(&[0u8; 1024]).unwrap();
    assert_eq!(reply(&mut s), (28, 2));
    request(&mut s, 1, 3, 100, 512, MAGIC); // unaligned write
    s.write_all(&[0u8; 512]).unwrap();
    assert_eq!(reply(&mut s), (22, 3));
    request(&mut s, 77, 4, 0, 0, MAGIC); // unknown command
    assert_eq!(reply(&mut s), (22, 4));
    request(&mut s, 4, 5, 0, u32::MAX, MAGIC); // trim past the end
    assert_eq!(reply(&mut s), (28, 5));
    request(&mut s, 1, 6, 4096, 512, MAGIC); // a good write
    s.write_all(&[0xa5u8; 512]).unwrap();
    assert_eq!(reply(&mut s), (0, 6));
    request(&mut s, 0, 7, 4096, 512, MAGIC);
    assert_eq!(reply(&mut s), (0, 7));
    let mut data = [0u8; 512];
    s.read_exact(&mut data).unwrap();
    assert!(data.iter().all(|&b| b == 0xa5));
    // A bad magic ends the connection.
    request(&mut s, 0, 8, 0, 512, 0x1234_5678);
    assert!(closed(&mut s));

    // A client vanishing in the middle of a write's payload, or of a header.
    let (mut s, _) = transmission(&img);
    request(&mut s, 1, 9, 8192, 65536, MAGIC);
    s.write_all(&[1u8; 1000]).unwrap();
    drop(s);
    let (mut s, _) = transmission(&img);
    s.write_all(&MAGIC.to_be_bytes()).unwrap();
    drop(s);
    // A write larger than the maximum payload: closed.
    let (mut s, _) = transmission(&img);
    request(&mut s, 1, 10, 0, 64 << 20, MAGIC);
    assert!(closed(&mut s));

    // The server goes on serving.
    let out = qemu_io(&img, &["read -P 0xa5 4096 512".into(), "write 0 4k".into()]);
    assert!(out.contains("read 512/512"), "{out}");
    server.stop();
    check(&img.meta);
    assert_eq!(written_since(&img.meta, 1, &[]), vec![0, 1]);
}

#[test]
fn unknown_command_flags_are_refused_with_einval() {
    let img = Images::new(ORIGIN);
    let server = Server::start(&img, &[]);
    let (mut s, _) = transmission(&img);
    let with_flags = |cmd, cookie, offset, len, flags| Header {
        flags,
        ..Header::new(cmd, cookie, offset, len)
    };
    // READ and WRITE with every flag set: EINVAL, and the write's payload is read (the
    // connection stays in step) but not written.
    with_flags(0, 1, 0, 512, 0xffff).send(&mut s);
    assert_eq!(reply(&mut s), (22, 1));
    with_flags(1, 2, 8192, 512, 0xffff).send(&mut s);
    s.write_all(&[0x5au8; 512]).unwrap();
    assert_eq!(reply(&mut s), (22, 2));
    // NO_HOLE belongs to WRITE_ZEROES only; FUA goes with every command.
    with_flags(1, 3, 8192, 512, 2).send(&mut s);
    s.write_all(&[0x5au8; 512]).unwrap();
    assert_eq!(reply(&mut s), (22, 3));
    with_flags(6, 4, 16384, 512, 3).send(&mut s);
    assert_eq!(reply(&mut s), (0, 4));
    with_flags(0, 5, 8192, 512, 1).send(&mut s);
    assert_eq!(reply(&mut s), (0, 5));
    let mut data = [0xffu8; 512];
    s.read_exact(&mut data).unwrap();
    assert!(
        data.iter().all(|&b| b == 0),
        "a refused write reached the origin"
    );
    request(&mut s, 2, 6, 0, 0, MAGIC);
    assert!(closed(&mut s));
    server.stop();
    check(&img.meta);
    // Only the zero-write marked its block (4): the refused writes marked nothing.
    assert_eq!(written_since(&img.meta, 1, &[]), vec![4]);
}

#[test]
fn trim_is_neither_offered_nor_done_with_discard_ignore() {
    const SEND_TRIM: u16 = 1 << 5;
    let img = Images::new(ORIGIN);
    std::fs::write(&img.origin, vec![7u8; ORIGIN as usize]).unwrap();
    for (mode, offered) in [("mark", true), ("kernel", true), ("ignore", false)] {
        let server = Server::start(&img, &["--discard", mode]);
        let (mut s, _, flags) = transmission_flags(&img);
        assert_eq!(
            flags & SEND_TRIM != 0,
            offered,
            "--discard {mode}: {flags:#x}"
        );
        if !offered {
            request(&mut s, 4, 1, 0, 65536, MAGIC);
            assert_eq!(reply(&mut s), (22, 1));
        }
        drop(s);
        server.stop();
    }
    assert!(std::fs::read(&img.origin).unwrap().iter().all(|&b| b == 7));
    assert_eq!(written_since(&img.meta, 1, &[]), Vec::<u64>::new());
}
