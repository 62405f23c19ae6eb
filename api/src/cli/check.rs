//! `huiqi check`: rules, input files and folders, with every problem located.

use std::io::Write;
use std::path::Path;

use huiqi_engine::rule::{Location, RuleErrors, compile};
use huiqi_index::input::Kind;
use huiqi_index::validate::{Catalog, load_file_into};
use huiqi_index::{Report, load_dir};

use super::{CliError, CliResult, rule_source};

pub(super) fn run(inputs: &[String], json: bool, out: &mut dyn Write) -> CliResult {
    let mut errors = 0;
    let mut json_out = Vec::new();
    for input in inputs {
        let path = Path::new(input);
        let (report, summary) = if path.is_dir() {
            let (catalog, report) = load_dir(path);
            (report, counts(&catalog))
        } else if path.is_file() && is_data_file(path) {
            let mut catalog = Catalog::default();
            let mut report = Report::default();
            load_file_into(path, kind_of(path)?, &mut catalog, &mut report);
            (report, counts(&catalog))
        } else {
            let (text, file) = rule_source(input)?;
            let label = file
                .map(|f| f.display().to_string())
                .unwrap_or_else(|| "rule".into());
            match compile(&text) {
                Ok(rule) => {
                    if json {
                        json_out.push(serde_json::json!({"input": label, "ok": true, "rule": rule.expr.to_string(), "json": rule.expr.to_json()}));
                    } else {
                        writeln!(
                            out,
                            "ok: {label}: {} clause(s)\n  {}",
                            rule.clauses.len(),
                            rule.expr
                        )?;
                    }
                }
                Err(e) => {
                    errors += e.0.len();
                    if json {
                        json_out.push(serde_json::json!({"input": label, "ok": false, "errors": e.0.iter().map(|e| e.to_string()).collect::<Vec<_>>()}));
                    } else {
                        write_rule_errors(out, &label, &text, &e)?;
                    }
                }
            }
            continue;
        };
        errors += report.errors().count();
        if json {
            json_out.push(serde_json::json!({"input": input, "ok": !report.has_errors(), "issues": report.issues, "loaded": summary}));
            continue;
        }
        for issue in &report.issues {
            writeln!(out, "{issue}")?;
        }
        writeln!(
            out,
            "{}: {input}: {summary}; {} error(s), {} warning(s)",
            if report.has_errors() { "failed" } else { "ok" },
            report.errors().count(),
            report.warnings().count()
        )?;
    }
    if json {
        super::write_json(out, &json_out)?;
    }
    if errors > 0 {
        return Err(CliError::Input(format!("{errors} error(s) found")));
    }
    Ok(())
}

fn is_data_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("json" | "jsonl" | "ndjson")
    )
}

/// The kind of a data file: by its folder or name, else by what its first record holds.
fn kind_of(path: &Path) -> Result<Kind, CliError> {
    if let Some(kind) = Kind::of_path(path) {
        return Ok(kind);
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Input(format!("{}: cannot read: {e}", path.display())))?;
    Ok(if text.contains("\"institution_id\"") {
        Kind::Products
    } else if text.contains("\"issuer\"") {
        Kind::Policies
    } else {
        Kind::Enterprises
    })
}

fn counts(c: &Catalog) -> String {
    format!(
        "{} product(s), {} policy(ies), {} enterprise(s) valid",
        c.products.len(),
        c.policies.len(),
        c.enterprises.len()
    )
}

/// Each error with the offending line of the rule and a caret under the column.
pub(super) fn write_rule_errors(
    out: &mut dyn Write,
    label: &str,
    text: &str,
    errors: &RuleErrors,
) -> std::io::Result<()> {
    for e in &errors.0 {
        writeln!(out, "error: {label}: {e}")?;
        if let Location::Text { line, column } = e.location
            && let Some(src) = text.lines().nth(line - 1)
        {
            let pad: usize = src
                .chars()
                .take(column - 1)
                .map(|c| unicode_width::UnicodeWidthChar::width(c).unwrap_or(1))
                .sum();
            writeln!(out, "  | {src}\n  | {}^", " ".repeat(pad))?;
        }
    }
    Ok(())
}
