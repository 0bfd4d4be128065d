//! `era_metadata_size`'s arguments.

use crate::commands::metadata_size::{MetadataSizeOptions, SizeUnit};
use clap::{ArgGroup, Parser, ValueEnum, ValueHint};

/// Compute the metadata device size an era target needs.
///
/// Prints how large the metadata device of a dm-era target must be for an origin of
/// the given size in blocks of the given size. The space map of the metadata is sized
/// once, when the target formats the device, and never grows, so the device must be
/// this large from the start. The size covers the era array three times and the
/// writeset bitsets four times (the copies a held metadata snapshot keeps, and those a
/// digest in flight and new writes make before the next commit), their btrees, and the
/// space map; era_emulate refuses to format a smaller device.
#[derive(Debug, Parser)]
#[command(
    name = "era_metadata_size",
    version,
    after_help = super::exit::EXIT_STATUS_HELP,
    after_long_help = super::examples::long_help("era_metadata_size", super::exit::EXIT_STATUS_HELP),
    group(ArgGroup::new("origin").required(true).args(["origin_size", "nr_blocks"]))
)]
pub struct MetadataSizeArgs {
    /// The origin's block size in 512-byte sectors (the era table's last argument, a
    /// multiple of 8); a k, m or g suffix gives it in KiB, MiB or GiB instead.
    #[arg(short, long, value_name = "SECTORS", value_hint = ValueHint::Other, value_parser = parse_block_size)]
    pub block_size: Option<u32>,
    /// The origin's size in bytes; a suffix s (sectors), k, m, g, t or p (KiB … PiB)
    /// gives it in other units.
    #[arg(short = 's', long, value_name = "SIZE", value_hint = ValueHint::Other, value_parser = parse_size, requires = "block_size")]
    pub origin_size: Option<u64>,
    /// The number of origin blocks, instead of --origin-size and --block-size.
    #[arg(long, value_name = "N", value_hint = ValueHint::Other, conflicts_with = "origin_size")]
    pub nr_blocks: Option<u64>,
    /// The unit of the size printed (rounded up to a whole unit).
    #[arg(short, long, value_enum, value_name = "UNIT", default_value_t = UnitArg::Bytes)]
    pub unit: UnitArg,
    /// Print the number only.
    #[arg(short, long)]
    pub numeric_only: bool,
}

/// `--unit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UnitArg {
    /// Bytes.
    Bytes,
    /// 512-byte sectors.
    Sectors,
    /// 4096-byte metadata blocks.
    Blocks,
    /// KiB (1024 bytes).
    Kib,
    /// MiB.
    Mib,
    /// GiB.
    Gib,
}

/// A size in bytes with an optional unit suffix.
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, suffix) = t.split_at(split);
    let n: u64 = digits.parse().map_err(|_| {
        format!("{s:?} is not a size (a number, optionally followed by s, k, m, g, t or p)")
    })?;
    let scale: u64 = match suffix.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "s" => 512,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "t" | "tib" => 1 << 40,
        "p" | "pib" => 1 << 50,
        _ => {
            return Err(format!(
                "{s:?}: unknown unit {suffix:?} (use s, k, m, g, t or p)"
            ))
        }
    };
    n.checked_mul(scale)
        .ok_or_else(|| format!("{s:?} is too large"))
}

/// A block size in sectors (or with a k, m, g suffix), a positive multiple of 8.
fn parse_block_size(s: &str) -> Result<u32, String> {
    let sectors = if s.trim().ends_with(|c: char| c.is_ascii_digit()) {
        s.trim()
            .parse::<u64>()
            .map_err(|_| format!("{s:?} is not a number of sectors"))?
    } else {
        parse_size(s)? / 512
    };
    if sectors == 0 || sectors % 8 != 0 || sectors > u64::from(u32::MAX) {
        return Err(format!(
            "{s}: the block size must be a positive multiple of 8 sectors (4096 bytes), for example 8, 128 or 64k"
        ));
    }
    Ok(sectors as u32)
}

impl MetadataSizeArgs {
    /// The options for the command.
    pub fn options(&self) -> MetadataSizeOptions {
        let nr_blocks = match (self.nr_blocks, self.origin_size, self.block_size) {
            (Some(n), _, _) => n,
            (None, Some(bytes), Some(bs)) => bytes.div_ceil(512).div_ceil(u64::from(bs)),
            _ => 0, // clap requires one of them
        };
        MetadataSizeOptions {
            nr_blocks,
            unit: match self.unit {
                UnitArg::Bytes => SizeUnit::Bytes,
                UnitArg::Sectors => SizeUnit::Sectors,
                UnitArg::Blocks => SizeUnit::Blocks,
                UnitArg::Kib => SizeUnit::Kib,
                UnitArg::Mib => SizeUnit::Mib,
                UnitArg::Gib => SizeUnit::Gib,
            },
            numeric_only: self.numeric_only,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_units() {
        assert_eq!(parse_size("1t"), Ok(1 << 40));
        assert_eq!(parse_size("3s"), Ok(1536));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("4x").is_err());
        assert!(parse_size("99999999999p").is_err());
        assert_eq!(parse_block_size("128"), Ok(128));
        assert_eq!(parse_block_size("64k"), Ok(128));
        assert!(parse_block_size("12").is_err());
        assert!(parse_block_size("0").is_err());
    }
}
