//! SQL for the scale-out store: the `enterprises` table, its rows, and rules compiled to
//! parameterised `WHERE` expressions for PostgreSQL (Citus-compatible).
//!
//! The store is the other half of reverse matching (政策找人): where one machine scans a columnar
//! copy in memory, a cluster pushes the same rule down as SQL. Both must give the interpreter's
//! answer for every enterprise, so this module is exact rather than approximate:
//!
//! - **One column per rule-usable field** of the [registry](crate::fields), in registry order,
//!   after `id`. Free-text fields (法定代表人 name, id number, phone) are personal data that no
//!   rule needs; they are not stored, and a rule that tests one does not compile here
//!   ([`SqlError::TextField`]). Derived facts (`size`, `shareholder_count`) are computed by
//!   [`row`] at insert time, with the registry's own getters, so they must be written again
//!   whenever the profile changes.
//! - **Three values through SQL `NULL`.** A missing fact is `NULL`; every compiled clause is
//!   `NULL` exactly when its column is, and `true`/`false` otherwise; SQL's `AND`, `OR` and
//!   `NOT` are Kleene's. So `SELECT id, (<predicate>) FROM enterprises` gives `true` / `NULL` /
//!   `false` for eligible / needs_info / ineligible. Care points: arrays bound as parameters
//!   never hold `NULL` (so `<> ALL` is the exact negation of `= ANY`); an empty `= ANY` list
//!   would be `false` even for a `NULL` column, so it is folded to a `CASE` instead; a folded
//!   `not` (`Clause::negated`) flips the operator where SQL has one (`<` ↔ `>=`, `= ANY` ↔
//!   `<> ALL`), else wraps `NOT (…)`.
//! - **Dates are decided in Rust.** `years_since(d) >= 3` becomes `d <= $1::date` with the
//!   cutoff found by binary search over days using the interpreter's own
//!   [`years_between`]/[`months_between`] (both are monotone in the start date), so SQL and the
//!   interpreter agree on every date, leap days and dates after `as_of` included. No clock, no
//!   `age()`, no `now()`: nothing volatile, so the predicate runs unchanged on Citus shards.
//! - **Every parameter has its column's type** and the SQL casts it (`$1::int4`), so the
//!   planner compares like with like and uses the indexes of [`indexes`]. A literal outside the
//!   column's range (an `int4` count compared with 5×10⁹) cannot match and is folded away rather
//!   than bound.
//!
//! How each [`Test`] maps (column `c`; "negated" covers `!=`, `not in` and a folded `not`):
//!
//! | test | SQL | negated |
//! |---|---|---|
//! | `Flag`, `Bool(b)` | `c` or `NOT c` | the other one |
//! | `Num(op, v)` | `c op $1::int4` (or `::int8` for yuan) | the opposite `op` |
//! | `NumIn` | `c = ANY($1::int4[])` | `c <> ALL($1::int4[])` |
//! | `Num` on `years_since`, `months_since` | `c <= $1::date`, `c > $1::date`, or `(c > $1::date AND c <= $2::date)` for `=` | the complement |
//! | `Date(op, d)` | `c op $1::date` | the opposite `op` |
//! | `Str` | `c = $1::text` (regions in prefix form) | `c <> $1::text` |
//! | `StrIn` | `c = ANY($1::text[])` | `c <> ALL($1::text[])` |
//! | `Under` | `c LIKE $1::text` (`'3301%'`), `OR`ed per prefix | `NOT (…)` |
//! | `Has`, `HasAll` | `c @> $1::text[]` | `NOT (…)` |
//! | `HasAny` | `c && $1::text[]` | `NOT (…)` |
//! | a literal no stored value can reach | `CASE WHEN c IS NULL THEN NULL ELSE false END` (or `true`) | the other one |
//!
//! The engine does no I/O: this module only builds strings and typed [`SqlValue`]s; the caller
//! binds them with its PostgreSQL client.

use std::fmt;
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};

use crate::codes::region;
use crate::fields::{FIELDS, Fact, FieldId, FieldType};
use crate::model::Enterprise;
use crate::rule::{CmpOp, Expr, Func, Rule, Test, months_between, years_between};

/// The table name. Queries use it unqualified, so a deployment picks the schema with
/// `search_path`.
pub const TABLE: &str = "enterprises";

/// The Citus statement that shards the table by enterprise id (run once after [`schema`],
/// before loading). `id` is the primary key, which Citus requires to contain the distribution
/// column; compiled predicates touch only the row's own columns, so every reach query runs on
/// all shards in parallel with no repartitioning.
pub const DISTRIBUTE: &str = "SELECT create_distributed_table('enterprises', 'id')";

/// A PostgreSQL type used by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SqlType {
    Int4,
    Int8,
    Bool,
    Date,
    Text,
    TextArray,
    Int4Array,
    Int8Array,
}

impl SqlType {
    /// The PostgreSQL name, as written in casts and `CREATE TABLE`.
    pub fn name(self) -> &'static str {
        match self {
            SqlType::Int4 => "int4",
            SqlType::Int8 => "int8",
            SqlType::Bool => "bool",
            SqlType::Date => "date",
            SqlType::Text => "text",
            SqlType::TextArray => "text[]",
            SqlType::Int4Array => "int4[]",
            SqlType::Int8Array => "int8[]",
        }
    }
}

impl fmt::Display for SqlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A typed value to bind: a row value for `INSERT` or a parameter of a [`SqlPredicate`].
/// Arrays never contain `NULL`.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    /// `NULL` of the given type (an unknown fact).
    Null(SqlType),
    Int4(i32),
    Int8(i64),
    Bool(bool),
    Date(NaiveDate),
    Text(String),
    TextArray(Vec<String>),
    Int4Array(Vec<i32>),
    Int8Array(Vec<i64>),
}

impl SqlValue {
    pub fn ty(&self) -> SqlType {
        match self {
            SqlValue::Null(t) => *t,
            SqlValue::Int4(_) => SqlType::Int4,
            SqlValue::Int8(_) => SqlType::Int8,
            SqlValue::Bool(_) => SqlType::Bool,
            SqlValue::Date(_) => SqlType::Date,
            SqlValue::Text(_) => SqlType::Text,
            SqlValue::TextArray(_) => SqlType::TextArray,
            SqlValue::Int4Array(_) => SqlType::Int4Array,
            SqlValue::Int8Array(_) => SqlType::Int8Array,
        }
    }

    /// The PostgreSQL type name (`"int4"`, `"text[]"` …).
    pub fn type_name(&self) -> &'static str {
        self.ty().name()
    }
}

/// Why a rule or a profile does not fit the store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SqlError {
    /// The rule tests a free-text field, which the store does not hold.
    #[error("`{field}` is free text (personal data) and is not in the SQL store")]
    TextField { field: &'static str },
    /// A profile value does not fit its column (`int4` counts and basis points, dates between
    /// 4714 BC and 5874897 AD); the store rejects the profile rather than change the value.
    #[error("enterprise {id}: `{field}` = {value} does not fit the column type {ty}")]
    OutOfRange {
        id: String,
        field: &'static str,
        value: String,
        ty: &'static str,
    },
    /// The compiled rule is not shaped as the type checker makes rules (a bug, not bad input).
    #[error("internal: {0}")]
    Internal(String),
}

/// One column of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Column name: `id`, then the registry field names.
    pub name: &'static str,
    pub ty: SqlType,
    /// The registry field stored here (`None` for `id`).
    pub field: Option<FieldId>,
}

/// The column type of a field, or `None` for free text (not stored).
fn column_type(ty: FieldType) -> Option<SqlType> {
    Some(match ty {
        FieldType::Bool => SqlType::Bool,
        // Counts and whole years/months: int4. Basis points: int4 (100% = 10 000).
        FieldType::Int | FieldType::Percent => SqlType::Int4,
        // Yuan: int8 (int4 stops at 21 亿).
        FieldType::Money => SqlType::Int8,
        FieldType::Date => SqlType::Date,
        FieldType::Enum(_) | FieldType::Region | FieldType::Industry => SqlType::Text,
        FieldType::Set(_) => SqlType::TextArray,
        FieldType::Text => return None,
    })
}

/// The columns in table order: `id`, then every rule-usable registry field in registry order.
pub fn columns() -> &'static [Column] {
    static COLUMNS: OnceLock<Vec<Column>> = OnceLock::new();
    COLUMNS.get_or_init(|| {
        let mut cols = vec![Column {
            name: "id",
            ty: SqlType::Text,
            field: None,
        }];
        cols.extend(FIELDS.iter().enumerate().filter_map(|(i, f)| {
            column_type(f.ty).map(|ty| Column {
                name: f.name,
                ty,
                field: Some(FieldId(i as u16)),
            })
        }));
        cols
    })
}

/// `CREATE TABLE enterprises (...)`: `id text PRIMARY KEY` and one nullable column per
/// rule-usable field, each commented with its Chinese label. Regions are stored in prefix form
/// (`"330100"` → `"3301"`) so `under` is a `LIKE 'prefix%'` that a `text_pattern_ops` index
/// serves. On Citus, follow with [`DISTRIBUTE`]; then [`indexes`].
pub fn schema() -> String {
    let mut lines = vec![(
        "id text PRIMARY KEY".to_string(),
        "企业 id (Citus distribution column)".to_string(),
    )];
    for c in &columns()[1..] {
        let def = c.field.expect("field columns have a field").def();
        let note = match def.ty {
            FieldType::Region => " (GB/T 2260, prefix form)",
            FieldType::Industry => " (GB/T 4754)",
            FieldType::Money => " (元)",
            FieldType::Percent => " (basis points)",
            _ if matches!(def.name, "size" | "shareholder_count") => " (derived at insert)",
            _ => "",
        };
        lines.push((
            format!("{} {}", c.name, c.ty.name()),
            format!("{}{note}", def.label),
        ));
    }
    let last = lines.len() - 1;
    let body: Vec<String> = lines
        .into_iter()
        .enumerate()
        .map(|(i, (column, comment))| {
            let comma = if i == last { "" } else { "," };
            format!("    {column}{comma} -- {comment}")
        })
        .collect();
    format!("CREATE TABLE {TABLE} (\n{}\n)", body.join("\n"))
}

/// The indexes a DBA would add for reach queries: prefix search on the code columns
/// (`text_pattern_ops` serves `LIKE 'prefix%'` in any collation), btree on the columns policies
/// filter on most, GIN on the label sets (`@>`, `&&`). On Citus they are created on every
/// shard. Prefix `LIKE` with a bound parameter uses its index under a custom plan (the
/// default for the first executions of a prepared statement, and always for unnamed ones).
pub fn indexes() -> Vec<String> {
    let btree = |col: &str, opclass: &str| {
        format!("CREATE INDEX {TABLE}_{col}_idx ON {TABLE} ({col}{opclass})")
    };
    let gin = |col: &str| format!("CREATE INDEX {TABLE}_{col}_idx ON {TABLE} USING gin ({col})");
    vec![
        btree("region", " text_pattern_ops"),
        btree("industry", " text_pattern_ops"),
        btree("established", ""),
        btree("size", ""),
        btree("tax_grade", ""),
        btree("registered_capital", ""),
        btree("revenue", ""),
        gin("tags"),
        gin("qualifications"),
        gin("need_guarantee"),
    ]
}

/// `INSERT INTO enterprises (id, …) VALUES ($1, $2::int4, …)` for the values of [`row`].
pub fn insert() -> String {
    let names: Vec<&str> = columns().iter().map(|c| c.name).collect();
    let params: Vec<String> = columns()
        .iter()
        .enumerate()
        .map(|(i, c)| format!("${}::{}", i + 1, c.ty.name()))
        .collect();
    format!(
        "INSERT INTO {TABLE} ({}) VALUES ({})",
        names.join(", "),
        params.join(", ")
    )
}

/// The earliest date PostgreSQL stores (4714-11-24 BC, Julian day 0).
fn pg_min_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(-4713, 11, 24).expect("a valid proleptic Gregorian date")
}

/// The last date both chrono and PostgreSQL (up to 5874897 AD) represent.
fn max_date() -> NaiveDate {
    NaiveDate::MAX
}

/// The values of one enterprise in column order, with `NULL` for every unknown fact, read with
/// the registry's getters (so `size` is the derived class and regions are in prefix form, as
/// the interpreter sees them).
///
/// # Errors
/// [`SqlError::OutOfRange`] when a count or basis-point value does not fit `int4`, or a date
/// is before 4714 BC: the profile is not stored rather than stored wrong.
pub fn row(e: &Enterprise) -> Result<Vec<SqlValue>, SqlError> {
    let mut values = Vec::with_capacity(columns().len());
    values.push(SqlValue::Text(e.id.clone()));
    for c in &columns()[1..] {
        let def = c.field.expect("field columns have a field").def();
        let out_of_range = |value: String| SqlError::OutOfRange {
            id: e.id.clone(),
            field: def.name,
            value,
            ty: c.ty.name(),
        };
        let value = match ((def.get)(e), c.ty) {
            (None, ty) => SqlValue::Null(ty),
            (Some(Fact::Bool(b)), SqlType::Bool) => SqlValue::Bool(b),
            (Some(Fact::Num(n)), SqlType::Int4) => {
                SqlValue::Int4(i32::try_from(n).map_err(|_| out_of_range(n.to_string()))?)
            }
            (Some(Fact::Num(n)), SqlType::Int8) => SqlValue::Int8(n),
            (Some(Fact::Date(d)), SqlType::Date) => {
                if d < pg_min_date() {
                    return Err(out_of_range(d.to_string()));
                }
                SqlValue::Date(d)
            }
            (Some(Fact::Str(s)), SqlType::Text) => SqlValue::Text(if def.ty == FieldType::Region {
                region::prefix_slice(s).to_string()
            } else {
                s.to_string()
            }),
            (Some(Fact::Set(items)), SqlType::TextArray) => SqlValue::TextArray(items.to_vec()),
            (Some(Fact::Labels(items)), SqlType::TextArray) => {
                SqlValue::TextArray(items.iter().map(|s| s.to_string()).collect())
            }
            (Some(fact), ty) => {
                return Err(SqlError::Internal(format!(
                    "field `{}` gave {fact:?} for a {ty} column",
                    def.name
                )));
            }
        };
        values.push(value);
    }
    Ok(values)
}

/// A compiled rule: a boolean SQL expression over the columns of [`TABLE`] with parameters
/// `$1`, `$2` … bound to `params` in order. It is `true` / `NULL` / `false` exactly when the
/// interpreter says eligible / needs_info / ineligible.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlPredicate {
    pub sql: String,
    pub params: Vec<SqlValue>,
}

impl SqlPredicate {
    /// Every enterprise with its three-valued outcome: `SELECT id, (<sql>) AS eligible …`.
    pub fn outcome_query(&self) -> String {
        format!("SELECT id, ({}) AS eligible FROM {TABLE}", self.sql)
    }

    /// The ids of the eligible enterprises (the reach of a policy).
    pub fn reach_query(&self) -> String {
        format!("SELECT id FROM {TABLE} WHERE {}", self.sql)
    }

    /// The ids of the enterprises that may qualify once they add facts (needs_info).
    pub fn needs_info_query(&self) -> String {
        format!("SELECT id FROM {TABLE} WHERE ({}) IS NULL", self.sql)
    }
}

impl fmt::Display for SqlPredicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sql)
    }
}

/// Compiles a checked rule to a parameterised SQL predicate for evaluation on `as_of`.
///
/// # Errors
/// [`SqlError::TextField`] when the rule tests a free-text field (not stored);
/// [`SqlError::Internal`] when the rule is not shaped as [`Rule::from_expr`] makes rules.
pub fn compile(rule: &Rule, as_of: NaiveDate) -> Result<SqlPredicate, SqlError> {
    let mut c = Compiler {
        rule,
        as_of,
        params: Vec::new(),
        leaf: 0,
    };
    let sql = c.node(&rule.expr, false)?;
    if c.leaf != rule.clauses.len() {
        return Err(SqlError::Internal(format!(
            "the rule has {} clauses but {} leaves",
            rule.clauses.len(),
            c.leaf
        )));
    }
    Ok(SqlPredicate {
        sql,
        params: c.params,
    })
}

struct Compiler<'r> {
    rule: &'r Rule,
    as_of: NaiveDate,
    params: Vec<SqlValue>,
    /// Index of the next leaf in text order, which is the clause order of the rule.
    leaf: usize,
}

/// A clause's SQL, or a verdict that no stored value changes (rendered null-preserving).
enum Piece {
    Sql(String),
    Always(bool),
}

impl Compiler<'_> {
    fn bind(&mut self, v: SqlValue) -> String {
        let ty = v.type_name();
        self.params.push(v);
        format!("${}::{ty}", self.params.len())
    }

    /// Walks the rule's expression in the order the type checker did, so leaves meet their
    /// clauses; a `not` directly over a leaf was folded into that clause (`negated`).
    fn node(&mut self, e: &Expr, under_not: bool) -> Result<String, SqlError> {
        Ok(match e {
            Expr::Const(b) => b.to_string(),
            Expr::And(items) | Expr::Or(items) => {
                let is_and = matches!(e, Expr::And(_));
                if items.is_empty() {
                    return Ok(is_and.to_string());
                }
                let parts = items
                    .iter()
                    .map(|item| self.node(item, false))
                    .collect::<Result<Vec<_>, _>>()?;
                format!("({})", parts.join(if is_and { " AND " } else { " OR " }))
            }
            Expr::Not(inner) => match **inner {
                Expr::Flag(_) | Expr::Cmp(_) => self.node(inner, true)?,
                _ => format!("NOT ({})", self.node(inner, false)?),
            },
            Expr::Flag(name) | Expr::Cmp(crate::rule::Cmp { field: name, .. }) => {
                let rule = self.rule;
                let clause = rule.clauses.get(self.leaf).ok_or_else(|| {
                    SqlError::Internal(format!("no clause for leaf {}", self.leaf))
                })?;
                self.leaf += 1;
                let def = clause.field.def();
                if def.name != name || clause.negated != under_not {
                    return Err(SqlError::Internal(format!(
                        "leaf `{name}` does not match clause `{}`",
                        clause.text
                    )));
                }
                if def.ty == FieldType::Text {
                    return Err(SqlError::TextField { field: def.name });
                }
                let col = def.name;
                match self.clause(col, def.ty, clause.func, &clause.test, clause.negated)? {
                    Piece::Sql(s) => s,
                    Piece::Always(b) => format!("CASE WHEN {col} IS NULL THEN NULL ELSE {b} END"),
                }
            }
        })
    }

    fn clause(
        &mut self,
        col: &str,
        ty: FieldType,
        func: Option<Func>,
        test: &Test,
        negated: bool,
    ) -> Result<Piece, SqlError> {
        let column = column_type(ty).ok_or(SqlError::Internal(format!("`{col}` has no column")))?;
        let mismatch = || SqlError::Internal(format!("`{col}`: {test:?} on a {}", ty.name()));
        let region = |s: &str| {
            if ty == FieldType::Region {
                region::prefix_slice(s).to_string()
            } else {
                s.to_string()
            }
        };
        let piece = match (test, column) {
            (Test::Flag, SqlType::Bool) => Piece::Sql(bool_sql(col, true, negated)),
            (Test::Bool(want), SqlType::Bool) => Piece::Sql(bool_sql(col, *want, negated)),
            (Test::Num(op, v), SqlType::Date) => {
                let func = func.ok_or_else(mismatch)?;
                let op = if negated { negate(*op) } else { *op };
                self.measure_cmp(col, func, op, *v)
            }
            (Test::NumIn { values, negated: n }, SqlType::Date) => {
                let func = func.ok_or_else(mismatch)?;
                self.measure_in(col, func, values, *n != negated)
            }
            (Test::Num(op, v), SqlType::Int4 | SqlType::Int8) => {
                let op = if negated { negate(*op) } else { *op };
                let (lo, hi) = int_range(column);
                match fold(op, *v, lo, hi) {
                    Ok(v) => {
                        let p = self.bind(int_value(column, v));
                        Piece::Sql(format!("{col} {} {p}", sql_op(op)))
                    }
                    Err(always) => Piece::Always(always),
                }
            }
            (Test::NumIn { values, negated: n }, SqlType::Int4 | SqlType::Int8) => {
                let (lo, hi) = int_range(column);
                let kept: Vec<i64> = values
                    .iter()
                    .copied()
                    .filter(|v| (lo..=hi).contains(v))
                    .collect();
                let array = if column == SqlType::Int4 {
                    SqlValue::Int4Array(kept.iter().map(|&v| v as i32).collect())
                } else {
                    SqlValue::Int8Array(kept.clone())
                };
                self.any(col, kept.is_empty(), array, *n != negated)
            }
            (Test::Date(op, d), SqlType::Date) => {
                let op = if negated { negate(*op) } else { *op };
                let day = |d: NaiveDate| i64::from(d.num_days_from_ce());
                match fold(op, day(*d), day(pg_min_date()), day(max_date())) {
                    Ok(_) => {
                        let p = self.bind(SqlValue::Date(*d));
                        Piece::Sql(format!("{col} {} {p}", sql_op(op)))
                    }
                    Err(always) => Piece::Always(always),
                }
            }
            (Test::Str { value, negated: n }, SqlType::Text) => {
                let p = self.bind(SqlValue::Text(region(value)));
                let op = if *n != negated { "<>" } else { "=" };
                Piece::Sql(format!("{col} {op} {p}"))
            }
            (Test::StrIn { values, negated: n }, SqlType::Text) => {
                let array = SqlValue::TextArray(values.iter().map(|v| region(v)).collect());
                self.any(col, values.is_empty(), array, *n != negated)
            }
            (Test::Under(prefixes), SqlType::Text) => {
                if prefixes.is_empty() {
                    Piece::Always(negated)
                } else {
                    let likes: Vec<String> = prefixes
                        .iter()
                        .map(|p| {
                            let p = self.bind(SqlValue::Text(format!("{}%", like_escape(p))));
                            format!("{col} LIKE {p}")
                        })
                        .collect();
                    let any = if likes.len() == 1 {
                        likes.into_iter().next().expect("one")
                    } else {
                        format!("({})", likes.join(" OR "))
                    };
                    Piece::Sql(not_if(negated, any))
                }
            }
            (Test::Has(label), SqlType::TextArray) => {
                let p = self.bind(SqlValue::TextArray(vec![label.clone()]));
                Piece::Sql(not_if(negated, format!("{col} @> {p}")))
            }
            (Test::HasAll(labels), SqlType::TextArray) => {
                let p = self.bind(SqlValue::TextArray(labels.clone()));
                Piece::Sql(not_if(negated, format!("{col} @> {p}")))
            }
            (Test::HasAny(labels), SqlType::TextArray) => {
                let p = self.bind(SqlValue::TextArray(labels.clone()));
                Piece::Sql(not_if(negated, format!("{col} && {p}")))
            }
            _ => return Err(mismatch()),
        };
        Ok(piece)
    }

    /// `c = ANY(array)` or, negated, `c <> ALL(array)`. The array holds no `NULL`, so the two
    /// are exact negations; an empty array is folded (`= ANY('{}')` is false even for `NULL`).
    fn any(&mut self, col: &str, empty: bool, array: SqlValue, negated: bool) -> Piece {
        if empty {
            return Piece::Always(negated);
        }
        let p = self.bind(array);
        Piece::Sql(if negated {
            format!("{col} <> ALL({p})")
        } else {
            format!("{col} = ANY({p})")
        })
    }

    /// `func(c) op v` as a date range on `c`.
    fn measure_cmp(&mut self, col: &str, func: Func, op: CmpOp, v: i64) -> Piece {
        let cut = |v: i64| self.cut(func, v);
        let (range, complement) = match op {
            CmpOp::Ge => (DateRange::upto(cut(v)), false),
            CmpOp::Gt => (DateRange::upto(cut_after(v, cut)), false),
            CmpOp::Lt => (DateRange::upto(cut(v)), true),
            CmpOp::Le => (DateRange::upto(cut_after(v, cut)), true),
            CmpOp::Eq => (DateRange::exactly(v, cut), false),
            CmpOp::Ne => (DateRange::exactly(v, cut), true),
        };
        self.range_sql(col, range, complement)
    }

    /// `func(c) in [v…]` as a union of date ranges (negated: its complement).
    fn measure_in(&mut self, col: &str, func: Func, values: &[i64], negated: bool) -> Piece {
        let mut parts = Vec::new();
        for &v in values {
            let range = DateRange::exactly(v, |v| self.cut(func, v));
            match self.range_sql(col, range, false) {
                Piece::Always(true) => return Piece::Always(!negated),
                Piece::Always(false) => {}
                Piece::Sql(s) => parts.push(s),
            }
        }
        match parts.len() {
            0 => Piece::Always(negated),
            1 => Piece::Sql(not_if(negated, parts.pop().expect("one"))),
            _ => Piece::Sql(not_if(negated, format!("({})", parts.join(" OR ")))),
        }
    }

    /// `c` in the range (`complement`: outside it), binding the finite bounds.
    fn range_sql(&mut self, col: &str, r: DateRange, complement: bool) -> Piece {
        if r.is_empty() {
            return Piece::Always(complement);
        }
        let mut parts = Vec::new();
        if let Bound::At(lo) = r.after {
            let p = self.bind(SqlValue::Date(lo));
            parts.push(format!("{col} {} {p}", if complement { "<=" } else { ">" }));
        }
        if let Bound::At(hi) = r.upto {
            let p = self.bind(SqlValue::Date(hi));
            parts.push(format!("{col} {} {p}", if complement { ">" } else { "<=" }));
        }
        match parts.len() {
            0 => Piece::Always(!complement),
            1 => Piece::Sql(parts.pop().expect("one")),
            _ => Piece::Sql(format!(
                "({})",
                parts.join(if complement { " OR " } else { " AND " })
            )),
        }
    }

    /// The last storable date `d` with `func(d, as_of) >= v`: the measure falls as `d` grows,
    /// so `{d : measure >= v}` is everything up to this cut.
    fn cut(&self, func: Func, v: i64) -> Bound {
        let measure = |d: NaiveDate| match func {
            Func::YearsSince => years_between(d, self.as_of),
            Func::MonthsSince => months_between(d, self.as_of),
        };
        let (first, last) = (pg_min_date(), max_date());
        if measure(first) < v {
            return Bound::Below;
        }
        if measure(last) >= v {
            return Bound::Above;
        }
        // Invariant: measure(day lo) >= v > measure(day hi).
        let (mut lo, mut hi) = (first.num_days_from_ce(), last.num_days_from_ce());
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            let d = NaiveDate::from_num_days_from_ce_opt(mid).expect("between two valid dates");
            if measure(d) >= v {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Bound::At(NaiveDate::from_num_days_from_ce_opt(lo).expect("a valid date"))
    }
}

/// A cut point on the storable dates: below all of them, at one, or above all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Bound {
    Below,
    At(NaiveDate),
    Above,
}

/// The dates `d` with `after < d <= upto`.
#[derive(Debug, Clone, Copy)]
struct DateRange {
    after: Bound,
    upto: Bound,
}

impl DateRange {
    fn upto(upto: Bound) -> DateRange {
        DateRange {
            after: Bound::Below,
            upto,
        }
    }

    /// The dates whose measure is exactly `v`: at least `v` but not at least `v + 1`.
    fn exactly(v: i64, mut cut: impl FnMut(i64) -> Bound) -> DateRange {
        DateRange {
            after: cut_after(v, &mut cut),
            upto: cut(v),
        }
    }

    fn is_empty(self) -> bool {
        self.after >= self.upto
    }
}

/// The cut for `measure >= v + 1`, i.e. `measure > v` (nothing when `v` is the largest i64).
fn cut_after(v: i64, mut cut: impl FnMut(i64) -> Bound) -> Bound {
    v.checked_add(1).map_or(Bound::Below, &mut cut)
}

fn bool_sql(col: &str, want: bool, negated: bool) -> String {
    if want != negated {
        col.to_string()
    } else {
        format!("NOT {col}")
    }
}

fn not_if(negated: bool, sql: String) -> String {
    if negated { format!("NOT ({sql})") } else { sql }
}

/// The negation of a comparison; exact in SQL too, where both sides are `NULL`-free once the
/// column is known.
fn negate(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Eq => CmpOp::Ne,
        CmpOp::Ne => CmpOp::Eq,
        CmpOp::Lt => CmpOp::Ge,
        CmpOp::Ge => CmpOp::Lt,
        CmpOp::Le => CmpOp::Gt,
        CmpOp::Gt => CmpOp::Le,
    }
}

fn sql_op(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "=",
        CmpOp::Ne => "<>",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

fn int_range(ty: SqlType) -> (i64, i64) {
    match ty {
        SqlType::Int4 => (i64::from(i32::MIN), i64::from(i32::MAX)),
        _ => (i64::MIN, i64::MAX),
    }
}

fn int_value(ty: SqlType, v: i64) -> SqlValue {
    match ty {
        SqlType::Int4 => SqlValue::Int4(i32::try_from(v).expect("folded into int4 range")),
        _ => SqlValue::Int8(v),
    }
}

/// `x op v` for every `x` in `lo..=hi`: `Ok(v)` when `v` is in the range (bind it), else the
/// verdict every stored value gets.
fn fold(op: CmpOp, v: i64, lo: i64, hi: i64) -> Result<i64, bool> {
    if v < lo {
        // Every stored x is greater than v.
        Err(matches!(op, CmpOp::Ne | CmpOp::Gt | CmpOp::Ge))
    } else if v > hi {
        // Every stored x is less than v.
        Err(matches!(op, CmpOp::Ne | CmpOp::Lt | CmpOp::Le))
    } else {
        Ok(v)
    }
}

/// Escapes `LIKE`'s wildcards and its escape character (validated codes have none).
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::{Facts, Outcome};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn sql(rule: &str, as_of: &str) -> SqlPredicate {
        compile(&crate::rule::compile(rule).unwrap(), d(as_of)).unwrap()
    }

    fn types(p: &SqlPredicate) -> Vec<&'static str> {
        p.params.iter().map(SqlValue::type_name).collect()
    }

    #[test]
    fn comparisons_bind_the_column_type() {
        let p = sql(
            "employees >= 10 and revenue < 500万 and debt_ratio <= 70%",
            "2026-11-21",
        );
        assert_eq!(
            p.sql,
            "(employees >= $1::int4 AND revenue < $2::int8 AND debt_ratio <= $3::int4)"
        );
        assert_eq!(
            p.params,
            vec![
                SqlValue::Int4(10),
                SqlValue::Int8(5_000_000),
                SqlValue::Int4(7_000)
            ]
        );
    }

    #[test]
    fn codes_use_prefix_like_and_categories_any() {
        let p = sql(
            "region under [\"330100\", \"44\"] and tax_grade in [\"A\", \"B\"] and industry = \"C3911\"",
            "2026-11-21",
        );
        assert_eq!(
            p.sql,
            "((region LIKE $1::text OR region LIKE $2::text) AND tax_grade = ANY($3::text[]) \
             AND industry = $4::text)"
        );
        assert_eq!(
            p.params[..2],
            [SqlValue::Text("3301%".into()), SqlValue::Text("44%".into())]
        );
        assert_eq!(types(&p), ["text", "text", "text[]", "text"]);
    }

    #[test]
    fn not_is_folded_into_operators_where_sql_has_them() {
        let p = sql(
            "not employees < 5 and not tax_grade in [\"C\", \"D\"] and not dishonest \
             and not (region under \"33\") and not tags has \"外贸\"",
            "2026-11-21",
        );
        assert_eq!(
            p.sql,
            "(employees >= $1::int4 AND tax_grade <> ALL($2::text[]) AND NOT dishonest \
             AND NOT (region LIKE $3::text) AND NOT (tags @> $4::text[]))"
        );
        // `not` over a compound stays a NOT.
        let p = sql("not (high_tech or tech_sme)", "2026-11-21");
        assert_eq!(p.sql, "NOT ((high_tech OR tech_sme))");
    }

    #[test]
    fn sets_use_array_operators() {
        let p = sql(
            "qualifications has all [\"ISO9001\", \"高新技术企业\"] or need_guarantee has any [\"信用\", \"保证\"]",
            "2026-11-21",
        );
        assert_eq!(
            p.sql,
            "(qualifications @> $1::text[] OR need_guarantee && $2::text[])"
        );
        assert_eq!(types(&p), ["text[]", "text[]"]);
    }

    #[test]
    fn years_since_becomes_a_date_cut_computed_in_rust() {
        let p = sql("years_since(established) >= 3", "2026-11-21");
        assert_eq!(p.sql, "established <= $1::date");
        assert_eq!(p.params, vec![SqlValue::Date(d("2023-11-21"))]);

        let p = sql("years_since(established) < 3", "2026-11-21");
        assert_eq!(p.sql, "established > $1::date");
        assert_eq!(p.params, vec![SqlValue::Date(d("2023-11-21"))]);

        let p = sql("months_since(established) = 2", "2024-02-29");
        assert_eq!(
            p.sql,
            "(established > $1::date AND established <= $2::date)"
        );
        assert_eq!(
            p.params,
            vec![
                SqlValue::Date(d("2023-11-29")),
                SqlValue::Date(d("2023-12-29"))
            ]
        );

        let p = sql("months_since(established) != 2", "2024-02-29");
        assert_eq!(p.sql, "(established <= $1::date OR established > $2::date)");
    }

    #[test]
    fn literals_no_stored_value_can_reach_are_folded_null_preserving() {
        // employees is int4: 5×10⁹ cannot be stored, so the comparison is decided.
        let p = sql("employees < 5000000000", "2026-11-21");
        assert_eq!(p.sql, "CASE WHEN employees IS NULL THEN NULL ELSE true END");
        assert!(p.params.is_empty());
        let p = sql("employees in [5000000000, 7]", "2026-11-21");
        assert_eq!(p.sql, "employees = ANY($1::int4[])");
        assert_eq!(p.params, vec![SqlValue::Int4Array(vec![7])]);
        let p = sql("employees not in [5000000000]", "2026-11-21");
        assert_eq!(p.sql, "CASE WHEN employees IS NULL THEN NULL ELSE true END");
        // No date is a million years old.
        let p = sql("years_since(established) >= 1000000", "2026-11-21");
        assert_eq!(
            p.sql,
            "CASE WHEN established IS NULL THEN NULL ELSE false END"
        );
    }

    #[test]
    fn free_text_fields_are_not_stored() {
        let rule = crate::rule::compile("legal_rep_name != \"某某\"").unwrap();
        assert_eq!(
            compile(&rule, d("2026-11-21")),
            Err(SqlError::TextField {
                field: "legal_rep_name"
            })
        );
        assert!(columns().iter().all(|c| c.name != "legal_rep_name"));
    }

    #[test]
    fn schema_rows_and_insert_line_up() {
        let schema = schema();
        assert!(schema.starts_with("CREATE TABLE enterprises (\n    id text PRIMARY KEY, -- "));
        assert!(schema.contains("\n    region text, -- 注册地 (GB/T 2260, prefix form)\n"));
        assert!(schema.contains("\n    employees int4, -- 从业人员\n"));
        assert!(schema.contains("\n    revenue int8, -- 上年度营业收入 (元)\n"));
        assert!(schema.contains("\n    tags text[], -- 企业标签\n"));
        assert!(schema.contains("\n    established date, -- 成立日期\n"));
        assert!(schema.contains("\n    size text, -- 企业规模 (derived at insert)\n"));
        assert!(schema.ends_with(" -- 可接受最高年利率 (basis points)\n)"));
        for c in columns() {
            assert!(
                c.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit()),
                "{}",
                c.name
            );
        }
        let insert = insert();
        assert!(insert.starts_with("INSERT INTO enterprises (id, region, industry,"));
        assert!(insert.contains("VALUES ($1::text, $2::text, $3::text, $4::date,"));

        let mut e = crate::synthetic::enterprise(7, 1);
        e.registration.region = Some("330100".into());
        e.tags = None;
        let row = row(&e).unwrap();
        assert_eq!(row.len(), columns().len());
        for (v, c) in row.iter().zip(columns()) {
            assert_eq!(v.ty(), c.ty, "{}", c.name);
        }
        assert_eq!(row[0], SqlValue::Text(e.id.clone()));
        let at = |name: &str| &row[columns().iter().position(|c| c.name == name).unwrap()];
        assert_eq!(at("region"), &SqlValue::Text("3301".into()));
        assert_eq!(at("tags"), &SqlValue::Null(SqlType::TextArray));
    }

    #[test]
    fn rows_refuse_values_the_columns_cannot_hold() {
        let mut e = Enterprise {
            id: "E1".into(),
            ..Enterprise::default()
        };
        e.scale.employees = Some(i64::from(i32::MAX) + 1);
        assert!(matches!(
            row(&e),
            Err(SqlError::OutOfRange {
                field: "employees",
                ..
            })
        ));
        e.scale.employees = Some(i64::from(i32::MIN));
        e.scale.revenue = Some(i64::MIN);
        e.registration.established = Some(pg_min_date());
        assert!(row(&e).is_ok());
        e.registration.established = pg_min_date().pred_opt();
        assert!(matches!(
            row(&e),
            Err(SqlError::OutOfRange {
                field: "established",
                ..
            })
        ));
    }

    #[test]
    fn pg_min_date_is_julian_day_zero() {
        // PostgreSQL: '4714-11-24 BC'::date - '2000-01-01'::date = -2451545.
        assert_eq!(
            pg_min_date()
                .signed_duration_since(d("2000-01-01"))
                .num_days(),
            -2_451_545
        );
    }

    /// The cuts rest on the measures being monotone in the start date; check it day by day
    /// around awkward evaluation dates, and that each cut splits exactly.
    #[test]
    fn measures_are_monotone_and_cuts_exact() {
        for as_of in ["2024-02-29", "2026-11-21", "2025-01-31", "2023-03-31"] {
            let as_of = d(as_of);
            let c = Compiler {
                rule: &crate::rule::compile("true").unwrap(),
                as_of,
                params: vec![],
                leaf: 0,
            };
            for func in [Func::YearsSince, Func::MonthsSince] {
                let m = |d: NaiveDate| match func {
                    Func::YearsSince => years_between(d, as_of),
                    Func::MonthsSince => months_between(d, as_of),
                };
                let mut day = as_of - chrono::Days::new(800);
                let end = as_of + chrono::Days::new(800);
                while day < end {
                    let next = day.succ_opt().unwrap();
                    assert!(m(next) <= m(day), "{func:?} {day} {as_of}");
                    day = next;
                }
                for v in -30..30 {
                    match c.cut(func, v) {
                        Bound::At(cut) => {
                            assert!(m(cut) >= v);
                            assert!(m(cut.succ_opt().unwrap()) < v);
                        }
                        other => panic!("{func:?} {v}: {other:?}"),
                    }
                }
            }
        }
    }

    /// A few profiles through the interpreter, to pin what the SQL must reproduce.
    #[test]
    fn interpreter_facts_the_sql_relies_on() {
        let as_of = d("2026-11-21");
        let mut e = Enterprise {
            tags: Some(vec![]),
            ..Enterprise::default()
        };
        let rule = crate::rule::compile("tags has all [\"外贸\"]").unwrap();
        // A known empty set fails (SQL: '{}' @> '{外贸}' is false) …
        assert_eq!(
            rule.evaluate(&Facts::new(&e, as_of)).outcome,
            Outcome::Ineligible
        );
        // … an unknown one is unknown (SQL: NULL @> … is NULL).
        e.tags = None;
        assert_eq!(
            rule.evaluate(&Facts::new(&e, as_of)).outcome,
            Outcome::NeedsInfo
        );
    }
}
