//! The rule syntax tree and its canonical text form.
//!
//! `Display` prints the canonical text; parsing that text gives back an equal tree (the
//! round-trip property tested in `tests/`). Grouping is kept: `(a and b) and c` stays nested.

use std::fmt;

use chrono::NaiveDate;

/// A rule expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `true` / `false`.
    Const(bool),
    /// Two or more rules that must all hold.
    And(Vec<Expr>),
    /// Two or more rules of which one must hold.
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// A yes/no field on its own: `high_tech`.
    Flag(String),
    Cmp(Cmp),
}

/// `operand op value`, e.g. `years_since(established) >= 2`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cmp {
    pub func: Option<Func>,
    pub field: String,
    pub op: Op,
    pub value: Literal,
}

/// Functions of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    /// Whole years from the date to the evaluation date.
    YearsSince,
    /// Whole months from the date to the evaluation date.
    MonthsSince,
}

impl Func {
    pub const ALL: [Func; 2] = [Func::YearsSince, Func::MonthsSince];

    pub fn name(self) -> &'static str {
        match self {
            Func::YearsSince => "years_since",
            Func::MonthsSince => "months_since",
        }
    }

    pub fn from_name(name: &str) -> Option<Func> {
        Func::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    Under,
    Has,
    HasAny,
    HasAll,
}

impl Op {
    pub const ALL: [Op; 12] = [
        Op::Eq,
        Op::Ne,
        Op::Lt,
        Op::Le,
        Op::Gt,
        Op::Ge,
        Op::In,
        Op::NotIn,
        Op::Under,
        Op::Has,
        Op::HasAny,
        Op::HasAll,
    ];

    pub fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::In => "in",
            Op::NotIn => "not in",
            Op::Under => "under",
            Op::Has => "has",
            Op::HasAny => "has any",
            Op::HasAll => "has all",
        }
    }

    pub fn from_symbol(s: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.symbol() == s)
    }

    pub fn is_ordering(self) -> bool {
        matches!(self, Op::Lt | Op::Le | Op::Gt | Op::Ge)
    }
}

/// A literal value on the right of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Bool(bool),
    Num(Num),
    Str(String),
    Date(NaiveDate),
    List(Vec<Literal>),
}

/// A number with the unit it was written in. `value` is in base units: yuan for `万`/`亿`,
/// basis points for `%`, the number itself otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Num {
    pub value: i64,
    pub unit: Unit,
}

/// The unit suffix of a number literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    None,
    /// 万: ×10,000 yuan.
    Wan,
    /// 亿: ×100,000,000 yuan.
    Yi,
    /// %: value in basis points.
    Percent,
}

impl Unit {
    /// Base units per written unit.
    pub fn scale(self) -> i64 {
        match self {
            Unit::None => 1,
            Unit::Wan => 10_000,
            Unit::Yi => 100_000_000,
            Unit::Percent => 100,
        }
    }

    pub fn suffix(self) -> &'static str {
        match self {
            Unit::None => "",
            Unit::Wan => "万",
            Unit::Yi => "亿",
            Unit::Percent => "%",
        }
    }
}

impl Num {
    pub fn plain(value: i64) -> Num {
        Num {
            value,
            unit: Unit::None,
        }
    }

    /// The number as written, without its unit: `15000` yuan in 万 → `"1.5"`.
    pub fn written(&self) -> String {
        let sign = if self.value < 0 { "-" } else { "" };
        let scale = self.unit.scale() as u64;
        format!(
            "{sign}{}",
            crate::text::decimal(self.value.unsigned_abs(), scale)
        )
    }
}

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.written(), self.unit.suffix())
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Num(n) => write!(f, "{n}"),
            Literal::Str(s) => write_quoted(f, s),
            Literal::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Literal::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
        }
    }
}

fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

impl fmt::Display for Cmp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.func {
            Some(func) => write!(f, "{}({})", func.name(), self.field)?,
            None => f.write_str(&self.field)?,
        }
        write!(f, " {} {}", self.op.symbol(), self.value)
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn child(f: &mut fmt::Formatter<'_>, e: &Expr, parens: bool) -> fmt::Result {
            if parens {
                write!(f, "({e})")
            } else {
                write!(f, "{e}")
            }
        }
        match self {
            Expr::Const(b) => write!(f, "{b}"),
            Expr::Flag(name) => f.write_str(name),
            Expr::Cmp(c) => write!(f, "{c}"),
            Expr::Not(inner) => {
                f.write_str("not ")?;
                child(f, inner, matches!(**inner, Expr::And(_) | Expr::Or(_)))
            }
            Expr::And(items) => {
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" and ")?;
                    }
                    child(f, e, matches!(e, Expr::And(_) | Expr::Or(_)))?;
                }
                Ok(())
            }
            Expr::Or(items) => {
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" or ")?;
                    }
                    child(f, e, matches!(e, Expr::Or(_)))?;
                }
                Ok(())
            }
        }
    }
}

impl Expr {
    /// The leaves (flags and comparisons) in the order the parser met them.
    pub fn leaves(&self) -> Vec<&Expr> {
        fn walk<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
            match e {
                Expr::And(items) | Expr::Or(items) => items.iter().for_each(|i| walk(i, out)),
                Expr::Not(inner) => walk(inner, out),
                Expr::Flag(_) | Expr::Cmp(_) => out.push(e),
                Expr::Const(_) => {}
            }
        }
        let mut out = Vec::new();
        walk(self, &mut out);
        out
    }
}
