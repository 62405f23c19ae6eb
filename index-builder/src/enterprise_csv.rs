//! Enterprises from CSV: the column mapping, with Chinese or English headers.
//!
//! Spreadsheets from local platforms carry Chinese headers (`统一社会信用代码`, `营业收入`), exports
//! from other systems English ones (`credit_code`, `revenue`); both map to the same profile
//! fields. Empty cells are unknown facts. Money accepts plain yuan or `万`/`亿` (`320万`),
//! percentages `4.5%` or `4.5`, yes/no `是`/`否`/`true`/`false`/`1`/`0`, dates `2020-05-01`,
//! `2020/5/1` or `20200501`, lists separated by `;`, `；`, `、` or `|`. The table is printed by
//! `docs/input.md`.

use std::path::Path;

use huiqi_engine::model::Enterprise;
use huiqi_engine::rule::Unit;
use serde_json::{Map, Value};

use crate::input::Sourced;
use crate::report::{Issue, Report};

/// How a cell is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Text,
    Int,
    /// Yuan; `万` and `亿` suffixes allowed.
    Money,
    /// Basis points from `4.5%` or `4.5`.
    Percent,
    Bool,
    Date,
    List,
}

/// One column: the headers it accepts, the JSON path it fills, how it is read.
#[derive(Debug)]
pub struct Column {
    pub headers: &'static [&'static str],
    pub path: &'static str,
    pub cell: Cell,
}

macro_rules! col {
    ($path:literal, $cell:ident, [$($h:literal),+]) => {
        Column { headers: &[$($h),+], path: $path, cell: Cell::$cell }
    };
}

/// The column mapping. The first header of each column is its English name.
pub static COLUMNS: &[Column] = &[
    col!("id", Text, ["id", "企业编号", "编号"]),
    col!(
        "credit_code",
        Text,
        ["credit_code", "统一社会信用代码", "信用代码"]
    ),
    col!("name", Text, ["name", "企业名称", "名称"]),
    col!(
        "registration.region",
        Text,
        ["region", "注册地区划代码", "行政区划代码", "区划代码"]
    ),
    col!(
        "registration.industry",
        Text,
        ["industry", "行业代码", "国民经济行业代码"]
    ),
    col!(
        "registration.established",
        Date,
        ["established", "成立日期"]
    ),
    col!(
        "registration.registered_capital",
        Money,
        ["registered_capital", "注册资本"]
    ),
    col!(
        "registration.entity_type",
        Text,
        ["entity_type", "市场主体类型", "企业类型"]
    ),
    col!(
        "registration.status",
        Text,
        ["reg_status", "登记状态", "经营状态"]
    ),
    col!(
        "scale.employees",
        Int,
        ["employees", "从业人员", "从业人数", "员工人数"]
    ),
    col!(
        "scale.revenue",
        Money,
        ["revenue", "营业收入", "上年度营业收入"]
    ),
    col!("scale.total_assets", Money, ["total_assets", "资产总额"]),
    col!("scale.debt_ratio_bp", Percent, ["debt_ratio", "资产负债率"]),
    col!(
        "scale.net_profit",
        Money,
        ["net_profit", "净利润", "上年度净利润"]
    ),
    col!("tax.credit_grade", Text, ["tax_grade", "纳税信用等级"]),
    col!(
        "tax.paid_last_year",
        Money,
        ["tax_paid", "纳税总额", "上年度纳税总额"]
    ),
    col!(
        "tax.filing_years",
        Int,
        ["tax_filing_years", "连续纳税年限"]
    ),
    col!("tax.arrears", Bool, ["tax_arrears", "欠税"]),
    col!(
        "judicial.dishonest",
        Bool,
        ["dishonest", "严重失信", "失信被执行人"]
    ),
    col!(
        "judicial.enforcement_cases",
        Int,
        ["enforcement_cases", "被执行案件"]
    ),
    col!(
        "judicial.major_penalty_3y",
        Bool,
        ["major_penalty", "重大行政处罚"]
    ),
    col!(
        "judicial.abnormal_operation",
        Bool,
        ["abnormal_operation", "经营异常"]
    ),
    col!(
        "social_insurance.insured_employees",
        Int,
        ["insured_employees", "参保人数"]
    ),
    col!(
        "social_insurance.arrears",
        Bool,
        ["social_insurance_arrears", "欠缴社保"]
    ),
    col!(
        "ip.invention_patents",
        Int,
        ["invention_patents", "发明专利"]
    ),
    col!(
        "ip.other_patents",
        Int,
        ["other_patents", "实用新型和外观专利"]
    ),
    col!("ip.trademarks", Int, ["trademarks", "注册商标"]),
    col!(
        "ip.software_copyrights",
        Int,
        ["software_copyrights", "软件著作权"]
    ),
    col!(
        "real_estate.owns_property",
        Bool,
        ["owns_property", "自有房产"]
    ),
    col!(
        "real_estate.property_value",
        Money,
        ["property_value", "房产价值"]
    ),
    col!("tech.high_tech", Bool, ["high_tech", "高新技术企业"]),
    col!("tech.tech_sme", Bool, ["tech_sme", "科技型中小企业"]),
    col!(
        "tech.specialized_level",
        Text,
        ["specialized_level", "专精特新等级", "专精特新"]
    ),
    col!("tech.rd_expense", Money, ["rd_expense", "研发费用"]),
    col!(
        "tech.rd_ratio_bp",
        Percent,
        ["rd_ratio", "研发费用占比", "研发投入占比"]
    ),
    col!(
        "tech.qualifications",
        List,
        ["qualifications", "资质证书", "资质"]
    ),
    col!("trade.import_export", Bool, ["import_export", "进出口实绩"]),
    col!("trade.export_value", Money, ["export_value", "出口额"]),
    col!(
        "environment.credit_rating",
        Text,
        ["env_rating", "环保信用评价"]
    ),
    col!(
        "environment.green_certified",
        Bool,
        ["green_certified", "绿色认证"]
    ),
    col!(
        "agriculture.entity_type",
        Text,
        ["agri_entity_type", "新型农业经营主体类型"]
    ),
    col!(
        "agriculture.land_mu",
        Int,
        ["land_mu", "经营面积亩", "土地面积"]
    ),
    col!(
        "public_resource.bids_won_3y",
        Int,
        ["bids_won_3y", "近三年中标次数"]
    ),
    col!(
        "credit.has_bank_loan",
        Bool,
        ["has_bank_loan", "有银行贷款"]
    ),
    col!("credit.overdue_now", Bool, ["overdue_now", "当前逾期"]),
    col!(
        "credit.outstanding_loans",
        Money,
        ["outstanding_loans", "贷款余额"]
    ),
    col!("business_scope", Text, ["business_scope", "经营范围"]),
    col!("tags", List, ["tags", "标签"]),
    col!(
        "need.amount",
        Money,
        ["need_amount", "融资需求金额", "需求金额"]
    ),
    col!("need.term_months", Int, ["need_term", "融资期限", "期限月"]),
    col!("need.purpose", Text, ["need_purpose", "资金用途"]),
    col!("need.text", Text, ["need_text", "融资需求描述"]),
];

fn find_column(header: &str) -> Option<&'static Column> {
    let h = header.trim().trim_start_matches('\u{feff}');
    COLUMNS
        .iter()
        .find(|c| c.headers.iter().any(|x| x.eq_ignore_ascii_case(h)))
}

/// Reads enterprises from a CSV file; every bad header and cell is reported with its line and
/// column name, and rows with errors are skipped.
pub fn read(path: &Path, text: &str, report: &mut Report) -> Vec<Sourced<Enterprise>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            report.push(Issue::error(
                path,
                Some(1),
                format!("cannot read the header row: {e}"),
            ));
            return Vec::new();
        }
    };
    let mut columns = Vec::with_capacity(headers.len());
    let mut bad_header = false;
    for header in &headers {
        match find_column(header) {
            Some(c) => columns.push(c),
            None => {
                bad_header = true;
                let all = COLUMNS.iter().flat_map(|c| c.headers.iter().copied());
                let hint = huiqi_engine::text::closest(header.trim(), all)
                    .map(|s| format!(" (did you mean {s:?}?)"))
                    .unwrap_or_else(|| " (see docs/input.md for the accepted headers)".into());
                report.push(
                    Issue::error(path, Some(1), format!("unknown column {header:?}{hint}"))
                        .field(header.to_string()),
                );
            }
        }
    }
    for required in ["id", "credit_code", "name"] {
        if !columns.iter().any(|c| c.path == required) {
            bad_header = true;
            report.push(Issue::error(
                path,
                Some(1),
                format!("missing the required column {required:?}"),
            ));
        }
    }
    if bad_header {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let line = i + 2;
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                report.push(Issue::error(
                    path,
                    Some(line),
                    format!("malformed row: {e}"),
                ));
                continue;
            }
        };
        let mut object = Map::new();
        let mut ok = true;
        for (cell, column) in row.iter().zip(&columns) {
            let cell = cell.trim();
            if cell.is_empty() {
                continue;
            }
            match read_cell(cell, column.cell) {
                Ok(value) => insert(&mut object, column.path, value),
                Err(why) => {
                    ok = false;
                    report.push(
                        Issue::error(path, Some(line), format!("{cell:?}: {why}"))
                            .field(column.headers[0]),
                    );
                }
            }
        }
        if !ok {
            continue;
        }
        match serde_json::from_value::<Enterprise>(Value::Object(object)) {
            Ok(item) => out.push(Sourced {
                item,
                file: path.to_path_buf(),
                line,
            }),
            Err(e) => report.push(Issue::error(path, Some(line), format!("enterprise: {e}"))),
        }
    }
    out
}

fn insert(object: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            object.insert(path.to_string(), value);
        }
        Some((head, rest)) => {
            let child = object
                .entry(head.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if head == "legal_rep" || !child.is_object() {
                *child = Value::Object(Map::new());
            }
            insert(child.as_object_mut().expect("an object"), rest, value);
        }
    }
}

fn read_cell(cell: &str, kind: Cell) -> Result<Value, String> {
    match kind {
        Cell::Text => Ok(Value::String(cell.to_string())),
        Cell::Int => cell
            .replace(',', "")
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| "not a whole number".into()),
        Cell::Money => money(cell).map(Value::from),
        Cell::Percent => {
            let number = cell.trim_end_matches(['%', '％']);
            huiqi_engine::rule::parse_number_with_unit(number, Unit::Percent)
                .map(Value::from)
                .map_err(|_| "not a percentage (e.g. 4.5%)".to_string())
        }
        Cell::Bool => match cell.to_lowercase().as_str() {
            "是" | "有" | "true" | "yes" | "y" | "1" => Ok(Value::Bool(true)),
            "否" | "无" | "false" | "no" | "n" | "0" => Ok(Value::Bool(false)),
            _ => Err("not yes/no (是/否, true/false, 1/0)".into()),
        },
        Cell::Date => date(cell).map(|d| Value::String(d.to_string())),
        Cell::List => Ok(Value::Array(
            cell.split([';', '；', '、', '|'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_string()))
                .collect(),
        )),
    }
}

fn money(cell: &str) -> Result<i64, String> {
    let cell = cell.replace(',', "");
    let cell = cell.trim_end_matches('元');
    let (number, unit) = if let Some(n) = cell.strip_suffix('万') {
        (n, Unit::Wan)
    } else if let Some(n) = cell.strip_suffix('亿') {
        (n, Unit::Yi)
    } else {
        (cell, Unit::None)
    };
    huiqi_engine::rule::parse_number_with_unit(number, unit)
        .map_err(|_| "not an amount (yuan, or with 万/亿, e.g. 320万)".to_string())
}

fn date(cell: &str) -> Result<chrono::NaiveDate, String> {
    ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日"]
        .iter()
        .find_map(|f| chrono::NaiveDate::parse_from_str(cell, f).ok())
        .ok_or_else(|| "not a date (2020-05-01, 2020/5/1 or 20200501)".into())
}

/// The column mapping as a Markdown table (docs/input.md embeds it).
pub fn markdown() -> String {
    let mut out = String::from("| profile field | accepted headers | cell |\n|---|---|---|\n");
    for c in COLUMNS {
        let cell = match c.cell {
            Cell::Text => "text",
            Cell::Int => "whole number",
            Cell::Money => "yuan, or 万/亿",
            Cell::Percent => "percentage",
            Cell::Bool => "是/否",
            Cell::Date => "date",
            Cell::List => "list (; 、 |)",
        };
        let headers: Vec<String> = c.headers.iter().map(|h| format!("`{h}`")).collect();
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            c.path,
            headers.join(", "),
            cell
        ));
    }
    out
}
