//! # huiqi-engine
//!
//! The core of huiqi (惠企): the domain model of enterprises, bank products and support
//! policies; the national code standards they use; and the rule language that decides
//! eligibility with three-valued logic and explains itself.
//!
//! How the parts fit:
//! - [`model`] holds the serde types that come in and go out as JSON.
//! - [`codes`] implements 统一社会信用代码, GB/T 2260 regions, GB/T 4754 industries and the
//!   enterprise size classes of 工信部联企业〔2011〕300号 (thresholds kept as data).
//! - [`fields`] is the one registry of enterprise facts: rule names, types, Chinese labels,
//!   credit-information categories and sensitivity. Rules, explanations, masking and consent
//!   all read it.
//! - [`rule`] parses, type-checks, evaluates and explains eligibility rules. A missing fact is
//!   unknown, never false or zero.
//! - [`matching`] ranks every live product and policy for one enterprise, with score
//!   breakdowns, near misses and the facts worth asking for next.
//! - [`synthetic`] generates realistic enterprises deterministically for tests and benchmarks.

//!
//! The engine does no I/O: no files, no network, no clock. "Today" is always an argument.

pub mod codes;
mod consent;
pub mod fields;
pub mod matching;
pub mod model;
pub mod reverse;
pub mod rule;
pub mod sql;
pub mod synthetic;
pub mod text;

pub use model::{Enterprise, Policy, Product};
pub use rule::{Outcome, Rule};
