//! `huiqi match`: one enterprise → ranked offers with scores and reasons, and what to add.

use std::io::Write;
use std::path::Path;

use chrono::NaiveDate;
use huiqi_engine::Enterprise;
use huiqi_engine::matching::{Match, MatchOptions, MatchResult, OfferKind, match_enterprise};
use huiqi_engine::rule::{Facts, Verdict};
use huiqi_engine::text::{money, percent};
use huiqi_index::embed;
use huiqi_index::snapshot::{Snapshot, Store};

use super::{CliError, CliResult};

pub(super) struct Args<'a> {
    pub enterprise: &'a str,
    pub data: &'a Path,
    pub as_of: NaiveDate,
    pub reader: Option<huiqi_engine::model::Reader>,
    pub limit: usize,
    pub json: bool,
}

/// An id from the snapshot, or a JSON file holding one enterprise.
fn find_enterprise(snapshot: &Snapshot, arg: &str) -> Result<Enterprise, CliError> {
    if let Some(e) = snapshot.enterprise(arg) {
        return Ok(e.clone());
    }
    if Path::new(arg).is_file() {
        return super::eval::load_enterprise(Path::new(arg), None);
    }
    Err(CliError::Input(format!(
        "{arg:?} is neither an enterprise id in the snapshot nor a file"
    )))
}

pub(super) fn run(args: Args<'_>, out: &mut dyn Write) -> CliResult {
    let store = Store::open(args.data).map_err(super::index_error)?;
    let snapshot = store.current();
    let enterprise = find_enterprise(&snapshot, args.enterprise)?;
    // Semantic similarity when the snapshot's embedder is available here; full text always.
    let embedder = embed::for_snapshot(&snapshot.manifest.embedder, None).ok();
    let signals = snapshot
        .signals(&enterprise, embedder.as_deref())
        .map_err(super::index_error)?;
    let result = match_enterprise(
        &snapshot.matching,
        &enterprise,
        args.as_of,
        args.reader.as_ref(),
        &signals,
        &MatchOptions {
            limit: args.limit,
            ..MatchOptions::default()
        },
    );
    if args.json {
        return super::write_json(out, &result);
    }
    let facts = match &args.reader {
        Some(r) => Facts::for_reader(&enterprise, args.as_of, r),
        None => Facts::new(&enterprise, args.as_of),
    };
    print_result(&snapshot, &enterprise, &result, &facts, args.limit, out)?;
    Ok(())
}

fn head(m: &Match) -> String {
    let doc = match m.offer.kind {
        OfferKind::Product => "产品",
        OfferKind::Policy => "政策",
    };
    let extra = match (m.score.rate_bp, &m.score.benefit) {
        (Some(rate), _) => format!("年利率 {} 起", percent(rate)),
        (_, Some(b)) if b.yuan > 0 => format!("预计可获 {}（{}）", money(b.yuan), b.basis),
        (_, Some(b)) => b.basis.clone(),
        _ => String::new(),
    };
    let closing = m
        .score
        .days_left
        .filter(|d| *d <= 30)
        .map(|d| format!("，{d} 天后截止"))
        .unwrap_or_default();
    format!(
        "[{doc}·{}] {}（{}，{}）{extra}{closing}",
        m.offer.label, m.offer.title, m.offer.provider, m.offer.id
    )
}

fn breakdown(m: &Match) -> String {
    let s = &m.score;
    format!(
        "得分 {:.2} = 需求匹配 {:.2} · 文本 {:.2} · 语义 {:.2} · 吸引力 {:.2} · 时效 {:.2}",
        s.total, s.need_fit, s.text, s.semantic, s.attractiveness, s.time
    )
}

fn print_result(
    snapshot: &Snapshot,
    e: &Enterprise,
    r: &MatchResult,
    facts: &Facts<'_>,
    limit: usize,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(
        out,
        "企业：{}（{}）  评估日期：{}  在售/在申报 {} 项",
        e.name, e.id, r.as_of, r.evaluated
    )?;
    writeln!(
        out,
        "符合 {} 项 · 可能符合待确认 {} 项 · 差一点 {} 项\n",
        r.totals.eligible, r.totals.needs_info, r.totals.near_misses
    )?;
    writeln!(out, "== 符合条件")?;
    for (i, m) in r.eligible.iter().take(limit).enumerate() {
        writeln!(
            out,
            "{:>2}. {}\n    {}；{} 项条件全部符合",
            i + 1,
            head(m),
            breakdown(m),
            m.evaluation.verdicts.len()
        )?;
    }
    writeln!(out, "\n== 可能符合，待补充信息")?;
    for (i, m) in r.needs_info.iter().take(limit).enumerate() {
        let labels: Vec<&str> = m
            .missing
            .iter()
            .filter_map(|f| huiqi_engine::fields::lookup(f))
            .map(|id| id.def().label)
            .collect();
        writeln!(
            out,
            "{:>2}. {}\n    {}；待补充：{}",
            i + 1,
            head(m),
            breakdown(m),
            labels.join("、")
        )?;
    }
    writeln!(out, "\n== 差一点符合")?;
    for (i, m) in r.near_misses.iter().take(limit).enumerate() {
        writeln!(out, "{:>2}. {}", i + 1, head(m))?;
        if let Some(x) = snapshot.matching.explain(m, facts) {
            for c in x.clauses.iter().filter(|c| c.verdict == Verdict::Fail) {
                let actual = c.actual.as_deref().unwrap_or("未知");
                writeln!(
                    out,
                    "    不符合：{}为 {}，要求 {}",
                    c.label, actual, c.requirement
                )?;
            }
        }
    }
    if !r.ask_next.is_empty() {
        writeln!(out, "\n== 建议优先补充的信息")?;
        for (i, a) in r.ask_next.iter().take(limit).enumerate() {
            let decisive = if a.decisive > 0 {
                format!("，其中 {} 项只差这一项", a.decisive)
            } else {
                String::new()
            };
            writeln!(
                out,
                "{:>2}. {}（{}）：影响 {} 项{decisive}",
                i + 1,
                a.label,
                a.field,
                a.offers
            )?;
        }
    }
    Ok(())
}
