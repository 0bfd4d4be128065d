//! The dump's repeated lines (`<bit …/>`, `<era …/>`, `<marked …/>`), formatted fast:
//! a block number that counts up is kept as decimal digits and incremented in place,
//! other numbers go through a two-digits-at-a-time conversion, and every piece is
//! stored with a fixed-size copy into a buffer that has room to spare, so that the
//! loops make no variable-length copies.

/// Room a buffer keeps past its text: the widest fixed-size copy.
const SLACK: usize = 32;

/// The longest `<bit/>` line: prefix, 11 digits, `" value="false"/>`.
pub const BIT_LINE_MAX: usize = BIT_PREFIX.len() + 11 + 17;
/// The longest `<era/>` line: prefix, 11 digits, `" era="`, 10 digits, `"/>`.
pub const ERA_LINE_MAX: usize = ERA_PREFIX.len() + 11 + 7 + 10 + 3;
/// The longest `<marked/>` line.
pub const MARKED_LINE_MAX: usize = MARKED_PREFIX.len() + 10 + 7 + 10 + 3;

const BIT_PREFIX: &[u8] = b"\n    <bit block=\"";
const ERA_PREFIX: &[u8] = b"\n    <era block=\"";
const MARKED_PREFIX: &[u8] = b"\n    <marked block_begin=\"";

/// The first 16 bytes of `" value="false"/>` and of `" value="true"/>`.
const BIT_TAILS: [[u8; 16]; 2] = [*b"\" value=\"false\"/", *b"\" value=\"true\"/>"];

const fn pad<const N: usize>(s: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut i = 0;
    while i < s.len() {
        out[i] = s[i];
        i += 1;
    }
    out
}

/// Eras below this have their line's tail made in advance.
const ERA_TAIL_TABLE: usize = 1000;

/// `" era="E"/>` for every `E` below [`ERA_TAIL_TABLE`], its length in the last byte.
static ERA_TAILS: [[u8; 16]; ERA_TAIL_TABLE] = era_tails();

const fn era_tails() -> [[u8; 16]; ERA_TAIL_TABLE] {
    let mut t = [[0u8; 16]; ERA_TAIL_TABLE];
    let mut e = 0;
    while e < ERA_TAIL_TABLE {
        let head = b"\" era=\"";
        let mut i = 0;
        while i < head.len() {
            t[e][i] = head[i];
            i += 1;
        }
        let digits = if e >= 100 {
            3
        } else if e >= 10 {
            2
        } else {
            1
        };
        let mut v = e;
        let mut d = digits;
        while d > 0 {
            t[e][i + d - 1] = b'0' + (v % 10) as u8;
            v /= 10;
            d -= 1;
        }
        i += digits;
        t[e][i] = b'"';
        t[e][i + 1] = b'/';
        t[e][i + 2] = b'>';
        t[e][15] = (i + 3) as u8;
        e += 1;
    }
    t
}

/// A text buffer being filled: `buf[..len]` is the text, the rest room to write into.
#[derive(Debug, Default)]
pub struct LineBuf {
    buf: Vec<u8>,
    len: usize,
}

impl LineBuf {
    /// Forgets the text, keeping the memory.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// The text.
    pub fn text(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Makes room for `lines` more lines of at most `max` bytes each.
    pub fn reserve(&mut self, lines: usize, max: usize) {
        let need = self.len + lines * max + SLACK;
        if self.buf.len() < need {
            self.buf.resize(need, 0);
        }
    }

    /// Appends `<bit block="b" value="v"/>` lines for `b` in `first..first + n`.
    /// `bits(b)` gives the values of blocks `b, b + 1, …` as the bits of a word (bit `i`
    /// for block `b + i`); it is asked once for every ten lines at most.
    pub fn push_bits(&mut self, first: u64, n: usize, bits: impl Fn(u64) -> u64) {
        self.reserve(n, BIT_LINE_MAX);
        let dst = &mut self.buf[..];
        let mut pos = self.len;
        let end = first + n as u64;
        let mut head = Head::new(BIT_PREFIX, first);
        let mut b = first;
        while b < end {
            // The lines of b's decade share the head but for the last digit.
            let stop = end.min(b - u64::from(head.units) + 10);
            let v = bits(b);
            let (hb, hl, u0) = (head.bytes, head.len, head.units);
            for i in 0..(stop - b) as u8 {
                dst[pos..pos + 32].copy_from_slice(&hb);
                dst[pos + hl - 1] = b'0' + u0 + i;
                pos += hl;
                let t = ((v >> i) & 1) as usize;
                // `" value="false"/` then `>`, or `" value="true"/>` (and a `>` the
                // next line overwrites).
                dst[pos..pos + 16].copy_from_slice(&BIT_TAILS[t]);
                dst[pos + 16] = b'>';
                pos += 17 - t;
            }
            b = stop;
            head.next_decade();
        }
        self.len = pos;
    }

    /// Appends `<era block="first + i" era="eras[i]"/>` lines.
    pub fn push_eras(&mut self, first: u64, eras: &[u32]) {
        self.reserve(eras.len(), ERA_LINE_MAX);
        let dst = &mut self.buf[..];
        let mut pos = self.len;
        let mut head = Head::new(ERA_PREFIX, first);
        let mut rest = eras;
        while !rest.is_empty() {
            let k = rest.len().min(usize::from(10 - head.units));
            let (decade, after) = rest.split_at(k);
            let (hb, hl, u0) = (head.bytes, head.len, head.units);
            for (i, &e) in decade.iter().enumerate() {
                dst[pos..pos + 32].copy_from_slice(&hb);
                dst[pos + hl - 1] = b'0' + u0 + i as u8;
                pos += hl;
                match ERA_TAILS.get(e as usize) {
                    Some(tail) => {
                        dst[pos..pos + 16].copy_from_slice(tail);
                        pos += usize::from(tail[15]);
                    }
                    None => {
                        dst[pos..pos + 8].copy_from_slice(b"\" era=\"\0");
                        pos = put_dec(dst, pos + 7, u64::from(e));
                        dst[pos..pos + 4].copy_from_slice(b"\"/>\0");
                        pos += 3;
                    }
                }
            }
            rest = after;
            head.next_decade();
        }
        self.len = pos;
    }

    /// Appends `<marked block_begin="begin" len="len"/>`.
    pub fn push_marked(&mut self, begin: u32, len: u32) {
        self.marked().push(begin, len);
    }

    /// A writer of `<marked/>` lines, for many in a row.
    pub fn marked(&mut self) -> MarkedLines<'_> {
        let pos = self.len;
        MarkedLines {
            buf: &mut self.buf,
            pos,
            len: &mut self.len,
        }
    }
}

/// Appends `<marked/>` lines to a [`LineBuf`] (its length is set when this is dropped).
pub struct MarkedLines<'a> {
    buf: &'a mut Vec<u8>,
    pos: usize,
    len: &'a mut usize,
}

impl MarkedLines<'_> {
    /// Appends `<marked block_begin="begin" len="len"/>`.
    #[inline]
    pub fn push(&mut self, begin: u32, len: u32) {
        const P: [u8; 32] = pad(MARKED_PREFIX);
        if self.buf.len() < self.pos + MARKED_LINE_MAX + SLACK {
            let more = (self.buf.len() / 2).max(MARKED_LINE_MAX + SLACK);
            self.buf.resize(self.buf.len() + more, 0);
        }
        let dst = &mut self.buf[..];
        let mut pos = self.pos;
        dst[pos..pos + 32].copy_from_slice(&P);
        pos = put_dec(dst, pos + MARKED_PREFIX.len(), u64::from(begin));
        dst[pos..pos + 8].copy_from_slice(b"\" len=\"\0");
        pos = put_dec(dst, pos + 7, u64::from(len));
        dst[pos..pos + 4].copy_from_slice(b"\"/>\0");
        self.pos = pos + 3;
    }
}

impl Drop for MarkedLines<'_> {
    fn drop(&mut self) {
        *self.len = self.pos;
    }
}

/// A line's head: a prefix and the decimal digits of a number that counts up, in a
/// fixed-size array so that it is stored with one copy. The last digit is kept apart
/// and stored after the copy, so that the array changes once every ten lines only (and
/// the ten lines of a decade are formatted from a copy held in registers).
struct Head {
    /// The prefix and the digits, the last one `0`.
    bytes: [u8; 32],
    /// Where the digits begin.
    start: usize,
    /// Where they end.
    len: usize,
    /// The last digit.
    units: u8,
}

impl Head {
    /// `prefix` (at most 17 bytes) then `n` (below 10^14).
    fn new(prefix: &[u8], n: u64) -> Head {
        let mut bytes = [0u8; 32];
        bytes[..prefix.len()].copy_from_slice(prefix);
        let len = put_dec(&mut bytes, prefix.len(), n);
        bytes[len - 1] = b'0';
        Head {
            bytes,
            start: prefix.len(),
            len,
            units: (n % 10) as u8,
        }
    }

    /// Moves to the start of the next decade: the last digit 0, the tens one more.
    fn next_decade(&mut self) {
        self.units = 0;
        let mut i = self.len - 1;
        loop {
            if i == self.start {
                // 99…9 + 1: one digit more (the last byte is spare: 17 + 14 < 32).
                self.bytes.copy_within(i..self.len, i + 1);
                self.bytes[i] = b'1';
                self.len += 1;
                return;
            }
            i -= 1;
            let d = self.bytes[i];
            if d != b'9' {
                self.bytes[i] = d + 1;
                return;
            }
            self.bytes[i] = b'0';
        }
    }
}

const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// The number of decimal digits of `v`.
#[inline(always)]
fn dec_len(v: u64) -> usize {
    let mut n = 1;
    let mut p = 10u64;
    while n < 20 && v >= p {
        n += 1;
        p = p.saturating_mul(10);
    }
    n
}

/// Stores `v` in decimal at `dst[pos..]` and returns the position after it. Not itoa:
/// its digits, copied out of its buffer, made `era_dump --compact` of dense-16m 15% slower.
#[inline(always)]
fn put_dec(dst: &mut [u8], pos: usize, mut v: u64) -> usize {
    let n = dec_len(v);
    let d = &mut dst[pos..pos + n];
    let mut i = n;
    while v >= 100 {
        let r = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        d[i] = PAIRS[r];
        d[i + 1] = PAIRS[r + 1];
    }
    if v >= 10 {
        let r = v as usize * 2;
        d[0] = PAIRS[r];
        d[1] = PAIRS[r + 1];
    } else {
        d[0] = b'0' + v as u8;
    }
    pos + n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: impl FnOnce(&mut LineBuf)) -> String {
        let mut b = LineBuf::default();
        f(&mut b);
        String::from_utf8(b.text().to_vec()).unwrap()
    }

    #[test]
    fn numbers_match_the_standard_formatting() {
        let mut dst = [0u8; 32];
        for v in [
            0,
            1,
            9,
            10,
            99,
            100,
            101,
            999,
            1000,
            65535,
            4_294_967_295,
            u64::MAX,
        ] {
            let end = put_dec(&mut dst, 3, v);
            assert_eq!(&dst[3..end], v.to_string().as_bytes());
        }
    }

    #[test]
    fn counting_heads_carry_and_grow() {
        for first in [0u64, 7, 95, 998, 9_999_990, 4_294_967_290] {
            let want: String = (first..first + 20)
                .map(|b| {
                    format!(
                        "\n    <bit block=\"{b}\" value=\"{}\"/>",
                        b.is_multiple_of(3)
                    )
                })
                .collect();
            let thirds =
                |b: u64| (0..64).fold(0u64, |w, i| w | u64::from((b + i).is_multiple_of(3)) << i);
            assert_eq!(text(|t| t.push_bits(first, 20, thirds)), want);
        }
    }

    #[test]
    fn era_and_marked_lines() {
        let eras = [0, 5, 10, 99, 100, 999, 1000, 4_294_967_295, 123_456];
        let want: String = eras
            .iter()
            .enumerate()
            .map(|(i, e)| format!("\n    <era block=\"{}\" era=\"{e}\"/>", 8 + i))
            .collect();
        assert_eq!(text(|t| t.push_eras(8, &eras)), want);
        assert_eq!(
            text(|t| {
                t.push_marked(0, 1);
                t.push_marked(4_294_967_295, 4_294_967_295);
            }),
            "\n    <marked block_begin=\"0\" len=\"1\"/>\n    <marked block_begin=\"4294967295\" len=\"4294967295\"/>"
        );
    }
}
