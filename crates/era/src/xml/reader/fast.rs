//! The elements `era_dump` writes by the million, recognised straight from the bytes:
//! `<era block="N" era="E"/>`, `<bit block="N" value="true"/>` (or `"false"`) and
//! `<marked block_begin="B" len="L"/>`, exactly so written, with values of decimal
//! digits that fit a `u32`. Such an element is what quick-xml reads as an empty tag
//! that [`super::attrs`]' canonical decoders accept, with the same values; anything
//! else (other spacing, quotes, entities, a value out of range, a cut) is left to
//! quick-xml and the general path, and so gets the same errors.

use super::scan::Item;

/// Decimal digits at `bytes[p..]` up to a `"`: the value and the position of the `"`.
#[inline(always)]
fn digits(bytes: &[u8], p: usize) -> Option<(u32, usize)> {
    // Up to 8 digits in one 8-byte word, without a branch per digit.
    if let Some(word) = bytes.get(p..p + 8) {
        let mut a = [0u8; 8];
        a.copy_from_slice(word);
        let v = u64::from_le_bytes(a);
        const LO: u64 = 0x0F0F_0F0F_0F0F_0F0F;
        const HI: u64 = 0xF0F0_F0F0_F0F0_F0F0;
        // A byte is a digit when its high nibble is 3 and its low one below 10; no sum
        // carries into the next byte.
        let bad = ((v & HI) ^ 0x3030_3030_3030_3030) | (((v & LO) + 0x0606_0606_0606_0606) & HI);
        // The high bit of each byte that is not a digit.
        let marks =
            (((bad & 0x7F7F_7F7F_7F7F_7F7F) + 0x7F7F_7F7F_7F7F_7F7F) | bad) & 0x8080_8080_8080_8080;
        let n = (marks.trailing_zeros() / 8) as usize;
        let end = bytes.get(p + n);
        if n > 0 && end == Some(&b'"') {
            // The digits as the low bytes of an 8-digit number with leading zeros.
            let d = (v & LO) << (8 * (8 - n) as u32 % 64);
            let d = (d.wrapping_mul(10) + (d >> 8)) & 0x00FF_00FF_00FF_00FF;
            let d = (d.wrapping_mul(100) + (d >> 16)) & 0x0000_FFFF_0000_FFFF;
            let d = (d.wrapping_mul(10000) + (d >> 32)) & 0xFFFF_FFFF;
            return Some((d as u32, p + n));
        }
        if n < 8 {
            return None;
        }
    }
    digits_slow(bytes, p)
}

/// [`digits`], a byte at a time.
fn digits_slow(bytes: &[u8], mut p: usize) -> Option<(u32, usize)> {
    let start = p;
    let mut v: u64 = 0;
    while let Some(&b) = bytes.get(p) {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        v = v * 10 + u64::from(d);
        if v > u64::from(u32::MAX) {
            return None;
        }
        p += 1;
    }
    (p > start && bytes.get(p) == Some(&b'"')).then_some((v as u32, p))
}

/// `bytes[p..]` with `lit` stripped: the position after it.
#[inline(always)]
fn lit(bytes: &[u8], p: usize, lit: &[u8]) -> Option<usize> {
    let end = p.checked_add(lit.len())?;
    (bytes.get(p..end)? == lit).then_some(end)
}

/// The element at `bytes[p]` (a `<`), if it is one of the regular ones: its item and
/// the position after it.
#[inline]
pub(super) fn element(bytes: &[u8], p: usize) -> Option<(Item, usize)> {
    let at = u32::try_from(p).ok()?;
    match bytes.get(p + 1)? {
        b'e' => {
            let q = lit(bytes, p, b"<era block=\"")?;
            let (block, q) = digits(bytes, q)?;
            let q = lit(bytes, q, b"\" era=\"")?;
            let (era, q) = digits(bytes, q)?;
            let q = lit(bytes, q, b"\"/>")?;
            Some((Item::Era { at, block, era }, q))
        }
        b'b' => {
            let q = lit(bytes, p, b"<bit block=\"")?;
            let (block, q) = digits(bytes, q)?;
            let (value, q) = match lit(bytes, q, b"\" value=\"true\"/>") {
                Some(q) => (true, q),
                None => (false, lit(bytes, q, b"\" value=\"false\"/>")?),
            };
            Some((Item::Bit { at, block, value }, q))
        }
        b'm' => {
            let q = lit(bytes, p, b"<marked block_begin=\"")?;
            let (begin, q) = digits(bytes, q)?;
            let q = lit(bytes, q, b"\" len=\"")?;
            let (len, q) = digits(bytes, q)?;
            let q = lit(bytes, q, b"\"/>")?;
            Some((Item::Marked { at, begin, len }, q))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_elements_only() {
        let el = |s: &str| element(s.as_bytes(), 0);
        assert_eq!(
            el("<era block=\"12\" era=\"3\"/>\n"),
            Some((
                Item::Era {
                    at: 0,
                    block: 12,
                    era: 3
                },
                25
            ))
        );
        assert_eq!(
            el("<bit block=\"7\" value=\"false\"/>"),
            Some((
                Item::Bit {
                    at: 0,
                    block: 7,
                    value: false
                },
                30
            ))
        );
        assert_eq!(
            el("<marked block_begin=\"5\" len=\"64\"/>"),
            Some((
                Item::Marked {
                    at: 0,
                    begin: 5,
                    len: 64
                },
                34
            ))
        );
        assert_eq!(
            el("<era block=\"4294967295\" era=\"007\"/>").map(|(i, _)| i),
            Some(Item::Era {
                at: 0,
                block: u32::MAX,
                era: 7
            })
        );
        for other in [
            "<era block=\"4294967296\" era=\"3\"/>",
            "<era block=\"\" era=\"3\"/>",
            "<era block=\"1\" era=\"3\" />",
            "<era block=\"1\"  era=\"3\"/>",
            "<era block='1' era=\"3\"/>",
            "<era block=\"1\" era=\"3\">",
            "<era block=\"1\" era=\"3\"/",
            "<era block=\"1&#50;\" era=\"3\"/>",
            "<eras block=\"1\" era=\"3\"/>",
            "<bit block=\"1\" value=\"True\"/>",
            "<bit block=\"-1\" value=\"true\"/>",
            "<marked block_begin=\"1\" len=\"2\" x=\"1\"/>",
            "<writeset era=\"1\" nr_bits=\"2\">",
            "<",
        ] {
            assert_eq!(el(other), None, "{other}");
        }
    }

    #[test]
    fn digits_agree_with_a_byte_at_a_time() {
        let mut cases: Vec<String> = Vec::new();
        for v in [
            0u64, 1, 9, 10, 99, 1234567, 9999999, 12345678, 99999999, 100000000, 4294967295,
            4294967296,
        ] {
            cases.push(format!("{v}\"/>  "));
            cases.push(format!("{v}\""));
            cases.push(format!("00{v}\" x"));
            cases.push(format!("{v}x\"   "));
        }
        for odd in [
            "\"",
            ":\"",
            "/\"",
            "1\u{00b9}\"",
            "12 \"     ",
            "\u{ff}\u{ff}\"       ",
        ] {
            cases.push(odd.to_string());
        }
        for c in &cases {
            let b = c.as_bytes();
            assert_eq!(digits(b, 0), digits_slow(b, 0), "{c:?}");
        }
        for c in 0..=255u8 {
            let b = [b'1', c, b'"', b' ', b' ', b' ', b' ', b' ', b' '];
            assert_eq!(digits(&b, 0), digits_slow(&b, 0), "{c}");
        }
    }
}
