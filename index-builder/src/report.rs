//! Problems found in input, each with where it is: file, line (and column), record, field.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// Errors stop a build; warnings are values that are legal but suspicious.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    pub severity: Severity,
    pub file: PathBuf,
    /// 1-based line the record (or the problem) is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// The record's id, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    /// The field, as a path in the record (`amount.min`) or a registry name (`tax_grade`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}

impl Issue {
    pub fn error(file: &Path, line: Option<usize>, message: impl Into<String>) -> Issue {
        Issue {
            severity: Severity::Error,
            file: file.to_path_buf(),
            line,
            column: None,
            record: None,
            field: None,
            message: message.into(),
        }
    }

    pub fn warning(file: &Path, line: Option<usize>, message: impl Into<String>) -> Issue {
        Issue {
            severity: Severity::Warning,
            ..Issue::error(file, line, message)
        }
    }

    /// An error whose location is filled in later with [`Issue::located`].
    pub fn problem(message: impl Into<String>) -> Issue {
        Issue::error(Path::new(""), None, message)
    }

    /// A warning whose location is filled in later with [`Issue::located`].
    pub fn suspicious(message: impl Into<String>) -> Issue {
        Issue::warning(Path::new(""), None, message)
    }

    /// Places an issue on a record of a file.
    pub fn located(mut self, file: &Path, line: usize, record: &str) -> Issue {
        self.file = file.to_path_buf();
        self.line = Some(line);
        self.record = Some(record.to_string());
        self
    }

    pub fn at_column(mut self, column: usize) -> Issue {
        self.column = (column > 0).then_some(column);
        self
    }

    pub fn record(mut self, id: &str) -> Issue {
        self.record = Some(id.to_string());
        self
    }

    pub fn field(mut self, field: impl Into<String>) -> Issue {
        self.field = Some(field.into());
        self
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{severity}: {}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        if let Some(record) = &self.record {
            write!(f, " [{record}]")?;
        }
        if let Some(field) = &self.field {
            write!(f, " {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Every problem found in one run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub issues: Vec<Issue>,
}

impl Report {
    pub fn push(&mut self, issue: Issue) {
        self.issues.push(issue);
    }

    pub fn errors(&self) -> impl Iterator<Item = &Issue> {
        self.issues.iter().filter(|i| i.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Issue> {
        self.issues
            .iter()
            .filter(|i| i.severity == Severity::Warning)
    }

    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }
}
