//! Every fixture loads and validates, and every policy's example cases give their expected
//! outcome.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use huiqi_engine::model::{InstitutionKind, IssuerLevel, Status};
use huiqi_engine::rule::{Facts, Outcome};
use huiqi_index::load_dir;

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

#[test]
fn every_fixture_loads_and_validates() {
    let (catalog, report) = load_dir(&fixtures());
    let errors: Vec<String> = report.errors().map(|i| i.to_string()).collect();
    assert!(
        errors.is_empty(),
        "{} fixture errors:\n{}",
        errors.len(),
        errors.join("\n")
    );
    assert!(
        catalog.products.len() >= 40,
        "products: {}",
        catalog.products.len()
    );
    assert!(
        catalog.policies.len() >= 20,
        "policies: {}",
        catalog.policies.len()
    );
    assert!(
        catalog.enterprises.len() >= 300,
        "enterprises: {}",
        catalog.enterprises.len()
    );
}

#[test]
fn products_span_institutions_and_kinds() {
    let (catalog, _) = load_dir(&fixtures());
    let institutions: BTreeSet<&str> = catalog
        .products
        .iter()
        .map(|p| p.item.institution_id.as_str())
        .collect();
    assert!(institutions.len() >= 8, "{institutions:?}");
    let kinds: BTreeSet<String> = catalog
        .products
        .iter()
        .map(|p| format!("{:?}", p.item.kind))
        .collect();
    assert!(kinds.len() >= 10, "{kinds:?}");
    let inst_kinds: BTreeSet<String> = catalog
        .products
        .iter()
        .map(|p| format!("{:?}", p.item.institution_kind))
        .collect();
    for needed in [
        InstitutionKind::StateBank,
        InstitutionKind::JointStockBank,
        InstitutionKind::CityBank,
        InstitutionKind::RuralBank,
        InstitutionKind::InternetBank,
        InstitutionKind::GuaranteeCompany,
    ] {
        assert!(
            inst_kinds.contains(&format!("{needed:?}")),
            "missing {needed:?}"
        );
    }
}

#[test]
fn policies_span_levels_and_carry_their_cases() {
    let (catalog, _) = load_dir(&fixtures());
    let levels: BTreeSet<String> = catalog
        .policies
        .iter()
        .map(|p| format!("{:?}", p.item.issuer_level))
        .collect();
    for level in [
        IssuerLevel::National,
        IssuerLevel::Provincial,
        IssuerLevel::City,
        IssuerLevel::District,
    ] {
        assert!(
            levels.contains(&format!("{level:?}")),
            "no {level:?} policy"
        );
    }
    assert!(
        catalog
            .policies
            .iter()
            .any(|p| p.item.status == Status::Published)
    );
    for p in &catalog.policies {
        assert!(
            p.item.cases.len() >= 3,
            "{} has {} cases",
            p.item.id,
            p.item.cases.len()
        );
        assert!(
            p.item.text.chars().count() >= 200,
            "{}: prose too short",
            p.item.id
        );
    }
}

#[test]
fn policy_example_cases_pass_and_cover_every_outcome() {
    let (catalog, _) = load_dir(&fixtures());
    let mut outcomes: BTreeMap<Outcome, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for p in &catalog.policies {
        for case in &p.item.cases {
            let got = p.rule.explain(&Facts::new(&case.enterprise, case.as_of));
            *outcomes.entry(case.expected).or_default() += 1;
            if got.outcome != case.expected {
                failures.push(format!(
                    "{} / {}: expected {:?}, got {:?}",
                    p.item.id, case.name, case.expected, got.outcome
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for o in [Outcome::Eligible, Outcome::NeedsInfo, Outcome::Ineligible] {
        assert!(
            outcomes.get(&o).copied().unwrap_or(0) >= 10,
            "{o:?}: {outcomes:?}"
        );
    }
}

#[test]
fn fixture_enterprises_are_realistically_incomplete_and_varied() {
    let (catalog, _) = load_dir(&fixtures());
    let es = &catalog.enterprises;
    let provinces: BTreeSet<&str> = es
        .iter()
        .filter_map(|e| e.registration.region.as_deref())
        .map(|r| &r[..2])
        .collect();
    let sections: BTreeSet<char> = es
        .iter()
        .filter_map(|e| e.registration.industry.as_deref())
        .filter_map(|i| i.chars().next())
        .collect();
    let sizes: BTreeSet<Option<huiqi_engine::codes::SizeClass>> = es
        .iter()
        .map(|e| huiqi_engine::codes::size::classify(e).class)
        .collect();
    assert!(provinces.len() >= 10, "{provinces:?}");
    assert!(sections.len() >= 8, "{sections:?}");
    assert!(sizes.len() >= 4, "sizes incl. unknown: {sizes:?}");
    let without_tax = es.iter().filter(|e| e.tax.credit_grade.is_none()).count();
    assert!(
        without_tax * 10 > es.len(),
        "only {without_tax} profiles lack a tax grade"
    );
}
