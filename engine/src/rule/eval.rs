//! Three-valued evaluation of compiled rules over an enterprise's facts.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::ast::Func;
use super::compile::{Clause, Node, Rule, Test};
use crate::codes::region;
use crate::codes::size::{self, SizeResult};
use crate::fields::{Category, FIELDS, Fact, FieldId, FieldType};
use crate::model::{Enterprise, Reader};

/// Kleene truth value. A clause's verdict: `pass`, `fail` or `unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    Unknown,
}

impl Verdict {
    pub fn from_bool(b: bool) -> Verdict {
        if b { Verdict::Pass } else { Verdict::Fail }
    }

    /// Kleene conjunction: any fail fails; else any unknown is unknown.
    pub fn and(self, other: Verdict) -> Verdict {
        match (self, other) {
            (Verdict::Fail, _) | (_, Verdict::Fail) => Verdict::Fail,
            (Verdict::Unknown, _) | (_, Verdict::Unknown) => Verdict::Unknown,
            _ => Verdict::Pass,
        }
    }

    /// Kleene disjunction: any pass passes; else any unknown is unknown.
    pub fn or(self, other: Verdict) -> Verdict {
        match (self, other) {
            (Verdict::Pass, _) | (_, Verdict::Pass) => Verdict::Pass,
            (Verdict::Unknown, _) | (_, Verdict::Unknown) => Verdict::Unknown,
            _ => Verdict::Fail,
        }
    }

    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Verdict {
        match self {
            Verdict::Pass => Verdict::Fail,
            Verdict::Fail => Verdict::Pass,
            Verdict::Unknown => Verdict::Unknown,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "符合",
            Verdict::Fail => "不符合",
            Verdict::Unknown => "待确认",
        }
    }
}

/// The outcome of a whole rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Eligible,
    /// Nothing decisive failed, but facts are missing (可能符合，待确认).
    NeedsInfo,
    Ineligible,
}

impl Outcome {
    pub fn from_verdict(v: Verdict) -> Outcome {
        match v {
            Verdict::Pass => Outcome::Eligible,
            Verdict::Unknown => Outcome::NeedsInfo,
            Verdict::Fail => Outcome::Ineligible,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Outcome::Eligible => "符合",
            Outcome::NeedsInfo => "可能符合，待确认",
            Outcome::Ineligible => "不符合",
        }
    }
}

/// Everything the evaluator knows about one enterprise on one date, as one reader may see it.
///
/// Built once per enterprise and reused for every rule: field values are read from the profile
/// (and the size class computed) here, not per clause.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    values: Vec<Option<Fact<'a>>>,
    pub as_of: NaiveDate,
    /// Categories hidden from this reader for lack of consent.
    pub withheld: Vec<Category>,
    /// How the size class was decided, or why it could not be.
    pub size: SizeResult,
}

impl<'a> Facts<'a> {
    /// All facts of the profile (the enterprise itself, or the platform acting for it).
    pub fn new(e: &'a Enterprise, as_of: NaiveDate) -> Facts<'a> {
        let size = size::classify(e);
        let size_id = size_field();
        let values = FIELDS
            .iter()
            .enumerate()
            .map(|(i, f)| {
                if i == size_id.0 as usize {
                    size.class.map(|c| Fact::Str(c.label()))
                } else {
                    (f.get)(e)
                }
            })
            .collect();
        Facts {
            values,
            as_of,
            withheld: Vec::new(),
            size,
        }
    }

    /// The facts `reader` may use: categories the enterprise has not authorised for the reader
    /// are unknown, exactly as if the platform did not have them.
    pub fn for_reader(e: &'a Enterprise, as_of: NaiveDate, reader: &Reader) -> Facts<'a> {
        let mut facts = Facts::new(e, as_of);
        facts.withheld = Category::ALL
            .into_iter()
            .filter(|&c| !e.permits(c, reader, as_of))
            .collect();
        if !facts.withheld.is_empty() {
            for (value, def) in facts.values.iter_mut().zip(FIELDS) {
                if facts.withheld.contains(&def.category) {
                    *value = None;
                }
            }
            if facts.withheld.contains(&Category::Scale) {
                facts.size = SizeResult {
                    class: None,
                    row: None,
                    decided_by: vec![],
                    missing: vec![],
                    reason: "经营规模信息未获授权，无法划型".into(),
                };
            }
        }
        facts
    }

    pub fn get(&self, id: FieldId) -> Option<&Fact<'a>> {
        self.values[id.0 as usize].as_ref()
    }

    /// True when the field is unknown because its category was withheld.
    pub fn is_withheld(&self, id: FieldId) -> bool {
        self.withheld.contains(&id.def().category)
    }
}

/// The result of evaluating one rule: the outcome and every clause's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub outcome: Outcome,
    /// One verdict per clause of the rule, in clause order.
    pub verdicts: Vec<Verdict>,
}

impl Evaluation {
    /// Clauses that failed.
    pub fn failed(&self) -> impl Iterator<Item = usize> + '_ {
        self.verdicts
            .iter()
            .enumerate()
            .filter(|(_, v)| **v == Verdict::Fail)
            .map(|(i, _)| i)
    }
}

impl Rule {
    /// Evaluates every clause (none is skipped, so the trace is complete) and combines them
    /// with Kleene logic.
    pub fn evaluate(&self, facts: &Facts<'_>) -> Evaluation {
        let verdicts: Vec<Verdict> = self.clauses.iter().map(|c| c.evaluate(facts)).collect();
        let outcome = Outcome::from_verdict(combine(&self.root, &verdicts));
        Evaluation { outcome, verdicts }
    }

    /// True when the rule is the conjunction of all its clauses (or a single clause, or
    /// `true` with none), so its outcome follows from counting failed and unknown verdicts.
    pub(crate) fn is_conjunction(&self) -> bool {
        match &self.root {
            Node::And(items) => {
                items.len() == self.clauses.len()
                    && items.iter().all(|n| matches!(n, Node::Clause(_)))
            }
            Node::Clause(_) => self.clauses.len() == 1,
            Node::Const(true) => self.clauses.is_empty(),
            _ => false,
        }
    }

    /// The distinct facts to add to settle the undecided clauses. The derived size class is
    /// replaced by the figures it is missing (从业人员, 营业收入 ...), which are what the
    /// enterprise can actually supply.
    pub fn unknown_fields(&self, facts: &Facts<'_>, eval: &Evaluation) -> Vec<FieldId> {
        let mut out: Vec<FieldId> = Vec::new();
        for (c, v) in self.clauses.iter().zip(&eval.verdicts) {
            if *v != Verdict::Unknown {
                continue;
            }
            if c.field == size_field() && facts.get(c.field).is_none() {
                out.extend(size_inputs(facts));
            } else {
                out.push(c.field);
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

/// The registry id of the derived `size` field.
pub(crate) fn size_field() -> FieldId {
    static ID: std::sync::OnceLock<FieldId> = std::sync::OnceLock::new();
    *ID.get_or_init(|| crate::fields::lookup("size").expect("the registry has size"))
}

/// The registry id of the `industry` field.
fn industry_field() -> FieldId {
    static ID: std::sync::OnceLock<FieldId> = std::sync::OnceLock::new();
    *ID.get_or_init(|| crate::fields::lookup("industry").expect("the registry has industry"))
}

/// The facts to add to settle an unknown clause on `field`: the field itself, or for the
/// derived size class while it is unknown, the inputs it lacks (see [`Rule::unknown_fields`]).
pub(crate) fn unknown_inputs(field: FieldId, facts: &Facts<'_>) -> Vec<FieldId> {
    if field == size_field() && facts.get(field).is_none() {
        size_inputs(facts)
    } else {
        vec![field]
    }
}

/// What an unknown size class needs: its missing figures, the industry, or (when neither
/// explains it, e.g. consent) the class itself.
fn size_inputs(facts: &Facts<'_>) -> Vec<FieldId> {
    let industry = industry_field();
    if facts.get(industry).is_none() {
        return vec![industry];
    }
    let missing: Vec<FieldId> = facts
        .size
        .missing
        .iter()
        .filter_map(|ind| crate::fields::lookup(ind.field()))
        .collect();
    if missing.is_empty() {
        vec![size_field()]
    } else {
        missing
    }
}

fn combine(node: &Node, verdicts: &[Verdict]) -> Verdict {
    match node {
        Node::Const(b) => Verdict::from_bool(*b),
        Node::Clause(i) => verdicts[*i],
        Node::Not(inner) => combine(inner, verdicts).not(),
        Node::And(items) => items
            .iter()
            .fold(Verdict::Pass, |acc, n| acc.and(combine(n, verdicts))),
        Node::Or(items) => items
            .iter()
            .fold(Verdict::Fail, |acc, n| acc.or(combine(n, verdicts))),
    }
}

/// Whole months from `from` to `to` (negative when `from` is later).
pub fn months_between(from: NaiveDate, to: NaiveDate) -> i64 {
    let mut months = (i64::from(to.year()) - i64::from(from.year())) * 12 + i64::from(to.month())
        - i64::from(from.month());
    if months > 0 && to.day() < from.day() {
        months -= 1;
    } else if months < 0 && to.day() > from.day() {
        months += 1;
    }
    months
}

/// Whole years from `from` to `to`, truncated toward zero.
pub fn years_between(from: NaiveDate, to: NaiveDate) -> i64 {
    months_between(from, to) / 12
}

impl Clause {
    /// The clause's verdict, including a folded `not`.
    pub fn evaluate(&self, facts: &Facts<'_>) -> Verdict {
        let v = match facts.get(self.field) {
            None => Verdict::Unknown,
            Some(fact) => self.test_fact(fact, facts.as_of),
        };
        if self.negated { v.not() } else { v }
    }

    fn test_fact(&self, fact: &Fact<'_>, as_of: NaiveDate) -> Verdict {
        let is_region = self.field.def().ty == FieldType::Region;
        // Region codes compare in prefix form; no allocation on this hot path.
        fn code(s: &str, is_region: bool) -> &str {
            if is_region {
                region::prefix_slice(s)
            } else {
                s
            }
        }
        let result = match (&self.test, fact) {
            (Test::Flag, Fact::Bool(b)) => *b,
            (Test::Bool(want), Fact::Bool(b)) => b == want,
            (Test::Num(op, v), Fact::Num(x)) => op.holds(*x, *v),
            (Test::NumIn { values, negated }, Fact::Num(x)) => values.contains(x) != *negated,
            (Test::Num(op, v), Fact::Date(d)) => op.holds(self.date_measure(*d, as_of), *v),
            (Test::NumIn { values, negated }, Fact::Date(d)) => {
                values.contains(&self.date_measure(*d, as_of)) != *negated
            }
            (Test::Date(op, v), Fact::Date(d)) => op.holds(*d, *v),
            (Test::Str { value, negated }, Fact::Str(s)) => {
                (code(s, is_region) == value) != *negated
            }
            (Test::StrIn { values, negated }, Fact::Str(s)) => {
                let s = code(s, is_region);
                values.iter().any(|v| v == s) != *negated
            }
            (Test::Under(prefixes), Fact::Str(s)) => {
                let s = code(s, is_region);
                prefixes.iter().any(|p| s.starts_with(p.as_str()))
            }
            (Test::Has(label), fact) => set_items(fact).any(|i| i == label),
            (Test::HasAny(labels), fact) => set_items(fact).any(|i| labels.iter().any(|l| l == i)),
            (Test::HasAll(labels), fact) => labels.iter().all(|l| set_items(fact).any(|i| i == l)),
            // The compiler rules out type mismatches; stay total rather than panic.
            _ => return Verdict::Unknown,
        };
        Verdict::from_bool(result)
    }

    fn date_measure(&self, d: NaiveDate, as_of: NaiveDate) -> i64 {
        match self.func {
            Some(Func::YearsSince) => years_between(d, as_of),
            Some(Func::MonthsSince) => months_between(d, as_of),
            None => 0,
        }
    }
}

/// The items of a set-valued fact (none for other facts), without allocating.
fn set_items<'f>(fact: &'f Fact<'_>) -> impl Iterator<Item = &'f str> + 'f {
    let (set, labels): (&[String], &[&str]) = match fact {
        Fact::Set(items) => (items, &[]),
        Fact::Labels(items) => (&[], items),
        _ => (&[], &[]),
    };
    set.iter().map(String::as_str).chain(labels.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn whole_months_and_years() {
        assert_eq!(months_between(d("2020-01-31"), d("2020-02-29")), 0);
        assert_eq!(months_between(d("2020-01-15"), d("2020-02-15")), 1);
        assert_eq!(years_between(d("2018-06-01"), d("2020-05-31")), 1);
        assert_eq!(years_between(d("2018-06-01"), d("2020-06-01")), 2);
        assert_eq!(years_between(d("2027-01-01"), d("2026-11-21")), 0);
        assert_eq!(months_between(d("2027-01-21"), d("2026-11-21")), -2);
    }

    #[test]
    fn kleene_tables() {
        use Verdict::*;
        assert_eq!(Pass.and(Unknown), Unknown);
        assert_eq!(Fail.and(Unknown), Fail);
        assert_eq!(Pass.or(Unknown), Pass);
        assert_eq!(Fail.or(Unknown), Unknown);
        assert_eq!(Unknown.not(), Unknown);
    }
}
