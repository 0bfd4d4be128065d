//! The sequential half of the reader: takes the items of each chunk in document order,
//! checks where each may appear, and drives the visitor.

use super::attrs::{self, collect, string_value, u32_value, AttrFault, Elem};
use super::batch::{Loc, PendingEras, PendingRun};
use super::error::{Pos, ReadError, ReadErrorKind};
use super::lines::LineIndex;
use super::scan::{is_blank, xml_reader, End, Item, Scan};
use crate::ir::{SuperblockIr, Visitor, WritesetIr};
use crate::units::Era;
use quick_xml::events::{BytesStart, Event};
use std::fmt::Display;

/// Where the driver is in the document.
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

/// The chunk being driven: its bytes, newlines, and the position of its first byte.
struct Ctx<'a> {
    bytes: &'a [u8],
    lines: &'a LineIndex,
    start: Pos,
}

impl Ctx<'_> {
    fn pos(&self, at: u32) -> Pos {
        self.pos_after(at, 0)
    }

    /// The position `skip` bytes after `at`.
    fn pos_after(&self, at: u32, skip: usize) -> Pos {
        self.lines.pos(self.bytes, self.start, at as usize + skip)
    }

    fn resolve(&self, loc: Loc) -> Pos {
        match loc {
            Loc::Here(at) => self.pos(at),
            Loc::At(pos) => pos,
        }
    }
}

pub(super) struct Driver<'v, V> {
    visitor: &'v mut V,
    state: State,
    nr_blocks: u32,
    nr_bits: u32,
    run: PendingRun,
    eras: PendingEras,
}

impl<'v, V: Visitor> Driver<'v, V>
where
    V::Error: Display,
{
    pub fn new(visitor: &'v mut V) -> Self {
        Driver {
            visitor,
            state: State::Prolog,
            nr_blocks: 0,
            nr_bits: 0,
            run: PendingRun::default(),
            eras: PendingEras::default(),
        }
    }

    /// Drives the items of `scan`, whose first byte is at `start`. A chunk that
    /// ends inside markup is reported as malformed: the caller joins such a chunk to
    /// the next one first, while there is one.
    pub fn chunk(&mut self, scan: &Scan, start: Pos) -> Result<(), ReadError> {
        let ctx = Ctx {
            bytes: scan.bytes(),
            lines: &scan.lines,
            start,
        };
        let r = self
            .items(&ctx, &scan.items)
            .and_then(|()| match &scan.end {
                End::Clean => Ok(()),
                End::Unclosed { at, err } | End::Failed { at, err } => {
                    Err(malformed(ctx.pos(*at), err))
                }
            });
        if let Err(e) = r {
            return Err(self.flush_before(&ctx, e));
        }
        let resolve = |l| ctx.resolve(l);
        self.run.settle(resolve);
        self.eras.settle(resolve);
        Ok(())
    }

    /// Checks that the document is complete at its end, `end`.
    pub fn finish(&mut self, end: Pos) -> Result<(), ReadError> {
        if self.state == State::Done {
            return Ok(());
        }
        let err = ReadError::new(
            end,
            ReadErrorKind::Invalid,
            format_args!(
                "unexpected end of input: expected {}",
                self.state.expected()
            ),
        );
        let resolve = |l| match l {
            Loc::At(p) => p,
            Loc::Here(_) => end,
        };
        self.run.flush(self.visitor, resolve)?;
        self.eras.flush(self.visitor, resolve)?;
        Err(err)
    }

    #[inline]
    fn items(&mut self, ctx: &Ctx<'_>, items: &[Item]) -> Result<(), ReadError> {
        let resolve = |l| ctx.resolve(l);
        for item in items {
            match *item {
                Item::Era { at, block, era } => {
                    if self.state != State::EraArray {
                        return Err(self.misplaced(ctx, at, Elem::Era));
                    }
                    self.eras.add(
                        self.visitor,
                        block,
                        era,
                        self.nr_blocks,
                        Loc::Here(at),
                        resolve,
                    )?;
                }
                Item::Bit { at, block, value } => {
                    if self.state != State::Writeset {
                        return Err(self.misplaced(ctx, at, Elem::Bit));
                    }
                    if value {
                        self.run.add(
                            self.visitor,
                            block,
                            1,
                            self.nr_bits,
                            Loc::Here(at),
                            resolve,
                        )?;
                    }
                }
                Item::Marked { at, begin, len } => {
                    if self.state != State::Writeset {
                        return Err(self.misplaced(ctx, at, Elem::Marked));
                    }
                    self.run.add(
                        self.visitor,
                        begin,
                        len,
                        self.nr_bits,
                        Loc::Here(at),
                        resolve,
                    )?;
                }
                Item::Text { at } => return Err(self.unexpected(ctx.pos(at), "text")),
                Item::Markup { at, end } => self.markup(ctx, at, end)?,
            }
        }
        Ok(())
    }

    fn misplaced(&self, ctx: &Ctx<'_>, at: u32, elem: Elem) -> ReadError {
        self.unexpected(ctx.pos(at), format_args!("<{}>", elem.name()))
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
    fn flush_before(&mut self, ctx: &Ctx<'_>, err: ReadError) -> ReadError {
        if err.kind == ReadErrorKind::Visitor {
            return err;
        }
        let resolve = |l| ctx.resolve(l);
        match (
            self.run.flush(self.visitor, resolve),
            self.eras.flush(self.visitor, resolve),
        ) {
            (Err(e), _) | (_, Err(e)) => e,
            _ => err,
        }
    }

    /// Reads again the markup at `[at, end)` of the chunk and acts on it.
    fn markup(&mut self, ctx: &Ctx<'_>, at: u32, end: u32) -> Result<(), ReadError> {
        let raw = ctx.bytes.get(at as usize..end as usize).unwrap_or_default();
        let mut xml = xml_reader(raw);
        let pos = ctx.pos(at);
        match xml.read_event() {
            Ok(Event::Empty(tag)) => self.start_tag(ctx, &tag, true, at),
            Ok(Event::Start(tag)) => self.start_tag(ctx, &tag, false, at),
            Ok(Event::End(tag)) => self.end_tag(ctx, trim_end_blanks(&tag), pos),
            Ok(Event::Decl(_)) if self.state == State::Prolog => Ok(()),
            Ok(Event::Decl(_)) => Err(self.unexpected(pos, "an XML declaration")),
            Ok(Event::CData(_)) => Err(self.unexpected(pos, "a CDATA section")),
            Ok(Event::DocType(_)) => Err(self.unexpected(pos, "a DOCTYPE")),
            Ok(Event::Comment(_) | Event::PI(_)) => Ok(()),
            // The scanner hands on only markup it has read: never reached.
            Ok(Event::Eof) => Err(self.unexpected(pos, "markup that cannot be read again")),
            Ok(Event::Text(_)) => Err(self.unexpected(pos, "text")),
            Err(e) => Err(malformed(pos, &e)),
        }
    }

    fn start_tag(
        &mut self,
        ctx: &Ctx<'_>,
        tag: &BytesStart<'_>,
        empty: bool,
        at: u32,
    ) -> Result<(), ReadError> {
        let pos = ctx.pos(at);
        let elem = Elem::from_name(tag.name().as_ref());
        let fault = |f: AttrFault| {
            let p = match f.offset {
                Some(o) => ctx.pos_after(at, 1 + o),
                None => pos,
            };
            ReadError::new(p, ReadErrorKind::Invalid, f.msg)
        };
        let resolve = |l| ctx.resolve(l);
        let here = Loc::Here(at);
        match (self.state, elem) {
            (State::EraArray, Some(Elem::Era)) => {
                let (block, era) = era_attrs(tag).map_err(fault)?;
                self.eras
                    .add(self.visitor, block, era, self.nr_blocks, here, resolve)?;
                if !empty {
                    self.state = State::Leaf(Elem::Era);
                }
            }
            (State::Writeset, Some(Elem::Bit)) => {
                let (block, value) = bit_attrs(tag).map_err(fault)?;
                if value {
                    self.run
                        .add(self.visitor, block, 1, self.nr_bits, here, resolve)?;
                }
                if !empty {
                    self.state = State::Leaf(Elem::Bit);
                }
            }
            (State::Writeset, Some(Elem::Marked)) => {
                let (begin, len) = marked_attrs(tag).map_err(fault)?;
                self.run
                    .add(self.visitor, begin, len, self.nr_bits, here, resolve)?;
                if !empty {
                    self.state = State::Leaf(Elem::Marked);
                }
            }
            (State::Superblock, Some(Elem::Writeset)) => {
                let ws = writeset_attrs(tag).map_err(fault)?;
                self.nr_bits = ws.nr_bits;
                self.visit(pos, |v| v.writeset_begin(&ws))?;
                if empty {
                    self.visit(pos, |v| v.writeset_end())?;
                } else {
                    self.state = State::Writeset;
                }
            }
            (State::Superblock, Some(Elem::EraArray)) => {
                collect(tag, Elem::EraArray, &[]).map_err(fault)?;
                self.visit(pos, |v| v.era_array_begin())?;
                if empty {
                    self.visit(pos, |v| v.era_array_end())?;
                    self.state = State::AfterEraArray;
                } else {
                    self.state = State::EraArray;
                }
            }
            (State::Prolog, Some(Elem::Superblock)) => {
                let sb = superblock_attrs(tag).map_err(fault)?;
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

    fn end_tag(&mut self, ctx: &Ctx<'_>, name: &[u8], pos: Pos) -> Result<(), ReadError> {
        let resolve = |l| ctx.resolve(l);
        match (self.state, Elem::from_name(name)) {
            (State::Leaf(open), Some(e)) if open == e => {
                self.state = match e {
                    Elem::Era => State::EraArray,
                    _ => State::Writeset,
                };
            }
            (State::Writeset, Some(Elem::Writeset)) => {
                self.run.flush(self.visitor, resolve)?;
                self.visit(pos, |v| v.writeset_end())?;
                self.state = State::Superblock;
            }
            (State::EraArray, Some(Elem::EraArray)) => {
                self.eras.flush(self.visitor, resolve)?;
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

/// A quick-xml error at `pos`.
pub(super) fn malformed(pos: Pos, e: &quick_xml::Error) -> ReadError {
    let kind = match e {
        quick_xml::Error::Io(_) => ReadErrorKind::Io,
        _ => ReadErrorKind::Malformed,
    };
    ReadError::new(pos, kind, format_args!("malformed XML: {e}"))
}

fn era_attrs(tag: &BytesStart<'_>) -> Result<(u32, u32), AttrFault> {
    let [block, era] = collect(tag, Elem::Era, &["block", "era"])?;
    Ok((
        u32_value(Elem::Era, "block", block)?,
        u32_value(Elem::Era, "era", era)?,
    ))
}

fn bit_attrs(tag: &BytesStart<'_>) -> Result<(u32, bool), AttrFault> {
    let [block, value] = collect(tag, Elem::Bit, &["block", "value"])?;
    Ok((
        u32_value(Elem::Bit, "block", block)?,
        attrs::bool_value(Elem::Bit, "value", value)?,
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
        era: Era::new(u32_value(Elem::Writeset, "era", era)?),
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
        current_era: Era::new(u32_value(E, "current_era", current_era)?),
    })
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
