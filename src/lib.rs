//! Root package: cross-crate tests and benches only.
