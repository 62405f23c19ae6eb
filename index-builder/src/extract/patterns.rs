//! The pattern table: what the extractor recognises, as data.
//!
//! Each row is an id, a regular expression and what a match produces. Rows are compiled once
//! (see [`super::compiled`]): all of them into one `RegexSet` for the first pass over a
//! sentence, and each into its own `Regex` for the captures of the rows that matched.
//!
//! A regex may contain `{T}`, which is replaced by [`THRESHOLD`]: a comparison word, a number
//! and its unit, and an optional second bound (`2000万元以上、4亿元以下`).
//!
//! ## Comparison words
//!
//! The hand-written fixture rules (e.g. P-B01 `营业收入2亿元以下` → `revenue < 2亿`, P-A11
//! `500万元以上` → `>= 500万`) follow the statistical convention of 《统计上大中小微型企业划分办法》
//! and 工信部联企业〔2011〕300号: **以上 includes the number, 以下 excludes it**. The extractor does
//! the same, and an explicit `（含）` / `（不含）` after the number overrides it:
//!
//! | words | operator |
//! |-------|----------|
//! | 以上, 及以上, 不低于, 不少于, 达到 | `>=` |
//! | 以下, 低于, 少于, 未满, 不足 | `<` |
//! | 不超过, 不高于, 以内, 及以下 | `<=` |
//! | 超过, 高于 | `>` |
//!
//! (《民法典》第1259条 reads 以上/以下 as inclusive; policy texts that mean that write `（含）`.)

use huiqi_engine::model::BenefitBasis;

/// A comparison phrase: named groups `pre`, `num`, `unit`, `inclA`, `post`, `incl`, and the
/// optional second bound `num2`, `unit2`, `post2`, `incl2`.
pub const THRESHOLD: &str = concat!(
    r"(?P<pre>不低于|不少于|不超过|不高于|不足|超过|高于|低于|少于|未满|达到|大于|小于|在|为)?[ \u{3000}]*",
    r"(?P<num>[0-9]+(?:\.[0-9]+)?|[一二两三四五六七八九十百千]+)[ \u{3000}]*",
    r"(?P<unit>亿元|万元|元|%|人|名|亩|件|次)",
    r"(?P<inclA>[（(](?:含|不含)[^）)]{0,10}[）)])?",
    r"(?P<post>及以上|以上|及以下|以下|以内)?",
    r"(?P<incl>[（(](?:含|不含)[^）)]{0,10}[）)])?",
    r"(?:[、，至到~－-][ \u{3000}]*(?P<num2>[0-9]+(?:\.[0-9]+)?)[ \u{3000}]*(?P<unit2>亿元|万元|元|%|人|亩)",
    r"(?P<post2>以上|以下|以内)(?P<incl2>[（(](?:含|不含)[^）)]{0,10}[）)])?)?",
);

/// Which part of the draft a row feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A clause of the eligibility rule (read in 支持对象 / 申报条件 sections).
    Condition,
    /// The benefit (read in 支持标准 sections).
    Benefit,
    /// A condition on the loan rather than the enterprise (read everywhere but materials).
    Loan,
}

/// What the quantity of a threshold is, which decides the units accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// 元 / 万元 / 亿元 → yuan.
    Money,
    /// % → basis points.
    Percent,
    /// 人 / 名.
    Persons,
    /// 亩.
    Area,
    /// 件.
    Items,
    /// 次.
    Times,
}

impl Quantity {
    pub fn accepts(self, unit: &str) -> bool {
        match self {
            Quantity::Money => matches!(unit, "亿元" | "万元" | "元"),
            Quantity::Percent => unit == "%",
            Quantity::Persons => matches!(unit, "人" | "名"),
            Quantity::Area => unit == "亩",
            Quantity::Items => unit == "件",
            Quantity::Times => unit == "次",
        }
    }
}

/// What a match produces.
#[derive(Debug, Clone, Copy)]
pub enum Produces {
    /// This rule text.
    Rule(&'static str),
    /// Rule text with `{n}` replaced by the whole number in group `num`.
    Template(&'static str),
    /// `field op value` (and a second clause for a second bound) from a [`THRESHOLD`].
    Threshold {
        field: &'static str,
        quantity: Quantity,
    },
    /// `years_since(established) >= n` or `months_since(established) >= n` from groups `num`
    /// and `unit` (年 / 个月).
    Age,
    /// `field in [...]`: every value whose key occurs in the matched text; matches of the row
    /// in one sentence merge into one clause.
    Values {
        field: &'static str,
        values: &'static [(&'static str, &'static str)],
    },
    /// `tax_grade in [...]` from the letters in group `grades`, widened by 以上.
    TaxGrades,
    /// `industry under [...]`, negated in an exclusion (不属于, 除外, 不在…范围, 不予…).
    Industries,
    /// The benefit basis with the percent in group `num` (or `full` = 100%).
    Basis { basis: BenefitBasis, full: bool },
    /// A fixed amount: groups `num` and `unit`.
    FixedAmount,
    /// 每家企业每年最高: groups `num` and `unit`.
    CapPerYear,
    /// 每家企业累计最高: groups `num` and `unit`.
    CapPerEnterprise,
    /// 贴息期限: groups `num` and `unit` (年 / 个月).
    Duration,
    /// Loan amount cap: groups `num` and `unit`.
    LoanAmount,
    /// Loan term cap: groups `num` and `unit`.
    LoanTerm,
    /// Loan rate cap over LPR, basis points in group `num`.
    LprPlus,
    /// A kind of loan the policy covers.
    LoanKind(&'static str),
}

/// One row of the table.
#[derive(Debug)]
pub struct Pattern {
    pub id: &'static str,
    pub target: Target,
    pub regex: &'static str,
    pub produces: Produces,
    /// How sure a match of this row is, before section and structure adjustments.
    pub confidence: f32,
    /// Only when a negation (未, 无, 不, 没有, 非) comes earlier in the same comma segment:
    /// `未被列入严重失信主体名单和经营异常名录`.
    pub needs_negation: bool,
    /// Not when the match directly follows one of these (`（含个体工商户）`).
    pub not_after: &'static [&'static str],
}

const fn row(id: &'static str, target: Target, regex: &'static str, produces: Produces) -> Pattern {
    Pattern {
        id,
        target,
        regex,
        produces,
        confidence: 0.9,
        needs_negation: false,
        not_after: &[],
    }
}

const fn negated(mut p: Pattern) -> Pattern {
    p.needs_negation = true;
    p
}

const fn conf(mut p: Pattern, confidence: f32) -> Pattern {
    p.confidence = confidence;
    p
}

const fn not_after(mut p: Pattern, words: &'static [&'static str]) -> Pattern {
    p.not_after = words;
    p
}

use Produces as P;
use Target::{Benefit as B, Condition as C, Loan as L};

const SIZE_VALUES: &[(&str, &str)] = &[
    ("中小微", "中型"),
    ("中小微", "小型"),
    ("中小微", "微型"),
    ("中型", "中型"),
    ("小型", "小型"),
    ("小微", "小型"),
    ("小微", "微型"),
    ("微型", "微型"),
];

const SPECIALIZED_VALUES: &[(&str, &str)] = &[
    ("专精特新中小企业", "省级专精特新"),
    ("专精特新企业", "省级专精特新"),
    ("小巨人", "专精特新小巨人"),
    ("创新型中小企业", "创新型中小企业"),
];

const AGRI_VALUES: &[(&str, &str)] = &[
    ("家庭农场", "家庭农场"),
    ("合作社", "农民专业合作社"),
    ("龙头企业", "农业产业化龙头企业"),
    ("社会化服务组织", "农业社会化服务组织"),
];

const ENV_VALUES: &[(&str, &str)] = &[
    ("绿牌", "绿牌"),
    ("蓝牌", "蓝牌"),
    ("黄牌", "黄牌"),
    ("红牌", "红牌"),
];

const CUSTOMS_VALUES: &[(&str, &str)] = &[("一般信用", "一般信用"), ("高级认证", "高级认证")];

/// Industry names → GB/T 4754 codes, longest first where one contains another.
pub const INDUSTRIES: &[(&str, &str)] = &[
    ("房地产开发经营", "K7010"),
    ("房地产业", "K"),
    ("金融业", "J"),
    ("金融类", "J"),
    ("软件和信息技术服务业", "I65"),
    ("信息传输、软件和信息技术服务业", "I"),
    ("制造业", "C"),
    ("种植业", "A01"),
    ("林业", "A02"),
    ("畜牧业", "A03"),
    ("渔业", "A04"),
    ("批发和零售业", "F"),
    ("批发业", "F51"),
    ("零售业", "F52"),
    ("住宿和餐饮业", "H"),
    ("餐饮业", "H62"),
    ("建筑业", "E"),
    ("交通运输、仓储和邮政业", "G"),
];

const INDUSTRY_RE: &str = r"房地产开发经营|房地产业|金融业|金融类|信息传输、软件和信息技术服务业|软件和信息技术服务业|制造业|种植业|林业|畜牧业|渔业|批发和零售业|批发业|零售业|住宿和餐饮业|餐饮业|建筑业|交通运输、仓储和邮政业";

/// Whole money amounts in benefit and loan rows.
macro_rules! money {
    () => {
        r"(?P<num>[0-9]+(?:\.[0-9]+)?)[ \u{3000}]*(?P<unit>亿元|万元|元)"
    };
}

/// The table. Order matters only for ties: when two rows match overlapping text, the match
/// that starts first wins, then the longer one, then the earlier row.
pub static PATTERNS: &[Pattern] = &[
    // ---- who: kinds, size, qualifications ----
    row(
        "size",
        C,
        r"中小微(?:型)?企业|中型、小型(?:或|和|、|及)微型企业|小型(?:企业)?(?:、|或|和|及)微型企业|小微(?:型)?企业",
        P::Values {
            field: "size",
            values: SIZE_VALUES,
        },
    ),
    not_after(
        row(
            "entity.individual",
            C,
            r"个体工商户",
            P::Rule(r#"entity_type = "个体工商户""#),
        ),
        &["含", "包括"],
    ),
    row(
        "qual.tech_sme",
        C,
        r"科技型中小企业信息库|入库(?:的)?科技型中小企业|科技型中小企业入库",
        P::Rule("tech_sme"),
    ),
    row("qual.high_tech", C, r"高新技术企业", P::Rule("high_tech")),
    row(
        "qual.specialized",
        C,
        r"(?:省级|省|北京市|上海市|天津市|重庆市)专精特新(?:中小)?企业|专精特新[“”\x22]?小巨人|创新型中小企业",
        P::Values {
            field: "specialized_level",
            values: SPECIALIZED_VALUES,
        },
    ),
    row(
        "agri.entity",
        C,
        r"家庭农场|农民(?:专业)?合作社|农业产业化(?:重点)?龙头企业|农业社会化服务组织",
        P::Values {
            field: "agri_entity_type",
            values: AGRI_VALUES,
        },
    ),
    row(
        "agri.land",
        C,
        r"(?:经营|流转)?土地(?:面积|规模)(?:[（(][^）)]{0,8}[）)])?{T}",
        P::Threshold {
            field: "land_mu",
            quantity: Quantity::Area,
        },
    ),
    row(
        "green.certified",
        C,
        r"绿色工厂|绿色供应链管理企业|绿色认证|节能环保项目",
        P::Rule("green_certified"),
    ),
    row(
        "green.env_rating",
        C,
        r"环境信用(?:评价)?(?:结果)?(?:为|是)?[ ]*(?:(?:绿牌|蓝牌|黄牌|红牌)[、或和及]?)+",
        P::Values {
            field: "env_rating",
            values: ENV_VALUES,
        },
    ),
    row(
        "trade.import_export",
        C,
        r"进出口(?:经营)?(?:实绩|业绩)",
        P::Rule("import_export"),
    ),
    row(
        "trade.customs",
        C,
        r"海关信用等级(?:为|是)?[ ]*(?:(?:一般信用|高级认证)(?:企业)?[、或和及]?)+",
        P::Values {
            field: "customs_grade",
            values: CUSTOMS_VALUES,
        },
    ),
    row(
        "trade.export_value",
        C,
        r"出口(?:额|总额|金额){T}",
        P::Threshold {
            field: "export_value",
            quantity: Quantity::Money,
        },
    ),
    row("industry", C, INDUSTRY_RE, P::Industries),
    row(
        "reg.status",
        C,
        r"登记状态(?:为|是)?(?:存续|在业)(?:[（(]在业[）)]|或在业)?",
        P::Rule(r#"reg_status in ["存续", "在业"]"#),
    ),
    // ---- age ----
    row(
        "age.full",
        C,
        r"(?:成立|注册|设立)(?:并实际运营|时间|年限)?(?:满|已满|超过|达到|不少于|不低于)[ ]*(?P<num>[0-9]+|[一二两三四五六七八九十]+)[ ]*(?P<unit>周年|年|个月)",
        P::Age,
    ),
    row(
        "age.above",
        C,
        r"(?:成立|注册|设立)[ ]*(?P<num>[0-9]+|[一二两三四五六七八九十]+)[ ]*(?P<unit>周年|年|个月)以上",
        P::Age,
    ),
    // ---- thresholds on scale, tax, R&D ----
    row(
        "scale.revenue",
        C,
        r"(?:营业收入|销售收入|主营业务收入)[^，。；、0-9]{0,6}?{T}",
        P::Threshold {
            field: "revenue",
            quantity: Quantity::Money,
        },
    ),
    row(
        "scale.insured",
        C,
        r"参保(?:职工|员工)?人数[^，。；、0-9]{0,4}?{T}",
        P::Threshold {
            field: "insured_employees",
            quantity: Quantity::Persons,
        },
    ),
    row(
        "scale.employees",
        C,
        r"(?:从业人员|职工总数|职工人数|员工总数|员工人数|从业人数)(?:数)?[^，。；、0-9]{0,4}?{T}",
        P::Threshold {
            field: "employees",
            quantity: Quantity::Persons,
        },
    ),
    row(
        "scale.assets",
        C,
        r"资产总额[^，。；、0-9]{0,4}?{T}",
        P::Threshold {
            field: "total_assets",
            quantity: Quantity::Money,
        },
    ),
    row(
        "scale.debt_ratio",
        C,
        r"资产负债率[^，。；、0-9]{0,4}?{T}",
        P::Threshold {
            field: "debt_ratio",
            quantity: Quantity::Percent,
        },
    ),
    row(
        "tax.paid",
        C,
        r"(?:纳税|税收)(?:总额|金额)[^，。；、0-9]{0,4}?{T}",
        P::Threshold {
            field: "tax_paid",
            quantity: Quantity::Money,
        },
    ),
    row(
        "rd.ratio",
        C,
        r"研发(?:费用|投入)(?:总额)?占(?:营业|销售|主营业务)?收入(?:总额)?(?:的)?比(?:例|重)[^，。；、0-9]{0,4}?{T}",
        P::Threshold {
            field: "rd_ratio",
            quantity: Quantity::Percent,
        },
    ),
    row(
        "rd.expense",
        C,
        r"研发(?:费用|投入)(?:总额|金额)?[^，。；、0-9占]{0,4}?{T}",
        P::Threshold {
            field: "rd_expense",
            quantity: Quantity::Money,
        },
    ),
    row(
        "ip.invention",
        C,
        r"(?:有效)?发明专利[^，。；、0-9]{0,2}?{T}",
        P::Threshold {
            field: "invention_patents",
            quantity: Quantity::Items,
        },
    ),
    row(
        "ip.other",
        C,
        r"实用新型(?:专利)?(?:[、和或及]外观设计专利)?(?:合计|共计|共)?{T}",
        P::Threshold {
            field: "other_patents",
            quantity: Quantity::Items,
        },
    ),
    row(
        "ip.any",
        C,
        r"(?P<num>[0-9]+)件以上(?:有效)?专利或(?:注册)?商标",
        P::Template("invention_patents >= {n} or other_patents >= {n} or trademarks >= {n}"),
    ),
    // ---- credit ----
    row(
        "tax.grade",
        C,
        r"纳税信用(?:等级|评价)?(?:为|是|在|达到)?[ \u{3000}]*(?P<grades>(?:[ABMCD][ ]*级?[ ]*(?:、|，|,|或|和|及|以及)?[ ]*)+)(?P<above>及以上|以上)?",
        P::TaxGrades,
    ),
    negated(row(
        "credit.dishonest",
        C,
        r"严重失信|失信被执行人|失信联合惩戒",
        P::Rule("not dishonest"),
    )),
    negated(row(
        "credit.abnormal",
        C,
        r"经营异常名录",
        P::Rule("not abnormal_operation"),
    )),
    negated(row(
        "credit.major_penalty",
        C,
        r"重大行政处罚",
        P::Rule("not major_penalty"),
    )),
    row(
        "credit.enforcement",
        C,
        r"无(?:未结(?:的)?)?被执行(?:案件|记录)",
        P::Rule("enforcement_cases = 0"),
    ),
    row(
        "credit.tax_arrears",
        C,
        r"无(?:欠缴|拖欠)税款|无欠税",
        P::Rule("not tax_arrears"),
    ),
    row(
        "credit.si_arrears",
        C,
        r"无(?:欠缴|拖欠)(?:社会保险费|社保费|社保)",
        P::Rule("not social_insurance_arrears"),
    ),
    row(
        "credit.outstanding",
        C,
        r"贷款余额(?:合计)?[^，。；、0-9]{0,4}?{T}",
        P::Threshold {
            field: "outstanding_loans",
            quantity: Quantity::Money,
        },
    ),
    row(
        "credit.overdue_24m_none",
        C,
        r"近(?:24|二十四)个月(?:内)?[^，。；]{0,10}?无(?:贷款)?逾期(?:记录)?",
        P::Rule("overdue_count_24m = 0"),
    ),
    row(
        "credit.overdue_24m_max",
        C,
        r"近(?:24|二十四)个月(?:内)?(?:贷款)?逾期(?:次数)?{T}",
        P::Threshold {
            field: "overdue_count_24m",
            quantity: Quantity::Times,
        },
    ),
    row(
        "credit.overdue_now",
        C,
        r"(?:当前|目前|申报时|申请时)[^，。；]{0,14}?无(?:逾期贷款|贷款逾期|逾期)|无逾期贷款",
        P::Rule("not overdue_now"),
    ),
    row(
        "credit.first_loan",
        C,
        r"首次(?:从[^，。；]{0,12})?获得[^，。；]{0,10}贷款|无(?:任何)?(?:银行)?贷款记录|从未获得过?(?:银行)?贷款|首贷户",
        P::Rule("not has_bank_loan"),
    ),
    conf(
        row(
            "credit.has_loan",
            C,
            r"有存量贷款",
            P::Rule("has_bank_loan"),
        ),
        0.8,
    ),
    // ---- benefit ----
    row(
        "benefit.lpr",
        B,
        r"(?:贷款市场报价利率|LPR)(?:[（(]LPR[）)])?的[ ]*(?P<num>[0-9]+(?:\.[0-9]+)?)%",
        P::Basis {
            basis: BenefitBasis::Lpr,
            full: false,
        },
    ),
    row(
        "benefit.interest",
        B,
        r"利息的[ ]*(?P<num>[0-9]+(?:\.[0-9]+)?)%",
        P::Basis {
            basis: BenefitBasis::Interest,
            full: false,
        },
    ),
    row(
        "benefit.rate_points",
        B,
        r"年化[ ]*(?P<num>[0-9]+(?:\.[0-9]+)?)[ ]*个百分点",
        P::Basis {
            basis: BenefitBasis::RatePoints,
            full: false,
        },
    ),
    row(
        "benefit.guarantee_fee",
        B,
        r"担保费的[ ]*(?P<num>[0-9]+(?:\.[0-9]+)?)%",
        P::Basis {
            basis: BenefitBasis::GuaranteeFee,
            full: false,
        },
    ),
    row(
        "benefit.guarantee_fee_full",
        B,
        r"担保费[^。；]{0,20}?全额补贴",
        P::Basis {
            basis: BenefitBasis::GuaranteeFee,
            full: true,
        },
    ),
    row(
        "benefit.lender_loss",
        B,
        r"损失(?:[^。；]{0,20}?按|的)[ ]*(?P<num>[0-9]+(?:\.[0-9]+)?)%",
        P::Basis {
            basis: BenefitBasis::LenderLoss,
            full: false,
        },
    ),
    row(
        "benefit.bridge",
        B,
        r"(?:使用费|转贷)[^。；]{0,12}?年化[ ]*(?P<num>[0-9]+(?:\.[0-9]+)?)%|年化(?P<num2>[0-9]+(?:\.[0-9]+)?)%[^。；]{0,6}?(?:收取|计收)(?:资金)?使用费",
        P::Basis {
            basis: BenefitBasis::BridgeFunding,
            full: false,
        },
    ),
    row(
        "benefit.fixed",
        B,
        concat!(r"一次性(?:给予)?(?:奖励)?[ ]*", money!()),
        P::FixedAmount,
    ),
    row(
        "benefit.cap_year",
        B,
        concat!(
            r"(?:每年|年度)[^，。；0-9本]{0,8}?(?:最高|上限|不超过)(?:补贴|贴息|奖励)?[ ]*",
            money!()
        ),
        P::CapPerYear,
    ),
    row(
        "benefit.cap_total",
        B,
        concat!(
            r"(?:累计|单户企业|单户|每家企业|每户)[^，。；0-9本次年]{0,8}?(?:最高|不超过|上限)(?:补贴|贴息|奖励|补偿)?[ ]*",
            money!()
        ),
        P::CapPerEnterprise,
    ),
    row(
        "benefit.duration",
        B,
        r"(?:贴息|补贴|支持|奖补)期限[ ]*(?:原则上)?(?:最长)?(?:不超过|不得超过|为)?[ ]*(?P<num>[0-9]+|[一二两三四五六七八九十]+)[ ]*(?P<unit>个月|年)",
        P::Duration,
    ),
    // ---- the loan ----
    row(
        "loan.amount",
        L,
        concat!(
            r"(?:贷款|借款)(?:本金|金额|额度)[^，。；0-9]{0,6}?(?:不超过|最高|不高于)[ ]*",
            money!()
        ),
        P::LoanAmount,
    ),
    row(
        "loan.amount_base",
        L,
        concat!(r"以单户不超过", money!(), r"的贷款本金"),
        P::LoanAmount,
    ),
    row(
        "loan.term",
        L,
        r"贷款期限(?:原则上)?(?:不超过|最长|在)?[ ]*(?P<num>[0-9]+|[一二两三四五六七八九十]+)[ ]*(?P<unit>年|个月)",
        P::LoanTerm,
    ),
    row(
        "loan.lpr_plus",
        L,
        r"(?:LPR|贷款市场报价利率)(?:[（(]LPR[）)])?加[ ]*(?P<num>[0-9]+)个基点",
        P::LprPlus,
    ),
    row("loan.credit", L, r"信用贷款", P::LoanKind("信用贷款")),
    row(
        "loan.working_capital",
        L,
        r"流动资金贷款",
        P::LoanKind("流动资金贷款"),
    ),
    row(
        "loan.tech_upgrade",
        L,
        r"技术改造(?:类)?贷款|技改(?:项目)?贷款",
        P::LoanKind("技术改造贷款"),
    ),
    row("loan.pledge", L, r"质押贷款", P::LoanKind("质押贷款")),
    row("loan.guaranteed", L, r"担保贷款", P::LoanKind("担保贷款")),
    row("loan.green", L, r"绿色贷款", P::LoanKind("绿色贷款")),
    row(
        "loan.first",
        L,
        r"首笔(?:信用)?贷款|首贷",
        P::LoanKind("首笔贷款"),
    ),
];
