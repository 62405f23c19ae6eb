//! 统一社会信用代码 (GB 32100-2015): structure and check digit.
//!
//! Layout of the 18 characters:
//! 1 登记管理部门码, 2 机构类别码, 3–8 登记管理机关行政区划码 (GB/T 2260), 9–17 主体标识码
//! (组织机构代码), 18 校验码. The character set is the digits and the capital letters without
//! I, O, S, V and Z. The check character makes Σ value(cᵢ)·wᵢ + value(c₁₈) ≡ 0 (mod 31) with
//! wᵢ = 3^(i−1) mod 31.

use std::fmt;

const CHARSET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Why a credit code was rejected; `position` is 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("统一社会信用代码 {code:?}: {reason}")]
pub struct CreditCodeError {
    pub code: String,
    /// 1-based character position the problem is at, when it is at one.
    pub position: Option<usize>,
    pub reason: String,
}

/// A validated 统一社会信用代码.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreditCode(String);

impl CreditCode {
    /// Validates structure and check digit. Lower-case letters are rejected rather than
    /// silently upper-cased, so stored codes are always canonical.
    pub fn parse(code: &str) -> Result<CreditCode, CreditCodeError> {
        let err = |position: Option<usize>, reason: String| CreditCodeError {
            code: code.to_string(),
            position,
            reason,
        };
        let chars: Vec<char> = code.chars().collect();
        if chars.len() != 18 {
            return Err(err(
                None,
                format!("must be 18 characters, found {}", chars.len()),
            ));
        }
        let mut values = [0u32; 18];
        for (i, &c) in chars.iter().enumerate() {
            values[i] = char_value(c).ok_or_else(|| {
                let why = if c.is_ascii_lowercase() {
                    format!("lower-case {c:?}: letters must be upper-case")
                } else if matches!(c, 'I' | 'O' | 'S' | 'V' | 'Z') {
                    format!("{c:?} is not allowed (I, O, S, V and Z are never used)")
                } else {
                    format!("{c:?} is not a digit or an allowed capital letter")
                };
                err(Some(i + 1), why)
            })?;
        }
        if !is_registration_authority(chars[0]) {
            return Err(err(
                Some(1),
                format!("{:?} is not a 登记管理部门码 (1–9, A, N or Y)", chars[0]),
            ));
        }
        if let Some(i) = (2..8).find(|&i| !chars[i].is_ascii_digit()) {
            return Err(err(
                Some(i + 1),
                format!(
                    "{:?} in the region code (positions 3–8 must be digits)",
                    chars[i]
                ),
            ));
        }
        let expected = check_char(&values[..17]);
        if chars[17] != expected {
            return Err(err(
                Some(18),
                format!("check character is {:?}, expected {expected:?}", chars[17]),
            ));
        }
        Ok(CreditCode(code.to_string()))
    }

    /// Completes 17 characters with their check character (for generators and tests).
    /// Returns `None` if a character is outside the charset.
    pub fn complete(first17: &str) -> Option<CreditCode> {
        let values: Vec<u32> = first17.chars().map(char_value).collect::<Option<_>>()?;
        if values.len() != 17 {
            return None;
        }
        let mut code = first17.to_string();
        code.push(check_char(&values));
        CreditCode::parse(&code).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The GB/T 2260 code of the registering authority (positions 3–8).
    pub fn region(&self) -> &str {
        &self.0[2..8]
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The characters of the code's alphabet, in value order.
pub fn charset() -> &'static str {
    CHARSET
}

fn char_value(c: char) -> Option<u32> {
    CHARSET.find(c).map(|i| i as u32)
}

fn is_registration_authority(c: char) -> bool {
    matches!(c, '1'..='9' | 'A' | 'N' | 'Y')
}

fn check_char(values: &[u32]) -> char {
    let sum: u32 = values.iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    let check = (31 - sum % 31) % 31;
    CHARSET.as_bytes()[check as usize] as char
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_and_accepts_its_own_codes() {
        let code = CreditCode::complete("91330106MA2B3C4D5").unwrap();
        assert_eq!(code.as_str().len(), 18);
        assert!(CreditCode::parse(code.as_str()).is_ok());
        assert_eq!(code.region(), "330106");
    }

    #[test]
    fn known_public_structure_check() {
        // Worked by hand: 9·1 + 1·3 + 3·9 + 3·27 + 0 + 1·26 + 0 + 6·17 + 0·… + 1·28 = 276,
        // 276 mod 31 = 28, 31 − 28 = 3 → '3'.
        assert_eq!(
            CreditCode::complete("91330106000000001").unwrap().as_str(),
            "913301060000000013"
        );
    }

    #[test]
    fn wrong_check_character_names_position_18() {
        let good = CreditCode::complete("91440305MA5F8K2X1").unwrap();
        let mut bad = good.as_str().to_string();
        let last = bad.pop().unwrap();
        bad.push(if last == '0' { '1' } else { '0' });
        let e = CreditCode::parse(&bad).unwrap_err();
        assert_eq!(e.position, Some(18));
        assert!(e.reason.contains("expected"), "{}", e.reason);
    }

    #[test]
    fn forbidden_letter_is_located() {
        let e = CreditCode::parse("91330106MI2B3C4D5X").unwrap_err();
        assert_eq!(e.position, Some(10));
        assert!(e.reason.contains("never used"));
    }

    #[test]
    fn length_and_region_digits() {
        assert_eq!(CreditCode::parse("9133").unwrap_err().position, None);
        let e = CreditCode::parse("9133A106MA2B3C4D5X").unwrap_err();
        assert_eq!(e.position, Some(5));
        let e = CreditCode::parse("0133010600000000X1").unwrap_err();
        assert_eq!(e.position, Some(1));
    }
}
