//! Versioned index snapshots, published atomically.
//!
//! Layout of a data directory:
//! ```text
//! data/
//!   current                 name of the live snapshot, e.g. "v000003" (replaced by rename)
//!   snapshots/v000003/      manifest.json, catalog/, rules.json, text/, scopes/, vectors/
//!   snapshots/.staging-*    builds in progress (removed by the next build)
//!   .lock                   held by whoever is writing a snapshot
//! ```
//! A build writes a complete snapshot into a staging directory, fsyncs every file and folder,
//! renames it into place and only then switches `current` (write a temporary file, fsync,
//! rename, fsync the folder). A crash at any point leaves `current` naming a complete, older
//! snapshot. Readers ([`Store`]) hold an `Arc<Snapshot>` and pick up a new one with
//! [`Store::refresh`] without a restart; old snapshots stay readable while still held.
//!
//! A change to one product or policy ([`Change`]) makes a new version by hard-linking the
//! previous snapshot's files (tantivy never rewrites a segment file in place) and applying the
//! change to the copy: one document re-indexed and one vector embedded, not a rebuild.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use huiqi_engine::matching::{Catalog, Signals};
use huiqi_engine::model::{Enterprise, Policy, Product};
use huiqi_engine::rule::{Expr, Rule};
use serde::{Deserialize, Serialize};

use crate::embed::{Embedder, EmbedderInfo, Mode};
use crate::error::{Error, Result};
use crate::progress::failpoint;
use crate::text::{Filters, ScopeIndex, TextHit, TextIndex};
use crate::validate::Checked;
use crate::vectors::VectorIndex;

/// Snapshot format; a reader refuses other formats.
pub const FORMAT: u32 = 1;
/// Older snapshots kept beside the current one.
const KEEP_OLD: usize = 2;

/// Counts of what a snapshot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub products: usize,
    pub policies: usize,
    pub enterprises: usize,
}

/// One input file and its checksum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFile {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// `manifest.json`: what a snapshot is and how it was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub version: u64,
    /// The snapshot this one was derived from by an incremental change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<u64>,
    /// RFC 3339 time the build finished.
    pub built_at: String,
    /// The embedder that made the vectors; queries must use the same one.
    pub embedder: EmbedderInfo,
    pub counts: Counts,
    pub inputs: Vec<InputFile>,
    /// What an incremental version changed, e.g. `upsert product HANHAI-XYD-01`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<String>,
}

/// A snapshot opened for reading.
#[derive(Debug)]
pub struct Snapshot {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub products: Vec<Checked<Product>>,
    pub policies: Vec<Checked<Policy>>,
    pub enterprises: Vec<Enterprise>,
    pub text: TextIndex,
    pub scopes: ScopeIndex,
    pub vectors: VectorIndex,
    /// Every offer compiled for forward matching (service areas folded into the rules).
    pub matching: Catalog,
}

pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = fs::read(path).map_err(Error::io(path))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Snapshot {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(value).expect("snapshot records serialize");
    fs::write(path, bytes).map_err(Error::io(path))
}

/// The checked rules of a catalog in their JSON form, by record id.
pub(crate) fn rules_of(
    products: &[Checked<Product>],
    policies: &[Checked<Policy>],
) -> BTreeMap<String, Expr> {
    let products = products
        .iter()
        .map(|p| (p.item.id.clone(), p.rule.expr.clone()));
    let policies = policies
        .iter()
        .map(|p| (p.item.id.clone(), p.rule.expr.clone()));
    products.chain(policies).collect()
}

impl Snapshot {
    /// Opens a complete snapshot directory.
    pub fn open(dir: &Path) -> Result<Snapshot> {
        let manifest: Manifest = read_json(&dir.join("manifest.json"))?;
        if manifest.format != FORMAT {
            return Err(Error::Snapshot {
                path: dir.to_path_buf(),
                reason: format!("format {} is not {FORMAT}; rebuild it", manifest.format),
            });
        }
        let mut rules: BTreeMap<String, Expr> = read_json(&dir.join("rules.json"))?;
        let mut compiled = |id: &str| -> Result<Rule> {
            let expr = rules.remove(id).ok_or_else(|| Error::Snapshot {
                path: dir.to_path_buf(),
                reason: format!("rules.json has no rule for {id}"),
            })?;
            Rule::from_expr(expr).map_err(|e| Error::Snapshot {
                path: dir.to_path_buf(),
                reason: format!("rule of {id}: {e}"),
            })
        };
        let products: Vec<Product> = read_json(&dir.join("catalog/products.json"))?;
        let products = products
            .into_iter()
            .map(|item| {
                Ok(Checked {
                    rule: compiled(&item.id)?,
                    item,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let policies: Vec<Policy> = read_json(&dir.join("catalog/policies.json"))?;
        let policies = policies
            .into_iter()
            .map(|item| {
                Ok(Checked {
                    rule: compiled(&item.id)?,
                    item,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let enterprises = read_enterprises(&dir.join("catalog/enterprises.jsonl"))?;
        Ok(Snapshot {
            matching: Catalog::new(&products, &policies),
            text: TextIndex::open(&dir.join("text"))?,
            scopes: ScopeIndex::open(&dir.join("scopes"))?,
            vectors: VectorIndex::load(&dir.join("vectors"))?,
            dir: dir.to_path_buf(),
            manifest,
            products,
            policies,
            enterprises,
        })
    }

    /// Full-text search over products and policies.
    pub fn search(&self, query: &str, filters: &Filters, limit: usize) -> Result<Vec<TextHit>> {
        self.text.search(query, filters, limit)
    }

    /// Semantic search: ids with cosine similarity. Refuses an embedder other than the one
    /// that built the snapshot, whose vectors would not be comparable.
    pub fn semantic(
        &self,
        embedder: &dyn Embedder,
        query: &str,
        k: usize,
    ) -> Result<Vec<(String, f32)>> {
        self.check_embedder(embedder)?;
        let q = embedder.embed_one(query, Mode::Query)?;
        Ok(self.vectors.search(&q, k))
    }

    /// Errors unless `embedder` is the one that built this snapshot.
    pub fn check_embedder(&self, embedder: &dyn Embedder) -> Result<()> {
        if embedder.info() != &self.manifest.embedder {
            return Err(Error::Invalid(format!(
                "snapshot v{} was built with embedder {} ({} dimensions); it cannot be queried with {} — rebuild the index or use that embedder",
                self.manifest.version,
                self.manifest.embedder.id,
                self.manifest.embedder.dim,
                embedder.info().id
            )));
        }
        Ok(())
    }

    /// Relevance signals for matching one enterprise: full-text relevance of its financing
    /// need and business scope, and (with the snapshot's embedder) semantic similarity of its
    /// need, each scaled to [0, 1] over the catalog.
    pub fn signals(&self, e: &Enterprise, embedder: Option<&dyn Embedder>) -> Result<Signals> {
        let mut signals = Signals::default();
        let need_text = e
            .need
            .as_ref()
            .and_then(|n| n.text.as_deref())
            .unwrap_or("");
        let query = format!("{need_text} {}", e.business_scope.as_deref().unwrap_or(""));
        let live = Filters {
            published_only: true,
            ..Filters::default()
        };
        let hits = self.text.search(
            &query,
            &live,
            self.manifest.counts.products + self.manifest.counts.policies,
        )?;
        if let Some(best) = hits.first().map(|h| h.score).filter(|s| *s > 0.0) {
            signals.text = hits.into_iter().map(|h| (h.id, h.score / best)).collect();
        }
        if let (Some(embedder), false) = (embedder, need_text.trim().is_empty()) {
            // Similarities of one model sit in a narrow band; spread them over [0, 1].
            let sims = self.semantic(embedder, need_text, self.vectors.len())?;
            let (lo, hi) = sims.iter().fold((f32::MAX, f32::MIN), |(lo, hi), (_, s)| {
                (lo.min(*s), hi.max(*s))
            });
            if hi > lo {
                signals.semantic = sims
                    .into_iter()
                    .map(|(id, s)| (id, (s - lo) / (hi - lo)))
                    .collect();
            }
        }
        Ok(signals)
    }

    pub fn enterprise(&self, id: &str) -> Option<&Enterprise> {
        self.enterprises.iter().find(|e| e.id == id)
    }

    pub fn product(&self, id: &str) -> Option<&Checked<Product>> {
        self.products.iter().find(|p| p.item.id == id)
    }

    pub fn policy(&self, id: &str) -> Option<&Checked<Policy>> {
        self.policies.iter().find(|p| p.item.id == id)
    }
}

fn read_enterprises(path: &Path) -> Result<Vec<Enterprise>> {
    let text = fs::read_to_string(path).map_err(Error::io(path))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line).map_err(|e| Error::Snapshot {
                path: path.to_path_buf(),
                reason: format!("line {}: {e}", i + 1),
            })
        })
        .collect()
}

pub(crate) fn write_enterprises(path: &Path, enterprises: &[Enterprise]) -> Result<()> {
    use std::io::Write;
    let file = File::create(path).map_err(Error::io(path))?;
    let mut w = std::io::BufWriter::new(file);
    for e in enterprises {
        serde_json::to_writer(&mut w, e).expect("enterprises serialize");
        w.write_all(b"\n").map_err(Error::io(path))?;
    }
    w.flush().map_err(Error::io(path))
}

/// Readers' view of a data directory: the live snapshot, swapped when a new one is published.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    current: RwLock<Arc<Snapshot>>,
}

impl Store {
    /// Opens the snapshot `current` names. Errors when there is none yet.
    pub fn open(root: &Path) -> Result<Store> {
        let name = current_name(root)?.ok_or_else(|| {
            Error::Invalid(format!(
                "{} holds no snapshot yet: build one with `huiqi index build`",
                root.display()
            ))
        })?;
        let snapshot = Snapshot::open(&root.join("snapshots").join(&name))?;
        Ok(Store {
            root: root.to_path_buf(),
            current: RwLock::new(Arc::new(snapshot)),
        })
    }

    /// The live snapshot. Cheap; hold the `Arc` for the length of one request.
    pub fn current(&self) -> Arc<Snapshot> {
        self.current.read().expect("snapshot lock").clone()
    }

    /// Switches to the snapshot `current` names if it changed; returns whether it did.
    pub fn refresh(&self) -> Result<bool> {
        let Some(name) = current_name(&self.root)? else {
            return Ok(false);
        };
        let dir = self.root.join("snapshots").join(&name);
        if self.current().dir == dir {
            return Ok(false);
        }
        let snapshot = Arc::new(Snapshot::open(&dir)?);
        *self.current.write().expect("snapshot lock") = snapshot;
        Ok(true)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

/// The name in `current`, if any.
pub fn current_name(root: &Path) -> Result<Option<String>> {
    let path = root.join("current");
    match fs::read_to_string(&path) {
        Ok(s) => Ok(Some(s.trim().to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path)(e)),
    }
}

/// An exclusive hold on a data directory for writing a snapshot.
#[derive(Debug)]
pub(crate) struct WriteLock(#[allow(dead_code)] File);

impl WriteLock {
    pub(crate) fn acquire(root: &Path) -> Result<WriteLock> {
        fs::create_dir_all(root.join("snapshots")).map_err(Error::io(root))?;
        let path = root.join(".lock");
        let file = File::create(&path).map_err(Error::io(&path))?;
        file.try_lock().map_err(|_| {
            Error::Invalid(format!(
                "{} is being written by another build; try again when it finishes",
                root.display()
            ))
        })?;
        Ok(WriteLock(file))
    }
}

/// A fresh staging directory, after removing what crashed builds left behind.
pub(crate) fn staging_dir(root: &Path, _lock: &WriteLock) -> Result<PathBuf> {
    let snapshots = root.join("snapshots");
    for entry in fs::read_dir(&snapshots).map_err(Error::io(&snapshots))? {
        let path = entry.map_err(Error::io(&snapshots))?.path();
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(".staging-"))
        {
            fs::remove_dir_all(&path).map_err(Error::io(&path))?;
        }
    }
    let dir = snapshots.join(format!(".staging-{}", std::process::id()));
    fs::create_dir_all(dir.join("catalog")).map_err(Error::io(&dir))?;
    Ok(dir)
}

/// The next version number: one above every snapshot on disk.
pub(crate) fn next_version(root: &Path) -> Result<u64> {
    let snapshots = root.join("snapshots");
    let mut max = 0;
    for entry in fs::read_dir(&snapshots).map_err(Error::io(&snapshots))? {
        let name = entry.map_err(Error::io(&snapshots))?.file_name();
        if let Some(v) = name
            .to_string_lossy()
            .strip_prefix('v')
            .and_then(|v| v.parse::<u64>().ok())
        {
            max = max.max(v);
        }
    }
    Ok(max + 1)
}

fn fsync_tree(dir: &Path) -> Result<()> {
    for entry in fs::read_dir(dir).map_err(Error::io(dir))? {
        let path = entry.map_err(Error::io(dir))?.path();
        if path.is_dir() {
            fsync_tree(&path)?;
        } else {
            File::open(&path)
                .and_then(|f| f.sync_all())
                .map_err(Error::io(&path))?;
        }
    }
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(Error::io(dir))
}

fn fsync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(Error::io(dir))
}

/// Makes a complete staging directory the live snapshot `version`, atomically.
pub(crate) fn publish(
    root: &Path,
    staging: &Path,
    version: u64,
    _lock: &WriteLock,
) -> Result<PathBuf> {
    fsync_tree(staging)?;
    failpoint("publish:before-rename");
    let name = format!("v{version:06}");
    let snapshots = root.join("snapshots");
    let dir = snapshots.join(&name);
    fs::rename(staging, &dir).map_err(Error::io(&dir))?;
    fsync_dir(&snapshots)?;
    failpoint("publish:before-switch");
    let tmp = root.join("current.tmp");
    fs::write(&tmp, format!("{name}\n")).map_err(Error::io(&tmp))?;
    File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(Error::io(&tmp))?;
    fs::rename(&tmp, root.join("current")).map_err(Error::io(root))?;
    fsync_dir(root)?;
    prune(root, &name)?;
    Ok(dir)
}

/// Removes snapshots older than the newest `KEEP_OLD` besides the current one.
fn prune(root: &Path, current: &str) -> Result<()> {
    let snapshots = root.join("snapshots");
    let mut versions: Vec<String> = fs::read_dir(&snapshots)
        .map_err(Error::io(&snapshots))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.starts_with('v') && n != current)
        .collect();
    versions.sort();
    let excess = versions.len().saturating_sub(KEEP_OLD);
    for name in &versions[..excess] {
        let path = snapshots.join(name);
        fs::remove_dir_all(&path).map_err(Error::io(&path))?;
    }
    Ok(())
}

/// Copies a folder by hard-linking its files (falling back to copying across devices).
/// Lock files are left behind: they belong to the writer of the source.
pub(crate) fn link_tree(src: &Path, dst: &Path) -> Result<()> {
    fs::create_dir_all(dst).map_err(Error::io(dst))?;
    for entry in fs::read_dir(src).map_err(Error::io(src))? {
        let entry = entry.map_err(Error::io(src))?;
        let (from, to) = (entry.path(), dst.join(entry.file_name()));
        if from.is_dir() {
            link_tree(&from, &to)?;
        } else if !entry.file_name().to_string_lossy().ends_with(".lock") {
            fs::hard_link(&from, &to)
                .or_else(|_| fs::copy(&from, &to).map(|_| ()))
                .map_err(Error::io(&to))?;
        }
    }
    Ok(())
}
