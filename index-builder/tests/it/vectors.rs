//! The vector index: HNSW checked against brute-force cosine, incremental changes, persistence.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use huiqi_engine::synthetic::SplitMix;
use huiqi_index::Error;
use huiqi_index::vectors::{VectorIndex, brute_force};
use proptest::prelude::*;

/// A uniformly random unit vector: normalised Gaussian components (Box–Muller).
fn unit_vector(rng: &mut SplitMix, dim: usize) -> Vec<f32> {
    let mut v: Vec<f32> = (0..dim)
        .map(|_| {
            let u = 1.0 - rng.unit(); // (0, 1]: ln is finite
            let theta = std::f64::consts::TAU * rng.unit();
            ((-2.0 * u.ln()).sqrt() * theta.cos()) as f32
        })
        .collect();
    huiqi_index::embed::normalize(&mut v);
    v
}

fn items(seed: u64, n: usize, dim: usize) -> Vec<(String, Vec<f32>)> {
    let mut rng = SplitMix::new(seed);
    (0..n)
        .map(|i| (format!("item-{i:05}"), unit_vector(&mut rng, dim)))
        .collect()
}

fn ids(hits: &[(String, f32)]) -> Vec<&str> {
    hits.iter().map(|(id, _)| id.as_str()).collect()
}

/// A fresh, empty folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("huiqi-vectors-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

proptest! {
    // Each case builds an index of 3,000 vectors: a few cases, and little shrinking.
    #![proptest_config(ProptestConfig {
        cases: 4,
        max_shrink_iters: 4,
        ..ProptestConfig::default()
    })]

    #[test]
    fn hnsw_recall_against_brute_force(seed in any::<u64>(), dim in 64usize..=384) {
        const K: usize = 10;
        let data = items(seed, 3_000, dim);
        let index = VectorIndex::build(dim, data.clone()).unwrap();
        prop_assert_eq!(index.len(), 3_000);
        prop_assert_eq!(index.dim(), dim);

        let mut rng = SplitMix::new(seed ^ 0x5EED);
        let mut recall = 0.0;
        for _ in 0..50 {
            let query = unit_vector(&mut rng, dim);
            let fast = index.search(&query, K);
            let exact = brute_force(&data, &query, K);
            prop_assert_eq!(fast.len(), K);
            prop_assert!(fast.windows(2).all(|w| w[0].1 >= w[1].1), "not best first: {:?}", fast);
            let truth: HashSet<&str> = ids(&exact).into_iter().collect();
            let hits = fast.iter().filter(|(id, _)| truth.contains(id.as_str())).count();
            recall += hits as f64 / K as f64;
            // The same id has the same cosine in both.
            for (id, sim) in &fast {
                let v = &data.iter().find(|(i, _)| i == id).unwrap().1;
                let reference = brute_force(&[(id.clone(), v.clone())], &query, 1)[0].1;
                prop_assert!((sim - reference).abs() < 1e-4, "{}: {} vs {}", id, sim, reference);
            }
            for (id, sim) in &exact {
                if let Some((_, fast_sim)) = fast.iter().find(|(i, _)| i == id) {
                    prop_assert!((sim - fast_sim).abs() < 1e-4, "{}: {} vs {}", id, sim, fast_sim);
                }
            }
        }
        let recall = recall / 50.0;
        prop_assert!(recall >= 0.95, "recall@10 {recall:.3} for dimension {dim}");
    }
}

#[test]
fn brute_force_is_exact_cosine() {
    let data = vec![
        ("a".to_string(), vec![1.0, 0.0]),
        ("b".to_string(), vec![0.0, 2.0]),
        ("c".to_string(), vec![3.0, 3.0]),
        ("d".to_string(), vec![-1.0, 0.0]),
    ];
    let hits = brute_force(&data, &[1.0, 0.0], 3);
    assert_eq!(ids(&hits), ["a", "c", "b"]);
    assert!((hits[1].1 - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
    assert!(hits[2].1.abs() < 1e-6);
    assert_eq!(brute_force(&data, &[1.0, 0.0], 10).len(), 4);
    assert!(brute_force(&data, &[0.0, 0.0], 10).is_empty());
}

#[test]
fn upsert_moves_an_id_to_its_new_vector() {
    let data = items(1, 300, 32);
    let mut index = VectorIndex::build(32, data.clone()).unwrap();
    let old = data[7].1.clone();
    let new = data[200].1.iter().map(|x| -x).collect::<Vec<f32>>();

    index.upsert("item-00007".into(), new.clone()).unwrap();
    assert_eq!(index.len(), 300);
    let top = index.search(&new, 1);
    assert_eq!(top[0].0, "item-00007");
    assert!((top[0].1 - 1.0).abs() < 1e-5);
    // Its old vector no longer finds it.
    let near_old = index.search(&old, 300);
    let (_, sim) = near_old.iter().find(|(id, _)| id == "item-00007").unwrap();
    assert!((sim - brute_force(&[("x".into(), new.clone())], &old, 1)[0].1).abs() < 1e-4);
    assert_eq!(
        near_old.iter().filter(|(id, _)| id == "item-00007").count(),
        1
    );

    // A new id adds an entry.
    index.upsert("policy-new".into(), old.clone()).unwrap();
    assert_eq!(index.len(), 301);
    assert_eq!(index.search(&old, 1)[0].0, "policy-new");
    assert!(index.contains("policy-new"));
}

#[test]
fn retire_removes_an_id_from_results() {
    let data = items(2, 300, 32);
    let mut index = VectorIndex::build(32, data.clone()).unwrap();
    let query = data[42].1.clone();
    assert_eq!(index.search(&query, 1)[0].0, "item-00042");

    assert!(index.retire("item-00042"));
    assert!(!index.retire("item-00042"));
    assert!(!index.retire("no-such-id"));
    assert_eq!(index.len(), 299);
    assert!(!index.contains("item-00042"));
    let hits = index.search(&query, 300);
    assert_eq!(
        hits.len(),
        299,
        "k larger than the index returns every live entry"
    );
    assert!(hits.iter().all(|(id, _)| id != "item-00042"));

    // Retired then upserted again: back, once.
    index.upsert("item-00042".into(), query.clone()).unwrap();
    assert_eq!(index.len(), 300);
    assert_eq!(index.search(&query, 1)[0].0, "item-00042");
}

#[test]
fn search_after_many_retirements_returns_k_live_results() {
    let data = items(3, 2_000, 48);
    let mut index = VectorIndex::build(48, data.clone()).unwrap();
    let mut rng = SplitMix::new(33);
    let queries: Vec<Vec<f32>> = (0..10).map(|_| unit_vector(&mut rng, 48)).collect();

    // Retire a growing share (each step's survivors are a subset of the last's), through the
    // point where the graph gets compacted.
    for (step, keep_every) in [(1, 2), (2, 6), (3, 30), (4, 180)] {
        let live: Vec<(String, Vec<f32>)> = data
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                if i % keep_every == 0 {
                    Some(item.clone())
                } else {
                    index.retire(&item.0);
                    None
                }
            })
            .collect();
        assert_eq!(index.len(), live.len(), "step {step}");
        let live_ids: HashSet<&str> = live.iter().map(|(id, _)| id.as_str()).collect();
        let mut found = 0;
        for query in &queries {
            let hits = index.search(query, 10);
            assert_eq!(hits.len(), 10.min(live.len()), "step {step}");
            assert!(
                hits.iter().all(|(id, _)| live_ids.contains(id.as_str())),
                "step {step}"
            );
            let truth = brute_force(&live, query, 10);
            found += hits
                .iter()
                .filter(|h| truth.iter().any(|t| t.0 == h.0))
                .count();
        }
        assert!(found >= 95, "step {step}: recall {found}/100");
    }
    assert_eq!(index.len(), 12);
    let all = index.search(&queries[0], 1_000);
    assert_eq!(all.len(), 12);
}

#[test]
fn save_then_load_gives_identical_results() {
    let dir = scratch("roundtrip");
    let data = items(4, 400, 32);
    let mut index = VectorIndex::build(32, data.clone()).unwrap();
    for i in 0..20 {
        index.retire(&format!("item-{i:05}"));
    }
    index
        .upsert("item-00100".into(), data[300].1.clone())
        .unwrap();
    index.upsert("extra".into(), data[0].1.clone()).unwrap();
    index.save(&dir).unwrap();

    let loaded = VectorIndex::load(&dir).unwrap();
    assert_eq!(loaded.len(), index.len());
    assert_eq!(loaded.dim(), 32);
    assert!(!loaded.contains("item-00003"));
    let mut rng = SplitMix::new(44);
    for _ in 0..20 {
        let query = unit_vector(&mut rng, 32);
        assert_eq!(loaded.search(&query, 10), index.search(&query, 10));
    }
    assert_eq!(
        loaded.search(&data[300].1, 2),
        index.search(&data[300].1, 2)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_empty_index_searches_saves_and_loads() {
    let dir = scratch("empty");
    let index = VectorIndex::build(8, Vec::new()).unwrap();
    assert!(index.is_empty());
    assert!(index.search(&[1.0; 8], 5).is_empty());
    index.save(&dir).unwrap();
    let loaded = VectorIndex::load(&dir).unwrap();
    assert!(loaded.is_empty());
    assert_eq!(loaded.dim(), 8);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A saved index of 50 points, 5 of them retired, in a fresh folder.
fn saved(name: &str) -> PathBuf {
    let dir = scratch(name);
    let mut index = VectorIndex::build(16, items(5, 50, 16)).unwrap();
    for i in [3, 9, 17, 30, 41] {
        index.retire(&format!("item-{i:05}"));
    }
    index.save(&dir).unwrap();
    dir
}

/// The files a saved, non-empty index consists of.
const SAVED_FILES: [&str; 5] = [
    "header.json",
    "ids.json",
    "tombstones.json",
    "graph.hnsw.graph",
    "graph.hnsw.data",
];

fn assert_snapshot_error(dir: &Path, file: &str) -> String {
    match VectorIndex::load(dir) {
        Err(Error::Snapshot { path, reason }) => {
            assert!(
                path.ends_with(file),
                "{} for {file}: {reason}",
                path.display()
            );
            reason
        }
        other => panic!("expected a snapshot error for {file}, got {other:?}"),
    }
}

#[test]
fn damaged_files_are_errors_not_panics() {
    for file in SAVED_FILES {
        let dir = saved("truncated");
        let bytes = std::fs::read(dir.join(file)).unwrap();
        std::fs::write(dir.join(file), &bytes[..bytes.len() - bytes.len().min(7)]).unwrap();
        assert_snapshot_error(&dir, file);

        std::fs::write(dir.join(file), b"").unwrap();
        assert_snapshot_error(&dir, file);
        std::fs::remove_dir_all(&dir).unwrap();
    }
    for file in &SAVED_FILES[1..] {
        // Same length, one byte changed (the header has no checksum of its own: its numbers
        // are checked against the other files).
        for at in [0.1, 0.5, 0.9] {
            let dir = saved("flipped");
            let mut bytes = std::fs::read(dir.join(file)).unwrap();
            let at = (bytes.len() as f64 * at) as usize;
            bytes[at] ^= 0x20;
            std::fs::write(dir.join(file), &bytes).unwrap();
            assert_snapshot_error(&dir, file);
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }

    // A header that lies about the counts.
    let dir = saved("lying");
    let header = std::fs::read_to_string(dir.join("header.json")).unwrap();
    for (from, to) in [
        ("\"live\": 45", "\"live\": 46"),
        ("\"dim\": 16", "\"dim\": 15"),
    ] {
        assert!(header.contains(from), "{header}");
        std::fs::write(dir.join("header.json"), header.replace(from, to)).unwrap();
        assert!(matches!(
            VectorIndex::load(&dir),
            Err(Error::Snapshot { .. })
        ));
    }

    // Missing: an I/O error naming the file.
    std::fs::write(dir.join("header.json"), &header).unwrap();
    for file in ["ids.json", "graph.hnsw.data"] {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        std::fs::remove_file(dir.join(file)).unwrap();
        assert!(
            matches!(VectorIndex::load(&dir), Err(Error::Io { path, .. }) if path.ends_with(file))
        );
        std::fs::write(dir.join(file), bytes).unwrap();
    }
    assert_eq!(VectorIndex::load(&dir).unwrap().len(), 45);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn other_format_versions_and_machines_are_refused() {
    let dir = saved("version");
    let header = std::fs::read_to_string(dir.join("header.json")).unwrap();
    let refused = |from: &str, to: &str| {
        assert!(header.contains(from), "{header}");
        std::fs::write(dir.join("header.json"), header.replace(from, to)).unwrap();
        assert_snapshot_error(&dir, "header.json")
    };
    // Version 1 had raw vectors and no graph: refused with the way out.
    let reason = refused("\"version\": 2", "\"version\": 1");
    assert!(
        reason.contains("version 1") && reason.contains("rebuild"),
        "{reason}"
    );
    let reason = refused("\"version\": 2", "\"version\": 99");
    assert!(reason.contains("version 99"), "{reason}");
    refused("\"format\": \"huiqi-vectors\"", "\"format\": \"other\"");
    // hnsw_rs's dump is in native byte order and usize width.
    let native = if cfg!(target_endian = "little") {
        "little"
    } else {
        "big"
    };
    let reason = refused(
        &format!("\"byte_order\": \"{native}\""),
        "\"byte_order\": \"middle\"",
    );
    assert!(reason.contains("middle-endian"), "{reason}");
    refused(
        &format!("\"usize_bytes\": {}", size_of::<usize>()),
        "\"usize_bytes\": 2",
    );

    // A version-1 folder as that format wrote it: refused before its missing files matter.
    let v1 = scratch("version-1");
    std::fs::write(
        v1.join("header.json"),
        r#"{"format": "huiqi-vectors", "version": 1, "metric": "cosine", "dim": 16, "count": 0,
            "ids_sha256": "", "vectors_sha256": ""}"#,
    )
    .unwrap();
    let reason = assert_snapshot_error(&v1, "header.json");
    assert!(reason.contains("rebuild"), "{reason}");
    std::fs::remove_dir_all(&v1).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_reloaded_graph_answers_exactly_as_the_saved_one() {
    const DIM: usize = 96;
    let dir = scratch("exact");
    let data = items(8, 3_000, DIM);
    let mut index = VectorIndex::build(DIM, data.clone()).unwrap();
    for i in (0..3_000).step_by(37) {
        index.retire(&format!("item-{i:05}"));
    }
    let mut rng = SplitMix::new(88);
    for i in (5..3_000).step_by(101) {
        index
            .upsert(format!("item-{i:05}"), unit_vector(&mut rng, DIM))
            .unwrap();
    }
    index.save(&dir).unwrap();
    let loaded = VectorIndex::load(&dir).unwrap();
    assert_eq!(loaded.len(), index.len());

    let mut rng = SplitMix::new(89);
    for _ in 0..100 {
        let query = unit_vector(&mut rng, DIM);
        assert_eq!(loaded.search(&query, 10), index.search(&query, 10));
    }
    for _ in 0..5 {
        let query = unit_vector(&mut rng, DIM);
        assert_eq!(loaded.search(&query, 200), index.search(&query, 200));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The size and bytes of every file in `dir`, by name.
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn load_upsert_save_load_keeps_the_change() {
    let first = saved("change-1");
    let before = contents(&first);
    let data = items(5, 50, 16);
    let fresh = unit_vector(&mut SplitMix::new(55), 16);
    let moved: Vec<f32> = data[20].1.iter().map(|x| -x).collect();

    let mut index = VectorIndex::load(&first).unwrap();
    index.upsert("policy-new".into(), fresh.clone()).unwrap();
    index.upsert("item-00020".into(), moved.clone()).unwrap();
    assert!(index.retire("item-00021"));
    let second = scratch("change-2");
    index.save(&second).unwrap();

    let reloaded = VectorIndex::load(&second).unwrap();
    assert_eq!(reloaded.len(), 45);
    assert!(reloaded.contains("policy-new") && !reloaded.contains("item-00021"));
    assert_eq!(reloaded.search(&fresh, 1)[0].0, "policy-new");
    assert_eq!(reloaded.search(&moved, 1)[0].0, "item-00020");
    let near_old = reloaded.search(&data[20].1, 45);
    assert_eq!(near_old.len(), 45);
    assert_eq!(near_old.last().unwrap().0, "item-00020");
    let mut rng = SplitMix::new(56);
    for _ in 0..20 {
        let query = unit_vector(&mut rng, 16);
        assert_eq!(reloaded.search(&query, 10), index.search(&query, 10));
    }

    // The first folder is untouched and still holds the old state.
    assert_eq!(contents(&first), before);
    let old = VectorIndex::load(&first).unwrap();
    assert_eq!(old.len(), 45);
    assert!(!old.contains("policy-new") && old.contains("item-00021"));
    std::fs::remove_dir_all(&first).unwrap();
    std::fs::remove_dir_all(&second).unwrap();
}

#[test]
fn saving_never_writes_through_a_shared_file() {
    // A folder whose files are hard links to another's, as a snapshot copy would be.
    let original = saved("shared-1");
    let before = contents(&original);
    let copy = scratch("shared-2");
    for (name, _) in &before {
        std::fs::hard_link(original.join(name), copy.join(name)).unwrap();
    }
    let mut index = VectorIndex::load(&copy).unwrap();
    index.retire("item-00000");
    index.save(&copy).unwrap();

    assert_eq!(contents(&original), before);
    assert_eq!(VectorIndex::load(&original).unwrap().len(), 45);
    assert_eq!(VectorIndex::load(&copy).unwrap().len(), 44);
    std::fs::remove_dir_all(&original).unwrap();
    std::fs::remove_dir_all(&copy).unwrap();
}

#[test]
fn saving_into_a_missing_folder_is_an_io_error() {
    let index = VectorIndex::build(16, items(5, 10, 16)).unwrap();
    let missing = std::env::temp_dir().join(format!(
        "huiqi-vectors-missing-{}/deeper",
        std::process::id()
    ));
    assert!(matches!(index.save(&missing), Err(Error::Io { .. })));
}

#[test]
fn bad_vectors_are_rejected_with_their_id() {
    let mut data = items(6, 20, 16);
    data[13] = ("policy-ZJ-2024-017".into(), vec![0.5; 15]);
    let Err(Error::Vectors(message)) = VectorIndex::build(16, data) else {
        panic!("a vector of the wrong dimension must be rejected");
    };
    assert!(message.contains("policy-ZJ-2024-017"), "{message}");
    assert!(
        message.contains("15") && message.contains("16"),
        "{message}"
    );

    let mut index = VectorIndex::build(16, items(6, 20, 16)).unwrap();
    let Err(Error::Vectors(message)) = index.upsert("product-X".into(), vec![0.1; 17]) else {
        panic!("upsert of the wrong dimension must be rejected");
    };
    assert!(message.contains("product-X"), "{message}");
    assert_eq!(index.len(), 20);
    assert!(!index.contains("product-X"));

    for bad in [vec![0.0; 16], {
        let mut v = vec![0.25; 16];
        v[3] = f32::NAN;
        v
    }] {
        let err = index.upsert("product-Y".into(), bad).unwrap_err();
        assert!(
            matches!(&err, Error::Vectors(m) if m.contains("product-Y")),
            "{err}"
        );
    }

    let mut twice = items(6, 5, 16);
    twice[4].0 = twice[1].0.clone();
    let err = VectorIndex::build(16, twice).unwrap_err();
    assert!(
        matches!(&err, Error::Vectors(m) if m.contains("item-00001")),
        "{err}"
    );

    // A query of the wrong dimension matches nothing rather than panicking.
    assert!(index.search(&[0.1; 8], 5).is_empty());
}

#[test]
fn the_index_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<VectorIndex>();
}
