//! The field registry: every enterprise fact a rule can test.
//!
//! One table gives each field its rule-language name, its type, its Chinese label and unit, the
//! credit-information category it belongs to and how sensitive it is. The parser resolves names
//! here, explanations take labels and units from here, and masking and consent decide per
//! category and sensitivity from here. Adding a fact to the profile means adding one row.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::codes::size::SizeClass;
use crate::model::Enterprise;

/// A credit-information category (信用信息类别), the unit of consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// 登记注册信息 (public registration data).
    Registration,
    /// 经营规模与财务信息.
    Scale,
    /// 纳税信息.
    Tax,
    /// 司法信息 and 行政处罚.
    Judicial,
    /// 社会保险信息.
    SocialInsurance,
    /// 知识产权信息.
    IntellectualProperty,
    /// 不动产登记信息.
    RealEstate,
    /// 科技研发信息 and 资质信息.
    Technology,
    /// 进出口信息.
    Trade,
    /// 生态环境领域信息.
    Environment,
    /// 水电气费缴纳信息.
    Utilities,
    /// 新型农业经营主体信息 and 涉农类清单信息.
    Agriculture,
    /// 公共资源交易信息.
    PublicResource,
    /// 信贷记录.
    Credit,
    /// 法定代表人信息 (including 婚姻状况).
    LegalRep,
    /// 股东及出资信息.
    Shareholders,
    /// The enterprise's own financing need and labels.
    Need,
}

impl Category {
    pub const ALL: [Category; 17] = [
        Category::Registration,
        Category::Scale,
        Category::Tax,
        Category::Judicial,
        Category::SocialInsurance,
        Category::IntellectualProperty,
        Category::RealEstate,
        Category::Technology,
        Category::Trade,
        Category::Environment,
        Category::Utilities,
        Category::Agriculture,
        Category::PublicResource,
        Category::Credit,
        Category::LegalRep,
        Category::Shareholders,
        Category::Need,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Category::Registration => "登记注册信息",
            Category::Scale => "经营规模信息",
            Category::Tax => "纳税信息",
            Category::Judicial => "司法与行政处罚信息",
            Category::SocialInsurance => "社会保险信息",
            Category::IntellectualProperty => "知识产权信息",
            Category::RealEstate => "不动产登记信息",
            Category::Technology => "科技研发与资质信息",
            Category::Trade => "进出口信息",
            Category::Environment => "生态环境信息",
            Category::Utilities => "水电气费缴纳信息",
            Category::Agriculture => "涉农信息",
            Category::PublicResource => "公共资源交易信息",
            Category::Credit => "信贷信息",
            Category::LegalRep => "法定代表人信息",
            Category::Shareholders => "股东及出资信息",
            Category::Need => "融资需求",
        }
    }

    /// Public registration data needs no consent; every other category does.
    pub fn needs_consent(self) -> bool {
        !matches!(self, Category::Registration | Category::Need)
    }
}

/// How sensitive a field is; decides masking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sensitivity {
    /// 公示信息: anyone may see it.
    Public,
    /// Business data shared under authorisation (纳税, 社保, 信贷 ...).
    Restricted,
    /// 个人信息: masked unless the reader is entitled.
    Personal,
}

/// The type of a field's values, which decides the operators and literals a rule may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Bool,
    /// A count or a whole number in `unit`.
    Int,
    /// Yuan.
    Money,
    /// Basis points, written `4.5%` in rules.
    Percent,
    Date,
    /// One of a closed list of values.
    Enum(&'static [&'static str]),
    /// Free text (only equality is meaningful).
    Text,
    /// GB/T 2260 region code.
    Region,
    /// GB/T 4754 industry code.
    Industry,
    /// A set of labels; `Some(values)` restricts the labels.
    Set(Option<&'static [&'static str]>),
}

impl FieldType {
    /// The name used in type errors.
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Bool => "yes/no",
            FieldType::Int => "number",
            FieldType::Money => "money",
            FieldType::Percent => "percentage",
            FieldType::Date => "date",
            FieldType::Enum(_) => "category",
            FieldType::Text => "text",
            FieldType::Region => "region code",
            FieldType::Industry => "industry code",
            FieldType::Set(_) => "label set",
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, FieldType::Int | FieldType::Money | FieldType::Percent)
    }
}

/// Index of a field in [`FIELDS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldId(pub u16);

impl FieldId {
    pub fn def(self) -> &'static Field {
        &FIELDS[self.0 as usize]
    }
}

/// A fact about an enterprise as the evaluator sees it, borrowed from the profile.
#[derive(Debug, Clone, PartialEq)]
pub enum Fact<'a> {
    Bool(bool),
    /// Int, Money (yuan) and Percent (basis points) values.
    Num(i64),
    Date(NaiveDate),
    Str(&'a str),
    Set(&'a [String]),
    Labels(Vec<&'static str>),
}

type Getter = for<'a> fn(&'a Enterprise) -> Option<Fact<'a>>;

/// One row of the registry.
#[derive(Debug)]
pub struct Field {
    /// Rule-language name.
    pub name: &'static str,
    pub ty: FieldType,
    /// Chinese label used in explanations.
    pub label: &'static str,
    /// Unit shown after values (人, 元, 年 ...); empty when none.
    pub unit: &'static str,
    pub category: Category,
    pub sensitivity: Sensitivity,
    /// Reads the fact from a profile; `None` means unknown.
    pub get: Getter,
}

const GRADES: &[&str] = &["A", "B", "M", "C", "D"];
const SIZES: &[&str] = &["大型", "中型", "小型", "微型"];
const ENTITY_TYPES: &[&str] = &[
    "有限责任公司",
    "股份有限公司",
    "个人独资企业",
    "合伙企业",
    "个体工商户",
    "农民专业合作社",
];
const REG_STATUS: &[&str] = &["存续", "在业", "吊销", "注销", "迁出"];
const SPECIALIZED: &[&str] = &["无", "创新型中小企业", "省级专精特新", "专精特新小巨人"];
const CUSTOMS: &[&str] = &["高级认证", "一般信用", "失信"];
const ENV_RATINGS: &[&str] = &["绿牌", "蓝牌", "黄牌", "红牌", "黑牌"];
const AGRI_TYPES: &[&str] = &[
    "无",
    "家庭农场",
    "农民专业合作社",
    "农业产业化龙头企业",
    "农业社会化服务组织",
];
const DEMO_LEVELS: &[&str] = &["国家级", "省级", "市级", "县级"];
const MARITAL: &[&str] = &["未婚", "已婚", "离异", "丧偶"];
const PURPOSES: &[&str] = &[
    "流动资金",
    "设备购置",
    "研发投入",
    "订单生产",
    "厂房建设",
    "农业生产",
    "外贸结算",
    "其他",
];
const GUARANTEES: &[&str] = &["信用", "抵押", "质押", "保证"];

fn s(v: &Option<String>) -> Option<Fact<'_>> {
    v.as_deref().map(Fact::Str)
}
fn n(v: Option<i64>) -> Option<Fact<'static>> {
    v.map(Fact::Num)
}
fn b(v: Option<bool>) -> Option<Fact<'static>> {
    v.map(Fact::Bool)
}

macro_rules! field {
    ($name:literal, $ty:expr, $label:literal, $unit:literal, $cat:ident, $sens:ident, $get:expr) => {
        Field {
            name: $name,
            ty: $ty,
            label: $label,
            unit: $unit,
            category: Category::$cat,
            sensitivity: Sensitivity::$sens,
            get: $get,
        }
    };
}

use FieldType as T;

/// The registry. Order is stable within a build; look fields up by name with [`lookup`].
pub static FIELDS: &[Field] = &[
    // 登记注册信息
    field!(
        "region",
        T::Region,
        "注册地",
        "",
        Registration,
        Public,
        |e| s(&e.registration.region)
    ),
    field!(
        "industry",
        T::Industry,
        "所属行业",
        "",
        Registration,
        Public,
        |e| s(&e.registration.industry)
    ),
    field!(
        "established",
        T::Date,
        "成立日期",
        "",
        Registration,
        Public,
        |e| e.registration.established.map(Fact::Date)
    ),
    field!(
        "registered_capital",
        T::Money,
        "注册资本",
        "元",
        Registration,
        Public,
        |e| n(e.registration.registered_capital)
    ),
    field!(
        "entity_type",
        T::Enum(ENTITY_TYPES),
        "市场主体类型",
        "",
        Registration,
        Public,
        |e| s(&e.registration.entity_type)
    ),
    field!(
        "reg_status",
        T::Enum(REG_STATUS),
        "登记状态",
        "",
        Registration,
        Public,
        |e| s(&e.registration.status)
    ),
    // 经营规模
    field!(
        "employees",
        T::Int,
        "从业人员",
        "人",
        Scale,
        Restricted,
        |e| n(e.scale.employees)
    ),
    field!(
        "revenue",
        T::Money,
        "上年度营业收入",
        "元",
        Scale,
        Restricted,
        |e| n(e.scale.revenue)
    ),
    field!(
        "total_assets",
        T::Money,
        "资产总额",
        "元",
        Scale,
        Restricted,
        |e| n(e.scale.total_assets)
    ),
    field!(
        "debt_ratio",
        T::Percent,
        "资产负债率",
        "",
        Scale,
        Restricted,
        |e| n(e.scale.debt_ratio_bp)
    ),
    field!(
        "net_profit",
        T::Money,
        "上年度净利润",
        "元",
        Scale,
        Restricted,
        |e| n(e.scale.net_profit)
    ),
    field!(
        "size",
        T::Enum(SIZES),
        "企业规模",
        "",
        Scale,
        Restricted,
        |e| {
            crate::codes::size::classify(e)
                .class
                .map(|c: SizeClass| Fact::Str(c.label()))
        }
    ),
    // 纳税信息
    field!(
        "tax_grade",
        T::Enum(GRADES),
        "纳税信用等级",
        "",
        Tax,
        Restricted,
        |e| s(&e.tax.credit_grade)
    ),
    field!(
        "tax_paid",
        T::Money,
        "上年度纳税总额",
        "元",
        Tax,
        Restricted,
        |e| n(e.tax.paid_last_year)
    ),
    field!(
        "tax_filing_years",
        T::Int,
        "连续正常纳税年限",
        "年",
        Tax,
        Restricted,
        |e| n(e.tax.filing_years)
    ),
    field!(
        "tax_arrears",
        T::Bool,
        "存在欠税",
        "",
        Tax,
        Restricted,
        |e| b(e.tax.arrears)
    ),
    // 司法与行政处罚
    field!(
        "dishonest",
        T::Bool,
        "列入严重失信主体名单",
        "",
        Judicial,
        Public,
        |e| b(e.judicial.dishonest)
    ),
    field!(
        "enforcement_cases",
        T::Int,
        "未结被执行案件",
        "件",
        Judicial,
        Public,
        |e| n(e.judicial.enforcement_cases)
    ),
    field!(
        "major_penalty",
        T::Bool,
        "近三年重大行政处罚",
        "",
        Judicial,
        Public,
        |e| b(e.judicial.major_penalty_3y)
    ),
    field!(
        "abnormal_operation",
        T::Bool,
        "列入经营异常名录",
        "",
        Judicial,
        Public,
        |e| b(e.judicial.abnormal_operation)
    ),
    // 社会保险
    field!(
        "insured_employees",
        T::Int,
        "参保职工人数",
        "人",
        SocialInsurance,
        Restricted,
        |e| n(e.social_insurance.insured_employees)
    ),
    field!(
        "social_insurance_arrears",
        T::Bool,
        "欠缴社保",
        "",
        SocialInsurance,
        Restricted,
        |e| b(e.social_insurance.arrears)
    ),
    // 知识产权
    field!(
        "invention_patents",
        T::Int,
        "有效发明专利",
        "件",
        IntellectualProperty,
        Public,
        |e| n(e.ip.invention_patents)
    ),
    field!(
        "other_patents",
        T::Int,
        "实用新型与外观设计专利",
        "件",
        IntellectualProperty,
        Public,
        |e| n(e.ip.other_patents)
    ),
    field!(
        "trademarks",
        T::Int,
        "注册商标",
        "件",
        IntellectualProperty,
        Public,
        |e| n(e.ip.trademarks)
    ),
    field!(
        "software_copyrights",
        T::Int,
        "软件著作权",
        "件",
        IntellectualProperty,
        Public,
        |e| n(e.ip.software_copyrights)
    ),
    // 不动产
    field!(
        "owns_property",
        T::Bool,
        "拥有自有不动产",
        "",
        RealEstate,
        Restricted,
        |e| b(e.real_estate.owns_property)
    ),
    field!(
        "property_value",
        T::Money,
        "不动产评估价值",
        "元",
        RealEstate,
        Restricted,
        |e| n(e.real_estate.property_value)
    ),
    // 科技研发与资质
    field!(
        "high_tech",
        T::Bool,
        "高新技术企业",
        "",
        Technology,
        Public,
        |e| b(e.tech.high_tech)
    ),
    field!(
        "tech_sme",
        T::Bool,
        "科技型中小企业入库",
        "",
        Technology,
        Public,
        |e| b(e.tech.tech_sme)
    ),
    field!(
        "specialized_level",
        T::Enum(SPECIALIZED),
        "专精特新等级",
        "",
        Technology,
        Public,
        |e| s(&e.tech.specialized_level)
    ),
    field!(
        "rd_expense",
        T::Money,
        "上年度研发费用",
        "元",
        Technology,
        Restricted,
        |e| n(e.tech.rd_expense)
    ),
    field!(
        "rd_ratio",
        T::Percent,
        "研发费用占营业收入比例",
        "",
        Technology,
        Restricted,
        |e| n(e.tech.rd_ratio_bp)
    ),
    field!(
        "qualifications",
        T::Set(None),
        "资质证书",
        "",
        Technology,
        Public,
        |e| e.tech.qualifications.as_deref().map(Fact::Set)
    ),
    // 进出口
    field!(
        "import_export",
        T::Bool,
        "有进出口实绩",
        "",
        Trade,
        Restricted,
        |e| b(e.trade.import_export)
    ),
    field!(
        "export_value",
        T::Money,
        "上年度出口额",
        "元",
        Trade,
        Restricted,
        |e| n(e.trade.export_value)
    ),
    field!(
        "customs_grade",
        T::Enum(CUSTOMS),
        "海关信用等级",
        "",
        Trade,
        Restricted,
        |e| s(&e.trade.customs_grade)
    ),
    // 生态环境
    field!(
        "env_rating",
        T::Enum(ENV_RATINGS),
        "环保信用评价",
        "",
        Environment,
        Public,
        |e| s(&e.environment.credit_rating)
    ),
    field!(
        "green_certified",
        T::Bool,
        "绿色认证",
        "",
        Environment,
        Public,
        |e| b(e.environment.green_certified)
    ),
    // 水电气
    field!(
        "utility_months_on_time",
        T::Int,
        "水电气连续按时缴费",
        "个月",
        Utilities,
        Restricted,
        |e| n(e.utilities.months_paid_on_time)
    ),
    field!(
        "utility_arrears",
        T::Bool,
        "近12个月水电气欠费",
        "",
        Utilities,
        Restricted,
        |e| b(e.utilities.arrears_12m)
    ),
    // 涉农
    field!(
        "agri_entity_type",
        T::Enum(AGRI_TYPES),
        "新型农业经营主体类型",
        "",
        Agriculture,
        Public,
        |e| s(&e.agriculture.entity_type)
    ),
    field!(
        "agri_demo_level",
        T::Enum(DEMO_LEVELS),
        "示范等级",
        "",
        Agriculture,
        Public,
        |e| s(&e.agriculture.demonstration_level)
    ),
    field!(
        "land_mu",
        T::Int,
        "经营土地面积",
        "亩",
        Agriculture,
        Restricted,
        |e| n(e.agriculture.land_mu)
    ),
    // 公共资源交易
    field!(
        "bids_won_3y",
        T::Int,
        "近三年政府采购中标",
        "次",
        PublicResource,
        Public,
        |e| n(e.public_resource.bids_won_3y)
    ),
    field!(
        "bid_value_3y",
        T::Money,
        "近三年中标金额",
        "元",
        PublicResource,
        Public,
        |e| n(e.public_resource.bid_value_3y)
    ),
    // 信贷
    field!(
        "has_bank_loan",
        T::Bool,
        "有银行贷款记录",
        "",
        Credit,
        Restricted,
        |e| b(e.credit.has_bank_loan)
    ),
    field!(
        "overdue_now",
        T::Bool,
        "当前有逾期贷款",
        "",
        Credit,
        Restricted,
        |e| b(e.credit.overdue_now)
    ),
    field!(
        "overdue_count_24m",
        T::Int,
        "近24个月逾期次数",
        "次",
        Credit,
        Restricted,
        |e| n(e.credit.overdue_count_24m)
    ),
    field!(
        "outstanding_loans",
        T::Money,
        "银行贷款余额",
        "元",
        Credit,
        Restricted,
        |e| n(e.credit.outstanding_loans)
    ),
    // 法定代表人 (personal)
    field!(
        "legal_rep_name",
        T::Text,
        "法定代表人姓名",
        "",
        LegalRep,
        Personal,
        |e| e.legal_rep.as_ref().map(|r| Fact::Str(r.name.as_str()))
    ),
    field!(
        "legal_rep_id",
        T::Text,
        "法定代表人身份证号",
        "",
        LegalRep,
        Personal,
        |e| e.legal_rep.as_ref().and_then(|r| s(&r.id_number))
    ),
    field!(
        "legal_rep_phone",
        T::Text,
        "法定代表人手机号",
        "",
        LegalRep,
        Personal,
        |e| e.legal_rep.as_ref().and_then(|r| s(&r.phone))
    ),
    field!(
        "legal_rep_age",
        T::Int,
        "法定代表人年龄",
        "岁",
        LegalRep,
        Personal,
        |e| e.legal_rep.as_ref().and_then(|r| n(r.age))
    ),
    field!(
        "legal_rep_marital",
        T::Enum(MARITAL),
        "法定代表人婚姻状况",
        "",
        LegalRep,
        Personal,
        |e| e.legal_rep.as_ref().and_then(|r| s(&r.marital_status))
    ),
    // 股东
    field!(
        "shareholder_count",
        T::Int,
        "股东人数",
        "个",
        Shareholders,
        Public,
        |e| e.shareholders.as_ref().map(|v| Fact::Num(v.len() as i64))
    ),
    // 标签与融资需求
    field!(
        "tags",
        T::Set(None),
        "企业标签",
        "",
        Need,
        Public,
        |e| e.tags.as_deref().map(Fact::Set)
    ),
    field!(
        "need_amount",
        T::Money,
        "融资需求金额",
        "元",
        Need,
        Restricted,
        |e| e.need.as_ref().and_then(|d| n(d.amount))
    ),
    field!(
        "need_term",
        T::Int,
        "融资期限",
        "个月",
        Need,
        Restricted,
        |e| e.need.as_ref().and_then(|d| n(d.term_months))
    ),
    field!(
        "need_purpose",
        T::Enum(PURPOSES),
        "资金用途",
        "",
        Need,
        Restricted,
        |e| e.need.as_ref().and_then(|d| s(&d.purpose))
    ),
    field!(
        "need_guarantee",
        T::Set(Some(GUARANTEES)),
        "可提供担保方式",
        "",
        Need,
        Restricted,
        |e| {
            e.need
                .as_ref()
                .filter(|d| !d.guarantee_types.is_empty())
                .map(|d| Fact::Labels(d.guarantee_types.iter().map(|g| g.label()).collect()))
        }
    ),
    field!(
        "need_max_rate",
        T::Percent,
        "可接受最高年利率",
        "",
        Need,
        Restricted,
        |e| e.need.as_ref().and_then(|d| n(d.max_rate_bp))
    ),
];

/// Finds a field by its rule-language name.
pub fn lookup(name: &str) -> Option<FieldId> {
    FIELDS
        .iter()
        .position(|f| f.name == name)
        .map(|i| FieldId(i as u16))
}

/// The registered name closest to `name`, if any is close enough to be a likely typo.
pub fn suggest(name: &str) -> Option<&'static str> {
    crate::text::closest(name, FIELDS.iter().map(|f| f.name))
}
