//! Validation of every record before anything is written: codes, ranges, dates, rules, ids,
//! and each policy's own example cases. Every problem is reported, not just the first.

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use huiqi_engine::codes::{CreditCode, industry, region};
use huiqi_engine::fields::{FIELDS, Fact, FieldType};
use huiqi_engine::model::{Enterprise, Policy, Product, Range};
use huiqi_engine::rule::{Facts, RuleErrors};

use crate::input::{Kind, Sourced, discover, read_enterprises, read_file};
use crate::report::{Issue, Report};

/// A product or policy with its compiled rule (the engine's type, which matching takes).
pub use huiqi_engine::matching::Checked;

/// Everything read from an input folder that passed validation.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub products: Vec<Checked<Product>>,
    pub policies: Vec<Checked<Policy>>,
    pub enterprises: Vec<Enterprise>,
}

/// Reads and validates every input file under `dir`. The catalog holds the records that are
/// valid; the report holds every problem. Callers must not publish anything when
/// `report.has_errors()`.
pub fn load_dir(dir: &Path) -> (Catalog, Report) {
    let mut report = Report::default();
    let files = match discover(dir) {
        Ok(f) => f,
        Err(e) => {
            report.push(Issue::error(
                dir,
                None,
                format!("cannot list the folder: {e}"),
            ));
            return (Catalog::default(), report);
        }
    };
    if files.is_empty() {
        report.push(Issue::error(
            dir,
            None,
            "no input files (expected products/*.json, policies/*.json, enterprises*.jsonl)",
        ));
    }
    let mut catalog = Catalog::default();
    for (path, kind) in &files {
        load_file_into(path, *kind, &mut catalog, &mut report);
    }
    check_duplicate_ids(&catalog, &mut report, &files);
    (catalog, report)
}

/// Reads and validates one file of the given kind into `catalog`.
pub fn load_file_into(path: &Path, kind: Kind, catalog: &mut Catalog, report: &mut Report) {
    match kind {
        Kind::Products => {
            for rec in read_file::<Product>(path, kind, report) {
                if let Some(c) = check_product(&rec, report) {
                    catalog.products.push(c);
                }
            }
        }
        Kind::Policies => {
            for rec in read_file::<Policy>(path, kind, report) {
                if let Some(c) = check_policy(&rec, report) {
                    catalog.policies.push(c);
                }
            }
        }
        Kind::Enterprises => {
            for rec in read_enterprises(path, report) {
                if check_enterprise(&rec.item, &rec.file, rec.line, report) {
                    catalog.enterprises.push(rec.item);
                }
            }
        }
    }
}

fn check_duplicate_ids(
    catalog: &Catalog,
    report: &mut Report,
    files: &[(std::path::PathBuf, Kind)],
) {
    let mut seen = |ids: Vec<&str>, noun: &str| {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for id in ids {
            *counts.entry(id).or_default() += 1;
        }
        let mut dups: Vec<_> = counts.into_iter().filter(|(_, n)| *n > 1).collect();
        dups.sort();
        for (id, n) in dups {
            let file = files
                .first()
                .map(|(p, _)| p.parent().unwrap_or(p))
                .unwrap_or(Path::new("."));
            report.push(
                Issue::error(file, None, format!("{noun} id {id:?} is used {n} times"))
                    .record(id)
                    .field("id"),
            );
        }
    };
    seen(
        catalog
            .products
            .iter()
            .map(|p| p.item.id.as_str())
            .collect(),
        "product",
    );
    seen(
        catalog
            .policies
            .iter()
            .map(|p| p.item.id.as_str())
            .collect(),
        "policy",
    );
    seen(
        catalog.enterprises.iter().map(|e| e.id.as_str()).collect(),
        "enterprise",
    );
    seen(
        catalog
            .enterprises
            .iter()
            .map(|e| e.credit_code.as_str())
            .collect(),
        "credit code",
    );
}

/// Rule errors become issues on the record's `field`, with the position inside the rule.
fn rule_issues(
    errors: RuleErrors,
    file: &Path,
    line: usize,
    id: &str,
    field: &str,
    report: &mut Report,
) {
    for e in errors.0 {
        report.push(
            Issue::error(file, Some(line), e.to_string())
                .record(id)
                .field(field),
        );
    }
}

fn check_range(
    r: &Range,
    name: &str,
    unit_check: impl Fn(i64) -> Option<String>,
    issue: &mut dyn FnMut(Issue),
) {
    if r.min > r.max {
        issue(Issue::problem(format!("min {} is greater than max {}", r.min, r.max)).field(name));
    }
    if r.min < 0 {
        issue(Issue::problem(format!("min {} is negative", r.min)).field(name));
    }
    for v in [r.min, r.max] {
        if let Some(w) = unit_check(v) {
            issue(Issue::suspicious(w).field(name));
            break;
        }
    }
}

fn check_codes(regions: &[String], industries: &[String], issue: &mut dyn FnMut(Issue)) {
    for (i, code) in regions.iter().enumerate() {
        if let Err(e) = region::validate(code) {
            issue(Issue::problem(e.to_string()).field(format!("regions[{i}]")));
        }
    }
    for (i, code) in industries.iter().enumerate() {
        if let Err(e) = industry::validate(code) {
            issue(Issue::problem(e.to_string()).field(format!("industries[{i}]")));
        }
    }
}

pub(crate) fn check_product(
    rec: &Sourced<Product>,
    report: &mut Report,
) -> Option<Checked<Product>> {
    let p = &rec.item;
    let before = report.issues.len();
    let mut found = Vec::new();
    let mut issue = |i: Issue| found.push(i);
    if p.id.trim().is_empty() {
        issue(Issue::problem("id is empty").field("id"));
    }
    check_range(&p.amount, "amount", |_| None, &mut issue);
    check_range(
        &p.term_months,
        "term_months",
        |v| (v > 360).then(|| format!("term of {v} months is over 30 years")),
        &mut issue,
    );
    check_range(
        &p.rate_bp,
        "rate_bp",
        |v| {
            (v > 2400).then(|| {
                format!(
                    "annual rate {} is above 24%",
                    huiqi_engine::text::percent(v)
                )
            })
        },
        &mut issue,
    );
    check_codes(&p.regions, &p.industries, &mut issue);
    if p.guarantee.is_empty() {
        issue(Issue::problem("lists no guarantee type").field("guarantee"));
    }
    if let Some(to) = p.effective_to
        && to < p.effective_from
    {
        issue(
            Issue::problem(format!(
                "effective_to {to} is before effective_from {}",
                p.effective_from
            ))
            .field("effective_to"),
        );
    }
    report.issues.extend(
        found
            .into_iter()
            .map(|i| i.located(&rec.file, rec.line, &p.id)),
    );
    let rule = match p.eligibility.compile() {
        Ok(r) => Some(r),
        Err(e) => {
            rule_issues(e, &rec.file, rec.line, &p.id, "eligibility", report);
            None
        }
    };
    let clean = !report.issues[before..]
        .iter()
        .any(|i| i.severity == crate::report::Severity::Error);
    rule.filter(|_| clean).map(|rule| Checked {
        item: p.clone(),
        rule,
    })
}

pub(crate) fn check_policy(rec: &Sourced<Policy>, report: &mut Report) -> Option<Checked<Policy>> {
    let p = &rec.item;
    let before = report.issues.len();
    let mut found = Vec::new();
    let mut issue = |i: Issue| found.push(i);
    if p.id.trim().is_empty() {
        issue(Issue::problem("id is empty").field("id"));
    }
    if p.text.trim().is_empty() {
        issue(Issue::problem("the policy's prose is empty").field("text"));
    }
    check_codes(&p.regions, &[], &mut issue);
    if let (Some(o), Some(c)) = (p.window.opens, p.window.closes)
        && c < o
    {
        issue(Issue::problem(format!("closes {c} before it opens {o}")).field("window"));
    }
    let b = &p.benefit;
    if let Some(pct) = b.percent_bp
        && !(0..=10_000).contains(&pct)
    {
        issue(
            Issue::problem(format!("percent_bp {pct} is outside 0–10000 (0–100%)"))
                .field("benefit.percent_bp"),
        );
    }
    for (name, v) in [
        ("benefit.amount", b.amount),
        ("benefit.cap_per_enterprise", b.cap_per_enterprise),
        ("benefit.cap_per_year", b.cap_per_year),
        ("benefit.duration_months", b.duration_months),
    ] {
        if let Some(v) = v
            && v < 0
        {
            issue(Issue::problem(format!("{v} is negative")).field(name));
        }
    }
    if let (Some(year), Some(total)) = (b.cap_per_year, b.cap_per_enterprise)
        && year > total
    {
        issue(
            Issue::suspicious(format!("yearly cap {year} exceeds the total cap {total}"))
                .field("benefit.cap_per_year"),
        );
    }
    report.issues.extend(
        found
            .into_iter()
            .map(|i| i.located(&rec.file, rec.line, &p.id)),
    );
    let rule = match p.eligibility.compile() {
        Ok(r) => r,
        Err(e) => {
            rule_issues(e, &rec.file, rec.line, &p.id, "eligibility", report);
            return None;
        }
    };
    for (i, case) in p.cases.iter().enumerate() {
        let field = format!("cases[{i}]");
        let mut case_report = Report::default();
        check_enterprise(&case.enterprise, &rec.file, rec.line, &mut case_report);
        for mut issue in case_report.issues {
            issue.field = Some(format!(
                "{field}.enterprise{}",
                issue.field.map(|f| format!(".{f}")).unwrap_or_default()
            ));
            issue.record = Some(p.id.clone());
            report.push(issue);
        }
        let got = rule
            .evaluate(&Facts::new(&case.enterprise, case.as_of))
            .outcome;
        if got != case.expected {
            report.push(
                Issue::error(
                    &rec.file,
                    Some(rec.line),
                    format!(
                        "example case {:?}: expected {:?}, the rule gives {:?}",
                        case.name, case.expected, got
                    ),
                )
                .record(&p.id)
                .field(field),
            );
        }
    }
    let clean = !report.issues[before..]
        .iter()
        .any(|i| i.severity == crate::report::Severity::Error);
    clean.then(|| Checked {
        item: p.clone(),
        rule,
    })
}

/// Validates one enterprise; returns true when it has no errors.
pub fn check_enterprise(e: &Enterprise, file: &Path, line: usize, report: &mut Report) -> bool {
    let before = report.issues.len();
    let mut push = |i: Issue| report.push(i.record(&e.id));
    if e.id.trim().is_empty() {
        push(Issue::error(file, Some(line), "id is empty").field("id"));
    }
    if e.name.trim().is_empty() {
        push(Issue::error(file, Some(line), "name is empty").field("name"));
    }
    if let Err(err) = CreditCode::parse(&e.credit_code) {
        let at = err
            .position
            .map(|p| format!(" (position {p})"))
            .unwrap_or_default();
        push(Issue::error(file, Some(line), format!("{}{at}", err.reason)).field("credit_code"));
    }
    if let Some(code) = &e.registration.region
        && let Err(err) = region::validate(code)
    {
        push(Issue::error(file, Some(line), err.to_string()).field("registration.region"));
    }
    if let Some(code) = &e.registration.industry
        && let Err(err) = industry::validate(code)
    {
        push(Issue::error(file, Some(line), err.to_string()).field("registration.industry"));
    }
    if let Some(d) = e.registration.established
        && d < NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid date")
    {
        push(
            Issue::warning(file, Some(line), format!("established {d} is before 1900"))
                .field("registration.established"),
        );
    }
    // Registry-driven checks: category values and signs of numbers.
    for def in FIELDS {
        let Some(fact) = (def.get)(e) else { continue };
        let field = format!("{} ({})", def.name, def.label);
        match (def.ty, &fact) {
            (FieldType::Enum(allowed), Fact::Str(s))
                if def.name != "size" && !allowed.contains(s) =>
            {
                push(
                    Issue::error(
                        file,
                        Some(line),
                        format!("{s:?} is not one of: {}", allowed.join(", ")),
                    )
                    .field(field),
                );
            }
            (FieldType::Int | FieldType::Percent, Fact::Num(v)) if *v < 0 => {
                push(Issue::error(file, Some(line), format!("{v} is negative")).field(field));
            }
            (FieldType::Money, Fact::Num(v)) if *v < 0 && def.name != "net_profit" => {
                push(Issue::error(file, Some(line), format!("{v} is negative")).field(field));
            }
            _ => {}
        }
    }
    if let Some(n) = e.scale.employees
        && n > 500_000
    {
        push(
            Issue::warning(
                file,
                Some(line),
                format!("{n} employees is implausible for an SME platform"),
            )
            .field("scale.employees"),
        );
    }
    if let Some(bp) = e.tech.rd_ratio_bp
        && bp > 10_000
    {
        push(
            Issue::warning(
                file,
                Some(line),
                format!(
                    "R&D ratio {} is above 100%",
                    huiqi_engine::text::percent(bp)
                ),
            )
            .field("tech.rd_ratio_bp"),
        );
    }
    if let Some(need) = &e.need {
        if let Some(r) = need.max_rate_bp
            && r > 2400
        {
            push(
                Issue::warning(
                    file,
                    Some(line),
                    format!(
                        "acceptable rate {} is above 24%",
                        huiqi_engine::text::percent(r)
                    ),
                )
                .field("need.max_rate_bp"),
            );
        }
        if need.amount.is_some_and(|a| a <= 0) {
            push(Issue::error(file, Some(line), "amount must be positive").field("need.amount"));
        }
        if need.term_months.is_some_and(|t| t <= 0) {
            push(Issue::error(file, Some(line), "term must be positive").field("need.term_months"));
        }
    }
    !report.issues[before..]
        .iter()
        .any(|i| i.severity == crate::report::Severity::Error)
}
