//! Index-builder benchmarks on fixed, generated data. Prints a table of figures:
//!
//! ```sh
//! cargo bench --bench index                      # everything, 1,000,000 business scopes
//! HUIQI_BENCH_SCOPES=100000 cargo bench --bench index
//! ```
//!
//! Each figure checks its own output (the indexes hold what was added, searches return hits),
//! and setup stays outside the timed parts.

// A benchmark command prints its figures.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use huiqi_engine::model::{Policy, Product};
use huiqi_index::embed::{Embedder, Mode, lexical::Lexical};
use huiqi_index::progress::Silent;
use huiqi_index::snapshot::Snapshot;
use huiqi_index::text::{Filters, ScopeIndex, TextIndex};

const QUERIES: &[&str] = &[
    "研发补贴",
    "首贷贴息",
    "小微企业信用贷款",
    "知识产权质押融资",
    "担保费补贴",
    "科技型中小企业",
    "流动资金贷款 随借随还",
    "专精特新 贴息",
    "家庭农场 贷款",
    "出口 信用保险 融资",
    "政府采购 合同 融资",
    "绿色 技改 贴息",
    "应急转贷",
    "纳税信用 A级",
    "南山区",
    "税易贷",
    "抵押 厂房",
    "创业担保贷款",
];

struct Scratch(PathBuf);
impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("huiqi-bench-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}
impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

/// The fixture catalog repeated `copies` times under new ids (a realistic mix at scale).
fn catalog(copies: usize) -> (Vec<Product>, Vec<Policy>) {
    let (c, report) =
        huiqi_index::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"));
    assert!(!report.has_errors());
    let mut products = Vec::new();
    let mut policies = Vec::new();
    for i in 0..copies {
        products.extend(c.products.iter().map(|p| Product {
            id: format!("{}#{i}", p.item.id),
            ..p.item.clone()
        }));
        policies.extend(c.policies.iter().map(|p| Policy {
            id: format!("{}#{i}", p.item.id),
            ..p.item.clone()
        }));
    }
    (products, policies)
}

fn row(table: &mut Vec<[String; 3]>, what: &str, value: String, note: String) {
    eprintln!("  {what}: {value} {note}");
    table.push([what.to_string(), value, note]);
}

/// `cargo bench` passes `--bench`; under `cargo test` the benchmark runs a small smoke pass so
/// the suite proves it still works without spending minutes.
fn full_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn main() {
    let full = full_run();
    let mut table: Vec<[String; 3]> = Vec::new();

    // 1. Products and policies into the full-text index.
    let (products, policies) = catalog(if full { 111 } else { 2 });
    let docs = products.len() + policies.len();
    let dir = Scratch::new("text");
    let text = TextIndex::create(&dir.0).unwrap();
    let t = Instant::now();
    text.add_products(&products).unwrap();
    text.add_policies(&policies).unwrap();
    let took = t.elapsed();
    assert_eq!(text.len() as usize, docs);
    row(
        &mut table,
        "index products + policies (full text, jieba)",
        format!("{:.0} docs/s", docs as f64 / took.as_secs_f64()),
        format!("{docs} docs in {:.2} s", took.as_secs_f64()),
    );

    // 2. Search latency over that index.
    let mut lat = Vec::new();
    let rounds = if full { 30 } else { 1 };
    for round in 0..rounds {
        for q in QUERIES {
            let t = Instant::now();
            let hits = text.search(q, &Filters::default(), 10).unwrap();
            lat.push(t.elapsed());
            if round == 0 {
                assert!(!hits.is_empty(), "{q}");
            }
        }
    }
    lat.sort();
    row(
        &mut table,
        "full-text search, top 10 with snippets",
        format!(
            "p50 {} / p99 {}",
            ms(percentile(&lat, 0.5)),
            ms(percentile(&lat, 0.99))
        ),
        format!("{} queries over {docs} docs", lat.len()),
    );
    let region = Filters {
        region: Some("330106".into()),
        ..Filters::default()
    };
    let mut lat = Vec::new();
    for _ in 0..rounds {
        for q in QUERIES {
            let t = Instant::now();
            let _ = text.search(q, &region, 10).unwrap();
            lat.push(t.elapsed());
        }
    }
    lat.sort();
    row(
        &mut table,
        "full-text search with a region filter",
        format!(
            "p50 {} / p99 {}",
            ms(percentile(&lat, 0.5)),
            ms(percentile(&lat, 0.99))
        ),
        String::new(),
    );
    drop(text);

    // 3. Business scopes of generated enterprises.
    let n: u64 = std::env::var("HUIQI_BENCH_SCOPES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 1_000_000 } else { 2_000 });
    let scopes: Vec<(String, String)> = huiqi_engine::synthetic::enterprises(2026, n)
        .map(|e| (e.id, e.business_scope.unwrap_or_default()))
        .collect();
    let bytes: usize = scopes.iter().map(|(_, s)| s.len()).sum();
    let dir = Scratch::new("scopes");
    let index = ScopeIndex::create(&dir.0).unwrap();
    let t = Instant::now();
    let added = index.add(scopes.into_iter()).unwrap();
    let took = t.elapsed();
    assert_eq!(added, n);
    row(
        &mut table,
        "index enterprise business scopes (经营范围)",
        format!("{:.0} docs/s", n as f64 / took.as_secs_f64()),
        format!(
            "{n} scopes, {:.0} MB in {:.1} s ({:.1} MB/s)",
            bytes as f64 / 1e6,
            took.as_secs_f64(),
            bytes as f64 / 1e6 / took.as_secs_f64()
        ),
    );
    let mut lat = Vec::new();
    for q in [
        "软件开发",
        "餐饮服务",
        "道路货物运输",
        "农产品",
        "技术服务 技术开发",
    ] {
        for _ in 0..20 {
            let t = Instant::now();
            assert!(!index.search(q, 20).unwrap().is_empty());
            lat.push(t.elapsed());
        }
    }
    lat.sort();
    row(
        &mut table,
        "business-scope search, top 20",
        format!(
            "p50 {} / p99 {}",
            ms(percentile(&lat, 0.5)),
            ms(percentile(&lat, 0.99))
        ),
        format!("over {n} scopes"),
    );
    drop(index);

    // 4. Embedders.
    let passages: Vec<String> = products
        .iter()
        .take(256)
        .map(huiqi_index::pipeline::product_passage)
        .collect();
    let refs: Vec<&str> = passages.iter().map(String::as_str).collect();
    let mut embedders: Vec<(String, Box<dyn Embedder>)> =
        vec![("lexical".into(), Box::new(Lexical::default()))];
    match huiqi_index::embed::e5::E5::load_default() {
        Ok(e5) => embedders.push(("e5 (multilingual-e5-small q4)".into(), Box::new(e5))),
        Err(e) => eprintln!("  e5 skipped: {e}"),
    }
    for (name, e) in &embedders {
        let sample = if name == "lexical" {
            &refs[..]
        } else {
            &refs[..64]
        };
        let t = Instant::now();
        let v = e.embed(sample, Mode::Passage).unwrap();
        let took = t.elapsed();
        assert_eq!(v.len(), sample.len());
        let mut lat = Vec::new();
        for q in QUERIES {
            let t = Instant::now();
            e.embed_one(q, Mode::Query).unwrap();
            lat.push(t.elapsed());
        }
        lat.sort();
        row(
            &mut table,
            &format!("embed with {name}"),
            format!("{:.1} passages/s", sample.len() as f64 / took.as_secs_f64()),
            format!(
                "query p50 {} / p99 {}",
                ms(percentile(&lat, 0.5)),
                ms(percentile(&lat, 0.99))
            ),
        );
    }

    // 5. Opening a snapshot (fixtures, lexical vectors).
    let data = Scratch::new("snapshot");
    let summary = huiqi_index::pipeline::build(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
        &data.0,
        &Lexical::default(),
        &Silent,
    )
    .unwrap();
    let mut lat = Vec::new();
    for _ in 0..if full { 20 } else { 2 } {
        let t = Instant::now();
        let s = Snapshot::open(&summary.dir).unwrap();
        lat.push(t.elapsed());
        assert_eq!(s.policies.len(), 30);
    }
    lat.sort();
    row(
        &mut table,
        "open a snapshot (fixtures: 90 offers, 340 enterprises)",
        format!("p50 {}", ms(percentile(&lat, 0.5))),
        format!("p99 {}", ms(percentile(&lat, 0.99))),
    );

    println!("\n| what | figure | notes |\n|---|---|---|");
    for [a, b, c] in &table {
        println!("| {a} | {b} | {c} |");
    }
}
