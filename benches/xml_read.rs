//! Throughput of the XML reader on a large generated dump (run by hand).
//!
//! `cargo bench --bench xml_read`
//! (`ERA_BENCH_BLOCKS` sets the number of origin blocks, 16M by default;
//! `ERA_BENCH_ONLY=quick-xml|read|build` runs one measurement).

use era_tools::era::generate::{generate, GenerateParams};
use era_tools::era::ir::{EraMetadata, SuperblockIr, Visitor, WritesetIr};
use era_tools::units::DataBlock;
use era_tools::xml::{build_from_xml, read_xml, XmlStyle, XmlWriter};
use std::io::{BufReader, BufWriter};
use std::time::Instant;

/// Four writesets of a quarter density over an era array of older eras.
fn synthetic(nr_blocks: u32) -> EraMetadata {
    generate(&GenerateParams {
        nr_blocks,
        block_size: 128,
        current_era: 13,
        nr_writesets: 4,
        density: 0.25,
        seed: 1,
    })
    .expect("valid generate parameters")
}

/// A visitor that only counts.
#[derive(Default)]
struct Count {
    runs: u64,
    eras: u64,
}

impl Visitor for Count {
    type Error = std::convert::Infallible;
    fn superblock_begin(&mut self, _: &SuperblockIr) -> Result<(), Self::Error> {
        Ok(())
    }
    fn writeset_begin(&mut self, _: &WritesetIr) -> Result<(), Self::Error> {
        Ok(())
    }
    fn writeset_run(&mut self, _: DataBlock, len: u32) -> Result<(), Self::Error> {
        self.runs += u64::from(len);
        Ok(())
    }
    fn writeset_end(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
    fn era_array_begin(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
    fn eras(&mut self, _: DataBlock, eras: &[u32]) -> Result<(), Self::Error> {
        self.eras += eras.len() as u64;
        Ok(())
    }
    fn era_array_end(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
    fn superblock_end(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// CPU time (user + system, all threads) of the process so far, in seconds, from
/// `/proc/self/stat` (clock ticks of 1/100 s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which ends with the last ')').
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// Runs `f`, printing its wall time and CPU time (all threads) per MB of input.
fn measure<T>(label: &str, mb: f64, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let c = cpu_seconds();
    let r = f();
    let wall = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - c;
    println!(
        "  {label}: {wall:.2} s, {:.0} MB/s; {cpu:.2} CPU s, {:.0} MB per CPU s",
        mb / wall,
        mb / cpu
    );
    r
}

/// quick-xml alone, one thread, on the same buffered input: the tokenizer's own speed.
fn quick_xml_events(input: impl std::io::BufRead) -> u64 {
    let mut xml = quick_xml::Reader::from_reader(input);
    let mut buf = Vec::with_capacity(4096);
    let mut n = 0u64;
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf).unwrap() {
            quick_xml::events::Event::Eof => return n,
            _ => n += 1,
        }
    }
}

fn main() {
    let only = std::env::var("ERA_BENCH_ONLY").unwrap_or_default();
    let runs = |what: &str| only.is_empty() || only == what;
    let nr_blocks: u32 = std::env::var("ERA_BENCH_BLOCKS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16 << 20);
    let md = synthetic(nr_blocks);
    for style in [XmlStyle::Verbose, XmlStyle::Compact] {
        let file = tempfile::NamedTempFile::new().unwrap();
        let t = Instant::now();
        let mut w = XmlWriter::new(
            BufWriter::with_capacity(1 << 20, file.reopen().unwrap()),
            style,
        );
        md.visit(&mut w).unwrap();
        w.into_inner().unwrap();
        let size = std::fs::metadata(file.path()).unwrap().len();
        let mb = size as f64 / 1e6;
        println!("{style:?}: {mb:.0} MB written in {:.2?}", t.elapsed());
        // As a command would open it.
        let open = || BufReader::new(file.reopen().unwrap());

        if runs("quick-xml") {
            measure("quick-xml events alone (1 thread)", mb, || {
                quick_xml_events(open())
            });
        }
        if runs("read") {
            let mut count = Count::default();
            measure("read_xml, counting visitor", mb, || {
                read_xml(open(), &mut count).unwrap()
            });
            assert_eq!(count.eras, u64::from(nr_blocks));
        }
        if runs("build") {
            let back = measure("build_from_xml", mb, || build_from_xml(open()).unwrap());
            assert!(back == md);
        }
    }
}
