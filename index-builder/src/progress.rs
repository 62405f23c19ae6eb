//! The named stages of building an index, reported as they go (for progress bars and logs).

use std::fmt;

/// A stage of the build pipeline, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum IndexingStep {
    Reading,
    Validating,
    Tokenizing,
    Embedding,
    Writing,
    Publishing,
}

impl fmt::Display for IndexingStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IndexingStep::Reading => "reading",
            IndexingStep::Validating => "validating",
            IndexingStep::Tokenizing => "tokenizing",
            IndexingStep::Embedding => "embedding",
            IndexingStep::Writing => "writing",
            IndexingStep::Publishing => "publishing",
        })
    }
}

/// Receives progress. Implementations must be cheap: `advance` is called per batch.
pub trait Progress: Sync {
    /// A stage begins; `total` is the amount of work in it when known.
    fn step(&self, step: IndexingStep, total: Option<u64>);
    /// `n` more units of the current stage are done.
    fn advance(&self, n: u64);
}

/// Progress that goes nowhere (tests, libraries).
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {
    fn step(&self, _: IndexingStep, _: Option<u64>) {}
    fn advance(&self, _: u64) {}
}

/// Test hook: when the environment variable `HUIQI_FAILPOINT` names this point, the process
/// aborts on the spot, as a crash or a `kill -9` would. Used by the crash-safety tests.
pub(crate) fn failpoint(name: &str) {
    if std::env::var("HUIQI_FAILPOINT").is_ok_and(|v| v == name) {
        std::process::abort();
    }
}
