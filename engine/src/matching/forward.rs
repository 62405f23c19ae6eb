//! One enterprise → ranked eligible offers, offers needing information, near misses, and the
//! facts worth asking for next.

use std::collections::HashMap;

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::Serialize;

use super::score::{Assumptions, ScoreBreakdown, Signals, Weights, benefit_yuan, estimate_benefit};
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
    /// The first `area` clauses of `rule` are the service area (region, industry).
    area: usize,
}

impl<T> Entry<T> {
    fn new(item: T, rule: &Rule, regions: &[String], industries: &[String]) -> Entry<T> {
        let (rule, area) = with_service_area(rule, regions, industries);
        Entry { item, rule, area }
    }

    /// Failed clauses, and whether the service area is among them (not fixable by the
    /// enterprise, so such an offer is no near miss).
    fn failures(&self, ev: &Evaluation) -> (usize, bool) {
        ev.failed()
            .fold((0, false), |(n, area), i| (n + 1, area || i < self.area))
    }
}

/// Every offer, compiled once for matching.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    products: Vec<Entry<Product>>,
    policies: Vec<Entry<Policy>>,
}

/// An offer's rule as matching uses it: the eligibility rule with the service area in front.
pub fn offer_rule(rule: &Rule, regions: &[String], industries: &[String]) -> Rule {
    with_service_area(rule, regions, industries).0
}

/// `region under [...]` and `industry under [...]` in front of the eligibility rule, so the
/// trace shows the service area as conditions of their own.
fn with_service_area(rule: &Rule, regions: &[String], industries: &[String]) -> (Rule, usize) {
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
    let n = parts.len();
    if n == 0 {
        return (rule.clone(), 0);
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
    match Rule::from_expr(expr) {
        Ok(r) => (r, n),
        Err(_) => (rule.clone(), 0),
    }
}

impl Catalog {
    pub fn new(products: &[Checked<Product>], policies: &[Checked<Policy>]) -> Catalog {
        Catalog {
            products: products
                .iter()
                .map(|p| Entry::new(p.item.clone(), &p.rule, &p.item.regions, &p.item.industries))
                .collect(),
            policies: policies
                .iter()
                .map(|p| Entry::new(p.item.clone(), &p.rule, &p.item.regions, &[]))
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

    /// Evaluates and explains one offer by id, whatever its outcome ("why not this product?").
    pub fn explain_offer(&self, id: &str, facts: &Facts<'_>) -> Option<Explanation> {
        let rule = self
            .products
            .iter()
            .find(|e| e.item.id == id)
            .map(|e| &e.rule)
            .or_else(|| {
                self.policies
                    .iter()
                    .find(|e| e.item.id == id)
                    .map(|e| &e.rule)
            })?;
        Some(rule.explain(facts))
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

/// The three lists (best first, at most `MatchOptions::limit` each), their full sizes, and
/// the questions to ask.
#[derive(Debug, Clone, Serialize)]
pub struct MatchResult {
    pub enterprise: String,
    pub as_of: NaiveDate,
    pub eligible: Vec<Match>,
    pub needs_info: Vec<Match>,
    pub near_misses: Vec<Match>,
    pub ask_next: Vec<AskNext>,
    /// How many offers each list holds before `limit`.
    pub totals: Totals,
    /// Live offers evaluated.
    pub evaluated: usize,
}

/// Sizes of the three lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub eligible: usize,
    pub needs_info: usize,
    pub near_misses: usize,
}

/// How matching scores and cuts its lists.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatchOptions {
    pub weights: Weights,
    pub assumptions: Assumptions,
    /// Most failed clauses for an offer to count as a near miss.
    pub near_miss_max_failed: usize,
    /// Matches returned per list (ranked on every offer; only these are spelled out).
    pub limit: usize,
}

impl Default for MatchOptions {
    fn default() -> Self {
        MatchOptions {
            weights: Weights::default(),
            assumptions: Assumptions::default(),
            near_miss_max_failed: 2,
            limit: 50,
        }
    }
}

/// An offer kept for a list, ranked before it is spelled out.
struct Candidate<'c> {
    offer: Offer<'c>,
    evaluation: Evaluation,
    score: ScoreBreakdown,
    failed: usize,
}

#[derive(Clone, Copy)]
enum Offer<'c> {
    Product(&'c Entry<Product>),
    Policy(&'c Entry<Policy>),
}

impl Offer<'_> {
    fn rule(&self) -> &Rule {
        match self {
            Offer::Product(e) => &e.rule,
            Offer::Policy(e) => &e.rule,
        }
    }

    fn id(&self) -> &str {
        match self {
            Offer::Product(e) => &e.item.id,
            Offer::Policy(e) => &e.item.id,
        }
    }
}

/// Evaluates every live offer of `catalog` for `enterprise` on `as_of`. With a `reader`, the
/// credit-information categories the enterprise has not authorised for it are unknown.
///
/// Every offer is evaluated and ranked by its numeric score; only the `limit` best of each
/// list are spelled out (names, failed clauses, benefit working), which keeps a request over
/// tens of thousands of offers within milliseconds.
pub fn match_enterprise(
    catalog: &Catalog,
    enterprise: &Enterprise,
    as_of: NaiveDate,
    reader: Option<&Reader>,
    signals: &Signals,
    options: &MatchOptions,
) -> MatchResult {
    let facts = match reader {
        Some(r) => Facts::for_reader(enterprise, as_of, r),
        None => Facts::new(enterprise, as_of),
    };
    let need = enterprise.need.as_ref();
    let (weights, assumptions) = (&options.weights, &options.assumptions);
    // Which list an offer goes to follows from its verdicts alone.
    let keep = |(failed, area): (usize, bool), outcome: Outcome| match outcome {
        Outcome::Eligible | Outcome::NeedsInfo => true,
        Outcome::Ineligible => !area && (1..=options.near_miss_max_failed).contains(&failed),
    };
    let mut candidates: Vec<Candidate<'_>> = catalog
        .products
        .par_iter()
        .filter(|e| product_live(&e.item, as_of))
        .filter_map(|e| {
            let evaluation = e.rule.evaluate(&facts);
            let (failed, area) = e.failures(&evaluation);
            keep((failed, area), evaluation.outcome).then(|| Candidate {
                score: ScoreBreakdown::product(&e.item, need, signals, weights),
                offer: Offer::Product(e),
                evaluation,
                failed,
            })
        })
        .collect();
    // Policy benefits are worked out at the best loan rate the enterprise can actually get.
    // Bill discounting and guarantees carry discount rates and fees, not loan interest.
    let loan_rate_bp = candidates
        .iter()
        .filter_map(|c| match c.offer {
            Offer::Product(e)
                if c.evaluation.outcome == Outcome::Eligible
                    && !matches!(
                        e.item.kind,
                        ProductKind::BillDiscount | ProductKind::FinancingGuarantee
                    ) =>
            {
                Some(e.item.rate_bp.min)
            }
            _ => None,
        })
        .min()
        .unwrap_or(assumptions.loan_rate_bp);
    let policies: Vec<Candidate<'_>> = catalog
        .policies
        .par_iter()
        .filter(|e| policy_live(&e.item, as_of))
        .filter_map(|e| {
            let evaluation = e.rule.evaluate(&facts);
            let (failed, area) = e.failures(&evaluation);
            keep((failed, area), evaluation.outcome).then(|| {
                let (yuan, _) = benefit_yuan(&e.item.benefit, need, loan_rate_bp, assumptions);
                let score =
                    ScoreBreakdown::policy(&e.item, yuan, as_of, signals, weights, assumptions);
                Candidate {
                    offer: Offer::Policy(e),
                    evaluation,
                    score,
                    failed,
                }
            })
        })
        .collect();
    candidates.extend(policies);
    let evaluated = catalog
        .products
        .iter()
        .filter(|e| product_live(&e.item, as_of))
        .count()
        + catalog
            .policies
            .iter()
            .filter(|e| policy_live(&e.item, as_of))
            .count();

    let mut eligible = Vec::new();
    let mut needs_info = Vec::new();
    let mut near_misses = Vec::new();
    for c in candidates {
        match c.evaluation.outcome {
            Outcome::Eligible => eligible.push(c),
            Outcome::NeedsInfo => needs_info.push(c),
            Outcome::Ineligible => near_misses.push(c),
        }
    }
    let totals = Totals {
        eligible: eligible.len(),
        needs_info: needs_info.len(),
        near_misses: near_misses.len(),
    };
    // Every needs_info offer counts towards the questions, not only the ones shown.
    let missing: Vec<Vec<&'static str>> = needs_info
        .par_iter()
        .map(|c| missing_fields(c.offer.rule(), &facts, &c.evaluation))
        .collect();
    let ask_next = ask_next(&missing);

    let by_score = |a: &Candidate<'_>, b: &Candidate<'_>| {
        b.score
            .total
            .total_cmp(&a.score.total)
            .then_with(|| a.offer.id().cmp(b.offer.id()))
    };
    let spell = |mut list: Vec<Candidate<'_>>,
                 cmp: &dyn Fn(&Candidate<'_>, &Candidate<'_>) -> std::cmp::Ordering|
     -> Vec<Match> {
        list.sort_by(|a, b| cmp(a, b));
        list.truncate(options.limit);
        list.into_iter()
            .map(|c| spell_out(c, &facts, need, loan_rate_bp, assumptions))
            .collect()
    };
    MatchResult {
        enterprise: enterprise.id.clone(),
        as_of,
        eligible: spell(eligible, &by_score),
        needs_info: spell(needs_info, &by_score),
        // Near misses: fewest failed clauses first, then score.
        near_misses: spell(near_misses, &|a, b| {
            a.failed.cmp(&b.failed).then_with(|| by_score(a, b))
        }),
        ask_next,
        totals,
        evaluated,
    }
}

fn missing_fields(rule: &Rule, facts: &Facts<'_>, evaluation: &Evaluation) -> Vec<&'static str> {
    rule.unknown_fields(facts, evaluation)
        .into_iter()
        .map(|f| f.def().name)
        .collect()
}

/// A ranked candidate with its names, failed clauses, missing facts and benefit working.
fn spell_out(
    c: Candidate<'_>,
    facts: &Facts<'_>,
    need: Option<&crate::model::FinancingNeed>,
    loan_rate_bp: i64,
    a: &Assumptions,
) -> Match {
    let rule = c.offer.rule();
    let failed = c
        .evaluation
        .failed()
        .map(|i| rule.clauses[i].text.clone())
        .collect();
    let missing = missing_fields(rule, facts, &c.evaluation);
    let mut score = c.score;
    let offer = match c.offer {
        Offer::Product(e) => {
            let p = &e.item;
            OfferRef {
                id: p.id.clone(),
                kind: OfferKind::Product,
                title: p.name.clone(),
                label: p.kind.label(),
                provider: p.institution.clone(),
            }
        }
        Offer::Policy(e) => {
            let p = &e.item;
            score.benefit = Some(estimate_benefit(&p.benefit, need, loan_rate_bp, a));
            OfferRef {
                id: p.id.clone(),
                kind: OfferKind::Policy,
                title: p.title.clone(),
                label: p.kind.label(),
                provider: p.issuer.clone(),
            }
        }
    };
    Match {
        offer,
        outcome: c.evaluation.outcome,
        score,
        evaluation: c.evaluation,
        failed,
        missing,
    }
}

/// Missing facts ranked by how many needs_info offers each would settle.
fn ask_next(missing: &[Vec<&'static str>]) -> Vec<AskNext> {
    let mut counts: HashMap<&'static str, (usize, usize)> = HashMap::new();
    for fields in missing {
        for field in fields {
            let c = counts.entry(field).or_default();
            c.0 += 1;
            if fields.len() == 1 {
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
