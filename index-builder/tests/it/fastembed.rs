//! The fastembed embedder on a tiny ONNX model of our own (`tests/data/tiny-embedder`, made by
//! `scripts/make-tiny-embedder.py`), and its errors, which never panic.
//!
//! These tests need ONNX Runtime: run `eval "$(scripts/fetch-onnxruntime)"` first, which exports
//! `ORT_DYLIB_PATH`. Without it the tests that load a model fail and say so.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use huiqi_index::embed::fastembed::{Fastembed, runtime_library_from};
use huiqi_index::embed::{Choice, EmbedError, Embedder, Mode, cosine, for_snapshot, select};

const MODEL_FILES: [&str; 5] = [
    "model.onnx",
    "tokenizer.json",
    "config.json",
    "special_tokens_map.json",
    "tokenizer_config.json",
];

/// Set in a child process of this test binary, see [`in_child`].
const CHILD: &str = "HUIQI_FASTEMBED_TEST_CHILD";

fn tiny_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tiny-embedder")
}

/// Fails, saying how to get it, when ONNX Runtime is not configured: never a silent skip.
fn require_runtime() {
    let set = std::env::var_os("ORT_DYLIB_PATH").is_some_and(|v| !v.is_empty());
    assert!(
        set,
        "ORT_DYLIB_PATH is not set: the fastembed tests need ONNX Runtime >= 1.24. From the \
         workspace root run\n    eval \"$(scripts/fetch-onnxruntime)\"\nthen run the tests again"
    );
}

/// The tiny model, loaded once for the tests that only embed.
fn tiny() -> &'static Fastembed {
    static MODEL: OnceLock<Fastembed> = OnceLock::new();
    MODEL.get_or_init(|| {
        require_runtime();
        Fastembed::load(&tiny_dir()).unwrap_or_else(|e| panic!("the tiny model loads: {e}"))
    })
}

/// A fresh copy of the tiny model folder without the files `leave_out`, plus `extra` files.
fn model_copy(name: &str, leave_out: &[&str], extra: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir()
        .join(format!("huiqi-fastembed-{}", std::process::id()))
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for file in MODEL_FILES.iter().filter(|f| !leave_out.contains(f)) {
        std::fs::copy(tiny_dir().join(file), dir.join(file)).unwrap();
    }
    for (file, content) in extra {
        std::fs::write(dir.join(file), content).unwrap();
    }
    dir
}

fn embed(model: &Fastembed, text: &str) -> Vec<f32> {
    model.embed_one(text, Mode::Passage).unwrap()
}

#[test]
fn loads_the_tiny_model_and_reports_its_dim() {
    let model = tiny();
    assert_eq!(model.info().dim, 32);
    assert!(
        model.info().id.starts_with("fastembed:tiny-embedder@"),
        "{}",
        model.info().id
    );
}

#[test]
fn embeds_chinese_texts_into_unit_vectors() {
    let texts = [
        "科技型中小企业贷款贴息",
        "高新技术企业研发费用补贴",
        "稳岗就业补贴",
    ];
    let vectors = tiny().embed(&texts, Mode::Passage).unwrap();
    assert_eq!(vectors.len(), texts.len());
    for v in &vectors {
        assert_eq!(v.len(), 32);
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
    }
}

#[test]
fn is_deterministic_and_independent_of_the_batch() {
    let model = tiny();
    let alone = embed(model, "企业研发费用加计扣除");
    assert_eq!(alone, embed(model, "企业研发费用加计扣除"));
    // Batched with a longer text, this one is padded: padding must not change its vector.
    let batch = model
        .embed(
            &["企业研发费用加计扣除", "科技型中小企业贷款贴息政策实施细则"],
            Mode::Passage,
        )
        .unwrap();
    assert!(cosine(&alone, &batch[0]) > 0.9999);
}

#[test]
fn texts_sharing_characters_are_closer_than_unrelated_ones() {
    let model = tiny();
    let query = embed(model, "科技企业贷款贴息");
    let similar = embed(model, "科技型中小企业贷款贴息补贴");
    let unrelated = embed(model, "农村养老保险缴费");
    let (near, far) = (cosine(&query, &similar), cosine(&query, &unrelated));
    assert!(near > 0.6, "near {near}");
    assert!(near > far + 0.5, "near {near}, far {far}");
}

#[test]
fn the_query_prefix_of_the_settings_is_used() {
    require_runtime();
    let dir = model_copy(
        "prefix",
        &[],
        &[("huiqi-embedder.json", r#"{"query_prefix": "科技"}"#)],
    );
    let model = Fastembed::load(&dir).unwrap();
    let query = model.embed_one("贷款", Mode::Query).unwrap();
    assert!(cosine(&query, &embed(&model, "科技贷款")) > 0.9999);
    assert!(cosine(&query, &embed(&model, "贷款")) < 0.99);
}

#[test]
fn a_bad_pooling_setting_is_an_error() {
    let dir = model_copy(
        "pooling",
        &[],
        &[("huiqi-embedder.json", r#"{"pooling": "max"}"#)],
    );
    let err = Fastembed::load(&dir).unwrap_err();
    assert!(
        matches!(&err, EmbedError::Failed(m) if m.contains("pooling")),
        "{err}"
    );
}

#[test]
fn a_snapshot_finds_its_fastembed_model_again() {
    let info = tiny().info().clone();
    let (embedder, warning) = select(&Choice::Fastembed(tiny_dir())).unwrap();
    assert_eq!(embedder.info(), &info);
    assert!(warning.is_none());
    let again = for_snapshot(&info, Some(&tiny_dir())).unwrap();
    assert_eq!(
        again.embed_one("贷款", Mode::Passage).unwrap(),
        embed(tiny(), "贷款")
    );
}

/// Asserts `err` is [`EmbedError::Missing`] of `what`, and its message names `file`.
fn assert_missing(err: &EmbedError, what: &str, file: &str) {
    match err {
        EmbedError::Missing { what: w, path, .. } => {
            assert_eq!(*w, what, "{err}");
            assert!(path.contains(file), "{err}");
            assert!(err.to_string().contains(file), "{err}");
        }
        other => panic!("expected Missing {what}, got {other:?}"),
    }
}

#[test]
fn a_missing_model_folder_is_named() {
    let dir = std::env::temp_dir().join("huiqi-fastembed-no-such-model");
    let err = Fastembed::load(&dir).unwrap_err();
    assert_missing(&err, "the model folder", "huiqi-fastembed-no-such-model");
}

#[test]
fn a_missing_model_onnx_is_named() {
    let dir = model_copy("no-onnx", &["model.onnx"], &[]);
    assert_missing(
        &Fastembed::load(&dir).unwrap_err(),
        "model.onnx",
        "model.onnx",
    );
}

#[test]
fn a_missing_tokenizer_json_is_named() {
    let dir = model_copy("no-tokenizer", &["tokenizer.json"], &[]);
    let err = Fastembed::load(&dir).unwrap_err();
    assert_missing(&err, "tokenizer.json", "tokenizer.json");
}

#[test]
fn a_missing_runtime_library_is_named_with_how_to_get_it() {
    for unset in [None, Some(OsString::new())] {
        let err = runtime_library_from(unset).unwrap_err();
        assert_missing(&err, "the ONNX Runtime library", "ORT_DYLIB_PATH");
        assert!(
            err.to_string().contains("scripts/fetch-onnxruntime"),
            "{err}"
        );
    }
    let err = runtime_library_from(Some("/no/such/libonnxruntime.so.1.24.4".into())).unwrap_err();
    assert_missing(
        &err,
        "the ONNX Runtime library",
        "/no/such/libonnxruntime.so.1.24.4",
    );
    let here = tiny_dir().join("model.onnx");
    assert_eq!(
        runtime_library_from(Some(here.clone().into())).unwrap(),
        here
    );
}

/// Runs the test `name` of this binary in a child process with `ORT_DYLIB_PATH` set to
/// `runtime` (removed when `None`) and [`CHILD`] set, and checks it passed: process-wide
/// environment cannot be changed safely inside a multi-threaded test binary.
fn in_child(name: &str, runtime: Option<&Path>) {
    let mut child = Command::new(std::env::current_exe().unwrap());
    child
        .args(["--exact", name, "--test-threads=1"])
        .env(CHILD, "1");
    match runtime {
        Some(path) => child.env("ORT_DYLIB_PATH", path),
        None => child.env_remove("ORT_DYLIB_PATH"),
    };
    let out = child.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{name} in a child process: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn loading_without_the_runtime_is_an_error_not_a_panic() {
    if std::env::var_os(CHILD).is_none() {
        return in_child(
            "fastembed::loading_without_the_runtime_is_an_error_not_a_panic",
            None,
        );
    }
    let err = Fastembed::load(&tiny_dir()).unwrap_err();
    assert_missing(&err, "the ONNX Runtime library", "ORT_DYLIB_PATH");
    assert!(
        err.to_string().contains("scripts/fetch-onnxruntime"),
        "{err}"
    );
}

#[test]
fn a_runtime_that_is_not_onnx_runtime_is_an_error_not_a_panic() {
    if std::env::var_os(CHILD).is_none() {
        let not_a_library = tiny_dir().join("config.json");
        return in_child(
            "fastembed::a_runtime_that_is_not_onnx_runtime_is_an_error_not_a_panic",
            Some(&not_a_library),
        );
    }
    let err = Fastembed::load(&tiny_dir()).unwrap_err();
    assert!(
        matches!(&err, EmbedError::Failed(m) if m.contains("config.json") && m.contains("ONNX Runtime")),
        "{err}"
    );
    // Still an error, not a panic, the second time.
    assert!(Fastembed::load(&tiny_dir()).is_err());
}
