//! How well the extractor reads: its draft rule against the hand-written `eligibility`, clause
//! by clause.
//!
//! Both rules are parsed by the engine's parser and cut into their top-level conjuncts
//! (nested `and` flattened). Each conjunct is normalised, so that equal meanings compare
//! equal: `not has_bank_loan` = `has_bank_loan = false`; `x in ["A"]` = `x = "A"`; lists,
//! `and` and `or` operands are sorted; numbers compare in base units (`2亿` = `20000万`). A
//! clause counts as matched when an identical normalised clause is on the other side
//! (multiset intersection). Precision = matched / extracted, recall = matched / hand-written.

use huiqi_engine::rule::{Cmp, Expr, Literal, Op, RuleError, parse};
use serde::Serialize;

use super::extract;

/// The normalised top-level clauses of a rule.
///
/// # Errors
/// The rule does not parse.
pub fn normalize(rule: &str) -> Result<Vec<String>, RuleError> {
    let expr = parse(rule)?;
    let mut out = Vec::new();
    flatten(&expr, &mut out);
    Ok(out)
}

fn flatten(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::And(items) => items.iter().for_each(|i| flatten(i, out)),
        Expr::Const(true) => {}
        other => out.push(norm(other)),
    }
}

fn literal(l: &Literal) -> String {
    match l {
        Literal::Num(n) => n.value.to_string(),
        Literal::List(items) => {
            let mut v: Vec<String> = items.iter().map(literal).collect();
            v.sort();
            v.dedup();
            format!("[{}]", v.join(", "))
        }
        other => other.to_string(),
    }
}

fn norm_cmp(c: &Cmp, negated: bool) -> String {
    let operand = match c.func {
        Some(f) => format!("{}({})", f.name(), c.field),
        None => c.field.clone(),
    };
    let not = |b: bool| if b { "not " } else { "" };
    match (&c.op, &c.value) {
        (Op::Eq, Literal::Bool(b)) => format!("{}{operand}", not(*b == negated)),
        (Op::Ne, Literal::Bool(b)) => format!("{}{operand}", not(*b != negated)),
        (Op::In, Literal::List(items)) if items.len() == 1 => {
            format!("{}{operand} = {}", not(negated), literal(&items[0]))
        }
        (Op::NotIn, Literal::List(items)) if items.len() == 1 => {
            format!("{}{operand} = {}", not(!negated), literal(&items[0]))
        }
        (Op::Ne, v) => format!("{}{operand} = {}", not(!negated), literal(v)),
        (Op::Under | Op::HasAny | Op::HasAll, Literal::Str(s)) => format!(
            "{}{operand} {} {}",
            not(negated),
            c.op.symbol(),
            literal(&Literal::List(vec![Literal::Str(s.clone())]))
        ),
        (op, v) => format!("{}{operand} {} {}", not(negated), op.symbol(), literal(v)),
    }
}

fn norm(e: &Expr) -> String {
    match e {
        Expr::Const(b) => b.to_string(),
        Expr::Flag(f) => f.clone(),
        Expr::Cmp(c) => norm_cmp(c, false),
        Expr::Not(inner) => match &**inner {
            Expr::Flag(f) => format!("not {f}"),
            Expr::Cmp(c) => norm_cmp(c, true),
            Expr::Not(x) => norm(x),
            other => format!("not {}", norm(other)),
        },
        Expr::And(items) | Expr::Or(items) => {
            let word = if matches!(e, Expr::And(_)) {
                " and "
            } else {
                " or "
            };
            let mut v: Vec<String> = items.iter().map(norm).collect();
            v.sort();
            v.dedup();
            format!("({})", v.join(word))
        }
    }
}

/// The comparison for one policy.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyScore {
    pub id: String,
    pub extracted: usize,
    pub expected: usize,
    pub matched: usize,
    pub precision: f64,
    pub recall: f64,
    /// Hand-written clauses the draft lacks (normalised).
    pub missing: Vec<String>,
    /// Draft clauses the hand-written rule lacks (normalised).
    pub extra: Vec<String>,
    /// The draft rule parses and type-checks.
    pub compiles: bool,
}

/// Totals over a set of policies (micro-averaged: sums of clauses).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    pub label: String,
    pub policies: usize,
    pub extracted: usize,
    pub expected: usize,
    pub matched: usize,
    pub precision: f64,
    pub recall: f64,
}

impl Totals {
    fn of<'a>(label: &str, scores: impl Iterator<Item = &'a PolicyScore>) -> Totals {
        let mut t = Totals {
            label: label.to_string(),
            ..Totals::default()
        };
        for s in scores {
            t.policies += 1;
            t.extracted += s.extracted;
            t.expected += s.expected;
            t.matched += s.matched;
        }
        t.precision = ratio(t.matched, t.extracted);
        t.recall = ratio(t.matched, t.expected);
        t
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// The evaluation of a set of policies.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub policies: Vec<PolicyScore>,
    /// One row per id group (`P-A`, `P-B`, `P-C` …), then the total.
    pub groups: Vec<Totals>,
    pub total: Totals,
}

/// Extracts from `text` and compares with the hand-written `eligibility`.
///
/// # Errors
/// The hand-written rule does not parse.
pub fn score(id: &str, text: &str, eligibility: &str) -> Result<PolicyScore, RuleError> {
    let draft = extract(text);
    let compiles = huiqi_engine::rule::compile(&draft.rule).is_ok();
    let got = normalize(&draft.rule).unwrap_or_default();
    let want = normalize(eligibility)?;
    let mut missing = want.clone();
    let mut extra = Vec::new();
    for g in &got {
        match missing.iter().position(|w| w == g) {
            Some(i) => {
                missing.remove(i);
            }
            None => extra.push(g.clone()),
        }
    }
    let matched = want.len() - missing.len();
    Ok(PolicyScore {
        id: id.to_string(),
        extracted: got.len(),
        expected: want.len(),
        matched,
        precision: ratio(matched, got.len()),
        recall: ratio(matched, want.len()),
        missing,
        extra,
        compiles,
    })
}

/// The id group: the id without its trailing number (`P-C03` → `P-C`).
pub fn group_of(id: &str) -> &str {
    id.trim_end_matches(|c: char| c.is_ascii_digit())
}

/// Scores every `(id, text, eligibility)`.
///
/// # Errors
/// A hand-written rule does not parse.
pub fn evaluate<'a>(
    policies: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
) -> Result<Evaluation, RuleError> {
    let mut scores = Vec::new();
    for (id, text, eligibility) in policies {
        scores.push(score(id, text, eligibility)?);
    }
    scores.sort_by(|a, b| a.id.cmp(&b.id));
    let mut groups: Vec<&str> = scores.iter().map(|s| group_of(&s.id)).collect();
    groups.dedup();
    let groups = groups
        .into_iter()
        .map(|g| Totals::of(g, scores.iter().filter(|s| group_of(&s.id) == g)))
        .collect();
    let total = Totals::of("total", scores.iter());
    Ok(Evaluation {
        policies: scores,
        groups,
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_forms_equate_equal_meanings() {
        let a = normalize(
            r#"has_bank_loan = false and tax_grade in ["B", "A"] and revenue < 2亿 and not (industry under ["K7010", "J"])"#,
        )
        .unwrap();
        let b = normalize(
            r#"not has_bank_loan and tax_grade in ["A", "B"] and revenue < 20000万 and not industry under ["J", "K7010"]"#,
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(
            normalize(r#"tax_grade = "A""#).unwrap(),
            normalize(r#"tax_grade in ["A"]"#).unwrap()
        );
        assert_eq!(
            normalize(r#"industry under "C""#).unwrap(),
            normalize(r#"industry under ["C"]"#).unwrap()
        );
        assert_ne!(
            normalize("revenue < 2亿").unwrap(),
            normalize("revenue <= 2亿").unwrap()
        );
    }
}
