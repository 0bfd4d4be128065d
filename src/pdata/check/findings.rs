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
    pub severity: Severity,
    /// The metadata block at fault, where there is one.
    pub block: Option<MetaBlock>,
    /// What is wrong, without the severity and block prefix.
    pub message: String,
}

impl Finding {
    /// A fatal finding.
    pub fn error(block: impl Into<Option<MetaBlock>>, message: impl Into<String>) -> Finding {
        Finding {
            severity: Severity::Error,
            block: block.into(),
            message: message.into(),
        }
    }

    /// A non-fatal finding.
    pub fn warning(block: impl Into<Option<MetaBlock>>, message: impl Into<String>) -> Finding {
        Finding {
            severity: Severity::Warning,
            block: block.into(),
            message: message.into(),
        }
    }

    /// True for [`Severity::Error`].
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Finding {
    /// One line: `error: block 12: btree node (era array): keys out of order at entry 3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.block {
            Some(b) => write!(f, "{}: block {b}: {}", self.severity, self.message),
            None => write!(f, "{}: {}", self.severity, self.message),
        }
    }
}
