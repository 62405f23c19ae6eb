//! Text → [`Expr`]: a hand-written lexer and recursive-descent parser.
//!
//! Grammar (lowest precedence first):
//! ```text
//! rule       := or EOF
//! or         := and ("or" and)*
//! and        := unary ("and" unary)*
//! unary      := "not" unary | primary
//! primary    := "(" or ")" | "true" | "false" | comparison
//! comparison := operand [ cmp_op literal | "in" list | "not" "in" list
//!                       | "under" (string | list) | "has" (string | "any" list | "all" list) ]
//! operand    := IDENT | FUNC "(" IDENT ")"
//! ```
//! Positions are remembered for every leaf so that type errors found later point at the text.

use chrono::NaiveDate;

use super::ast::{Cmp, Expr, Func, Literal, Num, Op, Unit};
use super::error::{ErrorKind, RuleError};

/// A token with the 1-based position of its first character.
#[derive(Debug, Clone, PartialEq)]
struct Token {
    kind: Tok,
    line: usize,
    column: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(Num),
    Date(NaiveDate),
    Op(Op),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Eof,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Str(s) => format!("string {s:?}"),
            Tok::Num(n) => format!("number `{n}`"),
            Tok::Date(d) => format!("date `{d}`"),
            Tok::Op(op) => format!("`{}`", op.symbol()),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::LBracket => "`[`".into(),
            Tok::RBracket => "`]`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Eof => "end of rule".into(),
        }
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self, Tok::Ident(s) if s == word)
    }
}

struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: usize,
    column: usize,
}

impl Lexer<'_> {
    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    fn tokens(mut self) -> Result<Vec<Token>, RuleError> {
        let mut out = Vec::new();
        loop {
            // Whitespace (ASCII and the full-width space) and comments.
            while let Some(&c) = self.chars.peek() {
                if c.is_whitespace() {
                    self.bump();
                } else if c == '#' {
                    while self.chars.peek().is_some_and(|&c| c != '\n') {
                        self.bump();
                    }
                } else {
                    break;
                }
            }
            let (line, column) = (self.line, self.column);
            let err = |kind| RuleError::at(line, column, kind);
            let Some(&c) = self.chars.peek() else {
                out.push(Token {
                    kind: Tok::Eof,
                    line,
                    column,
                });
                return Ok(out);
            };
            let kind = match c {
                '(' | ')' | '[' | ']' | ',' => {
                    self.bump();
                    match c {
                        '(' => Tok::LParen,
                        ')' => Tok::RParen,
                        '[' => Tok::LBracket,
                        ']' => Tok::RBracket,
                        _ => Tok::Comma,
                    }
                }
                '"' => {
                    self.bump();
                    Tok::Str(self.string().map_err(err)?)
                }
                '=' | '!' | '<' | '>' | '≥' | '≤' | '≠' => {
                    self.bump();
                    let next_eq = self.chars.peek() == Some(&'=');
                    let op = match (c, next_eq) {
                        ('=', true) | ('!', true) | ('<', true) | ('>', true) => {
                            self.bump();
                            match c {
                                '=' => Op::Eq,
                                '!' => Op::Ne,
                                '<' => Op::Le,
                                _ => Op::Ge,
                            }
                        }
                        ('=', false) => Op::Eq,
                        ('<', false) => Op::Lt,
                        ('>', false) => Op::Gt,
                        ('≥', _) => Op::Ge,
                        ('≤', _) => Op::Le,
                        ('≠', _) => Op::Ne,
                        _ => {
                            return Err(err(ErrorKind::Syntax {
                                found: "`!`".into(),
                                expected: "`!=` (use `not` to negate)".into(),
                            }));
                        }
                    };
                    Tok::Op(op)
                }
                c if c.is_ascii_digit() || c == '-' || c == '.' => self.number().map_err(err)?,
                c if c.is_ascii_alphabetic() || c == '_' => {
                    let mut word = String::new();
                    while let Some(&c) = self.chars.peek() {
                        if c.is_ascii_alphanumeric() || c == '_' {
                            word.push(c);
                            self.bump();
                        } else {
                            break;
                        }
                    }
                    Tok::Ident(word)
                }
                other => {
                    let hint = match other {
                        '“' | '”' | '‘' | '’' | '「' | '」' => {
                            "a string in ASCII double quotes \"...\" (not Chinese quotes)"
                        }
                        '，' => "`,` (an ASCII comma, not the full-width `，`)",
                        '（' | '）' => "`(` or `)` (ASCII parentheses, not full-width)",
                        '【' | '】' => "`[` or `]` (ASCII brackets)",
                        '＝' | '＞' | '＜' => "an ASCII comparison operator (=, >, <, >=, <=)",
                        _ => "a field name, value, operator or parenthesis",
                    };
                    return Err(err(ErrorKind::Syntax {
                        found: format!("`{other}`"),
                        expected: hint.into(),
                    }));
                }
            };
            out.push(Token { kind, line, column });
        }
    }

    fn string(&mut self) -> Result<String, ErrorKind> {
        let mut s = String::new();
        loop {
            match self.bump() {
                None | Some('\n') => {
                    return Err(ErrorKind::BadLiteral {
                        literal: format!("\"{s}"),
                        reason: "string is not closed with `\"` on the same line".into(),
                    });
                }
                Some('"') => return Ok(s),
                Some('\\') => match self.bump() {
                    Some('"') => s.push('"'),
                    Some('\\') => s.push('\\'),
                    Some('n') => s.push('\n'),
                    Some('t') => s.push('\t'),
                    other => {
                        return Err(ErrorKind::BadLiteral {
                            literal: format!("\\{}", other.map(String::from).unwrap_or_default()),
                            reason: "unknown escape (use \\\" \\\\ \\n \\t)".into(),
                        });
                    }
                },
                Some(c) => s.push(c),
            }
        }
    }

    /// Numbers (`-5`, `2.5万`, `4%`) and dates (`2024-01-31`).
    fn number(&mut self) -> Result<Tok, ErrorKind> {
        let mut text = String::new();
        while let Some(&c) = self.chars.peek() {
            if c.is_ascii_digit() || c == '.' || c == '-' {
                text.push(c);
                self.bump();
            } else {
                break;
            }
        }
        if text.len() == 10 && text.as_bytes()[4] == b'-' && text.as_bytes()[7] == b'-' {
            return NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                .map(Tok::Date)
                .map_err(|_| ErrorKind::BadLiteral {
                    literal: text.clone(),
                    reason: "not a calendar date (YYYY-MM-DD)".into(),
                });
        }
        let unit = match self.chars.peek() {
            Some('万') => Unit::Wan,
            Some('亿') => Unit::Yi,
            Some('%') | Some('％') => Unit::Percent,
            _ => Unit::None,
        };
        if unit != Unit::None {
            self.bump();
        }
        parse_number(&text, unit).map(Tok::Num)
    }
}

/// Reads `text` (digits, an optional leading `-` and one `.`) scaled exactly by `unit`.
pub(crate) fn parse_number(text: &str, unit: Unit) -> Result<Num, ErrorKind> {
    let bad = |reason: &str| ErrorKind::BadLiteral {
        literal: format!("{text}{}", unit.suffix()),
        reason: reason.into(),
    };
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    // `2.0` and `2.50%` carry no more precision than `2` and `2.5%`.
    let frac = frac.trim_end_matches('0');
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || !all_digits(whole)
        || !all_digits(frac)
        || digits.ends_with('.')
        || digits.matches('.').count() > 1
    {
        return Err(bad("not a number"));
    }
    let scale = unit.scale();
    let decimals = scale.ilog10() as usize;
    if frac.len() > decimals {
        return Err(bad(match unit {
            Unit::None => "must be a whole number (write money as 2.5万, percentages as 4.5%)",
            Unit::Percent => "percentages have at most 2 decimals",
            _ => "too many decimals: the value must be whole yuan",
        }));
    }
    let frac_value: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse::<i64>().map_err(|_| bad("not a number"))?
            * 10_i64.pow((decimals - frac.len()) as u32)
    };
    let value = whole
        .parse::<i64>()
        .ok()
        .and_then(|w| w.checked_mul(scale))
        .and_then(|w| w.checked_add(frac_value))
        .ok_or_else(|| bad("number too large"))?;
    Ok(Num {
        value: if negative { -value } else { value },
        unit,
    })
}

/// Reads a decimal number written in `unit` into base units (yuan for 万/亿, basis points for
/// %), exactly; for input files that use the rule language's number conventions.
pub fn parse_number_with_unit(text: &str, unit: Unit) -> Result<i64, ErrorKind> {
    parse_number(text.trim(), unit).map(|n| n.value)
}

/// A parsed rule with the position of each leaf, in [`Expr::leaves`] order.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub expr: Expr,
    pub leaf_positions: Vec<(usize, usize)>,
}

/// Parses rule text (syntax only; see [`crate::rule::compile`] for type checking).
pub fn parse(text: &str) -> Result<Expr, RuleError> {
    parse_with_positions(text).map(|p| p.expr)
}

/// Parses rule text and remembers where each leaf starts.
pub fn parse_with_positions(text: &str) -> Result<Parsed, RuleError> {
    let tokens = Lexer {
        chars: text.chars().peekable(),
        line: 1,
        column: 1,
    }
    .tokens()?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        leaf_positions: Vec::new(),
    };
    if parser.peek().kind == Tok::Eof {
        let t = parser.peek();
        return Err(RuleError::at(
            t.line,
            t.column,
            ErrorKind::Syntax {
                found: "an empty rule".into(),
                expected: "a condition (write `true` for no conditions)".into(),
            },
        ));
    }
    let expr = parser.or()?;
    parser.expect_eof()?;
    Ok(Parsed {
        expr,
        leaf_positions: parser.leaf_positions,
    })
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    leaf_positions: Vec<(usize, usize)>,
}

const KEYWORDS: [&str; 10] = [
    "and", "or", "not", "in", "under", "has", "any", "all", "true", "false",
];

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.pos]
    }

    fn next(&mut self) -> Token {
        let t = self.tokens[self.pos].clone();
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        t
    }

    fn error(&self, tok: &Token, expected: &str) -> RuleError {
        RuleError::at(
            tok.line,
            tok.column,
            ErrorKind::Syntax {
                found: tok.kind.describe(),
                expected: expected.into(),
            },
        )
    }

    fn expect_eof(&mut self) -> Result<(), RuleError> {
        let t = self.peek().clone();
        match t.kind {
            Tok::Eof => Ok(()),
            Tok::RParen => Err(self.error(&t, "`and`, `or` or end of rule (unbalanced `)`)")),
            _ => Err(self.error(&t, "`and`, `or` or end of rule")),
        }
    }

    fn or(&mut self) -> Result<Expr, RuleError> {
        let mut items = vec![self.and()?];
        while self.peek().kind.is_word("or") {
            self.next();
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap()
        } else {
            Expr::Or(items)
        })
    }

    fn and(&mut self) -> Result<Expr, RuleError> {
        let mut items = vec![self.unary()?];
        while self.peek().kind.is_word("and") {
            self.next();
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap()
        } else {
            Expr::And(items)
        })
    }

    fn unary(&mut self) -> Result<Expr, RuleError> {
        if self.peek().kind.is_word("not") {
            self.next();
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, RuleError> {
        let t = self.next();
        match &t.kind {
            Tok::LParen => {
                let inner = self.or()?;
                let close = self.next();
                if close.kind != Tok::RParen {
                    return Err(self.error(&close, "`)` to close the `(` opened earlier"));
                }
                Ok(inner)
            }
            Tok::Ident(w) if w == "true" || w == "false" => Ok(Expr::Const(w == "true")),
            Tok::Ident(w) if !KEYWORDS.contains(&w.as_str()) => {
                self.comparison(t.clone(), w.clone())
            }
            _ => Err(self.error(
                &t,
                "a condition: a field name, `not`, `(`, `true` or `false`",
            )),
        }
    }

    fn comparison(&mut self, start: Token, name: String) -> Result<Expr, RuleError> {
        self.leaf_positions.push((start.line, start.column));
        let mut func = None;
        let mut field = name.clone();
        if self.peek().kind == Tok::LParen {
            func = Some(Func::from_name(&name).ok_or_else(|| {
                RuleError::at(
                    start.line,
                    start.column,
                    ErrorKind::UnknownFunction {
                        name: name.clone(),
                        suggestion: crate::text::closest(&name, Func::ALL.iter().map(|f| f.name())),
                    },
                )
            })?);
            self.next();
            let arg = self.next();
            match &arg.kind {
                Tok::Ident(a) if !KEYWORDS.contains(&a.as_str()) => field = a.clone(),
                _ => return Err(self.error(&arg, "a date field name, e.g. `established`")),
            }
            let close = self.next();
            if close.kind != Tok::RParen {
                return Err(self.error(&close, "`)` after the function's field"));
            }
        }
        let op_tok = self.peek().clone();
        let op = match &op_tok.kind {
            Tok::Op(op) => Some(*op),
            Tok::Ident(w) if w == "in" => Some(Op::In),
            Tok::Ident(w) if w == "under" => Some(Op::Under),
            Tok::Ident(w) if w == "not" => {
                self.next();
                let t = self.peek().clone();
                if !t.kind.is_word("in") {
                    return Err(self.error(&t, "`in` after `not` (`field not in [...]`)"));
                }
                Some(Op::NotIn)
            }
            Tok::Ident(w) if w == "has" => {
                self.next();
                let t = self.peek().clone();
                if t.kind.is_word("any") {
                    Some(Op::HasAny)
                } else if t.kind.is_word("all") {
                    Some(Op::HasAll)
                } else {
                    self.pos -= 1;
                    Some(Op::Has)
                }
            }
            _ => None,
        };
        let Some(op) = op else {
            if func.is_some() {
                return Err(self.error(
                    &op_tok,
                    "a comparison operator after the function, e.g. `>= 2`",
                ));
            }
            return Ok(Expr::Flag(field));
        };
        self.next();
        let value = match op {
            Op::In | Op::NotIn | Op::HasAny | Op::HasAll => self.list()?,
            Op::Under => {
                if self.peek().kind == Tok::LBracket {
                    self.list()?
                } else {
                    self.scalar("a code in quotes, e.g. \"3301\", or a list of codes")?
                }
            }
            Op::Has => self.scalar("a label in quotes, e.g. \"ISO9001\"")?,
            _ => self.scalar("a value: a number, \"string\", date, true or false")?,
        };
        Ok(Expr::Cmp(Cmp {
            func,
            field,
            op,
            value,
        }))
    }

    fn scalar(&mut self, expected: &str) -> Result<Literal, RuleError> {
        let t = self.next();
        match t.kind {
            Tok::Num(n) => Ok(Literal::Num(n)),
            Tok::Str(s) => Ok(Literal::Str(s)),
            Tok::Date(d) => Ok(Literal::Date(d)),
            Tok::Ident(w) if w == "true" || w == "false" => Ok(Literal::Bool(w == "true")),
            Tok::LBracket => Err(self.error(&t, &format!("{expected} (a list needs `in`)"))),
            _ => Err(self.error(&t, expected)),
        }
    }

    fn list(&mut self) -> Result<Literal, RuleError> {
        let open = self.next();
        if open.kind != Tok::LBracket {
            return Err(self.error(&open, "a list in brackets, e.g. [\"A\", \"B\"]"));
        }
        let mut items = Vec::new();
        if self.peek().kind == Tok::RBracket {
            self.next();
            return Ok(Literal::List(items));
        }
        loop {
            items.push(self.scalar("a list item: a number, \"string\" or date")?);
            let t = self.next();
            match t.kind {
                Tok::Comma => continue,
                Tok::RBracket => return Ok(Literal::List(items)),
                _ => return Err(self.error(&t, "`,` or `]`")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_exact() {
        assert_eq!(parse_number("2.5", Unit::Wan).unwrap().value, 25_000);
        assert_eq!(parse_number("1.5", Unit::Yi).unwrap().value, 150_000_000);
        assert_eq!(parse_number("3.45", Unit::Percent).unwrap().value, 345);
        assert_eq!(parse_number("-5", Unit::None).unwrap().value, -5);
        assert!(parse_number("2.5", Unit::None).is_err());
        assert!(parse_number("4.125", Unit::Percent).is_err());
        assert!(parse_number("1-2", Unit::None).is_err());
        assert!(parse_number("99999999999999999999", Unit::None).is_err());
    }

    #[test]
    fn precedence_and_grouping() {
        let e = parse("a and b or not c").unwrap();
        assert_eq!(e.to_string(), "a and b or not c");
        assert!(matches!(e, Expr::Or(ref v) if v.len() == 2));
        let e = parse("(a and b) and c").unwrap();
        assert_eq!(e.to_string(), "(a and b) and c");
    }

    #[test]
    fn syntax_errors_have_positions() {
        let e = parse("employees >=\n  and x").unwrap_err();
        assert_eq!(
            e.location,
            super::super::Location::Text { line: 2, column: 3 }
        );
        assert!(e.to_string().contains("found `and`"), "{e}");
        let e = parse("tax_grade in [\"A\" \"B\"]").unwrap_err();
        assert!(e.to_string().contains("column 19"), "{e}");
        assert!(e.to_string().contains("expected `,` or `]`"), "{e}");
        let e = parse("tax_grade = “A”").unwrap_err();
        assert!(e.to_string().contains("ASCII double quotes"), "{e}");
        let e = parse("(a and b").unwrap_err();
        assert!(e.to_string().contains("`)`"), "{e}");
        let e = parse("").unwrap_err();
        assert!(e.to_string().contains("empty rule"), "{e}");
        let e = parse("year_since(established) >= 2").unwrap_err();
        assert!(e.to_string().contains("did you mean `years_since`"), "{e}");
    }

    #[test]
    fn comments_and_unicode_operators() {
        let e = parse("# 成立满两年\nyears_since(established) ≥ 2 # 含\n").unwrap();
        assert_eq!(e.to_string(), "years_since(established) >= 2");
    }
}
