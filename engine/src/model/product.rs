//! Bank and guarantee-company financing products (金融产品).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{GuaranteeType, Range, RuleSpec, Status};

labelled_enum! {
    /// Kind of financing product.
    pub enum ProductKind {
        CreditLoan = "信用贷",
        MortgageLoan = "抵押贷",
        GuaranteedLoan = "保证贷",
        IpPledge = "知识产权质押",
        SupplyChain = "供应链金融",
        BillDiscount = "票据贴现",
        /// Loans underwritten on tax data (税易贷, 银税互动).
        TaxDataLoan = "税易贷",
        /// Loans against government procurement contracts (政采贷).
        ProcurementLoan = "政采贷",
        TradeLoan = "外贸贷",
        TechLoan = "科创贷",
        AgriLoan = "涉农贷",
        GreenLoan = "绿色贷",
        /// Guarantees issued by a financing guarantee company.
        FinancingGuarantee = "融资担保",
    }
}

labelled_enum! {
    /// Kind of institution publishing a product.
    pub enum InstitutionKind {
        StateBank = "国有大型银行",
        JointStockBank = "股份制银行",
        CityBank = "城市商业银行",
        RuralBank = "农村金融机构",
        InternetBank = "互联网银行",
        GuaranteeCompany = "融资担保公司",
        PolicyBank = "政策性银行",
    }
}

/// One financing product with its 准入条件.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
