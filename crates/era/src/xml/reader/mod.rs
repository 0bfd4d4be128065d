//! XML → era metadata: reads what `era_dump` writes (either writeset form) and drives a
//! [`Visitor`] in document order, checking the structure strictly on the way.
//!
//! The input is cut into chunks ([`chunks`]); quick-xml tokenizes the chunks in
//! parallel on the rayon pool ([`scan`]), and one driver ([`driver`]) takes their
//! items in order on the calling thread, checks nesting and attributes, and hands
//! marked blocks and eras to the visitor in coalesced runs and slices. Positions are
//! resolved from per-chunk newline counts only when needed. Neither the input nor
//! the visitor has to be `Send`.

mod attrs;
mod batch;
mod chunks;
mod driver;
mod error;
mod fast;
mod lines;
mod scan;

pub use error::{ReadError, ReadErrorKind};

use crate::ir::{EraMetadata, Visitor};
use crate::ir_builder::IrBuilder;
use error::Pos;
use std::fmt::Display;
use std::io::BufRead;

/// Bytes per chunk.
const CHUNK: usize = 1 << 20;

/// Reads era XML from `input` and feeds it to `visitor`.
///
/// Consecutive marked blocks (`<bit value="true"/>` or `<marked/>`) reach the visitor
/// as one `writeset_run`, consecutive `<era>` entries as one `eras` call (never across
/// `nr_bits` or `nr_blocks`). An error of the visitor is reported at the first element
/// of the call that failed, and the message then says how many elements it covered.
///
/// The input is read in large requests (a `BufReader` of default size adds no copy)
/// and scanned ahead on the rayon pool: about 2 × threads + 2 chunks of 1 MiB are in
/// flight.
pub fn read_xml<R: BufRead, V: Visitor>(input: R, visitor: &mut V) -> Result<(), ReadError>
where
    V::Error: Display,
{
    read_chunked(input, visitor, CHUNK).map(|_| ())
}

/// Reads era XML into an [`EraMetadata`], checked by an `IrBuilder`.
pub fn build_from_xml<R: BufRead>(input: R) -> Result<EraMetadata, ReadError> {
    build_with(input, IrBuilder::new())
}

/// Reads era XML into an [`EraMetadata`] for a metadata device of `device_blocks`
/// blocks: metadata too large for it is refused from its declared sizes, before memory
/// is reserved for it.
pub fn build_from_xml_for_device<R: BufRead>(
    input: R,
    device_blocks: u64,
) -> Result<EraMetadata, ReadError> {
    build_with(input, IrBuilder::for_device(device_blocks))
}

fn build_with<R: BufRead>(input: R, mut builder: IrBuilder) -> Result<EraMetadata, ReadError> {
    let end = read_chunked(input, &mut builder, CHUNK)?;
    builder
        .into_metadata()
        .map_err(|e| ReadError::new(end, ReadErrorKind::Visitor, e))
}

/// Reads with chunks of about `chunk` bytes; returns the position of the end.
fn read_chunked<R: BufRead, V: Visitor>(
    input: R,
    visitor: &mut V,
    chunk: usize,
) -> Result<Pos, ReadError>
where
    V::Error: Display,
{
    let window = 2 * rayon::current_num_threads() + 2;
    chunks::drive(input, &mut driver::Driver::new(visitor), chunk, window)
}

#[cfg(test)]
mod tests;
