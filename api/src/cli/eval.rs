//! `huiqi eval`: one rule, one enterprise, every clause explained.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use huiqi_engine::model::{Enterprise, Reader, Role, RuleSpec};
use huiqi_engine::rule::{Facts, Rule, Verdict, compile};
use huiqi_index::input::read_enterprises;
use huiqi_index::{Report, validate::check_enterprise};

use super::check::write_rule_errors;
use super::{CliError, CliResult, rule_source};

pub(super) struct Args {
    pub enterprise: PathBuf,
    pub id: Option<String>,
    pub rule: String,
    pub as_of: NaiveDate,
    pub reader: Option<String>,
    pub json: bool,
}

pub(super) fn run(args: Args, out: &mut dyn Write) -> CliResult {
    let enterprise = load_enterprise(&args.enterprise, args.id.as_deref())?;
    let (rule, rule_label) = load_rule(&args.rule, out)?;
    let reader = args.reader.as_deref().map(parse_reader).transpose()?;
    let facts = match &reader {
        Some(r) => Facts::for_reader(&enterprise, args.as_of, r),
        None => Facts::new(&enterprise, args.as_of),
    };
    let explanation = rule.explain(&facts);
    if args.json {
        let doc = serde_json::json!({
            "enterprise": {"id": enterprise.id, "name": enterprise.name},
            "as_of": args.as_of,
            "rule": rule.expr.to_string(),
            "explanation": explanation,
        });
        return super::write_json(out, &doc);
    }
    writeln!(
        out,
        "企业：{}（{}）  评估日期：{}",
        enterprise.name, enterprise.id, args.as_of
    )?;
    writeln!(out, "规则：{rule_label}\n  {}", rule.expr)?;
    writeln!(
        out,
        "结果：{}（{:?}）\n",
        explanation.outcome.label(),
        explanation.outcome
    )?;
    let rows: Vec<Vec<String>> = explanation
        .clauses
        .iter()
        .map(|c| {
            let actual = match (&c.actual, c.withheld) {
                (Some(a), _) => a.clone(),
                (None, true) => "未授权".into(),
                (None, false) => "未知".into(),
            };
            let mark = match c.verdict {
                Verdict::Pass => "✓ 符合",
                Verdict::Fail => "✗ 不符合",
                Verdict::Unknown => "? 待确认",
            };
            vec![c.label.clone(), actual, c.requirement.clone(), mark.into()]
        })
        .collect();
    out.write_all(crate::table::render(&["条件", "企业情况", "要求", "结果"], &rows).as_bytes())?;
    for c in explanation.clauses.iter().filter(|c| c.note.is_some()) {
        writeln!(
            out,
            "注：{}：{}",
            c.label,
            c.note.as_deref().unwrap_or_default()
        )?;
    }
    if !explanation.unknown_fields.is_empty() {
        let list: Vec<String> = explanation
            .unknown_fields
            .iter()
            .map(|f| format!("{}（{}）", f.label, f.field))
            .collect();
        writeln!(out, "\n待补充信息：{}", list.join("、"))?;
    }
    if !explanation.withheld_categories.is_empty() {
        let list: Vec<&str> = explanation
            .withheld_categories
            .iter()
            .map(|c| c.label())
            .collect();
        writeln!(out, "未授权使用的信息类别：{}", list.join("、"))?;
    }
    Ok(())
}

pub(super) fn load_enterprise(path: &Path, id: Option<&str>) -> Result<Enterprise, CliError> {
    if !path.is_file() {
        return Err(CliError::Input(format!("{}: no such file", path.display())));
    }
    let mut report = Report::default();
    let records = read_enterprises(path, &mut report);
    if report.has_errors() {
        let msgs: Vec<String> = report.errors().map(|i| i.to_string()).collect();
        return Err(CliError::Input(msgs.join("\n")));
    }
    let rec = match id {
        Some(id) => records
            .into_iter()
            .find(|r| r.item.id == id)
            .ok_or_else(|| {
                CliError::Input(format!("{}: no enterprise with id {id:?}", path.display()))
            })?,
        None if records.len() == 1 => records.into_iter().next().expect("one record"),
        None => {
            return Err(CliError::Input(format!(
                "{}: holds {} enterprises; choose one with --id",
                path.display(),
                records.len()
            )));
        }
    };
    let mut report = Report::default();
    if !check_enterprise(&rec.item, &rec.file, rec.line, &mut report) {
        let msgs: Vec<String> = report.errors().map(|i| i.to_string()).collect();
        return Err(CliError::Input(msgs.join("\n")));
    }
    Ok(rec.item)
}

/// A rule from text, a rule file, or a product/policy JSON file's eligibility.
fn load_rule(arg: &str, out: &mut dyn Write) -> Result<(Rule, String), CliError> {
    let (text, file) = rule_source(arg)?;
    let label = file
        .as_ref()
        .map(|f| f.display().to_string())
        .unwrap_or_else(|| "rule".into());
    let is_json = file
        .as_ref()
        .and_then(|f| f.extension())
        .is_some_and(|e| e == "json");
    if is_json {
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| CliError::Input(format!("{label}: not valid JSON: {e}")))?;
        let spec = value.get("eligibility").ok_or_else(|| {
            CliError::Input(format!(
                "{label}: no \"eligibility\" rule in this JSON file"
            ))
        })?;
        let spec: RuleSpec = serde_json::from_value(spec.clone())
            .map_err(|e| CliError::Input(format!("{label}: eligibility: {e}")))?;
        let title = value
            .get("title")
            .or_else(|| value.get("name"))
            .and_then(|t| t.as_str())
            .unwrap_or_default();
        return match spec.compile() {
            Ok(rule) => Ok((rule, format!("{label} {title}"))),
            Err(e) => {
                if let RuleSpec::Text(t) = &spec {
                    write_rule_errors(out, &label, t, &e)?;
                }
                Err(CliError::Input(format!("{label}: eligibility: {e}")))
            }
        };
    }
    match compile(&text) {
        Ok(rule) => Ok((rule, label)),
        Err(e) => {
            write_rule_errors(out, &label, &text, &e)?;
            Err(CliError::Input(format!(
                "{} error(s) in the rule",
                e.0.len()
            )))
        }
    }
}

pub(super) fn parse_reader(s: &str) -> Result<Reader, CliError> {
    let (role, org) = match s.split_once(':') {
        Some((r, o)) => (r, Some(o.to_string())),
        None => (s, None),
    };
    let role = match role {
        "enterprise" => Role::Enterprise,
        "advisor" => Role::Advisor,
        "policy_office" => Role::PolicyOffice,
        "institution" => Role::Institution,
        "admin" => Role::Admin,
        other => {
            return Err(CliError::Input(format!(
                "--reader {other:?}: expected enterprise, advisor, policy_office, institution or admin (optionally :ID)"
            )));
        }
    };
    Ok(Reader { role, org })
}
