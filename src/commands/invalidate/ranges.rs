//! `--format ranges`: one `BEGIN END` line per run, END exclusive, nothing else (no
//! line at all when no block qualifies).

use super::offsets::Scale;
use std::io::{self, Write};

/// Writes the runs `[begin, end)` of blocks as offsets in `scale`'s unit, one line a
/// run (the output is buffered: one write per line costs no system call).
pub fn write_ranges(out: &mut dyn Write, runs: &[(u32, u32)], scale: &Scale) -> io::Result<()> {
    let mut line = Vec::with_capacity(48);
    let mut num = itoa::Buffer::new();
    for &run in runs {
        let (begin, end) = scale.run(run);
        line.clear();
        line.extend_from_slice(num.format(begin).as_bytes());
        line.push(b' ');
        line.extend_from_slice(num.format(end).as_bytes());
        line.push(b'\n');
        out.write_all(&line)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::offsets::Unit;
    use super::*;

    #[test]
    fn one_line_per_run_in_the_unit() {
        let scale = Scale::new(Unit::Sectors, 8, 12, Some(93)).unwrap();
        let mut v = Vec::new();
        write_ranges(&mut v, &[(0, 4), (7, 8), (10, 12)], &scale).unwrap();
        assert_eq!(String::from_utf8(v).unwrap(), "0 32\n56 64\n80 93\n");
        let mut v = Vec::new();
        write_ranges(&mut v, &[], &scale).unwrap();
        assert!(v.is_empty());
    }
}
