//! One enterprise → ranked eligible offers, offers needing information, near misses, and the
//! facts worth asking for next.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::score::{
    Assumptions, ProductTerms, ScoreBreakdown, Signals, Weights, benefit_yuan, estimate_benefit,
};
use crate::fields::{FIELDS, FieldId};
use crate::model::{Enterprise, Policy, Product, ProductKind, Reader, Status};
use crate::rule::{
    Clause, Cmp, Evaluation, Explanation, Expr, Facts, Literal, Node, Op, Outcome, Rule, Verdict,
};

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

/// What matching reads of one offer for every enterprise, packed apart from the offers
/// themselves so that the pass over the whole catalog stays in cache.
#[derive(Debug, Clone, Copy)]
struct Packed {
    /// Published, and in effect (products) or open for applications (policies) from `opens`
    /// to `closes`, both inclusive.
    published: bool,
    opens: Option<NaiveDate>,
    closes: Option<NaiveDate>,
    /// Where the rule's clauses are in [`Catalog::ids`] (each an index into the catalog's
    /// [`ClauseTable`]), in clause order.
    ids: (u32, u32),
    /// Where the rule's structure is in [`Catalog::steps`]; empty for a conjunction.
    steps: (u32, u32),
    /// The first `area` clauses are the service area (region, industry).
    area: u32,
    /// The rule is the conjunction of its clauses ([`Rule::is_conjunction`]): its outcome
    /// follows from counting verdicts.
    conjunction: bool,
}

impl Packed {
    fn live(&self, as_of: NaiveDate) -> bool {
        self.published
            && self.opens.is_none_or(|o| o <= as_of)
            && self.closes.is_none_or(|c| as_of <= c)
    }
}

/// One step of a rule's boolean structure in postfix form, over the catalog's clause ids.
/// Running the steps combines verdicts exactly as [`Rule::evaluate`] does.
#[derive(Debug, Clone, Copy)]
enum Step {
    Clause(u32),
    Const(bool),
    Not,
    And(u32),
    Or(u32),
}

/// Appends `node` in postfix form, with the rule's clause `i` as the catalog's clause `ids[i]`.
fn postfix(node: &Node, ids: &[u32], out: &mut Vec<Step>) {
    match node {
        Node::Const(b) => out.push(Step::Const(*b)),
        Node::Clause(i) => out.push(Step::Clause(ids[*i])),
        Node::Not(inner) => {
            postfix(inner, ids, out);
            out.push(Step::Not);
        }
        Node::And(items) | Node::Or(items) => {
            for item in items {
                postfix(item, ids, out);
            }
            let n = u32::try_from(items.len()).expect("fewer than 2³² operands");
            out.push(if matches!(node, Node::And(_)) {
                Step::And(n)
            } else {
                Step::Or(n)
            });
        }
    }
}

/// Runs postfix steps over the catalog's clause verdicts (Kleene logic, as `combine`).
fn run(steps: &[Step], verdicts: &[Verdict], stack: &mut Vec<Verdict>) -> Verdict {
    stack.clear();
    for step in steps {
        let v = match *step {
            Step::Clause(id) => verdicts[id as usize],
            Step::Const(b) => Verdict::from_bool(b),
            Step::Not => stack.pop().expect("an operand").not(),
            Step::And(n) => {
                let at = stack.len() - n as usize;
                let v = stack[at..].iter().fold(Verdict::Pass, |acc, &v| acc.and(v));
                stack.truncate(at);
                v
            }
            Step::Or(n) => {
                let at = stack.len() - n as usize;
                let v = stack[at..].iter().fold(Verdict::Fail, |acc, &v| acc.or(v));
                stack.truncate(at);
                v
            }
        };
        stack.push(v);
    }
    stack.pop().expect("a rule has one value")
}

/// The distinct clauses of every offer's rule. Offers share many conditions (`not dishonest`,
/// the size class, a province), so one enterprise's verdicts are found once per distinct
/// clause and each offer's trace is read from them.
#[derive(Debug, Clone, Default)]
struct ClauseTable {
    clauses: Vec<Clause>,
    /// Indices into `clauses` by canonical text (clauses with the same text are compared
    /// whole before they are shared).
    by_text: HashMap<String, Vec<u32>>,
}

impl ClauseTable {
    fn intern(&mut self, clause: &Clause) -> u32 {
        let same = self.by_text.entry(clause.text.clone()).or_default();
        if let Some(&id) = same
            .iter()
            .find(|&&id| self.clauses[id as usize] == *clause)
        {
            return id;
        }
        let id = u32::try_from(self.clauses.len()).expect("fewer than 2³² distinct clauses");
        self.clauses.push(clause.clone());
        same.push(id);
        id
    }

    /// Every distinct clause's verdict for these facts.
    fn evaluate(&self, facts: &Facts<'_>) -> Vec<Verdict> {
        self.clauses.iter().map(|c| c.evaluate(facts)).collect()
    }
}

/// Every offer, compiled once for matching.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    products: Vec<Entry<Product>>,
    policies: Vec<Entry<Policy>>,
    clauses: ClauseTable,
    /// What scoring reads of each product, in product order.
    terms: Vec<ProductTerms>,
    /// One per offer: the products, then the policies.
    packed: Vec<Packed>,
    /// Per offer (products, then policies), the place of its id among all ids in byte order,
    /// so that ranking compares numbers rather than strings (equal ids share a place).
    id_rank: Vec<u32>,
    ids: Vec<u32>,
    steps: Vec<Step>,
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
        let mut catalog = Catalog::default();
        for p in products {
            let (item, live) = (&p.item, &p.item.effective_to);
            let rule = catalog.pack(&p.rule, &item.regions, &item.industries, |packed| Packed {
                published: item.status == Status::Published,
                opens: Some(item.effective_from),
                closes: *live,
                ..packed
            });
            catalog.terms.push(ProductTerms::of(item));
            catalog.products.push(Entry {
                item: item.clone(),
                rule,
            });
        }
        for p in policies {
            let item = &p.item;
            let rule = catalog.pack(&p.rule, &item.regions, &[], |packed| Packed {
                published: item.status == Status::Published,
                opens: item.window.opens,
                closes: item.window.closes,
                ..packed
            });
            catalog.policies.push(Entry {
                item: item.clone(),
                rule,
            });
        }
        let ids: Vec<&str> = (catalog.products.iter().map(|e| e.item.id.as_str()))
            .chain(catalog.policies.iter().map(|e| e.item.id.as_str()))
            .collect();
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_unstable_by_key(|&i| ids[i]);
        let mut rank = vec![0u32; ids.len()];
        for (place, pair) in order.iter().enumerate() {
            rank[*pair] = match place {
                0 => 0,
                _ if ids[order[place - 1]] == ids[*pair] => rank[order[place - 1]],
                _ => u32::try_from(place).expect("fewer than 2³² offers"),
            };
        }
        catalog.id_rank = rank;
        catalog
    }

    /// Adds an offer's rule (with its service area) to the packed form; `live` fills in when
    /// the offer is live. Returns the rule as matching uses it.
    fn pack(
        &mut self,
        rule: &Rule,
        regions: &[String],
        industries: &[String],
        live: impl FnOnce(Packed) -> Packed,
    ) -> Rule {
        let (rule, area) = with_service_area(rule, regions, industries);
        let at = |n: usize| u32::try_from(n).expect("fewer than 2³² clauses in a catalog");
        let start = self.ids.len();
        for clause in &rule.clauses {
            let id = self.clauses.intern(clause);
            self.ids.push(id);
        }
        let conjunction = rule.is_conjunction();
        let first_step = self.steps.len();
        if !conjunction {
            postfix(&rule.root, &self.ids[start..], &mut self.steps);
        }
        self.packed.push(live(Packed {
            published: false,
            opens: None,
            closes: None,
            ids: (at(start), at(self.ids.len())),
            steps: (at(first_step), at(self.steps.len())),
            area: at(area),
            conjunction,
        }));
        rule
    }

    /// The outcome of offer `p` from the verdicts of the catalog's clauses, the number of its
    /// failed clauses, and whether the service area is among them (not fixable by the
    /// enterprise, so such an offer is no near miss). As [`Rule::evaluate`], clause for clause.
    fn judge(
        &self,
        p: &Packed,
        verdicts: &[Verdict],
        stack: &mut Vec<Verdict>,
    ) -> (Outcome, usize, bool) {
        // Without branches on the verdicts, which vary from offer to offer.
        let (mut failed, mut area, mut unknown) = (0, false, false);
        for (i, &id) in self.clause_ids(p).iter().enumerate() {
            let v = verdicts[id as usize];
            let fail = v == Verdict::Fail;
            failed += usize::from(fail);
            area |= fail & (i < p.area as usize);
            unknown |= v == Verdict::Unknown;
        }
        let outcome = if !p.conjunction {
            let steps = &self.steps[p.steps.0 as usize..p.steps.1 as usize];
            Outcome::from_verdict(run(steps, verdicts, stack))
        } else if failed > 0 {
            Outcome::Ineligible
        } else if unknown {
            Outcome::NeedsInfo
        } else {
            Outcome::Eligible
        };
        (outcome, failed, area)
    }

    /// The catalog's clause ids of an offer's rule, in clause order.
    fn clause_ids(&self, p: &Packed) -> &[u32] {
        &self.ids[p.ids.0 as usize..p.ids.1 as usize]
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

/// An offer kept for a list, ranked before it is spelled out. Small, so ranking moves little:
/// the trace and the score breakdown are read again for the offers that are shown.
#[derive(Clone, Copy)]
struct Candidate<'c> {
    offer: Offer<'c>,
    outcome: Outcome,
    failed: usize,
    /// The weighted score.
    total: f32,
    /// Position in the catalog (products, then policies): ties on score and id keep the
    /// catalog's order.
    position: usize,
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
}

/// A set of registry fields, as bits.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct FieldSet([u64; FieldSet::WORDS]);

impl FieldSet {
    const WORDS: usize = 4;

    fn insert(&mut self, id: FieldId) {
        let i = usize::from(id.0);
        self.0[i / 64] |= 1 << (i % 64);
    }

    fn union(&mut self, other: &FieldSet) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a |= b;
        }
    }

    fn len(&self) -> u32 {
        self.0.iter().map(|w| w.count_ones()).sum()
    }

    /// The fields in registry order.
    fn iter(&self) -> impl Iterator<Item = FieldId> + '_ {
        self.0.iter().enumerate().flat_map(|(w, &word)| {
            let mut bits = word;
            std::iter::from_fn(move || {
                (bits != 0).then(|| {
                    let i = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    FieldId((w * 64 + i) as u16)
                })
            })
        })
    }
}

/// Evaluates every live offer of `catalog` for `enterprise` on `as_of`. With a `reader`, the
/// credit-information categories the enterprise has not authorised for it are unknown.
///
/// Every offer is evaluated, every clause of it (each distinct clause of the catalog once,
/// each offer reading its verdicts from them), and ranked by its numeric score; only the
/// `limit` best of each list are spelled out (names, trace, failed clauses, benefit working),
/// which keeps a request over tens of thousands of offers within milliseconds.
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
    let verdicts = catalog.clauses.evaluate(&facts);
    let mut stack = Vec::new();
    let need = enterprise.need.as_ref();
    let (weights, assumptions) = (&options.weights, &options.assumptions);
    // Which list an offer goes to follows from its verdicts alone.
    let keep = |failed: usize, area: bool, outcome: Outcome| match outcome {
        Outcome::Eligible | Outcome::NeedsInfo => true,
        Outcome::Ineligible => !area && (1..=options.near_miss_max_failed).contains(&failed),
    };
    let mut evaluated = 0;
    let mut candidates: Vec<Candidate<'_>> = Vec::new();
    let (products, policies) = catalog.packed.split_at(catalog.products.len());
    let products = products.iter().zip(&catalog.terms).zip(&catalog.products);
    for (position, ((p, terms), e)) in products.enumerate() {
        if !p.live(as_of) {
            continue;
        }
        evaluated += 1;
        let (outcome, failed, area) = catalog.judge(p, &verdicts, &mut stack);
        if keep(failed, area, outcome) {
            candidates.push(Candidate {
                offer: Offer::Product(e),
                outcome,
                failed,
                total: ScoreBreakdown::product_terms(terms, || &e.item.id, need, signals, weights)
                    .total,
                position,
            });
        }
    }
    // Policy benefits are worked out at the best loan rate the enterprise can actually get.
    // Bill discounting and guarantees carry discount rates and fees, not loan interest.
    let loan_rate_bp = candidates
        .iter()
        .filter_map(|c| {
            let terms = &catalog.terms[c.position];
            (c.outcome == Outcome::Eligible
                && !matches!(
                    terms.kind,
                    ProductKind::BillDiscount | ProductKind::FinancingGuarantee
                ))
            .then_some(terms.rate_min_bp)
        })
        .min()
        .unwrap_or(assumptions.loan_rate_bp);
    let policy_score = |p: &Policy| {
        let (yuan, _) = benefit_yuan(&p.benefit, need, loan_rate_bp, assumptions);
        ScoreBreakdown::policy(p, yuan, as_of, signals, weights, assumptions)
    };
    for (i, (p, e)) in policies.iter().zip(&catalog.policies).enumerate() {
        if !p.live(as_of) {
            continue;
        }
        evaluated += 1;
        let (outcome, failed, area) = catalog.judge(p, &verdicts, &mut stack);
        if keep(failed, area, outcome) {
            candidates.push(Candidate {
                offer: Offer::Policy(e),
                outcome,
                failed,
                total: policy_score(&e.item).total,
                position: catalog.products.len() + i,
            });
        }
    }

    let mut eligible = Vec::new();
    let mut needs_info = Vec::new();
    let mut near_misses = Vec::new();
    for c in candidates {
        match c.outcome {
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
    let ask_next = ask_next(catalog, &facts, &verdicts, &needs_info);

    // Best score first, then by id (its rank among the catalog's ids), then catalog order.
    let rank = &catalog.id_rank;
    let by_score = |a: &Candidate<'_>, b: &Candidate<'_>| {
        b.total
            .total_cmp(&a.total)
            .then(rank[a.position].cmp(&rank[b.position]))
            .then(a.position.cmp(&b.position))
    };
    let spell = |mut list: Vec<Candidate<'_>>,
                 cmp: &dyn Fn(&Candidate<'_>, &Candidate<'_>) -> std::cmp::Ordering|
     -> Vec<Match> {
        // The order is total (positions are unique), so selecting the best `limit` and sorting
        // only them gives what a full sort would.
        if list.len() > options.limit && options.limit > 0 {
            list.select_nth_unstable_by(options.limit - 1, |a, b| cmp(a, b));
        }
        list.truncate(options.limit);
        list.sort_unstable_by(|a, b| cmp(a, b));
        list.into_iter()
            .map(|c| {
                let score = match c.offer {
                    Offer::Product(e) => {
                        let terms = &catalog.terms[c.position];
                        ScoreBreakdown::product_terms(terms, || &e.item.id, need, signals, weights)
                    }
                    Offer::Policy(e) => policy_score(&e.item),
                };
                let ids = catalog.clause_ids(&catalog.packed[c.position]);
                let evaluation = Evaluation {
                    outcome: c.outcome,
                    verdicts: ids.iter().map(|&id| verdicts[id as usize]).collect(),
                };
                spell_out(
                    c,
                    score,
                    evaluation,
                    &facts,
                    need,
                    loan_rate_bp,
                    assumptions,
                )
            })
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

/// A ranked candidate with its trace, names, failed clauses, missing facts and benefit working.
fn spell_out(
    c: Candidate<'_>,
    mut score: ScoreBreakdown,
    evaluation: Evaluation,
    facts: &Facts<'_>,
    need: Option<&crate::model::FinancingNeed>,
    loan_rate_bp: i64,
    a: &Assumptions,
) -> Match {
    let rule = c.offer.rule();
    let failed = evaluation
        .failed()
        .map(|i| rule.clauses[i].text.clone())
        .collect();
    let missing = rule
        .unknown_fields(facts, &evaluation)
        .into_iter()
        .map(|f| f.def().name)
        .collect();
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
        outcome: c.outcome,
        score,
        evaluation,
        failed,
        missing,
    }
}

/// Missing facts ranked by how many needs_info offers each would settle: for each offer, the
/// fields [`Rule::unknown_fields`] gives, as sets over the registry.
fn ask_next(
    catalog: &Catalog,
    facts: &Facts<'_>,
    verdicts: &[Verdict],
    needs_info: &[Candidate<'_>],
) -> Vec<AskNext> {
    assert!(
        FIELDS.len() <= FieldSet::WORDS * 64,
        "FieldSet holds {} fields",
        FieldSet::WORDS * 64
    );
    // What settles each distinct unknown clause, found once.
    let inputs: Vec<FieldSet> = catalog
        .clauses
        .clauses
        .iter()
        .zip(verdicts)
        .map(|(clause, v)| {
            let mut set = FieldSet::default();
            if *v == Verdict::Unknown {
                for id in crate::rule::unknown_inputs(clause.field, facts) {
                    set.insert(id);
                }
            }
            set
        })
        .collect();
    let mut counts = vec![(0usize, 0usize); FieldSet::WORDS * 64];
    for c in needs_info {
        let mut fields = FieldSet::default();
        for &id in catalog.clause_ids(&catalog.packed[c.position]) {
            fields.union(&inputs[id as usize]);
        }
        let decisive = fields.len() == 1;
        for f in fields.iter() {
            let count = &mut counts[usize::from(f.0)];
            count.0 += 1;
            count.1 += usize::from(decisive);
        }
    }
    let mut out: Vec<AskNext> = counts
        .into_iter()
        .enumerate()
        .filter(|(_, (offers, _))| *offers > 0)
        .map(|(i, (offers, decisive))| {
            let def = FieldId(i as u16).def();
            AskNext {
                field: def.name,
                label: def.label,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic;

    fn as_of() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
    }

    /// Synthetic offers, plus products whose rules nest `or` and `not` (not conjunctions).
    fn catalog() -> (Vec<Checked<Product>>, Vec<Checked<Policy>>) {
        let mut products: Vec<_> = synthetic::products(11, 400)
            .into_iter()
            .map(|item| Checked {
                rule: item.eligibility.compile().unwrap(),
                item,
            })
            .collect();
        for (i, text) in [
            "not (dishonest or overdue_now) and (high_tech or (tech_sme and employees >= 10))",
            "not dishonest or size in [\"小型\", \"微型\"]",
            "not (years_since(established) >= 3)",
            "tags has \"外贸\" or not has_bank_loan",
        ]
        .into_iter()
        .enumerate()
        {
            let mut p = products[i].clone();
            p.item.id = format!("NESTED-{i}");
            p.rule = crate::rule::compile(text).unwrap();
            products.push(p);
        }
        let policies = synthetic::policies(11, 100)
            .into_iter()
            .map(|item| Checked {
                rule: item.eligibility.compile().unwrap(),
                item,
            })
            .collect();
        (products, policies)
    }

    /// Shared clauses and packed rules judge every offer as the interpreter does.
    #[test]
    fn packed_judgement_agrees_with_the_interpreter() {
        let (products, policies) = catalog();
        let catalog = Catalog::new(&products, &policies);
        let rules = (catalog.products.iter().map(|e| &e.rule))
            .chain(catalog.policies.iter().map(|e| &e.rule));
        let rules: Vec<&Rule> = rules.collect();
        assert!(catalog.clauses.clauses.len() < rules.len());
        assert!(catalog.packed.iter().any(|p| !p.conjunction));
        let mut stack = Vec::new();
        for e in synthetic::enterprises(3, 30) {
            let facts = Facts::new(&e, as_of());
            let verdicts = catalog.clauses.evaluate(&facts);
            for (p, rule) in catalog.packed.iter().zip(&rules) {
                let ev = rule.evaluate(&facts);
                let (outcome, failed, area) = catalog.judge(p, &verdicts, &mut stack);
                let read: Vec<Verdict> = (catalog.clause_ids(p).iter())
                    .map(|&id| verdicts[id as usize])
                    .collect();
                assert_eq!(read, ev.verdicts, "{}", rule.expr);
                assert_eq!(outcome, ev.outcome, "{}", rule.expr);
                assert_eq!(failed, ev.failed().count());
                assert_eq!(area, ev.failed().any(|i| i < p.area as usize));
            }
        }
    }

    /// The questions, counted over bit sets, are those counted from each needs_info offer's
    /// `unknown_fields`; the shown matches carry the interpreter's trace.
    #[test]
    fn ask_next_and_traces_agree_with_the_interpreter() {
        let (products, policies) = catalog();
        let catalog = Catalog::new(&products, &policies);
        let options = MatchOptions {
            limit: 1000,
            ..MatchOptions::default()
        };
        for e in synthetic::enterprises(5, 30) {
            let r = match_enterprise(&catalog, &e, as_of(), None, &Signals::default(), &options);
            let facts = Facts::new(&e, as_of());
            let mut counts: HashMap<&'static str, (usize, usize)> = HashMap::new();
            for m in &r.needs_info {
                let rule = catalog.rule(&m.offer).unwrap();
                let fields = rule.unknown_fields(&facts, &m.evaluation);
                for f in &fields {
                    let c = counts.entry(f.def().name).or_default();
                    c.0 += 1;
                    c.1 += usize::from(fields.len() == 1);
                }
            }
            assert_eq!(r.needs_info.len(), r.totals.needs_info, "limit covers all");
            for a in &r.ask_next {
                assert_eq!(counts.remove(a.field), Some((a.offers, a.decisive)));
            }
            assert!(counts.is_empty());
            for m in r.eligible.iter().chain(&r.needs_info).chain(&r.near_misses) {
                let explained = catalog.explain_offer(&m.offer.id, &facts).unwrap();
                assert_eq!(explained, catalog.explain(m, &facts).unwrap());
            }
        }
    }
}
