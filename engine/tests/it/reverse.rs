//! Reverse matching: the columnar scan agrees with the interpreter on every row, store updates
//! equal a rebuild, reach counts add up, and the store stays small.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::NaiveDate;
use huiqi_engine::codes::{industry, region};
use huiqi_engine::reverse::{
    Column, CompiledPredicate, EnterpriseStore, GroupCount, Reach, ReverseError, reach,
};
use huiqi_engine::rule::{Facts, Outcome, Rule, compile};
use huiqi_engine::{Enterprise, synthetic};
use proptest::prelude::*;

use crate::support::{Rng, arbitrary_enterprise, pooled_enterprise, reach_expr};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// Evaluation dates with month-end and leap-day edges.
const AS_OF: [&str; 5] = [
    "2026-11-21",
    "2024-02-29",
    "2025-02-28",
    "2026-01-31",
    "2026-03-31",
];

/// Profiles of every kind: pooled (edges hit often), arbitrary (odd values), synthetic
/// (realistic).
fn mixed_profile(seed: u64, i: u64) -> Enterprise {
    let mut e = match i % 3 {
        0 => pooled_enterprise(
            seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15),
            d(AS_OF[(i % 5) as usize]),
        ),
        1 => arbitrary_enterprise(seed.wrapping_add(i)),
        _ => synthetic::enterprise(seed, i),
    };
    e.id = format!("M{seed:x}-{i}");
    e
}

/// Every live row's outcome from the scan equals the interpreter's; removed rows are in no set;
/// the breakdowns add up to the totals.
fn check(
    store: &EnterpriseStore,
    profile: impl Fn(usize) -> Option<Enterprise>,
    rule: &Rule,
    as_of: NaiveDate,
) -> Result<Reach, TestCaseError> {
    let pred =
        CompiledPredicate::compile(rule, as_of).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let r = reach(store, &pred);
    for row in 0..store.rows() {
        match profile(row) {
            Some(e) => {
                prop_assert!(store.is_live(row));
                let want = rule.evaluate(&Facts::new(&e, as_of)).outcome;
                prop_assert_eq!(
                    r.outcome(row),
                    want,
                    "row {} ({}) on {}: {}\n{:?}",
                    row,
                    e.id,
                    as_of,
                    rule.expr,
                    e
                );
            }
            None => {
                prop_assert!(!store.is_live(row));
                prop_assert!(!r.eligible.contains(row) && !r.needs_info.contains(row));
            }
        }
    }
    check_sums(&r)?;
    Ok(r)
}

fn check_sums(r: &Reach) -> Result<(), TestCaseError> {
    for groups in [&r.by_province, &r.by_city, &r.by_size, &r.by_section] {
        let eligible: u64 = groups.iter().map(|g| g.eligible).sum();
        let needs: u64 = groups.iter().map(|g| g.needs_info).sum();
        prop_assert_eq!(eligible as usize, r.eligible.len());
        prop_assert_eq!(needs as usize, r.needs_info.len());
        prop_assert!(groups.iter().all(|g| g.eligible + g.needs_info > 0));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Random well-typed rules × a store of a few hundred random profiles with missing values:
    /// the same outcome on every row.
    #[test]
    fn scan_agrees_with_interpreter(
        (as_of, rules) in prop::sample::select(AS_OF.to_vec()).prop_flat_map(|a| {
            let as_of = d(a);
            (Just(as_of), prop::collection::vec(reach_expr(as_of), 1..4))
        }),
        seed in any::<u64>(),
        n in 1usize..400,
    ) {
        let profiles: Vec<Enterprise> = (0..n as u64).map(|i| mixed_profile(seed, i)).collect();
        let store = EnterpriseStore::build(&profiles).unwrap();
        prop_assert_eq!(store.len(), n);
        for expr in rules {
            let rule = Rule::from_expr(expr.clone()).map_err(|e| TestCaseError::fail(format!("{e}\n{expr}")))?;
            check(&store, |row| Some(profiles[row].clone()), &rule, as_of)?;
        }
    }
}

/// A store of several blocks (4,096 rows each), built once.
struct Big {
    profiles: Vec<Enterprise>,
    store: EnterpriseStore,
}

fn big() -> &'static Big {
    static BIG: OnceLock<Big> = OnceLock::new();
    BIG.get_or_init(|| {
        // The first block is realistic only: many columns fully known (the word-at-a-time path),
        // then mixed profiles (the row-at-a-time path).
        let profiles: Vec<Enterprise> = (0..9_500)
            .map(|i| {
                if i < 4_096 {
                    synthetic::enterprise(77, i)
                } else {
                    mixed_profile(77, i)
                }
            })
            .collect();
        let store = EnterpriseStore::build(profiles.iter()).unwrap();
        Big { profiles, store }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// The same agreement across block boundaries and block-local frames.
    #[test]
    fn scan_agrees_across_blocks(
        (as_of, expr) in prop::sample::select(AS_OF.to_vec()).prop_flat_map(|a| {
            let as_of = d(a);
            (Just(as_of), reach_expr(as_of))
        }),
    ) {
        let big = big();
        let rule = Rule::from_expr(expr.clone()).map_err(|e| TestCaseError::fail(format!("{e}\n{expr}")))?;
        check(&big.store, |row| Some(big.profiles[row].clone()), &rule, as_of)?;
    }
}

/// Upserts (new ids, replacements, revivals) and removals, then the same rules on the changed
/// store and on a store rebuilt from the final profiles.
fn apply_changes(seed: u64, initial: usize, changes: usize) -> Result<(), TestCaseError> {
    let mut profiles: Vec<Enterprise> = (0..initial as u64)
        .map(|i| mixed_profile(seed, i))
        .collect();
    let mut store = EnterpriseStore::build(&profiles).unwrap();
    // Id and current profile of each row (None once removed).
    let mut ids: Vec<String> = profiles.iter().map(|e| e.id.clone()).collect();
    let mut by_row: Vec<Option<Enterprise>> = profiles.drain(..).map(Some).collect();
    let mut r = Rng(seed | 1);
    let mut next = initial as u64;
    for step in 0..changes as u64 {
        let rows = by_row.len();
        match r.below(6) {
            // Replace a profile with another one (any kind) under the same id; a removed
            // enterprise comes back in its row.
            0..=2 if rows > 0 => {
                let row = r.below(rows as u64) as usize;
                let mut e = mixed_profile(seed ^ 0xABCD, step + 1_000_000);
                e.id = ids[row].clone();
                prop_assert_eq!(store.upsert(&e).unwrap(), row);
                by_row[row] = Some(e);
            }
            // A new enterprise.
            0..=4 => {
                let e = mixed_profile(seed, next);
                next += 1;
                let at = store.upsert(&e).unwrap();
                prop_assert_eq!(at, by_row.len());
                ids.push(e.id.clone());
                by_row.push(Some(e));
            }
            _ if rows == 0 => {}
            // Remove one (or try an unknown id).
            _ => {
                let row = r.below(rows as u64) as usize;
                match by_row[row].take() {
                    Some(e) => prop_assert!(store.remove(&e.id)),
                    None => prop_assert!(!store.remove("no-such-id")),
                }
            }
        }
    }
    prop_assert_eq!(store.len(), by_row.iter().flatten().count());
    for (row, e) in by_row.iter().enumerate() {
        match e {
            Some(e) => {
                prop_assert_eq!(store.row_of(&e.id), Some(row));
                prop_assert_eq!(store.id(row), Some(e.id.as_str()));
            }
            None => prop_assert_eq!(store.id(row), None),
        }
    }
    let rebuilt = EnterpriseStore::build(by_row.iter().flatten()).unwrap();
    let rules = [
        r#"region under "33" and years_since(established) >= 2 and size in ["小型", "微型"] and tax_grade in ["A", "B"] and not dishonest and tags has "外贸""#,
        r#"industry under ["C39", "F", "I65"] or employees > 10 or not (registered_capital in [0, 1000000] or qualifications has any ["ISO9001", ""])"#,
        r#"months_since(established) < 14 and not (revenue >= 1000000 and high_tech) and entity_type != "有限责任公司""#,
    ];
    for text in rules {
        let rule = compile(text).unwrap();
        let as_of = d("2026-11-21");
        let changed = check(&store, |row| by_row[row].clone(), &rule, as_of)?;
        let fresh = reach(&rebuilt, &CompiledPredicate::compile(&rule, as_of).unwrap());
        for outcome in [Outcome::Eligible, Outcome::NeedsInfo] {
            let mut a: Vec<&str> = changed.ids(&store, outcome).collect();
            let mut b: Vec<&str> = fresh.ids(&rebuilt, outcome).collect();
            a.sort_unstable();
            b.sort_unstable();
            prop_assert_eq!(a, b);
        }
        prop_assert_eq!(&changed.by_province, &fresh.by_province);
        prop_assert_eq!(&changed.by_city, &fresh.by_city);
        prop_assert_eq!(&changed.by_size, &fresh.by_size);
        prop_assert_eq!(&changed.by_section, &fresh.by_section);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn changes_equal_a_rebuild(seed in any::<u64>(), initial in 0usize..300, changes in 0usize..200) {
        apply_changes(seed, initial, changes)?;
    }
}

/// Changes spread over several blocks, many of them (frames re-encoded, dictionaries grown,
/// labels turned dense).
#[test]
fn many_changes_over_blocks_equal_a_rebuild() {
    apply_changes(2026, 9_000, 3_000).unwrap();
}

/// A removed enterprise upserted again comes back in its old row.
#[test]
fn removed_then_upserted_revives_in_place() {
    let profiles: Vec<Enterprise> = synthetic::enterprises(1, 10).collect();
    let mut store = EnterpriseStore::build(&profiles).unwrap();
    let id = profiles[3].id.clone();
    assert!(store.remove(&id));
    assert!(!store.remove(&id));
    assert_eq!((store.len(), store.rows()), (9, 10));
    assert_eq!(store.row_of(&id), None);
    assert_eq!(store.upsert(&profiles[3]).unwrap(), 3);
    assert_eq!(store.row_of(&id), Some(3));
    assert_eq!(store.len(), 10);
}

/// Duplicate ids in a bulk build: the later profile wins.
#[test]
fn later_duplicate_wins_in_build() {
    let mut a = synthetic::enterprise(5, 0);
    let mut b = synthetic::enterprise(5, 1);
    a.id = "SAME".into();
    b.id = "SAME".into();
    b.registration.region = Some("330106".into());
    a.registration.region = Some("440305".into());
    let store = EnterpriseStore::build([&a, &b]).unwrap();
    assert_eq!(store.len(), 1);
    let row = store.row_of("SAME").unwrap();
    let rule = compile(r#"region under "3301""#).unwrap();
    let r = reach(
        &store,
        &CompiledPredicate::compile(&rule, d("2026-01-01")).unwrap(),
    );
    assert_eq!(r.eligible.iter().collect::<Vec<_>>(), vec![row]);
}

#[test]
fn personal_text_cannot_select_enterprises() {
    let rule = compile(r#"legal_rep_name = "张三" or region under "33""#).unwrap();
    match CompiledPredicate::compile(&rule, d("2026-01-01")) {
        Err(ReverseError::PersonalText { field, .. }) => assert_eq!(field, "legal_rep_name"),
        other => panic!("{other:?}"),
    }
    let store = EnterpriseStore::build(synthetic::enterprises(3, 5)).unwrap();
    assert!(matches!(
        store.column_by_name("legal_rep_phone"),
        Some(Column::Text)
    ));
    assert!(matches!(
        store.column_by_name("region"),
        Some(Column::Dict(_))
    ));
}

#[test]
fn empty_store_reaches_nobody() {
    let store = EnterpriseStore::new();
    let rule = compile("true").unwrap();
    let r = reach(
        &store,
        &CompiledPredicate::compile(&rule, d("2026-01-01")).unwrap(),
    );
    assert!(r.eligible.is_empty() && r.needs_info.is_empty());
    assert!(r.by_province.is_empty());
    let built = EnterpriseStore::build(Vec::<Enterprise>::new()).unwrap();
    assert_eq!(built.len(), 0);
}

const TYPICAL: &str = r#"region under "33" and years_since(established) >= 2 and size in ["小型", "微型"] and tax_grade in ["A", "B"] and not dishonest and tags has "外贸""#;

/// The reach preview of a typical policy on realistic data: the counts add up, and each group's
/// counts equal a direct count with the interpreter.
#[test]
fn typical_policy_reach_matches_a_direct_count() {
    let as_of = d("2026-11-21");
    let profiles: Vec<Enterprise> = synthetic::enterprises(2026, 5_000).collect();
    let store = EnterpriseStore::build(&profiles).unwrap();
    let rule = compile(TYPICAL).unwrap();
    let r = check(&store, |row| Some(profiles[row].clone()), &rule, as_of).unwrap();
    assert!(!r.eligible.is_empty());
    assert!(!r.needs_info.is_empty());

    // Direct count with the interpreter, grouped the same way.
    type Groups = BTreeMap<Option<String>, (u64, u64)>;
    let mut want: [Groups; 4] = Default::default();
    for e in &profiles {
        let facts = Facts::new(e, as_of);
        let slot = match rule.evaluate(&facts).outcome {
            Outcome::Eligible => 0,
            Outcome::NeedsInfo => 1,
            Outcome::Ineligible => continue,
        };
        let code = e
            .registration
            .region
            .as_deref()
            .and_then(region::prefix_form);
        let keys = [
            code.as_ref().map(|c| c[..2].to_string()),
            code.as_ref()
                .filter(|c| c.len() >= 4)
                .map(|c| c[..4].to_string()),
            facts.size.class.map(|c| c.label().to_string()),
            e.registration
                .industry
                .as_deref()
                .filter(|i| industry::is_well_formed(i))
                .map(|i| i[..1].to_string()),
        ];
        for (groups, key) in want.iter_mut().zip(keys) {
            let g = groups.entry(key).or_default();
            if slot == 0 {
                g.0 += 1;
            } else {
                g.1 += 1;
            }
        }
    }
    let got = |groups: &[GroupCount]| -> Groups {
        groups
            .iter()
            .map(|g| (g.key.clone(), (g.eligible, g.needs_info)))
            .collect()
    };
    assert_eq!(got(&r.by_province), want[0]);
    assert_eq!(got(&r.by_city), want[1]);
    assert_eq!(got(&r.by_size), want[2]);
    assert_eq!(got(&r.by_section), want[3]);
    assert_eq!(r.by_province[0].key.as_deref(), Some("33"));
    assert_eq!(r.by_province[0].name, Some("浙江省"));
    // Samples are ids of eligible enterprises.
    let sample = r.sample(&store, Outcome::Eligible, 5);
    assert_eq!(sample.len(), 5);
    for id in sample {
        let row = store.row_of(id).unwrap();
        assert_eq!(r.outcome(row), Outcome::Eligible);
    }
}

/// Whole store, everything counted, at most 100 bytes per enterprise on realistic profiles.
#[test]
fn store_is_at_most_100_bytes_per_enterprise() {
    let n = 200_000;
    let store = EnterpriseStore::build_par(n, |i| synthetic::enterprise(2026, i as u64)).unwrap();
    assert_eq!(store.len(), n);
    let per = store.memory_bytes() as f64 / n as f64;
    assert!(
        per <= 100.0,
        "{per:.1} bytes per enterprise: {:?}",
        store.memory_breakdown()
    );
    // And the store built this way answers like one built from an iterator.
    let rule = compile(TYPICAL).unwrap();
    let pred = CompiledPredicate::compile(&rule, d("2026-11-21")).unwrap();
    let small = EnterpriseStore::build(synthetic::enterprises(2026, 20_000)).unwrap();
    let a = reach(&small, &pred);
    let b = reach(&store, &pred);
    let firsts = |r: &Reach| {
        r.eligible
            .iter()
            .take_while(|&row| row < 20_000)
            .collect::<Vec<_>>()
    };
    assert_eq!(firsts(&a), firsts(&b));
}
