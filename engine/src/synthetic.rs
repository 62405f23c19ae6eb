//! A deterministic generator of realistic synthetic enterprises, for tests and benchmarks.
//!
//! Enterprise `i` of seed `s` depends only on `(s, i)`, so any slice of a large set can be made
//! on its own (in parallel, or streamed) and the same call always gives the same profile.
//! Distributions follow the shape of China's SME population: mostly 微型 and 小型 firms in
//! retail, wholesale, manufacturing and services, concentrated in the coastal provinces, with
//! profiles that are incomplete the way real platform data is (public registration data is
//! always there; tax, social-insurance or credit data only for some).

use std::sync::OnceLock;

use chrono::NaiveDate;

use crate::codes::{CreditCode, credit_code, region};
use crate::fields::Category;
use crate::model::*;

/// SplitMix64: tiny, fast, and stable across platforms and releases.
#[derive(Debug, Clone)]
pub struct SplitMix(u64);

impl SplitMix {
    pub fn new(seed: u64) -> SplitMix {
        SplitMix(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Picks by weight from `(item, weight)` pairs.
    pub fn weighted<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let total: u32 = items.iter().map(|(_, w)| w).sum();
        let mut x = self.below(u64::from(total)) as u32;
        for (item, w) in items {
            if x < *w {
                return item;
            }
            x -= w;
        }
        &items[items.len() - 1].0
    }

    /// Log-normal with the given median and spread (σ of the log).
    pub fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        // Box–Muller.
        let u1 = self.unit().max(1e-12);
        let u2 = self.unit();
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        median * (sigma * z).exp()
    }
}

/// Province shares of the SME population (roughly by number of market entities).
const PROVINCES: &[(&str, u32)] = &[
    ("44", 140),
    ("32", 120),
    ("33", 110),
    ("37", 85),
    ("41", 55),
    ("51", 55),
    ("42", 45),
    ("34", 45),
    ("35", 45),
    ("43", 40),
    ("31", 40),
    ("11", 35),
    ("61", 28),
    ("53", 22),
    ("50", 25),
    ("12", 15),
    ("23", 15),
];

/// An industry of the generator: code, share, median employees, median revenue per employee
/// (yuan), name words and business-scope text.
struct IndustryProfile {
    code: &'static str,
    weight: u32,
    median_employees: f64,
    revenue_per_employee: f64,
    words: &'static [&'static str],
    scope: &'static str,
    purposes: &'static [&'static str],
}

const INDUSTRIES: &[IndustryProfile] = &[
    IndustryProfile {
        code: "F52",
        weight: 190,
        median_employees: 5.0,
        revenue_per_employee: 350_000.0,
        words: &["商贸", "百货", "便利店", "超市", "服饰"],
        scope: "日用百货、服装鞋帽、食品销售（仅销售预包装食品）；家用电器销售；互联网销售（除销售需要许可的商品）",
        purposes: &["流动资金", "订单生产"],
    },
    IndustryProfile {
        code: "F51",
        weight: 140,
        median_employees: 8.0,
        revenue_per_employee: 1_200_000.0,
        words: &["贸易", "供应链", "商贸", "实业"],
        scope: "金属材料、建筑材料、五金产品、化工产品（不含许可类化工产品）批发；货物进出口；技术进出口",
        purposes: &["流动资金", "外贸结算"],
    },
    IndustryProfile {
        code: "C33",
        weight: 35,
        median_employees: 30.0,
        revenue_per_employee: 450_000.0,
        words: &["五金", "金属制品", "精密"],
        scope: "金属结构制造；五金产品制造；金属表面处理及热处理加工；模具制造",
        purposes: &["设备购置", "流动资金"],
    },
    IndustryProfile {
        code: "C34",
        weight: 30,
        median_employees: 35.0,
        revenue_per_employee: 500_000.0,
        words: &["机械", "装备", "智能装备"],
        scope: "通用设备制造（不含特种设备制造）；机械零部件加工；泵及真空设备制造；液压动力机械及元件制造",
        purposes: &["设备购置", "研发投入"],
    },
    IndustryProfile {
        code: "C35",
        weight: 25,
        median_employees: 35.0,
        revenue_per_employee: 500_000.0,
        words: &["自动化", "专用设备", "智能科技"],
        scope: "专用设备制造（不含许可类专业设备制造）；工业自动控制系统装置制造；环境保护专用设备制造",
        purposes: &["设备购置", "研发投入"],
    },
    IndustryProfile {
        code: "C38",
        weight: 25,
        median_employees: 40.0,
        revenue_per_employee: 550_000.0,
        words: &["电气", "电器", "新能源"],
        scope: "电机及其控制系统研发；配电开关控制设备制造；光伏设备及元器件制造；电池零配件生产",
        purposes: &["设备购置", "订单生产"],
    },
    IndustryProfile {
        code: "C39",
        weight: 30,
        median_employees: 45.0,
        revenue_per_employee: 600_000.0,
        words: &["电子", "微电子", "光电", "智能科技"],
        scope: "电子元器件制造；集成电路芯片及产品销售；通信设备制造；计算机软硬件及外围设备制造",
        purposes: &["研发投入", "订单生产"],
    },
    IndustryProfile {
        code: "C13",
        weight: 15,
        median_employees: 20.0,
        revenue_per_employee: 700_000.0,
        words: &["食品", "粮油", "农产品加工"],
        scope: "粮食加工食品生产；食用农产品初加工；农副产品销售",
        purposes: &["流动资金", "农业生产"],
    },
    IndustryProfile {
        code: "C18",
        weight: 20,
        median_employees: 40.0,
        revenue_per_employee: 250_000.0,
        words: &["服饰", "制衣", "纺织"],
        scope: "服装制造；服饰制造；针纺织品及原料销售；面料印染加工",
        purposes: &["订单生产", "流动资金"],
    },
    IndustryProfile {
        code: "C29",
        weight: 15,
        median_employees: 30.0,
        revenue_per_employee: 450_000.0,
        words: &["塑胶", "橡塑", "新材料"],
        scope: "塑料制品制造；橡胶制品制造；工程塑料及合成树脂销售",
        purposes: &["设备购置", "流动资金"],
    },
    IndustryProfile {
        code: "I65",
        weight: 60,
        median_employees: 15.0,
        revenue_per_employee: 350_000.0,
        words: &["信息技术", "软件", "数字科技", "网络科技"],
        scope: "软件开发；信息系统集成服务；人工智能应用软件开发；数据处理和存储支持服务；信息技术咨询服务",
        purposes: &["研发投入", "流动资金"],
    },
    IndustryProfile {
        code: "I64",
        weight: 20,
        median_employees: 10.0,
        revenue_per_employee: 400_000.0,
        words: &["网络科技", "互联网", "信息科技"],
        scope: "互联网信息服务；互联网数据服务；网络技术服务；网络与信息安全软件开发",
        purposes: &["研发投入", "流动资金"],
    },
    IndustryProfile {
        code: "E48",
        weight: 25,
        median_employees: 25.0,
        revenue_per_employee: 600_000.0,
        words: &["建设工程", "市政工程", "建筑"],
        scope: "建设工程施工；市政设施管理；园林绿化工程施工；土石方工程施工",
        purposes: &["流动资金", "订单生产"],
    },
    IndustryProfile {
        code: "E50",
        weight: 25,
        median_employees: 12.0,
        revenue_per_employee: 400_000.0,
        words: &["装饰工程", "建筑装饰", "装修"],
        scope: "住宅室内装饰装修；建筑装饰材料销售；门窗安装；家具安装和维修服务",
        purposes: &["流动资金"],
    },
    IndustryProfile {
        code: "G54",
        weight: 35,
        median_employees: 12.0,
        revenue_per_employee: 400_000.0,
        words: &["物流", "运输", "货运"],
        scope: "道路货物运输（不含危险货物）；国内货物运输代理；装卸搬运；普通货物仓储服务",
        purposes: &["设备购置", "流动资金"],
    },
    IndustryProfile {
        code: "G59",
        weight: 10,
        median_employees: 15.0,
        revenue_per_employee: 300_000.0,
        words: &["仓储", "供应链管理"],
        scope: "普通货物仓储服务（不含危险化学品等需许可审批的项目）；低温仓储；装卸搬运",
        purposes: &["厂房建设", "流动资金"],
    },
    IndustryProfile {
        code: "H62",
        weight: 60,
        median_employees: 8.0,
        revenue_per_employee: 150_000.0,
        words: &["餐饮", "餐饮管理", "食府"],
        scope: "餐饮服务；食品销售；餐饮管理；外卖递送服务",
        purposes: &["流动资金", "设备购置"],
    },
    IndustryProfile {
        code: "H61",
        weight: 10,
        median_employees: 10.0,
        revenue_per_employee: 180_000.0,
        words: &["酒店管理", "民宿"],
        scope: "住宿服务；酒店管理；会议及展览服务；停车场服务",
        purposes: &["流动资金", "厂房建设"],
    },
    IndustryProfile {
        code: "L72",
        weight: 80,
        median_employees: 8.0,
        revenue_per_employee: 300_000.0,
        words: &["企业管理", "商务咨询", "文化传媒", "人力资源"],
        scope: "企业管理咨询；市场营销策划；会议及展览服务；广告设计、代理；人力资源服务（不含职业中介活动）",
        purposes: &["流动资金"],
    },
    IndustryProfile {
        code: "M73",
        weight: 15,
        median_employees: 12.0,
        revenue_per_employee: 400_000.0,
        words: &["生物科技", "新材料科技", "检测技术"],
        scope: "技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广；生物化工产品技术研发；新材料技术研发",
        purposes: &["研发投入"],
    },
    IndustryProfile {
        code: "M75",
        weight: 20,
        median_employees: 8.0,
        revenue_per_employee: 300_000.0,
        words: &["科技发展", "环保科技", "节能科技"],
        scope: "节能管理服务；技术推广服务；环保咨询服务；科技中介服务",
        purposes: &["研发投入", "流动资金"],
    },
    IndustryProfile {
        code: "A01",
        weight: 25,
        median_employees: 6.0,
        revenue_per_employee: 150_000.0,
        words: &["农业科技", "种植", "生态农业"],
        scope: "谷物种植；蔬菜种植；水果种植；农产品的生产、销售、加工、运输、贮藏及其他相关服务",
        purposes: &["农业生产", "设备购置"],
    },
    IndustryProfile {
        code: "A03",
        weight: 15,
        median_employees: 6.0,
        revenue_per_employee: 250_000.0,
        words: &["养殖", "畜牧", "生态养殖"],
        scope: "牲畜饲养；家禽饲养；水产养殖；饲料销售",
        purposes: &["农业生产"],
    },
    IndustryProfile {
        code: "O80",
        weight: 30,
        median_employees: 5.0,
        revenue_per_employee: 120_000.0,
        words: &["家政服务", "美容美发", "洗衣"],
        scope: "家政服务；洗染服务；理发服务；养生保健服务（非医疗）",
        purposes: &["流动资金"],
    },
    IndustryProfile {
        code: "K70",
        weight: 10,
        median_employees: 20.0,
        revenue_per_employee: 300_000.0,
        words: &["物业服务", "物业管理"],
        scope: "物业管理；停车场服务；家政服务；园林绿化工程施工",
        purposes: &["流动资金"],
    },
];

const NAME_CORES: &[&str] = &[
    "瀚", "星", "辰", "锦", "禾", "华", "润", "泽", "宏", "盛", "鑫", "嘉", "源", "恒", "晟", "昊",
    "腾", "越", "卓", "远", "诚", "信", "达", "通", "汇", "融", "安", "康", "立", "鼎", "博", "睿",
    "智", "众", "乐", "新", "优", "美", "联", "创",
];
const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "罗", "高",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超",
    "秀英", "建华", "志强", "晓东", "海燕", "国庆", "丽娟",
];
const QUALIFICATIONS: &[&str] = &[
    "ISO9001",
    "ISO14001",
    "知识产权管理体系认证",
    "安全生产标准化三级",
    "CMMI3",
    "建筑业企业资质",
    "食品经营许可证",
];
const TAGS: &[&str] = &[
    "外贸",
    "链主配套",
    "跨境电商",
    "首次融资",
    "老字号",
    "连锁经营",
    "返乡创业",
    "退役军人创业",
];
const GRADES: &[(&str, u32)] = &[("A", 25), ("B", 45), ("M", 20), ("C", 7), ("D", 3)];

fn county_codes() -> &'static Vec<(String, Vec<String>)> {
    static CODES: OnceLock<Vec<(String, Vec<String>)>> = OnceLock::new();
    CODES.get_or_init(|| {
        let all = region::all();
        PROVINCES
            .iter()
            .map(|(p, _)| {
                let counties: Vec<String> = all
                    .iter()
                    .filter(|(code, _)| code.len() == 6 && code.starts_with(p))
                    .map(|(code, _)| code.clone())
                    .collect();
                (p.to_string(), counties)
            })
            .collect()
    })
}

/// The `index`-th enterprise of the set `seed`.
pub fn enterprise(seed: u64, index: u64) -> Enterprise {
    let mut r = SplitMix::new(seed ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03));
    r.next_u64();

    let province = r.weighted(PROVINCES);
    let counties = &county_codes()
        .iter()
        .find(|(p, _)| p == province)
        .expect("province listed")
        .1;
    let region_code = if counties.is_empty() {
        format!("{province}0000")
    } else {
        r.pick(counties).clone()
    };
    let weights: Vec<(usize, u32)> = INDUSTRIES
        .iter()
        .enumerate()
        .map(|(i, p)| (i, p.weight))
        .collect();
    let ind = &INDUSTRIES[*r.weighted(&weights)];
    let sole_trader = matches!(ind.code, "F52" | "H62" | "O80") && r.chance(0.3);
    let cooperative = ind.code.starts_with('A') && r.chance(0.35);

    // Size: log-normal employees around the industry median, revenue from productivity.
    let employees = r.lognormal(ind.median_employees, 0.9).round().max(1.0) as i64;
    let employees = if sole_trader {
        employees.min(8)
    } else {
        employees
    };
    let revenue =
        (employees as f64 * r.lognormal(ind.revenue_per_employee, 0.6)) as i64 / 1000 * 1000;
    let assets = (revenue as f64 * r.lognormal(0.8, 0.5)) as i64 / 1000 * 1000;
    let year = 2026 - (r.lognormal(6.0, 0.8) as i32).min(30);
    let established = NaiveDate::from_ymd_opt(year, 1 + r.below(12) as u32, 1 + r.below(28) as u32)
        .expect("valid date");
    let age = 2026 - year;

    let place = region::name(&region_code)
        .unwrap_or("")
        .trim_end_matches(['区', '县', '市'])
        .to_string();
    let core = format!("{}{}", r.pick(NAME_CORES), r.pick(NAME_CORES));
    let word = r.pick(ind.words);
    let (name, entity_type, category) = if sole_trader {
        let owner = r.pick(SURNAMES);
        let shop = if word.ends_with('店') { "" } else { "店" };
        (format!("{place}{owner}记{word}{shop}"), "个体工商户", '2')
    } else if cooperative {
        (
            format!("{place}{core}{word}专业合作社"),
            "农民专业合作社",
            '3',
        )
    } else {
        let short = region::city_name(&region_code)
            .unwrap_or(&place)
            .trim_end_matches('市')
            .to_string();
        (format!("{short}{core}{word}有限公司"), "有限责任公司", '1')
    };

    let credit_code = make_credit_code(seed, index, category, &region_code);
    let high_tech_industry = matches!(
        ind.code,
        "C34" | "C35" | "C38" | "C39" | "I65" | "I64" | "M73" | "M75"
    );
    let rd_ratio_bp = (high_tech_industry && r.chance(0.7)).then(|| r.lognormal(450.0, 0.6) as i64);
    let high_tech = high_tech_industry && age >= 2 && employees >= 10 && r.chance(0.25);

    let mut e = Enterprise {
        id: format!("SYN{seed:X}-{index:07}"),
        credit_code,
        name,
        registration: Registration {
            region: Some(region_code),
            industry: Some(ind.code.to_string()),
            established: Some(established),
            registered_capital: Some(*r.pick(&[
                100_000, 500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000, 30_000_000,
            ])),
            entity_type: Some(entity_type.into()),
            status: Some(if r.chance(0.97) { "存续" } else { "吊销" }.into()),
        },
        business_scope: Some(ind.scope.to_string()),
        ..Default::default()
    };
    // Size figures: most firms report employees; fewer share revenue and assets.
    if r.chance(0.85) {
        e.scale.employees = Some(employees);
    }
    if r.chance(0.65) {
        e.scale.revenue = Some(revenue);
        e.scale.net_profit = Some((revenue as f64 * (r.unit() * 0.2 - 0.05)) as i64);
    }
    if r.chance(0.5) {
        e.scale.total_assets = Some(assets);
        e.scale.debt_ratio_bp = Some(r.below(8000) as i64 + 500);
    }
    if r.chance(0.7) {
        e.tax = TaxInfo {
            credit_grade: Some(r.weighted(GRADES).to_string()),
            paid_last_year: Some(revenue / 100 * (2 + r.below(5) as i64)),
            filing_years: Some(age.min(1 + r.below(age.max(1) as u64 + 1) as i32) as i64),
            arrears: Some(r.chance(0.04)),
        };
    }
    if r.chance(0.9) {
        let dishonest = r.chance(0.02);
        e.judicial = Judicial {
            dishonest: Some(dishonest),
            enforcement_cases: Some(if dishonest || r.chance(0.05) {
                1 + r.below(3) as i64
            } else {
                0
            }),
            major_penalty_3y: Some(r.chance(0.03)),
            abnormal_operation: Some(r.chance(0.04)),
        };
    }
    if r.chance(0.6) {
        e.social_insurance = SocialInsurance {
            insured_employees: Some((employees as f64 * (0.6 + r.unit() * 0.4)) as i64),
            arrears: Some(r.chance(0.05)),
        };
    }
    if high_tech_industry || r.chance(0.2) {
        e.ip = IntellectualProperty {
            invention_patents: Some(if high_tech {
                1 + r.below(8) as i64
            } else {
                r.below(2) as i64
            }),
            other_patents: Some(r.below(15) as i64),
            trademarks: Some(r.below(6) as i64),
            software_copyrights: Some(if ind.code.starts_with('I') {
                r.below(20) as i64
            } else {
                0
            }),
        };
    }
    if r.chance(0.4) {
        let owns = r.chance(0.35);
        e.real_estate = RealEstate {
            owns_property: Some(owns),
            property_value: owns.then(|| (assets as f64 * r.unit() * 0.6) as i64 / 10_000 * 10_000),
        };
    }
    if high_tech_industry || r.chance(0.3) {
        let levels: &[(&str, u32)] = &[
            ("无", 85),
            ("创新型中小企业", 9),
            ("省级专精特新", 5),
            ("专精特新小巨人", 1),
        ];
        e.tech = Technology {
            high_tech: Some(high_tech),
            tech_sme: Some(high_tech_industry && r.chance(0.35)),
            specialized_level: Some(r.weighted(levels).to_string()),
            rd_expense: rd_ratio_bp.map(|bp| revenue / 10_000 * bp),
            rd_ratio_bp,
            qualifications: Some(
                (0..r.below(3))
                    .map(|_| r.pick(QUALIFICATIONS).to_string())
                    .collect(),
            ),
        };
    }
    if matches!(
        ind.code,
        "F51" | "C18" | "C33" | "C34" | "C38" | "C39" | "C29"
    ) && r.chance(0.5)
    {
        let exports = r.chance(0.6);
        e.trade = Trade {
            import_export: Some(exports),
            export_value: exports.then(|| (revenue as f64 * r.unit() * 0.7) as i64),
            customs_grade: exports.then(|| {
                r.weighted(&[("一般信用", 90), ("高级认证", 8), ("失信", 2)])
                    .to_string()
            }),
        };
    }
    if ind.code.starts_with('C') && r.chance(0.4) {
        e.environment = Environment {
            credit_rating: Some(
                r.weighted(&[
                    ("绿牌", 20),
                    ("蓝牌", 55),
                    ("黄牌", 18),
                    ("红牌", 6),
                    ("黑牌", 1),
                ])
                .to_string(),
            ),
            green_certified: Some(r.chance(0.12)),
        };
    }
    if r.chance(0.45) {
        e.utilities = Utilities {
            months_paid_on_time: Some(r.below(60) as i64),
            arrears_12m: Some(r.chance(0.06)),
        };
    }
    if ind.code.starts_with('A') {
        let kinds: &[(&str, u32)] = &[
            ("家庭农场", 40),
            ("农民专业合作社", 30),
            ("农业产业化龙头企业", 5),
            ("农业社会化服务组织", 5),
            ("无", 20),
        ];
        e.agriculture = Agriculture {
            entity_type: Some(if cooperative {
                "农民专业合作社".into()
            } else {
                r.weighted(kinds).to_string()
            }),
            demonstration_level: r
                .chance(0.2)
                .then(|| r.pick(&["国家级", "省级", "市级", "县级"]).to_string()),
            land_mu: Some(r.lognormal(200.0, 1.0) as i64),
        };
    }
    if matches!(ind.code, "E48" | "E50" | "I65" | "L72" | "C35") && r.chance(0.4) {
        let won = r.below(6) as i64;
        e.public_resource = PublicResource {
            bids_won_3y: Some(won),
            bid_value_3y: Some(won * (r.lognormal(800_000.0, 0.8) as i64) / 1000 * 1000),
        };
    }
    if r.chance(0.55) {
        let has_loan = r.chance(0.6);
        e.credit = CreditHistory {
            has_bank_loan: Some(has_loan),
            overdue_now: Some(has_loan && r.chance(0.03)),
            overdue_count_24m: Some(if has_loan && r.chance(0.1) {
                1 + r.below(4) as i64
            } else {
                0
            }),
            outstanding_loans: Some(if has_loan {
                (revenue as f64 * r.unit() * 0.3) as i64 / 10_000 * 10_000
            } else {
                0
            }),
        };
    }
    e.legal_rep = Some(LegalRepresentative {
        name: format!("{}{}", r.pick(SURNAMES), r.pick(GIVEN)),
        id_number: Some(fake_id_number(
            &mut r,
            &e.registration.region.clone().unwrap_or_default(),
        )),
        phone: Some(
            format!(
                "1{}{:09}",
                r.pick(&["38", "39", "50", "58", "86", "89"]),
                r.below(1_000_000_000)
            )[..11]
                .to_string(),
        ),
        marital_status: r.chance(0.5).then(|| {
            r.weighted(&[("已婚", 75), ("未婚", 15), ("离异", 8), ("丧偶", 2)])
                .to_string()
        }),
        age: Some(25 + r.below(38) as i64),
    });
    if !sole_trader && r.chance(0.5) {
        let n = 1 + r.below(4) as usize;
        e.shareholders = Some(
            (0..n)
                .map(|i| Shareholder {
                    name: format!("{}{}", r.pick(SURNAMES), r.pick(GIVEN)),
                    kind: Some("自然人".into()),
                    share_bp: Some(if i == 0 {
                        10_000 - (n as i64 - 1) * 1_000
                    } else {
                        1_000
                    }),
                })
                .collect(),
        );
    }
    if r.chance(0.5) {
        e.tags = Some((0..r.below(3)).map(|_| r.pick(TAGS).to_string()).collect());
    }
    if r.chance(0.6) {
        let amount = (r.lognormal(1_000_000.0, 0.9) as i64 / 50_000 * 50_000).max(50_000);
        let guarantees: &[(&[GuaranteeType], u32)] = &[
            (&[GuaranteeType::Credit], 50),
            (&[GuaranteeType::Credit, GuaranteeType::Guarantor], 20),
            (&[GuaranteeType::Mortgage], 15),
            (&[GuaranteeType::Credit, GuaranteeType::Pledge], 10),
            (&[], 5),
        ];
        let purpose = r.pick(ind.purposes).to_string();
        e.need = Some(FinancingNeed {
            amount: Some(amount),
            term_months: Some(*r.pick(&[6, 12, 12, 12, 24, 36, 60])),
            text: Some(need_text(&purpose, amount)),
            purpose: Some(purpose),
            guarantee_types: r.weighted(guarantees).to_vec(),
            max_rate_bp: r.chance(0.6).then(|| 350 + r.below(400) as i64),
        });
    }
    if r.chance(0.4) {
        let cats: &[Category] = &[
            Category::Tax,
            Category::Scale,
            Category::Credit,
            Category::SocialInsurance,
        ];
        e.consents = cats
            .iter()
            .filter(|_| r.chance(0.7))
            .map(|&category| ConsentGrant {
                category,
                grantees: vec![
                    Grantee::Role(Role::Institution),
                    Grantee::Role(Role::Advisor),
                ],
                until: Some(NaiveDate::from_ymd_opt(2027, 12, 31).expect("valid date")),
            })
            .collect();
    }
    e
}

/// `n` enterprises of set `seed`, starting at index 0.
pub fn enterprises(seed: u64, n: u64) -> impl Iterator<Item = Enterprise> {
    (0..n).map(move |i| enterprise(seed, i))
}

/// A credit code unique within the set: the 9-character 主体标识码 encodes the index (a
/// bijection on `0..31^8`), after a seed-dependent offset so that sets differ.
fn make_credit_code(seed: u64, index: u64, category: char, region: &str) -> String {
    let chars: Vec<char> = credit_code::charset().chars().collect();
    let space = 31u64.pow(8);
    let mut v = (index + seed.wrapping_mul(0x9E37_79B9) % space) % space;
    let mut body = String::with_capacity(9);
    body.push('M');
    let mut tail = Vec::with_capacity(8);
    for _ in 0..8 {
        tail.push(chars[(v % 31) as usize]);
        v /= 31;
    }
    body.extend(tail.into_iter().rev());
    let first17 = format!("9{category}{region}{body}");
    CreditCode::complete(&first17)
        .expect("generated code uses the charset")
        .to_string()
}

/// A fictional 18-digit resident ID number (valid shape, not a real person).
fn fake_id_number(r: &mut SplitMix, region: &str) -> String {
    let birth = format!(
        "{}{:02}{:02}",
        1965 + r.below(35),
        1 + r.below(12),
        1 + r.below(28)
    );
    let body = format!("{region:0<6}{birth}{:03}", r.below(1000));
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
        .sum();
    let check = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'][(sum % 11) as usize];
    format!("{body}{check}")
}

fn need_text(purpose: &str, amount: i64) -> String {
    let wan = amount / 10_000;
    match purpose {
        "流动资金" => {
            format!("近期订单增加，缺少短期周转资金，希望融资{wan}万元用于采购原材料和支付货款")
        }
        "设备购置" => format!("计划购置新生产设备扩大产能，资金缺口约{wan}万元"),
        "研发投入" => format!("新产品研发进入中试阶段，需要{wan}万元研发资金"),
        "订单生产" => format!("接到大额订单，需要{wan}万元备货和组织生产"),
        "厂房建设" => format!("租赁仓库到期，计划改扩建厂房，需要资金{wan}万元"),
        "农业生产" => format!("春耕备耕需要购买种苗化肥农机，资金需求{wan}万元"),
        "外贸结算" => format!("出口订单回款周期长，需要{wan}万元资金周转"),
        _ => format!("经营需要资金{wan}万元"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_seed_dependent() {
        assert_eq!(enterprise(7, 42), enterprise(7, 42));
        assert_ne!(enterprise(7, 42), enterprise(8, 42));
        assert_ne!(enterprise(7, 42).credit_code, enterprise(7, 43).credit_code);
    }

    #[test]
    fn generated_codes_validate() {
        for e in enterprises(2026, 500) {
            CreditCode::parse(&e.credit_code).unwrap();
            assert_eq!(
                &e.credit_code[2..8],
                e.registration.region.as_deref().unwrap()
            );
        }
    }
}

/// A product kind with its typical terms: guarantee, amount range (万元), months, annual rate
/// (bp), and the clauses its 准入条件 draws from.
type ProductTemplate = (
    ProductKind,
    GuaranteeType,
    (i64, i64),
    (i64, i64),
    (i64, i64),
    &'static [&'static str],
);

const PRODUCT_TEMPLATES: &[ProductTemplate] = &[
    (
        ProductKind::CreditLoan,
        GuaranteeType::Credit,
        (10, 500),
        (6, 36),
        (300, 600),
        &[
            "years_since(established) >= 2",
            "tax_grade in [\"A\", \"B\"]",
            "not dishonest",
            "not overdue_now",
            "overdue_count_24m <= 3",
            "size in [\"小型\", \"微型\"]",
            "legal_rep_age <= 65",
        ],
    ),
    (
        ProductKind::TaxDataLoan,
        GuaranteeType::Credit,
        (10, 300),
        (6, 12),
        (320, 550),
        &[
            "tax_grade in [\"A\", \"B\"]",
            "tax_filing_years >= 2",
            "tax_paid >= 3万",
            "not tax_arrears",
            "not dishonest",
            "years_since(established) >= 2",
        ],
    ),
    (
        ProductKind::MortgageLoan,
        GuaranteeType::Mortgage,
        (50, 3000),
        (12, 120),
        (280, 450),
        &[
            "owns_property",
            "property_value >= 100万",
            "years_since(established) >= 1",
            "not dishonest",
            "debt_ratio <= 70%",
        ],
    ),
    (
        ProductKind::IpPledge,
        GuaranteeType::Pledge,
        (50, 1000),
        (12, 36),
        (300, 500),
        &[
            "invention_patents >= 1 or other_patents >= 3",
            "high_tech or tech_sme",
            "not dishonest",
            "years_since(established) >= 1",
        ],
    ),
    (
        ProductKind::TechLoan,
        GuaranteeType::Credit,
        (50, 1000),
        (12, 36),
        (300, 480),
        &[
            "high_tech or tech_sme",
            "rd_ratio >= 3%",
            "specialized_level in [\"创新型中小企业\", \"省级专精特新\", \"专精特新小巨人\"]",
            "not dishonest",
            "years_since(established) >= 1",
        ],
    ),
    (
        ProductKind::ProcurementLoan,
        GuaranteeType::Credit,
        (10, 1000),
        (3, 12),
        (330, 520),
        &[
            "bids_won_3y >= 1",
            "bid_value_3y >= 50万",
            "not dishonest",
            "not overdue_now",
        ],
    ),
    (
        ProductKind::TradeLoan,
        GuaranteeType::Credit,
        (50, 2000),
        (3, 12),
        (300, 500),
        &[
            "import_export",
            "export_value >= 200万",
            "customs_grade in [\"高级认证\", \"一般信用\"]",
            "not dishonest",
        ],
    ),
    (
        ProductKind::AgriLoan,
        GuaranteeType::Guarantor,
        (5, 300),
        (6, 36),
        (350, 600),
        &[
            "agri_entity_type in [\"家庭农场\", \"农民专业合作社\", \"农业产业化龙头企业\"]",
            "land_mu >= 50",
            "not dishonest",
            "years_since(established) >= 1",
        ],
    ),
    (
        ProductKind::GreenLoan,
        GuaranteeType::Credit,
        (100, 3000),
        (12, 60),
        (280, 450),
        &[
            "green_certified or env_rating in [\"绿牌\", \"蓝牌\"]",
            "industry under \"C\"",
            "not major_penalty",
            "not dishonest",
        ],
    ),
    (
        ProductKind::SupplyChain,
        GuaranteeType::Credit,
        (10, 1000),
        (3, 12),
        (330, 550),
        &[
            "tags has \"链主配套\"",
            "years_since(established) >= 1",
            "not dishonest",
            "not overdue_now",
        ],
    ),
    (
        ProductKind::GuaranteedLoan,
        GuaranteeType::Guarantor,
        (10, 1000),
        (6, 36),
        (380, 650),
        &[
            "years_since(established) >= 1",
            "not dishonest",
            "size in [\"小型\", \"微型\"]",
            "social_insurance_arrears = false",
        ],
    ),
];

const PROVINCE_CODES: &[&str] = &[
    "11", "31", "32", "33", "34", "35", "37", "41", "42", "43", "44", "50", "51", "61",
];

/// `n` synthetic products of set `seed`: realistic kinds, ranges and 准入条件 built from
/// per-kind clause templates, serving a random province or nationwide.
pub fn products(seed: u64, n: u64) -> Vec<Product> {
    (0..n)
        .map(|i| {
            let mut r = SplitMix::new(seed ^ 0xA11C_E5ED ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let (kind, guarantee, (amin, amax), (tmin, tmax), (rmin, rmax), clauses) =
                PRODUCT_TEMPLATES[r.below(PRODUCT_TEMPLATES.len() as u64) as usize];
            let picked: Vec<&str> = clauses.iter().copied().filter(|_| r.chance(0.6)).collect();
            let rule = if picked.is_empty() {
                "not dishonest".to_string()
            } else {
                picked
                    .iter()
                    .map(|c| {
                        if c.contains(" or ") {
                            format!("({c})")
                        } else {
                            c.to_string()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" and ")
            };
            let regions = if r.chance(0.4) {
                vec![]
            } else {
                vec![r.pick(PROVINCE_CODES).to_string()]
            };
            let bank = format!("BANK-SYN{:02}", r.below(40));
            Product {
                id: format!("SYNP{seed:X}-{i:06}"),
                institution_id: bank.clone(),
                institution: format!("合成银行{}", &bank[8..]),
                institution_kind: InstitutionKind::CityBank,
                name: format!("{}{}号", kind.label(), i),
                kind,
                guarantee: vec![guarantee],
                amount: Range {
                    min: amin * 10_000,
                    max: amax * 10_000,
                },
                term_months: Range {
                    min: tmin,
                    max: tmax,
                },
                rate_bp: Range {
                    min: rmin + r.below(50) as i64,
                    max: rmax,
                },
                regions,
                industries: vec![],
                eligibility: RuleSpec::Text(rule),
                description: format!("面向小微企业的{}产品，线上申请，审批快捷。", kind.label()),
                tags: vec![],
                status: Status::Published,
                version: 1,
                effective_from: NaiveDate::from_ymd_opt(2025, 1, 1).expect("valid date"),
                effective_to: None,
            }
        })
        .collect()
}

/// `n` synthetic policies of set `seed`: typical 申报条件 (region, age, size, tax grade, no
/// dishonesty, a tag or a qualification) with interest, fee or fixed benefits and open windows.
pub fn policies(seed: u64, n: u64) -> Vec<Policy> {
    const EXTRA: &[&str] = &[
        "tech_sme",
        "high_tech",
        "tags has \"外贸\"",
        "has_bank_loan = false",
        "rd_ratio >= 3%",
        "employees >= 10",
        "revenue < 2亿",
        "not overdue_now",
    ];
    (0..n)
        .map(|i| {
            let mut r = SplitMix::new(seed ^ 0x90_11C7 ^ i.wrapping_mul(0xD1B5_4A32_D192_ED03));
            let province = r.pick(PROVINCE_CODES).to_string();
            let mut clauses = vec![
                format!("region under \"{province}\""),
                format!("years_since(established) >= {}", 1 + r.below(3)),
                "size in [\"小型\", \"微型\"]".to_string(),
                "tax_grade in [\"A\", \"B\"]".to_string(),
                "not dishonest".to_string(),
            ];
            clauses.push(r.pick(EXTRA).to_string());
            let (kind, benefit) = match r.below(3) {
                0 => (
                    PolicyKind::InterestSubsidy,
                    Benefit {
                        basis: BenefitBasis::Interest,
                        percent_bp: Some(3000 + 1000 * r.below(5) as i64),
                        amount: None,
                        cap_per_enterprise: Some(1_000_000),
                        cap_per_year: Some(500_000),
                        duration_months: Some(12),
                        summary: "按实际支付利息的一定比例贴息".into(),
                    },
                ),
                1 => (
                    PolicyKind::GuaranteeFeeSubsidy,
                    Benefit {
                        basis: BenefitBasis::GuaranteeFee,
                        percent_bp: Some(5000),
                        amount: None,
                        cap_per_enterprise: Some(200_000),
                        cap_per_year: None,
                        duration_months: Some(12),
                        summary: "担保费补贴50%".into(),
                    },
                ),
                _ => (
                    PolicyKind::Award,
                    Benefit {
                        basis: BenefitBasis::Fixed,
                        percent_bp: None,
                        amount: Some(50_000 * (1 + r.below(6) as i64)),
                        cap_per_enterprise: None,
                        cap_per_year: None,
                        duration_months: None,
                        summary: "一次性奖励".into(),
                    },
                ),
            };
            let closes = NaiveDate::from_ymd_opt(2026, 12, 1).expect("valid date")
                + chrono::Days::new(r.below(400));
            Policy {
                id: format!("SYNZ{seed:X}-{i:05}"),
                issuer: format!("合成市财政局{}", i % 50),
                issuer_level: IssuerLevel::City,
                title: format!("{}支持政策第{i}号", kind.label()),
                text: format!("对符合条件的中小微企业给予{}。", kind.label()),
                kind,
                benefit,
                eligibility: RuleSpec::Text(clauses.join(" and ")),
                regions: vec![province],
                window: Window {
                    opens: NaiveDate::from_ymd_opt(2026, 1, 1),
                    closes: Some(closes),
                },
                status: Status::Published,
                version: 1,
                source: SourceRef::default(),
                tags: vec![],
                cases: vec![],
            }
        })
        .collect()
}

#[cfg(test)]
mod catalog_tests {
    use super::*;

    #[test]
    fn generated_offers_have_valid_rules() {
        for p in products(7, 300) {
            p.eligibility
                .compile()
                .unwrap_or_else(|e| panic!("{}: {e}", p.id));
        }
        for p in policies(7, 100) {
            p.eligibility
                .compile()
                .unwrap_or_else(|e| panic!("{}: {e}", p.id));
        }
        assert_eq!(products(7, 5), products(7, 5));
    }
}
