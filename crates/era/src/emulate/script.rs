//! The `era_emulate` script language: one command a line, `#` starts a comment. The
//! whole script is parsed before anything runs, so bad syntax changes nothing.

use std::fmt;

/// One script command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `write SECTOR COUNT [BYTE]`: write COUNT sectors filled with BYTE (default 0xff).
    Write {
        /// First 512-byte sector.
        sector: u64,
        /// Number of sectors.
        count: u64,
        /// The byte every sector is filled with.
        byte: u8,
    },
    /// `read SECTOR COUNT`: print a checksum of the data.
    Read {
        /// First 512-byte sector.
        sector: u64,
        /// Number of sectors.
        count: u64,
    },
    /// `discard SECTOR COUNT`: one discard request (marks the block of SECTOR only).
    Discard {
        /// First 512-byte sector.
        sector: u64,
        /// Number of sectors.
        count: u64,
    },
    /// `flush`: an empty flush.
    Flush,
    /// `checkpoint`, `take_metadata_snap`, `drop_metadata_snap`, or `message WORD...`
    /// (the words as `dmsetup message` would send them).
    Message(Vec<String>),
    /// `status`: the INFO status line.
    Status,
    /// `table`: the TABLE status line.
    Table,
    /// `suspend`.
    Suspend,
    /// `resume`.
    Resume,
    /// `reload SECTORS`: load a table of a new length while active, suspend, resume.
    Reload(u64),
    /// `close`: suspend and remove.
    Close,
    /// `open [SECTORS]`: create the device again.
    Open(Option<u64>),
    /// `crash`: stop at once, no postsuspend.
    Crash,
}

/// A command and its line number (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The line's number in the script, from 1.
    pub number: usize,
    /// What the line says to do.
    pub command: Command,
}

/// A syntax error in a script.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {msg}")]
pub struct SyntaxError {
    /// The line at fault, from 1.
    pub line: usize,
    /// What is wrong with it.
    pub msg: String,
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Write {
                sector,
                count,
                byte,
            } => write!(f, "write {sector} {count} {byte}"),
            Command::Read { sector, count } => write!(f, "read {sector} {count}"),
            Command::Discard { sector, count } => write!(f, "discard {sector} {count}"),
            Command::Flush => f.write_str("flush"),
            Command::Message(w) => write!(f, "message {}", w.join(" ")),
            Command::Status => f.write_str("status"),
            Command::Table => f.write_str("table"),
            Command::Suspend => f.write_str("suspend"),
            Command::Resume => f.write_str("resume"),
            Command::Reload(n) => write!(f, "reload {n}"),
            Command::Close => f.write_str("close"),
            Command::Open(None) => f.write_str("open"),
            Command::Open(Some(n)) => write!(f, "open {n}"),
            Command::Crash => f.write_str("crash"),
        }
    }
}

fn number(word: &str, what: &str) -> Result<u64, String> {
    let parsed = if let Some(hex) = word.strip_prefix("0x") {
        u64::from_str_radix(hex, 16)
    } else {
        word.parse::<u64>()
    };
    parsed.map_err(|_| format!("{what} must be a number, found '{word}'"))
}

fn parse_line(words: &[&str]) -> Result<Command, String> {
    let (name, args) = match words.split_first() {
        Some(x) => x,
        None => return Err("empty command".into()),
    };
    let want = |n: std::ops::RangeInclusive<usize>, usage: &str| {
        if n.contains(&args.len()) {
            Ok(())
        } else {
            Err(format!("usage: {usage}"))
        }
    };
    let range = |usage: &str| -> Result<(u64, u64), String> {
        let sector = number(args[0], "SECTOR")?;
        let count = number(args[1], "COUNT")?;
        if count == 0 {
            return Err(format!("COUNT must be at least 1 ({usage})"));
        }
        Ok((sector, count))
    };
    match *name {
        "write" => {
            want(2..=3, "write SECTOR COUNT [BYTE]")?;
            let (sector, count) = range("write SECTOR COUNT [BYTE]")?;
            let byte = match args.get(2) {
                Some(w) => u8::try_from(number(w, "BYTE")?)
                    .map_err(|_| format!("BYTE must be 0..255, found '{w}'"))?,
                None => 0xff,
            };
            Ok(Command::Write {
                sector,
                count,
                byte,
            })
        }
        "read" => {
            want(2..=2, "read SECTOR COUNT")?;
            let (sector, count) = range("read SECTOR COUNT")?;
            Ok(Command::Read { sector, count })
        }
        "discard" => {
            want(2..=2, "discard SECTOR COUNT")?;
            let (sector, count) = range("discard SECTOR COUNT")?;
            Ok(Command::Discard { sector, count })
        }
        "flush" | "status" | "table" | "suspend" | "resume" | "close" | "crash" | "checkpoint"
        | "take_metadata_snap" | "drop_metadata_snap" => {
            want(0..=0, name)?;
            Ok(match *name {
                "flush" => Command::Flush,
                "status" => Command::Status,
                "table" => Command::Table,
                "suspend" => Command::Suspend,
                "resume" => Command::Resume,
                "close" => Command::Close,
                "crash" => Command::Crash,
                other => Command::Message(vec![other.to_string()]),
            })
        }
        "message" => Ok(Command::Message(
            args.iter().map(|s| s.to_string()).collect(),
        )),
        "reload" => {
            want(1..=1, "reload SECTORS")?;
            Ok(Command::Reload(number(args[0], "SECTORS")?))
        }
        "open" => {
            want(0..=1, "open [SECTORS]")?;
            Ok(Command::Open(match args.first() {
                Some(w) => Some(number(w, "SECTORS")?),
                None => None,
            }))
        }
        other => Err(format!("unknown command '{other}'")),
    }
}

/// Parses a whole script. By hand, not with nom: every line is whitespace-separated
/// words told apart by the first, which `split_whitespace` and a `match` say directly.
pub fn parse_script(text: &str) -> Result<Vec<Line>, SyntaxError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let body = raw.split('#').next().unwrap_or("");
        let words: Vec<&str> = body.split_whitespace().collect();
        if words.is_empty() {
            continue;
        }
        let command = parse_line(&words).map_err(|msg| SyntaxError { line: i + 1, msg })?;
        out.push(Line {
            number: i + 1,
            command,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_command_and_skips_comments() {
        let s = "# c\nwrite 8 8\nwrite 0 1 0x10 # x\nread 0 8\ndiscard 0 40\nflush\n\ncheckpoint\nstatus\ntable\nsuspend\nresume\nreload 65536\nclose\nopen\nopen 128\ntake_metadata_snap\ndrop_metadata_snap\nmessage a b\ncrash\n";
        let l = parse_script(s).unwrap();
        assert_eq!(l.len(), 18);
        assert_eq!(l[0].number, 2);
        assert_eq!(
            l[1].command,
            Command::Write {
                sector: 0,
                count: 1,
                byte: 16
            }
        );
        assert_eq!(l[13].command, Command::Open(Some(128)));
        assert_eq!(
            l[16].command,
            Command::Message(vec!["a".into(), "b".into()])
        );
    }

    #[test]
    fn syntax_errors_name_the_line() {
        assert_eq!(parse_script("status\nwrite 1").unwrap_err().line, 2);
        assert!(parse_script("write 0 0").is_err());
        assert!(parse_script("write 0 1 256").is_err());
        assert!(parse_script("bogus").is_err());
        assert!(parse_script("status now").is_err());
    }
}
