//! Reading input files: products, policies and enterprises as JSON (one object or an array) or
//! JSON Lines, with the line every record starts on, so that problems can be reported as
//! `file:line`.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::report::{Issue, Report};

/// What a file holds, decided by the folder it is in or its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Products,
    Policies,
    Enterprises,
}

impl Kind {
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Products => "product",
            Kind::Policies => "policy",
            Kind::Enterprises => "enterprise",
        }
    }

    /// Guesses the kind from a path: a `products/` or `policies/` folder, or a file name
    /// containing `product`, `polic` or `enterprise`.
    pub fn of_path(path: &Path) -> Option<Kind> {
        let name = path.file_name()?.to_string_lossy().to_lowercase();
        let parent = path
            .parent()
            .and_then(|p| p.file_name())
            .map(|p| p.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        for (key, kind) in [
            ("product", Kind::Products),
            ("polic", Kind::Policies),
            ("enterprise", Kind::Enterprises),
        ] {
            if name.contains(key) || parent.contains(key) {
                return Some(kind);
            }
        }
        None
    }
}

/// One record read from a file, with where it came from.
#[derive(Debug, Clone)]
pub struct Sourced<T> {
    pub item: T,
    pub file: PathBuf,
    /// 1-based line the record starts on.
    pub line: usize,
}

/// Reads every record of `kind` in one file. Records that do not deserialize are reported
/// (file, line, the serde message naming the field) and skipped; the rest are returned.
pub fn read_file<T: DeserializeOwned>(
    path: &Path,
    kind: Kind,
    report: &mut Report,
) -> Vec<Sourced<T>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            report.push(Issue::error(
                path,
                None,
                format!("cannot read the file: {e}"),
            ));
            return Vec::new();
        }
    };
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if ext == "jsonl" || ext == "ndjson" {
        read_json_lines(&text, path, kind, report)
    } else if ext == "csv" {
        report.push(Issue::error(
            path,
            None,
            format!(
                "CSV is read for enterprises only, not {}s: use JSON or JSON Lines",
                kind.noun()
            ),
        ));
        Vec::new()
    } else {
        read_json(&text, path, kind, report)
    }
}

/// Reads enterprises from JSON, JSON Lines or CSV (see [`crate::enterprise_csv`]).
pub fn read_enterprises(
    path: &Path,
    report: &mut Report,
) -> Vec<Sourced<huiqi_engine::Enterprise>> {
    if path.extension().is_some_and(|e| e == "csv") {
        return match std::fs::read_to_string(path) {
            Ok(text) => crate::enterprise_csv::read(path, &text, report),
            Err(e) => {
                report.push(Issue::error(
                    path,
                    None,
                    format!("cannot read the file: {e}"),
                ));
                Vec::new()
            }
        };
    }
    read_file(path, Kind::Enterprises, report)
}

fn read_json_lines<T: DeserializeOwned>(
    text: &str,
    path: &Path,
    kind: Kind,
    report: &mut Report,
) -> Vec<Sourced<T>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<T>(line) {
            Ok(item) => out.push(Sourced {
                item,
                file: path.to_path_buf(),
                line: i + 1,
            }),
            Err(e) => report.push(
                Issue::error(
                    path,
                    Some(i + 1),
                    format!("{}: {}", kind.noun(), serde_message(&e)),
                )
                .at_column(e.column()),
            ),
        }
    }
    out
}

fn read_json<T: DeserializeOwned>(
    text: &str,
    path: &Path,
    kind: Kind,
    report: &mut Report,
) -> Vec<Sourced<T>> {
    let line_of = |raw: &RawValue| {
        let offset = raw.get().as_ptr() as usize - text.as_ptr() as usize;
        text[..offset].matches('\n').count() + 1
    };
    // An array of records, or one record on its own.
    let parsed = if text.trim_start().starts_with('[') {
        serde_json::from_str::<Vec<&RawValue>>(text)
    } else {
        serde_json::from_str::<&RawValue>(text).map(|v| vec![v])
    };
    let raws = match parsed {
        Ok(v) => v,
        Err(e) => {
            report.push(
                Issue::error(
                    path,
                    Some(e.line()),
                    format!("not valid JSON: {}", serde_message(&e)),
                )
                .at_column(e.column()),
            );
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for raw in raws {
        let start = line_of(raw);
        match serde_json::from_str::<T>(raw.get()) {
            Ok(item) => out.push(Sourced {
                item,
                file: path.to_path_buf(),
                line: start,
            }),
            Err(e) => report.push(
                Issue::error(
                    path,
                    Some(start + e.line() - 1),
                    format!("{}: {}", kind.noun(), serde_message(&e)),
                )
                .at_column(e.column()),
            ),
        }
    }
    out
}

/// serde's message without its trailing " at line N column M" (we report positions ourselves).
fn serde_message(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg,
    }
}

/// The input files under a folder: `products/`, `policies/` and enterprise files, sorted so
/// that runs are reproducible.
pub fn discover(dir: &Path) -> std::io::Result<Vec<(PathBuf, Kind)>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if !["json", "jsonl", "ndjson", "csv"].contains(&ext) {
                continue;
            }
            if let Some(kind) = Kind::of_path(&path) {
                out.push((path, kind));
            }
        }
    }
    out.sort();
    Ok(out)
}
