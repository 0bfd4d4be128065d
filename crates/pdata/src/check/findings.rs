//! What a check reports: one finding per problem, naming the block at fault.

use crate::units::MetaBlock;
use std::fmt;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// The kernel would reject the metadata, misread it or corrupt it later.
    Error,
    /// Harmless to the kernel but not what it writes: a leaked block, an underfull node.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One problem found in the metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Whether the kernel would mind.
    pub severity: Severity,
    /// The metadata block at fault, where there is one: the first of a run.
    pub block: Option<MetaBlock>,
    /// The last block of a run of adjacent blocks with the same finding (such as leaked
    /// blocks), `None` for a single block.
    pub last: Option<MetaBlock>,
    /// What is wrong, without the severity and block prefix.
    pub message: String,
}

impl Finding {
    /// A fatal finding.
    pub fn error(block: impl Into<Option<MetaBlock>>, message: impl Into<String>) -> Finding {
        Finding {
            severity: Severity::Error,
            block: block.into(),
            last: None,
            message: message.into(),
        }
    }

    /// A non-fatal finding.
    pub fn warning(block: impl Into<Option<MetaBlock>>, message: impl Into<String>) -> Finding {
        Finding {
            severity: Severity::Warning,
            block: block.into(),
            last: None,
            message: message.into(),
        }
    }

    /// True for [`Severity::Error`].
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Extends this finding to `block` when it is the same finding (severity and
    /// message) about the block just before it: a run of leaked blocks is one finding.
    pub fn absorb(&mut self, other: &Finding) -> bool {
        let (Some(first), Some(next)) = (self.block, other.block) else {
            return false;
        };
        let end = self.last.unwrap_or(first);
        if other.last.is_some()
            || self.severity != other.severity
            || self.message != other.message
            || next.get() != end.get() + 1
        {
            return false;
        }
        self.last = Some(next);
        true
    }

    /// The line `era_check` prints after its name: the finding without the word
    /// `error` (the exit status says it), `warning:` before a warning.
    pub fn report_line(&self) -> String {
        let text = self.without_severity();
        match self.severity {
            Severity::Error => text,
            Severity::Warning => format!("warning: {text}"),
        }
    }

    /// `block N: message`, `blocks A-B (N blocks): message` or `message`.
    fn without_severity(&self) -> String {
        match (self.block, self.last) {
            (Some(b), None) => format!("block {b}: {}", self.message),
            (Some(b), Some(l)) => format!(
                "blocks {b}-{l} ({} blocks): {}",
                l.get() - b.get() + 1,
                self.message
            ),
            (None, _) => self.message.clone(),
        }
    }
}

impl fmt::Display for Finding {
    /// One line: `error: block 12: btree node (era array): keys out of order at entry 3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.severity, self.without_severity())
    }
}
