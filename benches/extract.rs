//! Extraction throughput (criterion): every fixture policy's prose, repeated to about 1 MB,
//! read by `huiqi_index::extract::extract` one policy text at a time. Prints MB/s.
//!
//! `cargo bench --bench extract`; under `cargo test` it runs once.
//!
//! The loop checks its own output: the number of clauses drafted per pass is fixed by the
//! fixtures and compared on every pass. Reading the files and the first (compiling) call stay
//! outside the timed part.

// A benchmark prints its figures.
#![allow(clippy::print_stdout)]

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use huiqi_engine::Policy;
use huiqi_index::extract::extract;

/// The fixture texts, repeated until they hold at least 1 MB.
fn corpus() -> (Vec<String>, usize) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/policies");
    let mut texts: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let policy: Policy =
                serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            policy.text
        })
        .collect();
    texts.sort();
    let one_pass: usize = texts.iter().map(String::len).sum();
    let repeats = (1_000_000 / one_pass).max(1) + 1;
    let all: Vec<String> = (0..repeats).flat_map(|_| texts.iter().cloned()).collect();
    let bytes = all.iter().map(String::len).sum();
    (all, bytes)
}

fn clauses(texts: &[String]) -> usize {
    texts.iter().map(|t| extract(t).clauses.len()).sum()
}

fn bench(c: &mut Criterion) {
    let (texts, bytes) = corpus();
    let expected = clauses(&texts); // also compiles the pattern table
    assert!(expected > 0);
    // One timed pass outside criterion, for the printed MB/s figure.
    let start = Instant::now();
    assert_eq!(clauses(black_box(&texts)), expected);
    let secs = start.elapsed().as_secs_f64();
    println!(
        "extract: {} texts, {:.2} MB, {} clauses, one pass {:.1} ms = {:.2} MB/s",
        texts.len(),
        bytes as f64 / 1e6,
        expected,
        secs * 1e3,
        bytes as f64 / 1e6 / secs
    );
    let mut g = c.benchmark_group("extract");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.sample_size(10);
    g.bench_function("all fixture policy texts, repeated to ≥ 1 MB", |b| {
        b.iter(|| assert_eq!(clauses(black_box(&texts)), expected))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
