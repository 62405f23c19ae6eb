//! `huiqi search`: ranked products and policies with snippets, full-text or semantic.

use std::io::Write;
use std::path::Path;

use huiqi_engine::model::Status;
use huiqi_index::embed;
use huiqi_index::snapshot::Store;
use huiqi_index::text::{DocKind, Filters};

use super::{CliError, CliResult};

pub(super) struct Args<'a> {
    pub query: &'a str,
    pub data: &'a Path,
    pub semantic: bool,
    pub json: bool,
    pub filters: Filters,
    pub limit: usize,
    pub model: Option<&'a Path>,
}

pub(super) fn run(args: Args<'_>, out: &mut dyn Write) -> CliResult {
    let store = Store::open(args.data).map_err(super::index_error)?;
    let snapshot = store.current();
    if args.semantic {
        let embedder = embed::for_snapshot(&snapshot.manifest.embedder, args.model)
            .map_err(|e| CliError::Input(e.to_string()))?;
        // Filters apply after ranking; the catalog is small enough to rank all of it.
        let hits = snapshot
            .semantic(embedder.as_ref(), args.query, snapshot.vectors.len())
            .map_err(super::index_error)?;
        let published = |s: Status| !args.filters.published_only || s == Status::Published;
        let rows: Vec<(String, &'static str, String, String, f32)> = hits
            .into_iter()
            .filter_map(|(id, sim)| {
                if let Some(p) = snapshot.product(&id) {
                    let kind = p.item.kind.label().to_string();
                    published(p.item.status)
                        .then(|| (id, "product", p.item.name.clone(), kind, sim))
                } else {
                    let p = snapshot.policy(&id)?;
                    let kind = p.item.kind.label().to_string();
                    published(p.item.status)
                        .then(|| (id, "policy", p.item.title.clone(), kind, sim))
                }
            })
            .filter(|(_, doc, _, kind, _)| {
                args.filters
                    .doc
                    .is_none_or(|d| (d == DocKind::Product) == (*doc == "product"))
                    && args.filters.kind.as_ref().is_none_or(|k| k == kind)
            })
            .take(args.limit)
            .collect();
        if args.json {
            let v: Vec<_> = rows
                .iter()
                .map(|(id, doc, title, kind, sim)| serde_json::json!({"id": id, "doc": doc, "title": title, "kind": kind, "similarity": sim}))
                .collect();
            return super::write_json(out, &v);
        }
        let table: Vec<Vec<String>> = rows
            .iter()
            .enumerate()
            .map(|(i, (id, doc, title, kind, sim))| {
                vec![
                    (i + 1).to_string(),
                    format!("{sim:.3}"),
                    doc.to_string(),
                    kind.clone(),
                    title.clone(),
                    id.clone(),
                ]
            })
            .collect();
        writeln!(
            out,
            "semantic search ({}) for {:?}:",
            snapshot.manifest.embedder.id, args.query
        )?;
        out.write_all(
            crate::table::render(&["#", "similarity", "doc", "kind", "title", "id"], &table)
                .as_bytes(),
        )?;
        return Ok(());
    }
    let hits = snapshot
        .search(args.query, &args.filters, args.limit)
        .map_err(super::index_error)?;
    if args.json {
        return super::write_json(out, &hits);
    }
    if hits.is_empty() {
        writeln!(out, "no products or policies match {:?}", args.query)?;
        return Ok(());
    }
    for (i, h) in hits.iter().enumerate() {
        let doc = match h.doc {
            DocKind::Product => "产品",
            DocKind::Policy => "政策",
        };
        writeln!(
            out,
            "{:>2}. [{doc}·{}] {}  ({}, {})  score {:.2}",
            i + 1,
            h.kind,
            h.title,
            h.institution,
            h.id,
            h.score
        )?;
        writeln!(out, "    {}", h.snippet)?;
    }
    Ok(())
}
