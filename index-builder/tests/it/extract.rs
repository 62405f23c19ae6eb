//! Policy prose → draft rule: every fixture's draft compiles, clause precision and recall over
//! the fixtures, and the tricky cases one by one.

use std::path::Path;

use huiqi_engine::Policy;
use huiqi_engine::model::{BenefitBasis, RuleSpec};
use huiqi_index::extract::eval::{Evaluation, evaluate, normalize};
use huiqi_index::extract::{Draft, extract};

fn policies() -> Vec<Policy> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/policies");
    let mut out: Vec<Policy> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap())
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

fn rule_text(p: &Policy) -> String {
    match &p.eligibility {
        RuleSpec::Text(t) => t.clone(),
        RuleSpec::Json(e) => e.to_string(),
    }
}

fn evaluation() -> Evaluation {
    let ps = policies();
    let rules: Vec<String> = ps.iter().map(rule_text).collect();
    evaluate(
        ps.iter()
            .zip(&rules)
            .map(|(p, r)| (p.id.as_str(), p.text.as_str(), r.as_str())),
    )
    .unwrap()
}

/// The normalised clauses of a draft.
fn clauses(d: &Draft) -> Vec<String> {
    normalize(&d.rule).unwrap()
}

fn has(d: &Draft, clause: &str) -> bool {
    let want = normalize(clause).unwrap();
    assert_eq!(want.len(), 1, "{clause}");
    clauses(d).contains(&want[0])
}

#[test]
fn every_fixture_draft_parses_and_type_checks() {
    let ps = policies();
    assert!(ps.len() >= 30, "{} policies", ps.len());
    for p in &ps {
        let d = extract(&p.text);
        if let Err(e) = huiqi_engine::rule::compile(&d.rule) {
            panic!("{}: {e}\n{}", p.id, d.rule);
        }
        // Every clause cites a sentence that is where it says it is.
        for c in &d.clauses {
            assert_eq!(&p.text[c.source.start..c.source.end], c.source.sentence);
            assert_eq!(
                p.text
                    .chars()
                    .skip(c.source.char_start)
                    .take(c.source.char_end - c.source.char_start)
                    .collect::<String>(),
                c.source.sentence
            );
            assert!((0.0..=1.0).contains(&c.confidence), "{}: {c:?}", p.id);
        }
    }
}

#[test]
fn clause_precision_and_recall_over_the_fixtures() {
    let e = evaluation();
    let mut report = String::new();
    for p in &e.policies {
        report.push_str(&format!(
            "{} p={:.2} r={:.2} missing={:?} extra={:?}\n",
            p.id, p.precision, p.recall, p.missing, p.extra
        ));
    }
    assert!(e.policies.iter().all(|p| p.compiles), "{report}");
    assert!(
        e.total.precision >= 0.9,
        "precision {:.3}\n{report}",
        e.total.precision
    );
    assert!(
        e.total.recall >= 0.8,
        "recall {:.3}\n{report}",
        e.total.recall
    );
}

#[test]
fn yi_xia_excludes_and_yi_shang_includes_the_number() {
    let d = extract(
        "二、申报条件\n（一）上年度营业收入2亿元以下；\n（二）上年度出口额500万元以上、5亿元以下；",
    );
    assert!(has(&d, "revenue < 200000000"), "{}", d.rule);
    assert!(has(&d, "export_value >= 5000000"), "{}", d.rule);
    assert!(has(&d, "export_value < 500000000"), "{}", d.rule);
    // An explicit （含） makes 以下 inclusive, and 不超过 / 未满 / 超过 keep their meaning.
    let d = extract(
        "二、申报条件\n（一）营业收入1亿元以上（含1亿元）；\n（二）资产总额未满5000万元；\n（三）职工总数不超过500人；\n（四）研发费用总额超过200万元。",
    );
    assert!(has(&d, "revenue >= 1亿"), "{}", d.rule);
    assert!(has(&d, "total_assets < 5000万"), "{}", d.rule);
    assert!(has(&d, "employees <= 500"), "{}", d.rule);
    assert!(has(&d, "rd_expense > 200万"), "{}", d.rule);
}

#[test]
fn wan_and_yi_convert_to_yuan_and_percent_to_basis_points() {
    let d = extract(
        "二、申报条件\n上年度营业收入2000万元以上、4亿元以下，研发费用占营业收入比例不低于4.5%，资产负债率不超过70%。",
    );
    let c = clauses(&d);
    assert!(c.contains(&"revenue >= 20000000".to_string()), "{c:?}");
    assert!(c.contains(&"revenue < 400000000".to_string()), "{c:?}");
    assert!(c.contains(&"rd_ratio >= 450".to_string()), "{c:?}");
    assert!(c.contains(&"debt_ratio <= 7000".to_string()), "{c:?}");
    // The rule text itself uses the units people write.
    assert!(d.rule.contains("revenue >= 2000万"), "{}", d.rule);
    assert!(d.rule.contains("revenue < 4亿"), "{}", d.rule);
    assert!(d.rule.contains("rd_ratio >= 4.5%"), "{}", d.rule);
}

#[test]
fn the_issue_example_reads_whole() {
    let text = "对注册地在南山区、纳入全国科技型中小企业信息库、上年度研发费用占营业收入比例不低于4%的企业，按实际支付利息的70%给予贴息，每家每年最高100万元。";
    let d = extract(text);
    assert!(has(&d, r#"region under "440305""#), "{}", d.rule);
    assert!(has(&d, "tech_sme"), "{}", d.rule);
    assert!(has(&d, "rd_ratio >= 4%"), "{}", d.rule);
    assert_eq!(d.clauses.len(), 3, "{}", d.rule);
    assert_eq!(d.regions, ["440305"]);
    let b = d.benefit.expect("benefit");
    assert_eq!(b.basis, BenefitBasis::Interest);
    assert_eq!(b.percent_bp, Some(7000));
    assert_eq!(b.cap_per_year, Some(1_000_000));
    // One sentence: every clause cites all of it, by byte and by char.
    let c = &d.clauses[0];
    assert_eq!((c.source.start, c.source.end), (0, text.len()));
    assert_eq!(c.source.char_end, text.chars().count());
}

#[test]
fn window_dates_and_benefit_caps() {
    let d = extract(
        "三、支持标准\n按一年期贷款市场报价利率（LPR）的50%给予贴息。单户贴息贷款本金不超过1000万元，每家企业贴息金额累计不超过10万元，贴息期限最长不超过12个月。\n四、申报时间\n申报时间：2026年1月1日至12月31日。",
    );
    assert_eq!(d.window.opens.unwrap().to_string(), "2026-01-01");
    assert_eq!(d.window.closes.unwrap().to_string(), "2026-12-31");
    assert!(d.window_source.unwrap().sentence.starts_with("申报时间"));
    let b = d.benefit.unwrap();
    assert_eq!(b.basis, BenefitBasis::Lpr);
    assert_eq!(b.percent_bp, Some(5000));
    assert_eq!(b.cap_per_enterprise, Some(100_000));
    assert_eq!(b.cap_per_year, None);
    assert_eq!(b.duration_months, Some(12));
    // The principal cap is a condition on the loan, not the benefit's cap.
    assert_eq!(d.loan.max_amount, Some(10_000_000));
}

#[test]
fn tax_grades_widen_with_yi_shang() {
    let d = extract("二、申报条件\n（一）纳税信用等级为B级以上；");
    assert!(has(&d, r#"tax_grade in ["A", "B"]"#), "{}", d.rule);
    let d = extract("二、申报条件\n（一）纳税信用等级为M级以上；");
    assert!(has(&d, r#"tax_grade in ["A", "B", "M"]"#), "{}", d.rule);
    let d = extract("二、申报条件\n（一）纳税信用等级为A级、B级或M级；");
    assert!(has(&d, r#"tax_grade in ["A", "B", "M"]"#), "{}", d.rule);
}

#[test]
fn or_between_conditions_becomes_an_or() {
    let d = extract(
        "二、申报条件\n（一）申请主体为个体工商户，或者从业人员未满100人、属于小型、微型企业；",
    );
    let want = normalize(
        r#"entity_type = "个体工商户" or (employees < 100 and size in ["小型", "微型"])"#,
    )
    .unwrap();
    assert_eq!(clauses(&d), want, "{}", d.rule);
    let d = extract(
        "二、申报条件\n对已纳入全国科技型中小企业信息库或持有有效期内高新技术企业证书的企业。",
    );
    assert_eq!(clauses(&d), normalize("tech_sme or high_tech").unwrap());
}

#[test]
fn exclusions_negate_industries_and_list_what_cannot_be_said() {
    let d = extract(
        "二、申报条件\n（一）所属行业不属于金融业、房地产业；\n仅获评创新型中小企业的，不在本次支持范围内。\n（二）近三年未发生较大及以上安全生产事故。",
    );
    assert!(has(&d, r#"not industry under ["J", "K"]"#), "{}", d.rule);
    assert_eq!(d.clauses.len(), 1, "{}", d.rule);
    let unread: Vec<&str> = d
        .unread
        .iter()
        .map(|u| u.source.sentence.as_str())
        .collect();
    assert_eq!(
        unread,
        [
            "仅获评创新型中小企业的，不在本次支持范围内。",
            "（二）近三年未发生较大及以上安全生产事故。"
        ]
    );
    // Spans of listed sentences are byte offsets into the text.
    let u = &d.unread[1];
    assert_eq!(u.source.end - u.source.start, u.source.sentence.len());
}

#[test]
fn materials_and_preamble_give_no_clauses() {
    let d = extract(
        "为支持高新技术企业发展，制定本办法。\n一、申报条件\n（一）成立满两年；\n二、申报材料\n（一）高新技术企业证书；\n（二）纳税信用等级证明。",
    );
    assert_eq!(
        clauses(&d),
        normalize("years_since(established) >= 2").unwrap(),
        "{}",
        d.rule
    );
}

#[test]
fn a_principal_base_is_a_loan_condition_not_the_benefit_cap() {
    let d = extract(
        "三、支持标准\n对符合条件的首贷户，按贷款市场报价利率(LPR)的50%给予贴息。贴息以单户不超过500万元的贷款本金为基数计算，贴息期限不超过12个月，每家企业累计最高5万元。",
    );
    let b = d.benefit.unwrap();
    assert_eq!(b.basis, BenefitBasis::Lpr);
    assert_eq!(b.cap_per_enterprise, Some(50_000));
    assert_eq!(b.duration_months, Some(12));
    assert_eq!(d.loan.max_amount, Some(5_000_000));
    let d = extract("二、支持标准\n按实际缴纳担保费的50%给予补贴，每家企业每年最高补贴15万元。");
    assert_eq!(d.benefit.unwrap().cap_per_year, Some(150_000));
}
