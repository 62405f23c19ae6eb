//! The one error type of huiqi-index: what the user gave was wrong ([`Error::Input`]), or the
//! machine failed us (I/O, the index libraries, an embedder).

use std::path::PathBuf;

use crate::embed::EmbedError;
use crate::report::Report;

/// Errors of huiqi-index.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input files have errors; nothing was written. The report lists every one.
    #[error("the input has {} error(s); nothing was published", .0.errors().count())]
    Input(Report),
    /// A user request that cannot be served (unknown id, wrong embedder for a snapshot ...).
    #[error("{0}")]
    Invalid(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("full-text index: {0}")]
    Text(#[from] tantivy::TantivyError),
    #[error("vector index: {0}")]
    Vectors(String),
    #[error("embedder: {0}")]
    Embed(#[from] EmbedError),
    /// A snapshot on disk is damaged or from an incompatible version.
    #[error("snapshot {path}: {reason}")]
    Snapshot { path: PathBuf, reason: String },
}

impl Error {
    /// An I/O error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }

    /// True when the user's input or request is at fault (an HTTP 4xx, an exit code 2).
    pub fn is_user_error(&self) -> bool {
        matches!(self, Error::Input(_) | Error::Invalid(_))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
