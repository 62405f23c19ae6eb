//! Forward matching: one enterprise against every live product and policy.
//!
//! [`Catalog`] compiles each offer's rule once, with the offer's service area (regions served,
//! industries targeted) folded in as ordinary clauses, so "不在服务区域" appears in the trace like
//! any other condition. [`match_enterprise`] evaluates everything for one enterprise on one date
//! (as one reader may see it), sorts offers into eligible / needs_info / near misses, scores them
//! with a visible [`ScoreBreakdown`], and ranks the missing facts by how many offers they would
//! settle ([`AskNext`]).

mod forward;
mod score;

pub use forward::{
    AskNext, Catalog, Checked, Match, MatchResult, OfferKind, OfferRef, match_enterprise,
};
pub use score::{
    Assumptions, BenefitEstimate, NeedFit, ScoreBreakdown, Signals, Weights, estimate_benefit,
};
