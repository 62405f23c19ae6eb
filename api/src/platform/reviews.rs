//! Advisor review of machine matches (系统智能匹配+人工复核推荐).
//!
//! Every recommendation the platform makes to an enterprise (a policy from a 政策找人 job or a
//! re-match, an offer in its feed) is one row per (enterprise, offer, offer version). Where the
//! deployment requires review, it starts `pending`, and only an approval lets it reach the
//! enterprise: its notifications are then delivered (feed and webhooks); a rejection withholds
//! them for good. Without review it is `not_required` and goes out at once.

use std::collections::HashMap;

use huiqi_engine::matching::OfferKind;
use huiqi_engine::model::Role;
use huiqi_engine::rule::{Explanation, Facts, Outcome};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

use super::Platform;
use super::access::Actor;
use super::matching::{ExplainedMatch, kind_name};
use crate::error::{Error, ErrorCode, Result};
use crate::store::audit::Purpose;

/// A recommendation's review.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ReviewState {
    pub recommendation_id: i64,
    /// `pending`, `approved`, `rejected` or `not_required`.
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviewer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviewed_at: Option<String>,
}

impl ReviewState {
    /// Whether the enterprise may see the recommendation.
    pub fn visible(&self) -> bool {
        self.state == "approved" || self.state == "not_required"
    }
}

/// Why an advisor decided as they did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// 已核实符合条件.
    VerifiedEligible,
    /// 符合企业融资需求.
    FitsNeed,
    /// 实际不符合条件.
    NotEligibleInFact,
    /// 企业信息已过期，需先更新.
    DataOutdated,
    /// 产品与企业需求不匹配.
    Unsuitable,
    /// 企业已明确不需要.
    EnterpriseDeclined,
    /// 重复推荐.
    Duplicate,
    /// 其他 (the note says what).
    Other,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::VerifiedEligible => "verified_eligible",
            Reason::FitsNeed => "fits_need",
            Reason::NotEligibleInFact => "not_eligible_in_fact",
            Reason::DataOutdated => "data_outdated",
            Reason::Unsuitable => "unsuitable",
            Reason::EnterpriseDeclined => "enterprise_declined",
            Reason::Duplicate => "duplicate",
            Reason::Other => "other",
        }
    }

    fn approves(self) -> bool {
        matches!(
            self,
            Reason::VerifiedEligible | Reason::FitsNeed | Reason::Other
        )
    }

    fn rejects(self) -> bool {
        !matches!(self, Reason::VerifiedEligible | Reason::FitsNeed)
    }
}

/// approve or reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approve,
    Reject,
}

/// An advisor's decision on one recommendation.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub decision: Verdict,
    pub reason: Reason,
    /// Free text for the file (required when the reason is `other`), at most 2,000 characters.
    #[serde(default)]
    pub note: Option<String>,
}

/// Which recommendations to list.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// `pending` (default), `approved`, `rejected` or `all`.
    pub state: Option<String>,
    /// Only this enterprise.
    pub enterprise: Option<String>,
    /// Only ids after this one (paging).
    pub after: Option<i64>,
    /// At most this many (default 50, at most 500).
    pub limit: Option<u32>,
}

/// One recommendation in the review queue, explained for the advisor.
#[derive(Debug, Clone, Serialize)]
pub struct QueueItem {
    pub id: i64,
    pub enterprise_id: String,
    pub enterprise_name: String,
    pub offer_kind: String,
    pub offer_id: String,
    pub offer_version: i64,
    pub title: String,
    pub provider: String,
    pub outcome: String,
    pub score: f64,
    /// What made it: `outreach` (a policy's 政策找人 job), `rematch` (a profile change),
    /// `match` (a match or the feed).
    pub source: String,
    pub review: ReviewState,
    pub created_at: String,
    /// Every clause, evaluated now with what the advisor may see.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
}

/// A recommendation row to create (or find).
pub(super) struct NewRecommendation<'a> {
    pub enterprise_id: &'a str,
    pub offer_kind: &'a str,
    pub offer_id: &'a str,
    pub offer_version: i64,
    pub provider: &'a str,
    pub outcome: Outcome,
    pub score: f64,
    pub source: &'a str,
}

fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Eligible => "eligible",
        Outcome::NeedsInfo => "needs_info",
        Outcome::Ineligible => "ineligible",
    }
}

/// Finds or creates the recommendation; returns its id and review state.
pub(super) fn recommend(
    tx: &Transaction<'_>,
    r: &NewRecommendation<'_>,
    review_required: bool,
    now: &str,
) -> Result<(i64, String)> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO recommendations
         (enterprise_id, offer_kind, offer_id, offer_version, provider, outcome, score, source, review, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        r.enterprise_id,
        r.offer_kind,
        r.offer_id,
        r.offer_version,
        r.provider,
        outcome_name(r.outcome),
        r.score,
        r.source,
        if review_required { "pending" } else { "not_required" },
        now
    ])?;
    Ok(tx
        .prepare_cached(
            "SELECT id, review FROM recommendations
             WHERE enterprise_id = ?1 AND offer_id = ?2 AND offer_version = ?3",
        )?
        .query_row(
            params![r.enterprise_id, r.offer_id, r.offer_version],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?)
}

fn state_from_row(row: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<ReviewState> {
    Ok(ReviewState {
        recommendation_id: row.get(at)?,
        state: row.get(at + 1)?,
        reviewer: row.get(at + 2)?,
        reason: row.get(at + 3)?,
        note: row.get(at + 4)?,
        reviewed_at: row.get(at + 5)?,
    })
}

impl Platform {
    /// Makes sure every offered match has a recommendation row; returns the reviews by
    /// (offer id, version).
    pub(super) fn ensure_reviews(
        &self,
        enterprise_id: &str,
        offered: &[&ExplainedMatch],
    ) -> Result<HashMap<(String, u32), ReviewState>> {
        let now = self.now();
        let snapshot = self.snapshot();
        // Products are recorded under their institution's id, which is what an institution's
        // scope (and so its statistics) names; policies under their issuer.
        let provider = |m: &ExplainedMatch| match m.result.offer.kind {
            OfferKind::Product => snapshot.product(&m.result.offer.id).map_or_else(
                || m.result.offer.provider.clone(),
                |p| p.item.institution_id.clone(),
            ),
            OfferKind::Policy => m.result.offer.provider.clone(),
        };
        self.db.write(|tx| {
            for m in offered {
                recommend(
                    tx,
                    &NewRecommendation {
                        enterprise_id,
                        offer_kind: kind_name(m.result.offer.kind),
                        offer_id: &m.result.offer.id,
                        offer_version: i64::from(m.version),
                        provider: &provider(m),
                        outcome: m.result.outcome,
                        score: f64::from(m.result.score.total),
                        source: "match",
                    },
                    true,
                    &now,
                )?;
            }
            let mut stmt = tx.prepare_cached(
                "SELECT offer_id, offer_version, id, review, reviewer, reason, note, reviewed_at
                 FROM recommendations WHERE enterprise_id = ?1",
            )?;
            let rows = stmt.query_map([enterprise_id], |row| {
                let id: String = row.get(0)?;
                let version: u32 = row.get(1)?;
                Ok(((id, version), state_from_row(row, 2)?))
            })?;
            Ok(rows.collect::<rusqlite::Result<HashMap<_, _>>>()?)
        })
    }

    fn may_review(&self, actor: &Actor, enterprise_id: &str) -> bool {
        actor.is(Role::Admin)
            || (actor.is(Role::Advisor)
                && self
                    .advisors_of(enterprise_id)
                    .iter()
                    .any(|a| a == actor.scope()))
    }

    /// The review queue: recommendations for the enterprises assigned to the advisor (all,
    /// for admins), each explained as the advisor may see it.
    pub async fn review_queue(&self, actor: &Actor, q: &QueueQuery) -> Result<Vec<QueueItem>> {
        actor.require(&[Role::Advisor, Role::Admin], "review recommendations")?;
        let state = q.state.as_deref().unwrap_or("pending");
        if !["pending", "approved", "rejected", "not_required", "all"].contains(&state) {
            return Err(Error::parameter(
                "state",
                format!("{state:?} is not pending, approved, rejected, not_required or all"),
            ));
        }
        let limit = q.limit.unwrap_or(50).clamp(1, 500) as usize;
        let advisor = actor.is(Role::Advisor).then(|| actor.scope().to_string());
        let rows: Vec<QueueItem> = self.db.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, enterprise_id, offer_kind, offer_id, offer_version, provider, outcome, score, source, created_at,
                        id, review, reviewer, reason, note, reviewed_at
                 FROM recommendations
                 WHERE (?1 = 'all' OR review = ?1) AND (?2 IS NULL OR enterprise_id = ?2) AND id > ?3
                   AND (?4 IS NULL OR enterprise_id IN (SELECT enterprise_id FROM assignments WHERE advisor = ?4))
                 ORDER BY id LIMIT ?5",
            )?;
            let args = params![state, q.enterprise, q.after.unwrap_or(0), advisor, limit as i64];
            let rows = stmt.query_map(args, |r| {
                Ok(QueueItem {
                        id: r.get(0)?,
                        enterprise_id: r.get(1)?,
                        enterprise_name: String::new(),
                        offer_kind: r.get(2)?,
                        offer_id: r.get(3)?,
                        offer_version: r.get(4)?,
                        title: String::new(),
                        provider: r.get(5)?,
                        outcome: r.get(6)?,
                        score: r.get(7)?,
                        source: r.get(8)?,
                        created_at: r.get(9)?,
                        review: state_from_row(r, 10)?,
                        explanation: None,
                })
            })?;
            rows.collect()
        })?;
        let snapshot = self.snapshot();
        let today = self.today();
        let reader = actor.reader();
        let mut items = Vec::new();
        for mut item in rows {
            if let Some(p) = self.profile(&item.enterprise_id) {
                item.enterprise_name = p.enterprise.name.clone();
                let facts = Facts::for_reader(&p.enterprise, today, &reader);
                item.explanation = snapshot.matching.explain_offer(&item.offer_id, &facts);
            }
            item.title = snapshot
                .product(&item.offer_id)
                .map(|p| p.item.name.clone())
                .or_else(|| {
                    snapshot
                        .policy(&item.offer_id)
                        .map(|p| p.item.title.clone())
                })
                .unwrap_or_default();
            items.push(item);
        }
        let mut entries = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for item in &items {
            if seen.insert(item.enterprise_id.clone()) {
                entries.push(actor.entry(
                    "enterprise.review_queue",
                    format!("enterprise:{}", item.enterprise_id),
                    Purpose::AdvisoryReview,
                ));
            }
        }
        self.audit.append(entries).await?;
        Ok(items)
    }

    /// Approves or rejects one pending recommendation. Approval delivers its notifications;
    /// rejection withholds them.
    pub async fn decide(&self, actor: &Actor, id: i64, d: Decision) -> Result<ReviewState> {
        actor.require(&[Role::Advisor, Role::Admin], "review recommendations")?;
        let note = d.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
        if note.is_some_and(|n| n.chars().count() > 2000) {
            return Err(Error::invalid_field("note", "at most 2,000 characters"));
        }
        if d.reason == Reason::Other && note.is_none() {
            return Err(Error::new(
                ErrorCode::MissingField,
                "note: say what the reason is when it is `other`",
            )
            .with_details(serde_json::json!({ "field": "note" })));
        }
        let fits = match d.decision {
            Verdict::Approve => d.reason.approves(),
            Verdict::Reject => d.reason.rejects(),
        };
        if !fits {
            return Err(Error::invalid_field(
                "reason",
                format!(
                    "{} is not a reason to {}",
                    d.reason.as_str(),
                    if d.decision == Verdict::Approve {
                        "approve"
                    } else {
                        "reject"
                    }
                ),
            ));
        }
        let row: Option<(String, String)> = self.db.read(|c| {
            c.query_row(
                "SELECT enterprise_id, review FROM recommendations WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })?;
        let Some((enterprise_id, state)) = row.filter(|(e, _)| self.may_review(actor, e)) else {
            return Err(Error::not_found("recommendation", &id.to_string()));
        };
        if state != "pending" {
            return Err(Error::conflict(format!(
                "recommendation {id} is already {state}; a decision is final"
            )));
        }
        let now = self.now();
        let reviewer = actor.describe();
        let (new_state, delivered) = self.db.write(|tx| {
            let new_state = match d.decision {
                Verdict::Approve => "approved",
                Verdict::Reject => "rejected",
            };
            tx.execute(
                "UPDATE recommendations SET review = ?1, reviewer = ?2, reason = ?3, note = ?4, reviewed_at = ?5
                 WHERE id = ?6 AND review = 'pending'",
                params![new_state, reviewer, d.reason.as_str(), note, now, id],
            )?;
            let delivered = match d.decision {
                Verdict::Approve => super::outreach::deliver_for_recommendation(tx, id, &now)?,
                Verdict::Reject => {
                    tx.execute(
                        "UPDATE notifications SET state = 'withheld' WHERE recommendation_id = ?1 AND state = 'pending_review'",
                        [id],
                    )?;
                    0
                }
            };
            Ok((new_state, delivered))
        })?;
        if delivered > 0 {
            self.deliveries_wake.notify_one();
        }
        let mut entry = actor.entry(
            "recommendation.review",
            format!("enterprise:{enterprise_id}"),
            Purpose::AdvisoryReview,
        );
        entry.detail = Some(serde_json::json!({
            "recommendation": id, "decision": new_state, "reason": d.reason.as_str(),
        }));
        self.audit.append(vec![entry]).await?;
        Ok(ReviewState {
            recommendation_id: id,
            state: new_state.into(),
            reviewer: Some(reviewer),
            reason: Some(d.reason.as_str().into()),
            note: note.map(String::from),
            reviewed_at: Some(now),
        })
    }
}
