//! Rules compiled to SQL (run on a real PostgreSQL) and to the columnar reverse matcher agree
//! with the interpreter, row by row (DESIGN §4: "compiled and interpreted evaluation must always
//! agree").
//!
//! Needs a server: `eval "$(scripts/postgres)"` starts a throwaway one and exports
//! `HUIQI_PG_URL`. Without the variable these tests fail rather than skip: the agreement is part
//! of the normal suite. Each test works in its own schema (`agree_<pid>_<test>`), dropped at the
//! end even when the test fails.
//!
//! Three parties must agree on every enterprise: the interpreter (`Rule::evaluate` over
//! `Facts::new`), the SQL of `huiqi_engine::sql` on PostgreSQL, and the columnar reverse
//! matcher (`huiqi_engine::reverse`).
//!
//! The random test is a property test with deterministic seeds rather than proptest (not a
//! dependency of the root package): a failure prints the seed, the rule, its SQL and the
//! disagreeing profiles; `HUIQI_AGREE_SEED=<n>` replays a run.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{Datelike, Months, NaiveDate};
use huiqi_engine::codes::{industry, region};
use huiqi_engine::fields::{FIELDS, FieldType};
use huiqi_engine::model::*;
use huiqi_engine::reverse::{self, EnterpriseStore};
use huiqi_engine::rule::{Cmp, Expr, Facts, Func, Literal, Num, Op, Outcome, Rule, Unit};
use huiqi_engine::sql::{self, SqlPredicate, SqlValue};
use huiqi_engine::synthetic::{self, SplitMix};
use huiqi_index::load_dir;
use postgres::types::ToSql;
use postgres::{Client, NoTls};

use crate::pg_bind::bind;

// ---------------------------------------------------------------------------------------------
// The database
// ---------------------------------------------------------------------------------------------

/// A connection working in its own schema, dropped with the value.
struct Db {
    client: Client,
    schema: String,
    insert: postgres::Statement,
}

impl Db {
    fn open(test: &str) -> Db {
        let url = std::env::var("HUIQI_PG_URL").unwrap_or_else(|_| {
            panic!(
                "HUIQI_PG_URL is not set: the SQL agreement tests need PostgreSQL. \
                 Run `eval \"$(scripts/postgres)\"` first (it installs and starts a local \
                 server and prints the export line)."
            )
        });
        let mut client = Client::connect(&url, NoTls)
            .unwrap_or_else(|e| panic!("cannot connect to HUIQI_PG_URL={url}: {e}; is the server up? run `eval \"$(scripts/postgres)\"`"));
        let schema = format!("agree_{}_{test}", std::process::id());
        client
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; \
                 SET search_path TO {schema};"
            ))
            .expect("create the test schema");
        client
            .batch_execute(&sql::schema())
            .unwrap_or_else(|e| panic!("{e}\n{}", sql::schema()));
        for index in sql::indexes() {
            client
                .batch_execute(&index)
                .unwrap_or_else(|e| panic!("{e}\n{index}"));
        }
        let insert = client.prepare(&sql::insert()).expect("prepare the insert");
        Db {
            client,
            schema,
            insert,
        }
    }

    /// Replaces the table's rows with `enterprises` (each id must be unique).
    fn load(&mut self, enterprises: &[Enterprise]) {
        let mut tx = self.client.transaction().unwrap();
        tx.batch_execute(&format!("TRUNCATE {}", sql::TABLE))
            .unwrap();
        for e in enterprises {
            let row = sql::row(e).unwrap_or_else(|err| panic!("{err}"));
            let values: Vec<Box<dyn ToSql + Sync>> = row.iter().map(bind).collect();
            let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v.as_ref()).collect();
            tx.execute(&self.insert, &refs)
                .unwrap_or_else(|err| panic!("insert {}: {err}", e.id));
        }
        tx.batch_execute(&format!("ANALYZE {}", sql::TABLE))
            .unwrap();
        tx.commit().unwrap();
    }

    fn query(&mut self, sql: &str, params: &[SqlValue]) -> Vec<postgres::Row> {
        let values: Vec<Box<dyn ToSql + Sync>> = params.iter().map(bind).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v.as_ref()).collect();
        self.client
            .query(sql, &refs)
            .unwrap_or_else(|e| panic!("{e}\n{sql}\n{params:?}"))
    }

    /// Every row's outcome by the SQL predicate.
    fn outcomes(&mut self, pred: &SqlPredicate) -> BTreeMap<String, Outcome> {
        self.query(&pred.outcome_query(), &pred.params)
            .iter()
            .map(|row| (row.get::<_, String>(0), outcome(row.get(1))))
            .collect()
    }

    /// The ids a query returns, sorted.
    fn ids(&mut self, query: &str, params: &[SqlValue]) -> Vec<String> {
        let mut ids: Vec<String> = self.query(query, params).iter().map(|r| r.get(0)).collect();
        ids.sort();
        ids
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let _ = self
            .client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
    }
}

fn outcome(v: Option<bool>) -> Outcome {
    match v {
        Some(true) => Outcome::Eligible,
        None => Outcome::NeedsInfo,
        Some(false) => Outcome::Ineligible,
    }
}

// ---------------------------------------------------------------------------------------------
// The comparison
// ---------------------------------------------------------------------------------------------

/// The enterprises of a check, loaded into the database and into a columnar store.
struct Loaded {
    enterprises: Vec<Enterprise>,
    store: EnterpriseStore,
}

impl Loaded {
    fn new(db: &mut Db, enterprises: Vec<Enterprise>) -> Loaded {
        db.load(&enterprises);
        let store = EnterpriseStore::build(&enterprises).unwrap();
        assert_eq!(store.len(), enterprises.len(), "ids must be unique");
        Loaded { enterprises, store }
    }
}

/// Compiles `rule` for `as_of`, runs it over the loaded enterprises in SQL and in the columnar
/// store, and describes every enterprise where either differs from the interpreter (empty when
/// all agree). Also checks the SQL reach and needs-info queries.
fn check(db: &mut Db, loaded: &Loaded, rule: &Rule, as_of: NaiveDate) -> Vec<String> {
    let enterprises = &loaded.enterprises;
    let pred = sql::compile(rule, as_of).unwrap_or_else(|e| panic!("{e}\nrule: {}", rule.expr));
    let got = db.outcomes(&pred);
    let columnar = reverse::CompiledPredicate::compile(rule, as_of)
        .unwrap_or_else(|e| panic!("{e}\nrule: {}", rule.expr));
    let reach = reverse::reach(&loaded.store, &columnar);
    let mut problems = Vec::new();
    let mut eligible = Vec::new();
    let mut needs_info = Vec::new();
    for e in enterprises {
        let eval = rule.evaluate(&Facts::new(e, as_of));
        match eval.outcome {
            Outcome::Eligible => eligible.push(e.id.clone()),
            Outcome::NeedsInfo => needs_info.push(e.id.clone()),
            Outcome::Ineligible => {}
        }
        let sql_outcome = got.get(&e.id).copied();
        let columnar_outcome = loaded.store.row_of(&e.id).map(|row| reach.outcome(row));
        let agree = sql_outcome == Some(eval.outcome) && columnar_outcome == Some(eval.outcome);
        if !agree && problems.len() < 5 {
            let verdicts: Vec<String> = rule
                .clauses
                .iter()
                .zip(&eval.verdicts)
                .map(|(c, v)| format!("  {} → {v:?}", c.text))
                .collect();
            problems.push(format!(
                "{}: interpreter {:?}, SQL {sql_outcome:?}, columnar {columnar_outcome:?}\n{}\n  profile: {}",
                e.id,
                eval.outcome,
                verdicts.join("\n"),
                serde_json::to_string(e).unwrap()
            ));
        }
    }
    if got.len() != enterprises.len() {
        problems.push(format!(
            "SQL returned {} rows for {} enterprises",
            got.len(),
            enterprises.len()
        ));
    }
    if problems.is_empty() {
        eligible.sort();
        needs_info.sort();
        let reach = db.ids(&pred.reach_query(), &pred.params);
        let unknown = db.ids(&pred.needs_info_query(), &pred.params);
        if reach != eligible {
            problems.push(format!("reach query: {reach:?}, interpreter {eligible:?}"));
        }
        if unknown != needs_info {
            problems.push(format!(
                "needs-info query: {unknown:?}, interpreter {needs_info:?}"
            ));
        }
    }
    if !problems.is_empty() {
        problems.insert(
            0,
            format!(
                "rule: {}\nas_of: {as_of}\nSQL: {}\nparams: {:?}",
                rule.expr, pred.sql, pred.params
            ),
        );
    }
    problems
}

// ---------------------------------------------------------------------------------------------
// Random rules over odd profiles
// ---------------------------------------------------------------------------------------------

const CASES: u64 = 24;
const PROFILES: u64 = 300;
const RULES_PER_CASE: usize = 40;

#[test]
fn compiled_forms_agree_with_the_interpreter_on_random_rules_and_odd_profiles() {
    let base: u64 = std::env::var("HUIQI_AGREE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_2026);
    let mut db = Db::open("random");
    let mut failures = Vec::new();
    let mut outcomes: BTreeMap<Outcome, usize> = BTreeMap::new();
    for case in 0..CASES {
        let seed = base.wrapping_add(case);
        let mut r = SplitMix::new(seed);
        let as_of = random_as_of(&mut r);
        let enterprises: Vec<Enterprise> = (0..PROFILES)
            .map(|i| {
                if i % 4 == 0 {
                    let mut e = synthetic::enterprise(seed, i);
                    e.id = format!("S{i}");
                    e
                } else {
                    odd_enterprise(&mut r, i, as_of)
                }
            })
            .collect();
        let loaded = Loaded::new(&mut db, enterprises);
        for k in 0..RULES_PER_CASE {
            let expr = random_expr(&mut r, as_of, 3);
            let rule = Rule::from_expr(expr.clone())
                .unwrap_or_else(|e| panic!("generated an ill-typed rule: {e}\n{expr}"));
            for e in &loaded.enterprises {
                *outcomes
                    .entry(rule.evaluate(&Facts::new(e, as_of)).outcome)
                    .or_default() += 1;
            }
            let problems = check(&mut db, &loaded, &rule, as_of);
            if !problems.is_empty() {
                failures.push(format!(
                    "HUIQI_AGREE_SEED={base} case {case} (seed {seed}) rule {k}:\n{}",
                    problems.join("\n")
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} rules disagree:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    // The generators must exercise every outcome, or agreement proves little.
    for o in [Outcome::Eligible, Outcome::NeedsInfo, Outcome::Ineligible] {
        let n = outcomes.get(&o).copied().unwrap_or(0);
        assert!(n * 50 > (CASES * PROFILES) as usize, "{o:?}: {outcomes:?}");
    }
}

fn pick<T: Copy>(r: &mut SplitMix, items: &[T]) -> T {
    *r.pick(items)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Evaluation dates with awkward calendars: leap days, month ends, and ordinary days.
fn random_as_of(r: &mut SplitMix) -> NaiveDate {
    match r.below(4) {
        0 => pick(
            r,
            &[
                date(2024, 2, 29),
                date(2025, 1, 31),
                date(2023, 3, 31),
                date(2026, 11, 21),
                date(2028, 2, 29),
                date(2025, 12, 31),
            ],
        ),
        _ => date(
            2020 + r.below(12) as i32,
            1 + r.below(12) as u32,
            1 + r.below(28) as u32,
        ),
    }
}

/// Dates near the cuts a rule about `as_of` makes (whole years and months before and after,
/// a day or two either side, month ends), some anywhere, and far ones down to PostgreSQL's
/// first date.
fn random_date(r: &mut SplitMix, as_of: NaiveDate) -> NaiveDate {
    let jiggle = |r: &mut SplitMix, d: NaiveDate| d + chrono::Duration::days(r.below(5) as i64 - 2);
    let months_back = |months: i64| {
        if months >= 0 {
            as_of.checked_sub_months(Months::new(months as u32))
        } else {
            as_of.checked_add_months(Months::new(months.unsigned_abs() as u32))
        }
        .unwrap()
    };
    match r.below(20) {
        0..=6 => {
            let years = r.below(19) as i64 - 3;
            jiggle(r, months_back(12 * years))
        }
        7..=11 => {
            let months = r.below(49) as i64 - 6;
            jiggle(r, months_back(months))
        }
        12 | 13 => {
            // A month end, including 29/30/31 that other months lack.
            let d = months_back(r.below(60) as i64 - 12);
            let first = date(d.year(), d.month(), 1);
            first.checked_add_months(Months::new(1)).unwrap() - chrono::Duration::days(1)
        }
        14 => pick(
            r,
            &[
                date(1, 1, 1),
                date(9999, 12, 31),
                date(-4713, 11, 24),
                date(200_000, 6, 30),
                date(1900, 2, 28),
                date(2000, 2, 29),
            ],
        ),
        _ => date(
            1950 + r.below(100) as i32,
            1 + r.below(12) as u32,
            1 + r.below(28) as u32,
        ),
    }
}

/// Counts (int4): small, negative and the extremes of the column.
const COUNTS: [i64; 14] = [
    0,
    1,
    2,
    3,
    5,
    10,
    20,
    50,
    100,
    300,
    -1,
    -7,
    i32::MAX as i64,
    i32::MIN as i64,
];
/// Yuan (int8).
const MONEY: [i64; 12] = [
    0,
    -1,
    1,
    10_000,
    500_000,
    1_000_000,
    5_000_000,
    20_000_000,
    100_000_000,
    -30_000_000,
    i64::MAX,
    i64::MIN,
];
/// Basis points (int4).
const BP: [i64; 10] = [
    0,
    100,
    450,
    500,
    3_000,
    7_000,
    10_000,
    -50,
    1,
    i32::MAX as i64,
];

fn count(r: &mut SplitMix) -> i64 {
    if r.chance(0.3) {
        r.below(2_000) as i64 - 10
    } else {
        pick(r, &COUNTS)
    }
}

fn money(r: &mut SplitMix) -> i64 {
    if r.chance(0.3) {
        r.below(200_000_000) as i64 - 1_000_000
    } else {
        pick(r, &MONEY)
    }
}

fn bp(r: &mut SplitMix) -> i64 {
    if r.chance(0.3) {
        r.below(12_000) as i64
    } else {
        pick(r, &BP)
    }
}

fn maybe<T>(r: &mut SplitMix, f: impl FnOnce(&mut SplitMix) -> T) -> Option<T> {
    (!r.chance(0.3)).then(|| f(r))
}

fn text(r: &mut SplitMix, pool: &[&str]) -> String {
    r.pick(pool).to_string()
}

/// Some known region in any accepted form (six digits or prefix form), or an odd string.
fn region_code(r: &mut SplitMix, odd: bool) -> String {
    static ALL: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let all = ALL.get_or_init(|| region::all().into_iter().map(|(c, _)| c).collect());
    let common = [
        "33", "3301", "330106", "330108", "44", "4403", "440305", "11", "1101", "110105", "51",
    ];
    let code = match r.below(if odd { 4 } else { 3 }) {
        0 => r.pick(all).clone(),
        3 => text(r, &["x", "", "999999", "33010", "3301x6"]),
        _ => text(r, &common),
    };
    if code.len() < 6 && code.bytes().all(|b| b.is_ascii_digit()) && r.chance(0.5) {
        format!("{code:0<6}")
    } else {
        code
    }
}

fn industry_code(r: &mut SplitMix, odd: bool) -> String {
    static ALL: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    let all = ALL.get_or_init(|| industry::all().into_iter().map(|(c, _)| c).collect());
    match r.below(if odd { 4 } else { 3 }) {
        0 => r.pick(all).to_string(),
        3 => text(r, &["", "Z99", "c39", "C39%"]),
        _ => text(
            r,
            &["C", "C39", "C3911", "I65", "I6513", "F52", "A01", "K70"],
        ),
    }
}

/// The allowed values of an enum field, plus (for profiles) values outside the list.
fn enum_values(name: &str) -> &'static [&'static str] {
    match FIELDS.iter().find(|f| f.name == name).map(|f| f.ty) {
        Some(FieldType::Enum(values)) => values,
        _ => panic!("{name} is not an enum"),
    }
}

fn enum_value(r: &mut SplitMix, name: &str) -> String {
    if r.chance(0.1) {
        text(r, &["", "未知", "a"])
    } else {
        text(r, enum_values(name))
    }
}

const LABELS: [&str; 6] = [
    "外贸",
    "链主配套",
    "ISO9001",
    "高新技术企业",
    "",
    "专精特新",
];

fn labels(r: &mut SplitMix) -> Vec<String> {
    (0..r.below(4)).map(|_| text(r, &LABELS)).collect()
}

/// A profile where each fact is missing 30% of the time, with odd values: negative and
/// extreme numbers (within the store's column types), unknown category strings, malformed
/// codes, far dates, empty and duplicated label sets.
fn odd_enterprise(r: &mut SplitMix, i: u64, as_of: NaiveDate) -> Enterprise {
    let b = |r: &mut SplitMix| r.chance(0.5);
    let mut e = Enterprise {
        id: format!("E{i}"),
        credit_code: "913301060000000013".into(),
        name: "测试企业".into(),
        ..Enterprise::default()
    };
    e.registration = Registration {
        region: maybe(r, |r| region_code(r, true)),
        industry: maybe(r, |r| industry_code(r, true)),
        established: maybe(r, |r| random_date(r, as_of)),
        registered_capital: maybe(r, money),
        entity_type: maybe(r, |r| enum_value(r, "entity_type")),
        status: maybe(r, |r| enum_value(r, "reg_status")),
    };
    e.scale = Scale {
        employees: maybe(r, count),
        revenue: maybe(r, money),
        total_assets: maybe(r, money),
        debt_ratio_bp: maybe(r, bp),
        net_profit: maybe(r, money),
    };
    e.tax = TaxInfo {
        credit_grade: maybe(r, |r| enum_value(r, "tax_grade")),
        paid_last_year: maybe(r, money),
        filing_years: maybe(r, count),
        arrears: maybe(r, b),
    };
    e.judicial = Judicial {
        dishonest: maybe(r, b),
        enforcement_cases: maybe(r, count),
        major_penalty_3y: maybe(r, b),
        abnormal_operation: maybe(r, b),
    };
    e.social_insurance = SocialInsurance {
        insured_employees: maybe(r, count),
        arrears: maybe(r, b),
    };
    e.ip = IntellectualProperty {
        invention_patents: maybe(r, count),
        other_patents: maybe(r, count),
        trademarks: maybe(r, count),
        software_copyrights: maybe(r, count),
    };
    e.real_estate = RealEstate {
        owns_property: maybe(r, b),
        property_value: maybe(r, money),
    };
    e.tech = Technology {
        high_tech: maybe(r, b),
        tech_sme: maybe(r, b),
        specialized_level: maybe(r, |r| enum_value(r, "specialized_level")),
        rd_expense: maybe(r, money),
        rd_ratio_bp: maybe(r, bp),
        qualifications: maybe(r, labels),
    };
    e.trade = Trade {
        import_export: maybe(r, b),
        export_value: maybe(r, money),
        customs_grade: maybe(r, |r| enum_value(r, "customs_grade")),
    };
    e.environment = Environment {
        credit_rating: maybe(r, |r| enum_value(r, "env_rating")),
        green_certified: maybe(r, b),
    };
    e.utilities = Utilities {
        months_paid_on_time: maybe(r, count),
        arrears_12m: maybe(r, b),
    };
    e.agriculture = Agriculture {
        entity_type: maybe(r, |r| enum_value(r, "agri_entity_type")),
        demonstration_level: maybe(r, |r| enum_value(r, "agri_demo_level")),
        land_mu: maybe(r, count),
    };
    e.public_resource = PublicResource {
        bids_won_3y: maybe(r, count),
        bid_value_3y: maybe(r, money),
    };
    e.credit = CreditHistory {
        has_bank_loan: maybe(r, b),
        overdue_now: maybe(r, b),
        overdue_count_24m: maybe(r, count),
        outstanding_loans: maybe(r, money),
    };
    e.legal_rep = maybe(r, |r| LegalRepresentative {
        name: "张某".into(),
        id_number: None,
        phone: None,
        marital_status: maybe(r, |r| enum_value(r, "legal_rep_marital")),
        age: maybe(r, count),
    });
    e.shareholders = maybe(r, |r| {
        (0..r.below(5))
            .map(|k| Shareholder {
                name: format!("股东{k}"),
                kind: None,
                share_bp: None,
            })
            .collect()
    });
    e.tags = maybe(r, labels);
    e.need = maybe(r, |r| FinancingNeed {
        amount: maybe(r, money),
        term_months: maybe(r, count),
        purpose: maybe(r, |r| enum_value(r, "need_purpose")),
        guarantee_types: {
            let all = [
                GuaranteeType::Credit,
                GuaranteeType::Mortgage,
                GuaranteeType::Pledge,
                GuaranteeType::Guarantor,
            ];
            all.into_iter().filter(|_| r.chance(0.4)).collect()
        },
        max_rate_bp: maybe(r, bp),
        text: None,
    });
    e
}

fn num(value: i64, unit: Unit) -> Literal {
    Literal::Num(Num { value, unit })
}

/// A well-typed rule over every stored field: `and`/`or`/`not` to `depth`, leaves of every
/// operator each field type allows, with literals that hit the profiles' values and some that
/// no stored value can reach.
fn random_expr(r: &mut SplitMix, as_of: NaiveDate, depth: u32) -> Expr {
    if depth == 0 || r.chance(0.35) {
        return if r.chance(0.03) {
            Expr::Const(r.chance(0.5))
        } else {
            random_leaf(r, as_of)
        };
    }
    match r.below(5) {
        0 | 1 => Expr::And(
            (0..2 + r.below(2))
                .map(|_| random_expr(r, as_of, depth - 1))
                .collect(),
        ),
        2 | 3 => Expr::Or(
            (0..2 + r.below(2))
                .map(|_| random_expr(r, as_of, depth - 1))
                .collect(),
        ),
        _ => Expr::Not(Box::new(random_expr(r, as_of, depth - 1))),
    }
}

fn random_leaf(r: &mut SplitMix, as_of: NaiveDate) -> Expr {
    // Dates and codes carry the subtle cases (cuts, prefix forms): favour them.
    let stored: Vec<_> = FIELDS.iter().filter(|f| f.ty != FieldType::Text).collect();
    let named = |name: &str| *stored.iter().find(|f| f.name == name).unwrap();
    let f = match r.below(20) {
        0..=3 => named("established"),
        4 | 5 => named("region"),
        6 => named("industry"),
        _ => *r.pick(&stored),
    };
    let field = f.name.to_string();
    let ord = [Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge];
    let with_lists = [
        Op::Eq,
        Op::Ne,
        Op::Lt,
        Op::Le,
        Op::Gt,
        Op::Ge,
        Op::In,
        Op::NotIn,
    ];
    let cmp = |func, op, value| {
        Expr::Cmp(Cmp {
            func,
            field: field.clone(),
            op,
            value,
        })
    };
    // A literal, or a list of 1–3 of them for `in` / `not in`.
    let lit = |r: &mut SplitMix, op: Op, one: &mut dyn FnMut(&mut SplitMix) -> Literal| {
        if matches!(op, Op::In | Op::NotIn | Op::HasAny | Op::HasAll) {
            Literal::List((0..1 + r.below(3)).map(|_| one(r)).collect())
        } else {
            one(r)
        }
    };
    match f.ty {
        FieldType::Bool => match r.below(3) {
            0 => Expr::Flag(field),
            _ => cmp(
                None,
                pick(r, &[Op::Eq, Op::Ne]),
                Literal::Bool(r.chance(0.5)),
            ),
        },
        FieldType::Int => {
            let op = pick(r, &with_lists);
            let value = lit(r, op, &mut |r| {
                let v = match r.below(8) {
                    0 => pick(
                        r,
                        &[
                            i64::from(i32::MAX) + 1,
                            i64::from(i32::MIN) - 1,
                            5_000_000_000,
                            -1_000_000_000_000,
                        ],
                    ),
                    _ => count(r),
                };
                num(v, Unit::None)
            });
            cmp(None, op, value)
        }
        FieldType::Money => {
            let op = pick(r, &with_lists);
            let value = lit(r, op, &mut |r| num(money(r), Unit::None));
            cmp(None, op, value)
        }
        FieldType::Percent => {
            let op = pick(r, &with_lists);
            let value = lit(r, op, &mut |r| {
                let v = if r.chance(0.1) { 3_000_000_000 } else { bp(r) };
                num(v, Unit::Percent)
            });
            cmp(None, op, value)
        }
        FieldType::Date => {
            if r.chance(0.4) {
                let value = match r.below(10) {
                    0 => pick(r, &[date(-5000, 1, 1), date(-4713, 11, 24), NaiveDate::MAX]),
                    _ => random_date(r, as_of),
                };
                cmp(None, pick(r, &ord), Literal::Date(value))
            } else {
                let func = pick(r, &[Func::YearsSince, Func::MonthsSince]);
                let op = pick(r, &with_lists);
                let span = if func == Func::YearsSince { 19 } else { 49 };
                let value = lit(r, op, &mut |r| {
                    let v = match r.below(10) {
                        0 => pick(r, &[i64::MAX, i64::MIN, 1_000_000_000, -1_000_000_000]),
                        1 => r.below(500) as i64 - 100,
                        _ => r.below(span) as i64 - 3,
                    };
                    num(v, Unit::None)
                });
                cmp(Some(func), op, value)
            }
        }
        FieldType::Enum(values) => {
            let op = pick(r, &[Op::Eq, Op::Ne, Op::In, Op::NotIn]);
            let value = lit(r, op, &mut |r| Literal::Str(text(r, values)));
            cmp(None, op, value)
        }
        FieldType::Region | FieldType::Industry => {
            let code = |r: &mut SplitMix| {
                Literal::Str(if f.ty == FieldType::Region {
                    region_code(r, false)
                } else {
                    industry_code(r, false)
                })
            };
            let op = pick(
                r,
                &[Op::Under, Op::Under, Op::Eq, Op::Ne, Op::In, Op::NotIn],
            );
            let value = if op == Op::Under && r.chance(0.4) {
                Literal::List((0..1 + r.below(3)).map(|_| code(r)).collect())
            } else {
                lit(r, op, &mut |r| code(r))
            };
            cmp(None, op, value)
        }
        FieldType::Set(allowed) => {
            let pool: Vec<&str> = allowed.map_or(LABELS[..4].to_vec(), |a| a.to_vec());
            let op = pick(r, &[Op::Has, Op::HasAny, Op::HasAll]);
            let value = lit(r, op, &mut |r| Literal::Str(text(r, &pool)));
            cmp(None, op, value)
        }
        FieldType::Text => unreachable!("free-text fields are filtered out"),
    }
}

// ---------------------------------------------------------------------------------------------
// The fixtures
// ---------------------------------------------------------------------------------------------

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

#[test]
fn compiled_forms_agree_on_every_fixture_rule_and_policy_case() {
    let (catalog, report) = load_dir(&fixtures());
    assert!(!report.has_errors(), "fixtures do not load");
    let mut db = Db::open("fixtures");

    // Every product's and policy's rule over every fixture enterprise, on three dates.
    let loaded = Loaded::new(&mut db, catalog.enterprises.clone());
    let rules = catalog
        .products
        .iter()
        .map(|p| (p.item.id.as_str(), &p.rule))
        .chain(
            catalog
                .policies
                .iter()
                .map(|p| (p.item.id.as_str(), &p.rule)),
        );
    let mut failures = Vec::new();
    let mut checked = 0;
    for (id, rule) in rules {
        for as_of in [date(2024, 2, 29), date(2025, 6, 30), date(2026, 11, 21)] {
            let problems = check(&mut db, &loaded, rule, as_of);
            if !problems.is_empty() {
                failures.push(format!("{id}:\n{}", problems.join("\n")));
            }
            checked += 1;
        }
    }
    assert!(checked >= 3 * 60, "only {checked} rule checks");

    // Every policy example case, each on its own date, also against its expected outcome.
    let mut cases = Vec::new();
    for p in &catalog.policies {
        for (k, case) in p.item.cases.iter().enumerate() {
            let mut e = case.enterprise.clone();
            e.id = format!("{}#{k}", p.item.id);
            cases.push((p, case, e));
        }
    }
    let loaded = Loaded::new(&mut db, cases.iter().map(|(_, _, e)| e.clone()).collect());
    for (p, case, e) in &cases {
        let pred = sql::compile(&p.rule, case.as_of).unwrap();
        let query = format!(
            "SELECT ({}) FROM {} WHERE id = ${}",
            pred.sql,
            sql::TABLE,
            pred.params.len() + 1
        );
        let mut params = pred.params.clone();
        params.push(SqlValue::Text(e.id.clone()));
        let rows = db.query(&query, &params);
        assert_eq!(rows.len(), 1, "{}", e.id);
        let got = outcome(rows[0].get(0));
        let interpreted = p.rule.evaluate(&Facts::new(e, case.as_of)).outcome;
        let columnar = reverse::CompiledPredicate::compile(&p.rule, case.as_of).unwrap();
        let columnar =
            reverse::reach(&loaded.store, &columnar).outcome(loaded.store.row_of(&e.id).unwrap());
        if got != interpreted || columnar != interpreted || got != case.expected {
            failures.push(format!(
                "{} / {}: SQL {got:?}, columnar {columnar:?}, interpreter {interpreted:?}, \
                 expected {:?}\nSQL: {}",
                p.item.id, case.name, case.expected, pred.sql
            ));
        }
    }
    assert!(cases.len() >= 60, "only {} cases", cases.len());
    assert!(
        failures.is_empty(),
        "{} disagreements:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// The indexes of `sql::indexes()` serve the SQL the compiler writes (prefix `LIKE` on a bound
/// parameter, date cuts, array containment), and index plans give the same rows.
#[test]
fn compiled_predicates_can_use_the_indexes() {
    let (catalog, _) = load_dir(&fixtures());
    let mut db = Db::open("indexes");
    let loaded = Loaded::new(&mut db, catalog.enterprises.clone());
    let as_of = date(2026, 11, 21);
    let cases = [
        ("region under \"3301\"", "enterprises_region_idx"),
        (
            "industry under [\"C39\", \"I65\"]",
            "enterprises_industry_idx",
        ),
        (
            "years_since(established) >= 3",
            "enterprises_established_idx",
        ),
        ("size in [\"小型\", \"微型\"]", "enterprises_size_idx"),
        ("tags has \"外贸\"", "enterprises_tags_idx"),
        (
            "qualifications has any [\"ISO9001\", \"高新技术企业\"]",
            "enterprises_qualifications_idx",
        ),
    ];
    db.client.batch_execute("SET enable_seqscan = off").unwrap();
    for (text, index) in cases {
        let rule = huiqi_engine::rule::compile(text).unwrap();
        let pred = sql::compile(&rule, as_of).unwrap();
        let plan: Vec<String> = db
            .query(&format!("EXPLAIN {}", pred.reach_query()), &pred.params)
            .iter()
            .map(|r| r.get(0))
            .collect();
        let plan = plan.join("\n");
        assert!(plan.contains(index), "{text}: {}\n{plan}", pred.sql);
        let problems = check(&mut db, &loaded, &rule, as_of);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
