//! `huiqi reach`: who would a policy reach (政策找人) — counts by region, size and industry, and
//! a sample of the enterprises.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use chrono::NaiveDate;
use huiqi_engine::matching::offer_rule;
use huiqi_engine::model::Policy;
use huiqi_engine::reverse::{CompiledPredicate, EnterpriseStore, GroupCount, reach};
use huiqi_engine::rule::Outcome;
use huiqi_index::snapshot::Store;

use super::{CliError, CliResult};

pub(super) struct Args<'a> {
    pub policy: &'a str,
    pub data: &'a Path,
    pub as_of: NaiveDate,
    pub sample: usize,
    pub json: bool,
}

/// A policy id from the snapshot, or a JSON file of one policy.
fn find_policy(snapshot: &huiqi_index::snapshot::Snapshot, arg: &str) -> Result<Policy, CliError> {
    if let Some(p) = snapshot.policy(arg) {
        return Ok(p.item.clone());
    }
    let path = Path::new(arg);
    if path.is_file() {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::Input(format!("{arg}: cannot read: {e}")))?;
        return serde_json::from_str(&text)
            .map_err(|e| CliError::Input(format!("{arg}: not a policy: {e}")));
    }
    Err(CliError::Input(format!(
        "{arg:?} is neither a policy id in the snapshot nor a file"
    )))
}

pub(super) fn run(args: Args<'_>, out: &mut dyn Write) -> CliResult {
    let store = Store::open(args.data).map_err(super::index_error)?;
    let snapshot = store.current();
    let policy = find_policy(&snapshot, args.policy)?;
    let rule = policy
        .eligibility
        .compile()
        .map_err(|e| CliError::Input(format!("{}: eligibility: {e}", policy.id)))?;
    let rule = offer_rule(&rule, &policy.regions, &[]);
    let enterprises = EnterpriseStore::build(snapshot.enterprises.iter().cloned())
        .map_err(|e| CliError::Internal(anyhow::anyhow!("{e}")))?;
    let predicate = CompiledPredicate::compile(&rule, args.as_of)
        .map_err(|e| CliError::Input(format!("{}: {e}", policy.id)))?;
    let started = Instant::now();
    let r = reach(&enterprises, &predicate);
    let took = started.elapsed();
    let sample = |o: Outcome| -> Vec<String> {
        r.sample(&enterprises, o, args.sample)
            .into_iter()
            .map(String::from)
            .collect()
    };
    if args.json {
        let doc = serde_json::json!({
            "policy": policy.id, "title": policy.title, "as_of": args.as_of, "rule": rule.expr.to_string(),
            "enterprises": enterprises.len(), "eligible": r.eligible.len(), "needs_info": r.needs_info.len(),
            "by_province": r.by_province, "by_city": r.by_city, "by_size": r.by_size, "by_section": r.by_section,
            "sample_eligible": sample(Outcome::Eligible), "sample_needs_info": sample(Outcome::NeedsInfo),
        });
        return super::write_json(out, &doc);
    }
    writeln!(
        out,
        "政策：{}（{}）  评估日期：{}",
        policy.title, policy.id, args.as_of
    )?;
    writeln!(out, "规则：{}", rule.expr)?;
    writeln!(
        out,
        "在 {} 家企业中：符合 {} 家 · 可能符合待确认 {} 家（用时 {:.2} ms）\n",
        enterprises.len(),
        r.eligible.len(),
        r.needs_info.len(),
        took.as_secs_f64() * 1e3
    )?;
    let table = |title: &str, groups: &[GroupCount], out: &mut dyn Write| -> std::io::Result<()> {
        let mut rows: Vec<&GroupCount> = groups
            .iter()
            .filter(|g| g.eligible + g.needs_info > 0)
            .collect();
        rows.sort_by_key(|g| std::cmp::Reverse((g.eligible, g.needs_info)));
        let rows: Vec<Vec<String>> = rows
            .into_iter()
            .map(|g| {
                vec![
                    g.name
                        .map(String::from)
                        .or(g.key.clone())
                        .unwrap_or_else(|| "未知".into()),
                    g.eligible.to_string(),
                    g.needs_info.to_string(),
                ]
            })
            .collect();
        writeln!(out, "{title}")?;
        out.write_all(crate::table::render(&["", "符合", "待确认"], &rows).as_bytes())?;
        writeln!(out)
    };
    table("按地区（省）", &r.by_province, out)?;
    table("按规模", &r.by_size, out)?;
    table("按行业门类", &r.by_section, out)?;
    for (title, outcome) in [
        ("符合的企业（示例）", Outcome::Eligible),
        ("可能符合、待补充信息的企业（示例）", Outcome::NeedsInfo),
    ] {
        let ids = sample(outcome);
        if ids.is_empty() {
            continue;
        }
        writeln!(out, "{title}")?;
        for id in ids {
            let name = snapshot
                .enterprise(&id)
                .map(|e| e.name.as_str())
                .unwrap_or("");
            writeln!(out, "  {id}  {name}")?;
        }
    }
    Ok(())
}
