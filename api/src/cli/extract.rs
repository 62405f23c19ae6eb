//! `huiqi extract`: policy prose → a draft rule with the sentence of every clause, for review;
//! `--eval <dir>` compares drafts with the hand-written rules of a folder of policies.

use std::io::Write;
use std::path::Path;

use huiqi_engine::Policy;
use huiqi_engine::codes::region;
use huiqi_engine::model::RuleSpec;
use huiqi_index::extract::eval::{Evaluation, Totals, evaluate};
use huiqi_index::extract::{Draft, Source, extract};

use super::{CliError, CliResult};

/// Reads the prose: a policy JSON file's `text`, or a plain text file.
fn read_text(path: &Path) -> Result<String, CliError> {
    let raw = std::fs::read_to_string(path)
        .map_err(|e| CliError::Input(format!("{}: cannot read: {e}", path.display())))?;
    if path.extension().is_some_and(|x| x == "json") {
        let v: serde_json::Value = serde_json::from_str(&raw)
            .map_err(|e| CliError::Input(format!("{}: not JSON: {e}", path.display())))?;
        return v
            .get("text")
            .and_then(|t| t.as_str())
            .map(str::to_string)
            .ok_or_else(|| {
                CliError::Input(format!("{}: no \"text\" field to read", path.display()))
            });
    }
    Ok(raw)
}

pub(super) fn run(file: &Path, json: bool, out: &mut dyn Write) -> CliResult {
    let text = read_text(file)?;
    let draft = extract(&text);
    if json {
        return super::write_json(out, &draft);
    }
    write_draft(out, &file.display().to_string(), &draft)
}

fn span(s: &Source) -> String {
    format!(
        "字节 {}..{}，字符 {}..{}",
        s.start, s.end, s.char_start, s.char_end
    )
}

fn write_draft(out: &mut dyn Write, label: &str, d: &Draft) -> CliResult {
    writeln!(out, "草稿规则（待人工审核）：{label}\n")?;
    writeln!(out, "{}", d.rule.trim_end())?;
    writeln!(out, "\n条款与出处：")?;
    for (i, c) in d.clauses.iter().enumerate() {
        writeln!(
            out,
            "{:>2}. {}   置信度 {:.2}   [{}]",
            i + 1,
            c.rule,
            c.confidence,
            span(&c.source)
        )?;
        writeln!(out, "    原文：{}", c.source.sentence)?;
    }
    writeln!(out, "\n支持标准：")?;
    match &d.benefit {
        Some(b) => {
            writeln!(
                out,
                "  {}",
                serde_json::to_string(b).map_err(|e| CliError::Internal(e.into()))?
            )?;
            for s in &d.benefit_sources {
                writeln!(out, "    原文：{}   [{}]", s.sentence, span(s))?;
            }
        }
        None => writeln!(out, "  未识别")?,
    }
    let date = |d: Option<chrono::NaiveDate>| d.map_or("?".to_string(), |d| d.to_string());
    writeln!(
        out,
        "\n申报时间：{} 至 {}",
        date(d.window.opens),
        date(d.window.closes)
    )?;
    if let Some(s) = &d.window_source {
        writeln!(out, "    原文：{}   [{}]", s.sentence, span(s))?;
    }
    let regions: Vec<String> = d
        .regions
        .iter()
        .map(|c| format!("{c}（{}）", region::full_name(c).unwrap_or_default()))
        .collect();
    writeln!(
        out,
        "\n地区：{}",
        if regions.is_empty() {
            "未限定".to_string()
        } else {
            regions.join("、")
        }
    )?;
    let l = &d.loan;
    writeln!(
        out,
        "\n贷款条件：种类 {}；本金上限 {}；期限上限 {}；利率上限 {}",
        if l.kinds.is_empty() {
            "-".to_string()
        } else {
            l.kinds.join("、")
        },
        l.max_amount.map_or("-".into(), |v| format!("{v}元")),
        l.max_term_months.map_or("-".into(), |v| format!("{v}个月")),
        l.max_rate_over_lpr_bp
            .map_or("-".into(), |v| format!("LPR+{v}个基点")),
    )?;
    writeln!(
        out,
        "\n未能识别的条件（{} 句，请人工审核）：",
        d.unread.len()
    )?;
    for u in &d.unread {
        writeln!(
            out,
            "  - {}   [{}]（{}）",
            u.source.sentence,
            span(&u.source),
            u.reason
        )?;
    }
    Ok(())
}

pub(super) fn run_eval(dir: &Path, json: bool, out: &mut dyn Write) -> CliResult {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| CliError::Input(format!("{}: cannot read folder: {e}", dir.display())))?;
    let mut policies: Vec<(String, String, String)> = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let raw = std::fs::read_to_string(&path)?;
        let p: Policy = serde_json::from_str(&raw)
            .map_err(|e| CliError::Input(format!("{}: not a policy: {e}", path.display())))?;
        let rule = match &p.eligibility {
            RuleSpec::Text(t) => t.clone(),
            RuleSpec::Json(e) => e.to_string(),
        };
        policies.push((p.id, p.text, rule));
    }
    if policies.is_empty() {
        return Err(CliError::Input(format!(
            "{}: no policy JSON files",
            dir.display()
        )));
    }
    let e = evaluate(
        policies
            .iter()
            .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str())),
    )
    .map_err(|e| CliError::Input(format!("a hand-written rule does not parse: {e}")))?;
    if json {
        return super::write_json(out, &e);
    }
    write_eval(out, &e)
}

fn write_eval(out: &mut dyn Write, e: &Evaluation) -> CliResult {
    writeln!(
        out,
        "| policy | extracted | hand-written | matched | precision | recall |"
    )?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|")?;
    for p in &e.policies {
        writeln!(
            out,
            "| {} | {} | {} | {} | {:.2} | {:.2} |",
            p.id, p.extracted, p.expected, p.matched, p.precision, p.recall
        )?;
    }
    let total = |out: &mut dyn Write, t: &Totals, label: &str| -> CliResult {
        writeln!(
            out,
            "| **{label}** ({} policies) | {} | {} | {} | **{:.3}** | **{:.3}** |",
            t.policies, t.extracted, t.expected, t.matched, t.precision, t.recall
        )?;
        Ok(())
    };
    for g in &e.groups {
        total(out, g, &format!("{}*", g.label))?;
    }
    total(out, &e.total, "total")?;
    let misses: Vec<String> = e
        .policies
        .iter()
        .filter(|p| !p.missing.is_empty() || !p.extra.is_empty())
        .map(|p| format!("{}: missing {:?}; extra {:?}", p.id, p.missing, p.extra))
        .collect();
    if !misses.is_empty() {
        writeln!(out, "\ndifferences:")?;
        for m in misses {
            writeln!(out, "  {m}")?;
        }
    }
    Ok(())
}
