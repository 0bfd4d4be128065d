//! `--format json`: one object; its head written with serde_json, its runs formatted
//! by hand (two numbers each, in serde_json's compact form) in chunks as they are
//! listed, so that millions of runs cost no memory.
//!
//! `{"view", "block_size", "nr_blocks", "current_era", "written_since", "unit",
//! "length", "length_rounded_up", "runs": [{"begin", "end"}, …]}` and a newline.

use super::offsets::Scale;
use crate::units::DataBlock;
use serde_json::ser::{CompactFormatter, Formatter};
use serde_json::Value;
use std::io;
#[cfg(test)]
use std::io::Write;

/// Which metadata was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum View {
    /// The live metadata.
    Live,
    /// The metadata snapshot held by a live target.
    Snapshot,
}

/// What the JSON says besides the runs.
#[derive(Debug, Clone, Copy)]
pub struct Header {
    pub view: View,
    /// Origin block size in sectors.
    pub block_size: u32,
    pub nr_blocks: u32,
    pub current_era: u32,
    pub written_since: u32,
}

/// The document up to and including the runs' opening bracket: an object, left open,
/// of the header's fields then the key `runs`, written with serde_json's formatter.
pub fn json_head(header: &Header, scale: &Scale) -> io::Result<Vec<u8>> {
    let fields: [(&str, Value); 8] = [
        ("view", serde_json::to_value(header.view)?),
        ("block_size", header.block_size.into()),
        ("nr_blocks", header.nr_blocks.into()),
        ("current_era", header.current_era.into()),
        ("written_since", header.written_since.into()),
        ("unit", scale.unit().name().into()),
        ("length", scale.length().into()),
        ("length_rounded_up", scale.rounded_up().into()),
    ];
    let mut head = Vec::new();
    let mut f = CompactFormatter;
    f.begin_object(&mut head)?;
    for (i, (key, value)) in fields.iter().enumerate() {
        f.begin_object_key(&mut head, i == 0)?;
        serde_json::to_writer(&mut head, key)?;
        f.end_object_key(&mut head)?;
        f.begin_object_value(&mut head)?;
        serde_json::to_writer(&mut head, value)?;
        f.end_object_value(&mut head)?;
    }
    f.begin_object_key(&mut head, false)?;
    serde_json::to_writer(&mut head, "runs")?;
    f.end_object_key(&mut head)?;
    f.begin_object_value(&mut head)?;
    f.begin_array(&mut head)?;
    Ok(head)
}

/// The document after the runs.
pub const JSON_TAIL: &[u8] = b"]}\n";

/// Appends `,{"begin":B,"end":E}` for the run of blocks `[begin, end)` in `scale`'s
/// unit. The first run's comma is the caller's to drop.
pub fn push_json_run(
    buf: &mut Vec<u8>,
    num: &mut itoa::Buffer,
    scale: &Scale,
    run: (DataBlock, DataBlock),
) {
    let (begin, end) = scale.run(run);
    buf.extend_from_slice(b",{\"begin\":");
    buf.extend_from_slice(num.format(begin).as_bytes());
    buf.extend_from_slice(b",\"end\":");
    buf.extend_from_slice(num.format(end).as_bytes());
    buf.push(b'}');
}

/// Writes the document for the runs `[begin, end)` of blocks, in `scale`'s unit.
#[cfg(test)]
pub fn write_json(
    out: &mut dyn Write,
    header: &Header,
    runs: &[(DataBlock, DataBlock)],
    scale: &Scale,
) -> io::Result<()> {
    let mut body = Vec::new();
    let mut num = itoa::Buffer::new();
    for &run in runs {
        push_json_run(&mut body, &mut num, scale, run);
    }
    out.write_all(&json_head(header, scale)?)?;
    out.write_all(body.get(1..).unwrap_or_default())?;
    out.write_all(JSON_TAIL)
}

#[cfg(test)]
mod tests {
    use super::super::offsets::Unit;
    use super::*;

    #[test]
    fn the_document_in_bytes() {
        let header = Header {
            view: View::Snapshot,
            block_size: 8,
            nr_blocks: 4,
            current_era: 6,
            written_since: 2,
        };
        let scale = Scale::new(Unit::Bytes, 8, 4, None).unwrap();
        let mut v = Vec::new();
        let b = DataBlock::new;
        write_json(&mut v, &header, &[(b(0), b(1)), (b(2), b(4))], &scale).unwrap();
        assert_eq!(
            String::from_utf8(v).unwrap(),
            "{\"view\":\"snapshot\",\"block_size\":8,\"nr_blocks\":4,\"current_era\":6,\
             \"written_since\":2,\"unit\":\"bytes\",\"length\":16384,\"length_rounded_up\":true,\
             \"runs\":[{\"begin\":0,\"end\":4096},{\"begin\":8192,\"end\":16384}]}\n"
        );
    }
}
