//! Integration tests of huiqi-index: one binary, a module per feature.

#[cfg(feature = "fastembed")]
mod fastembed;
mod csv;
