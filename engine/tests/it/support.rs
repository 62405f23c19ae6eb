//! Generators shared by the tests: syntactic rules (any field names), well-typed rules (from the
//! registry) and arbitrary, often incomplete or odd, enterprise profiles.

use chrono::NaiveDate;
use huiqi_engine::fields::{FIELDS, FieldType};
use huiqi_engine::model::*;
use huiqi_engine::rule::{Cmp, Expr, Func, Literal, Num, Op, Unit};
use proptest::prelude::*;

const KEYWORDS: [&str; 10] = [
    "and", "or", "not", "in", "under", "has", "any", "all", "true", "false",
];

fn ident() -> impl Strategy<Value = String> {
    "[a-z_][a-z0-9_]{0,10}".prop_filter("not a keyword", |s| !KEYWORDS.contains(&s.as_str()))
}

fn date() -> impl Strategy<Value = NaiveDate> {
    (1900i32..2100, 1u32..=12, 1u32..=28)
        .prop_map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap())
}

fn num() -> impl Strategy<Value = Num> {
    // Magnitudes up to 10^12 base units keep JSON decimals within f64 precision.
    (
        -1_000_000_000_000i64..1_000_000_000_000,
        prop_oneof![
            Just(Unit::None),
            Just(Unit::Wan),
            Just(Unit::Yi),
            Just(Unit::Percent)
        ],
    )
        .prop_map(|(value, unit)| Num { value, unit })
}

fn scalar() -> impl Strategy<Value = Literal> {
    prop_oneof![
        any::<bool>().prop_map(Literal::Bool),
        num().prop_map(Literal::Num),
        any::<String>().prop_map(Literal::Str),
        date().prop_map(Literal::Date),
    ]
}

fn list() -> impl Strategy<Value = Literal> {
    prop::collection::vec(scalar(), 0..4).prop_map(Literal::List)
}

fn cmp() -> impl Strategy<Value = Expr> {
    let op = prop::sample::select(Op::ALL.to_vec());
    (
        prop::option::of(prop_oneof![Just(Func::YearsSince), Just(Func::MonthsSince)]),
        ident(),
        op,
    )
        .prop_flat_map(|(func, field, op)| {
            let value = match op {
                Op::In | Op::NotIn | Op::HasAny | Op::HasAll => list().boxed(),
                Op::Under => prop_oneof![scalar(), list()].boxed(),
                _ => scalar().boxed(),
            };
            value.prop_map(move |value| {
                Expr::Cmp(Cmp {
                    func,
                    field: field.clone(),
                    op,
                    value,
                })
            })
        })
}

/// Any syntactically valid rule (field names need not exist).
pub(crate) fn syntactic_expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        any::<bool>().prop_map(Expr::Const),
        ident().prop_map(Expr::Flag),
        cmp()
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::Or),
            inner.prop_map(|e| Expr::Not(Box::new(e))),
        ]
    })
}

/// A well-typed leaf built from the registry: the literal fits the field.
fn typed_leaf() -> impl Strategy<Value = Expr> {
    (0..FIELDS.len(), any::<u64>()).prop_map(|(i, seed)| {
        let f = &FIELDS[i];
        let mut r = Rng(seed | 1);
        let field = f.name.to_string();
        let cmp = |op, value| {
            Expr::Cmp(Cmp {
                func: None,
                field: field.clone(),
                op,
                value,
            })
        };
        let ord = [Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge][r.below(6) as usize];
        match f.ty {
            FieldType::Bool => match r.below(2) {
                0 => Expr::Flag(field),
                _ => cmp(Op::Eq, Literal::Bool(r.below(2) == 0)),
            },
            FieldType::Int => cmp(ord, Literal::Num(Num::plain(r.range(-5, 500)))),
            FieldType::Money => cmp(
                ord,
                Literal::Num(Num {
                    value: r.range(0, 5_000) * 10_000,
                    unit: Unit::Wan,
                }),
            ),
            FieldType::Percent => cmp(
                ord,
                Literal::Num(Num {
                    value: r.range(0, 10_000),
                    unit: Unit::Percent,
                }),
            ),
            FieldType::Date => {
                if r.below(2) == 0 {
                    Expr::Cmp(Cmp {
                        func: Some(Func::YearsSince),
                        field,
                        op: ord,
                        value: Literal::Num(Num::plain(r.range(0, 10))),
                    })
                } else {
                    cmp(
                        ord,
                        Literal::Date(
                            NaiveDate::from_ymd_opt(
                                r.range(1990, 2027) as i32,
                                1 + r.below(12) as u32,
                                1,
                            )
                            .unwrap(),
                        ),
                    )
                }
            }
            FieldType::Enum(values) => {
                let pick = |r: &mut Rng| {
                    Literal::Str(values[r.below(values.len() as u64) as usize].to_string())
                };
                match r.below(3) {
                    0 => cmp(Op::Eq, pick(&mut r)),
                    1 => cmp(Op::In, Literal::List(vec![pick(&mut r), pick(&mut r)])),
                    _ => cmp(Op::NotIn, Literal::List(vec![pick(&mut r)])),
                }
            }
            FieldType::Text => cmp(Op::Ne, Literal::Str("某某".into())),
            FieldType::Region => {
                let codes = ["33", "3301", "330106", "44", "4403", "440305", "11", "51"];
                cmp(
                    Op::Under,
                    Literal::Str(codes[r.below(codes.len() as u64) as usize].into()),
                )
            }
            FieldType::Industry => {
                let codes = ["C", "C39", "I65", "F52", "A01"];
                cmp(
                    Op::Under,
                    Literal::List(vec![Literal::Str(codes[r.below(5) as usize].into())]),
                )
            }
            FieldType::Set(allowed) => {
                let labels: Vec<&str> = allowed.map(|a| a.to_vec()).unwrap_or(vec![
                    "高新技术企业",
                    "ISO9001",
                    "外贸",
                    "链主配套",
                ]);
                let pick = |r: &mut Rng| {
                    Literal::Str(labels[r.below(labels.len() as u64) as usize].to_string())
                };
                match r.below(3) {
                    0 => cmp(Op::Has, pick(&mut r)),
                    1 => cmp(Op::HasAny, Literal::List(vec![pick(&mut r), pick(&mut r)])),
                    _ => cmp(Op::HasAll, Literal::List(vec![pick(&mut r)])),
                }
            }
        }
    })
}

/// A well-typed rule over registry fields.
pub(crate) fn typed_expr() -> impl Strategy<Value = Expr> {
    typed_leaf().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::Or),
            inner.prop_map(|e| Expr::Not(Box::new(e))),
        ]
    })
}

/// A tiny deterministic generator so one proptest seed becomes a whole profile.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo) as u64) as i64
    }
    fn maybe<T>(&mut self, f: impl FnOnce(&mut Rng) -> T) -> Option<T> {
        (self.below(3) != 0).then(|| f(self))
    }
    fn text(&mut self, pool: &[&str]) -> String {
        pool[self.below(pool.len() as u64) as usize].to_string()
    }
}

/// A profile where each fact is missing a third of the time, and values include odd ones
/// (negative numbers, unknown category strings, malformed codes, far dates): evaluation must
/// stay total on unvalidated input.
pub(crate) fn arbitrary_enterprise(seed: u64) -> Enterprise {
    let mut r = Rng(seed | 1);
    let r = &mut r;
    let odd_num = |r: &mut Rng| {
        if r.below(10) == 0 {
            r.range(i64::MIN / 2, i64::MAX / 2)
        } else {
            r.range(-10, 100_000_000)
        }
    };
    let d = |r: &mut Rng| {
        NaiveDate::from_ymd_opt(
            r.range(1800, 2100) as i32,
            1 + r.below(12) as u32,
            1 + r.below(28) as u32,
        )
        .unwrap()
    };
    let b = |r: &mut Rng| r.below(2) == 0;
    let regions = [
        "330106", "3301", "330000", "440305", "11", "x", "", "999999",
    ];
    let industries = ["C3911", "C", "F", "K70", "I65", "Z99", "", "F52"];
    let grades = ["A", "B", "M", "C", "D", "E", ""];
    Enterprise {
        id: format!("E{seed}"),
        credit_code: "913301060000000013".into(),
        name: "测试企业".into(),
        registration: Registration {
            region: r.maybe(|r| r.text(&regions)),
            industry: r.maybe(|r| r.text(&industries)),
            established: r.maybe(d),
            registered_capital: r.maybe(odd_num),
            entity_type: r.maybe(|r| r.text(&["有限责任公司", "个体工商户", "未知类型"])),
            status: r.maybe(|r| r.text(&["存续", "吊销"])),
        },
        scale: Scale {
            employees: r.maybe(odd_num),
            revenue: r.maybe(odd_num),
            total_assets: r.maybe(odd_num),
            debt_ratio_bp: r.maybe(odd_num),
            net_profit: r.maybe(odd_num),
        },
        tax: TaxInfo {
            credit_grade: r.maybe(|r| r.text(&grades)),
            paid_last_year: r.maybe(odd_num),
            filing_years: r.maybe(odd_num),
            arrears: r.maybe(b),
        },
        judicial: Judicial {
            dishonest: r.maybe(b),
            enforcement_cases: r.maybe(odd_num),
            major_penalty_3y: r.maybe(b),
            abnormal_operation: r.maybe(b),
        },
        social_insurance: SocialInsurance {
            insured_employees: r.maybe(odd_num),
            arrears: r.maybe(b),
        },
        ip: IntellectualProperty {
            invention_patents: r.maybe(odd_num),
            other_patents: r.maybe(odd_num),
            trademarks: r.maybe(odd_num),
            software_copyrights: r.maybe(odd_num),
        },
        real_estate: RealEstate {
            owns_property: r.maybe(b),
            property_value: r.maybe(odd_num),
        },
        tech: Technology {
            high_tech: r.maybe(b),
            tech_sme: r.maybe(b),
            specialized_level: r.maybe(|r| r.text(&["无", "专精特新小巨人", "??"])),
            rd_expense: r.maybe(odd_num),
            rd_ratio_bp: r.maybe(odd_num),
            qualifications: r.maybe(|r| {
                (0..r.below(3))
                    .map(|_| r.text(&["ISO9001", "高新技术企业", ""]))
                    .collect()
            }),
        },
        trade: Trade {
            import_export: r.maybe(b),
            export_value: r.maybe(odd_num),
            customs_grade: r.maybe(|r| r.text(&["高级认证", "失信"])),
        },
        environment: Environment {
            credit_rating: r.maybe(|r| r.text(&["绿牌", "黑牌"])),
            green_certified: r.maybe(b),
        },
        utilities: Utilities {
            months_paid_on_time: r.maybe(odd_num),
            arrears_12m: r.maybe(b),
        },
        agriculture: Agriculture {
            entity_type: r.maybe(|r| r.text(&["家庭农场", "无"])),
            demonstration_level: r.maybe(|r| r.text(&["省级"])),
            land_mu: r.maybe(odd_num),
        },
        public_resource: PublicResource {
            bids_won_3y: r.maybe(odd_num),
            bid_value_3y: r.maybe(odd_num),
        },
        credit: CreditHistory {
            has_bank_loan: r.maybe(b),
            overdue_now: r.maybe(b),
            overdue_count_24m: r.maybe(odd_num),
            outstanding_loans: r.maybe(odd_num),
        },
        legal_rep: r.maybe(|r| LegalRepresentative {
            name: "张某".into(),
            id_number: None,
            phone: None,
            marital_status: r.maybe(|r| r.text(&["已婚", "未婚"])),
            age: r.maybe(odd_num),
        }),
        shareholders: r.maybe(|r| {
            (0..r.below(4))
                .map(|i| Shareholder {
                    name: format!("股东{i}"),
                    kind: None,
                    share_bp: None,
                })
                .collect()
        }),
        business_scope: r.maybe(|_| "软件开发".to_string()),
        tags: r.maybe(|r| {
            (0..r.below(3))
                .map(|_| r.text(&["外贸", "链主配套"]))
                .collect()
        }),
        need: r.maybe(|r| FinancingNeed {
            amount: r.maybe(odd_num),
            term_months: r.maybe(odd_num),
            purpose: r.maybe(|r| r.text(&["流动资金", "其他"])),
            guarantee_types: if b(r) {
                vec![GuaranteeType::Credit, GuaranteeType::Mortgage]
            } else {
                vec![]
            },
            max_rate_bp: r.maybe(odd_num),
            text: None,
        }),
        consents: vec![],
    }
}

// ---------------------------------------------------------------------------------------------
// Generators for reverse matching: well-typed rules over the rule-usable fields (no personal
// text), with literals drawn from the same small pools as the profiles, so that equalities,
// boundaries, code prefixes and date anniversaries are actually hit.

/// Numbers used both in profiles and in rule literals (with ±1 around them in rules).
const NUMS: [i64; 18] = [
    i64::MIN,
    -1_000_000,
    -5,
    -1,
    0,
    1,
    2,
    3,
    5,
    10,
    20,
    100,
    1_000,
    10_000,
    50_000,
    1_000_000,
    30_000_000,
    i64::MAX,
];

/// Region codes that rules may name (all in the GB/T 2260 table).
pub(crate) const RULE_REGIONS: [&str; 12] = [
    "33", "3301", "330106", "330108", "3302", "44", "4403", "440305", "11", "1101", "110105", "51",
];
/// Industry codes that rules may name (all in the GB/T 4754 table).
pub(crate) const RULE_INDUSTRIES: [&str; 11] = [
    "C", "C39", "C391", "C3911", "C34", "F", "F52", "I65", "I6513", "A01", "K70",
];
/// Labels of the free label sets (tags, qualifications).
const LABELS: [&str; 6] = ["外贸", "链主配套", "ISO9001", "高新技术企业", "老字号", ""];

/// Dates around `as_of`: exact anniversaries and the days next to them, month ends, leap days,
/// past and future, and the ends of the calendar.
pub(crate) fn date_near(r: &mut Rng, as_of: NaiveDate) -> NaiveDate {
    use chrono::{Datelike, Days, Months};
    let shift = |d: NaiveDate, days: i64| {
        if days >= 0 {
            d.checked_add_days(Days::new(days as u64))
        } else {
            d.checked_sub_days(Days::new(days.unsigned_abs()))
        }
        .unwrap_or(d)
    };
    match r.below(8) {
        0 => {
            let months = Months::new(r.below(120) as u32);
            let d = if r.below(3) == 0 {
                as_of.checked_add_months(months)
            } else {
                as_of.checked_sub_months(months)
            }
            .unwrap_or(as_of);
            shift(d, r.range(-1, 2))
        }
        1 => {
            let y = as_of.year() + r.range(-8, 4) as i32;
            let leap = if y % 4 == 0 { y } else { y - y.rem_euclid(4) };
            NaiveDate::from_ymd_opt(leap, 2, 29).unwrap_or(as_of)
        }
        2 => {
            // A month end.
            let first = NaiveDate::from_ymd_opt(
                as_of.year() + r.range(-5, 3) as i32,
                1 + r.below(12) as u32,
                1,
            )
            .unwrap();
            first
                .checked_add_months(Months::new(1))
                .and_then(|d| d.pred_opt())
                .unwrap_or(first)
        }
        3 => [
            NaiveDate::MIN,
            NaiveDate::MAX,
            NaiveDate::from_ymd_opt(1, 1, 1).unwrap(),
        ][r.below(3) as usize],
        _ => shift(as_of, r.range(-3_000, 1_200)),
    }
}

fn pooled_num(r: &mut Rng) -> i64 {
    NUMS[r.below(NUMS.len() as u64) as usize]
}

/// The values of an enum field of the registry.
fn enum_values(name: &str) -> &'static [&'static str] {
    match FIELDS.iter().find(|f| f.name == name).map(|f| f.ty) {
        Some(FieldType::Enum(values)) => values,
        _ => panic!("{name} is not an enum field"),
    }
}

/// A well-typed leaf over a rule-usable field, with literals from the shared pools.
fn reach_leaf(field: usize, seed: u64, as_of: NaiveDate) -> Expr {
    let f = &FIELDS[field];
    let mut r = Rng(seed | 1);
    let r = &mut r;
    let name = f.name.to_string();
    let cmp = |func, op, value| {
        Expr::Cmp(Cmp {
            func,
            field: name.clone(),
            op,
            value,
        })
    };
    let ord = |r: &mut Rng| [Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge][r.below(6) as usize];
    let in_op = |r: &mut Rng| if r.below(2) == 0 { Op::In } else { Op::NotIn };
    let list = |r: &mut Rng, item: &dyn Fn(&mut Rng) -> Literal| {
        Literal::List((0..1 + r.below(3)).map(|_| item(r)).collect())
    };
    let pick = |r: &mut Rng, pool: &[&str]| {
        Literal::Str(pool[r.below(pool.len() as u64) as usize].to_string())
    };
    match f.ty {
        FieldType::Bool => match r.below(4) {
            0 => Expr::Flag(name.clone()),
            1 => cmp(None, Op::Ne, Literal::Bool(r.below(2) == 0)),
            _ => cmp(None, Op::Eq, Literal::Bool(r.below(2) == 0)),
        },
        FieldType::Int | FieldType::Money | FieldType::Percent => {
            let unit = if f.ty == FieldType::Percent {
                Unit::Percent
            } else {
                Unit::None
            };
            let num = move |r: &mut Rng| {
                let v = pooled_num(r).saturating_add(r.range(-1, 2));
                Literal::Num(Num { value: v, unit })
            };
            if r.below(4) == 0 {
                let op = in_op(r);
                cmp(None, op, list(r, &num))
            } else {
                let op = ord(r);
                let v = num(r);
                cmp(None, op, v)
            }
        }
        FieldType::Date => {
            let func = if r.below(2) == 0 {
                Func::YearsSince
            } else {
                Func::MonthsSince
            };
            let span = if func == Func::YearsSince {
                (-3, 10)
            } else {
                (-30, 121)
            };
            let n = move |r: &mut Rng| Literal::Num(Num::plain(r.range(span.0, span.1)));
            match r.below(4) {
                0 => {
                    let op = ord(r);
                    cmp(None, op, Literal::Date(date_near(r, as_of)))
                }
                1 => {
                    let op = in_op(r);
                    cmp(Some(func), op, list(r, &n))
                }
                _ => {
                    let op = ord(r);
                    let v = n(r);
                    cmp(Some(func), op, v)
                }
            }
        }
        FieldType::Enum(values) => {
            let item = move |r: &mut Rng| pick(r, values);
            match r.below(3) {
                0 => {
                    let op = if r.below(2) == 0 { Op::Eq } else { Op::Ne };
                    cmp(None, op, item(r))
                }
                _ => {
                    let op = in_op(r);
                    cmp(None, op, list(r, &item))
                }
            }
        }
        FieldType::Region | FieldType::Industry => {
            let pool: &'static [&'static str] = if f.ty == FieldType::Region {
                &RULE_REGIONS
            } else {
                &RULE_INDUSTRIES
            };
            let item = move |r: &mut Rng| pick(r, pool);
            match r.below(5) {
                0 => {
                    let op = if r.below(2) == 0 { Op::Eq } else { Op::Ne };
                    cmp(None, op, item(r))
                }
                1 => {
                    let op = in_op(r);
                    cmp(None, op, list(r, &item))
                }
                2 => cmp(None, Op::Under, list(r, &item)),
                _ => cmp(None, Op::Under, item(r)),
            }
        }
        FieldType::Set(allowed) => {
            let pool: &'static [&'static str] = allowed.unwrap_or(&LABELS);
            let item = move |r: &mut Rng| pick(r, pool);
            match r.below(3) {
                0 => cmp(None, Op::Has, item(r)),
                1 => cmp(None, Op::HasAny, list(r, &item)),
                _ => cmp(None, Op::HasAll, list(r, &item)),
            }
        }
        FieldType::Text => unreachable!("personal text is filtered out"),
    }
}

/// A well-typed rule over the fields reverse matching can use: `and`, `or`, `not` (also
/// doubled), constants, and leaves of every kind, with dates around `as_of`.
pub(crate) fn reach_expr(as_of: NaiveDate) -> impl Strategy<Value = Expr> {
    let usable: Vec<usize> = (0..FIELDS.len())
        .filter(|&i| FIELDS[i].ty != FieldType::Text)
        .collect();
    let leaf = prop_oneof![
        20 => (prop::sample::select(usable), any::<u64>())
            .prop_map(move |(i, seed)| reach_leaf(i, seed, as_of)),
        1 => any::<bool>().prop_map(Expr::Const),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..5).prop_map(Expr::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::Or),
            inner.prop_map(|e| Expr::Not(Box::new(e))),
        ]
    })
}

/// A profile whose facts (each missing a third of the time) come from the pools the rules use:
/// valid and malformed codes, six-digit forms of province and city codes, dates around `as_of`,
/// extreme and negative numbers, enum values plus unknown strings, labels including "".
pub(crate) fn pooled_enterprise(seed: u64, as_of: NaiveDate) -> Enterprise {
    let mut r = Rng(seed | 1);
    let r = &mut r;
    let regions: Vec<&str> = RULE_REGIONS
        .iter()
        .copied()
        .chain([
            "330000", "330100", "440300", "110000", "33010", "x", "", "999999", "3301001",
        ])
        .collect();
    let industries: Vec<&str> = RULE_INDUSTRIES
        .iter()
        .copied()
        .chain(["Z99", "", "c39", "C3", "F5"])
        .collect();
    let category = |r: &mut Rng, name: &str| {
        let values = enum_values(name);
        match r.below(8) {
            0 => "未知".to_string(),
            1 => String::new(),
            _ => values[r.below(values.len() as u64) as usize].to_string(),
        }
    };
    let num = |r: &mut Rng| pooled_num(r);
    let b = |r: &mut Rng| r.below(2) == 0;
    let labels =
        |r: &mut Rng| -> Vec<String> { (0..r.below(4)).map(|_| r.text(&LABELS)).collect() };
    Enterprise {
        id: format!("P{seed:016x}"),
        credit_code: "913301060000000013".into(),
        name: "测试企业".into(),
        registration: Registration {
            region: r.maybe(|r| r.text(&regions)),
            industry: r.maybe(|r| r.text(&industries)),
            established: r.maybe(|r| date_near(r, as_of)),
            registered_capital: r.maybe(num),
            entity_type: r.maybe(|r| category(r, "entity_type")),
            status: r.maybe(|r| category(r, "reg_status")),
        },
        scale: Scale {
            employees: r.maybe(num),
            revenue: r.maybe(num),
            total_assets: r.maybe(num),
            debt_ratio_bp: r.maybe(num),
            net_profit: r.maybe(num),
        },
        tax: TaxInfo {
            credit_grade: r.maybe(|r| category(r, "tax_grade")),
            paid_last_year: r.maybe(num),
            filing_years: r.maybe(num),
            arrears: r.maybe(b),
        },
        judicial: Judicial {
            dishonest: r.maybe(b),
            enforcement_cases: r.maybe(num),
            major_penalty_3y: r.maybe(b),
            abnormal_operation: r.maybe(b),
        },
        social_insurance: SocialInsurance {
            insured_employees: r.maybe(num),
            arrears: r.maybe(b),
        },
        ip: IntellectualProperty {
            invention_patents: r.maybe(num),
            other_patents: r.maybe(num),
            trademarks: r.maybe(num),
            software_copyrights: r.maybe(num),
        },
        real_estate: RealEstate {
            owns_property: r.maybe(b),
            property_value: r.maybe(num),
        },
        tech: Technology {
            high_tech: r.maybe(b),
            tech_sme: r.maybe(b),
            specialized_level: r.maybe(|r| category(r, "specialized_level")),
            rd_expense: r.maybe(num),
            rd_ratio_bp: r.maybe(num),
            qualifications: r.maybe(labels),
        },
        trade: Trade {
            import_export: r.maybe(b),
            export_value: r.maybe(num),
            customs_grade: r.maybe(|r| category(r, "customs_grade")),
        },
        environment: Environment {
            credit_rating: r.maybe(|r| category(r, "env_rating")),
            green_certified: r.maybe(b),
        },
        utilities: Utilities {
            months_paid_on_time: r.maybe(num),
            arrears_12m: r.maybe(b),
        },
        agriculture: Agriculture {
            entity_type: r.maybe(|r| category(r, "agri_entity_type")),
            demonstration_level: r.maybe(|r| category(r, "agri_demo_level")),
            land_mu: r.maybe(num),
        },
        public_resource: PublicResource {
            bids_won_3y: r.maybe(num),
            bid_value_3y: r.maybe(num),
        },
        credit: CreditHistory {
            has_bank_loan: r.maybe(b),
            overdue_now: r.maybe(b),
            overdue_count_24m: r.maybe(num),
            outstanding_loans: r.maybe(num),
        },
        legal_rep: r.maybe(|r| LegalRepresentative {
            name: "张某".into(),
            id_number: None,
            phone: Some("13800000000".into()),
            marital_status: r.maybe(|r| category(r, "legal_rep_marital")),
            age: r.maybe(num),
        }),
        shareholders: r.maybe(|r| {
            (0..r.below(4))
                .map(|i| Shareholder {
                    name: format!("股东{i}"),
                    kind: None,
                    share_bp: None,
                })
                .collect()
        }),
        business_scope: None,
        tags: r.maybe(labels),
        need: r.maybe(|r| FinancingNeed {
            amount: r.maybe(num),
            term_months: r.maybe(num),
            purpose: r.maybe(|r| category(r, "need_purpose")),
            guarantee_types: GuaranteeType::ALL
                .iter()
                .copied()
                .filter(|_| r.below(3) == 0)
                .collect(),
            max_rate_bp: r.maybe(num),
            text: None,
        }),
        consents: vec![],
    }
}
