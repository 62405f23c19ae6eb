//! Type checking: [`Expr`] → [`Rule`], a tree over typed clauses resolved against the field
//! registry. Every leaf becomes a [`Clause`] with its field id and a [`Test`] whose literals are
//! already converted to the field's representation, so evaluation does no parsing and no lookups.

use chrono::NaiveDate;

use super::ast::{Cmp, Expr, Func, Literal, Op, Unit};
use super::error::{ErrorKind, Location, RuleError, RuleErrors};
use super::parser::parse_with_positions;
use crate::codes::{industry, region};
use crate::fields::{self, FieldId, FieldType};

/// A checked, compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The rule as written (canonical text via `Display`).
    pub expr: Expr,
    pub(crate) root: Node,
    /// The leaves, in the order they appear in the text.
    pub clauses: Vec<Clause>,
}

/// The boolean structure over clause indices.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Const(bool),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    Clause(usize),
}

/// One leaf condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    pub field: FieldId,
    pub func: Option<Func>,
    pub test: Test,
    /// True when the rule says `not <this>` directly; the verdict is of the negated test.
    pub negated: bool,
    /// Canonical text of the clause including a folded `not`.
    pub text: String,
}

/// Ordering and equality operators for numbers and dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn holds<T: Ord>(self, a: T, b: T) -> bool {
        match self {
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "≠",
            CmpOp::Lt => "<",
            CmpOp::Le => "≤",
            CmpOp::Gt => ">",
            CmpOp::Ge => "≥",
        }
    }

    fn from_op(op: Op) -> Option<CmpOp> {
        Some(match op {
            Op::Eq => CmpOp::Eq,
            Op::Ne => CmpOp::Ne,
            Op::Lt => CmpOp::Lt,
            Op::Le => CmpOp::Le,
            Op::Gt => CmpOp::Gt,
            Op::Ge => CmpOp::Ge,
            _ => return None,
        })
    }
}

/// What a clause tests, with literals in the field's own representation.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// A yes/no field is true.
    Flag,
    /// A yes/no field equals the value.
    Bool(bool),
    /// A number (persons, yuan, basis points; or years/months for functions).
    Num(CmpOp, i64),
    NumIn {
        values: Vec<i64>,
        negated: bool,
    },
    Date(CmpOp, NaiveDate),
    /// Equality of categories, text and codes (codes in prefix form).
    Str {
        value: String,
        negated: bool,
    },
    StrIn {
        values: Vec<String>,
        negated: bool,
    },
    /// Code hierarchy (codes in prefix form).
    Under(Vec<String>),
    Has(String),
    HasAny(Vec<String>),
    HasAll(Vec<String>),
}

impl Rule {
    /// Type-checks an expression. `positions` are the leaf positions from the parser, if any.
    pub fn from_expr(expr: Expr) -> Result<Rule, RuleErrors> {
        compile_expr(expr, None)
    }
}

/// Parses and type-checks rule text.
pub fn compile(text: &str) -> Result<Rule, RuleErrors> {
    let parsed = parse_with_positions(text)?;
    compile_expr(parsed.expr, Some(&parsed.leaf_positions))
}

fn compile_expr(expr: Expr, positions: Option<&[(usize, usize)]>) -> Result<Rule, RuleErrors> {
    let mut c = Compiler {
        clauses: Vec::new(),
        errors: Vec::new(),
        positions,
        leaf: 0,
    };
    let root = c.node(&expr, "$");
    if c.errors.is_empty() {
        Ok(Rule {
            expr,
            root,
            clauses: c.clauses,
        })
    } else {
        Err(RuleErrors(c.errors))
    }
}

struct Compiler<'p> {
    clauses: Vec<Clause>,
    errors: Vec<RuleError>,
    positions: Option<&'p [(usize, usize)]>,
    /// Index of the next leaf in text order, to find its position.
    leaf: usize,
}

impl Compiler<'_> {
    fn node(&mut self, e: &Expr, path: &str) -> Node {
        match e {
            Expr::Const(b) => Node::Const(*b),
            Expr::And(items) | Expr::Or(items) => {
                let key = if matches!(e, Expr::And(_)) {
                    "all"
                } else {
                    "any"
                };
                let nodes = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.node(item, &format!("{path}.{key}[{i}]")))
                    .collect();
                if matches!(e, Expr::And(_)) {
                    Node::And(nodes)
                } else {
                    Node::Or(nodes)
                }
            }
            Expr::Not(inner) => {
                let n = self.node(inner, &format!("{path}.not"));
                // Fold `not` into a leaf so the trace shows the condition as the rule means it.
                if let Node::Clause(i) = n
                    && !self.clauses[i].negated
                {
                    let clause = &mut self.clauses[i];
                    clause.negated = true;
                    clause.text = format!("not {}", clause.text);
                    return Node::Clause(i);
                }
                Node::Not(Box::new(n))
            }
            Expr::Flag(_) | Expr::Cmp(_) => {
                let location = match self.positions {
                    Some(p) => Location::Text {
                        line: p[self.leaf].0,
                        column: p[self.leaf].1,
                    },
                    None => Location::Json {
                        path: path.to_string(),
                    },
                };
                self.leaf += 1;
                match check_leaf(e) {
                    Ok(clause) => {
                        self.clauses.push(clause);
                        Node::Clause(self.clauses.len() - 1)
                    }
                    Err(kind) => {
                        self.errors.push(RuleError { location, kind });
                        Node::Const(false)
                    }
                }
            }
        }
    }
}

fn resolve(name: &str) -> Result<FieldId, ErrorKind> {
    fields::lookup(name).ok_or_else(|| ErrorKind::UnknownField {
        name: name.to_string(),
        suggestion: fields::suggest(name),
    })
}

fn check_leaf(e: &Expr) -> Result<Clause, ErrorKind> {
    match e {
        Expr::Flag(name) => {
            let id = resolve(name)?;
            let def = id.def();
            if def.ty != FieldType::Bool {
                return Err(ErrorKind::TypeMismatch {
                    field: name.clone(),
                    expected: "a comparison".into(),
                    found: format!(
                        "the field alone (it is a {}, not yes/no; e.g. `{name} {}`)",
                        def.ty.name(),
                        example(def.ty)
                    ),
                });
            }
            Ok(Clause {
                field: id,
                func: None,
                test: Test::Flag,
                negated: false,
                text: name.clone(),
            })
        }
        Expr::Cmp(cmp) => check_cmp(cmp),
        _ => unreachable!("only leaves are checked"),
    }
}

fn example(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Bool => "= true",
        FieldType::Int => ">= 10",
        FieldType::Money => ">= 500万",
        FieldType::Percent => ">= 4%",
        FieldType::Date => "<= 2023-06-30",
        FieldType::Enum(_) | FieldType::Text => "in [\"A\", \"B\"]",
        FieldType::Region => "under \"3301\"",
        FieldType::Industry => "under \"C39\"",
        FieldType::Set(_) => "has \"ISO9001\"",
    }
}

fn allowed_ops(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Bool => "the field alone, `not field`, `= true` or `= false`",
        FieldType::Int | FieldType::Money | FieldType::Percent | FieldType::Date => {
            "=, !=, <, <=, >, >=, in, not in"
        }
        FieldType::Enum(_) | FieldType::Text => "=, !=, in, not in",
        FieldType::Region | FieldType::Industry => "under, =, !=, in, not in",
        FieldType::Set(_) => "has, has any, has all",
    }
}

fn check_cmp(cmp: &Cmp) -> Result<Clause, ErrorKind> {
    let id = resolve(&cmp.field)?;
    let def = id.def();
    let field = cmp.field.as_str();
    let mut ty = def.ty;
    if let Some(func) = cmp.func {
        if ty != FieldType::Date {
            return Err(ErrorKind::TypeMismatch {
                field: field.into(),
                expected: format!("{}() to take a date field", func.name()),
                found: format!("a {}", ty.name()),
            });
        }
        ty = FieldType::Int;
    }
    let op_error = || ErrorKind::OperatorNotAllowed {
        field: field.into(),
        ty: ty.name(),
        op: cmp.op.symbol(),
        allowed: allowed_ops(ty).into(),
    };
    let test = match ty {
        FieldType::Bool => match (cmp.op, &cmp.value) {
            (Op::Eq | Op::Ne, Literal::Bool(b)) => Test::Bool(*b == (cmp.op == Op::Eq)),
            (Op::Eq | Op::Ne, other) => return Err(mismatch(field, "true or false", other)),
            _ => return Err(op_error()),
        },
        FieldType::Int | FieldType::Money | FieldType::Percent => {
            let num = |l: &Literal| number(field, ty, cmp.func, l);
            match cmp.op {
                Op::In | Op::NotIn => Test::NumIn {
                    values: list(field, &cmp.value)?
                        .iter()
                        .map(num)
                        .collect::<Result<_, _>>()?,
                    negated: cmp.op == Op::NotIn,
                },
                op => Test::Num(CmpOp::from_op(op).ok_or_else(op_error)?, num(&cmp.value)?),
            }
        }
        FieldType::Date => {
            let date = |l: &Literal| match l {
                Literal::Date(d) => Ok(*d),
                other => Err(mismatch(field, "a date like 2023-06-30", other)),
            };
            match cmp.op {
                Op::In | Op::NotIn => return Err(op_error()),
                op => Test::Date(CmpOp::from_op(op).ok_or_else(op_error)?, date(&cmp.value)?),
            }
        }
        FieldType::Enum(_) | FieldType::Text | FieldType::Region | FieldType::Industry => {
            let value = |l: &Literal| category_value(field, ty, l);
            match cmp.op {
                Op::Eq | Op::Ne => Test::Str {
                    value: value(&cmp.value)?,
                    negated: cmp.op == Op::Ne,
                },
                Op::In | Op::NotIn => Test::StrIn {
                    values: list(field, &cmp.value)?
                        .iter()
                        .map(value)
                        .collect::<Result<_, _>>()?,
                    negated: cmp.op == Op::NotIn,
                },
                Op::Under if matches!(ty, FieldType::Region | FieldType::Industry) => {
                    let codes = match &cmp.value {
                        Literal::List(_) => list(field, &cmp.value)?
                            .iter()
                            .map(value)
                            .collect::<Result<_, _>>()?,
                        single => vec![value(single)?],
                    };
                    Test::Under(codes)
                }
                _ => return Err(op_error()),
            }
        }
        FieldType::Set(allowed) => {
            let label = |l: &Literal| match l {
                Literal::Str(s) => match allowed {
                    Some(values) if !values.contains(&s.as_str()) => Err(ErrorKind::UnknownValue {
                        field: field.into(),
                        value: s.clone(),
                        allowed: values.join(", "),
                    }),
                    _ => Ok(s.clone()),
                },
                other => Err(mismatch(field, "a label in quotes", other)),
            };
            match cmp.op {
                Op::Has => Test::Has(label(&cmp.value)?),
                Op::HasAny => Test::HasAny(
                    list(field, &cmp.value)?
                        .iter()
                        .map(label)
                        .collect::<Result<_, _>>()?,
                ),
                Op::HasAll => Test::HasAll(
                    list(field, &cmp.value)?
                        .iter()
                        .map(label)
                        .collect::<Result<_, _>>()?,
                ),
                _ => return Err(op_error()),
            }
        }
    };
    Ok(Clause {
        field: id,
        func: cmp.func,
        test,
        negated: false,
        text: cmp.to_string(),
    })
}

fn describe(l: &Literal) -> String {
    match l {
        Literal::Bool(b) => format!("`{b}`"),
        Literal::Num(n) if n.unit == Unit::Percent => format!("the percentage `{n}`"),
        Literal::Num(n) if n.unit == Unit::None => format!("the number `{n}`"),
        Literal::Num(n) => format!("the amount `{n}`"),
        Literal::Str(s) => format!("the string {s:?}"),
        Literal::Date(d) => format!("the date `{d}`"),
        Literal::List(_) => "a list".into(),
    }
}

fn mismatch(field: &str, expected: &str, found: &Literal) -> ErrorKind {
    ErrorKind::TypeMismatch {
        field: field.into(),
        expected: expected.into(),
        found: describe(found),
    }
}

fn list<'a>(field: &str, l: &'a Literal) -> Result<&'a [Literal], ErrorKind> {
    match l {
        Literal::List(items) if items.is_empty() => Err(ErrorKind::Invalid {
            reason: format!("`{field}`: the list is empty"),
        }),
        Literal::List(items) => Ok(items),
        other => Err(mismatch(field, "a list in brackets", other)),
    }
}

/// Checks a number literal against the field's unit: percentages need `%`, money may use
/// 万/亿, counts take plain numbers.
fn number(field: &str, ty: FieldType, func: Option<Func>, l: &Literal) -> Result<i64, ErrorKind> {
    let Literal::Num(n) = l else {
        let expected = match ty {
            FieldType::Percent => "a percentage like 4%",
            FieldType::Money => "an amount like 500万 or 2000000",
            _ => "a number",
        };
        return Err(mismatch(field, expected, l));
    };
    let ok = match ty {
        FieldType::Percent => n.unit == Unit::Percent,
        FieldType::Money => n.unit != Unit::Percent,
        _ => n.unit == Unit::None,
    };
    if !ok {
        let expected = match (ty, func) {
            (FieldType::Percent, _) => "a percentage with `%` (e.g. 4%)",
            (FieldType::Money, _) => "an amount in yuan, 万 or 亿 (not a percentage)",
            (_, Some(_)) => "a whole number of years or months",
            _ => "a plain number (no unit)",
        };
        return Err(mismatch(field, expected, l));
    }
    Ok(n.value)
}

fn category_value(field: &str, ty: FieldType, l: &Literal) -> Result<String, ErrorKind> {
    let Literal::Str(s) = l else {
        let expected = match ty {
            FieldType::Region => "a region code in quotes, e.g. \"3301\"",
            FieldType::Industry => "an industry code in quotes, e.g. \"C39\"",
            _ => "a value in quotes",
        };
        return Err(mismatch(field, expected, l));
    };
    match ty {
        FieldType::Enum(values) if !values.contains(&s.as_str()) => Err(ErrorKind::UnknownValue {
            field: field.into(),
            value: s.clone(),
            allowed: values.join(", "),
        }),
        FieldType::Region => region::validate(s).map_err(|e| ErrorKind::BadCode {
            field: field.into(),
            reason: e.to_string(),
        }),
        FieldType::Industry => {
            industry::validate(s)
                .map(|()| s.clone())
                .map_err(|e| ErrorKind::BadCode {
                    field: field.into(),
                    reason: e.to_string(),
                })
        }
        _ => Ok(s.clone()),
    }
}
