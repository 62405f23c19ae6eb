//! One enterprise → ranked eligible offers, offers needing information, near misses, and the
//! facts worth asking for next.

use std::collections::HashMap;

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::Serialize;

use super::score::{Assumptions, ScoreBreakdown, Signals, Weights, estimate_benefit};
use crate::fields::FieldId;
use crate::model::{Enterprise, Policy, Product, ProductKind, Reader, Status};
use crate::rule::{Cmp, Evaluation, Explanation, Expr, Facts, Literal, Op, Outcome, Rule};

/// An offer with its checked eligibility rule.
#[derive(Debug, Clone)]
pub struct Checked<T> {
    pub item: T,
    pub rule: Rule,
}

/// Whether an offer is a bank product or a support policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferKind {
    Product,
    Policy,
}

/// What a match refers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfferRef {
    pub id: String,
    pub kind: OfferKind,
    pub title: String,
    /// The product or policy kind, e.g. `信用贷`, `贷款贴息`.
    pub label: &'static str,
    /// Institution (products) or issuer (policies).
    pub provider: String,
}

/// An offer in the catalog, with its rule including the service area.
#[derive(Debug, Clone)]
struct Entry<T> {
    item: T,
    rule: Rule,
}

/// Every offer, compiled once for matching.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    products: Vec<Entry<Product>>,
    policies: Vec<Entry<Policy>>,
}

/// `region under [...]` and `industry under [...]` in front of the eligibility rule, so the
/// trace shows the service area as conditions of their own.
fn with_service_area(rule: &Rule, regions: &[String], industries: &[String]) -> Rule {
    let area = |field: &str, codes: &[String]| {
        (!codes.is_empty()).then(|| {
            Expr::Cmp(Cmp {
                func: None,
                field: field.into(),
                op: Op::Under,
                value: Literal::List(codes.iter().map(|c| Literal::Str(c.clone())).collect()),
            })
        })
    };
    let mut parts: Vec<Expr> = [area("region", regions), area("industry", industries)]
        .into_iter()
        .flatten()
        .collect();
    if parts.is_empty() {
        return rule.clone();
    }
    match &rule.expr {
        Expr::And(items) => parts.extend(items.iter().cloned()),
        Expr::Const(true) => {}
        other => parts.push(other.clone()),
    }
    let expr = if parts.len() == 1 {
        parts.pop().expect("one part")
    } else {
        Expr::And(parts)
    };
    // The parts were checked on ingestion (codes validated, the rule type-checked).
    Rule::from_expr(expr).unwrap_or_else(|_| rule.clone())
}

impl Catalog {
    pub fn new(products: &[Checked<Product>], policies: &[Checked<Policy>]) -> Catalog {
        Catalog {
            products: products
                .iter()
                .map(|p| Entry {
                    rule: with_service_area(&p.rule, &p.item.regions, &p.item.industries),
                    item: p.item.clone(),
                })
                .collect(),
            policies: policies
                .iter()
                .map(|p| Entry {
                    rule: with_service_area(&p.rule, &p.item.regions, &[]),
                    item: p.item.clone(),
                })
                .collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.products.len() + self.policies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn rule(&self, offer: &OfferRef) -> Option<&Rule> {
        match offer.kind {
            OfferKind::Product => self
                .products
                .iter()
                .find(|e| e.item.id == offer.id)
                .map(|e| &e.rule),
            OfferKind::Policy => self
                .policies
                .iter()
                .find(|e| e.item.id == offer.id)
                .map(|e| &e.rule),
        }
    }

    /// The full explanation of a match (every clause with labels, values and requirements).
    pub fn explain(&self, m: &Match, facts: &Facts<'_>) -> Option<Explanation> {
        self.rule(&m.offer)
            .map(|rule| rule.explanation(facts, &m.evaluation))
    }
}

/// A product is live while published and in effect.
fn product_live(p: &Product, as_of: NaiveDate) -> bool {
    p.status == Status::Published
        && p.effective_from <= as_of
        && p.effective_to.is_none_or(|t| as_of <= t)
}

/// A policy is live while published and its application window is open.
fn policy_live(p: &Policy, as_of: NaiveDate) -> bool {
    p.status == Status::Published && p.window.contains(as_of)
}

/// One offer's result for the enterprise.
#[derive(Debug, Clone, Serialize)]
pub struct Match {
    pub offer: OfferRef,
    pub outcome: Outcome,
    pub score: ScoreBreakdown,
    /// Every clause's verdict (the trace); render it with [`Catalog::explain`].
    #[serde(skip)]
    pub evaluation: Evaluation,
    /// Canonical text of the failed clauses (near misses show what to fix).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<String>,
    /// The facts whose absence leaves the offer undecided.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<&'static str>,
}

/// A fact worth asking the enterprise for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AskNext {
    pub field: &'static str,
    pub label: &'static str,
    /// needs_info offers that wait on this fact.
    pub offers: usize,
    /// needs_info offers for which it is the only missing fact.
    pub decisive: usize,
}

/// The three lists and the questions to ask.
#[derive(Debug, Clone, Serialize)]
pub struct MatchResult {
    pub enterprise: String,
    pub as_of: NaiveDate,
    pub eligible: Vec<Match>,
    pub needs_info: Vec<Match>,
    pub near_misses: Vec<Match>,
    pub ask_next: Vec<AskNext>,
    /// Live offers evaluated.
    pub evaluated: usize,
}

/// Evaluates every live offer of `catalog` for `enterprise` on `as_of`. With a `reader`, the
/// credit-information categories the enterprise has not authorised for it are unknown.
#[allow(clippy::too_many_arguments)]
pub fn match_enterprise(
    catalog: &Catalog,
    enterprise: &Enterprise,
    as_of: NaiveDate,
    reader: Option<&Reader>,
    signals: &Signals,
    weights: &Weights,
    assumptions: &Assumptions,
    near_miss_max_failed: usize,
) -> MatchResult {
    let facts = match reader {
        Some(r) => Facts::for_reader(enterprise, as_of, r),
        None => Facts::new(enterprise, as_of),
    };
    let need = enterprise.need.as_ref();
    let products: Vec<(&Entry<Product>, Evaluation)> = catalog
        .products
        .par_iter()
        .filter(|e| product_live(&e.item, as_of))
        .map(|e| (e, e.rule.evaluate(&facts)))
        .collect();
    let policies: Vec<(&Entry<Policy>, Evaluation)> = catalog
        .policies
        .par_iter()
        .filter(|e| policy_live(&e.item, as_of))
        .map(|e| (e, e.rule.evaluate(&facts)))
        .collect();
    // Policy benefits are worked out at the best loan rate the enterprise can actually get.
    // Bill discounting and guarantees carry discount rates and fees, not loan interest.
    let loan_rate_bp = products
        .iter()
        .filter(|(e, ev)| {
            ev.outcome == Outcome::Eligible
                && !matches!(
                    e.item.kind,
                    ProductKind::BillDiscount | ProductKind::FinancingGuarantee
                )
        })
        .map(|(e, _)| e.item.rate_bp.min)
        .min()
        .unwrap_or(assumptions.loan_rate_bp);

    let finish =
        |offer: OfferRef, rule: &Rule, evaluation: Evaluation, score: ScoreBreakdown| -> Match {
            let failed = evaluation
                .failed()
                .map(|i| rule.clauses[i].text.clone())
                .collect();
            let missing = rule
                .unknown_fields(&facts, &evaluation)
                .into_iter()
                .map(|f| f.def().name)
                .collect();
            Match {
                offer,
                outcome: evaluation.outcome,
                score,
                evaluation,
                failed,
                missing,
            }
        };
    let mut all: Vec<Match> = Vec::with_capacity(products.len() + policies.len());
    for (e, evaluation) in products {
        let p = &e.item;
        let offer = OfferRef {
            id: p.id.clone(),
            kind: OfferKind::Product,
            title: p.name.clone(),
            label: p.kind.label(),
            provider: p.institution.clone(),
        };
        all.push(finish(
            offer,
            &e.rule,
            evaluation,
            ScoreBreakdown::product(p, need, signals, weights),
        ));
    }
    for (e, evaluation) in policies {
        let p = &e.item;
        let benefit = estimate_benefit(&p.benefit, need, loan_rate_bp, assumptions);
        let offer = OfferRef {
            id: p.id.clone(),
            kind: OfferKind::Policy,
            title: p.title.clone(),
            label: p.kind.label(),
            provider: p.issuer.clone(),
        };
        all.push(finish(
            offer,
            &e.rule,
            evaluation,
            ScoreBreakdown::policy(p, benefit, as_of, signals, weights, assumptions),
        ));
    }
    let evaluated = all.len();

    let mut eligible = Vec::new();
    let mut needs_info = Vec::new();
    let mut near_misses = Vec::new();
    for m in all {
        match m.outcome {
            Outcome::Eligible => eligible.push(m),
            Outcome::NeedsInfo => needs_info.push(m),
            Outcome::Ineligible
                if !m.failed.is_empty() && m.failed.len() <= near_miss_max_failed =>
            {
                near_misses.push(m)
            }
            Outcome::Ineligible => {}
        }
    }
    let by_score = |a: &Match, b: &Match| {
        b.score
            .total
            .total_cmp(&a.score.total)
            .then_with(|| a.offer.id.cmp(&b.offer.id))
    };
    eligible.sort_by(by_score);
    needs_info.sort_by(by_score);
    // Near misses the enterprise can act on come first: a failed region or industry clause
    // (the offer's service area) is not something to fix. Then fewest failures, then score.
    let structural = |m: &Match| {
        m.failed
            .iter()
            .any(|c| c.starts_with("region ") || c.starts_with("industry "))
    };
    near_misses.sort_by(|a, b| {
        structural(a)
            .cmp(&structural(b))
            .then(a.failed.len().cmp(&b.failed.len()))
            .then_with(|| by_score(a, b))
    });
    let ask_next = ask_next(&needs_info);
    MatchResult {
        enterprise: enterprise.id.clone(),
        as_of,
        eligible,
        needs_info,
        near_misses,
        ask_next,
        evaluated,
    }
}

/// Missing facts ranked by how many needs_info offers each would settle.
fn ask_next(needs_info: &[Match]) -> Vec<AskNext> {
    let mut counts: HashMap<&'static str, (usize, usize)> = HashMap::new();
    for m in needs_info {
        for field in &m.missing {
            let c = counts.entry(field).or_default();
            c.0 += 1;
            if m.missing.len() == 1 {
                c.1 += 1;
            }
        }
    }
    let mut out: Vec<AskNext> = counts
        .into_iter()
        .map(|(field, (offers, decisive))| {
            let label = crate::fields::lookup(field).map_or(field, |id: FieldId| id.def().label);
            AskNext {
                field,
                label,
                offers,
                decisive,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.offers
            .cmp(&a.offers)
            .then(b.decisive.cmp(&a.decisive))
            .then(a.field.cmp(b.field))
    });
    out
}
