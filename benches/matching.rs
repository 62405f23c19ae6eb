//! Matching benchmarks (criterion) on generated data:
//!
//! - forward: one enterprise against 10,000 products and 2,000 policies, every clause traced;
//! - compiling one rule (parse and type-check).
//!
//! `cargo bench --bench matching`; under `cargo test` each benchmark runs once.

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use huiqi_engine::matching::{Catalog, Checked, MatchOptions, Signals, match_enterprise};
use huiqi_engine::synthetic;

fn catalog() -> Catalog {
    let products: Vec<_> = synthetic::products(2026, 10_000)
        .into_iter()
        .map(|item| Checked {
            rule: item.eligibility.compile().unwrap(),
            item,
        })
        .collect();
    let policies: Vec<_> = synthetic::policies(2026, 2_000)
        .into_iter()
        .map(|item| Checked {
            rule: item.eligibility.compile().unwrap(),
            item,
        })
        .collect();
    Catalog::new(&products, &policies)
}

fn forward(c: &mut Criterion) {
    let catalog = catalog();
    let enterprises: Vec<_> = synthetic::enterprises(7, 64).collect();
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
    let (signals, options) = (Signals::default(), MatchOptions::default());
    // The lists hold what was evaluated: check once outside the timed loop.
    let r = match_enterprise(&catalog, &enterprises[0], as_of, None, &signals, &options);
    assert_eq!(r.evaluated, 12_000);
    let mut i = 0;
    c.bench_function(
        "forward: 1 enterprise vs 10,000 products + 2,000 policies",
        |b| {
            b.iter(|| {
                i = (i + 1) % enterprises.len();
                let r =
                    match_enterprise(&catalog, &enterprises[i], as_of, None, &signals, &options);
                black_box(r.eligible.len() + r.needs_info.len() + r.near_misses.len())
            })
        },
    );
}

fn compile(c: &mut Criterion) {
    const RULE: &str = r#"region under "3301" and years_since(established) >= 2 and size in ["小型", "微型"] and tax_grade in ["A", "B"] and not dishonest and (high_tech or tech_sme) and rd_ratio >= 4% and revenue < 2亿"#;
    assert_eq!(huiqi_engine::rule::compile(RULE).unwrap().clauses.len(), 9);
    c.bench_function("compile one rule (9 clauses)", |b| {
        b.iter(|| huiqi_engine::rule::compile(black_box(RULE)).unwrap())
    });
}

criterion_group!(benches, forward, compile);
criterion_main!(benches);
