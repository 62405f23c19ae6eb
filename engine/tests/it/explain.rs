//! Evaluation and explanations on realistic profiles.

use chrono::NaiveDate;
use huiqi_engine::fields::Category;
use huiqi_engine::model::*;
use huiqi_engine::rule::{ErrorKind, Facts, Location, Outcome, Verdict, compile};

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
}

fn hangzhou_software_firm() -> Enterprise {
    serde_json::from_value(serde_json::json!({
        "id": "E-T1",
        "credit_code": "913301060000000013",
        "name": "杭州云栖数联科技有限公司",
        "registration": {"region": "330106", "industry": "I65", "established": "2021-05-10", "entity_type": "有限责任公司"},
        "scale": {"employees": 38, "revenue": 12_000_000},
        "tax": {"credit_grade": "B"},
        "judicial": {"dishonest": false},
        "tech": {"tech_sme": true, "rd_ratio_bp": 650},
        "consents": [{"category": "tax", "grantees": [{"institution": "BANK-QT"}], "until": "2027-06-30"}]
    }))
    .unwrap()
}

const TYPICAL: &str = r#"region under "3301" and years_since(established) >= 2 and tax_grade in ["A", "B"] and not dishonest and size in ["小型", "微型"]"#;

#[test]
fn typical_rule_is_eligible_with_every_clause_traced() {
    let e = hangzhou_software_firm();
    let rule = compile(TYPICAL).unwrap();
    let x = rule.explain(&Facts::new(&e, as_of()));
    assert_eq!(x.outcome, Outcome::Eligible);
    assert_eq!(x.clauses.len(), 5);
    assert!(x.clauses.iter().all(|c| c.verdict == Verdict::Pass));
    let region = &x.clauses[0];
    assert_eq!(region.label, "注册地");
    assert_eq!(
        region.actual.as_deref(),
        Some("浙江省 杭州市 西湖区（330106）")
    );
    assert_eq!(region.requirement, "属于 浙江省 杭州市（3301）");
    let age = &x.clauses[1];
    assert_eq!(age.label, "成立年限");
    assert_eq!(age.actual.as_deref(), Some("5年（2021-05-10）"));
    assert_eq!(age.requirement, "≥ 2年");
    let dishonest = &x.clauses[3];
    assert_eq!(
        (dishonest.actual.as_deref(), dishonest.requirement.as_str()),
        (Some("否"), "否")
    );
    // 软件和信息技术服务业: 38 人 (≥10) and 1200万元 (≥50万, <1000万? no: ≥1000万 needs ≥100人) → 小型.
    assert_eq!(x.clauses[4].actual.as_deref(), Some("小型"));
    assert_eq!(
        x.clauses[4].note.as_deref(),
        Some("软件和信息技术服务业：从业人员38人，营业收入1200万元 → 小型")
    );
}

#[test]
fn every_failing_clause_is_reported_not_just_the_first() {
    let mut e = hangzhou_software_firm();
    e.registration.region = Some("440305".into());
    e.tax.credit_grade = Some("C".into());
    e.judicial.dishonest = Some(true);
    let x = compile(TYPICAL).unwrap().explain(&Facts::new(&e, as_of()));
    assert_eq!(x.outcome, Outcome::Ineligible);
    let failed: Vec<&str> = x
        .clauses
        .iter()
        .filter(|c| c.verdict == Verdict::Fail)
        .map(|c| c.field)
        .collect();
    assert_eq!(failed, ["region", "tax_grade", "dishonest"]);
}

#[test]
fn missing_facts_are_unknown_never_false() {
    let mut e = hangzhou_software_firm();
    e.tax.credit_grade = None;
    e.judicial.dishonest = None;
    e.scale.revenue = None; // 38 employees alone cannot decide 小型 vs 中型
    let x = compile(TYPICAL).unwrap().explain(&Facts::new(&e, as_of()));
    assert_eq!(x.outcome, Outcome::NeedsInfo);
    let unknown: Vec<&str> = x.unknown_fields.iter().map(|f| f.field).collect();
    // The size class is unknown for want of revenue: the fact to add is revenue, not "size".
    assert_eq!(unknown, ["revenue", "tax_grade", "dishonest"]);
    let size = &x.clauses[4];
    assert_eq!(size.verdict, Verdict::Unknown);
    assert!(
        size.note.as_deref().unwrap().contains("营业收入未知"),
        "{:?}",
        size.note
    );
    assert!(x.clauses.iter().all(|c| c.verdict != Verdict::Fail));
    // `not dishonest` with the fact missing is unknown, not pass.
    assert_eq!(x.clauses[3].verdict, Verdict::Unknown);
    // A failing clause still makes the whole rule ineligible, whatever is unknown.
    e.registration.established = Some(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
    let x = compile(TYPICAL).unwrap().explain(&Facts::new(&e, as_of()));
    assert_eq!(x.outcome, Outcome::Ineligible);
}

#[test]
fn or_with_a_failure_and_an_unknown_needs_info() {
    let mut e = hangzhou_software_firm();
    e.tech.high_tech = None;
    e.tech.tech_sme = Some(false);
    let rule = compile("high_tech or tech_sme").unwrap();
    assert_eq!(
        rule.explain(&Facts::new(&e, as_of())).outcome,
        Outcome::NeedsInfo
    );
}

#[test]
fn consent_hides_unauthorised_categories() {
    let e = hangzhou_software_firm();
    let rule = compile(r#"tax_grade in ["A", "B"] and rd_ratio >= 3%"#).unwrap();
    let bank = Reader {
        role: Role::Institution,
        org: Some("BANK-QT".into()),
    };
    let other_bank = Reader {
        role: Role::Institution,
        org: Some("BANK-XX".into()),
    };
    let itself = Reader {
        role: Role::Enterprise,
        org: Some("E-T1".into()),
    };
    // The granted bank sees the tax grade but not the R&D ratio (technology was not granted).
    let x = rule.explain(&Facts::for_reader(&e, as_of(), &bank));
    assert_eq!(x.clauses[0].verdict, Verdict::Pass);
    assert_eq!(x.clauses[1].verdict, Verdict::Unknown);
    assert!(x.clauses[1].withheld);
    assert!(x.withheld_categories.contains(&Category::Technology));
    // Another bank sees neither; the enterprise itself sees both.
    assert_eq!(
        rule.explain(&Facts::for_reader(&e, as_of(), &other_bank))
            .outcome,
        Outcome::NeedsInfo
    );
    assert_eq!(
        rule.explain(&Facts::for_reader(&e, as_of(), &itself))
            .outcome,
        Outcome::Eligible
    );
    // Grants expire.
    let later = NaiveDate::from_ymd_opt(2027, 7, 1).unwrap();
    let x = rule.explain(&Facts::for_reader(&e, later, &bank));
    assert_eq!(x.clauses[0].verdict, Verdict::Unknown);
}

#[test]
fn type_errors_are_caught_before_evaluation() {
    let cases = [
        (r#"established >= "2020""#, "needs a date"),
        ("rd_ratio >= 4", "percentage with `%`"),
        ("revenue >= 4%", "not a percentage"),
        (r#"tax_grade > "A""#, "does not apply"),
        ("revenue", "not yes/no"),
        ("years_since(tax_grade) >= 2", "take a date field"),
        (r#"region under "3399""#, "not in the GB/T 2260 table"),
        (r#"industry under "X12""#, "section letter"),
        ("tax_grade in []", "empty"),
        (r#"need_guarantee has "房产""#, "not a value"),
    ];
    for (text, expected) in cases {
        let err = compile(text).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(expected), "{text}: {msg}");
        assert!(
            matches!(err.0[0].location, Location::Text { line: 1, column: 1 }),
            "{text}: {msg}"
        );
    }
}

#[test]
fn all_problems_of_a_rule_are_reported_with_positions() {
    let err = compile("employes < 300 and\n  tax_grade in [\"A\", \"E\"]").unwrap_err();
    assert_eq!(err.0.len(), 2);
    assert!(matches!(
        &err.0[0].kind,
        ErrorKind::UnknownField {
            suggestion: Some("employees"),
            ..
        }
    ));
    assert_eq!(err.0[1].location, Location::Text { line: 2, column: 3 });
}

#[test]
fn json_form_errors_carry_their_path() {
    let v = serde_json::json!({"all": [{"field": "employees", "op": "<", "value": 300}, {"field": "tax_grad", "op": "=", "value": "A"}]});
    let expr = huiqi_engine::rule::Expr::from_json(&v).unwrap();
    let err = huiqi_engine::rule::Rule::from_expr(expr).unwrap_err();
    assert_eq!(
        err.0[0].location,
        Location::Json {
            path: "$.all[1]".into()
        }
    );
    let bad = serde_json::json!({"all": [{"field": "employees", "op": "<<", "value": 300}, true]});
    let err = huiqi_engine::rule::Expr::from_json(&bad).unwrap_err();
    assert_eq!(
        err.location,
        Location::Json {
            path: "$.all[0].op".into()
        }
    );
}
