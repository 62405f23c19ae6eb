//! Any local ONNX sentence-embedding model through fastembed (ONNX Runtime loaded at run time).
//!
//! A deployment supplies a model folder (e.g. bge-small-zh-v1.5 exported to ONNX) holding
//! `model.onnx` (or `onnx/model.onnx`), `tokenizer.json`, `config.json`,
//! `special_tokens_map.json` and `tokenizer_config.json`, and optionally `huiqi-embedder.json`:
//! `{"query_prefix": "为这个句子生成表示以用于检索相关文章：", "passage_prefix": "", "pooling": "cls"}`.
//! The ONNX Runtime shared library, version 1.24 or newer, comes from `ORT_DYLIB_PATH` (the PyPI
//! `onnxruntime` wheel has it as `onnxruntime/capi/libonnxruntime.so.*`; `scripts/fetch-onnxruntime`
//! fetches it). ort panics when it cannot load that library, so every file is checked here first
//! and a missing one is an error, and a library ort refuses (not ONNX Runtime, or too old) is
//! caught as an error too: loading never panics.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use fastembed::{
    InitOptionsUserDefined, Pooling, TextEmbedding, TokenizerFiles, UserDefinedEmbeddingModel,
};

use super::{EmbedError, Embedder, EmbedderInfo, Mode};

/// Optional settings beside the model (`huiqi-embedder.json`).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    #[serde(default)]
    query_prefix: String,
    #[serde(default)]
    passage_prefix: String,
    /// `mean` (default) or `cls`.
    #[serde(default)]
    pooling: Option<String>,
}

/// A local ONNX embedding model.
pub struct Fastembed {
    info: EmbedderInfo,
    settings: Settings,
    model: Mutex<TextEmbedding>,
}

impl std::fmt::Debug for Fastembed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fastembed")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

fn missing(what: &'static str, path: &Path, hint: &str) -> EmbedError {
    EmbedError::Missing {
        what,
        path: path.display().to_string(),
        hint: hint.to_string(),
    }
}

fn read(path: &Path, what: &'static str) -> Result<Vec<u8>, EmbedError> {
    std::fs::read(path).map_err(|_| missing(what, path, ""))
}

/// The ONNX Runtime library named by `ORT_DYLIB_PATH`, checked to exist.
pub fn runtime_library() -> Result<PathBuf, EmbedError> {
    runtime_library_from(std::env::var_os("ORT_DYLIB_PATH"))
}

/// The ONNX Runtime library named by `value`, the value of `ORT_DYLIB_PATH` (`None` when unset),
/// checked to exist. An empty value counts as unset.
///
/// Errors with [`EmbedError::Missing`] naming the library and how to get it.
pub fn runtime_library_from(value: Option<OsString>) -> Result<PathBuf, EmbedError> {
    const WHAT: &str = "the ONNX Runtime library";
    const HINT: &str = " (run scripts/fetch-onnxruntime and export the ORT_DYLIB_PATH it prints, \
                        or set ORT_DYLIB_PATH to onnxruntime/capi/libonnxruntime.so.* \
                        of the PyPI package onnxruntime >= 1.24)";
    match value.filter(|v| !v.is_empty()).map(PathBuf::from) {
        None => Err(missing(WHAT, Path::new("$ORT_DYLIB_PATH (unset)"), HINT)),
        Some(path) if path.is_file() => Ok(path),
        Some(path) => Err(missing(WHAT, &path, HINT)),
    }
}

/// The message of a caught panic.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("unknown panic")
}

impl Fastembed {
    /// Loads the model folder `dir`.
    ///
    /// Errors with [`EmbedError::Missing`] when the folder, one of its files or the ONNX Runtime
    /// library is missing (files first: they need no runtime), and with [`EmbedError::Failed`]
    /// when the library or the model cannot be loaded or the model cannot embed.
    pub fn load(dir: &Path) -> Result<Fastembed, EmbedError> {
        if !dir.is_dir() {
            return Err(missing("the model folder", dir, ""));
        }
        let onnx_path = [dir.join("model.onnx"), dir.join("onnx/model.onnx")]
            .into_iter()
            .find(|p| p.is_file())
            .ok_or_else(|| {
                missing(
                    "model.onnx",
                    &dir.join("model.onnx"),
                    " (or onnx/model.onnx)",
                )
            })?;
        let tokenizer_files = TokenizerFiles {
            tokenizer_file: read(&dir.join("tokenizer.json"), "tokenizer.json")?,
            config_file: read(&dir.join("config.json"), "config.json")?,
            special_tokens_map_file: read(
                &dir.join("special_tokens_map.json"),
                "special_tokens_map.json",
            )?,
            tokenizer_config_file: read(
                &dir.join("tokenizer_config.json"),
                "tokenizer_config.json",
            )?,
        };
        let settings: Settings = match std::fs::read(dir.join("huiqi-embedder.json")) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                EmbedError::Failed(format!(
                    "{}: {e}",
                    dir.join("huiqi-embedder.json").display()
                ))
            })?,
            Err(_) => Settings::default(),
        };
        let pooling = match settings.pooling.as_deref() {
            None | Some("mean") => Pooling::Mean,
            Some("cls") => Pooling::Cls,
            Some(other) => {
                return Err(EmbedError::Failed(format!(
                    "huiqi-embedder.json: pooling {other:?} is not mean or cls"
                )));
            }
        };
        let library = runtime_library()?;
        let model =
            UserDefinedEmbeddingModel::new(read(&onnx_path, "model.onnx")?, tokenizer_files)
                .with_pooling(pooling);
        // The first use of ort loads the library and panics when it is not ONNX Runtime >= 1.24;
        // ort leaves its state uninitialised then, so the panic is safe to catch.
        let mut embedding = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            TextEmbedding::try_new_from_user_defined(model, InitOptionsUserDefined::default())
        }))
        .map_err(|panic| {
            EmbedError::Failed(format!(
                "cannot use {} as the ONNX Runtime library: {}",
                library.display(),
                panic_message(panic.as_ref())
            ))
        })?
        .map_err(|e| {
            EmbedError::Failed(format!(
                "{}: cannot load the ONNX model: {e}",
                dir.display()
            ))
        })?;
        let dim = embedding
            .embed(["维度"], None)
            .map_err(|e| {
                EmbedError::Failed(format!("{}: the model cannot embed: {e}", dir.display()))
            })?
            .first()
            .map(Vec::len)
            .ok_or_else(|| EmbedError::Failed("the model returned no vector".into()))?;
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Fastembed {
            info: EmbedderInfo {
                id: format!("fastembed:{name}@{}", super::fingerprint(&onnx_path)?),
                dim,
            },
            settings,
            model: Mutex::new(embedding),
        })
    }
}

impl Embedder for Fastembed {
    fn info(&self) -> &EmbedderInfo {
        &self.info
    }

    fn embed(&self, texts: &[&str], mode: Mode) -> Result<Vec<Vec<f32>>, EmbedError> {
        let prefix = match mode {
            Mode::Query => &self.settings.query_prefix,
            Mode::Passage => &self.settings.passage_prefix,
        };
        let inputs: Vec<String> = texts.iter().map(|t| format!("{prefix}{t}")).collect();
        let mut model = self
            .model
            .lock()
            .map_err(|_| EmbedError::Failed("the model lock was poisoned".into()))?;
        let mut vectors = model
            .embed(&inputs, Some(32))
            .map_err(|e| EmbedError::Failed(e.to_string()))?;
        vectors.iter_mut().for_each(|v| super::normalize(v));
        Ok(vectors)
    }
}
