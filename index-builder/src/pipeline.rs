//! Building snapshots: the whole pipeline from input files, and one-record changes.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use huiqi_engine::model::{Policy, Product};
use sha2::{Digest, Sha256};

use crate::embed::{Embedder, Mode};
use crate::error::{Error, Result};
use crate::input::{Sourced, discover};
use crate::progress::{IndexingStep, Progress, failpoint};
use crate::report::{Issue, Report};
use crate::snapshot::{
    self, Counts, InputFile, Manifest, WriteLock, read_json, rules_of, write_enterprises,
    write_json,
};
use crate::text::{ScopeIndex, TextIndex};
use crate::validate::{Checked, check_policy, check_product, load_dir};
use crate::vectors::VectorIndex;

/// What a build did.
#[derive(Debug)]
pub struct BuildSummary {
    pub manifest: Manifest,
    pub dir: PathBuf,
    /// Suspicious but legal values found in the input.
    pub warnings: Vec<Issue>,
    /// Time spent in each stage.
    pub timings: Vec<(IndexingStep, Duration)>,
}

/// The text a product is embedded from: its kind, name and description. Institution names
/// and tags are left out: measured on the fixtures with e5, they pulled every product towards
/// every query and flattened the ranking.
pub fn product_passage(p: &Product) -> String {
    format!("{}：{}。{}", p.kind.label(), p.name, p.description)
}

/// The text a policy is embedded from: kind, title, benefit and the start of its prose.
pub fn policy_passage(p: &Policy) -> String {
    let prose: String = p.text.chars().take(200).collect();
    format!(
        "{}：{}。{}。{}",
        p.kind.label(),
        p.title,
        p.benefit.summary,
        prose
    )
}

struct Clock {
    started: Instant,
    step: IndexingStep,
    timings: Vec<(IndexingStep, Duration)>,
}

impl Clock {
    fn new() -> Clock {
        Clock {
            started: Instant::now(),
            step: IndexingStep::Reading,
            timings: Vec::new(),
        }
    }

    fn next(&mut self, step: IndexingStep, total: Option<u64>, progress: &dyn Progress) {
        self.timings.push((self.step, self.started.elapsed()));
        self.started = Instant::now();
        self.step = step;
        progress.step(step, total);
    }

    fn finish(mut self) -> Vec<(IndexingStep, Duration)> {
        self.timings.push((self.step, self.started.elapsed()));
        self.timings
    }
}

fn checksums(input: &Path) -> Result<Vec<InputFile>> {
    let files = discover(input).map_err(Error::io(input))?;
    files
        .iter()
        .map(|(path, _)| {
            let bytes = std::fs::read(path).map_err(Error::io(path))?;
            Ok(InputFile {
                path: path
                    .strip_prefix(input)
                    .unwrap_or(path)
                    .display()
                    .to_string(),
                sha256: format!("{:x}", Sha256::digest(&bytes)),
                bytes: bytes.len() as u64,
            })
        })
        .collect()
}

fn embed_all(
    embedder: &dyn Embedder,
    items: Vec<(String, String)>,
    progress: &dyn Progress,
) -> Result<Vec<(String, Vec<f32>)>> {
    let mut out = Vec::with_capacity(items.len());
    for chunk in items.chunks(64) {
        let texts: Vec<&str> = chunk.iter().map(|(_, t)| t.as_str()).collect();
        let vectors = embedder.embed(&texts, Mode::Passage)?;
        out.extend(chunk.iter().map(|(id, _)| id.clone()).zip(vectors));
        progress.advance(chunk.len() as u64);
    }
    Ok(out)
}

/// Builds a snapshot of everything under `input` into the data directory `root` and publishes
/// it. Validates everything first: on any input error nothing is written and
/// [`Error::Input`] carries every problem.
pub fn build(
    input: &Path,
    root: &Path,
    embedder: &dyn Embedder,
    progress: &dyn Progress,
) -> Result<BuildSummary> {
    let mut clock = Clock::new();
    progress.step(IndexingStep::Reading, None);
    let inputs = checksums(input)?;
    clock.next(
        IndexingStep::Validating,
        Some(inputs.len() as u64),
        progress,
    );
    let (catalog, report) = load_dir(input);
    if report.has_errors() {
        return Err(Error::Input(report));
    }
    let warnings: Vec<Issue> = report.warnings().cloned().collect();

    let lock = WriteLock::acquire(root)?;
    let staging = snapshot::staging_dir(root, &lock)?;
    let docs = (catalog.products.len() + catalog.policies.len() + catalog.enterprises.len()) as u64;
    clock.next(IndexingStep::Tokenizing, Some(docs), progress);
    let text = TextIndex::create(&mkdir(&staging.join("text"))?)?;
    let products: Vec<Product> = catalog.products.iter().map(|c| c.item.clone()).collect();
    let policies: Vec<Policy> = catalog.policies.iter().map(|c| c.item.clone()).collect();
    text.add_products(&products)?;
    text.add_policies(&policies)?;
    progress.advance((products.len() + policies.len()) as u64);
    failpoint("build:after-text");
    let scopes = ScopeIndex::create(&mkdir(&staging.join("scopes"))?)?;
    scopes.add(
        catalog
            .enterprises
            .iter()
            .map(|e| (e.id.clone(), e.business_scope.clone().unwrap_or_default())),
    )?;
    progress.advance(catalog.enterprises.len() as u64);

    clock.next(
        IndexingStep::Embedding,
        Some((products.len() + policies.len()) as u64),
        progress,
    );
    let passages: Vec<(String, String)> = products
        .iter()
        .map(|p| (p.id.clone(), product_passage(p)))
        .chain(policies.iter().map(|p| (p.id.clone(), policy_passage(p))))
        .collect();
    let vectors = VectorIndex::build(
        embedder.info().dim,
        embed_all(embedder, passages, progress)?,
    )?;
    failpoint("build:after-embedding");

    clock.next(IndexingStep::Writing, None, progress);
    let version = snapshot::next_version(root)?;
    vectors.save(&mkdir(&staging.join("vectors"))?)?;
    write_json(&staging.join("catalog/products.json"), &products)?;
    write_json(&staging.join("catalog/policies.json"), &policies)?;
    write_enterprises(
        &staging.join("catalog/enterprises.jsonl"),
        &catalog.enterprises,
    )?;
    write_json(
        &staging.join("rules.json"),
        &rules_of(&catalog.products, &catalog.policies),
    )?;
    let manifest = Manifest {
        format: snapshot::FORMAT,
        version,
        parent: None,
        built_at: chrono::Utc::now().to_rfc3339(),
        embedder: embedder.info().clone(),
        counts: Counts {
            products: products.len(),
            policies: policies.len(),
            enterprises: catalog.enterprises.len(),
        },
        inputs,
        change: None,
    };
    write_json(&staging.join("manifest.json"), &manifest)?;
    drop((text, scopes));
    failpoint("build:before-publish");

    clock.next(IndexingStep::Publishing, None, progress);
    let dir = snapshot::publish(root, &staging, version, &lock)?;
    Ok(BuildSummary {
        manifest,
        dir,
        warnings,
        timings: clock.finish(),
    })
}

fn mkdir(path: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(path).map_err(Error::io(path))?;
    Ok(path.to_path_buf())
}

/// A change to one record of the live snapshot.
#[derive(Debug, Clone)]
pub enum Change {
    UpsertProduct(Box<Product>),
    UpsertPolicy(Box<Policy>),
    /// Removes the product or policy with this id.
    Retire(String),
}

impl Change {
    fn describe(&self) -> String {
        match self {
            Change::UpsertProduct(p) => format!("upsert product {}", p.id),
            Change::UpsertPolicy(p) => format!("upsert policy {}", p.id),
            Change::Retire(id) => format!("retire {id}"),
        }
    }
}

/// Validates one record as if it came from `source`; errors carry the whole report.
fn validated<T>(
    item: T,
    check: impl Fn(&Sourced<T>, &mut Report) -> Option<Checked<T>>,
) -> Result<Checked<T>> {
    let rec = Sourced {
        item,
        file: PathBuf::from("<change>"),
        line: 1,
    };
    let mut report = Report::default();
    check(&rec, &mut report).ok_or(Error::Input(report))
}

/// Applies one change to the live snapshot of `root` and publishes the result as a new
/// version. Costs one re-indexed document and at most one embedding: the unchanged index
/// files are hard-linked, not rebuilt.
pub fn apply(root: &Path, change: Change, embedder: &dyn Embedder) -> Result<Manifest> {
    let lock = WriteLock::acquire(root)?;
    let name = snapshot::current_name(root)?.ok_or_else(|| {
        Error::Invalid(format!(
            "{} holds no snapshot to change: build one first",
            root.display()
        ))
    })?;
    let current = root.join("snapshots").join(&name);
    let parent: Manifest = read_json(&current.join("manifest.json"))?;
    if parent.embedder != *embedder.info() {
        return Err(Error::Invalid(format!(
            "the live snapshot was built with embedder {}; a change cannot be embedded with {}",
            parent.embedder.id,
            embedder.info().id
        )));
    }
    let mut products: Vec<Product> = read_json(&current.join("catalog/products.json"))?;
    let mut policies: Vec<Policy> = read_json(&current.join("catalog/policies.json"))?;
    let mut rules: std::collections::BTreeMap<String, huiqi_engine::rule::Expr> =
        read_json(&current.join("rules.json"))?;

    let staging = snapshot::staging_dir(root, &lock)?;
    // Only files that the change never rewrites are shared with the parent by hard link.
    snapshot::link_tree(&current.join("text"), &staging.join("text"))?;
    snapshot::link_tree(&current.join("scopes"), &staging.join("scopes"))?;
    std::fs::hard_link(
        current.join("catalog/enterprises.jsonl"),
        staging.join("catalog/enterprises.jsonl"),
    )
    .map_err(Error::io(staging.join("catalog/enterprises.jsonl")))?;
    let text = TextIndex::open(&staging.join("text"))?;
    let mut vectors = VectorIndex::load(&current.join("vectors"))?;

    match &change {
        Change::UpsertProduct(p) => {
            let checked = validated((**p).clone(), check_product)?;
            ensure_unique(&policies, &p.id, "policy")?;
            text.upsert_product(p)?;
            vectors.upsert(
                p.id.clone(),
                embedder.embed_one(&product_passage(p), Mode::Passage)?,
            )?;
            rules.insert(p.id.clone(), checked.rule.expr);
            replace_or_push(&mut products, (**p).clone(), |x| x.id == p.id);
        }
        Change::UpsertPolicy(p) => {
            let checked = validated((**p).clone(), check_policy)?;
            ensure_unique(&products, &p.id, "product")?;
            text.upsert_policy(p)?;
            vectors.upsert(
                p.id.clone(),
                embedder.embed_one(&policy_passage(p), Mode::Passage)?,
            )?;
            rules.insert(p.id.clone(), checked.rule.expr);
            replace_or_push(&mut policies, (**p).clone(), |x| x.id == p.id);
        }
        Change::Retire(id) => {
            let before = products.len() + policies.len();
            products.retain(|p| &p.id != id);
            policies.retain(|p| &p.id != id);
            if products.len() + policies.len() == before {
                return Err(Error::Invalid(format!(
                    "no product or policy has the id {id:?}"
                )));
            }
            text.remove(id)?;
            vectors.retire(id);
            rules.remove(id);
        }
    }
    drop(text);
    let version = snapshot::next_version(root)?;
    vectors.save(&mkdir(&staging.join("vectors"))?)?;
    write_json(&staging.join("catalog/products.json"), &products)?;
    write_json(&staging.join("catalog/policies.json"), &policies)?;
    write_json(&staging.join("rules.json"), &rules)?;
    let manifest = Manifest {
        version,
        parent: Some(parent.version),
        built_at: chrono::Utc::now().to_rfc3339(),
        counts: Counts {
            products: products.len(),
            policies: policies.len(),
            ..parent.counts
        },
        change: Some(change.describe()),
        ..parent
    };
    write_json(&staging.join("manifest.json"), &manifest)?;
    snapshot::publish(root, &staging, version, &lock)?;
    Ok(manifest)
}

trait HasId {
    fn id(&self) -> &str;
}
impl HasId for Product {
    fn id(&self) -> &str {
        &self.id
    }
}
impl HasId for Policy {
    fn id(&self) -> &str {
        &self.id
    }
}

/// Product and policy ids share one namespace (the text and vector indexes key on them).
fn ensure_unique<T: HasId>(others: &[T], id: &str, noun: &str) -> Result<()> {
    if others.iter().any(|o| o.id() == id) {
        return Err(Error::Invalid(format!(
            "the id {id:?} already belongs to a {noun}"
        )));
    }
    Ok(())
}

fn replace_or_push<T>(items: &mut Vec<T>, item: T, same: impl Fn(&T) -> bool) {
    match items.iter_mut().find(|x| same(x)) {
        Some(slot) => *slot = item,
        None => items.push(item),
    }
}
