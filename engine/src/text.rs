//! Formatting of values for people (money, percentages) and "did you mean" suggestions.

/// Money in yuan for explanations: `5000000` → `"500万元"`, `150000000` → `"1.5亿元"`,
/// `8500` → `"8500元"`.
pub fn money(yuan: i64) -> String {
    let abs = yuan.unsigned_abs();
    let sign = if yuan < 0 { "-" } else { "" };
    if abs >= 100_000_000 {
        format!("{sign}{}亿元", decimal(abs, 100_000_000))
    } else if abs >= 10_000 {
        format!("{sign}{}万元", decimal(abs, 10_000))
    } else {
        format!("{yuan}元")
    }
}

/// Basis points as a percentage: `450` → `"4.5%"`.
pub fn percent(bp: i64) -> String {
    let sign = if bp < 0 { "-" } else { "" };
    format!("{sign}{}%", decimal(bp.unsigned_abs(), 100))
}

/// `value / scale` written without trailing zeros: `decimal(15000, 10000)` → `"1.5"`.
pub fn decimal(value: u64, scale: u64) -> String {
    let whole = value / scale;
    let frac = value % scale;
    if frac == 0 {
        return whole.to_string();
    }
    let width = scale.ilog10() as usize;
    let digits = format!("{frac:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// Levenshtein distance over chars.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The candidate closest to `word`, if within a third of its length (at least 2 edits), or if
/// one contains the other (`"grade"` → `"tax_grade"`).
pub fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .filter_map(|c| {
            let d = edit_distance(word, c);
            let contained = word.len() >= 3 && (c.contains(word) || word.contains(c));
            (d <= limit || contained).then_some((if d <= limit { d } else { limit + 1 }, c))
        })
        .min_by_key(|&(d, c)| (d, c.len()))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_percent() {
        assert_eq!(money(5_000_000), "500万元");
        assert_eq!(money(150_000_000), "1.5亿元");
        assert_eq!(money(8_500), "8500元");
        assert_eq!(money(12_345_678), "1234.5678万元");
        assert_eq!(money(-2_000_000), "-200万元");
        assert_eq!(percent(450), "4.5%");
        assert_eq!(percent(400), "4%");
        assert_eq!(percent(345), "3.45%");
        assert_eq!(percent(5), "0.05%");
    }

    #[test]
    fn suggestions() {
        let names = ["tax_grade", "employees", "established", "revenue"];
        assert_eq!(closest("employes", names.into_iter()), Some("employees"));
        assert_eq!(closest("grade", names.into_iter()), Some("tax_grade"));
        assert_eq!(closest("revnue", names.into_iter()), Some("revenue"));
        assert_eq!(closest("xyz", names.into_iter()), None);
    }
}
