//! XML → era metadata: reads what `era_dump` writes (either writeset form) and drives a
//! [`Visitor`] in document order, checking the structure strictly on the way.
//!
//! quick-xml tokenizes; this module tracks lines, checks nesting and attributes, and
//! hands marked blocks and eras to the visitor in coalesced runs and slices.

mod attrs;
mod batch;
mod error;
mod lines;

pub use error::{ReadError, ReadErrorKind};

use crate::era::ir::{EraMetadata, SuperblockIr, Visitor, WritesetIr};
use crate::era::ir_builder::IrBuilder;
use attrs::{bool_value, collect, string_value, u32_value, AttrFault, Elem};
use batch::{PendingEras, PendingRun};
use error::Pos;
use lines::Lines;
use quick_xml::events::{BytesStart, Event};
use std::fmt::Display;
use std::io::BufRead;

/// Reads era XML from `input` and feeds it to `visitor`.
///
/// Consecutive marked blocks (`<bit value="true"/>` or `<marked/>`) reach the visitor
/// as one `writeset_run`, consecutive `<era>` entries as one `eras` call. An error of
/// the visitor is reported at the first element of the call that failed.
pub fn read_xml<R: BufRead, V: Visitor>(input: R, visitor: &mut V) -> Result<(), ReadError>
where
    V::Error: Display,
{
    read_to_end(input, visitor).map(|_| ())
}

/// Reads era XML into an [`EraMetadata`], checked by an [`IrBuilder`].
pub fn build_from_xml<R: BufRead>(input: R) -> Result<EraMetadata, ReadError> {
    let mut builder = IrBuilder::new();
    let end = read_to_end(input, &mut builder)?;
    builder
        .into_metadata()
        .map_err(|e| ReadError::new(end, ReadErrorKind::Visitor, e))
}

/// Where the reader is in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before `<superblock>`.
    Prolog,
    /// In the superblock, before the era array.
    Superblock,
    Writeset,
    EraArray,
    /// In the superblock, after the era array.
    AfterEraArray,
    /// Inside a leaf element written with an end tag (`<era ...></era>`).
    Leaf(Elem),
    /// After `</superblock>`.
    Done,
}

impl State {
    /// What may come next, for messages.
    fn expected(self) -> &'static str {
        match self {
            State::Prolog => "<superblock>",
            State::Superblock => "<writeset> or <era_array>",
            State::Writeset => "<bit>, <marked> or </writeset>",
            State::EraArray => "<era> or </era_array>",
            State::AfterEraArray => "</superblock>",
            State::Leaf(Elem::Bit) => "</bit>",
            State::Leaf(Elem::Marked) => "</marked>",
            State::Leaf(Elem::Era) => "</era>",
            State::Leaf(_) => "an end tag",
            State::Done => "the end of the input after </superblock>",
        }
    }
}

struct Reader<'v, V> {
    visitor: &'v mut V,
    lines: Lines,
    state: State,
    nr_blocks: u32,
    nr_bits: u32,
    run: PendingRun,
    eras: PendingEras,
}

/// Reads the whole input; returns the position of its end.
fn read_to_end<R: BufRead, V: Visitor>(input: R, visitor: &mut V) -> Result<Pos, ReadError>
where
    V::Error: Display,
{
    let mut xml = quick_xml::Reader::from_reader(input);
    let config = xml.config_mut();
    // Nesting is checked here, against the state; trailing blanks in end tags are
    // kept so that lines are counted through them.
    config.check_end_names = false;
    config.trim_markup_names_in_closing_tags = false;
    let mut r = Reader {
        visitor,
        lines: Lines::new(),
        state: State::Prolog,
        nr_blocks: 0,
        nr_bits: 0,
        run: PendingRun::default(),
        eras: PendingEras::default(),
    };
    let mut buf = Vec::with_capacity(4096);
    loop {
        buf.clear();
        let start = xml.buffer_position();
        let event = match xml.read_event_into(&mut buf) {
            Ok(e) => e,
            Err(e) => {
                let err = ReadError::new(
                    r.lines.pos(start),
                    malformed_kind(&e),
                    format_args!("malformed XML: {e}"),
                );
                return Err(r.flush_before(err));
            }
        };
        if let Event::Eof = event {
            let pos = r.lines.pos(start);
            if r.state != State::Done {
                let err = ReadError::new(
                    pos,
                    ReadErrorKind::Invalid,
                    format_args!("unexpected end of input: expected {}", r.state.expected()),
                );
                return Err(r.flush_before(err));
            }
            return Ok(pos);
        }
        if let Err(err) = r.event(start, event) {
            return Err(r.flush_before(err));
        }
    }
}

fn malformed_kind(e: &quick_xml::Error) -> ReadErrorKind {
    match e {
        quick_xml::Error::Io(_) => ReadErrorKind::Io,
        _ => ReadErrorKind::Malformed,
    }
}

impl<V: Visitor> Reader<'_, V>
where
    V::Error: Display,
{
    /// Handles one event starting at byte `start`.
    #[inline]
    fn event(&mut self, start: u64, event: Event<'_>) -> Result<(), ReadError> {
        let pos = self.lines.pos(start);
        match event {
            Event::Empty(tag) => {
                if !self.canonical_leaf(&tag, pos)? {
                    self.start_tag(&tag, true, start)?;
                    self.lines.advance(start + 1, &tag);
                }
            }
            Event::Start(tag) => {
                self.start_tag(&tag, false, start)?;
                self.lines.advance(start + 1, &tag);
            }
            Event::Text(text) => {
                if let Err(i) = self.lines.advance_blank(start, &text) {
                    let at = self.lines.pos_within(start, &text, i);
                    return Err(self.unexpected(at, "text"));
                }
            }
            Event::End(tag) => {
                let name = trim_end_blanks(&tag);
                self.end_tag(name, pos)?;
                self.lines.advance(start + 2, &tag);
            }
            Event::Comment(text) => self.lines.advance(start + 4, &text),
            Event::PI(pi) => self.lines.advance(start + 2, &pi),
            Event::Decl(decl) => {
                if self.state != State::Prolog {
                    return Err(self.unexpected(pos, "an XML declaration"));
                }
                self.lines.advance(start + 2, &decl);
            }
            Event::CData(_) => return Err(self.unexpected(pos, "a CDATA section")),
            Event::DocType(_) => return Err(self.unexpected(pos, "a DOCTYPE")),
            Event::Eof => {}
        }
        Ok(())
    }

    fn unexpected(&self, pos: Pos, found: impl Display) -> ReadError {
        ReadError::new(
            pos,
            ReadErrorKind::Invalid,
            format_args!("expected {}, found {found}", self.state.expected()),
        )
    }

    /// Hands over what is pending before reporting `err`, so that errors come out in
    /// document order.
    fn flush_before(&mut self, err: ReadError) -> ReadError {
        if err.kind == ReadErrorKind::Visitor {
            return err;
        }
        match (self.run.flush(self.visitor), self.eras.flush(self.visitor)) {
            (Err(e), _) | (_, Err(e)) => e,
            _ => err,
        }
    }

    /// The hot path: a self-closing `<era>`, `<bit>` or `<marked>` in its container,
    /// written exactly as `era_dump` writes it (which holds no line break). Returns
    /// `false` for anything else.
    #[inline]
    fn canonical_leaf(&mut self, tag: &BytesStart<'_>, pos: Pos) -> Result<bool, ReadError> {
        match self.state {
            State::EraArray => {
                if let Some((block, era)) = attrs::era_fast(tag) {
                    self.eras
                        .add(self.visitor, block, era, self.nr_blocks, pos)?;
                    return Ok(true);
                }
            }
            State::Writeset => {
                if let Some((block, value)) = attrs::bit_fast(tag) {
                    if value {
                        self.run.add(self.visitor, block, 1, self.nr_bits, pos)?;
                    }
                    return Ok(true);
                }
                if let Some((begin, len)) = attrs::marked_fast(tag) {
                    self.run.add(self.visitor, begin, len, self.nr_bits, pos)?;
                    return Ok(true);
                }
            }
            _ => {}
        }
        Ok(false)
    }

    fn start_tag(
        &mut self,
        tag: &BytesStart<'_>,
        empty: bool,
        start: u64,
    ) -> Result<(), ReadError> {
        let pos = self.lines.pos(start);
        let elem = Elem::from_name(tag.name().as_ref());
        let fault = |r: &Self, f: AttrFault| {
            let at = match f.offset {
                Some(o) => r.lines.pos_within(start + 1, tag, o),
                None => pos,
            };
            ReadError::new(at, ReadErrorKind::Invalid, f.msg)
        };
        match (self.state, elem) {
            (State::EraArray, Some(Elem::Era)) => {
                let (block, era) = era_attrs(tag).map_err(|f| fault(self, f))?;
                self.eras
                    .add(self.visitor, block, era, self.nr_blocks, pos)?;
                if !empty {
                    self.state = State::Leaf(Elem::Era);
                }
            }
            (State::Writeset, Some(Elem::Bit)) => {
                let (block, value) = bit_attrs(tag).map_err(|f| fault(self, f))?;
                if value {
                    self.run.add(self.visitor, block, 1, self.nr_bits, pos)?;
                }
                if !empty {
                    self.state = State::Leaf(Elem::Bit);
                }
            }
            (State::Writeset, Some(Elem::Marked)) => {
                let (begin, len) = marked_attrs(tag).map_err(|f| fault(self, f))?;
                self.run.add(self.visitor, begin, len, self.nr_bits, pos)?;
                if !empty {
                    self.state = State::Leaf(Elem::Marked);
                }
            }
            (State::Superblock, Some(Elem::Writeset)) => {
                let ws = writeset_attrs(tag).map_err(|f| fault(self, f))?;
                self.nr_bits = ws.nr_bits;
                self.visit(pos, |v| v.writeset_begin(&ws))?;
                if empty {
                    self.visit(pos, |v| v.writeset_end())?;
                } else {
                    self.state = State::Writeset;
                }
            }
            (State::Superblock, Some(Elem::EraArray)) => {
                collect(tag, Elem::EraArray, &[]).map_err(|f| fault(self, f))?;
                self.visit(pos, |v| v.era_array_begin())?;
                if empty {
                    self.visit(pos, |v| v.era_array_end())?;
                    self.state = State::AfterEraArray;
                } else {
                    self.state = State::EraArray;
                }
            }
            (State::Prolog, Some(Elem::Superblock)) => {
                let sb = superblock_attrs(tag).map_err(|f| fault(self, f))?;
                self.nr_blocks = sb.nr_blocks;
                self.visit(pos, |v| v.superblock_begin(&sb))?;
                if empty {
                    return Err(ReadError::new(
                        pos,
                        ReadErrorKind::Invalid,
                        "<superblock/> is empty: expected <era_array> inside it",
                    ));
                }
                self.state = State::Superblock;
            }
            _ => {
                let name = String::from_utf8_lossy(tag.name().as_ref()).into_owned();
                let found = if elem.is_some() {
                    format!("<{name}>")
                } else {
                    format!("<{name}>, which is not an element of era metadata")
                };
                return Err(self.unexpected(pos, found));
            }
        }
        Ok(())
    }

    fn end_tag(&mut self, name: &[u8], pos: Pos) -> Result<(), ReadError> {
        let elem = Elem::from_name(name);
        match (self.state, elem) {
            (State::Leaf(open), Some(e)) if open == e => {
                self.state = match e {
                    Elem::Era => State::EraArray,
                    _ => State::Writeset,
                };
            }
            (State::Writeset, Some(Elem::Writeset)) => {
                self.run.flush(self.visitor)?;
                self.visit(pos, |v| v.writeset_end())?;
                self.state = State::Superblock;
            }
            (State::EraArray, Some(Elem::EraArray)) => {
                self.eras.flush(self.visitor)?;
                self.visit(pos, |v| v.era_array_end())?;
                self.state = State::AfterEraArray;
            }
            (State::AfterEraArray, Some(Elem::Superblock)) => {
                self.visit(pos, |v| v.superblock_end())?;
                self.state = State::Done;
            }
            _ => {
                let found = format!("</{}>", String::from_utf8_lossy(name));
                return Err(self.unexpected(pos, found));
            }
        }
        Ok(())
    }

    /// Calls the visitor, blaming its error on the element at `pos`.
    fn visit(
        &mut self,
        pos: Pos,
        f: impl FnOnce(&mut V) -> Result<(), V::Error>,
    ) -> Result<(), ReadError> {
        f(self.visitor).map_err(|e| ReadError::new(pos, ReadErrorKind::Visitor, e))
    }
}

#[inline]
fn era_attrs(tag: &BytesStart<'_>) -> Result<(u32, u32), AttrFault> {
    let [block, era] = collect(tag, Elem::Era, &["block", "era"])?;
    Ok((
        u32_value(Elem::Era, "block", block)?,
        u32_value(Elem::Era, "era", era)?,
    ))
}

#[inline]
fn bit_attrs(tag: &BytesStart<'_>) -> Result<(u32, bool), AttrFault> {
    let [block, value] = collect(tag, Elem::Bit, &["block", "value"])?;
    Ok((
        u32_value(Elem::Bit, "block", block)?,
        bool_value(Elem::Bit, "value", value)?,
    ))
}

fn marked_attrs(tag: &BytesStart<'_>) -> Result<(u32, u32), AttrFault> {
    let [begin, len] = collect(tag, Elem::Marked, &["block_begin", "len"])?;
    Ok((
        u32_value(Elem::Marked, "block_begin", begin)?,
        u32_value(Elem::Marked, "len", len)?,
    ))
}

fn writeset_attrs(tag: &BytesStart<'_>) -> Result<WritesetIr, AttrFault> {
    let [era, nr_bits] = collect(tag, Elem::Writeset, &["era", "nr_bits"])?;
    Ok(WritesetIr {
        era: u32_value(Elem::Writeset, "era", era)?,
        nr_bits: u32_value(Elem::Writeset, "nr_bits", nr_bits)?,
    })
}

fn superblock_attrs(tag: &BytesStart<'_>) -> Result<SuperblockIr, AttrFault> {
    const E: Elem = Elem::Superblock;
    let [uuid, block_size, nr_blocks, current_era] =
        collect(tag, E, &["uuid", "block_size", "nr_blocks", "current_era"])?;
    Ok(SuperblockIr {
        uuid: string_value(E, "uuid", uuid)?,
        block_size: u32_value(E, "block_size", block_size)?,
        nr_blocks: u32_value(E, "nr_blocks", nr_blocks)?,
        current_era: u32_value(E, "current_era", current_era)?,
    })
}

/// XML white space.
pub(super) fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn trim_end_blanks(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., last] = s {
        if !is_blank(*last) {
            break;
        }
        s = rest;
    }
    s
}

#[cfg(test)]
mod tests;
