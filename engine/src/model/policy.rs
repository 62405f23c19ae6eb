//! Government support policies (惠企政策) with their benefit and example cases.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{Enterprise, RuleSpec, Status};
use crate::rule::Outcome;

labelled_enum! {
    /// Kind of support policy.
    pub enum PolicyKind {
        InterestSubsidy = "贷款贴息",
        FirstLoanSubsidy = "首贷贴息",
        GuaranteeFeeSubsidy = "担保费补贴",
        RiskCompensation = "风险补偿",
        Award = "奖励",
        BridgeLoan = "应急转贷",
        IpPledgeSubsidy = "知识产权质押补贴",
        GreenCreditSubsidy = "绿色信贷贴息",
    }
}

labelled_enum! {
    /// Administrative level of the issuing office.
    pub enum IssuerLevel {
        National = "国家",
        Provincial = "省级",
        City = "市级",
        District = "区县",
    }
}

/// What the benefit is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum BenefitBasis {
    /// A share (`percent_bp`) of the interest actually paid.
    Interest,
    /// A share (`percent_bp`) of the loan prime rate, applied to the loan amount.
    Lpr,
    /// Fixed percentage points (`percent_bp`) of the loan amount per year.
    RatePoints,
    /// A share (`percent_bp`) of the guarantee fee paid.
    GuaranteeFee,
    /// A fixed sum (`amount`).
    Fixed,
    /// A share (`percent_bp`) of the lender's loss is compensated; no cash to the enterprise.
    LenderLoss,
    /// A bridge loan at a reduced daily rate (`percent_bp` per year) for the days needed.
    BridgeFunding,
}

/// The benefit a policy grants (支持标准).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Benefit {
    pub basis: BenefitBasis,
    /// Percent of the basis, basis points (5000 = 50%).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent_bp: Option<i64>,
    /// Fixed amount, yuan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    /// 每家企业累计最高, yuan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap_per_enterprise: Option<i64>,
    /// 每家企业每年最高, yuan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap_per_year: Option<i64>,
    /// 贴息期限 or duration of support, months.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_months: Option<i64>,
    /// One line in Chinese, as it would appear on a notice.
    pub summary: String,
}

/// When applications are accepted (申报时间).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Window {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opens: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closes: Option<NaiveDate>,
}

impl Window {
    /// True when `date` falls inside the window (open ends are unbounded).
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.opens.is_none_or(|o| o <= date) && self.closes.is_none_or(|c| date <= c)
    }
}

/// Where the policy was published (文号, 链接).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SourceRef {
    /// 文号, e.g. `某府办规〔2025〕3号`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_no: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<NaiveDate>,
}

/// An example enterprise with the outcome the policy office expects (golden data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PolicyCase {
    /// What the case illustrates, e.g. `"研发比例不足4%，不符合"`.
    pub name: String,
    /// Evaluation date.
    pub as_of: NaiveDate,
    pub enterprise: Enterprise,
    pub expected: Outcome,
}

/// One support policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub id: String,
    /// 发布单位.
    pub issuer: String,
    pub issuer_level: IssuerLevel,
    pub title: String,
    /// The policy's prose (申报条件 and 支持标准 as published).
    pub text: String,
    pub kind: PolicyKind,
    pub benefit: Benefit,
    /// 申报条件 in the rule language.
    pub eligibility: RuleSpec,
    /// GB/T 2260 codes (any level) the policy covers; empty = nationwide.
    #[serde(default)]
    pub regions: Vec<String>,
    #[serde(default)]
    pub window: Window,
    pub status: Status,
    pub version: u32,
    #[serde(default)]
    pub source: SourceRef,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub cases: Vec<PolicyCase>,
}
