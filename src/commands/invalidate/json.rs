//! `--format json`: one object, written with serde_json as it is serialised, so that
//! millions of runs cost no memory beyond the run list itself.
//!
//! `{"view", "block_size", "nr_blocks", "current_era", "written_since", "unit",
//! "length", "length_rounded_up", "runs": [{"begin", "end"}, …]}` and a newline.

use super::offsets::Scale;
use serde::ser::{Serialize, SerializeSeq, Serializer};
use std::io::{self, Write};

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

#[derive(serde::Serialize)]
struct Document<'a> {
    view: View,
    block_size: u32,
    nr_blocks: u32,
    current_era: u32,
    written_since: u32,
    unit: &'static str,
    length: u64,
    length_rounded_up: bool,
    runs: Runs<'a>,
}

/// The runs, converted one at a time as they are written.
struct Runs<'a> {
    runs: &'a [(u32, u32)],
    scale: &'a Scale,
}

#[derive(serde::Serialize)]
struct Run {
    begin: u64,
    end: u64,
}

impl Serialize for Runs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.runs.len()))?;
        for &run in self.runs {
            let (begin, end) = self.scale.run(run);
            seq.serialize_element(&Run { begin, end })?;
        }
        seq.end()
    }
}

/// Writes the document for the runs `[begin, end)` of blocks, in `scale`'s unit.
pub fn write_json(
    out: &mut dyn Write,
    header: &Header,
    runs: &[(u32, u32)],
    scale: &Scale,
) -> io::Result<()> {
    let doc = Document {
        view: header.view,
        block_size: header.block_size,
        nr_blocks: header.nr_blocks,
        current_era: header.current_era,
        written_since: header.written_since,
        unit: scale.unit().name(),
        length: scale.length(),
        length_rounded_up: scale.rounded_up(),
        runs: Runs { runs, scale },
    };
    serde_json::to_writer(&mut *out, &doc)?;
    out.write_all(b"\n")
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
        write_json(&mut v, &header, &[(0, 1), (2, 4)], &scale).unwrap();
        assert_eq!(
            String::from_utf8(v).unwrap(),
            "{\"view\":\"snapshot\",\"block_size\":8,\"nr_blocks\":4,\"current_era\":6,\
             \"written_since\":2,\"unit\":\"bytes\",\"length\":16384,\"length_rounded_up\":true,\
             \"runs\":[{\"begin\":0,\"end\":4096},{\"begin\":8192,\"end\":16384}]}\n"
        );
    }
}
