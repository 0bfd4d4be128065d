use super::*;
use crate::ir::{SuperblockIr, Writeset, WritesetIr};
use crate::units::{DataBlock, Era};

/// One visitor call, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Call {
    Sb(SuperblockIr),
    Ws(u32, u32),
    Run(u32, u32),
    WsEnd,
    Ea,
    Eras(u32, Vec<u32>),
    EaEnd,
    SbEnd,
}

/// Records every call; fails (with "refused") on the call numbered `fail_at`.
#[derive(Default)]
struct Rec {
    calls: Vec<Call>,
    fail_at: Option<usize>,
}

impl Rec {
    fn push(&mut self, c: Call) -> Result<(), String> {
        if self.fail_at == Some(self.calls.len()) {
            return Err(format!("refused {c:?}"));
        }
        self.calls.push(c);
        Ok(())
    }
}

impl Visitor for Rec {
    type Error = String;
    fn superblock_begin(&mut self, sb: &SuperblockIr) -> Result<(), String> {
        self.push(Call::Sb(sb.clone()))
    }
    fn writeset_begin(&mut self, ws: &WritesetIr) -> Result<(), String> {
        self.push(Call::Ws(ws.era.get(), ws.nr_bits))
    }
    fn writeset_run(&mut self, begin: DataBlock, len: u32) -> Result<(), String> {
        self.push(Call::Run(begin.get(), len))
    }
    fn writeset_end(&mut self) -> Result<(), String> {
        self.push(Call::WsEnd)
    }
    fn era_array_begin(&mut self) -> Result<(), String> {
        self.push(Call::Ea)
    }
    fn eras(&mut self, first: DataBlock, eras: &[u32]) -> Result<(), String> {
        self.push(Call::Eras(first.get(), eras.to_vec()))
    }
    fn era_array_end(&mut self) -> Result<(), String> {
        self.push(Call::EaEnd)
    }
    fn superblock_end(&mut self) -> Result<(), String> {
        self.push(Call::SbEnd)
    }
}

fn calls(xml: &str) -> Vec<Call> {
    let mut rec = Rec::default();
    read_xml(xml.as_bytes(), &mut rec).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    rec.calls
}

/// The error of reading `xml`, as "line:col: message".
fn err(xml: &str) -> String {
    let mut rec = Rec::default();
    let e = read_xml(xml.as_bytes(), &mut rec).expect_err("must be rejected");
    format!("{}:{}: {}", e.line, e.col, e.msg)
}

/// The error of building from `xml`, as "line:col: message".
fn build_err(xml: &str) -> String {
    let e = build_from_xml(xml.as_bytes()).expect_err("must be rejected");
    assert_eq!(e.kind, ReadErrorKind::Visitor, "{e}");
    format!("{}:{}: {}", e.line, e.col, e.msg)
}

const SB: &str = r#"<superblock uuid="u" block_size="8" nr_blocks="4" current_era="3">"#;

fn sb(uuid: &str, nr_blocks: u32) -> Call {
    Call::Sb(SuperblockIr {
        uuid: uuid.into(),
        block_size: 8,
        nr_blocks,
        current_era: Era::new(3),
    })
}

/// `SB`, then `body` on the following lines, then an empty era array.
fn in_superblock(body: &str) -> String {
    format!("{SB}\n{body}\n  <era_array/>\n</superblock>")
}

fn in_writeset(body: &str) -> String {
    in_superblock(&format!(
        "  <writeset era=\"3\" nr_bits=\"4\">\n{body}\n  </writeset>"
    ))
}

fn in_era_array(body: &str) -> String {
    format!("{SB}\n  <era_array>\n{body}\n  </era_array>\n</superblock>")
}

// ---- What must be accepted ----

#[test]
fn reads_a_verbose_dump() {
    let xml = format!(
        "{SB}\n  <writeset era=\"3\" nr_bits=\"4\">\n    <bit block=\"0\" value=\"false\"/>\n    <bit block=\"1\" value=\"true\"/>\n    <bit block=\"2\" value=\"true\"/>\n    <bit block=\"3\" value=\"false\"/>\n  </writeset>\n  <era_array>\n    <era block=\"0\" era=\"0\"/>\n    <era block=\"1\" era=\"1\"/>\n    <era block=\"2\" era=\"2\"/>\n    <era block=\"3\" era=\"0\"/>\n  </era_array>\n</superblock>"
    );
    assert_eq!(
        calls(&xml),
        vec![
            sb("u", 4),
            Call::Ws(3, 4),
            Call::Run(1, 2),
            Call::WsEnd,
            Call::Ea,
            Call::Eras(0, vec![0, 1, 2, 0]),
            Call::EaEnd,
            Call::SbEnd
        ]
    );
}

#[test]
fn accepts_declaration_comments_blanks_and_any_attribute_order() {
    let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- a dump -->\n\n\
        <superblock current_era='3' nr_blocks=\"4\"\n   block_size=\"8\" uuid=\"a&amp;b &lt;&#x41;&gt;\">\
        <!-- c --><writeset nr_bits=\"4\" era=\"3\"/>\t\r\n\
        <writeset era=\"2\" nr_bits=\"4\">  <marked len=\"2\" block_begin=\"2\" />\n\
        <!-- <era block=\"9\" era=\"9\"/> -->\n<bit value=\"true\"\n block=\"0\"></bit>\
        <?pi ignored?></writeset>\
        <era_array> <era era=\"1\" block=\"3\"></era> <era block=\"0\" era=\"2\" /> </era_array>\n\
        </superblock >\n<!-- trailer -->\n  ";
    assert_eq!(
        calls(xml),
        vec![
            sb("a&b <A>", 4),
            Call::Ws(3, 4),
            Call::WsEnd,
            Call::Ws(2, 4),
            Call::Run(2, 2),
            Call::Run(0, 1),
            Call::WsEnd,
            Call::Ea,
            Call::Eras(3, vec![1]),
            Call::Eras(0, vec![2]),
            Call::EaEnd,
            Call::SbEnd
        ]
    );
}

#[test]
fn accepts_a_self_closing_era_array_and_character_references_in_numbers() {
    let xml = format!("{SB}<era_array/></superblock>");
    assert_eq!(
        calls(&xml),
        vec![sb("u", 4), Call::Ea, Call::EaEnd, Call::SbEnd]
    );
    let xml = in_era_array("<era block=\"&#49;\" era=\"0&#x32;\"/>");
    assert_eq!(calls(&xml)[2], Call::Eras(1, vec![2]));
}

#[test]
fn coalesces_adjacent_marked_blocks_and_eras() {
    let xml = in_writeset(
        "<bit block=\"0\" value=\"true\"/><bit block=\"1\" value=\"true\"/>\
         <marked block_begin=\"2\" len=\"1\"/><bit block=\"3\" value=\"false\"/>\
         <marked block_begin=\"1\" len=\"2\"/><marked block_begin=\"3\" len=\"1\"/>",
    );
    assert_eq!(calls(&xml)[2..4], [Call::Run(0, 3), Call::Run(1, 3)]);
    let xml = in_era_array(
        "<era block=\"2\" era=\"1\"/><era block=\"3\" era=\"2\"/><era block=\"0\" era=\"3\"/>\
         <era block=\"1\" era=\"0\"/>",
    );
    assert_eq!(
        calls(&xml)[2..4],
        [Call::Eras(2, vec![1, 2]), Call::Eras(0, vec![3, 0])]
    );
}

#[test]
fn batches_stop_at_the_container_size() {
    // nr_bits 4: the run 2..4 is handed over apart from 4..6.
    let xml =
        in_writeset("<marked block_begin=\"2\" len=\"2\"/><marked block_begin=\"4\" len=\"2\"/>");
    assert_eq!(calls(&xml)[2..4], [Call::Run(2, 2), Call::Run(4, 2)]);
    // nr_blocks 4: block 4 starts a new batch.
    let xml = in_era_array("<era block=\"3\" era=\"1\"/><era block=\"4\" era=\"2\"/>");
    assert_eq!(
        calls(&xml)[2..4],
        [Call::Eras(3, vec![1]), Call::Eras(4, vec![2])]
    );
}

#[test]
fn builds_metadata_with_missing_eras_as_zero() {
    let xml = in_superblock(
        "  <writeset era=\"1\" nr_bits=\"70\">\n    <marked block_begin=\"60\" len=\"10\"/>\n  </writeset>",
    )
    .replace("<era_array/>", "<era_array><era block=\"2\" era=\"3\"/></era_array>");
    let md = build_from_xml(xml.as_bytes()).unwrap();
    assert_eq!(md.era_array, vec![0, 0, 3, 0]);
    assert_eq!(
        md.writesets,
        vec![Writeset {
            era: Era::new(1),
            nr_bits: 70,
            bits: vec![0xf << 60, 0x3f]
        }]
    );
}

// ---- Structure ----

#[test]
fn rejects_unknown_elements() {
    assert_eq!(
        err(&in_writeset("    <block b=\"1\"/>")),
        "3:5: expected <bit>, <marked> or </writeset>, found <block>, which is not an element of era metadata"
    );
    assert_eq!(
        err("<blocks>\n</blocks>"),
        "1:1: expected <superblock>, found <blocks>, which is not an element of era metadata"
    );
}

#[test]
fn rejects_elements_outside_their_parent() {
    assert_eq!(
        err(&in_era_array("    <bit block=\"1\" value=\"true\"/>")),
        "3:5: expected <era> or </era_array>, found <bit>"
    );
    assert_eq!(
        err(&in_writeset("    <era block=\"1\" era=\"1\"/>")),
        "3:5: expected <bit>, <marked> or </writeset>, found <era>"
    );
    assert_eq!(
        err(&in_era_array("    <writeset era=\"1\" nr_bits=\"4\"/>")),
        "3:5: expected <era> or </era_array>, found <writeset>"
    );
    assert_eq!(
        err(&in_superblock("  <era block=\"1\" era=\"1\"/>")),
        "2:3: expected <writeset> or <era_array>, found <era>"
    );
    assert_eq!(
        err("<era_array/>"),
        "1:1: expected <superblock>, found <era_array>"
    );
    // A writeset after the era array.
    assert_eq!(
        err(&format!(
            "{SB}\n<era_array/>\n<writeset era=\"1\" nr_bits=\"4\"/>"
        )),
        "3:1: expected </superblock>, found <writeset>"
    );
    // A second era array.
    assert_eq!(
        err(&format!("{SB}\n<era_array/><era_array/>")),
        "2:13: expected </superblock>, found <era_array>"
    );
    // Leaves may hold nothing.
    assert_eq!(
        err(&in_era_array(
            "<era block=\"1\" era=\"1\"><era block=\"2\" era=\"1\"/></era>"
        )),
        "3:24: expected </era>, found <era>"
    );
}

#[test]
fn rejects_a_superblock_without_era_array() {
    assert_eq!(
        err(&format!(
            "{SB}\n  <writeset era=\"1\" nr_bits=\"4\"/>\n</superblock>"
        )),
        "3:1: expected <writeset> or <era_array>, found </superblock>"
    );
    assert_eq!(
        err("<superblock uuid=\"\" block_size=\"8\" nr_blocks=\"0\" current_era=\"0\"/>"),
        "1:1: <superblock/> is empty: expected <era_array> inside it"
    );
}

#[test]
fn rejects_anything_after_the_superblock() {
    let doc = format!("{SB}<era_array/></superblock>");
    assert_eq!(
        err(&format!("{doc}\n <!-- fine -->\n{doc}")),
        "3:1: expected the end of the input after </superblock>, found <superblock>"
    );
    assert_eq!(
        err(&format!("{doc}\n  x")),
        "2:3: expected the end of the input after </superblock>, found text"
    );
}

#[test]
fn rejects_truncated_input() {
    let full = in_writeset("    <bit block=\"1\" value=\"true\"/>");
    let cut = &full[..full.find("  </writeset>").unwrap()];
    assert_eq!(
        err(cut),
        "4:1: unexpected end of input: expected <bit>, <marked> or </writeset>"
    );
    let cut = &full[..full.len() - 1];
    assert_eq!(
        err(cut),
        "6:1: malformed XML: syntax error: tag not closed: `>` not found before end of input"
    );
    assert_eq!(
        err(&format!("{SB}\n<era_array>")),
        "2:12: unexpected end of input: expected <era> or </era_array>"
    );
    assert_eq!(
        err(&format!("{SB}<era_array/>")),
        "1:79: unexpected end of input: expected </superblock>"
    );
}

#[test]
fn rejects_empty_input() {
    assert_eq!(
        err(""),
        "1:1: unexpected end of input: expected <superblock>"
    );
    assert_eq!(
        err("  \n<!-- nothing -->\n"),
        "3:1: unexpected end of input: expected <superblock>"
    );
}

#[test]
fn rejects_text_content() {
    assert_eq!(
        err(&in_writeset("    <bit block=\"1\" value=\"true\"/> 1")),
        "3:35: expected <bit>, <marked> or </writeset>, found text"
    );
    assert_eq!(
        err("hello <superblock/>"),
        "1:1: expected <superblock>, found text"
    );
    assert_eq!(
        err(&in_era_array("<era block=\"1\" era=\"1\">\n 5</era>")),
        "4:2: expected </era>, found text"
    );
    assert_eq!(
        err(&in_era_array("<![CDATA[x]]>")),
        "3:1: expected <era> or </era_array>, found a CDATA section"
    );
}

#[test]
fn rejects_malformed_xml() {
    assert_eq!(
        err(&in_writeset(
            "  <bit block=\"1\" value=\"true\"/>\n  </era_array>"
        )),
        "4:3: expected <bit>, <marked> or </writeset>, found </era_array>"
    );
    assert_eq!(
        err(&in_era_array("<era block=1 era=\"1\"/>")),
        "3:12: malformed attribute in <era>: position 10: attribute value must be enclosed in `\"` or `'`"
    );
    assert_eq!(
        err(&in_era_array("<era block=\"1\" era=\"1\"/>\n  <!-- open")),
        "4:3: malformed XML: syntax error: comment not closed: `-->` not found before end of input"
    );
    assert_eq!(
        err("<!DOCTYPE superblock>\n<superblock/>"),
        "1:1: expected <superblock>, found a DOCTYPE"
    );
    assert_eq!(
        err(&format!("{SB}\n<?xml version=\"1.0\"?>")),
        "2:1: expected <writeset> or <era_array>, found an XML declaration"
    );
}

// ---- Attributes ----

#[test]
fn rejects_unknown_attributes() {
    assert_eq!(
        err(&in_writeset(
            "    <bit block=\"1\" value=\"true\" colour=\"red\"/>"
        )),
        "3:33: unknown attribute \"colour\" in <bit>: expected block and value"
    );
    assert_eq!(
        err(&format!("{SB}\n<era_array x=\"1\"/>")),
        "2:12: unknown attribute \"x\" in <era_array>: expected no attributes"
    );
}

#[test]
fn rejects_missing_attributes() {
    assert_eq!(
        err(&in_era_array("  <era block=\"1\"/>")),
        "3:3: <era> lacks the attribute \"era\" (expected block and era)"
    );
    assert_eq!(
        err("<superblock uuid=\"\" block_size=\"8\" nr_blocks=\"4\">"),
        "1:1: <superblock> lacks the attribute \"current_era\" (expected uuid, block_size, nr_blocks and current_era)"
    );
}

#[test]
fn rejects_duplicated_attributes() {
    assert_eq!(
        err(&in_writeset(
            "  <marked block_begin=\"1\" len=\"1\" block_begin=\"2\"/>"
        )),
        "3:35: attribute \"block_begin\" of <marked> is given twice"
    );
}

#[test]
fn rejects_bad_numbers() {
    assert_eq!(
        err(&in_era_array("  <era block=\"x1\" era=\"1\"/>")),
        "3:15: attribute block=\"x1\" of <era> is not a number: expected an unsigned decimal integer"
    );
    assert_eq!(
        err(&in_era_array("  <era block=\"1\" era=\"-1\"/>")),
        "3:23: attribute era=\"-1\" of <era> is not a number: expected an unsigned decimal integer"
    );
    assert_eq!(
        err(&in_era_array("  <era block=\"1\" era=\"\"/>")),
        "3:23: attribute era=\"\" of <era> is not a number: expected an unsigned decimal integer"
    );
    assert_eq!(
        err(&in_era_array("  <era block=\"4294967296\" era=\"1\"/>")),
        "3:15: attribute block=\"4294967296\" of <era> is out of range: expected at most 4294967295"
    );
    assert_eq!(
        err("<superblock uuid=\"\" block_size=\" 8\" nr_blocks=\"4\" current_era=\"3\">"),
        "1:33: attribute block_size=\" 8\" of <superblock> is not a number: expected an unsigned decimal integer"
    );
}

#[test]
fn rejects_bad_bit_values() {
    assert_eq!(
        err(&in_writeset("  <bit block=\"1\" value=\"yes\"/>")),
        "3:25: attribute value=\"yes\" of <bit>: expected \"true\" or \"false\""
    );
    assert_eq!(
        err(&in_writeset("  <bit block=\"1\" value=\"1\"/>")),
        "3:25: attribute value=\"1\" of <bit>: expected \"true\" or \"false\""
    );
}

#[test]
fn positions_count_lines_inside_tags_and_comments() {
    let xml = format!(
        "{SB}\n<!-- one\ntwo\n-->  <writeset\n era=\"1\"\n\n nr_bits=\"4\"\n>\n  <bit block=\"0\"\n   value=\"maybe\"/>"
    );
    assert_eq!(
        err(&xml),
        "10:11: attribute value=\"maybe\" of <bit>: expected \"true\" or \"false\""
    );
    let xml = format!("{SB}<era_array>\n</era_array\n\n>\n  <bad/>");
    assert_eq!(
        err(&xml),
        "5:3: expected </superblock>, found <bad>, which is not an element of era metadata"
    );
}

// ---- Visitor errors ----

#[test]
fn visitor_errors_name_the_element() {
    let xml = in_writeset("    <bit block=\"1\" value=\"true\"/>");
    let mut rec = Rec {
        fail_at: Some(1),
        ..Rec::default()
    };
    let e = read_xml(xml.as_bytes(), &mut rec).unwrap_err();
    assert_eq!(e.kind, ReadErrorKind::Visitor);
    assert_eq!(e.to_string(), "line 2, column 3: refused Ws(3, 4)");
    let mut rec = Rec {
        fail_at: Some(2),
        ..Rec::default()
    };
    let e = read_xml(xml.as_bytes(), &mut rec).unwrap_err();
    assert_eq!(e.to_string(), "line 3, column 5: refused Run(1, 1)");
}

#[test]
fn pending_batches_are_handed_over_before_a_later_error() {
    // The visitor refuses the run; the syntax error after it must not hide that.
    let xml =
        in_writeset("    <bit block=\"1\" value=\"true\"/>\n    <bit block=\"2\" value=\"no\"/>");
    let mut rec = Rec {
        fail_at: Some(2),
        ..Rec::default()
    };
    let e = read_xml(xml.as_bytes(), &mut rec).unwrap_err();
    assert_eq!(e.to_string(), "line 3, column 5: refused Run(1, 1)");
}

// ---- The builder's rules, as the reader reports them ----

#[test]
fn rejects_eras_beyond_nr_blocks() {
    assert_eq!(
        build_err(&in_era_array("<era block=\"2\" era=\"1\"/>\n<era block=\"3\" era=\"1\"/><era block=\"4\" era=\"1\"/>")),
        "4:25: era of block 4: the block is beyond nr_blocks 4"
    );
}

#[test]
fn rejects_repeated_eras() {
    assert_eq!(
        build_err(&in_era_array(
            "<era block=\"2\" era=\"1\"/>\n <era block=\"2\" era=\"1\"/>"
        )),
        "4:2: era of block 2 is given twice"
    );
    // Inside a batch, the batch's first element is named, and the message says so.
    assert_eq!(
        build_err(&in_era_array("<era block=\"2\" era=\"1\"/>\n <era block=\"1\" era=\"1\"/><era block=\"2\" era=\"1\"/>")),
        "4:2: era of block 2 is given twice (in the 2 consecutive <era> elements starting here)"
    );
}

#[test]
fn rejects_bits_beyond_nr_bits() {
    assert_eq!(
        build_err(&in_writeset(
            "  <bit block=\"3\" value=\"true\"/><bit block=\"4\" value=\"true\"/>"
        )),
        "3:32: writeset of era 3: block 4 is beyond nr_bits 4"
    );
    assert_eq!(
        build_err(&in_writeset("  <marked block_begin=\"2\" len=\"3\"/>")),
        "3:3: writeset of era 3: block 4 is beyond nr_bits 4"
    );
    // Bits that are not set may lie beyond (the reference writes them up to nr_blocks).
    let xml = in_writeset("  <bit block=\"9\" value=\"false\"/>");
    assert!(build_from_xml(xml.as_bytes()).is_ok());
}

#[test]
fn rejects_runs_that_overflow() {
    assert_eq!(
        build_err(&in_writeset(
            "  <marked block_begin=\"4294967295\" len=\"2\"/>"
        )),
        "3:3: marked blocks 4294967295+2 overflow a 32-bit block number"
    );
}

#[test]
fn rejects_repeated_writesets() {
    assert_eq!(
        build_err(&in_superblock(
            "<writeset era=\"2\" nr_bits=\"4\"/>\n<writeset era=\"2\" nr_bits=\"4\"/>"
        )),
        "3:1: writeset of era 2 is given twice"
    );
}

#[test]
fn rejects_writesets_from_the_future() {
    assert_eq!(
        build_err(&in_superblock("<writeset era=\"4\" nr_bits=\"4\"/>")),
        "2:1: writeset of era 4 is newer than the current era 3"
    );
}

#[test]
fn rejects_absurd_sizes() {
    assert_eq!(
        build_err(&in_superblock(
            "<writeset era=\"2\" nr_bits=\"2147483648\"/>"
        )),
        "2:1: writeset of era 2: nr_bits 2147483648 is too large: it must be below 2^31"
    );
    assert_eq!(
        build_err(
            "<superblock uuid=\"\" block_size=\"8\" nr_blocks=\"2147483648\" current_era=\"1\">"
        ),
        "1:1: nr_blocks 2147483648 is too large: it must be below 2^31"
    );
}

#[test]
fn rejects_bad_block_sizes() {
    for bs in [0, 12] {
        assert_eq!(
            build_err(&format!(
                "<superblock uuid=\"\" block_size=\"{bs}\" nr_blocks=\"1\" current_era=\"1\">"
            )),
            format!("1:1: block_size {bs} is invalid: it must be a non-zero multiple of 8 sectors")
        );
    }
}

// ---- Chunks ----

/// The calls made and the error, if any, reading `xml` in chunks of about `chunk`.
fn outcome(xml: &[u8], chunk: usize) -> (Vec<Call>, Option<String>) {
    let mut rec = Rec::default();
    let r = read_chunked(xml, &mut rec, chunk);
    (rec.calls, r.err().map(|e| e.to_string()))
}

fn boundary_docs() -> Vec<String> {
    let ws = "<writeset era=\"3\" nr_bits=\"9\">";
    vec![
        in_writeset("    <bit block=\"1\" value=\"true\"/>\n    <bit block=\"2\" value=\"true\"/>\n    <marked block_begin=\"3\" len=\"1\"/>"),
        // Markup across lines: tags, a comment, a declaration, end tags.
        format!(
            "<?xml version=\"1.0\"\n?>\n<!-- a\n\n comment -->\n{SB}\n  {ws}<bit\n block=\"0\"\n value=\"true\"\n/><marked\nblock_begin=\"1\" len=\"2\"/>\n\n<!--\n<bad/>\n--></writeset\n>\n  <era_array>\n<era block=\"0\"\nera=\"1\"/><era block=\"1\" era=\"2\"/>\n<era block=\"2\" era=\"3\"\n></era\n>\n</era_array>\n</superblock\n>\n<!-- end\n-->\n"
        ),
        in_era_array(
            &(0..40)
                .map(|b| format!("    <era block=\"{}\" era=\"{}\"/>", b % 4, b))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        // Errors, which must come out the same.
        format!("{SB}\n<!-- open\n\n<era_array/>\n</superblock>\n"),
        format!("{SB}\n<era_array\n/>\n</superblock>\n<superblock\n"),
        format!("{SB}\n<era_array>\n<era\n block=\"1\"\n era=\"x\"/>"),
        format!("{SB}\n<era_array>\n<era block=\"1\" era=\"2\"/>\n text\n"),
        format!("{SB}\n<era_array>\n<era block=\"1\" era=\"2\"/>\n"),
        format!("{SB}\n<era_array>\n<era block=\"9\" era=\"2\"/>\n</era_array>\n</superblock>"),
        format!("{SB}\n<era_array>\n<era block=\"1\" era=\"2\"/>\n<bit block=\"1\" value=\"true\"/>\n"),
        format!("{SB}\n<writeset era=\"1\" nr_bits=\"2\">\n<bit block=\"1\" value=\"true\"/>\n<bit block=\"2\" value=\"true\"/>\n</writeset>\n<era_array/></superblock>"),
        format!("{SB}\n<era_array>\n<era block=\"1\" era=\"2\"/>\n\u{feff}<era block=\"2\" era=\"2\"/>\n</era_array>\n</superblock>"),
    ]
}

/// The boundary documents, and each on one line.
fn boundary_docs_and_one_liners() -> Vec<String> {
    let docs = boundary_docs();
    let one_liners: Vec<String> = docs.iter().map(|d| d.replace('\n', " ")).collect();
    docs.into_iter().chain(one_liners).collect()
}

#[test]
fn chunk_boundaries_change_nothing() {
    let docs = boundary_docs_and_one_liners();
    for doc in &docs {
        let whole = outcome(doc.as_bytes(), 1 << 20);
        for chunk in 1..48 {
            assert_eq!(
                outcome(doc.as_bytes(), chunk),
                whole,
                "chunk {chunk}:\n{doc}"
            );
        }
    }
    // The runs and batches are the same too: only the structure of the input counts.
    let (calls, err) = outcome(docs[2].as_bytes(), 1);
    assert_eq!(err, None);
    assert_eq!(calls.len(), 2 + 10 + 2);
}

#[test]
fn a_byte_order_mark_is_dropped_only_at_the_start() {
    let doc = format!("\u{feff}{SB}<era_array/></superblock>");
    assert_eq!(outcome(doc.as_bytes(), 1 << 20).1, None);
    let doc = format!("{SB}\n\u{feff}<era_array/></superblock>");
    assert_eq!(
        outcome(doc.as_bytes(), 1).1.as_deref(),
        Some("line 2, column 1: expected <writeset> or <era_array>, found text")
    );
}

#[test]
fn reads_from_inside_a_one_thread_pool() {
    // Chunks are then scanned inline rather than waited for on the busy pool.
    let doc = in_era_array(
        &(0..3000)
            .map(|b| format!("<era block=\"{}\" era=\"1\"/>", b % 4))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let inside = pool.install(|| outcome(doc.as_bytes(), 1000));
    assert_eq!(inside, outcome(doc.as_bytes(), 1000));
    assert_eq!(inside.1, None);
    assert_eq!(inside.0.len(), 2 + 750 + 2);
}

proptest::proptest! {
    /// Any input, damaged anywhere, reads the same (calls, error and position) whatever
    /// the chunks it is cut into.
    #[test]
    fn damaged_input_reads_the_same_in_any_chunks(
        doc in 0usize..24,
        edits in proptest::collection::vec(
            (0usize..10_000, proptest::sample::select(b"<>/\"'= \n-!?[]a1&;".to_vec()), proptest::bool::ANY),
            0..4,
        ),
        chunk in 1usize..80,
    ) {
        let docs = boundary_docs_and_one_liners();
        let mut bytes = docs[doc % docs.len()].clone().into_bytes();
        for (at, b, insert) in edits {
            let at = at % (bytes.len() + 1);
            if insert || at == bytes.len() {
                bytes.insert(at, b);
            } else {
                bytes[at] = b;
            }
        }
        proptest::prop_assert_eq!(outcome(&bytes, chunk), outcome(&bytes, 1 << 20));
    }
}

/// Gives `data`, then fails.
struct Failing<'a> {
    data: &'a [u8],
}

impl std::io::Read for Failing<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.data.is_empty() {
            return Err(std::io::Error::other("disk on fire"));
        }
        let n = out.len().min(self.data.len()).min(7);
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

#[test]
fn read_failures_are_reported_after_what_was_read() {
    let doc = format!("{SB}\n<era_array>\n<era block=\"1\" era=\"2\"/>\n<era block=\"2\"");
    for chunk in [1, 10, 1 << 20] {
        let mut rec = Rec::default();
        let input = std::io::BufReader::new(Failing {
            data: doc.as_bytes(),
        });
        let e = read_chunked(input, &mut rec, chunk).unwrap_err();
        assert_eq!(e.kind, ReadErrorKind::Io, "chunk {chunk}: {e}");
        assert!(
            e.msg.ends_with("cannot read the input: disk on fire"),
            "{e}"
        );
    }
    // What came before the failure was delivered.
    let mut rec = Rec::default();
    let input = std::io::BufReader::new(Failing {
        data: doc.as_bytes(),
    });
    let e = read_chunked(input, &mut rec, 1).unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 4, column 15: cannot read the input: disk on fire"
    );
    assert_eq!(rec.calls[..2], [sb("u", 4), Call::Ea]);
}

#[test]
fn markup_never_closed_costs_linear_time() {
    // 8 MiB of comment in 1 KiB chunks: each join must at least double what is
    // scanned again, or this takes hours.
    let mut doc = format!("{SB}\n<!--");
    let line = format!("{}\n", "x".repeat(63));
    for _ in 0..(8 << 20) / 64 {
        doc.push_str(&line);
    }
    let t = std::time::Instant::now();
    let (_, err) = outcome(doc.as_bytes(), 1024);
    assert_eq!(
        err.as_deref(),
        Some("line 2, column 1: malformed XML: syntax error: comment not closed: `-->` not found before end of input")
    );
    assert!(t.elapsed().as_secs() < 60);
}
