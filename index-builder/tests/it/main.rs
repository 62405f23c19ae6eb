//! Integration tests of huiqi-index: one binary, a module per feature.

mod csv;
mod extract;
#[cfg(feature = "fastembed")]
mod fastembed;
mod snapshot;
mod text;
mod vectors;
