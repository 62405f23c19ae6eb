//! Policy prose → a draft rule, with the sentence each clause came from.
//!
//! Policy offices publish prose (申报条件, 支持标准, 申报时间). [`extract`] reads it with the
//! regex table in [`patterns`] and returns a [`Draft`]: a rule in the engine's rule language
//! (it always parses and type-checks), the benefit in the shape of a policy's `benefit`, the
//! application window, the regions, conditions on the loan, and — for a reviewer — every
//! clause's sentence with its span and a confidence, plus the condition sentences it could not
//! read. A human reviews the draft before it is published; [`eval`] measures the extractor
//! against the hand-written rules of the fixtures.
//!
//! How a text is read:
//! 1. **Sections.** Headings (`一、申报条件`, `第三条 支持标准。`) decide what a sentence may
//!    give: 支持对象/申报条件 → clauses, 支持标准 → the benefit, 申报时间 → the window;
//!    申报材料, 附则 and the preamble give nothing. A text without headings is read whole.
//! 2. **Sentences** end at `。`, `；`, `;` and line breaks. Spans are **byte offsets** into the
//!    text (`&text[start..end]` is the sentence), with the matching **char offsets** alongside.
//! 3. **Patterns.** One `RegexSet` pass tells which rows match a sentence; those rows' regexes
//!    then give the captures. Overlapping matches keep the earliest, then the longest.
//! 4. **Structure.** Matches of a value-list row in one sentence merge (`A级、B级或M级`); two
//!    adjacent matches joined by `或` become an `or`, and `，或者` splits a sentence into two
//!    alternatives; a match in an exclusion (`不在支持范围`, `除外`, `不属于`) is dropped unless
//!    the row can say `not` (industries), and the sentence is listed for review.
//! 5. **Assembly.** A field stated in 申报条件 overrides the same field in 支持对象; equal
//!    clauses are kept once, with their first sentence.

pub mod eval;
pub mod patterns;

use std::collections::BTreeSet;
use std::sync::LazyLock;

use chrono::NaiveDate;
use huiqi_engine::codes::region;
use huiqi_engine::model::{Benefit, BenefitBasis, Window};
use huiqi_engine::rule::{Num, Unit, parse_number_with_unit};
use regex::{Captures, Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use serde::Serialize;

use patterns::{INDUSTRIES, PATTERNS, Pattern, Produces, Quantity, THRESHOLD, Target};

/// The draft a reviewer sees.
#[derive(Debug, Clone, Serialize)]
pub struct Draft {
    /// The eligibility rule in the engine's rule language, one clause a line with the words it
    /// came from as a comment. `true` when nothing was read.
    pub rule: String,
    /// The clauses of `rule` (its top-level `and`), each with its source.
    pub clauses: Vec<DraftClause>,
    /// The benefit, when a basis (利息的70%, LPR的50%, 一次性奖励 …) was read.
    pub benefit: Option<Benefit>,
    /// The sentences the benefit's parts came from.
    pub benefit_sources: Vec<Source>,
    pub window: Window,
    pub window_source: Option<Source>,
    /// GB/T 2260 codes in prefix form; empty when no registration region was read.
    pub regions: Vec<String>,
    /// Conditions on the loan rather than the enterprise.
    pub loan: LoanTerms,
    /// Condition sentences no pattern could read, for the reviewer.
    pub unread: Vec<Unread>,
}

/// One clause of the draft rule.
#[derive(Debug, Clone, Serialize)]
pub struct DraftClause {
    /// The clause in the rule language, e.g. `revenue < 2亿`.
    pub rule: String,
    /// The fields it tests.
    pub fields: Vec<String>,
    /// The pattern rows that produced it.
    pub patterns: Vec<String>,
    /// 0..1: the row's confidence, lowered for 支持对象 sections, texts without headings and
    /// clauses built from `或`.
    pub confidence: f32,
    /// The words matched.
    pub matched: String,
    pub source: Source,
}

/// A sentence of the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    /// Byte offsets: `&text[start..end]` is `sentence`.
    pub start: usize,
    pub end: usize,
    /// The same span in chars (for editors that count characters).
    pub char_start: usize,
    pub char_end: usize,
    pub sentence: String,
}

/// A condition sentence the extractor did not turn into a clause.
#[derive(Debug, Clone, Serialize)]
pub struct Unread {
    pub source: Source,
    /// Why it is listed.
    pub reason: String,
}

/// What the text says about the loan itself.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoanTerms {
    /// Loan kinds named: 信用贷款, 流动资金贷款, 首笔贷款 …
    pub kinds: Vec<String>,
    /// Largest loan (principal) the benefit counts, yuan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_amount: Option<i64>,
    /// Longest loan term, months.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_term_months: Option<i64>,
    /// Rate cap over LPR, basis points (`LPR加100个基点` → 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_rate_over_lpr_bp: Option<i64>,
    pub sources: Vec<Source>,
}

/// What a part of the text is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// Before the first heading, 申报材料, 附则 …: read for nothing.
    Ignored,
    /// 支持对象 / 申报主体 / 支持范围.
    Object,
    /// 申报条件.
    Conditions,
    /// 支持标准.
    Benefit,
    /// 申报时间.
    Window,
    /// A text without headings: read for everything.
    Whole,
}

impl Section {
    fn of_heading(title: &str) -> Section {
        let has = |words: &[&str]| words.iter().any(|w| title.contains(w));
        if has(&["时间", "日期", "期限"]) {
            Section::Window
        } else if has(&[
            "材料",
            "申报方式",
            "申请方式",
            "咨询",
            "联系",
            "其他",
            "附则",
            "监督",
            "管理",
            "工作要求",
            "程序",
            "流程",
            "拨付",
            "防控",
            "征求意见",
        ]) {
            Section::Ignored
        } else if has(&["条件", "资格"]) {
            Section::Conditions
        } else if has(&["对象", "主体", "范围"]) {
            Section::Object
        } else if has(&[
            "标准",
            "补偿",
            "奖励",
            "贴息",
            "补贴",
            "支持方式",
            "支持内容",
            "额度",
        ]) {
            Section::Benefit
        } else {
            Section::Ignored
        }
    }

    fn conditions(self) -> bool {
        matches!(self, Section::Object | Section::Conditions | Section::Whole)
    }
}

struct Sentence<'t> {
    start: usize,
    text: &'t str,
    section: Section,
    heading: bool,
}

struct Compiled {
    set: RegexSet,
    rows: Vec<Regex>,
    regions: Regex,
    /// Region name → codes in prefix form (a few names are shared, e.g. 江北区).
    region_codes: std::collections::HashMap<&'static str, Vec<String>>,
    heading: Regex,
    date_range: Regex,
    exclusion: Regex,
}

/// Lazy-DFA cache per regex (per thread using it), bytes.
const DFA_CACHE_BYTES: usize = 64 << 20;

fn compiled() -> &'static Compiled {
    static C: LazyLock<Compiled> = LazyLock::new(|| {
        let sources: Vec<String> = PATTERNS
            .iter()
            .map(|p| p.regex.replace("{T}", THRESHOLD))
            .collect();
        // The set's lazy DFA gets room for its states: with the default cache it is cleared
        // over and over on these Unicode patterns and falls back to the (slow) PikeVM.
        let set = RegexSetBuilder::new(&sources)
            .dfa_size_limit(DFA_CACHE_BYTES)
            .build()
            .expect("pattern table compiles");
        let rows = sources
            .iter()
            .map(|s| {
                RegexBuilder::new(s)
                    .dfa_size_limit(DFA_CACHE_BYTES)
                    .build()
                    .expect("pattern row compiles")
            })
            .collect();
        let mut region_codes: std::collections::HashMap<&'static str, Vec<String>> =
            Default::default();
        for (code, name) in region::all() {
            if matches!(
                name,
                "市辖区" | "县" | "省直辖县级行政区划" | "自治区直辖县级行政区划"
            ) {
                continue;
            }
            region_codes.entry(name).or_default().push(code);
        }
        let mut names: Vec<&str> = region_codes.keys().copied().collect();
        names.sort_by_key(|n| std::cmp::Reverse(n.len()));
        let alternation = names
            .iter()
            .map(|n| regex::escape(n))
            .collect::<Vec<_>>()
            .join("|");
        Compiled {
            set,
            rows,
            regions: Regex::new(&alternation).expect("region names compile"),
            region_codes,
            heading: Regex::new(
                r"^[ \u{3000}]*(?:[一二三四五六七八九十]+、|第[一二三四五六七八九十百]+条[ \u{3000}]*)(?P<title>[^。；：:，,0-9]{1,16})(?:[。：:]|$)",
            )
            .expect("heading regex"),
            date_range: Regex::new(
                r"(?P<y1>[0-9]{4})年(?P<m1>[0-9]{1,2})月(?P<d1>[0-9]{1,2})日(?:起)?[ ]*(?:至|到|—|－|-|~|～)[ ]*(?:(?P<y2>[0-9]{4})年)?(?P<m2>[0-9]{1,2})月(?P<d2>[0-9]{1,2})日",
            )
            .expect("date regex"),
            exclusion: Regex::new(
                r"不属于|不在[^，。；]{0,10}范围|不予|不纳入|不适用|除外|不支持",
            )
            .expect("exclusion regex"),
        }
    });
    &C
}

/// Splits the text into sentences and gives each the section it is in.
fn sentences(text: &str) -> Vec<Sentence<'_>> {
    let c = compiled();
    let mut out = Vec::new();
    let mut section = Section::Ignored;
    let mut any_heading = false;
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let mut body_from = 0;
        if let Some(caps) = c.heading.captures(body) {
            any_heading = true;
            section = Section::of_heading(&caps["title"]);
            let end = caps.get(0).map_or(0, |m| m.end());
            push_sentence(&mut out, text, line_start, &body[..end], section, true);
            body_from = end;
        }
        let mut start = body_from;
        for (i, ch) in body[body_from..].char_indices() {
            if matches!(ch, '。' | '；' | ';' | '！' | '？') {
                let end = body_from + i + ch.len_utf8();
                push_sentence(
                    &mut out,
                    text,
                    line_start + start,
                    &body[start..end],
                    section,
                    false,
                );
                start = end;
            }
        }
        push_sentence(
            &mut out,
            text,
            line_start + start,
            &body[start..],
            section,
            false,
        );
        line_start += line.len();
    }
    if !any_heading {
        for s in &mut out {
            s.section = Section::Whole;
        }
    }
    out
}

fn push_sentence<'t>(
    out: &mut Vec<Sentence<'t>>,
    text: &'t str,
    at: usize,
    piece: &str,
    section: Section,
    heading: bool,
) {
    let lead = piece.len() - piece.trim_start().len();
    let trimmed = piece.trim();
    if trimmed.is_empty() {
        return;
    }
    let start = at + lead;
    out.push(Sentence {
        start,
        text: &text[start..start + trimmed.len()],
        section,
        heading,
    });
}

fn source(text: &str, start: usize, end: usize) -> Source {
    let char_start = text[..start].chars().count();
    Source {
        start,
        end,
        char_start,
        char_end: char_start + text[start..end].chars().count(),
        sentence: text[start..end].to_string(),
    }
}

/// A number as written: Arabic digits with an optional fraction, or Chinese numerals.
fn number(text: &str, unit: Unit) -> Option<i64> {
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return parse_number_with_unit(text, unit).ok();
    }
    chinese_number(text).and_then(|n| n.checked_mul(unit.scale()))
}

fn chinese_number(text: &str) -> Option<i64> {
    let digit = |c: char| {
        Some(match c {
            '一' => 1,
            '二' | '两' => 2,
            '三' => 3,
            '四' => 4,
            '五' => 5,
            '六' => 6,
            '七' => 7,
            '八' => 8,
            '九' => 9,
            _ => return None,
        })
    };
    let (mut total, mut current) = (0i64, 0i64);
    for c in text.chars() {
        match c {
            '十' => {
                total += current.max(1) * 10;
                current = 0;
            }
            '百' => {
                total += current.max(1) * 100;
                current = 0;
            }
            '千' => {
                total += current.max(1) * 1000;
                current = 0;
            }
            c => current = digit(c)?,
        }
    }
    Some(total + current)
}

fn money_unit(unit: &str) -> Unit {
    match unit {
        "亿元" => Unit::Yi,
        "万元" => Unit::Wan,
        "%" => Unit::Percent,
        _ => Unit::None,
    }
}

/// A money value in the rule language, in the largest unit that keeps it whole.
fn money_literal(yuan: i64) -> Num {
    let unit = if yuan != 0 && yuan % 100_000_000 == 0 {
        Unit::Yi
    } else if yuan != 0 && yuan % 10_000 == 0 {
        Unit::Wan
    } else {
        Unit::None
    };
    Num { value: yuan, unit }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

/// The operator of a threshold phrase; see the table in [`patterns`].
fn operator(pre: Option<&str>, post: Option<&str>, incl: Option<&str>) -> Option<Op> {
    let op = match pre {
        Some("不低于" | "不少于" | "达到") => Some(Op::Ge),
        Some("不超过" | "不高于") => Some(Op::Le),
        Some("超过" | "高于" | "大于") => Some(Op::Gt),
        Some("低于" | "少于" | "未满" | "不足" | "小于") => Some(Op::Lt),
        _ => None,
    };
    let op = op.or(match post {
        Some("以上" | "及以上") => Some(Op::Ge),
        Some("以下") => Some(Op::Lt),
        Some("及以下" | "以内") => Some(Op::Le),
        _ => None,
    })?;
    Some(match incl {
        Some(i) if i.contains("不含") => match op {
            Op::Le => Op::Lt,
            Op::Ge => Op::Gt,
            o => o,
        },
        Some(i) if i.contains('含') => match op {
            Op::Lt => Op::Le,
            Op::Gt => Op::Ge,
            o => o,
        },
        _ => op,
    })
}

/// A condition read from one match, before structure is applied.
#[derive(Debug, Clone)]
enum Cond {
    /// Rule text of one or more clauses that all hold (a threshold with two bounds gives two).
    Text(Vec<String>),
    /// `field in [...]` / `field under [...]`, possibly negated.
    Values {
        field: &'static str,
        values: Vec<String>,
        under: bool,
        negated: bool,
    },
}

impl Cond {
    fn clauses(&self) -> Vec<String> {
        match self {
            Cond::Text(t) => t.clone(),
            Cond::Values {
                field,
                values,
                under,
                negated,
            } => {
                let quoted: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
                let not = if *negated { "not " } else { "" };
                let text = match (under, quoted.len()) {
                    (true, 1) => format!("{not}{field} under {}", quoted[0]),
                    (true, _) => format!("{not}{field} under [{}]", quoted.join(", ")),
                    (false, 1) => format!("{not}{field} = {}", quoted[0]),
                    (false, _) => format!("{not}{field} in [{}]", quoted.join(", ")),
                };
                vec![text]
            }
        }
    }

    fn fields(&self) -> BTreeSet<String> {
        match self {
            Cond::Values { field, .. } => BTreeSet::from([field.to_string()]),
            Cond::Text(t) => t.iter().flat_map(|c| fields_of(c)).collect(),
        }
    }
}

/// The field names in a clause's text (identifiers that are fields).
fn fields_of(rule: &str) -> Vec<String> {
    match huiqi_engine::rule::parse(rule) {
        Ok(expr) => expr
            .leaves()
            .into_iter()
            .filter_map(|leaf| match leaf {
                huiqi_engine::rule::Expr::Flag(f) => Some(f.clone()),
                huiqi_engine::rule::Expr::Cmp(c) => Some(c.field.clone()),
                _ => None,
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// One match in a sentence.
#[derive(Debug, Clone)]
struct Item {
    start: usize,
    end: usize,
    row: usize,
    cond: Cond,
}

/// Tax grades widened by 以上: `B级以上` → A, B.
fn tax_grades(caps: &Captures<'_>) -> Option<Cond> {
    const ORDER: [&str; 5] = ["A", "B", "M", "C", "D"];
    let letters = caps.name("grades")?.as_str();
    let mut found: Vec<usize> = ORDER
        .iter()
        .enumerate()
        .filter(|(_, g)| letters.contains(*g))
        .map(|(i, _)| i)
        .collect();
    if found.is_empty() {
        return None;
    }
    if caps.name("above").is_some() {
        let lowest = *found.iter().max()?;
        found = (0..=lowest).collect();
    }
    Some(Cond::Values {
        field: "tax_grade",
        values: found.into_iter().map(|i| ORDER[i].to_string()).collect(),
        under: false,
        negated: false,
    })
}

fn threshold(caps: &Captures<'_>, field: &str, quantity: Quantity) -> Option<Cond> {
    let bound =
        |num: &str, unit: &str, pre: Option<&str>, post: Option<&str>, incl: Option<&str>| {
            if !quantity.accepts(unit) {
                return None;
            }
            let op = operator(pre, post, incl)?;
            let literal = match quantity {
                Quantity::Money => money_literal(number(num, money_unit(unit))?).to_string(),
                Quantity::Percent => Num {
                    value: number(num, Unit::Percent)?,
                    unit: Unit::Percent,
                }
                .to_string(),
                _ => number(num, Unit::None)?.to_string(),
            };
            Some(format!("{field} {} {literal}", op.symbol()))
        };
    let get = |name: &str| caps.name(name).map(|m| m.as_str());
    let incl = get("inclA").or(get("incl"));
    let first = bound(get("num")?, get("unit")?, get("pre"), get("post"), incl)?;
    let mut out = vec![first];
    if let (Some(num2), Some(unit2)) = (get("num2"), get("unit2"))
        && let Some(second) = bound(num2, unit2, None, get("post2"), get("incl2"))
    {
        out.push(second);
    }
    Some(Cond::Text(out))
}

fn condition(p: &Pattern, caps: &Captures<'_>, excluded: bool) -> Option<Cond> {
    let matched = caps.get(0)?.as_str();
    match p.produces {
        Produces::Rule(rule) => Some(Cond::Text(vec![rule.to_string()])),
        Produces::Template(t) => {
            let n = number(caps.name("num")?.as_str(), Unit::None)?;
            Some(Cond::Text(vec![t.replace("{n}", &n.to_string())]))
        }
        Produces::Threshold { field, quantity } => threshold(caps, field, quantity),
        Produces::Age => {
            let n = number(caps.name("num")?.as_str(), Unit::None)?;
            let func = if caps.name("unit")?.as_str() == "个月" {
                "months_since"
            } else {
                "years_since"
            };
            Some(Cond::Text(vec![format!("{func}(established) >= {n}")]))
        }
        Produces::Values { field, values } => {
            let mut out: Vec<String> = Vec::new();
            for (key, value) in values {
                if matched.contains(key) && !out.iter().any(|v| v == value) {
                    out.push(value.to_string());
                }
            }
            (!out.is_empty()).then_some(Cond::Values {
                field,
                values: out,
                under: false,
                negated: false,
            })
        }
        Produces::TaxGrades => tax_grades(caps),
        Produces::Industries => {
            let code = INDUSTRIES.iter().find(|(name, _)| *name == matched)?.1;
            Some(Cond::Values {
                field: "industry",
                values: vec![code.to_string()],
                under: true,
                negated: excluded,
            })
        }
        _ => None,
    }
}

/// Comma segments of a sentence, as byte ranges relative to the sentence, each flagged when
/// it is an exclusion. A segment that starts with 不 (`，不在本次支持范围内`) excludes the one
/// before it too.
fn segments(sentence: &str) -> Vec<(usize, usize, bool)> {
    let c = compiled();
    let mut out: Vec<(usize, usize, bool)> = Vec::new();
    let mut start = 0;
    let push = |s: usize, e: usize, out: &mut Vec<(usize, usize, bool)>| {
        let seg = &sentence[s..e];
        let excl = c.exclusion.is_match(seg);
        if excl && seg.trim_start().starts_with('不') && !out.is_empty() {
            let last = out.len() - 1;
            out[last].2 = true;
        }
        out.push((s, e, excl));
    };
    for (i, ch) in sentence.char_indices() {
        if matches!(ch, '，' | ',') {
            push(start, i, &mut out);
            start = i + ch.len_utf8();
        }
    }
    push(start, sentence.len(), &mut out);
    out
}

/// The matches of condition rows in one sentence, overlaps resolved, value lists merged.
struct SentenceItems {
    items: Vec<Item>,
    /// An exclusion dropped a match.
    dropped: bool,
    /// `X不受此限`: the value-list condition exempted from the sentence's other conditions.
    exempt: Option<Cond>,
}

fn condition_items(s: &str) -> SentenceItems {
    let c = compiled();
    let segs = segments(s);
    let seg_of = |pos: usize| {
        segs.iter()
            .find(|(a, b, _)| *a <= pos && pos < (*b).max(*a + 1))
            .copied()
            .unwrap_or((0, s.len(), false))
    };
    let mut raw: Vec<Item> = Vec::new();
    let mut dropped = false;
    for i in c.set.matches(s).iter() {
        let p = &PATTERNS[i];
        if p.target != Target::Condition {
            continue;
        }
        for caps in c.rows[i].captures_iter(s) {
            let m = caps.get(0).expect("group 0");
            let (seg_start, _, excluded) = seg_of(m.start());
            if p.needs_negation {
                let before = &s[seg_start..m.start()];
                if !["未", "无", "不", "没有", "非"]
                    .iter()
                    .any(|w| before.contains(w))
                {
                    continue;
                }
            }
            if p.not_after.iter().any(|w| s[..m.start()].ends_with(w)) {
                continue;
            }
            let negatable = matches!(p.produces, Produces::Industries);
            if excluded && !negatable {
                dropped = true;
                continue;
            }
            if let Some(cond) = condition(p, &caps, excluded) {
                raw.push(Item {
                    start: m.start(),
                    end: m.end(),
                    row: i,
                    cond,
                });
            }
        }
    }
    raw.sort_by_key(|it| (it.start, std::cmp::Reverse(it.end), it.row));
    // `家庭农场、合作社经营土地面积100亩以上，龙头企业不受此限`: the value list in the segment
    // that says 不受此限 is exempt from the rest.
    let mut exempt = None;
    if let Some(pos) = s.find("不受此限") {
        let (seg_start, _, _) = seg_of(pos);
        if let Some(i) = raw
            .iter()
            .position(|it| it.start >= seg_start && matches!(it.cond, Cond::Values { .. }))
        {
            exempt = Some(raw.remove(i).cond);
        }
    }
    let mut kept: Vec<Item> = Vec::new();
    for it in raw {
        if kept.last().is_some_and(|k| it.start < k.end) {
            continue;
        }
        // Merge value lists of the same field, and equal clauses, into the earlier item.
        let merged = kept
            .iter_mut()
            .rev()
            .find_map(|k| match (&mut k.cond, &it.cond) {
                (
                    Cond::Values {
                        field: f1,
                        values: v1,
                        negated: n1,
                        ..
                    },
                    Cond::Values {
                        field: f2,
                        values: v2,
                        negated: n2,
                        ..
                    },
                ) if f1 == f2 && n1 == n2 => {
                    for v in v2 {
                        if !v1.contains(v) {
                            v1.push(v.clone());
                        }
                    }
                    Some(())
                }
                (Cond::Text(a), Cond::Text(b)) if a == b => Some(()),
                _ => None,
            });
        match merged {
            Some(()) => {
                let last = kept.len() - 1;
                // Extend the last item only when it is the one merged into (keeps spans sane).
                if kept[last].row == it.row {
                    kept[last].end = it.end;
                }
            }
            None => kept.push(it),
        }
    }
    SentenceItems {
        items: kept,
        dropped,
        exempt,
    }
}

/// A clause found in a sentence, with what it took.
#[derive(Debug, Clone)]
struct Found {
    rule: String,
    fields: BTreeSet<String>,
    patterns: Vec<String>,
    confidence: f32,
    matched: String,
    sentence: usize,
    section: Section,
    /// A value-list clause (one per field is kept).
    values_field: Option<&'static str>,
    defines: bool,
}

fn group_text(items: &[&Item]) -> (String, usize) {
    let clauses: Vec<String> = items
        .iter()
        .flat_map(|i| i.cond.clauses())
        .map(|c| {
            if c.contains(" or ") {
                format!("({c})")
            } else {
                c
            }
        })
        .collect();
    let n = clauses.len();
    (clauses.join(" and "), n)
}

/// A clause built from the matches of one sentence.
struct Built {
    rule: String,
    fields: BTreeSet<String>,
    rows: Vec<usize>,
    /// A value-list clause (one per field is kept).
    values_field: Option<&'static str>,
    /// Built from `或` (or an exception).
    or: bool,
    /// The alternatives of a whole sentence (`A，或者B`): they define their fields.
    defines: bool,
    matched: String,
}

/// Builds the clauses of one sentence: `或` between matches makes an `or`.
fn sentence_clauses(s: &str, found: &SentenceItems) -> Vec<Built> {
    let items = &found.items;
    let mut out = Vec::new();
    if items.is_empty() {
        return out;
    }
    let span = |a: &Item, b: &Item| s[a.start.min(b.start)..a.end.max(b.end)].to_string();
    // An exception: `(field = exempt) or (the rest)`; the rest's list of the same field only
    // names whom the rest applies to.
    if let Some(exempt) = &found.exempt {
        let exempt_fields = exempt.fields();
        let rest: Vec<&Item> = items
            .iter()
            .filter(|i| {
                !(matches!(i.cond, Cond::Values { .. }) && i.cond.fields() == exempt_fields)
            })
            .collect();
        if !rest.is_empty() {
            let (t, n) = group_text(&rest);
            let rest_text = if n > 1 { format!("({t})") } else { t };
            let e = exempt.clauses().join(" and ");
            out.push(Built {
                rule: format!("{e} or {rest_text}"),
                fields: exempt_fields
                    .into_iter()
                    .chain(rest.iter().flat_map(|i| i.cond.fields()))
                    .collect(),
                rows: rest.iter().map(|i| i.row).collect(),
                values_field: None,
                or: true,
                defines: false,
                matched: span(&items[0], &items[items.len() - 1]),
            });
            return out;
        }
    }
    let all_negated = |a: &Item, b: &Item| {
        a.cond.clauses().iter().all(|c| c.starts_with("not "))
            && b.cond.clauses().iter().all(|c| c.starts_with("not "))
    };
    // A sentence-level `，或` split.
    for k in 0..items.len() - 1 {
        let gap = &s[items[k].end..items[k + 1].start];
        if gap.contains("，或") || gap.contains(",或") {
            let left: Vec<&Item> = items[..=k].iter().collect();
            let right: Vec<&Item> = items[k + 1..].iter().collect();
            let lf: BTreeSet<String> = left.iter().flat_map(|i| i.cond.fields()).collect();
            let rf: BTreeSet<String> = right.iter().flat_map(|i| i.cond.fields()).collect();
            if lf != rf {
                let side = |g: &[&Item]| {
                    let (t, n) = group_text(g);
                    if n > 1 { format!("({t})") } else { t }
                };
                out.push(Built {
                    rule: format!("{} or {}", side(&left), side(&right)),
                    fields: lf.union(&rf).cloned().collect(),
                    rows: items.iter().map(|i| i.row).collect(),
                    values_field: None,
                    or: true,
                    defines: true,
                    matched: span(&items[0], &items[items.len() - 1]),
                });
                return out;
            }
        }
    }
    let mut k = 0;
    while k < items.len() {
        let it = &items[k];
        if let Some(next) = items.get(k + 1) {
            let gap = &s[it.end..next.start];
            let local_or = gap.contains('或')
                && !gap.contains(['，', '；', '、', ','])
                && it.cond.fields() != next.cond.fields()
                && !all_negated(it, next);
            if local_or {
                out.push(Built {
                    rule: format!("{} or {}", group_text(&[it]).0, group_text(&[next]).0),
                    fields: it
                        .cond
                        .fields()
                        .union(&next.cond.fields())
                        .cloned()
                        .collect(),
                    rows: vec![it.row, next.row],
                    values_field: None,
                    or: true,
                    defines: false,
                    matched: span(it, next),
                });
                k += 2;
                continue;
            }
        }
        let values_field = match &it.cond {
            Cond::Values {
                field,
                under: false,
                ..
            } => Some(*field),
            _ => None,
        };
        for clause in it.cond.clauses() {
            out.push(Built {
                fields: fields_of(&clause).into_iter().collect(),
                rule: clause,
                rows: vec![it.row],
                values_field,
                or: false,
                defines: false,
                matched: s[it.start..it.end].to_string(),
            });
        }
        k += 1;
    }
    out
}

/// The registration region: names in sentences that speak of registration.
/// The region read: codes, the sentence to cite (a 申报条件 one when there is one), the names,
/// the confidence, and every sentence a registration region was named in.
struct RegionRead {
    codes: Vec<String>,
    sentence: usize,
    names: String,
    confidence: f32,
    sentences: BTreeSet<usize>,
}

fn regions(sents: &[Sentence<'_>]) -> Option<RegionRead> {
    let c = compiled();
    const CUES: [&str; 10] = [
        "注册",
        "登记",
        "行政区域",
        "省内",
        "市内",
        "区内",
        "辖区",
        "所在地",
        "征管",
        "税务关系",
    ];
    let mut candidates: Vec<(Vec<String>, usize, String)> = Vec::new();
    for (i, s) in sents.iter().enumerate() {
        if !s.section.conditions() || !CUES.iter().any(|w| s.text.contains(w)) {
            continue;
        }
        for m in c.regions.find_iter(s.text) {
            if let Some(codes) = c.region_codes.get(m.as_str()) {
                candidates.push((codes.clone(), i, m.as_str().to_string()));
            }
        }
    }
    if candidates.is_empty() {
        return None;
    }
    // Every code any name could mean; ambiguous names resolve to the codes under (or over)
    // another name's code.
    let all: Vec<String> = candidates.iter().flat_map(|c| c.0.clone()).collect();
    let mut ambiguous = false;
    let mut chosen: Vec<(String, usize, String)> = Vec::new();
    for (codes, sentence, name) in &candidates {
        let pick = if codes.len() == 1 {
            codes[0].clone()
        } else {
            ambiguous = true;
            codes
                .iter()
                .find(|code| {
                    all.iter().any(|o| {
                        o != *code
                            && (code.starts_with(o.as_str()) || o.starts_with(code.as_str()))
                            && !codes.contains(o)
                    })
                })
                .unwrap_or(&codes[0])
                .clone()
        };
        chosen.push((pick, *sentence, name.clone()));
    }
    // Keep the most specific codes: drop a code that another chosen code lies under.
    let codes: Vec<String> = chosen.iter().map(|c| c.0.clone()).collect();
    let mut most_specific: Vec<(String, usize, String)> = Vec::new();
    for c in &chosen {
        let has_child = codes
            .iter()
            .any(|o| o != &c.0 && o.starts_with(c.0.as_str()));
        if !has_child && !most_specific.iter().any(|m| m.0 == c.0) {
            most_specific.push(c.clone());
        }
    }
    let cite = most_specific
        .iter()
        .find(|m| sents[m.1].section == Section::Conditions)
        .or(most_specific.first())?
        .1;
    let names: Vec<String> = most_specific.iter().map(|m| m.2.clone()).collect();
    Some(RegionRead {
        codes: most_specific.into_iter().map(|m| m.0).collect(),
        sentence: cite,
        names: names.join("、"),
        confidence: if ambiguous { 0.6 } else { 0.9 },
        sentences: candidates.iter().map(|c| c.1).collect(),
    })
}

fn date(y: &str, m: &str, d: &str) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

fn window(text: &str, sents: &[Sentence<'_>]) -> (Window, Option<Source>) {
    let c = compiled();
    let in_window = sents.iter().filter(|s| s.section == Section::Window);
    let cued = sents.iter().filter(|s| {
        s.section != Section::Ignored
            && [
                "申报时间",
                "申请时间",
                "受理时间",
                "申报期",
                "备案时间",
                "申报截止",
            ]
            .iter()
            .any(|w| s.text.contains(w))
    });
    for s in in_window.chain(cued) {
        if let Some(caps) = c.date_range.captures(s.text) {
            let opens = date(&caps["y1"], &caps["m1"], &caps["d1"]);
            let y2 = caps.name("y2").map_or(&caps["y1"], |m| m.as_str());
            let closes = date(y2, &caps["m2"], &caps["d2"]);
            return (
                Window { opens, closes },
                Some(source(text, s.start, s.start + s.text.len())),
            );
        }
    }
    (Window::default(), None)
}

fn benefit_and_loan(
    text: &str,
    sents: &[Sentence<'_>],
) -> (Option<Benefit>, Vec<Source>, LoanTerms) {
    let c = compiled();
    let mut basis: Option<(usize, BenefitBasis, Option<i64>)> = None;
    let mut amount = None;
    let mut cap_year = None;
    let mut cap_total = None;
    let mut duration = None;
    let mut sources: Vec<Source> = Vec::new();
    let mut loan = LoanTerms::default();
    let money = |caps: &Captures<'_>| {
        number(
            caps.name("num")?.as_str(),
            money_unit(caps.name("unit")?.as_str()),
        )
    };
    let months = |caps: &Captures<'_>| {
        let n = number(caps.name("num")?.as_str(), Unit::None)?;
        Some(if caps.name("unit")?.as_str() == "年" {
            n * 12
        } else {
            n
        })
    };
    for s in sents {
        let benefit_here = matches!(s.section, Section::Benefit | Section::Whole);
        let loan_here = s.section != Section::Ignored;
        if !benefit_here && !loan_here {
            continue;
        }
        let mut used = false;
        let mut loan_used = false;
        for i in c.set.matches(s.text).iter() {
            let p = &PATTERNS[i];
            // A cap followed by 的贷款本金 is the loan's principal, not the benefit's cap.
            let Some(caps) = c.rows[i].captures_iter(s.text).find(|caps| {
                let end = caps.get(0).map_or(0, |m| m.end());
                !(matches!(
                    p.produces,
                    Produces::CapPerEnterprise | Produces::CapPerYear
                ) && (s.text[end..].starts_with("的贷款") || s.text[end..].starts_with("的本金")))
            }) else {
                continue;
            };
            let pos = caps.get(0).map_or(0, |m| s.start + m.start());
            match (p.target, p.produces) {
                (Target::Benefit, _) if !benefit_here => {}
                (Target::Benefit, Produces::Basis { basis: b, full }) => {
                    // 年化1.5个百分点 reads as 1.5% of the principal: 150 bp.
                    let pct = if full {
                        Some(10_000)
                    } else {
                        caps.name("num")
                            .or(caps.name("num2"))
                            .and_then(|m| number(m.as_str(), Unit::Percent))
                    };
                    if basis.is_none_or(|(at, _, _)| pos < at) {
                        basis = Some((pos, b, pct));
                        used = true;
                    }
                }
                (Target::Benefit, Produces::FixedAmount) if amount.is_none() => {
                    amount = money(&caps);
                    used = true;
                    if basis.is_none_or(|(at, _, _)| pos < at) {
                        basis = Some((pos, BenefitBasis::Fixed, None));
                    }
                }
                (Target::Benefit, Produces::CapPerYear) if cap_year.is_none() => {
                    cap_year = money(&caps);
                    used = true;
                }
                (Target::Benefit, Produces::CapPerEnterprise) if cap_total.is_none() => {
                    cap_total = money(&caps);
                    used = true;
                }
                (Target::Benefit, Produces::Duration) if duration.is_none() => {
                    duration = months(&caps);
                    used = true;
                }
                (Target::Loan, Produces::LoanAmount) if loan.max_amount.is_none() => {
                    loan.max_amount = money(&caps);
                    loan_used = true;
                }
                (Target::Loan, Produces::LoanTerm) if loan.max_term_months.is_none() => {
                    loan.max_term_months = months(&caps);
                    loan_used = true;
                }
                (Target::Loan, Produces::LprPlus) if loan.max_rate_over_lpr_bp.is_none() => {
                    loan.max_rate_over_lpr_bp = caps
                        .name("num")
                        .and_then(|m| number(m.as_str(), Unit::None));
                    loan_used = true;
                }
                (Target::Loan, Produces::LoanKind(kind))
                    if !loan.kinds.iter().any(|k| k == kind) =>
                {
                    loan.kinds.push(kind.to_string());
                    loan_used = true;
                }
                _ => {}
            }
        }
        let src = || source(text, s.start, s.start + s.text.len());
        if used && !sources.iter().any(|x| x.start == s.start) {
            sources.push(src());
        }
        if loan_used && !loan.sources.iter().any(|x| x.start == s.start) {
            loan.sources.push(src());
        }
    }
    let benefit = basis.map(|(_, basis, percent_bp)| {
        let percent_bp = if basis == BenefitBasis::Fixed {
            None
        } else {
            percent_bp
        };
        let mut b = Benefit {
            basis,
            percent_bp,
            amount,
            cap_per_enterprise: cap_total,
            cap_per_year: cap_year,
            duration_months: duration,
            summary: String::new(),
        };
        b.summary = summary(&b);
        b
    });
    (benefit, sources, loan)
}

fn yuan(v: i64) -> String {
    format!("{}元", money_literal(v))
}

/// A one-line Chinese summary of a read benefit.
fn summary(b: &Benefit) -> String {
    let pct = b
        .percent_bp
        .map(huiqi_engine::text::percent)
        .unwrap_or_default();
    let mut parts = vec![match b.basis {
        BenefitBasis::Interest => format!("按实际支付利息的{pct}贴息"),
        BenefitBasis::Lpr => format!("按LPR的{pct}贴息"),
        BenefitBasis::RatePoints => format!("按贷款本金年化{pct}贴息"),
        BenefitBasis::GuaranteeFee => format!("按担保费的{pct}补贴"),
        BenefitBasis::LenderLoss => format!("按本金损失的{pct}补偿合作银行"),
        BenefitBasis::BridgeFunding => format!("转贷资金按年化{pct}收费"),
        BenefitBasis::Fixed => match b.amount {
            Some(a) => format!("一次性给予{}", yuan(a)),
            None => "定额奖励".to_string(),
        },
    }];
    if let Some(m) = b.duration_months {
        parts.push(format!("期限不超过{m}个月"));
    }
    if let Some(c) = b.cap_per_year {
        parts.push(format!("每年最高{}", yuan(c)));
    }
    if let Some(c) = b.cap_per_enterprise {
        parts.push(format!("累计最高{}", yuan(c)));
    }
    parts.join("，")
}

/// Words that make a sentence in a conditions section look like a condition.
const CONDITION_CUES: [&str; 12] = [
    "应",
    "须",
    "符合",
    "条件",
    "满",
    "以上",
    "以下",
    "不超过",
    "不低于",
    "未",
    "无",
    "不得",
];

/// Reads a policy's prose into a draft. Never fails: what it cannot read is listed in
/// [`Draft::unread`].
pub fn extract(text: &str) -> Draft {
    let sents = sentences(text);
    let (window, window_source) = window(text, &sents);
    let (benefit, benefit_sources, loan) = benefit_and_loan(text, &sents);
    let region = regions(&sents);
    // Sentences already read for something: not listed as unread.
    let mut read: BTreeSet<usize> = loan
        .sources
        .iter()
        .chain(&benefit_sources)
        .chain(&window_source)
        .map(|s| s.start)
        .collect();
    if let Some(r) = &region {
        read.extend(r.sentences.iter().map(|&i| sents[i].start));
    }
    let section_factor = |s: Section| match s {
        Section::Object => 0.85,
        Section::Whole => 0.9,
        _ => 1.0,
    };
    let mut found: Vec<Found> = Vec::new();
    let mut unread: Vec<Unread> = Vec::new();
    for (idx, s) in sents.iter().enumerate() {
        if !s.section.conditions() || s.heading {
            continue;
        }
        let items = condition_items(s.text);
        let built = sentence_clauses(s.text, &items);
        for b in &built {
            let base = b
                .rows
                .iter()
                .map(|r| PATTERNS[*r].confidence)
                .fold(1.0_f32, f32::min);
            let mut confidence = base * section_factor(s.section);
            if b.or {
                confidence *= 0.85;
            }
            if s.text.contains("不受此限") {
                confidence *= 0.7;
            }
            found.push(Found {
                rule: b.rule.clone(),
                fields: b.fields.clone(),
                patterns: b.rows.iter().map(|r| PATTERNS[*r].id.to_string()).collect(),
                confidence: (confidence * 100.0).round() / 100.0,
                matched: b.matched.clone(),
                sentence: idx,
                section: s.section,
                values_field: b.values_field,
                defines: b.defines,
            });
        }
        let src = || source(text, s.start, s.start + s.text.len());
        let looks_like_condition =
            s.section == Section::Conditions || CONDITION_CUES.iter().any(|w| s.text.contains(w));
        let intro = s.text.ends_with('：') || s.text.ends_with(':');
        if items.dropped {
            unread.push(Unread {
                source: src(),
                reason: "排除情形（不在支持范围/不予支持），未能表示为规则条款".into(),
            });
        } else if s.text.contains("不受此限") {
            unread.push(Unread {
                source: src(),
                reason: "含例外（不受此限），已读为“或”条款，请人工核对".into(),
            });
        } else if built.is_empty()
            && looks_like_condition
            && !intro
            && !read.contains(&s.start)
            && s.text.chars().count() >= 6
        {
            unread.push(Unread {
                source: src(),
                reason: "未匹配任何模式".into(),
            });
        }
    }
    // The region clause first.
    let mut clauses: Vec<DraftClause> = Vec::new();
    let mut region_codes = Vec::new();
    if let Some(RegionRead {
        codes,
        sentence,
        names,
        confidence,
        ..
    }) = region
    {
        let s = &sents[sentence];
        let quoted: Vec<String> = codes.iter().map(|c| format!("{c:?}")).collect();
        let rule = if quoted.len() == 1 {
            format!("region under {}", quoted[0])
        } else {
            format!("region under [{}]", quoted.join(", "))
        };
        clauses.push(DraftClause {
            rule,
            fields: vec!["region".into()],
            patterns: vec!["region.name".into()],
            confidence: (confidence * section_factor(s.section) * 100.0).round() / 100.0,
            matched: names,
            source: source(text, s.start, s.start + s.text.len()),
        });
        region_codes = codes;
    }
    // 申报条件 overrides 支持对象 on the same field; a sentence of alternatives (`A，或者B`)
    // defines its fields, so other sentences' mentions of them are only subjects.
    let condition_fields: BTreeSet<String> = found
        .iter()
        .filter(|f| f.section == Section::Conditions)
        .flat_map(|f| f.fields.iter().cloned())
        .collect();
    let defined: Vec<(usize, BTreeSet<String>)> = found
        .iter()
        .filter(|f| f.defines)
        .map(|f| (f.sentence, f.fields.clone()))
        .collect();
    let mut seen_keys: BTreeSet<String> = BTreeSet::new();
    let mut seen_values: BTreeSet<&'static str> = BTreeSet::new();
    for f in found {
        if f.section == Section::Object && f.fields.iter().any(|x| condition_fields.contains(x)) {
            continue;
        }
        if !f.defines
            && defined
                .iter()
                .any(|(sentence, fields)| *sentence != f.sentence && !fields.is_disjoint(&f.fields))
        {
            continue;
        }
        if let Some(field) = f.values_field
            && !seen_values.insert(field)
        {
            continue;
        }
        let key = eval::normalize(&f.rule)
            .map(|k| k.join(" and "))
            .unwrap_or_else(|_| f.rule.clone());
        if !seen_keys.insert(key) {
            continue;
        }
        let s = &sents[f.sentence];
        clauses.push(DraftClause {
            rule: f.rule,
            fields: f.fields.into_iter().collect(),
            patterns: f.patterns,
            confidence: f.confidence,
            matched: f.matched,
            source: source(text, s.start, s.start + s.text.len()),
        });
    }
    Draft {
        rule: render_rule(&clauses),
        clauses,
        benefit,
        benefit_sources,
        window,
        window_source,
        regions: region_codes,
        loan,
        unread,
    }
}

/// The rule text: one clause a line, `or`-clauses in parentheses, the matched words as a
/// comment.
fn render_rule(clauses: &[DraftClause]) -> String {
    if clauses.is_empty() {
        return "true".into();
    }
    let mut out = String::new();
    for (i, c) in clauses.iter().enumerate() {
        let body = if c.rule.contains(" or ") {
            format!("({})", c.rule)
        } else {
            c.rule.clone()
        };
        let line = if i == 0 { body } else { format!("and {body}") };
        let comment: String = c
            .matched
            .chars()
            .filter(|ch| !matches!(ch, '\n' | '\r'))
            .take(40)
            .collect();
        out.push_str(&format!("{line:<40} # {comment}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_numbers() {
        assert_eq!(chinese_number("两"), Some(2));
        assert_eq!(chinese_number("十二"), Some(12));
        assert_eq!(chinese_number("二十四"), Some(24));
        assert_eq!(chinese_number("三百"), Some(300));
    }

    #[test]
    fn headings_decide_sections() {
        assert_eq!(Section::of_heading("申报条件"), Section::Conditions);
        assert_eq!(
            Section::of_heading("支持对象和申报条件"),
            Section::Conditions
        );
        assert_eq!(Section::of_heading("支持对象"), Section::Object);
        assert_eq!(Section::of_heading("支持标准"), Section::Benefit);
        assert_eq!(Section::of_heading("申报时间"), Section::Window);
        assert_eq!(Section::of_heading("申报材料"), Section::Ignored);
        assert_eq!(Section::of_heading("申报方式"), Section::Ignored);
    }
}
