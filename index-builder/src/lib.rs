//! # huiqi-index
//!
//! Turns input files into what the engine and the server read. For now: reading products,
//! policies and enterprises from JSON / JSON Lines ([`input`]) and validating every record
//! before anything is used ([`validate`]), with every problem reported by file, line, record
//! and field ([`report`]). Policy prose becomes a draft rule with citations ([`extract`]),
//! reviewed by a person before it is published.

pub mod embed;
pub mod enterprise_csv;
mod error;
pub mod extract;
pub mod input;
pub mod pipeline;
pub mod progress;
pub mod report;
pub mod snapshot;
pub mod text;
pub mod validate;
pub mod vectors;

pub use error::{Error, Result};
pub use report::{Issue, Report, Severity};
pub use validate::{Catalog, Checked, load_dir};
