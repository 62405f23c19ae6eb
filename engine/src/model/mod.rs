//! The domain model: enterprises, bank products and support policies, as serde JSON.
//!
//! Conventions used everywhere in huiqi:
//! - money is in yuan as `i64`;
//! - rates and ratios are in basis points as `i64` (1% = 100 bp, an annual rate of 3.45% = 345);
//! - dates are ISO-8601 (`NaiveDate`), "today" is always passed in, never read from the clock.

/// A closed set of values whose JSON form is their Chinese name, with [`label`](#) returning
/// that same name, so the two can never disagree.
macro_rules! labelled_enum {
    ($(#[$m:meta])* pub enum $name:ident { $($(#[$vm:meta])* $variant:ident = $label:literal,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $label)] $variant,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The Chinese name, as in JSON.
            pub fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label,)*
                }
            }
        }
    };
}

mod enterprise;
mod policy;
mod product;

pub use enterprise::*;
pub use policy::*;
pub use product::*;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::fields::Category;
use crate::rule::Expr;

/// An eligibility rule as it appears in input files: rule-language text, or its JSON form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum RuleSpec {
    Text(String),
    /// The rule's JSON form (see docs/rules.md).
    Json(#[cfg_attr(feature = "schema", schemars(with = "serde_json::Value"))] Expr),
}

impl RuleSpec {
    /// Parses (text) and type-checks the rule; errors carry line and column (text) or the
    /// JSON path (JSON form).
    pub fn compile(&self) -> Result<crate::rule::Rule, crate::rule::RuleErrors> {
        match self {
            RuleSpec::Text(text) => crate::rule::compile(text),
            RuleSpec::Json(expr) => crate::rule::Rule::from_expr(expr.clone()),
        }
    }
}

/// A closed range of integers, e.g. an amount in yuan or a term in months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Range {
    pub min: i64,
    pub max: i64,
}

impl Range {
    pub fn contains(&self, value: i64) -> bool {
        self.min <= value && value <= self.max
    }
}

labelled_enum! {
    /// How a loan is secured (担保方式).
    pub enum GuaranteeType {
        Credit = "信用",
        Mortgage = "抵押",
        Pledge = "质押",
        Guarantor = "保证",
    }
}

/// What the enterprise wants to borrow (融资需求).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct FinancingNeed {
    /// Amount wanted, yuan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    /// Term wanted, months.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term_months: Option<i64>,
    /// 用途: 流动资金 / 设备购置 / 研发投入 / 订单生产 / 厂房建设 / 农业生产 / 外贸结算 / 其他.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// Guarantee types the enterprise can offer; empty = not stated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guarantee_types: Vec<GuaranteeType>,
    /// Highest acceptable annual rate, basis points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rate_bp: Option<i64>,
    /// The need in the enterprise's own words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// Who reads enterprise data: the role, and for institutions which one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Reader {
    pub role: Role,
    /// Institution id when `role` is `institution`; enterprise id when `role` is `enterprise`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
}

/// The platform's roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Enterprise,
    Advisor,
    PolicyOffice,
    Institution,
    Admin,
}

/// Who a consent grant is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Grantee {
    /// Every reader with this role.
    Role(Role),
    /// One institution, by id.
    Institution(String),
}

/// The enterprise's authorisation (授权) for one credit-information category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ConsentGrant {
    pub category: Category,
    pub grantees: Vec<Grantee>,
    /// Last day the grant is valid; `None` = until revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
}

/// Lifecycle of a product or policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    /// Products: on sale. Policies: published and open.
    Published,
    /// Products: paused or withdrawn. Policies: window closed or repealed.
    Expired,
}

impl Status {
    /// The name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Published => "published",
            Status::Expired => "expired",
        }
    }
}
