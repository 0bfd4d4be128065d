use super::*;
use crate::ir::{EraMetadata, Writeset};
use crate::units::{DataBlock, Era};

fn sample() -> EraMetadata {
    EraMetadata {
        superblock: SuperblockIr {
            uuid: String::new(),
            block_size: 8,
            nr_blocks: 4,
            current_era: Era::new(3),
        },
        writesets: vec![Writeset {
            era: Era::new(3),
            nr_bits: 4,
            bits: vec![0b0110],
        }],
        era_array: vec![0, 1, 2, 0],
    }
}

fn render(md: &EraMetadata, style: XmlStyle) -> String {
    let mut w = XmlWriter::new(Vec::new(), style);
    md.visit(&mut w).unwrap();
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

#[test]
fn verbose_layout() {
    assert_eq!(
        render(&sample(), XmlStyle::Verbose),
        "<superblock uuid=\"\" block_size=\"8\" nr_blocks=\"4\" current_era=\"3\">\n  <writeset era=\"3\" nr_bits=\"4\">\n    <bit block=\"0\" value=\"false\"/>\n    <bit block=\"1\" value=\"true\"/>\n    <bit block=\"2\" value=\"true\"/>\n    <bit block=\"3\" value=\"false\"/>\n  </writeset>\n  <era_array>\n    <era block=\"0\" era=\"0\"/>\n    <era block=\"1\" era=\"1\"/>\n    <era block=\"2\" era=\"2\"/>\n    <era block=\"3\" era=\"0\"/>\n  </era_array>\n</superblock>"
    );
}

#[test]
fn uuid_is_escaped_as_an_attribute_value() {
    let mut md = sample();
    md.superblock.uuid = "a<b>c&d'e\"f é".to_string();
    let s = render(&md, XmlStyle::Compact);
    assert!(
        s.starts_with("<superblock uuid=\"a&lt;b&gt;c&amp;d&apos;e&quot;f é\" block_size"),
        "{s}"
    );
}

#[test]
fn compact_layout() {
    let s = render(&sample(), XmlStyle::Compact);
    assert!(s.contains("  <writeset era=\"3\" nr_bits=\"4\">\n    <marked block_begin=\"1\" len=\"2\"/>\n  </writeset>"));
}

#[test]
fn empty_era_array_and_runs_path_agree() {
    let mut md = sample();
    md.era_array.clear();
    md.superblock.nr_blocks = 0;
    let s = render(&md, XmlStyle::Verbose);
    assert!(s.ends_with("  <era_array>\n  </era_array>\n</superblock>"));

    // The run-based path (as the XML reader drives it) gives the same bytes.
    let md = sample();
    let mut w = XmlWriter::new(Vec::new(), XmlStyle::Verbose);
    w.superblock_begin(&md.superblock).unwrap();
    w.writeset_begin(&WritesetIr {
        era: Era::new(3),
        nr_bits: 4,
    })
    .unwrap();
    w.writeset_run(DataBlock::new(1), 2).unwrap();
    w.writeset_end().unwrap();
    w.era_array_begin().unwrap();
    w.eras(DataBlock::new(0), &md.era_array).unwrap();
    w.era_array_end().unwrap();
    w.superblock_end().unwrap();
    assert_eq!(
        String::from_utf8(w.into_inner().unwrap()).unwrap(),
        render(&md, XmlStyle::Verbose)
    );
}
