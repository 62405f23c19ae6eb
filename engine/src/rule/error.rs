//! Errors in rules: where (line and column of the text, or the path in the JSON form) and what.

use std::fmt;

/// Where in a rule a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// 1-based line and column (in characters) of the rule text.
    Text { line: usize, column: usize },
    /// A JSON path into the JSON form, e.g. `$.all[2].value`.
    Json { path: String },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Text { line, column } => write!(f, "line {line}, column {column}"),
            Location::Json { path } => write!(f, "at {path}"),
        }
    }
}

/// What is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The text does not follow the grammar.
    Syntax { found: String, expected: String },
    /// A number or string literal that cannot be read.
    BadLiteral { literal: String, reason: String },
    UnknownField {
        name: String,
        suggestion: Option<&'static str>,
    },
    UnknownFunction {
        name: String,
        suggestion: Option<&'static str>,
    },
    /// The operator does not apply to the field's type (`tax_grade > "A"`).
    OperatorNotAllowed {
        field: String,
        ty: &'static str,
        op: &'static str,
        allowed: String,
    },
    /// The value has the wrong type for the field (`established >= "2020"`).
    TypeMismatch {
        field: String,
        expected: String,
        found: String,
    },
    /// A category value the field does not have (`tax_grade in ["E"]`).
    UnknownValue {
        field: String,
        value: String,
        allowed: String,
    },
    /// A region or industry code that is malformed or not in the table.
    BadCode { field: String, reason: String },
    /// Anything else about the shape of the rule (empty lists, wrong JSON shape).
    Invalid { reason: String },
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Syntax { found, expected } => {
                write!(f, "found {found}, expected {expected}")
            }
            ErrorKind::BadLiteral { literal, reason } => write!(f, "{literal}: {reason}"),
            ErrorKind::UnknownField { name, suggestion } => {
                write!(f, "unknown field `{name}`")?;
                match suggestion {
                    Some(s) => write!(f, " (did you mean `{s}`?)"),
                    None => write!(f, " (`huiqi fields` lists them)"),
                }
            }
            ErrorKind::UnknownFunction { name, suggestion } => {
                write!(f, "unknown function `{name}`")?;
                match suggestion {
                    Some(s) => write!(f, " (did you mean `{s}`?)"),
                    None => write!(f, " (functions: years_since, months_since)"),
                }
            }
            ErrorKind::OperatorNotAllowed {
                field,
                ty,
                op,
                allowed,
            } => write!(
                f,
                "`{op}` does not apply to `{field}` ({ty}); use {allowed}"
            ),
            ErrorKind::TypeMismatch {
                field,
                expected,
                found,
            } => write!(f, "`{field}` needs {expected}, found {found}"),
            ErrorKind::UnknownValue {
                field,
                value,
                allowed,
            } => write!(
                f,
                "{value:?} is not a value of `{field}` (one of: {allowed})"
            ),
            ErrorKind::BadCode { field, reason } => write!(f, "`{field}`: {reason}"),
            ErrorKind::Invalid { reason } => f.write_str(reason),
        }
    }
}

/// One problem in a rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {kind}")]
pub struct RuleError {
    pub location: Location,
    pub kind: ErrorKind,
}

impl RuleError {
    pub(crate) fn at(line: usize, column: usize, kind: ErrorKind) -> RuleError {
        RuleError {
            location: Location::Text { line, column },
            kind,
        }
    }
}

/// Every problem found in one rule (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleErrors(pub Vec<RuleError>);

impl fmt::Display for RuleErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RuleErrors {}

impl From<RuleError> for RuleErrors {
    fn from(e: RuleError) -> Self {
        RuleErrors(vec![e])
    }
}
