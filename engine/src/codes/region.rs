//! GB/T 2260 administrative division codes: province / city / county.
//!
//! A six-digit code reads `PPCCXX`: province `PP`, city `CC`, county `XX`; `00` in the city or
//! county place marks the higher level itself. Codes are compared in their *prefix form*:
//! `330000` → `33`, `330100` → `3301`, `330106` → `330106`, so `under` is a prefix test.
//! Names come from `data/regions.tsv`.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Why a region code was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionError {
    #[error("region code {0:?} must be 2, 4 or 6 digits")]
    Malformed(String),
    #[error("region code {code:?} is not in the GB/T 2260 table{}", suggestion_text(.suggestion))]
    Unknown {
        code: String,
        suggestion: Option<String>,
    },
}

fn suggestion_text(s: &Option<String>) -> String {
    s.as_ref()
        .map(|s| format!(" (did you mean {s}?)"))
        .unwrap_or_default()
}

/// Level of a division.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RegionLevel {
    Province,
    City,
    County,
}

struct Table {
    /// Prefix form → name.
    names: HashMap<String, &'static str>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut names = HashMap::new();
        for line in include_str!("../../data/regions.tsv").lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let (code, name) = line
                .split_once('\t')
                .expect("regions.tsv: every line is code<TAB>name");
            let prefix = prefix_form(code).expect("regions.tsv: codes are 6 digits");
            names.insert(prefix, name);
        }
        Table { names }
    })
}

/// The prefix form of a 2-, 4- or 6-digit code (`"330100"` → `"3301"`), or `None` if malformed.
pub fn prefix_form(code: &str) -> Option<String> {
    if !code.bytes().all(|b| b.is_ascii_digit()) || ![2, 4, 6].contains(&code.len()) {
        return None;
    }
    let mut s = code;
    while s.len() > 2 && s.ends_with("00") {
        s = &s[..s.len() - 2];
    }
    Some(s.to_string())
}

/// The prefix form of a well-formed code without allocating (`"330100"` → `"3301"`); a
/// malformed code is returned as it is.
pub fn prefix_slice(code: &str) -> &str {
    if !code.bytes().all(|b| b.is_ascii_digit()) || ![2, 4, 6].contains(&code.len()) {
        return code;
    }
    let mut s = code;
    while s.len() > 2 && s.ends_with("00") {
        s = &s[..s.len() - 2];
    }
    s
}

/// The level of a prefix-form code.
pub fn level(prefix: &str) -> RegionLevel {
    match prefix.len() {
        2 => RegionLevel::Province,
        4 => RegionLevel::City,
        _ => RegionLevel::County,
    }
}

/// Checks that `code` is well-formed and known; returns its prefix form.
pub fn validate(code: &str) -> Result<String, RegionError> {
    let prefix = prefix_form(code).ok_or_else(|| RegionError::Malformed(code.to_string()))?;
    if table().names.contains_key(&prefix) {
        Ok(prefix)
    } else {
        Err(RegionError::Unknown {
            code: code.to_string(),
            suggestion: nearest_known(&prefix),
        })
    }
}

/// The closest known ancestor, to help with a mistyped county.
fn nearest_known(prefix: &str) -> Option<String> {
    let mut p = prefix;
    while p.len() > 2 {
        p = &p[..p.len() - 2];
        if let Some(name) = table().names.get(p) {
            return Some(format!("a code under {p} ({name})"));
        }
    }
    None
}

/// True when `code` lies in the division `ancestor` (both in any accepted form). A malformed
/// code is never under anything.
pub fn is_under(code: &str, ancestor: &str) -> bool {
    match (prefix_form(code), prefix_form(ancestor)) {
        (Some(c), Some(a)) => c.starts_with(&a),
        _ => false,
    }
}

/// The name of one division, e.g. `"西湖区"`.
pub fn name(code: &str) -> Option<&'static str> {
    prefix_form(code).and_then(|p| table().names.get(&p).copied())
}

/// Summary lines of the table (`110100 市辖区`, `500200 县`, `429000 省直辖县级行政区划`) group
/// codes but are not places people name.
fn is_summary(name: &str) -> bool {
    matches!(
        name,
        "市辖区" | "县" | "省直辖县级行政区划" | "自治区直辖县级行政区划"
    )
}

/// The names from province down, e.g. `"浙江省 杭州市 西湖区"`; unknown levels and summary
/// lines are skipped (`"北京市 朝阳区"`).
pub fn full_name(code: &str) -> Option<String> {
    let prefix = prefix_form(code)?;
    let parts: Vec<&str> = [2, 4, 6]
        .into_iter()
        .filter(|&n| n <= prefix.len())
        .filter_map(|n| table().names.get(&prefix[..n]).copied())
        .filter(|name| !is_summary(name))
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// The city a code lies in as people name it: the prefecture (`"杭州市"`), or the province for
/// the municipalities and province-direct counties (`"北京市"`).
pub fn city_name(code: &str) -> Option<&'static str> {
    let prefix = prefix_form(code)?;
    let city = prefix.get(..4).and_then(|c| table().names.get(c).copied());
    match city {
        Some(name) if !is_summary(name) => Some(name),
        _ => table().names.get(&prefix[..2]).copied(),
    }
}

/// Every known code in prefix form with its name (for listings and generators), sorted.
pub fn all() -> Vec<(String, &'static str)> {
    let mut v: Vec<_> = table().names.iter().map(|(k, v)| (k.clone(), *v)).collect();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_forms() {
        assert_eq!(prefix_form("330000").as_deref(), Some("33"));
        assert_eq!(prefix_form("330100").as_deref(), Some("3301"));
        assert_eq!(prefix_form("330106").as_deref(), Some("330106"));
        assert_eq!(prefix_form("3301").as_deref(), Some("3301"));
        assert_eq!(prefix_form("33010"), None);
        assert_eq!(prefix_form("33a106"), None);
        assert_eq!(prefix_slice("330100"), "3301");
        assert_eq!(prefix_slice("x"), "x");
    }

    #[test]
    fn under_is_a_hierarchy_test() {
        assert!(is_under("330106", "33"));
        assert!(is_under("330106", "330100"));
        assert!(is_under("330106", "330106"));
        assert!(!is_under("330206", "3301"));
        assert!(!is_under("33", "3301"));
    }

    #[test]
    fn names_and_validation() {
        assert_eq!(name("330106"), Some("西湖区"));
        assert_eq!(full_name("330106").as_deref(), Some("浙江省 杭州市 西湖区"));
        assert_eq!(full_name("110105").as_deref(), Some("北京市 朝阳区"));
        assert_eq!(city_name("110105"), Some("北京市"));
        assert_eq!(city_name("330106"), Some("杭州市"));
        assert!(validate("330106").is_ok());
        assert!(matches!(validate("3301x6"), Err(RegionError::Malformed(_))));
        match validate("330199") {
            Err(RegionError::Unknown { suggestion, .. }) => {
                assert!(suggestion.unwrap().contains("杭州市"))
            }
            other => panic!("{other:?}"),
        }
    }
}
