//! Reverse matching (政策找人): one policy → every enterprise it can help.
//!
//! Reverse matching is a scan, not a search (see `DESIGN.md` §4). All enterprises live in an
//! [`EnterpriseStore`]: one column per rule-usable field of the registry, values packed per block
//! of 4,096 rows in the narrowest width the block's values need, unknown kept apart by a known
//! bitmap. A policy's [`Rule`](crate::rule::Rule) compiles once to a [`CompiledPredicate`]
//! (date functions become date cutoffs, region and industry `under` become ranges of dictionary
//! codes), and [`reach`] evaluates it over every row with bitwise Kleene logic, in parallel over
//! blocks with rayon, giving the eligible and needs_info rows and their counts by province, city,
//! size class and industry section.
//!
//! The compiled predicate agrees with the interpreter ([`Rule::evaluate`] over
//! [`Facts::new`]) on every profile, odd ones included; the integration tests check that
//! property on random rules and profiles.
//!
//! # Layout
//! - ids: one text arena with u32 end offsets and an open-addressing hash index (u32 rows);
//! - yes/no fields: a value bitmap and a known bitmap;
//! - numbers and dates (day numbers): a known bitmap, a u16 rank per word, and per block the
//!   known values only, as `base + scale × code` with `base` the block minimum, `scale` the
//!   greatest common divisor of the differences and codes in u8, u16, u32 or u64;
//! - categories, regions (prefix form) and industries: codes into a sorted dictionary of the
//!   distinct strings, packed like numbers; a prefix is a range of codes;
//! - label sets: a known bitmap and, per distinct label, a bitmap (or a sorted row list when
//!   fewer than 1 row in 32 carries it);
//! - the derived size class is computed once per profile when it is stored;
//! - a tombstone bitmap for removed rows.
//!
//! On 1,000,000 (and 10,000,000) profiles of [`synthetic::enterprise`](crate::synthetic::enterprise)
//! this holds 74.5 bytes per enterprise, everything counted ([`EnterpriseStore::memory_bytes`]);
//! a quarter of it is the ids and their index.
//!
//! ```
//! use chrono::NaiveDate;
//! use huiqi_engine::reverse::{CompiledPredicate, EnterpriseStore, reach};
//! use huiqi_engine::rule::Outcome;
//! use huiqi_engine::{rule, synthetic};
//!
//! let store = EnterpriseStore::build(synthetic::enterprises(2026, 2_000))?;
//! let policy = rule::compile(r#"region under "33" and years_since(established) >= 2 and not dishonest"#)
//!     .expect("a valid rule");
//! let today = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
//! let preview = reach(&store, &CompiledPredicate::compile(&policy, today)?);
//! // Everyone reached is in Zhejiang (33), and the breakdowns add up.
//! assert_eq!(preview.by_province.len(), 1);
//! let by_city: u64 = preview.by_city.iter().map(|g| g.eligible).sum();
//! assert_eq!(by_city as usize, preview.eligible.len());
//! let some = preview.sample(&store, Outcome::Eligible, 3);
//! assert!(some.iter().all(|id| id.starts_with("SYN")));
//! # Ok::<(), huiqi_engine::reverse::ReverseError>(())
//! ```
//!
//! Consent is not applied here: the preview counts what the platform knows. Matching on behalf
//! of one reader goes through [`Facts::for_reader`](crate::rule::Facts::for_reader).
//!
//! [`Rule::evaluate`]: crate::rule::Rule::evaluate
//! [`Facts::new`]: crate::rule::Facts::new

mod column;
mod predicate;
mod scan;
mod store;

pub use column::{BoolColumn, Column, DictColumn, IntColumn, SetColumn};
pub use predicate::CompiledPredicate;
pub use scan::{GroupCount, Reach, RowSet, reach};
pub use store::EnterpriseStore;

/// Why a rule cannot be compiled for reach, or a store cannot grow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReverseError {
    /// The rule tests personal free text, which is not stored for selecting enterprises.
    #[error("`{field}` ({label}) is personal information and cannot be used to select enterprises")]
    PersonalText {
        field: &'static str,
        label: &'static str,
    },
    /// The rule's clause list no longer matches its compiled tree (it was altered after
    /// compiling).
    #[error("the rule's clauses do not match its compiled form; compile the rule again")]
    Inconsistent,
    /// A store holds at most 4,294,967,294 rows.
    #[error("{0} rows exceed the store's limit of 4,294,967,294")]
    TooManyRows(usize),
}
