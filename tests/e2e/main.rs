//! End-to-end tests across the crates, on the fixtures in `fixtures/`.

mod fixtures;
