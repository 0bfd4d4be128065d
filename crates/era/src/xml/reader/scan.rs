//! The parallel half of the reader: one chunk of input is tokenized by quick-xml into
//! compact items, without knowing where in the document it lies. The hot elements (`<era>`, `<bit>`, `<marked>` as `era_dump` writes them) are
//! decoded here; any other markup is handed on as a byte range for the driver to read.
//!
//! A chunk is read as if it started outside any markup. That holds for the first
//! chunk, and for each later one exactly when the one before ended outside any markup.
//! A chunk that does not ends in [`End::Unclosed`] (quick-xml reports the end of its
//! input inside markup), and is then joined to what follows and scanned on from that
//! markup ([`rescan`]); the speculative scan of the next chunk is dropped. Chunks are
//! cut after a line end or a `>`, never just after a `<`, so that a cut always shows
//! as unclosed markup, never as a different error.

use super::attrs::{bit_fast, era_fast, marked_fast};
use super::fast;
use super::lines::{count_newlines, LineIndex};
use quick_xml::errors::{Error as XmlError, SyntaxError};
use quick_xml::events::Event;

/// One thing found in a chunk; `at` is a byte offset in the chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Item {
    Era {
        at: u32,
        block: u32,
        era: u32,
    },
    Bit {
        at: u32,
        block: u32,
        value: bool,
    },
    Marked {
        at: u32,
        begin: u32,
        len: u32,
    },
    /// Text other than white space; `at` is its first other byte.
    Text {
        at: u32,
    },
    /// Any other element, end tag, declaration, CDATA or DOCTYPE: bytes `[at, end)`.
    Markup {
        at: u32,
        end: u32,
    },
}

/// How the scan of a chunk ended.
#[derive(Debug)]
pub(super) enum End {
    /// At the end of the chunk, outside any markup.
    Clean,
    /// The chunk ends inside markup starting at `at`: it must be joined to the next.
    Unclosed { at: u32, err: XmlError },
    /// The markup at `at` is malformed.
    Failed { at: u32, err: XmlError },
}

/// A scanned chunk.
#[derive(Debug)]
pub(super) struct Scan {
    /// The chunk's bytes are `buf[..len]`.
    pub buf: Vec<u8>,
    pub len: usize,
    pub items: Vec<Item>,
    pub lines: LineIndex,
    pub end: End,
}

impl Scan {
    pub fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// A configured quick-xml reader over `bytes`.
pub(super) fn xml_reader(bytes: &[u8]) -> quick_xml::Reader<&[u8]> {
    let mut xml = quick_xml::Reader::from_reader(bytes);
    let config = xml.config_mut();
    // Nesting is checked by the driver against its state (a chunk may close what an
    // earlier one opened); end tags keep trailing blanks so that nothing is lost.
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    config.trim_text_start = true;
    config.trim_markup_names_in_closing_tags = false;
    xml
}

/// Scans `buf[..len]`; `first` is the first chunk of the input (which may hold a BOM).
/// The chunk must be shorter than 4 GiB. `items` is a vector to reuse.
pub(super) fn scan(buf: Vec<u8>, len: usize, first: bool, mut items: Vec<Item>) -> Scan {
    let bytes = &buf[..len];
    items.clear();
    items.reserve(len / 32);
    let (end, newlines) = scan_items(bytes, 0, first, &mut items);
    let lines = LineIndex::with_total(newlines);
    Scan {
        buf,
        len,
        items,
        lines,
        end,
    }
}

/// Joins `more` to a scan that ended inside markup starting at `at`, and scans on
/// from `at`: the items before it stand.
pub(super) fn rescan(scan: Scan, at: usize, more: &[u8], first: bool) -> Scan {
    let Scan {
        mut buf,
        len,
        mut items,
        ..
    } = scan;
    buf.truncate(len);
    buf.extend_from_slice(more);
    let len = buf.len();
    let bytes = &buf[..len];
    let lines = LineIndex::new(bytes);
    let (end, _) = scan_items(bytes, at.min(len), first, &mut items);
    Scan {
        buf,
        len,
        items,
        lines,
        end,
    }
}

/// Scans `bytes[start..]`, which starts outside any markup; returns how the scan ended
/// and the newlines of `bytes[start..]`.
fn scan_items(bytes: &[u8], start: usize, first: bool, items: &mut Vec<Item>) -> (End, u64) {
    let mut newlines = count_newlines(&bytes[..start.min(bytes.len())]);
    let (end, stop) = scan_from(bytes, start, first, items, &mut newlines);
    // Past where the scan stopped, counted apart.
    (
        end,
        newlines + count_newlines(&bytes[stop.min(bytes.len())..]),
    )
}

/// [`scan_items`], counting newlines in `newlines` up to where it stops, returned.
fn scan_from(
    bytes: &[u8],
    start: usize,
    first: bool,
    items: &mut Vec<Item>,
    newlines: &mut u64,
) -> (End, usize) {
    // The input may start with a byte order mark. quick-xml would drop one at the
    // start of any chunk, and not count it in its offsets: drop it here, and let
    // quick-xml see none.
    const BOM: &[u8] = b"\xef\xbb\xbf";
    let mut p = if first && start == 0 && bytes.starts_with(BOM) {
        3
    } else {
        start
    };
    loop {
        // White space between markup is skipped, as quick-xml skips it.
        while let Some(&b) = bytes.get(p) {
            if !is_blank(b) {
                break;
            }
            *newlines += u64::from(b == b'\n');
            p += 1;
        }
        match bytes.get(p) {
            None => return (End::Clean, p),
            // Text (a BOM included): what quick-xml reads as text, from its first
            // byte that is not white space.
            Some(&b) if b != b'<' => {
                items.push(Item::Text { at: p as u32 });
                return (End::Clean, p);
            }
            Some(_) => {}
        }
        if let Some((item, next)) = fast::element(bytes, p) {
            push(items, item);
            p = next;
            continue;
        }
        match one_event(bytes, p, items) {
            Ok(next) => {
                *newlines += count_newlines(&bytes[p..next.min(bytes.len())]);
                p = next;
            }
            Err(end) => return (end, p),
        }
    }
}

/// Pushes `item`, unless it is an unmarked `<bit>` that follows another: the driver
/// only checks where one is, and the first of them is where it is blamed.
#[inline(always)]
fn push(items: &mut Vec<Item>, item: Item) {
    if let (Item::Bit { value: false, .. }, Some(Item::Bit { value: false, .. })) =
        (item, items.last())
    {
        return;
    }
    items.push(item);
}

/// Reads the markup at `bytes[p]` (a `<`) with quick-xml; returns the position after
/// it, or how the scan ends.
fn one_event(bytes: &[u8], p: usize, items: &mut Vec<Item>) -> Result<usize, End> {
    let input = &bytes[p..];
    let mut xml = xml_reader(input);
    let at = p as u32;
    let event = xml.read_event();
    let end = p + xml.buffer_position() as usize;
    match event {
        Ok(Event::Empty(tag)) => {
            let content: &[u8] = &tag;
            let item = match content.first() {
                Some(b'e') => era_fast(content).map(|(block, era)| Item::Era { at, block, era }),
                Some(b'b') => {
                    bit_fast(content).map(|(block, value)| Item::Bit { at, block, value })
                }
                Some(b'm') => {
                    marked_fast(content).map(|(begin, len)| Item::Marked { at, begin, len })
                }
                _ => None,
            };
            push(
                items,
                item.unwrap_or(Item::Markup {
                    at,
                    end: end as u32,
                }),
            );
        }
        // Never at a `<`: kept for completeness.
        Ok(Event::Text(_)) => {
            items.push(Item::Text { at });
            return Err(End::Clean);
        }
        Ok(Event::Comment(_) | Event::PI(_)) => {}
        Ok(Event::Eof) => return Err(End::Clean),
        Ok(_) => items.push(Item::Markup {
            at,
            end: end as u32,
        }),
        Err(err) => {
            return Err(if is_unclosed(&err) {
                End::Unclosed { at, err }
            } else {
                End::Failed { at, err }
            })
        }
    }
    Ok(end)
}

/// Whether `err` says the input ended inside markup.
fn is_unclosed(err: &XmlError) -> bool {
    matches!(
        err,
        XmlError::Syntax(
            SyntaxError::UnclosedPIOrXmlDecl
                | SyntaxError::UnclosedComment
                | SyntaxError::UnclosedDoctype
                | SyntaxError::UnclosedCData
                | SyntaxError::UnclosedTag
        )
    )
}

/// XML white space.
pub(super) fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}
