//! Reverse matching (政策找人) benchmarks (criterion) on generated enterprises:
//!
//! - one typical policy (region prefix, age, size, tax grade, no dishonesty, a tag) over
//!   1,000,000 enterprises with the columnar scan, and the same predicate as a hand-written
//!   per-row Rust loop over the same columns (the baseline the scan must stay within 2× of);
//! - the same policy over 10,000,000 enterprises (`HUIQI_BENCH_10M=0` skips it);
//! - the store's memory per enterprise, printed;
//! - the same predicate compiled to SQL ([`huiqi_engine::sql`]) on PostgreSQL over the same
//!   1,000,000 rows, indexed as a DBA would, timed in the same run as the columnar scan: the
//!   p50 of both and their ratio are printed, with the query plans once. Needs `HUIQI_PG_URL`
//!   (`eval "$(scripts/postgres)"`); skipped with a message without it. The rows are loaded
//!   with `COPY` into `bench_enterprises_1m`, which later runs reuse when it holds as many rows.
//!
//! `cargo bench --bench reverse`; under `cargo test` it runs once on 20,000 enterprises (the
//! PostgreSQL table is then `bench_enterprises_20k`).

// A benchmark prints its figures.
#![allow(clippy::print_stdout)]

#[path = "reverse/pg.rs"]
mod pg;
#[path = "../tests/e2e/pg_bind.rs"]
mod pg_bind;

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use huiqi_engine::reverse::{Column, CompiledPredicate, EnterpriseStore, reach};
use huiqi_engine::rule::{Verdict, compile, years_between};
use huiqi_engine::synthetic;

const POLICY: &str = r#"region under "33" and years_since(established) >= 2 and size in ["小型", "微型"] and tax_grade in ["A", "B"] and not dishonest and tags has "外贸""#;

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
}

fn full_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// The typical policy written by hand over the store's columns, row by row, three-valued.
struct HandLoop<'s> {
    store: &'s EnterpriseStore,
    cutoff_days: i64,
}

impl<'s> HandLoop<'s> {
    fn new(store: &'s EnterpriseStore) -> HandLoop<'s> {
        // The latest establishment date that is still two whole years before as_of.
        let mut d = as_of();
        while years_between(d, as_of()) < 2 {
            d = d.pred_opt().unwrap();
        }
        HandLoop {
            store,
            cutoff_days: i64::from(chrono::Datelike::num_days_from_ce(&d)),
        }
    }

    fn count(&self) -> (usize, usize) {
        let s = self.store;
        let (
            Some(Column::Dict(region)),
            Some(Column::Date(established)),
            Some(Column::Dict(size)),
            Some(Column::Dict(grade)),
            Some(Column::Bool(dishonest)),
            Some(Column::Set(tags)),
        ) = (
            s.column_by_name("region"),
            s.column_by_name("established"),
            s.column_by_name("size"),
            s.column_by_name("tax_grade"),
            s.column_by_name("dishonest"),
            s.column_by_name("tags"),
        )
        else {
            panic!("unexpected column types")
        };
        let zhejiang = region.prefix_codes("33");
        let small: Vec<u32> = ["小型", "微型"]
            .iter()
            .filter_map(|v| size.lookup(v))
            .collect();
        let good: Vec<u32> = ["A", "B"].iter().filter_map(|v| grade.lookup(v)).collect();
        let trade = tags.label_index("外贸");
        let v = |b: Option<bool>| b.map_or(Verdict::Unknown, Verdict::from_bool);
        let (mut eligible, mut needs_info) = (0, 0);
        for row in 0..s.rows() {
            if !s.is_live(row) {
                continue;
            }
            let verdict = v(region.code(row).map(|c| zhejiang.contains(&c)))
                .and(v(established.get(row).map(|d| d <= self.cutoff_days)))
                .and(v(size.code(row).map(|c| small.contains(&c))))
                .and(v(grade.code(row).map(|c| good.contains(&c))))
                .and(v(dishonest.get(row).map(|d| !d)))
                .and(match trade {
                    Some(i) => v(tags.has_index(row, i)),
                    None => v(tags.is_known(row).then_some(false)),
                });
            match verdict {
                Verdict::Pass => eligible += 1,
                Verdict::Unknown => needs_info += 1,
                Verdict::Fail => {}
            }
        }
        (eligible, needs_info)
    }
}

fn scan(c: &mut Criterion, n: usize, label: &str, pg_table: Option<&str>) {
    let store = EnterpriseStore::build_par(n, |i| synthetic::enterprise(2026, i as u64)).unwrap();
    let predicate = CompiledPredicate::compile(&compile(POLICY).unwrap(), as_of()).unwrap();
    let hand = HandLoop::new(&store);
    // Check both against each other (and so against the interpreter the scan is tested with).
    let r = reach(&store, &predicate);
    assert_eq!((r.eligible.len(), r.needs_info.len()), hand.count());
    assert!(!r.eligible.is_empty() || n < 1000);
    println!(
        "{label}: {} enterprises, {:.1} bytes per enterprise in the store; eligible {}, needs_info {}",
        store.len(),
        store.memory_bytes() as f64 / store.len() as f64,
        r.eligible.len(),
        r.needs_info.len()
    );
    c.bench_function(
        &format!("reach: typical policy over {label} (columnar scan)"),
        |b| b.iter(|| black_box(reach(&store, &predicate).eligible.len())),
    );
    c.bench_function(
        &format!("reach: typical policy over {label} (hand-written row loop)"),
        |b| b.iter(|| black_box(hand.count())),
    );
    if let Some(table) = pg_table {
        let expected = (r.eligible.len(), r.needs_info.len());
        pg::compare(
            table,
            &store,
            &predicate,
            expected,
            POLICY,
            as_of(),
            full_run(),
        );
    }
}

fn one_million(c: &mut Criterion) {
    if full_run() {
        scan(c, 1_000_000, "1,000,000", Some("bench_enterprises_1m"));
    } else {
        scan(c, 20_000, "20,000", Some("bench_enterprises_20k"));
    }
}

fn ten_million(c: &mut Criterion) {
    if full_run() && std::env::var("HUIQI_BENCH_10M").map_or(true, |v| v != "0") {
        scan(c, 10_000_000, "10,000,000", None);
    }
}

fn compile_to_columns(c: &mut Criterion) {
    let rule = compile(POLICY).unwrap();
    c.bench_function("compile the typical policy to a columnar predicate", |b| {
        b.iter(|| CompiledPredicate::compile(black_box(&rule), as_of()).unwrap())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = one_million, ten_million, compile_to_columns
}
criterion_main!(benches);
