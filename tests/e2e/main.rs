//! End-to-end tests across the crates, on the fixtures in `fixtures/`.

mod agreement;
mod fixtures;
mod matching;
mod pg_bind;
