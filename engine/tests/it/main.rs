//! Integration tests of huiqi-engine: one binary, a module per feature.

mod explain;
mod properties;
mod reverse;
mod support;
