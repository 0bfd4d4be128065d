//! `--format ranges`: one `BEGIN END` line per run, END exclusive, nothing else (no
//! line at all when no block qualifies).

use super::offsets::Scale;
use crate::units::DataBlock;
#[cfg(test)]
use std::io::{self, Write};

/// Appends the line of the run `[begin, end)` of blocks, as offsets in `scale`'s unit.
pub fn push_range(
    buf: &mut Vec<u8>,
    num: &mut itoa::Buffer,
    scale: &Scale,
    run: (DataBlock, DataBlock),
) {
    let (begin, end) = scale.run(run);
    buf.extend_from_slice(num.format(begin).as_bytes());
    buf.push(b' ');
    buf.extend_from_slice(num.format(end).as_bytes());
    buf.push(b'\n');
}

/// Writes the runs `[begin, end)` of blocks as offsets in `scale`'s unit, one line a
/// run.
#[cfg(test)]
pub fn write_ranges(
    out: &mut dyn Write,
    runs: &[(DataBlock, DataBlock)],
    scale: &Scale,
) -> io::Result<()> {
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut num = itoa::Buffer::new();
    for &run in runs {
        push_range(&mut buf, &mut num, scale, run);
    }
    out.write_all(&buf)
}

#[cfg(test)]
mod tests {
    use super::super::offsets::Unit;
    use super::*;

    #[test]
    fn one_line_per_run_in_the_unit() {
        let scale = Scale::new(Unit::Sectors, 8, 12, Some(93)).unwrap();
        let mut v = Vec::new();
        let b = DataBlock::new;
        let runs = [(b(0), b(4)), (b(7), b(8)), (b(10), b(12))];
        write_ranges(&mut v, &runs, &scale).unwrap();
        assert_eq!(String::from_utf8(v).unwrap(), "0 32\n56 64\n80 93\n");
        let mut v = Vec::new();
        write_ranges(&mut v, &[], &scale).unwrap();
        assert!(v.is_empty());
    }
}
