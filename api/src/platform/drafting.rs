//! Policy drafts from prose: a policy office sends only the text of its notice; the extractor
//! (`huiqi_index::extract`) reads the rule, the benefit, the window and the regions, and the
//! draft is stored for the office to edit (PUT), preview and publish. The answer carries what
//! a reviewer needs: every clause with the sentence it came from and a confidence, and the
//! condition sentences nothing could read.

use huiqi_engine::codes::region;
use huiqi_engine::model::Role;
use huiqi_engine::model::{
    BenefitBasis, IssuerLevel, Policy, PolicyKind, RuleSpec, SourceRef, Status,
};
use huiqi_index::extract::{self, Draft};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Platform;
use super::access::Actor;
use crate::error::{Error, Result};

/// `POST /v1/policies` with the notice's text and, optionally, what the text does not say.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyProse {
    /// The notice as published (申报条件, 支持标准, 申报时间 …).
    pub text: String,
    /// Default: `P-D-` and the first 8 hex digits of the text's SHA-256, so sending the same
    /// text twice is a conflict, not a second draft.
    #[serde(default)]
    pub id: Option<String>,
    /// Default: the text's first line.
    #[serde(default)]
    pub title: Option<String>,
    /// 发布单位. Default: the office's region name.
    #[serde(default)]
    pub issuer: Option<String>,
    /// Default: from the office's region code (2 digits 省级, 4 市级, 6 区县; admins 国家).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub issuer_level: Option<IssuerLevel>,
    /// Default: from the benefit read (利息 → 贷款贴息, 担保费 → 担保费补贴 …) and the title.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub kind: Option<PolicyKind>,
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub source: Option<SourceRef>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// The stored draft and what the extractor read.
#[derive(Debug, Clone, Serialize)]
pub struct ProseDraft {
    pub policy: Policy,
    /// The extractor's reading: clauses with their sentences (byte and char spans) and
    /// confidence, the benefit's and window's sentences, loan terms, and the unread sentences.
    pub extracted: Draft,
}

/// The longest notice accepted, in characters (a long notice is a few thousand).
const MAX_TEXT_CHARS: usize = 50_000;

impl Platform {
    /// Extracts a draft policy from prose and stores it as a draft.
    pub fn draft_from_prose(&self, actor: &Actor, prose: PolicyProse) -> Result<ProseDraft> {
        actor.require(&[Role::PolicyOffice, Role::Admin], "write policies")?;
        let text = prose.text.trim();
        if text.is_empty() {
            return Err(Error::invalid_field("text", "the notice's text is empty"));
        }
        let chars = text.chars().count();
        if chars > MAX_TEXT_CHARS {
            return Err(Error::invalid_field(
                "text",
                format!("the text has {chars} characters; at most {MAX_TEXT_CHARS} are read"),
            ));
        }
        let draft = extract::extract(text);
        let Some(benefit) = draft.benefit.clone() else {
            return Err(Error::invalid_field(
                "text",
                "no 支持标准 could be read (e.g. 按实际支付利息的50%给予贴息, 每家最高50万元); \
                 state the benefit in the text, or send the whole policy",
            )
            .with_details(serde_json::json!({ "field": "text", "extracted": draft })));
        };
        let office = actor
            .is(Role::PolicyOffice)
            .then(|| actor.scope().to_string());
        // Regions the text names; an office's own region when it names none.
        let regions = if draft.regions.is_empty() {
            office.iter().cloned().collect()
        } else {
            draft.regions.clone()
        };
        let title = prose.title.unwrap_or_else(|| {
            text.lines()
                .next()
                .unwrap_or_default()
                .chars()
                .take(80)
                .collect::<String>()
                .trim()
                .to_string()
        });
        let policy = Policy {
            id: prose.id.unwrap_or_else(|| default_id(text)),
            issuer: prose.issuer.unwrap_or_else(|| {
                office
                    .as_deref()
                    .and_then(region::name)
                    .map_or_else(|| "未填写".to_string(), String::from)
            }),
            issuer_level: prose
                .issuer_level
                .unwrap_or_else(|| level_of(office.as_deref())),
            kind: prose
                .kind
                .unwrap_or_else(|| kind_of(benefit.basis, &title, text)),
            title,
            text: text.to_string(),
            benefit,
            eligibility: RuleSpec::Text(draft.rule.clone()),
            regions,
            window: draft.window,
            status: Status::Draft,
            version: 1,
            source: prose.source.unwrap_or_default(),
            tags: prose.tags,
            cases: Vec::new(),
        };
        let (policy, _) = self.put_policy(actor, policy, true)?;
        Ok(ProseDraft {
            policy,
            extracted: draft,
        })
    }
}

fn default_id(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest[..4].iter().map(|b| format!("{b:02X}")).collect();
    format!("P-D-{hex}")
}

fn level_of(office: Option<&str>) -> IssuerLevel {
    match office.map(str::len) {
        None => IssuerLevel::National,
        Some(0..=2) => IssuerLevel::Provincial,
        Some(3..=4) => IssuerLevel::City,
        Some(_) => IssuerLevel::District,
    }
}

/// The kind of policy, from what the benefit is computed on, refined by the title's words.
fn kind_of(basis: BenefitBasis, title: &str, text: &str) -> PolicyKind {
    let says = |w: &str| title.contains(w) || text.contains(w);
    match basis {
        BenefitBasis::GuaranteeFee => PolicyKind::GuaranteeFeeSubsidy,
        BenefitBasis::LenderLoss => PolicyKind::RiskCompensation,
        BenefitBasis::BridgeFunding => PolicyKind::BridgeLoan,
        BenefitBasis::Fixed => PolicyKind::Award,
        BenefitBasis::Interest | BenefitBasis::Lpr | BenefitBasis::RatePoints => {
            if title.contains("首贷") || says("首笔贷款") {
                PolicyKind::FirstLoanSubsidy
            } else if says("知识产权质押") {
                PolicyKind::IpPledgeSubsidy
            } else if title.contains("绿色") {
                PolicyKind::GreenCreditSubsidy
            } else {
                PolicyKind::InterestSubsidy
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_office_and_the_benefit() {
        assert_eq!(level_of(Some("33")), IssuerLevel::Provincial);
        assert_eq!(level_of(Some("3301")), IssuerLevel::City);
        assert_eq!(level_of(Some("330110")), IssuerLevel::District);
        assert_eq!(level_of(None), IssuerLevel::National);
        assert_eq!(
            kind_of(
                BenefitBasis::Interest,
                "关于开展小微企业首贷贴息工作的通知",
                ""
            ),
            PolicyKind::FirstLoanSubsidy
        );
        assert_eq!(
            kind_of(BenefitBasis::GuaranteeFee, "担保费补贴", ""),
            PolicyKind::GuaranteeFeeSubsidy
        );
        assert_eq!(
            kind_of(BenefitBasis::Interest, "科技贷款贴息", "按利息的50%贴息"),
            PolicyKind::InterestSubsidy
        );
        // The same text gives the same id; another text another.
        assert_eq!(default_id("甲"), default_id("甲"));
        assert_ne!(default_id("甲"), default_id("乙"));
        assert!(default_id("甲").starts_with("P-D-"));
    }
}
