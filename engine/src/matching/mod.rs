//! Forward matching: one enterprise against every live product and policy.
//!
//! [`Catalog`] compiles each offer's rule once, with the offer's service area (regions served,
//! industries targeted) folded in as ordinary clauses, so "不在服务区域" appears in the trace like
//! any other condition. [`match_enterprise`] evaluates everything for one enterprise on one date
//! (as one reader may see it), sorts offers into eligible / needs_info / near misses, scores them
//! with a visible [`ScoreBreakdown`], and ranks the missing facts by how many offers they would
//! settle ([`AskNext`]).
//!
//! For speed the catalog keeps each distinct clause once (offers share `not dishonest`, a size
//! class, a province), finds one enterprise's verdict for each of them once, and reads every
//! offer's trace from those verdicts through a packed, cache-friendly copy of the rules; only
//! the matches shown are spelled out. A unit test checks the packed judgement against
//! [`Rule::evaluate`](crate::rule::Rule::evaluate) offer by offer.
//!
//! A near miss is an offer that failed on at most a few clauses the enterprise could change:
//! an offer outside its service area (the wrong province or industry) is not near, however
//! few its other failures.

mod forward;
mod score;

pub use forward::{
    AskNext, Catalog, Checked, Match, MatchOptions, MatchResult, OfferKind, OfferRef, Totals,
    match_enterprise, offer_rule,
};
pub use score::{
    Assumptions, BenefitEstimate, NeedFit, ScoreBreakdown, Signals, Weights, benefit_yuan,
    estimate_benefit,
};
