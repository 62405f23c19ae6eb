//! Chinese full-text search with tantivy and jieba: one index over products and policies
//! ([`TextIndex`]) and one over enterprise business scopes (经营范围, [`ScopeIndex`]).
//!
//! Text serves relevance, never eligibility: a hit says "this offer talks about what you asked",
//! not "you qualify".
//!
//! Chinese is written without spaces, so both the documents and the query are segmented with
//! jieba in search mode (`研发费用补贴` → `研发`, `费用`, `补贴`). The query is never handed to
//! tantivy's query parser: its terms are looked up one by one and combined with OR, so BM25 ranks
//! a document with more of the terms higher, `研发补贴` finds a text about `研发费用补贴`, and no
//! user input (quotes, `AND`, `title:x`, brackets) can be a syntax error. Terms that are only
//! punctuation or whitespace, and a handful of function words (的, 了, 和 ...), are dropped on both
//! sides.
//!
//! Every write commits and reloads the reader before it returns, so a search that follows sees
//! it. Writers are created lazily and held behind a mutex: one writer per index directory.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use huiqi_engine::codes::region;
use huiqi_engine::model::{Policy, Product, Status};
use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TantivyDocument, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::tokenizer::{
    LowerCaser, RemoveLongFilter, StopWordFilter, TextAnalyzer, Token, TokenFilter, TokenStream,
    Tokenizer,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Term};
use tantivy_jieba::JiebaTokenizer;

use crate::{Error, Result};

/// The name the jieba analyzer is registered under in every index of this module.
pub const TOKENIZER: &str = "huiqi_jieba";

/// Weight of a title match relative to a body match.
pub const TITLE_BOOST: f32 = 3.0;

/// Longest snippet, in characters (highlight marks not counted).
pub const SNIPPET_CHARS: usize = 120;

/// Marks around a highlighted term in a snippet.
pub const HIGHLIGHT_OPEN: &str = "【";
pub const HIGHLIGHT_CLOSE: &str = "】";

/// The region value of a record that lists no regions (nationwide).
const NATIONWIDE: &str = "*";

/// Writer budget for the small product / policy index and for single upserts.
const SMALL_WRITER_BYTES: usize = 50_000_000;
/// Writer budget per indexing thread for a bulk load of business scopes.
const BULK_WRITER_BYTES_PER_THREAD: usize = 256_000_000;
const BULK_MAX_THREADS: usize = 8;

/// Function words that carry no meaning for search; dropped from documents and queries.
const STOP_WORDS: &[&str] = &[
    "的", "了", "和", "与", "及", "或", "之", "是", "在", "等", "对", "于", "以", "其", "并",
];

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

/// Which kind of record a hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    Product,
    Policy,
}

impl DocKind {
    /// The value stored in the `doc` field: `"product"` or `"policy"`.
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Product => "product",
            DocKind::Policy => "policy",
        }
    }

    fn parse(s: &str) -> Option<DocKind> {
        match s {
            "product" => Some(DocKind::Product),
            "policy" => Some(DocKind::Policy),
            _ => None,
        }
    }
}

/// Restrictions on a search; each one set must hold (they do not change the score).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filters {
    /// Only products or only policies.
    pub doc: Option<DocKind>,
    /// The Chinese kind label, exactly: `"信用贷"`, `"贷款贴息"` ...
    pub kind: Option<String>,
    /// A product's `institution_id` or a policy's issuer, exactly.
    pub institution: Option<String>,
    /// A GB/T 2260 code (2, 4 or 6 digits, e.g. `"330106"`): only records serving that place,
    /// i.e. listing it or one of its ancestors, or nationwide ones.
    pub region: Option<String>,
    /// Only published offers (drafts and expired ones left out).
    pub published_only: bool,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextHit {
    pub id: String,
    pub doc: DocKind,
    /// BM25 score; only comparable within one search.
    pub score: f32,
    /// Product name or policy title.
    pub title: String,
    /// Chinese kind label.
    pub kind: String,
    /// Product institution id or policy issuer.
    pub institution: String,
    /// Plain text from the body, at most [`SNIPPET_CHARS`] characters, matched terms inside
    /// `【` `】`. When only the title matched: the start of the body, unmarked.
    pub snippet: String,
}

// ---------------------------------------------------------------------------------------------
// Products and policies
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
struct TextFields {
    id: Field,
    doc: Field,
    title: Field,
    body: Field,
    institution: Field,
    kind: Field,
    region: Field,
    tags: Field,
    status: Field,
}

impl TextFields {
    fn schema() -> (Schema, TextFields) {
        let mut b = Schema::builder();
        let fields = TextFields {
            id: b.add_text_field("id", STRING | STORED),
            doc: b.add_text_field("doc", STRING | STORED),
            title: b.add_text_field("title", jieba_text(true)),
            body: b.add_text_field("body", jieba_text(true)),
            institution: b.add_text_field("institution", STRING | STORED),
            kind: b.add_text_field("kind", STRING | STORED),
            region: b.add_text_field("region", STRING),
            tags: b.add_text_field("tags", STRING | STORED),
            status: b.add_text_field("status", STRING | STORED),
        };
        (b.build(), fields)
    }
}

/// The full-text index of products and policies, in one directory.
///
/// Safe to share between threads; writes are serialised internally.
pub struct TextIndex {
    store: Store,
    fields: TextFields,
}

impl TextIndex {
    /// Creates a new, empty index in `dir`, which must exist and be empty.
    ///
    /// Errors: [`Error::Text`] when `dir` already holds an index or cannot be written.
    pub fn create(dir: &Path) -> Result<TextIndex> {
        let (schema, fields) = TextFields::schema();
        Ok(TextIndex {
            store: Store::create(dir, schema)?,
            fields,
        })
    }

    /// Opens the index in `dir`.
    ///
    /// Errors: [`Error::Text`] when there is no index there; [`Error::Snapshot`] when it was not
    /// built by this version of [`TextIndex`].
    pub fn open(dir: &Path) -> Result<TextIndex> {
        let (schema, fields) = TextFields::schema();
        Ok(TextIndex {
            store: Store::open(dir, schema)?,
            fields,
        })
    }

    /// Indexes `products` in one commit. A product whose id is already indexed (or repeated in
    /// the batch) replaces the earlier one.
    pub fn add_products(&self, products: &[Product]) -> Result<()> {
        self.store.write(Budget::Small, |w| {
            for p in products {
                w.delete_term(Term::from_field_text(self.fields.id, &p.id));
                w.add_document(self.product_doc(p))?;
            }
            Ok(())
        })
    }

    /// Indexes `policies` in one commit. A policy whose id is already indexed (or repeated in
    /// the batch) replaces the earlier one.
    pub fn add_policies(&self, policies: &[Policy]) -> Result<()> {
        self.store.write(Budget::Small, |w| {
            for p in policies {
                w.delete_term(Term::from_field_text(self.fields.id, &p.id));
                w.add_document(self.policy_doc(p))?;
            }
            Ok(())
        })
    }

    /// Adds `product`, or replaces the record with its id.
    pub fn upsert_product(&self, product: &Product) -> Result<()> {
        self.add_products(std::slice::from_ref(product))
    }

    /// Adds `policy`, or replaces the record with its id.
    pub fn upsert_policy(&self, policy: &Policy) -> Result<()> {
        self.add_policies(std::slice::from_ref(policy))
    }

    /// Removes the product or policy with this id; an unknown id is not an error.
    pub fn remove(&self, id: &str) -> Result<()> {
        self.store.write(Budget::Small, |w| {
            w.delete_term(Term::from_field_text(self.fields.id, id));
            Ok(())
        })
    }

    /// Number of live (not removed) records.
    pub fn len(&self) -> u64 {
        self.store.reader.searcher().num_docs()
    }

    /// True when no record is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Products and policies matching any term of `query` and every filter, best first, at most
    /// `limit`. A title match counts [`TITLE_BOOST`] times a body match.
    ///
    /// An empty query, or one of only punctuation and function words, gives an empty list.
    /// Errors: [`Error::Invalid`] when the region filter is not a 2-, 4- or 6-digit code.
    pub fn search(&self, query: &str, filters: &Filters, limit: usize) -> Result<Vec<TextHit>> {
        let f = self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = self
            .filter_queries(filters)?
            .into_iter()
            .map(|q| {
                (
                    Occur::Must,
                    Box::new(ConstScoreQuery::new(q, 0.0)) as Box<dyn Query>,
                )
            })
            .collect();
        let terms = query_terms(query);
        let searcher = self.store.reader.searcher();
        let limit = limit.min(searcher.num_docs() as usize);
        if terms.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let mut text: Vec<(Occur, Box<dyn Query>)> = Vec::with_capacity(terms.len() * 2);
        for t in &terms {
            let title = term_query(f.title, t);
            text.push((Occur::Should, Box::new(BoostQuery::new(title, TITLE_BOOST))));
            text.push((Occur::Should, term_query(f.body, t)));
        }
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(text))));
        let query = BooleanQuery::new(clauses);

        let top = searcher.search(&query, &TopDocs::with_limit(limit).order_by_score())?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            let body = first_str(&doc, f.body);
            let snippet = snippet_for(body, &terms, SNIPPET_CHARS);
            hits.push(TextHit {
                id: first_str(&doc, f.id).to_string(),
                doc: DocKind::parse(first_str(&doc, f.doc)).ok_or_else(|| Error::Snapshot {
                    path: self.store.dir.clone(),
                    reason: format!("record {:?} has no valid doc kind", first_str(&doc, f.id)),
                })?,
                score,
                title: first_str(&doc, f.title).to_string(),
                kind: first_str(&doc, f.kind).to_string(),
                institution: first_str(&doc, f.institution).to_string(),
                snippet,
            });
        }
        Ok(hits)
    }

    fn filter_queries(&self, filters: &Filters) -> Result<Vec<Box<dyn Query>>> {
        let f = self.fields;
        let mut out = Vec::new();
        if let Some(doc) = filters.doc {
            out.push(exact_query(f.doc, doc.as_str()));
        }
        if let Some(kind) = &filters.kind {
            out.push(exact_query(f.kind, kind));
        }
        if let Some(institution) = &filters.institution {
            out.push(exact_query(f.institution, institution));
        }
        if filters.published_only {
            out.push(exact_query(f.status, Status::Published.as_str()));
        }
        if let Some(code) = &filters.region {
            let prefix = region::prefix_form(code.trim()).ok_or_else(|| {
                Error::Invalid(format!(
                    "region filter {code:?} must be a GB/T 2260 code of 2, 4 or 6 digits"
                ))
            })?;
            // The place itself, each of its ancestors, and nationwide records.
            let served: Vec<(Occur, Box<dyn Query>)> = [2, 4, 6]
                .into_iter()
                .filter(|&n| n <= prefix.len())
                .map(|n| &prefix[..n])
                .chain([NATIONWIDE])
                .map(|value| (Occur::Should, exact_query(f.region, value)))
                .collect();
            out.push(Box::new(BooleanQuery::new(served)));
        }
        Ok(out)
    }

    fn product_doc(&self, p: &Product) -> TantivyDocument {
        let f = self.fields;
        let mut doc = TantivyDocument::new();
        doc.add_text(f.id, &p.id);
        doc.add_text(f.doc, DocKind::Product.as_str());
        doc.add_text(f.title, &p.name);
        doc.add_text(
            f.body,
            format!("{}\n{}\n{}", p.description, p.institution, p.tags.join(" ")),
        );
        doc.add_text(f.institution, &p.institution_id);
        doc.add_text(f.kind, p.kind.label());
        self.add_common(&mut doc, &p.regions, &p.tags, p.status.as_str());
        doc
    }

    fn policy_doc(&self, p: &Policy) -> TantivyDocument {
        let f = self.fields;
        let mut doc = TantivyDocument::new();
        doc.add_text(f.id, &p.id);
        doc.add_text(f.doc, DocKind::Policy.as_str());
        doc.add_text(f.title, &p.title);
        doc.add_text(
            f.body,
            format!("{}\n{}\n{}", p.text, p.benefit.summary, p.tags.join(" ")),
        );
        doc.add_text(f.institution, &p.issuer);
        doc.add_text(f.kind, p.kind.label());
        self.add_common(&mut doc, &p.regions, &p.tags, p.status.as_str());
        doc
    }

    fn add_common(
        &self,
        doc: &mut TantivyDocument,
        regions: &[String],
        tags: &[String],
        status: &str,
    ) {
        let f = self.fields;
        if regions.is_empty() {
            doc.add_text(f.region, NATIONWIDE);
        }
        for code in regions {
            // Records are validated before indexing; keep a malformed code as it is.
            doc.add_text(
                f.region,
                region::prefix_form(code).unwrap_or_else(|| code.clone()),
            );
        }
        for tag in tags {
            doc.add_text(f.tags, tag);
        }
        doc.add_text(f.status, status);
    }
}

impl std::fmt::Debug for TextIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextIndex")
            .field("dir", &self.store.dir)
            .field("len", &self.len())
            .finish()
    }
}

// ---------------------------------------------------------------------------------------------
// Business scopes
// ---------------------------------------------------------------------------------------------

/// The full-text index of enterprise business scopes (经营范围): which enterprises work in a
/// field, for relevance in forward matching and reach estimates of a policy.
///
/// Only the enterprise id is stored; the scope text is indexed but not kept.
pub struct ScopeIndex {
    store: Store,
    id: Field,
    scope: Field,
}

impl ScopeIndex {
    fn schema() -> (Schema, Field, Field) {
        let mut b = Schema::builder();
        let id = b.add_text_field("id", STRING | STORED);
        let scope = b.add_text_field("scope", jieba_text(false));
        (b.build(), id, scope)
    }

    /// Creates a new, empty index in `dir`, which must exist and be empty.
    pub fn create(dir: &Path) -> Result<ScopeIndex> {
        let (schema, id, scope) = ScopeIndex::schema();
        Ok(ScopeIndex {
            store: Store::create(dir, schema)?,
            id,
            scope,
        })
    }

    /// Opens the index in `dir`.
    ///
    /// Errors: [`Error::Text`] when there is no index there; [`Error::Snapshot`] when it was not
    /// built by this version of [`ScopeIndex`].
    pub fn open(dir: &Path) -> Result<ScopeIndex> {
        let (schema, id, scope) = ScopeIndex::schema();
        Ok(ScopeIndex {
            store: Store::open(dir, schema)?,
            id,
            scope,
        })
    }

    /// Bulk-loads `(enterprise id, business scope)` pairs with several indexing threads and one
    /// commit; returns how many were indexed. Blank scopes are skipped (they can match nothing).
    ///
    /// The ids are taken to be new: an id already in the index is not replaced (use
    /// [`ScopeIndex::upsert`]), which keeps a load of a million scopes fast. On error nothing
    /// of the batch is committed.
    pub fn add(&self, items: impl Iterator<Item = (String, String)>) -> Result<u64> {
        let mut n = 0;
        self.store.write(Budget::Bulk, |w| {
            for (id, scope) in items {
                if scope.trim().is_empty() {
                    continue;
                }
                w.add_document(self.scope_doc(&id, &scope))?;
                n += 1;
            }
            Ok(())
        })?;
        Ok(n)
    }

    /// Adds the scope of enterprise `id`, or replaces it; a blank scope just removes the old one.
    pub fn upsert(&self, id: &str, scope: &str) -> Result<()> {
        self.store.write(Budget::Small, |w| {
            w.delete_term(Term::from_field_text(self.id, id));
            if !scope.trim().is_empty() {
                w.add_document(self.scope_doc(id, scope))?;
            }
            Ok(())
        })
    }

    /// Removes enterprise `id`; an unknown id is not an error.
    pub fn remove(&self, id: &str) -> Result<()> {
        self.store.write(Budget::Small, |w| {
            w.delete_term(Term::from_field_text(self.id, id));
            Ok(())
        })
    }

    /// Number of enterprises indexed.
    pub fn len(&self) -> u64 {
        self.store.reader.searcher().num_docs()
    }

    /// True when no enterprise is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Enterprise ids whose scope matches any term of `query`, with their BM25 score, best
    /// first, at most `limit`. An empty or all-punctuation query gives an empty list.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<(String, f32)>> {
        let terms = query_terms(query);
        let searcher = self.store.reader.searcher();
        let limit = limit.min(searcher.num_docs() as usize);
        if terms.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let query = BooleanQuery::new(
            terms
                .iter()
                .map(|t| (Occur::Should, term_query(self.scope, t)))
                .collect(),
        );
        let top = searcher.search(&query, &TopDocs::with_limit(limit).order_by_score())?;
        top.into_iter()
            .map(|(score, address)| {
                let doc: TantivyDocument = searcher.doc(address)?;
                Ok((first_str(&doc, self.id).to_string(), score))
            })
            .collect()
    }

    fn scope_doc(&self, id: &str, scope: &str) -> TantivyDocument {
        let mut doc = TantivyDocument::new();
        doc.add_text(self.id, id);
        doc.add_text(self.scope, scope);
        doc
    }
}

impl std::fmt::Debug for ScopeIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScopeIndex")
            .field("dir", &self.store.dir)
            .field("len", &self.len())
            .finish()
    }
}

// ---------------------------------------------------------------------------------------------
// Shared machinery
// ---------------------------------------------------------------------------------------------

/// How much memory and how many threads a write gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Budget {
    /// One thread, [`SMALL_WRITER_BYTES`]; the writer is kept for the next write.
    Small,
    /// Up to [`BULK_MAX_THREADS`] threads with [`BULK_WRITER_BYTES_PER_THREAD`] each; the
    /// writer is dropped after its commit.
    Bulk,
}

/// An index directory with its reader and its lazily created writer.
struct Store {
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    writer: Mutex<Option<IndexWriter>>,
}

impl Store {
    fn create(dir: &Path, schema: Schema) -> Result<Store> {
        let index = Index::create_in_dir(dir, schema)?;
        Store::new(dir, index)
    }

    fn open(dir: &Path, expected: Schema) -> Result<Store> {
        let index = Index::open_in_dir(dir)?;
        if index.schema() != expected {
            return Err(Error::Snapshot {
                path: dir.to_path_buf(),
                reason: "the full-text index has a different schema than this version expects"
                    .to_string(),
            });
        }
        Store::new(dir, index)
    }

    fn new(dir: &Path, index: Index) -> Result<Store> {
        index.tokenizers().register(TOKENIZER, analyzer());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Store {
            dir: dir.to_path_buf(),
            index,
            reader,
            writer: Mutex::new(None),
        })
    }

    /// Runs `ops` on the writer, then commits and reloads the reader. If `ops` or the commit
    /// fails, everything since the last commit is rolled back.
    fn write(&self, budget: Budget, ops: impl FnOnce(&IndexWriter) -> Result<()>) -> Result<()> {
        let mut slot = self.lock_writer();
        if budget == Budget::Bulk {
            // One writer per directory: release the small one before making the big one.
            *slot = None;
        }
        let writer = match &mut *slot {
            Some(w) => w,
            empty => empty.insert(self.new_writer(budget)?),
        };
        let result = ops(writer).and_then(|()| writer.commit().map_err(Error::from));
        if let Err(e) = result {
            // Discard the uncommitted operations; a writer that cannot roll back is dropped,
            // and so is a bulk writer.
            if writer.rollback().is_err() || budget == Budget::Bulk {
                *slot = None;
            }
            return Err(e);
        }
        if budget == Budget::Bulk
            && let Some(w) = slot.take()
        {
            // Let the merges the bulk load started finish, so the index is compact and the
            // threads and memory of the big writer are released.
            w.wait_merging_threads()?;
        }
        self.reader.reload()?;
        Ok(())
    }

    fn lock_writer(&self) -> MutexGuard<'_, Option<IndexWriter>> {
        // A panic while holding the lock leaves at worst uncommitted operations, which the
        // next commit would publish; roll them back.
        self.writer
            .lock()
            .unwrap_or_else(|poisoned: PoisonError<_>| {
                let mut guard = poisoned.into_inner();
                if let Some(w) = guard.as_mut()
                    && w.rollback().is_err()
                {
                    *guard = None;
                }
                guard
            })
    }

    fn new_writer(&self, budget: Budget) -> Result<IndexWriter> {
        Ok(match budget {
            Budget::Small => self.index.writer_with_num_threads(1, SMALL_WRITER_BYTES)?,
            Budget::Bulk => {
                let threads = std::thread::available_parallelism()
                    .map_or(1, |n| n.get())
                    .clamp(1, BULK_MAX_THREADS);
                self.index
                    .writer_with_num_threads(threads, threads * BULK_WRITER_BYTES_PER_THREAD)?
            }
        })
    }
}

/// The search terms `query` is reduced to, in order, without repeats: jieba search-mode words,
/// lowercased, without punctuation and function words. Documents are segmented the same way.
pub fn query_terms(query: &str) -> Vec<String> {
    let mut analyzer = analyzer();
    let mut stream = analyzer.token_stream(query);
    let mut terms: Vec<String> = Vec::new();
    while let Some(token) = stream.next() {
        if !terms.contains(&token.text) {
            terms.push(token.text.clone());
        }
    }
    terms
}

/// jieba (search mode) → drop punctuation-only tokens → lowercase → drop function words →
/// drop absurdly long tokens.
fn analyzer() -> TextAnalyzer {
    static ANALYZER: OnceLock<TextAnalyzer> = OnceLock::new();
    ANALYZER.get_or_init(build_analyzer).clone()
}

fn build_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(JiebaTokenizer::new())
        .filter(PunctuationFilter)
        .filter(LowerCaser)
        .filter(StopWordFilter::remove(
            STOP_WORDS.iter().map(|w| w.to_string()),
        ))
        .filter(RemoveLongFilter::limit(64))
        .build()
}

/// A jieba-tokenized text field (term frequencies, no positions: there are no phrase queries).
fn jieba_text(stored: bool) -> TextOptions {
    let indexing = TextFieldIndexing::default()
        .set_tokenizer(TOKENIZER)
        .set_index_option(IndexRecordOption::WithFreqs);
    let options = TextOptions::default().set_indexing_options(indexing);
    if stored {
        options.set_stored()
    } else {
        options
    }
}

fn term_query(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    ))
}

fn exact_query(field: Field, value: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, value),
        IndexRecordOption::Basic,
    ))
}

fn first_str(doc: &TantivyDocument, field: Field) -> &str {
    doc.get_first(field).and_then(|v| v.as_str()).unwrap_or("")
}

/// Plain text of a snippet with `【` `】` around the query's terms, whitespace runs collapsed,
/// at most `max_chars` characters; the start of `body` when none of them occurs in it.
///
/// The terms are located in the text directly rather than through tantivy's snippet
/// generator: jieba's search mode emits overlapping tokens whose offsets go backwards, which
/// that generator does not expect (it underflows an offset and panics in debug builds).
fn snippet_for(body: &str, terms: &[String], max_chars: usize) -> String {
    // ASCII lowercasing keeps byte offsets, and the query terms are lowercase.
    let haystack = body.to_ascii_lowercase();
    let highlights: Vec<std::ops::Range<usize>> = terms
        .iter()
        .filter(|t| !t.is_empty())
        .flat_map(|t| {
            haystack
                .match_indices(t.as_str())
                .map(|(i, m)| i..i + m.len())
        })
        .collect();
    if highlights.is_empty() {
        return collapse_whitespace(body).chars().take(max_chars).collect();
    }
    mark(body, &highlights, max_chars)
}

/// `fragment` with the byte ranges `highlights` inside `【` `】`, cut to a window of at most
/// `max_chars` characters that starts a little before the first highlight.
fn mark(fragment: &str, highlights: &[std::ops::Range<usize>], max_chars: usize) -> String {
    if highlights.is_empty() || max_chars == 0 {
        return collapse_whitespace(fragment)
            .chars()
            .take(max_chars)
            .collect();
    }
    // Adjacent and overlapping terms (jieba's search mode emits both 研发费用 and 研发) make one mark.
    let mut marks: Vec<std::ops::Range<usize>> = highlights.to_vec();
    marks.sort_by_key(|r| (r.start, r.end));
    let mut merged: Vec<std::ops::Range<usize>> = Vec::with_capacity(marks.len());
    for r in marks {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    let starts: Vec<usize> = fragment.char_indices().map(|(i, _)| i).collect();
    let (from, to) = if starts.len() <= max_chars {
        (0, fragment.len())
    } else {
        let first = starts.partition_point(|&i| i < merged[0].start);
        let begin = first.saturating_sub(10).min(starts.len() - max_chars);
        let end = starts
            .get(begin + max_chars)
            .copied()
            .unwrap_or(fragment.len());
        (starts[begin], end)
    };
    let mut out = String::new();
    let mut at = from;
    for r in merged {
        let (start, end) = (r.start.max(from), r.end.min(to));
        if start >= end {
            continue;
        }
        out.push_str(&fragment[at..start]);
        out.push_str(HIGHLIGHT_OPEN);
        out.push_str(&fragment[start..end]);
        out.push_str(HIGHLIGHT_CLOSE);
        at = end;
    }
    out.push_str(&fragment[at..to]);
    collapse_whitespace(&out)
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Drops tokens made only of punctuation, symbols and whitespace (`，`, `（`, ` `).
#[derive(Debug, Clone, Copy)]
struct PunctuationFilter;

impl TokenFilter for PunctuationFilter {
    type Tokenizer<T: Tokenizer> = PunctuationFilterWrapper<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> PunctuationFilterWrapper<T> {
        PunctuationFilterWrapper(tokenizer)
    }
}

#[derive(Clone)]
struct PunctuationFilterWrapper<T>(T);

impl<T: Tokenizer> Tokenizer for PunctuationFilterWrapper<T> {
    type TokenStream<'a> = PunctuationFilterStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        PunctuationFilterStream(self.0.token_stream(text))
    }
}

struct PunctuationFilterStream<S>(S);

impl<S: TokenStream> TokenStream for PunctuationFilterStream<S> {
    fn advance(&mut self) -> bool {
        while self.0.advance() {
            if self.0.token().text.chars().any(char::is_alphanumeric) {
                return true;
            }
        }
        false
    }

    fn token(&self) -> &Token {
        self.0.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.0.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_segmented_without_punctuation_or_function_words() {
        let t = query_terms("研发补贴");
        assert!(
            t.contains(&"研发".to_string()) && t.contains(&"补贴".to_string()),
            "{t:?}"
        );
        assert!(query_terms("，。（）“”  \"(((").is_empty());
        assert_eq!(query_terms("的"), Vec::<String>::new());
        assert!(query_terms("LPR 贴息").contains(&"lpr".to_string()));
    }

    #[test]
    fn marks_are_merged_and_the_window_is_bounded() {
        let f = "对企业研发费用给予补贴";
        let at = |s: &str| f.find(s).unwrap()..f.find(s).unwrap() + s.len();
        assert_eq!(
            mark(
                f,
                &[at("研发"), at("费用"), at("研发费用"), at("补贴")],
                120
            ),
            "对企业【研发费用】给予【补贴】"
        );
        let long = "甲".repeat(300) + "研发" + &"乙".repeat(300);
        let start = long.find("研发").unwrap();
        let range = start..start + "研发".len();
        let out = mark(&long, std::slice::from_ref(&range), 120);
        assert_eq!(out.chars().filter(|c| !"【】".contains(*c)).count(), 120);
        assert!(
            out.starts_with(&"甲".repeat(10)) && out.contains("【研发】"),
            "{out}"
        );
        // A body with no match gives its start.
        assert_eq!(snippet_for("甲 \n 乙丙", &["丁".to_string()], 3), "甲 乙");
        // Overlapping terms from jieba's search mode (研发费用 and 研发) make one mark, and ASCII
        // matches ignore case.
        let terms = [
            "研发费用".to_string(),
            "研发".to_string(),
            "iso9001".to_string(),
        ];
        assert_eq!(
            snippet_for("支持研发费用与ISO9001认证", &terms, 60),
            "支持【研发费用】与【ISO9001】认证"
        );
    }
}
