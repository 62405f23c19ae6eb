//! The JSON form of a rule, which round-trips with the text form.
//!
//! ```json
//! {"all": [{"field": "region", "op": "under", "value": "3301"},
//!          {"fn": "years_since", "field": "established", "op": ">=", "value": 2},
//!          {"not": {"flag": "dishonest"}},
//!          {"field": "revenue", "op": "<", "value": {"wan": 2000}}]}
//! ```
//! Numbers with units are objects (`{"wan": 1.5}`, `{"yi": 2}`, `{"percent": 4}`), dates are
//! `{"date": "2024-01-01"}`, so that a string literal is never mistaken for a number.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value, json};

use super::ast::{Cmp, Expr, Func, Literal, Num, Op, Unit};
use super::error::{ErrorKind, Location, RuleError};
use super::parser::parse_number;

impl Expr {
    /// The JSON form.
    pub fn to_json(&self) -> Value {
        match self {
            Expr::Const(b) => Value::Bool(*b),
            Expr::And(items) => {
                json!({ "all": items.iter().map(Expr::to_json).collect::<Vec<_>>() })
            }
            Expr::Or(items) => {
                json!({ "any": items.iter().map(Expr::to_json).collect::<Vec<_>>() })
            }
            Expr::Not(inner) => json!({ "not": inner.to_json() }),
            Expr::Flag(name) => json!({ "flag": name }),
            Expr::Cmp(c) => {
                let mut m = Map::new();
                if let Some(f) = c.func {
                    m.insert("fn".into(), f.name().into());
                }
                m.insert("field".into(), c.field.clone().into());
                m.insert("op".into(), c.op.symbol().into());
                m.insert("value".into(), literal_to_json(&c.value));
                Value::Object(m)
            }
        }
    }

    /// Reads the JSON form; errors carry the JSON path of the problem.
    pub fn from_json(value: &Value) -> Result<Expr, RuleError> {
        expr_from_json(value, "$")
    }
}

fn literal_to_json(l: &Literal) -> Value {
    match l {
        Literal::Bool(b) => Value::Bool(*b),
        Literal::Str(s) => Value::String(s.clone()),
        Literal::Date(d) => json!({ "date": d.format("%Y-%m-%d").to_string() }),
        Literal::List(items) => Value::Array(items.iter().map(literal_to_json).collect()),
        Literal::Num(n) => {
            // Written numbers go out as JSON numbers in the unit they were written in.
            let written: Value = if n.value % n.unit.scale() == 0 {
                (n.value / n.unit.scale()).into()
            } else {
                serde_json::from_str(&n.written()).expect("a decimal is valid JSON")
            };
            match n.unit {
                Unit::None => written,
                Unit::Wan => json!({ "wan": written }),
                Unit::Yi => json!({ "yi": written }),
                Unit::Percent => json!({ "percent": written }),
            }
        }
    }
}

fn err(path: &str, reason: impl Into<String>) -> RuleError {
    RuleError {
        location: Location::Json {
            path: path.to_string(),
        },
        kind: ErrorKind::Invalid {
            reason: reason.into(),
        },
    }
}

fn expr_from_json(v: &Value, path: &str) -> Result<Expr, RuleError> {
    let obj = match v {
        Value::Bool(b) => return Ok(Expr::Const(*b)),
        Value::Object(o) => o,
        _ => {
            return Err(err(
                path,
                "a rule is an object ({\"all\"|\"any\"|\"not\"|\"flag\"|\"field\": ...}) or true/false",
            ));
        }
    };
    let only = |key: &str| -> Result<(), RuleError> {
        match obj.keys().find(|k| *k != key) {
            Some(extra) => Err(err(
                path,
                format!("unexpected key {extra:?} beside {key:?}"),
            )),
            None => Ok(()),
        }
    };
    for (key, is_and) in [("all", true), ("any", false)] {
        if let Some(items) = obj.get(key) {
            only(key)?;
            let Value::Array(items) = items else {
                return Err(err(&format!("{path}.{key}"), "must be an array of rules"));
            };
            if items.len() < 2 {
                return Err(err(
                    &format!("{path}.{key}"),
                    format!(
                        "needs at least 2 rules, found {} (use the rule itself)",
                        items.len()
                    ),
                ));
            }
            let items = items
                .iter()
                .enumerate()
                .map(|(i, item)| expr_from_json(item, &format!("{path}.{key}[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(if is_and {
                Expr::And(items)
            } else {
                Expr::Or(items)
            });
        }
    }
    if let Some(inner) = obj.get("not") {
        only("not")?;
        return Ok(Expr::Not(Box::new(expr_from_json(
            inner,
            &format!("{path}.not"),
        )?)));
    }
    if let Some(flag) = obj.get("flag") {
        only("flag")?;
        return match flag {
            Value::String(s) => Ok(Expr::Flag(s.clone())),
            _ => Err(err(&format!("{path}.flag"), "must be a field name")),
        };
    }
    if obj.contains_key("field") {
        if let Some(extra) = obj
            .keys()
            .find(|k| !["fn", "field", "op", "value"].contains(&k.as_str()))
        {
            return Err(err(
                path,
                format!("unexpected key {extra:?} in a comparison"),
            ));
        }
        let field = match &obj["field"] {
            Value::String(s) => s.clone(),
            _ => return Err(err(&format!("{path}.field"), "must be a field name")),
        };
        let func = match obj.get("fn") {
            None => None,
            Some(Value::String(name)) => Some(Func::from_name(name).ok_or_else(|| RuleError {
                location: Location::Json {
                    path: format!("{path}.fn"),
                },
                kind: ErrorKind::UnknownFunction {
                    name: name.clone(),
                    suggestion: crate::text::closest(name, Func::ALL.iter().map(|f| f.name())),
                },
            })?),
            Some(_) => return Err(err(&format!("{path}.fn"), "must be a function name")),
        };
        let op = match obj.get("op") {
            Some(Value::String(s)) => Op::from_symbol(s).ok_or_else(|| {
                err(
                    &format!("{path}.op"),
                    format!(
                        "unknown operator {s:?} (one of {})",
                        Op::ALL.map(|o| o.symbol()).join(", ")
                    ),
                )
            })?,
            _ => return Err(err(&format!("{path}.op"), "missing operator")),
        };
        let value = obj
            .get("value")
            .ok_or_else(|| err(&format!("{path}.value"), "missing value"))?;
        let value = literal_from_json(value, &format!("{path}.value"), true)?;
        return Ok(Expr::Cmp(Cmp {
            func,
            field,
            op,
            value,
        }));
    }
    Err(err(
        path,
        "a rule object needs one of the keys \"all\", \"any\", \"not\", \"flag\" or \"field\"",
    ))
}

fn literal_from_json(v: &Value, path: &str, list_ok: bool) -> Result<Literal, RuleError> {
    match v {
        Value::Bool(b) => Ok(Literal::Bool(*b)),
        Value::String(s) => Ok(Literal::Str(s.clone())),
        Value::Number(n) => number(n, Unit::None, path),
        Value::Array(items) if list_ok => items
            .iter()
            .enumerate()
            .map(|(i, item)| literal_from_json(item, &format!("{path}[{i}]"), false))
            .collect::<Result<Vec<_>, _>>()
            .map(Literal::List),
        Value::Array(_) => Err(err(path, "lists cannot be nested")),
        Value::Object(o) if o.len() == 1 => {
            let (key, inner) = o.iter().next().expect("one entry");
            let unit = match key.as_str() {
                "wan" => Unit::Wan,
                "yi" => Unit::Yi,
                "percent" => Unit::Percent,
                "date" => {
                    return match inner {
                        Value::String(s) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                            .map(Literal::Date)
                            .map_err(|_| err(path, format!("{s:?} is not a date (YYYY-MM-DD)"))),
                        _ => Err(err(path, "a date is a string \"YYYY-MM-DD\"")),
                    };
                }
                other => {
                    return Err(err(
                        path,
                        format!("unknown value kind {other:?} (wan, yi, percent or date)"),
                    ));
                }
            };
            match inner {
                Value::Number(n) => number(n, unit, path),
                _ => Err(err(path, format!("{key} takes a number"))),
            }
        }
        _ => Err(err(
            path,
            "a value is a number, string, true/false, list, or {\"wan\"|\"yi\"|\"percent\"|\"date\": ...}",
        )),
    }
}

fn number(n: &serde_json::Number, unit: Unit, path: &str) -> Result<Literal, RuleError> {
    parse_number(&n.to_string(), unit)
        .map(|n: Num| Literal::Num(n))
        .map_err(|kind| RuleError {
            location: Location::Json {
                path: path.to_string(),
            },
            kind,
        })
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Expr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Expr::from_json(&v).map_err(D::Error::custom)
    }
}
