//! The rule language for eligibility (准入条件 / 申报条件).
//!
//! Text ([`parse`]) and JSON ([`Expr::from_json`]) both give an [`Expr`]; [`compile`] /
//! [`Rule::from_expr`] type-check it against the field registry into a [`Rule`]; a rule
//! evaluates three-valued over [`Facts`] into an [`Evaluation`], and [`Rule::explain`] turns
//! that into an [`Explanation`] people can read. See `docs/rules.md` for the language.

mod ast;
mod compile;
mod error;
mod eval;
mod explain;
mod json;
mod parser;

pub use ast::{Cmp, Expr, Func, Literal, Num, Op, Unit};
pub(crate) use compile::Node;
pub use compile::{Clause, CmpOp, Rule, Test, compile};
pub use error::{ErrorKind, Location, RuleError, RuleErrors};
pub(crate) use eval::unknown_inputs;
pub use eval::{Evaluation, Facts, Outcome, Verdict, months_between, years_between};
pub use explain::{ClauseExplanation, Explanation, MissingField, show_fact};
pub use parser::{Parsed, parse, parse_number_with_unit, parse_with_positions};
