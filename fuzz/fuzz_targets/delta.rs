//! The delta reader (`era_copy --apply`) over any bytes. It must terminate without a
//! panic and hold at most one extent; a stream it reads to the end must be exactly what
//! the writer makes of the records it returned (nothing unchecked slips through), and
//! no extent may reach beyond the header's source length.
//!
//! Input: a delta stream (the seeds are streams the writer made).
#![no_main]

use era_tools::commands::copy::delta::{DeltaReader, DeltaWriter, Record, MAX_EXTENT_BYTES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    let Ok(mut reader) = DeltaReader::new(&mut rest) else {
        return;
    };
    let header = *reader.header();
    let mut rewritten = DeltaWriter::new(Vec::new(), &header).expect("writing to memory");
    loop {
        match reader.next_record() {
            Ok(None) => break,
            Ok(Some(Record::Extent { offset, data })) => {
                assert!(!data.is_empty() && data.len() as u64 <= MAX_EXTENT_BYTES);
                assert!(offset + data.len() as u64 <= header.source_length);
                rewritten.extent(offset, data).expect("writing to memory");
            }
            Ok(Some(Record::Failed { offset, length })) => {
                assert!(offset + length <= header.source_length);
                rewritten.failed(offset, length).expect("writing to memory");
            }
            Err(_) => return,
        }
    }
    drop(reader);
    let consumed = data.len() - rest.len();
    let rewritten = rewritten.finish().expect("writing to memory");
    assert_eq!(
        rewritten,
        &data[..consumed],
        "a stream read whole is not what the writer makes of its records"
    );
});
