//! The elements of era XML and their attributes: lookup by name, collection with
//! duplicate, unknown and missing checks, and decoding of values straight from bytes.

use quick_xml::events::BytesStart;
use std::borrow::Cow;

/// The elements `era_dump` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Elem {
    Superblock,
    Writeset,
    Bit,
    Marked,
    EraArray,
    Era,
}

impl Elem {
    pub fn from_name(name: &[u8]) -> Option<Elem> {
        Some(match name {
            b"era" => Elem::Era,
            b"bit" => Elem::Bit,
            b"marked" => Elem::Marked,
            b"writeset" => Elem::Writeset,
            b"era_array" => Elem::EraArray,
            b"superblock" => Elem::Superblock,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Elem::Superblock => "superblock",
            Elem::Writeset => "writeset",
            Elem::Bit => "bit",
            Elem::Marked => "marked",
            Elem::EraArray => "era_array",
            Elem::Era => "era",
        }
    }
}

/// The longest attribute value accepted, in bytes as written. `era_dump` writes
/// numbers, booleans and an empty `uuid`; this leaves room for any real uuid and keeps
/// a huge value from costing memory in every copy made of it.
pub(super) const MAX_ATTRIBUTE_LEN: usize = 4096;

/// A fault in a tag, at `offset` bytes into the tag's content (just after its `<`), or
/// at the tag itself.
#[derive(Debug)]
pub(super) struct AttrFault {
    pub offset: Option<usize>,
    pub msg: String,
}

/// A raw attribute value and its offset in the tag's content.
#[derive(Debug, Clone, Copy)]
pub(super) struct RawValue<'a> {
    pub offset: usize,
    pub bytes: &'a [u8],
}

/// Where `inner` starts within `outer` (both views of the same tag buffer).
fn offset_in(outer: &[u8], inner: &[u8]) -> usize {
    (inner.as_ptr() as usize)
        .checked_sub(outer.as_ptr() as usize)
        .filter(|&o| o <= outer.len())
        .unwrap_or(0)
}

/// Collects the attributes `names` of `tag` (element `elem`), each exactly once and
/// nothing else, in any order.
pub(super) fn collect<'a, const N: usize>(
    tag: &'a BytesStart<'a>,
    elem: Elem,
    names: &[&str; N],
) -> Result<[RawValue<'a>; N], AttrFault> {
    let content: &'a [u8] = tag;
    let mut found: [Option<RawValue<'a>>; N] = [None; N];
    let mut attrs = tag.attributes();
    attrs.with_checks(false);
    for attr in attrs {
        let attr = attr.map_err(|e| AttrFault {
            offset: Some(attr_error_offset(&e)),
            msg: format!("malformed attribute in <{}>: {e}", elem.name()),
        })?;
        let key = attr.key.as_ref();
        let key_offset = offset_in(content, key);
        let Some(i) = names.iter().position(|n| n.as_bytes() == key) else {
            return Err(AttrFault {
                offset: Some(key_offset),
                msg: format!(
                    "unknown attribute \"{}\" in <{}>: expected {}",
                    String::from_utf8_lossy(key),
                    elem.name(),
                    list(names)
                ),
            });
        };
        if found[i].is_some() {
            return Err(AttrFault {
                offset: Some(key_offset),
                msg: format!(
                    "attribute \"{}\" of <{}> is given twice",
                    names[i],
                    elem.name()
                ),
            });
        }
        let bytes: &'a [u8] = match attr.value {
            Cow::Borrowed(b) => b,
            // The attribute iterator borrows raw values; this is never taken.
            Cow::Owned(_) => {
                return Err(AttrFault {
                    offset: Some(key_offset),
                    msg: format!(
                        "attribute \"{}\" of <{}> is unreadable",
                        names[i],
                        elem.name()
                    ),
                })
            }
        };
        if bytes.len() > MAX_ATTRIBUTE_LEN {
            return Err(AttrFault {
                offset: Some(key_offset),
                msg: format!(
                    "attribute \"{}\" of <{}> is {} bytes long: at most {MAX_ATTRIBUTE_LEN} are accepted",
                    names[i],
                    elem.name(),
                    bytes.len()
                ),
            });
        }
        found[i] = Some(RawValue {
            offset: offset_in(content, bytes),
            bytes,
        });
    }
    let mut out = [RawValue {
        offset: 0,
        bytes: &[],
    }; N];
    for (i, f) in found.iter().enumerate() {
        match f {
            Some(v) => out[i] = *v,
            None => {
                return Err(AttrFault {
                    offset: None,
                    msg: format!(
                        "<{}> lacks the attribute \"{}\" (expected {})",
                        elem.name(),
                        names[i],
                        list(names)
                    ),
                })
            }
        }
    }
    Ok(out)
}

fn attr_error_offset(e: &quick_xml::events::attributes::AttrError) -> usize {
    use quick_xml::events::attributes::AttrError::*;
    match *e {
        ExpectedEq(o) | ExpectedValue(o) | UnquotedValue(o) | ExpectedQuote(o, _) => o,
        Duplicated(o, _) => o,
    }
}

/// `a, b and c`.
fn list(names: &[&str]) -> String {
    match names {
        [] => "no attributes".to_string(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The two values of a tag written exactly as `era_dump` writes it,
/// `name k1="v1" k2="v2"`, or `None` for any other layout (which then goes the
/// general way). `content` is the tag after its `<`, without `/` or `>`.
#[inline(always)]
fn canonical_pair<'a>(
    content: &'a [u8],
    name: &[u8],
    k1: &[u8],
    k2: &[u8],
) -> Option<(&'a [u8], &'a [u8])> {
    let rest = content.strip_prefix(name)?.strip_prefix(b" ")?;
    let rest = rest.strip_prefix(k1)?.strip_prefix(b"=\"")?;
    let q = rest.iter().position(|&b| b == b'"')?;
    let v1 = &rest[..q];
    let rest = rest[q + 1..].strip_prefix(b" ")?.strip_prefix(k2)?;
    let v2 = rest.strip_prefix(b"=\"")?.strip_suffix(b"\"")?;
    Some((v1, v2))
}

/// `<era block="N" era="E"/>` in the canonical layout.
#[inline]
pub(super) fn era_fast(content: &[u8]) -> Option<(u32, u32)> {
    let (b, e) = canonical_pair(content, b"era", b"block", b"era")?;
    Some((parse_u32(b)?, parse_u32(e)?))
}

/// `<bit block="N" value="true|false"/>` in the canonical layout.
#[inline]
pub(super) fn bit_fast(content: &[u8]) -> Option<(u32, bool)> {
    let (b, v) = canonical_pair(content, b"bit", b"block", b"value")?;
    let value = match v {
        b"true" => true,
        b"false" => false,
        _ => return None,
    };
    Some((parse_u32(b)?, value))
}

/// `<marked block_begin="B" len="L"/>` in the canonical layout.
#[inline]
pub(super) fn marked_fast(content: &[u8]) -> Option<(u32, u32)> {
    let (b, l) = canonical_pair(content, b"marked", b"block_begin", b"len")?;
    Some((parse_u32(b)?, parse_u32(l)?))
}

/// Decodes a `u32` attribute value.
pub(super) fn u32_value(elem: Elem, name: &str, v: RawValue<'_>) -> Result<u32, AttrFault> {
    if let Some(n) = parse_u32(v.bytes) {
        return Ok(n);
    }
    // Slow path: a value written with character references, or a bad one.
    let text = unescape(elem, name, v)?;
    let fault = |what: &str| AttrFault {
        offset: Some(v.offset),
        msg: format!("attribute {name}=\"{text}\" of <{}> {what}", elem.name()),
    };
    if text.bytes().all(|b| b.is_ascii_digit()) && !text.is_empty() {
        match parse_u32(text.as_bytes()) {
            Some(n) => Ok(n),
            None => Err(fault("is out of range: expected at most 4294967295")),
        }
    } else {
        Err(fault(
            "is not a number: expected an unsigned decimal integer",
        ))
    }
}

/// Decodes a `true`/`false` attribute value.
pub(super) fn bool_value(elem: Elem, name: &str, v: RawValue<'_>) -> Result<bool, AttrFault> {
    match v.bytes {
        b"true" => Ok(true),
        b"false" => Ok(false),
        _ => {
            let text = unescape(elem, name, v)?;
            match &*text {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(AttrFault {
                    offset: Some(v.offset),
                    msg: format!(
                        "attribute {name}=\"{text}\" of <{}>: expected \"true\" or \"false\"",
                        elem.name()
                    ),
                }),
            }
        }
    }
}

/// Decodes a text attribute value (entities resolved).
pub(super) fn string_value(elem: Elem, name: &str, v: RawValue<'_>) -> Result<String, AttrFault> {
    unescape(elem, name, v).map(Cow::into_owned)
}

fn unescape<'a>(elem: Elem, name: &str, v: RawValue<'a>) -> Result<Cow<'a, str>, AttrFault> {
    let fault = |what: String| AttrFault {
        offset: Some(v.offset),
        msg: format!("attribute \"{name}\" of <{}> {what}", elem.name()),
    };
    let s = std::str::from_utf8(v.bytes).map_err(|_| fault("is not valid UTF-8".into()))?;
    quick_xml::escape::unescape(s).map_err(|e| fault(format!("has a bad escape: {e}")))
}

/// Parses decimal digits into a `u32`; `None` if empty, not all digits or too large.
#[inline]
fn parse_u32(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &b in bytes {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + u64::from(d);
        if v > u64::from(u32::MAX) {
            return None;
        }
    }
    Some(v as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_layouts_take_the_fast_path() {
        assert_eq!(era_fast(b"era block=\"12\" era=\"3\""), Some((12, 3)));
        assert_eq!(bit_fast(b"bit block=\"0\" value=\"true\""), Some((0, true)));
        assert_eq!(
            bit_fast(b"bit block=\"7\" value=\"false\""),
            Some((7, false))
        );
        assert_eq!(
            marked_fast(b"marked block_begin=\"5\" len=\"64\""),
            Some((5, 64))
        );
        // Anything else goes the general way.
        assert_eq!(era_fast(b"era era=\"3\" block=\"12\""), None);
        assert_eq!(era_fast(b"era block=\"12\"  era=\"3\""), None);
        assert_eq!(era_fast(b"era block=\"12\" era=\"3\" "), None);
        assert_eq!(era_fast(b"era block='12' era=\"3\""), None);
        assert_eq!(era_fast(b"era block=\"1&#50;\" era=\"3\""), None);
        assert_eq!(era_fast(b"era block=\"12\" era=\"3\" x=\"1\""), None);
        assert_eq!(bit_fast(b"bit block=\"7\" value=\"True\""), None);
        assert_eq!(era_fast(b"eras block=\"1\" era=\"3\""), None);
    }

    #[test]
    fn parse_u32_bounds() {
        assert_eq!(parse_u32(b"0"), Some(0));
        assert_eq!(parse_u32(b"007"), Some(7));
        assert_eq!(parse_u32(b"4294967295"), Some(u32::MAX));
        assert_eq!(parse_u32(b"4294967296"), None);
        assert_eq!(parse_u32(b"99999999999999999999999"), None);
        assert_eq!(parse_u32(b""), None);
        assert_eq!(parse_u32(b"-1"), None);
        assert_eq!(parse_u32(b"1 "), None);
        assert_eq!(parse_u32(b"+1"), None);
    }
}
