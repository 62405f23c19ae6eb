//! Bank and guarantee-company financing products (金融产品).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{GuaranteeType, Range, RuleSpec, Status};

/// Kind of financing product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProductKind {
    #[serde(rename = "信用贷")]
    CreditLoan,
    #[serde(rename = "抵押贷")]
    MortgageLoan,
    #[serde(rename = "保证贷")]
    GuaranteedLoan,
    #[serde(rename = "知识产权质押")]
    IpPledge,
    #[serde(rename = "供应链金融")]
    SupplyChain,
    #[serde(rename = "票据贴现")]
    BillDiscount,
    /// Loans underwritten on tax data (税易贷, 银税互动).
    #[serde(rename = "税易贷")]
    TaxDataLoan,
    /// Loans against government procurement contracts (政采贷).
    #[serde(rename = "政采贷")]
    ProcurementLoan,
    #[serde(rename = "外贸贷")]
    TradeLoan,
    #[serde(rename = "科创贷")]
    TechLoan,
    #[serde(rename = "涉农贷")]
    AgriLoan,
    #[serde(rename = "绿色贷")]
    GreenLoan,
    /// Guarantees issued by a financing guarantee company.
    #[serde(rename = "融资担保")]
    FinancingGuarantee,
}

/// Kind of institution publishing a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InstitutionKind {
    #[serde(rename = "国有大型银行")]
    StateBank,
    #[serde(rename = "股份制银行")]
    JointStockBank,
    #[serde(rename = "城市商业银行")]
    CityBank,
    #[serde(rename = "农村金融机构")]
    RuralBank,
    #[serde(rename = "互联网银行")]
    InternetBank,
    #[serde(rename = "融资担保公司")]
    GuaranteeCompany,
    #[serde(rename = "政策性银行")]
    PolicyBank,
}

/// One financing product with its 准入条件.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub id: String,
    /// Institution id (used for consent and scoping).
    pub institution_id: String,
    /// Institution display name.
    pub institution: String,
    pub institution_kind: InstitutionKind,
    pub name: String,
    pub kind: ProductKind,
    /// Guarantee types the product accepts.
    pub guarantee: Vec<GuaranteeType>,
    /// Loan amount, yuan.
    pub amount: Range,
    /// Term, months.
    pub term_months: Range,
    /// Annual rate, basis points.
    pub rate_bp: Range,
    /// GB/T 2260 codes (any level) served; empty = nationwide.
    #[serde(default)]
    pub regions: Vec<String>,
    /// GB/T 4754 code prefixes targeted; empty = all industries.
    #[serde(default)]
    pub industries: Vec<String>,
    /// 准入条件 in the rule language.
    pub eligibility: RuleSpec,
    pub description: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub status: Status,
    pub version: u32,
    pub effective_from: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_to: Option<NaiveDate>,
}
