//! Enterprise size class (大型 / 中型 / 小型 / 微型) per 工信部联企业〔2011〕300号.
//!
//! The thresholds and the industry → row mapping live in `data/size_standard.tsv`, so a
//! correction to the table is a data change. The rule (国家统计局): 大型, 中型 and 小型 must reach
//! *every* listed indicator's lower bound, otherwise the enterprise drops a class; one indicator
//! below the 小型 bound is enough for 微型. So the class is the minimum over the indicators of the
//! class each indicator alone supports. With a figure missing the class is still decided when the
//! known figures already force 微型; otherwise it is unknown.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::model::Enterprise;

/// The four size classes, ordered from largest to smallest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SizeClass {
    #[serde(rename = "大型")]
    Large,
    #[serde(rename = "中型")]
    Medium,
    #[serde(rename = "小型")]
    Small,
    #[serde(rename = "微型")]
    Micro,
}

impl SizeClass {
    pub const ALL: [SizeClass; 4] = [
        SizeClass::Large,
        SizeClass::Medium,
        SizeClass::Small,
        SizeClass::Micro,
    ];

    pub fn label(self) -> &'static str {
        match self {
            SizeClass::Large => "大型",
            SizeClass::Medium => "中型",
            SizeClass::Small => "小型",
            SizeClass::Micro => "微型",
        }
    }

    pub fn from_label(label: &str) -> Option<SizeClass> {
        SizeClass::ALL.into_iter().find(|c| c.label() == label)
    }
}

/// A size indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    /// 从业人员 (X), persons.
    Employees,
    /// 营业收入 (Y), compared in 万元.
    Revenue,
    /// 资产总额 (Z), compared in 万元.
    Assets,
}

impl Indicator {
    pub fn label(self) -> &'static str {
        match self {
            Indicator::Employees => "从业人员",
            Indicator::Revenue => "营业收入",
            Indicator::Assets => "资产总额",
        }
    }

    /// The registry field holding this figure.
    pub fn field(self) -> &'static str {
        match self {
            Indicator::Employees => "employees",
            Indicator::Revenue => "revenue",
            Indicator::Assets => "total_assets",
        }
    }

    fn value(self, e: &Enterprise) -> Option<i64> {
        match self {
            Indicator::Employees => e.scale.employees,
            Indicator::Revenue => e.scale.revenue,
            Indicator::Assets => e.scale.total_assets,
        }
    }

    /// Thresholds are in persons or 万元; profiles in persons or yuan.
    fn table_unit(self) -> i64 {
        match self {
            Indicator::Employees => 1,
            Indicator::Revenue | Indicator::Assets => 10_000,
        }
    }
}

/// One row of the standard: an industry group with its indicators.
#[derive(Debug)]
pub struct SizeRow {
    pub industry: &'static str,
    /// Each indicator with its 大型, 中型 and 小型 lower bounds, in the table's unit.
    pub thresholds: Vec<(Indicator, [i64; 3])>,
}

struct Standard {
    rows: Vec<SizeRow>,
    /// GB/T 4754 prefix → row index.
    map: Vec<(&'static str, usize)>,
    default: usize,
}

fn standard() -> &'static Standard {
    static STANDARD: OnceLock<Standard> = OnceLock::new();
    STANDARD.get_or_init(|| parse_standard(include_str!("../../data/size_standard.tsv")))
}

fn parse_standard(text: &'static str) -> Standard {
    let mut rows = Vec::new();
    let mut map = Vec::new();
    let mut default = None;
    let row_index = |rows: &Vec<SizeRow>, name: &str| {
        rows.iter()
            .position(|r| r.industry == name)
            .unwrap_or_else(|| panic!("size_standard.tsv: no row named {name}"))
    };
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let cols: Vec<&'static str> = line.split('\t').collect();
        match cols[0] {
            "row" => {
                let thresholds = cols[2..]
                    .iter()
                    .map(|spec| {
                        let (ind, bounds) = spec.split_once(':').expect("indicator:bounds");
                        let ind = match ind {
                            "X" => Indicator::Employees,
                            "Y" => Indicator::Revenue,
                            "Z" => Indicator::Assets,
                            other => panic!("size_standard.tsv: unknown indicator {other}"),
                        };
                        let b: Vec<i64> = bounds.split('/').map(|n| n.parse().unwrap()).collect();
                        (ind, [b[0], b[1], b[2]])
                    })
                    .collect();
                rows.push(SizeRow {
                    industry: cols[1],
                    thresholds,
                });
            }
            "map" => map.push((cols[1], row_index(&rows, cols[2]))),
            "default" => default = Some(row_index(&rows, cols[1])),
            other => panic!("size_standard.tsv: unknown line kind {other}"),
        }
    }
    Standard {
        rows,
        map,
        default: default.expect("size_standard.tsv: a default line"),
    }
}

/// The row of the standard that applies to an industry code, or `None` when the code is too
/// coarse to tell (e.g. `"F"`: 批发 and 零售 have different thresholds).
pub fn row_for(industry: &str) -> Option<&'static SizeRow> {
    let std = standard();
    let best = std
        .map
        .iter()
        .filter(|(prefix, _)| industry.starts_with(prefix))
        .max_by_key(|(prefix, _)| prefix.len());
    if let Some((_, row)) = best {
        return Some(&std.rows[*row]);
    }
    let ambiguous = std
        .map
        .iter()
        .any(|(prefix, _)| prefix.len() > industry.len() && prefix.starts_with(industry));
    (!ambiguous).then(|| &std.rows[std.default])
}

/// The size class with the reasons for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SizeResult {
    /// `None` when unknown.
    pub class: Option<SizeClass>,
    /// The standard's industry row used (e.g. `"工业"`).
    pub row: Option<&'static str>,
    /// The indicators that decided the class (for 大型: all of them).
    pub decided_by: Vec<Indicator>,
    /// Indicators whose figures are missing.
    pub missing: Vec<Indicator>,
    /// Chinese one-line reason, e.g. `"工业：从业人员45人（≥20），营业收入1200万元（<2000万元）→ 小型"`.
    pub reason: String,
}

/// Classifies an enterprise from its industry and size figures.
pub fn classify(e: &Enterprise) -> SizeResult {
    let Some(industry) = e.registration.industry.as_deref() else {
        return SizeResult {
            class: None,
            row: None,
            decided_by: vec![],
            missing: vec![],
            reason: "所属行业未知，无法划型".into(),
        };
    };
    let Some(row) = row_for(industry) else {
        return SizeResult {
            class: None,
            row: None,
            decided_by: vec![],
            missing: vec![],
            reason: format!("行业代码 {industry} 不够具体，无法确定划型标准"),
        };
    };
    classify_row(row, |ind| ind.value(e))
}

/// Classifies figures against one row; `value` gives each indicator's figure in persons / yuan.
pub fn classify_row(row: &'static SizeRow, value: impl Fn(Indicator) -> Option<i64>) -> SizeResult {
    let mut known: Vec<(Indicator, SizeClass)> = Vec::new();
    let mut missing = Vec::new();
    let mut parts = Vec::new();
    for &(ind, bounds) in &row.thresholds {
        let Some(v) = value(ind) else {
            missing.push(ind);
            parts.push(format!("{}未知", ind.label()));
            continue;
        };
        // Compare in the profile's unit so that fractions of a 万元 are never rounded away.
        let unit = ind.table_unit();
        let class = if v >= bounds[0] * unit {
            SizeClass::Large
        } else if v >= bounds[1] * unit {
            SizeClass::Medium
        } else if v >= bounds[2] * unit {
            SizeClass::Small
        } else {
            SizeClass::Micro
        };
        parts.push(format!("{}{}", ind.label(), show(ind, v)));
        known.push((ind, class));
    }
    let floor = known.iter().map(|(_, c)| *c).max();
    let class = match floor {
        Some(c) if missing.is_empty() || c == SizeClass::Micro => Some(c),
        _ => None,
    };
    let decided_by = match class {
        Some(c) => known
            .iter()
            .filter(|(_, k)| *k == c)
            .map(|(i, _)| *i)
            .collect(),
        None => vec![],
    };
    let verdict = class.map_or("无法确定", |c| c.label());
    SizeResult {
        class,
        row: Some(row.industry),
        decided_by,
        missing,
        reason: format!("{}：{} → {}", row.industry, parts.join("，"), verdict),
    }
}

fn show(ind: Indicator, v: i64) -> String {
    match ind {
        Indicator::Employees => format!("{v}人"),
        _ => crate::text::money(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Enterprise, Registration, Scale};

    fn firm(
        industry: &str,
        employees: Option<i64>,
        revenue_wan: Option<i64>,
        assets_wan: Option<i64>,
    ) -> Enterprise {
        Enterprise {
            registration: Registration {
                industry: Some(industry.into()),
                ..Default::default()
            },
            scale: Scale {
                employees,
                revenue: revenue_wan.map(|w| w * 10_000),
                total_assets: assets_wan.map(|w| w * 10_000),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn industrial_thresholds_need_both_indicators() {
        // 工业: 中型 needs X ≥ 300 and Y ≥ 2000; X = 350 but Y = 1500 drops to 小型.
        let r = classify(&firm("C39", Some(350), Some(1500), None));
        assert_eq!(r.class, Some(SizeClass::Small));
        assert_eq!(r.decided_by, vec![Indicator::Revenue]);
        assert_eq!(r.row, Some("工业"));
        assert_eq!(
            classify(&firm("C39", Some(1000), Some(40000), None)).class,
            Some(SizeClass::Large)
        );
        assert_eq!(
            classify(&firm("C39", Some(999), Some(40000), None)).class,
            Some(SizeClass::Medium)
        );
        assert_eq!(
            classify(&firm("C39", Some(20), Some(300), None)).class,
            Some(SizeClass::Small)
        );
        assert_eq!(
            classify(&firm("C39", Some(19), Some(300), None)).class,
            Some(SizeClass::Micro)
        );
    }

    #[test]
    fn boundaries_are_inclusive_lower_bounds() {
        // 零售业 小型: X ≥ 10 and Y ≥ 100 万元.
        assert_eq!(
            classify(&firm("F52", Some(10), Some(100), None)).class,
            Some(SizeClass::Small)
        );
        let mut e = firm("F52", Some(10), None, None);
        e.scale.revenue = Some(999_999);
        assert_eq!(classify(&e).class, Some(SizeClass::Micro));
    }

    #[test]
    fn missing_figures_give_unknown_unless_micro_is_forced() {
        let r = classify(&firm("C34", Some(50), None, None));
        assert_eq!(r.class, None);
        assert_eq!(r.missing, vec![Indicator::Revenue]);
        let r = classify(&firm("C34", Some(8), None, None));
        assert_eq!(r.class, Some(SizeClass::Micro));
        assert_eq!(r.decided_by, vec![Indicator::Employees]);
        assert_eq!(classify(&Enterprise::default()).class, None);
    }

    #[test]
    fn rows_use_their_own_indicators() {
        // 建筑业 uses revenue and assets, not employees.
        assert_eq!(
            classify(&firm("E48", None, Some(7000), Some(6000))).class,
            Some(SizeClass::Medium)
        );
        // 租赁和商务服务业 uses employees and assets.
        assert_eq!(
            classify(&firm("L72", Some(150), None, Some(9000))).class,
            Some(SizeClass::Medium)
        );
        // 房地产开发经营 vs 物业管理 differ at class level.
        assert_eq!(row_for("K7010").unwrap().industry, "房地产开发经营");
        assert_eq!(row_for("K7020").unwrap().industry, "物业管理");
        // 其他未列明行业: only employees.
        assert_eq!(
            classify(&firm("M73", Some(9), None, None)).class,
            Some(SizeClass::Micro)
        );
        assert_eq!(row_for("M73").unwrap().industry, "其他未列明行业");
    }

    #[test]
    fn coarse_codes_are_not_guessed() {
        assert!(row_for("F").is_none());
        assert!(row_for("K70").is_none());
        assert_eq!(row_for("C").unwrap().industry, "工业");
        let r = classify(&firm("F", Some(3), Some(10), None));
        assert_eq!(r.class, None);
    }
}
