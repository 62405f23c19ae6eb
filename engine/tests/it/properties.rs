//! Property tests: round trips of the two rule forms, total evaluation, Kleene logic.

use chrono::NaiveDate;
use huiqi_engine::rule::{Expr, Facts, Outcome, Rule, Verdict, parse};
use proptest::prelude::*;

use crate::support::{arbitrary_enterprise, syntactic_expr, typed_expr};

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
}

fn verdict(o: Outcome) -> Verdict {
    match o {
        Outcome::Eligible => Verdict::Pass,
        Outcome::NeedsInfo => Verdict::Unknown,
        Outcome::Ineligible => Verdict::Fail,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// text → AST → text: printing then parsing gives the same tree, and printing is stable.
    #[test]
    fn text_round_trip(expr in syntactic_expr()) {
        let text = expr.to_string();
        let parsed = parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(&parsed, &expr, "text: {}", text);
        prop_assert_eq!(parsed.to_string(), text);
    }

    /// AST → JSON → AST, and JSON text survives serde.
    #[test]
    fn json_round_trip(expr in syntactic_expr()) {
        let json = serde_json::to_string(&expr).unwrap();
        let back: Expr = serde_json::from_str(&json).map_err(|e| TestCaseError::fail(format!("{e}\n{json}")))?;
        prop_assert_eq!(back, expr);
    }

    /// Well-typed rules compile, and evaluation and explanation never panic on any profile.
    #[test]
    fn evaluation_is_total(expr in typed_expr(), seed in any::<u64>()) {
        let rule = Rule::from_expr(expr.clone()).map_err(|e| TestCaseError::fail(format!("{e}\n{expr}")))?;
        let e = arbitrary_enterprise(seed);
        let facts = Facts::new(&e, as_of());
        let eval = rule.evaluate(&facts);
        prop_assert_eq!(eval.verdicts.len(), rule.clauses.len());
        let explanation = rule.explanation(&facts, &eval);
        prop_assert_eq!(explanation.clauses.len(), rule.clauses.len());
        // The outcome is needs_info exactly when something is unknown and nothing decided it.
        if eval.outcome == Outcome::NeedsInfo {
            prop_assert!(!explanation.unknown_fields.is_empty());
        }
        // Compiling the printed text gives the same rule.
        let again = huiqi_engine::rule::compile(&expr.to_string()).unwrap();
        prop_assert_eq!(again.evaluate(&facts), eval);
    }

    /// and / or / not follow the Kleene truth tables on real sub-rules.
    #[test]
    fn kleene_connectives(a in typed_expr(), b in typed_expr(), seed in any::<u64>()) {
        let e = arbitrary_enterprise(seed);
        let facts = Facts::new(&e, as_of());
        let eval = |x: Expr| verdict(Rule::from_expr(x).unwrap().evaluate(&facts).outcome);
        let (va, vb) = (eval(a.clone()), eval(b.clone()));
        prop_assert_eq!(eval(Expr::And(vec![a.clone(), b.clone()])), va.and(vb));
        prop_assert_eq!(eval(Expr::Or(vec![a.clone(), b.clone()])), va.or(vb));
        prop_assert_eq!(eval(Expr::Not(Box::new(a.clone()))), va.not());
    }
}

/// The full truth tables, spelled out.
#[test]
fn kleene_truth_tables() {
    use Verdict::{Fail as F, Pass as T, Unknown as U};
    let and = [[T, F, U], [F, F, F], [U, F, U]];
    let or = [[T, T, T], [T, F, U], [T, U, U]];
    for (i, a) in [T, F, U].into_iter().enumerate() {
        for (j, b) in [T, F, U].into_iter().enumerate() {
            assert_eq!(a.and(b), and[i][j], "{a:?} and {b:?}");
            assert_eq!(a.or(b), or[i][j], "{a:?} or {b:?}");
        }
    }
    assert_eq!([T.not(), F.not(), U.not()], [F, T, U]);
}
