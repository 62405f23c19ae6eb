//! Snapshots: build, atomic publish, readers switching without a restart, one-record changes
//! that do not rebuild, and refusal of a foreign embedder.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use huiqi_index::Error;
use huiqi_index::embed::lexical::Lexical;
use huiqi_index::pipeline::{Change, build};
use huiqi_index::progress::Silent;
use huiqi_index::snapshot::{Store, current_name};
use huiqi_index::text::Filters;

/// A scratch folder removed when dropped.
pub(crate) struct Scratch(pub(crate) PathBuf);

impl Scratch {
    pub(crate) fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "huiqi-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
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

fn copy_tree(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        let to = dst.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &to);
        } else {
            std::fs::copy(&path, &to).unwrap();
        }
    }
}

/// A private copy of the fixtures, to change without touching the real ones.
pub(crate) fn fixtures_copy(scratch: &Scratch) -> PathBuf {
    let input = scratch.0.join("input");
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures"),
        &input,
    );
    input
}

fn product_json(id: &str, name: &str, description: &str) -> huiqi_engine::Product {
    serde_json::from_value(serde_json::json!({
        "id": id, "institution_id": "BANK-TEST", "institution": "测试银行", "institution_kind": "城市商业银行",
        "name": name, "kind": "信用贷", "guarantee": ["信用"],
        "amount": {"min": 100000, "max": 3000000}, "term_months": {"min": 6, "max": 36}, "rate_bp": {"min": 320, "max": 450},
        "regions": ["3301"], "eligibility": "years_since(established) >= 1 and not dishonest",
        "description": description, "status": "published", "version": 1, "effective_from": "2026-01-01"
    }))
    .unwrap()
}

#[test]
fn build_publishes_a_complete_snapshot_with_its_manifest() {
    let scratch = Scratch::new("snap-build");
    let data = scratch.0.join("data");
    let summary = build(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures"),
        &data,
        &Lexical::default(),
        &Silent,
    )
    .unwrap();
    let m = &summary.manifest;
    assert_eq!(m.version, 1);
    assert_eq!(
        (m.counts.products, m.counts.policies, m.counts.enterprises),
        (60, 30, 340)
    );
    assert_eq!(m.embedder.id, "lexical-ngram-v1@256");
    assert!(
        m.inputs
            .iter()
            .any(|f| f.path == "policies/P-B01.json" && f.sha256.len() == 64)
    );
    assert_eq!(current_name(&data).unwrap().as_deref(), Some("v000001"));
    let store = Store::open(&data).unwrap();
    let snap = store.current();
    assert_eq!(snap.products.len(), 60);
    assert_eq!(snap.vectors.len(), 90);
    assert!(snap.policy("P-B01").unwrap().rule.clauses.len() >= 6);
    let hits = snap.search("首贷贴息", &Filters::default(), 5).unwrap();
    assert!(hits.iter().any(|h| h.id == "P-B02"), "{hits:?}");
    // Semantic search with the same embedder works; the stages were all timed.
    assert!(
        !snap
            .semantic(&Lexical::default(), "知识产权质押融资", 3)
            .unwrap()
            .is_empty()
    );
    assert_eq!(summary.timings.len(), 6);
}

#[test]
fn bad_input_publishes_nothing_and_keeps_the_current_snapshot() {
    let scratch = Scratch::new("snap-bad");
    let input = fixtures_copy(&scratch);
    let data = scratch.0.join("data");
    build(&input, &data, &Lexical::default(), &Silent).unwrap();
    // Break two records in two files.
    let path = input.join("policies/P-B01.json");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("and tech_sme ", "and tech_smee ");
    std::fs::write(&path, text).unwrap();
    let path = input.join("products/bank-hanhai.json");
    let text =
        std::fs::read_to_string(&path)
            .unwrap()
            .replacen("\"min\": 10", "\"min\": 99999999910", 1);
    std::fs::write(&path, text).unwrap();
    match build(&input, &data, &Lexical::default(), &Silent) {
        Err(Error::Input(report)) => {
            let all: Vec<String> = report.errors().map(|i| i.to_string()).collect();
            assert!(
                all.iter()
                    .any(|e| e.contains("P-B01.json") && e.contains("did you mean `tech_sme`")),
                "{all:#?}"
            );
            assert!(
                all.iter()
                    .any(|e| e.contains("bank-hanhai.json") && e.contains("greater than max")),
                "{all:#?}"
            );
        }
        other => panic!("expected an input error, got {other:?}"),
    }
    assert_eq!(current_name(&data).unwrap().as_deref(), Some("v000001"));
    assert!(
        Store::open(&data)
            .unwrap()
            .current()
            .search("贴息", &Filters::default(), 3)
            .is_ok()
    );
}

#[test]
fn readers_switch_to_a_new_snapshot_without_a_restart() {
    let scratch = Scratch::new("snap-switch");
    let input = fixtures_copy(&scratch);
    let data = scratch.0.join("data");
    build(&input, &data, &Lexical::default(), &Silent).unwrap();
    let store = Store::open(&data).unwrap();
    let old = store.current();
    assert!(!store.refresh().unwrap(), "nothing new yet");
    let product = product_json(
        "TEST-NEW-01",
        "西湖数智贷",
        "面向杭州数字经济企业的纯信用流动资金贷款，随借随还。",
    );
    std::fs::write(
        input.join("products/bank-test.json"),
        serde_json::to_string(&vec![product]).unwrap(),
    )
    .unwrap();
    build(&input, &data, &Lexical::default(), &Silent).unwrap();
    assert!(store.refresh().unwrap());
    let new = store.current();
    assert_eq!(new.manifest.version, 2);
    assert_eq!(
        new.search("西湖数智贷", &Filters::default(), 3).unwrap()[0].id,
        "TEST-NEW-01"
    );
    // A reader still holding the old snapshot keeps a consistent view.
    assert!(old.product("TEST-NEW-01").is_none());
    assert!(old.search("贴息", &Filters::default(), 3).is_ok());
}

#[test]
fn one_record_changes_make_a_new_version_without_rebuilding() {
    let scratch = Scratch::new("snap-change");
    let data = scratch.0.join("data");
    let embedder = Lexical::default();
    build(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures"),
        &data,
        &embedder,
        &Silent,
    )
    .unwrap();
    let store = Store::open(&data).unwrap();
    let v1 = store.current();

    let product = product_json(
        "TEST-NEW-01",
        "西湖数智贷",
        "面向杭州数字经济企业的纯信用流动资金贷款，随借随还。",
    );
    let m = huiqi_index::pipeline::apply(
        &data,
        Change::UpsertProduct(Box::new(product.clone())),
        &embedder,
    )
    .unwrap();
    assert_eq!((m.version, m.parent, m.counts.products), (2, Some(1), 61));
    assert_eq!(m.change.as_deref(), Some("upsert product TEST-NEW-01"));
    assert!(store.refresh().unwrap());
    let v2 = store.current();
    assert_eq!(
        v2.search("西湖数智贷", &Filters::default(), 1).unwrap()[0].id,
        "TEST-NEW-01"
    );
    assert!(v2.vectors.contains("TEST-NEW-01"));
    assert!(v2.product("TEST-NEW-01").is_some());
    // The text index's existing segment files are the same files (hard links), not rewritten.
    let shared = shared_files(&v1.dir.join("text"), &v2.dir.join("text"));
    assert!(shared > 0, "no segment file was shared between versions");

    // Updating replaces the old text; retiring removes it everywhere.
    let renamed = huiqi_engine::Product {
        name: "钱江快易通".into(),
        version: 2,
        ..product
    };
    huiqi_index::pipeline::apply(&data, Change::UpsertProduct(Box::new(renamed)), &embedder)
        .unwrap();
    huiqi_index::pipeline::apply(&data, Change::Retire("P-B01".into()), &embedder).unwrap();
    store.refresh().unwrap();
    let v4 = store.current();
    assert_eq!(v4.manifest.version, 4);
    assert!(
        v4.search("西湖数智贷", &Filters::default(), 5)
            .unwrap()
            .iter()
            .all(|h| h.id != "TEST-NEW-01")
    );
    assert_eq!(
        v4.search("钱江快易通", &Filters::default(), 1).unwrap()[0].id,
        "TEST-NEW-01"
    );
    assert!(v4.policy("P-B01").is_none() && !v4.vectors.contains("P-B01"));
    assert!(
        v4.search("南山区 科技型中小企业 贴息", &Filters::default(), 10)
            .unwrap()
            .iter()
            .all(|h| h.id != "P-B01")
    );
    // The first snapshot, still held, is intact.
    assert!(v1.policy("P-B01").is_some());
    assert!(
        v1.search("南山区 科技型中小企业 贴息", &Filters::default(), 10)
            .unwrap()
            .iter()
            .any(|h| h.id == "P-B01")
    );

    // Invalid changes are refused and publish nothing.
    let bad = product_json("TEST-BAD", "坏产品", "说明").clone();
    let bad = huiqi_engine::Product {
        eligibility: huiqi_engine::model::RuleSpec::Text("revenue >= 4%".into()),
        ..bad
    };
    assert!(matches!(
        huiqi_index::pipeline::apply(&data, Change::UpsertProduct(Box::new(bad)), &embedder),
        Err(Error::Input(_))
    ));
    assert!(matches!(
        huiqi_index::pipeline::apply(&data, Change::Retire("NOPE".into()), &embedder),
        Err(Error::Invalid(_))
    ));
    assert_eq!(current_name(&data).unwrap().as_deref(), Some("v000004"));
}

fn shared_files(a: &Path, b: &Path) -> usize {
    let inodes = |dir: &Path| -> Vec<u64> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().ino())
            .collect()
    };
    let (a, b) = (inodes(a), inodes(b));
    a.iter().filter(|i| b.contains(i)).count()
}

#[test]
fn a_snapshot_refuses_another_embedder() {
    let scratch = Scratch::new("snap-embedder");
    let data = scratch.0.join("data");
    build(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures"),
        &data,
        &Lexical::new(128),
        &Silent,
    )
    .unwrap();
    let snap = Store::open(&data).unwrap().current();
    let err = snap.semantic(&Lexical::default(), "贴息", 3).unwrap_err();
    assert!(
        err.to_string().contains("lexical-ngram-v1@128") && err.is_user_error(),
        "{err}"
    );
    let err =
        huiqi_index::pipeline::apply(&data, Change::Retire("P-B01".into()), &Lexical::default())
            .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err}");
    assert!(huiqi_index::embed::for_snapshot(&snap.manifest.embedder, None).is_ok());
}

#[test]
fn an_empty_data_folder_says_how_to_build() {
    let scratch = Scratch::new("snap-empty");
    let err = Store::open(&scratch.0).unwrap_err();
    assert!(err.to_string().contains("huiqi index build"), "{err}");
}

#[test]
fn e5_semantic_search_finds_meaning_without_shared_words() {
    let e5 = huiqi_index::embed::e5::E5::load_default().unwrap_or_else(|e| {
        panic!("the e5 embedder is required here: {e} (scripts/test fetches it)")
    });
    let scratch = Scratch::new("snap-e5");
    let data = scratch.0.join("data");
    build(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures"),
        &data,
        &e5,
        &Silent,
    )
    .unwrap();
    let snap = Store::open(&data).unwrap().current();
    assert!(
        snap.manifest
            .embedder
            .id
            .starts_with("multilingual-e5-small")
    );
    let top_product = |query: &str| -> huiqi_engine::Product {
        let hits = snap.semantic(&e5, query, snap.vectors.len()).unwrap();
        hits.iter()
            .filter_map(|(id, _)| snap.product(id))
            .find(|p| p.item.status == huiqi_engine::model::Status::Published)
            .map(|p| p.item.clone())
            .unwrap()
    };
    // "The account is empty and wages are due at month end": no word in common with the answer,
    // a working-capital credit loan.
    let query = "账上没钱了，月底发不出工资";
    let p = top_product(query);
    assert_eq!(
        p.kind,
        huiqi_engine::model::ProductKind::CreditLoan,
        "{} {}",
        p.id,
        p.name
    );
    let words = huiqi_index::text::query_terms(query);
    let text = format!("{}{}", p.name, p.description);
    assert!(
        words.iter().all(|w| !text.contains(w.as_str())),
        "{words:?} appear in {text}"
    );
    // "Won a government tender, need to advance money before work starts" → 政采贷.
    assert_eq!(
        top_product("在政府招标中了标，开工需要先垫资").kind,
        huiqi_engine::model::ProductKind::ProcurementLoan
    );
}
