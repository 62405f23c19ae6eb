//! [`CompiledPredicate`]: a rule turned into tests on column values.
//!
//! Compiling resolves every clause to one column and one test in the column's own value space:
//! numbers and dates become sorted ranges of integers (dates as day numbers), `years_since` /
//! `months_since` become date cutoffs, categories and codes become strings or prefixes that a
//! store maps to dictionary codes when it scans. The predicate does not depend on a store, so
//! one compiled rule serves any store and survives upserts.

use chrono::{Datelike, NaiveDate};

use super::ReverseError;
use crate::fields::{FieldId, FieldType};
use crate::rule::{Clause, CmpOp, Func, Node, Rule, Test, months_between, years_between};

/// A rule compiled for scanning an [`EnterpriseStore`](super::EnterpriseStore) with
/// [`reach`](super::reach).
///
/// Agrees with [`Rule::evaluate`] over [`Facts::new`](crate::rule::Facts::new) on every profile:
/// same Kleene logic, same code forms, and date functions turned into cutoffs found with the
/// interpreter's own [`years_between`] / [`months_between`].
#[derive(Debug, Clone)]
pub struct CompiledPredicate {
    pub(crate) root: PNode,
    pub(crate) leaves: Vec<Leaf>,
    as_of: NaiveDate,
}

/// The boolean structure; `And` / `Or` children are ordered cheapest first (Kleene `and` and
/// `or` are commutative, so the order changes the work, not the outcome).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PNode {
    Const(bool),
    And(Vec<PNode>),
    Or(Vec<PNode>),
    Not(Box<PNode>),
    Leaf(usize),
}

/// One clause, resolved to a column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Leaf {
    /// Index of the field (and of its column).
    pub(crate) field: FieldId,
    /// The clause's folded `not`: swap pass and fail.
    pub(crate) negated: bool,
    pub(crate) test: LeafTest,
}

/// The test of one clause on one column's values; unknown values are always unknown.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum LeafTest {
    /// Every known value gives this verdict (`Some(pass)`) or stays unknown (`None`): tests the
    /// value cannot change, such as a test of the wrong kind for the field.
    Known(Option<bool>),
    /// A yes/no value equals this.
    Flag(bool),
    /// An integer (or a date's day number) lies in one of the inclusive ranges (sorted,
    /// disjoint, non-adjacent), or with `negate` in none of them.
    Values {
        ranges: Vec<(i128, i128)>,
        negate: bool,
    },
    /// A dictionary value equals one of these, or with `negate` none of them.
    Strings { values: Vec<String>, negate: bool },
    /// A dictionary value starts with one of these.
    Prefixes(Vec<String>),
    /// A label set holds one (or with `all`, every one) of these.
    Labels { labels: Vec<String>, all: bool },
}

const MIN: i128 = i64::MIN as i128;
const MAX: i128 = i64::MAX as i128;

impl CompiledPredicate {
    /// Compiles a checked rule for evaluation on `as_of` (the "today" of `years_since` and
    /// `months_since`).
    ///
    /// # Errors
    /// - [`ReverseError::PersonalText`] when a clause tests personal free text (a legal
    ///   representative's name, ID number or phone), which is not stored for reach.
    /// - [`ReverseError::Inconsistent`] when the rule's clause list was altered after compiling.
    pub fn compile(rule: &Rule, as_of: NaiveDate) -> Result<CompiledPredicate, ReverseError> {
        let root = shape(&rule.root, rule.clauses.len()).ok_or(ReverseError::Inconsistent)?;
        let leaves = rule
            .clauses
            .iter()
            .map(|c| leaf(c, as_of))
            .collect::<Result<Vec<_>, _>>()?;
        let root = order(root, &leaves);
        Ok(CompiledPredicate {
            root,
            leaves,
            as_of,
        })
    }

    /// The date the predicate was compiled for.
    pub fn as_of(&self) -> NaiveDate {
        self.as_of
    }

    /// The fields the predicate reads, in clause order (with repeats).
    pub fn fields(&self) -> impl Iterator<Item = FieldId> + '_ {
        self.leaves.iter().map(|l| l.field)
    }
}

/// The rule's compiled tree (clauses numbered in text order, `not` over a clause already
/// folded into it) as the scan's tree; `None` when it names a clause the rule does not have.
fn shape(n: &Node, clauses: usize) -> Option<PNode> {
    Some(match n {
        Node::Const(b) => PNode::Const(*b),
        Node::And(items) => PNode::And(
            items
                .iter()
                .map(|i| shape(i, clauses))
                .collect::<Option<_>>()?,
        ),
        Node::Or(items) => PNode::Or(
            items
                .iter()
                .map(|i| shape(i, clauses))
                .collect::<Option<_>>()?,
        ),
        Node::Not(inner) => PNode::Not(Box::new(shape(inner, clauses)?)),
        Node::Clause(i) => (*i < clauses).then_some(PNode::Leaf(*i))?,
    })
}

/// Relative cost of evaluating a node: bitmap tests are nearly free, value scans are not.
fn cost(n: &PNode, leaves: &[Leaf]) -> u32 {
    match n {
        PNode::Const(_) => 0,
        PNode::Leaf(i) => match leaves[*i].test {
            LeafTest::Known(_) => 0,
            LeafTest::Flag(_) | LeafTest::Labels { .. } => 1,
            _ => 8,
        },
        PNode::Not(inner) => cost(inner, leaves),
        PNode::And(items) | PNode::Or(items) => items.iter().map(|i| cost(i, leaves)).sum(),
    }
}

/// Orders `and` / `or` children cheapest first, so that scans only visit rows the cheap tests
/// left undecided.
fn order(n: PNode, leaves: &[Leaf]) -> PNode {
    let sorted = |items: Vec<PNode>| {
        let mut items: Vec<PNode> = items.into_iter().map(|i| order(i, leaves)).collect();
        items.sort_by_key(|i| cost(i, leaves));
        items
    };
    match n {
        PNode::And(items) => PNode::And(sorted(items)),
        PNode::Or(items) => PNode::Or(sorted(items)),
        PNode::Not(inner) => PNode::Not(Box::new(order(*inner, leaves))),
        other => other,
    }
}

fn leaf(c: &Clause, as_of: NaiveDate) -> Result<Leaf, ReverseError> {
    let def = c.field.def();
    let test = match (def.ty, &c.test) {
        (FieldType::Text, _) => {
            return Err(ReverseError::PersonalText {
                field: def.name,
                label: def.label,
            });
        }
        // Set tests read any fact as a (possibly empty) list of labels.
        (FieldType::Set(_), Test::Has(l)) => LeafTest::Labels {
            labels: vec![l.clone()],
            all: false,
        },
        (FieldType::Set(_), Test::HasAny(ls)) => LeafTest::Labels {
            labels: ls.clone(),
            all: false,
        },
        (FieldType::Set(_), Test::HasAll(ls)) => LeafTest::Labels {
            labels: ls.clone(),
            all: true,
        },
        (_, Test::Has(_) | Test::HasAny(_)) => LeafTest::Known(Some(false)),
        (_, Test::HasAll(ls)) => LeafTest::Known(Some(ls.is_empty())),
        (FieldType::Bool, Test::Flag) => LeafTest::Flag(true),
        (FieldType::Bool, Test::Bool(want)) => LeafTest::Flag(*want),
        (FieldType::Int | FieldType::Money | FieldType::Percent, Test::Num(op, v)) => {
            values(cmp_ranges(*op, i128::from(*v)))
        }
        (
            FieldType::Int | FieldType::Money | FieldType::Percent,
            Test::NumIn {
                values: vs,
                negated,
            },
        ) => LeafTest::Values {
            ranges: normalize(vs.iter().map(|&v| (i128::from(v), i128::from(v))).collect()),
            negate: *negated,
        },
        (FieldType::Date, Test::Date(op, d)) => values(cmp_ranges(*op, day(*d))),
        (FieldType::Date, Test::Num(op, v)) => match c.func {
            Some(func) => values(measure_ranges(func, as_of, *op, i128::from(*v))),
            // Without a function the interpreter measures every date as 0.
            None => LeafTest::Known(Some(op.holds(0, *v))),
        },
        (
            FieldType::Date,
            Test::NumIn {
                values: vs,
                negated,
            },
        ) => match c.func {
            Some(func) => LeafTest::Values {
                ranges: normalize(
                    vs.iter()
                        .flat_map(|&v| measure_ranges(func, as_of, CmpOp::Eq, i128::from(v)).0)
                        .collect(),
                ),
                negate: *negated,
            },
            None => LeafTest::Known(Some(vs.contains(&0) != *negated)),
        },
        (
            FieldType::Enum(_) | FieldType::Region | FieldType::Industry,
            Test::Str { value, negated },
        ) => LeafTest::Strings {
            values: vec![value.clone()],
            negate: *negated,
        },
        (
            FieldType::Enum(_) | FieldType::Region | FieldType::Industry,
            Test::StrIn { values, negated },
        ) => LeafTest::Strings {
            values: values.clone(),
            negate: *negated,
        },
        (FieldType::Enum(_) | FieldType::Region | FieldType::Industry, Test::Under(prefixes)) => {
            LeafTest::Prefixes(prefixes.clone())
        }
        // A test of the wrong kind: the interpreter finds it unknown on any known value.
        _ => LeafTest::Known(None),
    };
    Ok(Leaf {
        field: c.field,
        negated: c.negated,
        test,
    })
}

fn values((ranges, negate): (Vec<(i128, i128)>, bool)) -> LeafTest {
    LeafTest::Values { ranges, negate }
}

fn day(d: NaiveDate) -> i128 {
    i128::from(d.num_days_from_ce())
}

/// The values `x` with `x op v`, as ranges and a negation.
fn cmp_ranges(op: CmpOp, v: i128) -> (Vec<(i128, i128)>, bool) {
    let (range, negate) = match op {
        CmpOp::Eq => ((v, v), false),
        CmpOp::Ne => ((v, v), true),
        CmpOp::Lt => ((MIN, v - 1), false),
        CmpOp::Le => ((MIN, v), false),
        CmpOp::Gt => ((v + 1, MAX), false),
        CmpOp::Ge => ((v, MAX), false),
    };
    (normalize(vec![range]), negate)
}

/// Sorts ranges, drops empty ones and merges overlapping or adjacent ones.
fn normalize(mut ranges: Vec<(i128, i128)>) -> Vec<(i128, i128)> {
    ranges.retain(|(lo, hi)| lo <= hi);
    ranges.sort_unstable();
    let mut out: Vec<(i128, i128)> = Vec::with_capacity(ranges.len());
    for (lo, hi) in ranges {
        match out.last_mut() {
            Some(last) if lo <= last.1 + 1 => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

fn measure(func: Func, d: NaiveDate, as_of: NaiveDate) -> i64 {
    match func {
        Func::YearsSince => years_between(d, as_of),
        Func::MonthsSince => months_between(d, as_of),
    }
}

/// The last day number whose measure (years or months from it to `as_of`) is at least `n`.
///
/// The measure never increases as the date moves later, so the days with measure `>= n` are
/// all days up to a cutoff, found by binary search with the interpreter's own function. Returns
/// one before the first representable day when there are none.
fn last_day_at_least(func: Func, as_of: NaiveDate, n: i128) -> i128 {
    let at = |d: i32| {
        let date = NaiveDate::from_num_days_from_ce_opt(d).expect("day within chrono's range");
        i128::from(measure(func, date, as_of))
    };
    let (mut lo, mut hi) = (
        NaiveDate::MIN.num_days_from_ce(),
        NaiveDate::MAX.num_days_from_ce(),
    );
    if at(lo) < n {
        return i128::from(lo) - 1;
    }
    if at(hi) >= n {
        return i128::from(hi);
    }
    // Invariant: at(lo) >= n > at(hi).
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if at(mid) >= n {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    i128::from(lo)
}

/// The day numbers `d` with `measure(d) op n`.
fn measure_ranges(func: Func, as_of: NaiveDate, op: CmpOp, n: i128) -> (Vec<(i128, i128)>, bool) {
    let cut = |n: i128| last_day_at_least(func, as_of, n);
    let (range, negate) = match op {
        CmpOp::Ge => ((MIN, cut(n)), false),
        CmpOp::Gt => ((MIN, cut(n + 1)), false),
        CmpOp::Lt => ((cut(n) + 1, MAX), false),
        CmpOp::Le => ((cut(n + 1) + 1, MAX), false),
        CmpOp::Eq => ((cut(n + 1) + 1, cut(n)), false),
        CmpOp::Ne => ((cut(n + 1) + 1, cut(n)), true),
    };
    (normalize(vec![range]), negate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::compile;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn date_cutoffs_agree_with_the_interpreter() {
        let as_of = d("2026-11-21");
        for func in Func::ALL {
            for n in [-30, -13, -12, -1, 0, 1, 2, 11, 12, 25] {
                let cut = last_day_at_least(func, as_of, n);
                let date = |x: i128| NaiveDate::from_num_days_from_ce_opt(x as i32).unwrap();
                assert!(measure(func, date(cut), as_of) >= n as i64);
                assert!(measure(func, date(cut + 1), as_of) < n as i64);
            }
        }
        // On 2025-02-28 a firm founded on 2024-02-28 is one year old, one founded on the leap
        // day is not.
        let cut = last_day_at_least(Func::YearsSince, d("2025-02-28"), 1);
        assert_eq!(
            NaiveDate::from_num_days_from_ce_opt(cut as i32).unwrap(),
            d("2024-02-28")
        );
    }

    #[test]
    fn personal_text_is_refused() {
        let rule = compile(r#"region under "33" and legal_rep_phone != "138""#).unwrap();
        let err = CompiledPredicate::compile(&rule, d("2026-01-01")).unwrap_err();
        assert!(err.to_string().contains("legal_rep_phone"), "{err}");
    }

    #[test]
    fn tree_mirrors_the_rule_and_orders_cheap_tests_first() {
        let rule = compile(
            r#"employees >= 10 and not not dishonest and not (high_tech or tags has "外贸")"#,
        )
        .unwrap();
        let p = CompiledPredicate::compile(&rule, d("2026-01-01")).unwrap();
        assert_eq!(
            p.root,
            PNode::And(vec![
                PNode::Not(Box::new(PNode::Leaf(1))),
                PNode::Not(Box::new(PNode::Or(vec![PNode::Leaf(2), PNode::Leaf(3)]))),
                PNode::Leaf(0),
            ])
        );
        assert!(p.leaves[1].negated);
    }
}
