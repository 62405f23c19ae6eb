//! Forward matching on the fixtures: the three lists, scores, near misses, ask-next, consent.

use std::path::Path;

use chrono::NaiveDate;
use huiqi_engine::Enterprise;
use huiqi_engine::matching::{
    Catalog, MatchOptions, MatchResult, OfferKind, Signals, Weights, match_enterprise,
};
use huiqi_engine::model::{Reader, Role};
use huiqi_engine::rule::{Facts, Outcome, Verdict};

struct Fixtures {
    catalog: Catalog,
    enterprises: Vec<Enterprise>,
    expired_or_draft: Vec<String>,
}

fn fixtures() -> &'static Fixtures {
    static F: std::sync::OnceLock<Fixtures> = std::sync::OnceLock::new();
    F.get_or_init(|| {
        let (c, report) =
            huiqi_index::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"));
        assert!(!report.has_errors());
        let expired_or_draft = c
            .products
            .iter()
            .filter(|p| p.item.status != huiqi_engine::model::Status::Published)
            .map(|p| p.item.id.clone())
            .chain(
                c.policies
                    .iter()
                    .filter(|p| p.item.status != huiqi_engine::model::Status::Published)
                    .map(|p| p.item.id.clone()),
            )
            .collect();
        Fixtures {
            catalog: Catalog::new(&c.products, &c.policies),
            enterprises: c.enterprises,
            expired_or_draft,
        }
    })
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
}

fn firm(id: &str) -> &'static Enterprise {
    fixtures().enterprises.iter().find(|e| e.id == id).unwrap()
}

fn run(id: &str, reader: Option<&Reader>) -> MatchResult {
    match_enterprise(
        &fixtures().catalog,
        firm(id),
        today(),
        reader,
        &Signals::default(),
        &MatchOptions::default(),
    )
}

fn ids(ms: &[huiqi_engine::matching::Match]) -> Vec<&str> {
    ms.iter().map(|m| m.offer.id.as_str()).collect()
}

#[test]
fn a_nanshan_tech_sme_gets_ranked_offers_with_breakdowns() {
    let r = run("E-0001", None);
    assert!(
        ids(&r.eligible).contains(&"P-B01"),
        "{:?}",
        ids(&r.eligible)
    );
    assert!(
        r.eligible
            .iter()
            .any(|m| m.offer.kind == OfferKind::Product)
    );
    // Ranked by total score, and each total is the weighted sum of its visible parts.
    let w = Weights::default();
    for pair in r.eligible.windows(2) {
        assert!(pair[0].score.total >= pair[1].score.total);
    }
    for m in r.eligible.iter().chain(&r.needs_info) {
        let s = &m.score;
        let sum = w.need_fit * s.need_fit
            + w.text * s.text
            + w.semantic * s.semantic
            + w.attractiveness * s.attractiveness
            + w.time * s.time;
        assert!((sum - s.total).abs() < 1e-5, "{}: {s:?}", m.offer.id);
        assert_eq!(m.evaluation.outcome, m.outcome);
    }
    // The 南山 subsidy is worth real money at the firm's best loan rate, capped at 100万 a year.
    let nanshan = r.eligible.iter().find(|m| m.offer.id == "P-B01").unwrap();
    let benefit = nanshan.score.benefit.as_ref().unwrap();
    assert!(benefit.yuan > 0 && benefit.yuan <= 1_000_000, "{benefit:?}");
    assert!(benefit.basis.contains("70%"), "{benefit:?}");
}

#[test]
fn expired_and_draft_offers_never_appear() {
    let f = fixtures();
    for e in f.enterprises.iter().take(60) {
        let r = match_enterprise(
            &f.catalog,
            e,
            today(),
            None,
            &Signals::default(),
            &MatchOptions::default(),
        );
        for m in r.eligible.iter().chain(&r.needs_info).chain(&r.near_misses) {
            assert!(
                !f.expired_or_draft.contains(&m.offer.id),
                "{} offered {}",
                e.id,
                m.offer.id
            );
        }
    }
}

#[test]
fn near_misses_name_the_clauses_that_failed() {
    // E-0002's R&D ratio is 3.8%, short of 南山's 4%: one clause away.
    let r = run("E-0002", None);
    let miss = r
        .near_misses
        .iter()
        .find(|m| m.offer.id == "P-B01")
        .expect("P-B01 is a near miss");
    assert_eq!(miss.failed, ["rd_ratio >= 4%"]);
    assert!(
        r.near_misses
            .iter()
            .all(|m| (1..=2).contains(&m.failed.len()))
    );
    assert!(!ids(&r.eligible).contains(&"P-B01"));
}

#[test]
fn the_service_area_is_a_clause_of_its_own() {
    // A Hangzhou firm and Shenzhen-only city bank products: the region clause fails, shown in
    // the trace like any condition, and such offers are not near misses.
    let f = fixtures();
    let hz = firm("E-0007");
    let facts = Facts::new(hz, today());
    let r = run(
        "E-0007",
        Some(&Reader {
            role: Role::Enterprise,
            org: Some("E-0007".into()),
        }),
    );
    assert!(
        r.near_misses
            .iter()
            .chain(&r.eligible)
            .chain(&r.needs_info)
            .all(|m| !m.offer.id.starts_with("PENGWAN"))
    );
    let wide = match_enterprise(
        &f.catalog,
        hz,
        today(),
        None,
        &Signals::default(),
        &MatchOptions {
            near_miss_max_failed: 100,
            limit: usize::MAX,
            ..MatchOptions::default()
        },
    );
    assert!(
        wide.near_misses
            .iter()
            .all(|m| !m.offer.id.starts_with("PENGWAN"))
    );
    // Explaining such an offer shows the failed service area first.
    let x = f.catalog.explain_offer("PENGWAN-XYD-01", &facts).unwrap();
    assert_eq!(x.outcome, Outcome::Ineligible);
    assert_eq!(x.clauses[0].field, "region");
    assert_eq!(x.clauses[0].verdict, Verdict::Fail);
}

#[test]
fn ask_next_ranks_missing_facts_by_the_offers_they_settle() {
    let r = run("E-0034", None);
    assert!(!r.needs_info.is_empty());
    assert!(!r.ask_next.is_empty());
    for a in &r.ask_next {
        let waiting = r
            .needs_info
            .iter()
            .filter(|m| m.missing.contains(&a.field))
            .count();
        assert_eq!(a.offers, waiting, "{a:?}");
        assert!(a.decisive <= a.offers);
    }
    for pair in r.ask_next.windows(2) {
        assert!(pair[0].offers >= pair[1].offers);
    }
    // The derived size class is never asked for directly: its missing figure is.
    assert!(r.ask_next.iter().all(|a| a.field != "size"));
    assert!(
        r.ask_next.iter().any(|a| a.field == "employees"),
        "{:?}",
        r.ask_next
    );
}

#[test]
fn a_reader_without_consent_sees_unknowns() {
    // E-0015 granted its legal-rep data to BANK-DONGYUE only.
    let dongyue = Reader {
        role: Role::Institution,
        org: Some("BANK-DONGYUE".into()),
    };
    let kunyu = Reader {
        role: Role::Institution,
        org: Some("BANK-KUNYU".into()),
    };
    let as_dongyue = run("E-0015", Some(&dongyue));
    assert!(
        ids(&as_dongyue.eligible).contains(&"DONGYUE-SND-01"),
        "{:?}",
        ids(&as_dongyue.eligible)
    );
    let as_kunyu = run("E-0015", Some(&kunyu));
    let m = as_kunyu
        .needs_info
        .iter()
        .find(|m| m.offer.id == "KUNYU-SND-01")
        .expect("KUNYU-SND-01 needs info for KUNYU");
    assert!(
        m.missing.iter().any(|f| f.starts_with("legal_rep")),
        "{:?}",
        m.missing
    );
    // The enterprise itself sees all of its own data.
    let itself = Reader {
        role: Role::Enterprise,
        org: Some("E-0015".into()),
    };
    assert!(
        run("E-0015", Some(&itself))
            .needs_info
            .iter()
            .all(|m| m.offer.id != "KUNYU-SND-01")
    );
}

#[test]
fn outcomes_agree_with_the_policy_rules_themselves() {
    // Matching adds the service area; for policies without regions it must not change outcomes.
    let f = fixtures();
    let (c, _) = huiqi_index::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"));
    for e in f.enterprises.iter().take(40) {
        let r = match_enterprise(
            &f.catalog,
            e,
            today(),
            None,
            &Signals::default(),
            &MatchOptions {
                near_miss_max_failed: 100,
                limit: usize::MAX,
                ..MatchOptions::default()
            },
        );
        for p in c.policies.iter().filter(|p| {
            p.item.regions.is_empty()
                && p.item.status == huiqi_engine::model::Status::Published
                && p.item.window.contains(today())
        }) {
            let direct = p.rule.evaluate(&Facts::new(e, today())).outcome;
            let listed = if ids(&r.eligible).contains(&p.item.id.as_str()) {
                Outcome::Eligible
            } else if ids(&r.needs_info).contains(&p.item.id.as_str()) {
                Outcome::NeedsInfo
            } else {
                Outcome::Ineligible
            };
            assert_eq!(direct, listed, "{} / {}", e.id, p.item.id);
        }
    }
}

#[test]
fn policy_benefits_use_a_loan_rate_not_a_discount_or_fee_rate() {
    let r = run("E-0002", None);
    let lowest_loan = r
        .eligible
        .iter()
        .filter(|m| {
            m.offer.kind == OfferKind::Product && !matches!(m.offer.label, "票据贴现" | "融资担保")
        })
        .filter_map(|m| m.score.rate_bp)
        .min()
        .unwrap();
    let nanshan = r
        .near_misses
        .iter()
        .find(|m| m.offer.id == "P-B01")
        .unwrap();
    let basis = &nanshan.score.benefit.as_ref().unwrap().basis;
    assert!(
        basis.contains(&huiqi_engine::text::percent(lowest_loan)),
        "{basis} vs {lowest_loan}"
    );
}
