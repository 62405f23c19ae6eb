//! The enterprise profile.
//!
//! Grouped by the credit-information categories that the financing-credit platforms share
//! (国办发〔2024〕15号 附件: 17 类 37 项). Every field except identity is optional: a missing
//! fact is *unknown*, never false or zero, and the rule evaluator treats it that way.
//!
//! Money is in yuan (`i64`), ratios and rates in basis points (`i64`, 1% = 100 bp).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{ConsentGrant, FinancingNeed};

/// One enterprise (or 个体工商户 / 农民专业合作社) as the platform knows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Enterprise {
    /// Platform id, stable across updates (e.g. `E000123`).
    pub id: String,
    /// 统一社会信用代码 (GB 32100-2015), validated on ingestion.
    pub credit_code: String,
    /// 企业名称.
    pub name: String,
    #[serde(default, skip_serializing_if = "Registration::is_empty")]
    pub registration: Registration,
    #[serde(default, skip_serializing_if = "Scale::is_empty")]
    pub scale: Scale,
    #[serde(default, skip_serializing_if = "TaxInfo::is_empty")]
    pub tax: TaxInfo,
    #[serde(default, skip_serializing_if = "Judicial::is_empty")]
    pub judicial: Judicial,
    #[serde(default, skip_serializing_if = "SocialInsurance::is_empty")]
    pub social_insurance: SocialInsurance,
    #[serde(default, skip_serializing_if = "IntellectualProperty::is_empty")]
    pub ip: IntellectualProperty,
    #[serde(default, skip_serializing_if = "RealEstate::is_empty")]
    pub real_estate: RealEstate,
    #[serde(default, skip_serializing_if = "Technology::is_empty")]
    pub tech: Technology,
    #[serde(default, skip_serializing_if = "Trade::is_empty")]
    pub trade: Trade,
    #[serde(default, skip_serializing_if = "Environment::is_empty")]
    pub environment: Environment,
    #[serde(default, skip_serializing_if = "Utilities::is_empty")]
    pub utilities: Utilities,
    #[serde(default, skip_serializing_if = "Agriculture::is_empty")]
    pub agriculture: Agriculture,
    #[serde(default, skip_serializing_if = "PublicResource::is_empty")]
    pub public_resource: PublicResource,
    #[serde(default, skip_serializing_if = "CreditHistory::is_empty")]
    pub credit: CreditHistory,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_rep: Option<LegalRepresentative>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shareholders: Option<Vec<Shareholder>>,
    /// 经营范围, free text as registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_scope: Option<String>,
    /// Free-form labels given by the platform or the enterprise (e.g. `"链主配套"`, `"外贸"`).
    /// `None` = not known; `Some(vec![])` = known to have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub need: Option<FinancingNeed>,
    /// Which readers may use which credit-information category, until when.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consents: Vec<ConsentGrant>,
}

macro_rules! impl_is_empty {
    ($($t:ty),* $(,)?) => {$(
        impl $t {
            /// True when no fact of this group is known (used to keep JSON output short).
            pub fn is_empty(&self) -> bool {
                *self == <$t>::default()
            }
        }
    )*};
}

impl_is_empty!(
    Registration,
    Scale,
    TaxInfo,
    Judicial,
    SocialInsurance,
    IntellectualProperty,
    RealEstate,
    Technology,
    Trade,
    Environment,
    Utilities,
    Agriculture,
    PublicResource,
    CreditHistory,
);

/// 登记注册信息.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// GB/T 2260 six-digit code of the registered address (county level where known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// GB/T 4754-2017 code of the main industry: a section letter followed by up to 4 digits,
    /// e.g. `"C3911"`, `"I65"`, `"A"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub industry: Option<String>,
    /// 成立日期.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub established: Option<NaiveDate>,
    /// 注册资本, yuan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_capital: Option<i64>,
    /// 市场主体类型: 有限责任公司 / 股份有限公司 / 个人独资企业 / 合伙企业 / 个体工商户 / 农民专业合作社.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_type: Option<String>,
    /// 登记状态: 存续 / 在业 / 吊销 / 注销 / 迁出.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// 规模指标 (the inputs of the size classification).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Scale {
    /// 从业人员, persons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employees: Option<i64>,
    /// 上年度营业收入, yuan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revenue: Option<i64>,
    /// 资产总额, yuan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_assets: Option<i64>,
    /// 资产负债率, basis points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debt_ratio_bp: Option<i64>,
    /// 上年度净利润, yuan (may be negative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net_profit: Option<i64>,
}

/// 纳税信息.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TaxInfo {
    /// 纳税信用等级: A / B / M / C / D.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_grade: Option<String>,
    /// 上年度纳税总额, yuan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_last_year: Option<i64>,
    /// Consecutive years of normal tax filing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filing_years: Option<i64>,
    /// 欠税 outstanding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrears: Option<bool>,
}

/// 司法信息 and 失信记录.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Judicial {
    /// 列入严重失信主体名单 (失信被执行人 and similar lists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dishonest: Option<bool>,
    /// 被执行人 cases still open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforcement_cases: Option<i64>,
    /// 近三年重大行政处罚.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub major_penalty_3y: Option<bool>,
    /// 列入经营异常名录.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abnormal_operation: Option<bool>,
}

/// 社会保险信息.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SocialInsurance {
    /// 参保职工人数.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insured_employees: Option<i64>,
    /// 欠缴社保.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrears: Option<bool>,
}

/// 知识产权信息.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct IntellectualProperty {
    /// 有效发明专利.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invention_patents: Option<i64>,
    /// 实用新型 and 外观设计 patents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_patents: Option<i64>,
    /// 注册商标.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trademarks: Option<i64>,
    /// 软件著作权.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_copyrights: Option<i64>,
}

/// 不动产登记信息.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RealEstate {
    /// Owns registered real estate that could be mortgaged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owns_property: Option<bool>,
    /// Assessed value of owned property, yuan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property_value: Option<i64>,
}

/// 科技研发信息 and 资质.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Technology {
    /// 高新技术企业 certificate in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high_tech: Option<bool>,
    /// 入库 in the 全国科技型中小企业信息库.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tech_sme: Option<bool>,
    /// 专精特新 level: 无 / 创新型中小企业 / 省级专精特新 / 专精特新小巨人.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specialized_level: Option<String>,
    /// 上年度研发费用, yuan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rd_expense: Option<i64>,
    /// 研发费用占营业收入比例, basis points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rd_ratio_bp: Option<i64>,
    /// Other qualifications and certificates (e.g. `"ISO9001"`, `"建筑业企业资质"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualifications: Option<Vec<String>>,
}

/// 进出口信息.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Trade {
    /// Has an import/export record with customs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import_export: Option<bool>,
    /// 上年度出口额, yuan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_value: Option<i64>,
    /// 海关信用等级: 高级认证 / 一般信用 / 失信.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customs_grade: Option<String>,
}

/// 生态环境领域信息.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// 环保信用评价: 绿牌 / 蓝牌 / 黄牌 / 红牌 / 黑牌.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_rating: Option<String>,
    /// Certified green / energy-saving project or enterprise (绿色工厂, 节能环保项目...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub green_certified: Option<bool>,
}

/// 水电气费缴纳信息.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Utilities {
    /// Months of uninterrupted on-time payment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub months_paid_on_time: Option<i64>,
    /// Any utility arrears in the last 12 months.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrears_12m: Option<bool>,
}

/// 新型农业经营主体 and 涉农类清单信息.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Agriculture {
    /// 新型农业经营主体 type: 家庭农场 / 农民专业合作社 / 农业产业化龙头企业 / 农业社会化服务组织; `无` if none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_type: Option<String>,
    /// 示范 level: 国家级 / 省级 / 市级 / 县级.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demonstration_level: Option<String>,
    /// 经营土地面积, 亩.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub land_mu: Option<i64>,
}

/// 公共资源交易信息.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PublicResource {
    /// Contracts won in public tendering in the last three years.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bids_won_3y: Option<i64>,
    /// Value of those contracts, yuan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bid_value_3y: Option<i64>,
}

/// 信贷记录 as the enterprise declares it or the credit report shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CreditHistory {
    /// Has ever had a bank loan (false = a 首贷户 candidate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_bank_loan: Option<bool>,
    /// Loans currently overdue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overdue_now: Option<bool>,
    /// Overdue occurrences in the last 24 months.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overdue_count_24m: Option<i64>,
    /// Outstanding bank debt, yuan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outstanding_loans: Option<i64>,
}

/// 法定代表人信息 (personal data: masked unless the reader is entitled).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LegalRepresentative {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// 婚姻状况: 未婚 / 已婚 / 离异 / 丧偶.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marital_status: Option<String>,
    /// Age in years at the last update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age: Option<i64>,
}

/// 股东及出资信息.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Shareholder {
    pub name: String,
    /// 自然人 / 企业法人 / 国有 / 外资.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Share of capital, basis points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_bp: Option<i64>,
}
