//! Explanations: every clause of a rule with its Chinese label, the enterprise's value, the
//! requirement and the verdict, plus the facts that are missing.
//!
//! Evaluation itself only records verdicts (cheap); an explanation is built from a rule, the
//! facts and the evaluation when someone wants to read it.

use serde::Serialize;

use super::ast::Func;
use super::compile::{Clause, Rule, Test};
use super::eval::{Evaluation, Facts, Outcome, Verdict};
use crate::codes::{industry, region};
use crate::fields::{Category, Fact, FieldId, FieldType};
use crate::text;

/// One clause, explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClauseExplanation {
    /// The clause in the rule language, e.g. `years_since(established) >= 2`.
    pub clause: String,
    pub field: &'static str,
    /// Chinese label, e.g. `成立年限`.
    pub label: String,
    /// The enterprise's value as shown to people; `None` when unknown.
    pub actual: Option<String>,
    /// What the rule requires, e.g. `≥ 2年`.
    pub requirement: String,
    pub verdict: Verdict,
    /// How a derived value came about (the size class: which figures decided it, or which
    /// are missing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// True when the value is unknown because the enterprise has not authorised its category
    /// for this reader.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub withheld: bool,
}

/// A field whose value would settle an undecided clause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingField {
    pub field: &'static str,
    pub label: &'static str,
    pub category: Category,
}

/// A whole rule, explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub outcome: Outcome,
    pub clauses: Vec<ClauseExplanation>,
    pub unknown_fields: Vec<MissingField>,
    /// Categories hidden from the reader for lack of consent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub withheld_categories: Vec<Category>,
}

impl Rule {
    /// Evaluates and explains in one call.
    pub fn explain(&self, facts: &Facts<'_>) -> Explanation {
        let eval = self.evaluate(facts);
        self.explanation(facts, &eval)
    }

    /// Explains an evaluation already made.
    pub fn explanation(&self, facts: &Facts<'_>, eval: &Evaluation) -> Explanation {
        Explanation {
            outcome: eval.outcome,
            clauses: self
                .clauses
                .iter()
                .zip(&eval.verdicts)
                .map(|(c, v)| c.explain(facts, *v))
                .collect(),
            unknown_fields: self
                .unknown_fields(facts, eval)
                .into_iter()
                .map(|id| MissingField {
                    field: id.def().name,
                    label: id.def().label,
                    category: id.def().category,
                })
                .collect(),
            withheld_categories: facts.withheld.clone(),
        }
    }
}

impl Clause {
    /// This clause's explanation given its verdict.
    pub fn explain(&self, facts: &Facts<'_>, verdict: Verdict) -> ClauseExplanation {
        let def = self.field.def();
        let (label, unit) = match self.func {
            Some(Func::YearsSince) if def.name == "established" => ("成立年限".to_string(), "年"),
            Some(Func::MonthsSince) if def.name == "established" => {
                ("成立月数".to_string(), "个月")
            }
            Some(Func::YearsSince) => (format!("{}至今年数", def.label), "年"),
            Some(Func::MonthsSince) => (format!("{}至今月数", def.label), "个月"),
            None => (def.label.to_string(), def.unit),
        };
        let actual = facts.get(self.field).map(|fact| match (self.func, fact) {
            (Some(_), Fact::Date(d)) => {
                let n = match self.func {
                    Some(Func::YearsSince) => super::eval::years_between(*d, facts.as_of),
                    _ => super::eval::months_between(*d, facts.as_of),
                };
                format!("{n}{unit}（{d}）")
            }
            _ => show_fact(self.field, fact),
        });
        let requirement = self.requirement(unit);
        ClauseExplanation {
            clause: self.text.clone(),
            field: def.name,
            label,
            actual,
            requirement,
            verdict,
            note: (self.field == super::eval::size_field()).then(|| facts.size.reason.clone()),
            withheld: facts.get(self.field).is_none() && facts.is_withheld(self.field),
        }
    }

    fn requirement(&self, unit: &str) -> String {
        let ty = if self.func.is_some() {
            FieldType::Int
        } else {
            self.field.def().ty
        };
        let num = |v: i64| show_number(ty, v, unit);
        let code = |c: &str| show_code(self.field, c);
        let join = |items: Vec<String>| items.join("、");
        let req = match &self.test {
            Test::Flag => {
                return if self.negated {
                    "否".into()
                } else {
                    "是".into()
                };
            }
            Test::Bool(b) => {
                return if *b != self.negated {
                    "是".into()
                } else {
                    "否".into()
                };
            }
            Test::Num(op, v) => format!("{} {}", op.symbol(), num(*v)),
            Test::NumIn { values, negated } => {
                let list = join(values.iter().map(|v| num(*v)).collect());
                if *negated {
                    format!("不为 {list}")
                } else {
                    format!("为 {list} 之一")
                }
            }
            Test::Date(op, d) => format!("{} {d}", op.symbol()),
            Test::Str { value, negated } => {
                format!("{} {}", if *negated { "不为" } else { "为" }, code(value))
            }
            Test::StrIn { values, negated } => {
                let list = join(values.iter().map(|v| code(v)).collect());
                if *negated {
                    format!("不为 {list}")
                } else {
                    format!("为 {list} 之一")
                }
            }
            Test::Under(prefixes) => {
                let list = join(prefixes.iter().map(|v| code(v)).collect());
                if prefixes.len() > 1 {
                    format!("属于 {list} 之一")
                } else {
                    format!("属于 {list}")
                }
            }
            Test::Has(l) => format!("包含「{l}」"),
            Test::HasAny(ls) => format!("包含「{}」之一", ls.join("」「")),
            Test::HasAll(ls) => format!("同时包含「{}」", ls.join("」「")),
        };
        if self.negated {
            format!("并非（{req}）")
        } else {
            req
        }
    }
}

fn show_number(ty: FieldType, v: i64, unit: &str) -> String {
    match ty {
        FieldType::Money => text::money(v),
        FieldType::Percent => text::percent(v),
        _ => format!("{v}{unit}"),
    }
}

fn show_code(field: FieldId, code: &str) -> String {
    let name = match field.def().ty {
        FieldType::Region => region::full_name(code),
        FieldType::Industry => industry::best_name(code).map(String::from),
        _ => None,
    };
    match name {
        Some(n) => format!("{n}（{code}）"),
        None => code.to_string(),
    }
}

/// A fact as people read it, with its unit and code names.
pub fn show_fact(field: FieldId, fact: &Fact<'_>) -> String {
    let def = field.def();
    match fact {
        Fact::Bool(b) => if *b { "是" } else { "否" }.into(),
        Fact::Num(v) => show_number(def.ty, *v, def.unit),
        Fact::Date(d) => d.to_string(),
        Fact::Str(s) => show_code(field, s),
        Fact::Set([]) => "无".into(),
        Fact::Set(items) => items.join("、"),
        Fact::Labels(items) => items.join("、"),
    }
}
