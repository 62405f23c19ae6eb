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
