//! GB/T 4754-2017 国民经济行业分类: 门类 (section letter) → 大类 (2 digits) → 中类 (3) → 小类 (4).
//!
//! Codes carry their section letter: `"C"`, `"C39"`, `"C391"`, `"C3911"`, so `under` is a plain
//! prefix test. Names come from `data/industries.tsv`.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Why an industry code was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndustryError {
    #[error(
        "industry code {0:?} must be a section letter A–T followed by 0, 2, 3 or 4 digits (e.g. C39, I6513)"
    )]
    Malformed(String),
    #[error("industry code {code:?} is not in the GB/T 4754-2017 table{hint}")]
    Unknown { code: String, hint: String },
}

fn table() -> &'static HashMap<&'static str, &'static str> {
    static TABLE: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    TABLE.get_or_init(|| {
        include_str!("../../data/industries.tsv")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| {
                l.split_once('\t')
                    .expect("industries.tsv: every line is code<TAB>name")
            })
            .collect()
    })
}

/// True when `code` has the shape of a GB/T 4754 code (letter A–T plus 0, 2, 3 or 4 digits).
pub fn is_well_formed(code: &str) -> bool {
    let mut chars = code.chars();
    matches!(chars.next(), Some('A'..='T'))
        && chars.clone().all(|c| c.is_ascii_digit())
        && [1, 3, 4, 5].contains(&code.len())
}

/// Checks that the code is well formed, known, and that its division belongs to its section.
pub fn validate(code: &str) -> Result<(), IndustryError> {
    if !is_well_formed(code) {
        return Err(IndustryError::Malformed(code.to_string()));
    }
    if table().contains_key(code) {
        return Ok(());
    }
    // A known division under another section letter is the common mistake (e.g. "I39").
    let hint = if code.len() >= 3 {
        table()
            .keys()
            .find(|k| k.len() == 3 && k[1..] == code[1..3])
            .map(|k| format!(" (division {} is {k}: {})", &code[1..3], table()[k]))
            .unwrap_or_default()
    } else {
        String::new()
    };
    Err(IndustryError::Unknown {
        code: code.to_string(),
        hint,
    })
}

/// True when `code` lies under `ancestor` in the hierarchy.
pub fn is_under(code: &str, ancestor: &str) -> bool {
    !ancestor.is_empty() && code.starts_with(ancestor)
}

/// The name of one code, e.g. `"计算机、通信和其他电子设备制造业"`.
pub fn name(code: &str) -> Option<&'static str> {
    table().get(code).copied()
}

/// The most specific known name along the code's path: for an unlisted class, its group or
/// division.
pub fn best_name(code: &str) -> Option<&'static str> {
    (1..=code.len())
        .rev()
        .filter(|&n| n != 2)
        .find_map(|n| table().get(&code[..n]).copied())
}

/// Every known code with its name, sorted by code.
pub fn all() -> Vec<(&'static str, &'static str)> {
    let mut v: Vec<_> = table().iter().map(|(k, v)| (*k, *v)).collect();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert!(is_well_formed("C"));
        assert!(is_well_formed("C39"));
        assert!(is_well_formed("C3911"));
        assert!(!is_well_formed("C3"));
        assert!(!is_well_formed("39"));
        assert!(!is_well_formed("Z39"));
        assert!(!is_well_formed("C39111"));
    }

    #[test]
    fn hierarchy() {
        assert!(is_under("C3911", "C39"));
        assert!(is_under("C3911", "C"));
        assert!(!is_under("C3911", "C38"));
        assert!(!is_under("C3911", ""));
    }

    #[test]
    fn names() {
        assert_eq!(name("C"), Some("制造业"));
        assert_eq!(best_name("C3999"), name("C39").or(name("C")));
        assert!(validate("C39").is_ok());
        assert!(matches!(validate("C3x"), Err(IndustryError::Malformed(_))));
    }
}
