//! Forward matching for the API: one enterprise (stored, or given inline) against every live
//! offer, with every listed offer's clause-by-clause explanation, and the recommendations
//! feed the enterprise sees.
//!
//! Relevance signals (full text, and semantic similarity of the financing need) depend only on
//! the profile and the catalog, so they are cached per (enterprise, revision, snapshot).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use huiqi_engine::Enterprise;
use huiqi_engine::matching::{
    AskNext, Match, MatchOptions, MatchResult, OfferKind, Signals, Totals, match_enterprise,
};
use huiqi_engine::model::Role;
use huiqi_engine::rule::{Explanation, Facts, Outcome};
use huiqi_index::snapshot::Snapshot;
use serde::{Deserialize, Serialize};

use super::Platform;
use super::access::Actor;
use super::reviews::ReviewState;
use crate::error::{Error, ErrorCode, Result};
use crate::store::audit::Purpose;

/// Signals by (enterprise id, revision, snapshot version).
#[derive(Debug, Default)]
pub struct SignalsCache {
    map: Mutex<HashMap<(String, i64, u64), Arc<Signals>>>,
}

impl SignalsCache {
    const MAX: usize = 100_000;

    fn get(&self, key: &(String, i64, u64)) -> Option<Arc<Signals>> {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }

    fn put(&self, key: (String, i64, u64), signals: Arc<Signals>) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= Self::MAX {
            // Stale entries (old revisions, old snapshots) are the bulk; start over.
            map.clear();
        }
        map.insert(key, signals);
    }
}

/// A match request: a stored enterprise by id, or a profile given inline (not stored).
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchRequest {
    /// An enterprise id on the platform.
    pub enterprise_id: Option<String>,
    /// A whole profile to match without storing it ("what if").
    pub profile: Option<Box<Enterprise>>,
    /// Evaluation date; today when absent.
    pub as_of: Option<NaiveDate>,
    /// Offers listed per list (default from the configuration, at most 200).
    pub limit: Option<usize>,
    /// Include every listed offer's clause-by-clause explanation (default true).
    pub explain: Option<bool>,
}

/// One listed offer with its score breakdown and, when asked, its explanation.
#[derive(Debug, Clone, Serialize)]
pub struct ExplainedMatch {
    #[serde(flatten)]
    pub result: Match,
    pub version: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
    /// The advisor review of this recommendation, where reviews are kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<ReviewState>,
}

/// The answer to a match request.
#[derive(Debug, Clone, Serialize)]
pub struct MatchResponse {
    pub enterprise: String,
    pub as_of: NaiveDate,
    pub eligible: Vec<ExplainedMatch>,
    pub needs_info: Vec<ExplainedMatch>,
    pub near_misses: Vec<ExplainedMatch>,
    pub ask_next: Vec<AskNext>,
    pub totals: Totals,
    pub evaluated: usize,
    /// Offers held back until an advisor approves them (review required, enterprise reader).
    #[serde(skip_serializing_if = "is_zero")]
    pub awaiting_review: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// One entry of the recommendations feed.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Recommendation {
    pub offer_id: String,
    pub kind: &'static str,
    pub version: u32,
    pub title: String,
    pub label: &'static str,
    pub provider: String,
    /// `eligible` or `needs_info`.
    pub outcome: Outcome,
    pub score: f32,
    /// Facts to add before the offer can be confirmed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<&'static str>,
    /// Days until the application window closes (policies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_left: Option<i64>,
    /// Estimated benefit in yuan (policies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub benefit_yuan: Option<i64>,
    /// The advisor review, where reviews are kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<ReviewState>,
}

pub fn kind_name(kind: OfferKind) -> &'static str {
    match kind {
        OfferKind::Product => "product",
        OfferKind::Policy => "policy",
    }
}

/// The version of an offer in a snapshot.
pub fn offer_version(snapshot: &Snapshot, kind: OfferKind, id: &str) -> u32 {
    match kind {
        OfferKind::Product => snapshot.product(id).map_or(0, |p| p.item.version),
        OfferKind::Policy => snapshot.policy(id).map_or(0, |p| p.item.version),
    }
}

impl Platform {
    fn signals_for(
        &self,
        snapshot: &Snapshot,
        e: &Enterprise,
        revision: Option<i64>,
    ) -> Result<Arc<Signals>> {
        let key = revision.map(|r| (e.id.clone(), r, snapshot.manifest.version));
        if let Some(hit) = key.as_ref().and_then(|k| self.signals.get(k)) {
            return Ok(hit);
        }
        let signals = Arc::new(snapshot.signals(e, Some(self.embedder.as_ref()))?);
        if let Some(k) = key {
            self.signals.put(k, signals.clone());
        }
        Ok(signals)
    }

    fn options(&self, limit: Option<usize>) -> Result<MatchOptions> {
        let mut options = self.config.matching.clone();
        if let Some(limit) = limit {
            if !(1..=200).contains(&limit) {
                return Err(Error::invalid_field("limit", "must be between 1 and 200"));
            }
            options.limit = limit;
        }
        Ok(options)
    }

    /// Matches one enterprise for `actor`: consent decides which facts the actor's matching
    /// may use; with review required, an enterprise sees only offers an advisor approved.
    pub async fn match_enterprise(
        &self,
        actor: &Actor,
        req: MatchRequest,
    ) -> Result<MatchResponse> {
        let (enterprise, revision, target, purpose) = match (req.enterprise_id, req.profile) {
            (Some(id), None) => {
                let (p, purpose) = self.readable(actor, &id)?;
                let purpose = if purpose == Purpose::ProfileMaintenance {
                    Purpose::FinancingMatch
                } else {
                    purpose
                };
                (
                    p.enterprise.clone(),
                    Some(p.revision),
                    format!("enterprise:{id}"),
                    purpose,
                )
            }
            (None, Some(profile)) => {
                super::enterprises::validate_profile(&profile)?;
                let target = format!("inline:{}", profile.id);
                (
                    *profile,
                    None,
                    target,
                    actor.purpose_or(Purpose::FinancingMatch),
                )
            }
            (Some(_), Some(_)) => {
                return Err(Error::new(
                    ErrorCode::InvalidField,
                    "give either enterprise_id or profile, not both",
                ));
            }
            (None, None) => {
                return Err(Error::new(
                    ErrorCode::MissingField,
                    "give enterprise_id (a stored enterprise) or profile (an inline one)",
                )
                .with_details(serde_json::json!({ "field": "enterprise_id" })));
            }
        };
        let as_of = req.as_of.unwrap_or_else(|| self.today());
        let options = self.options(req.limit)?;
        let explain = req.explain.unwrap_or(true);
        let snapshot = self.snapshot();
        let signals = self.signals_for(&snapshot, &enterprise, revision)?;
        let reader = actor.reader();
        let result = match_enterprise(
            &snapshot.matching,
            &enterprise,
            as_of,
            Some(&reader),
            &signals,
            &options,
        );
        let facts = Facts::for_reader(&enterprise, as_of, &reader);
        let mut response = self.shape(&snapshot, result, &facts, explain);
        // Reviews concern stored enterprises only.
        if revision.is_some() && self.config.review_required {
            self.apply_reviews(actor, &enterprise.id, &mut response)?;
        }
        self.metrics.matches.inc();
        let mut entry = actor.entry("enterprise.match", target, purpose);
        entry.detail = Some(serde_json::json!({
            "eligible": response.totals.eligible,
            "needs_info": response.totals.needs_info,
        }));
        self.audit.append(vec![entry]).await?;
        Ok(response)
    }

    fn shape(
        &self,
        snapshot: &Snapshot,
        r: MatchResult,
        facts: &Facts<'_>,
        explain: bool,
    ) -> MatchResponse {
        let list = |matches: Vec<Match>| -> Vec<ExplainedMatch> {
            matches
                .into_iter()
                .map(|m| ExplainedMatch {
                    version: offer_version(snapshot, m.offer.kind, &m.offer.id),
                    explanation: if explain {
                        snapshot.matching.explain(&m, facts)
                    } else {
                        None
                    },
                    result: m,
                    review: None,
                })
                .collect()
        };
        MatchResponse {
            enterprise: r.enterprise,
            as_of: r.as_of,
            eligible: list(r.eligible),
            needs_info: list(r.needs_info),
            near_misses: list(r.near_misses),
            ask_next: r.ask_next,
            totals: r.totals,
            evaluated: r.evaluated,
            awaiting_review: 0,
        }
    }

    /// Annotates matches with their review; for the enterprise itself, removes the ones not
    /// approved (and queues them for review).
    fn apply_reviews(
        &self,
        actor: &Actor,
        enterprise_id: &str,
        r: &mut MatchResponse,
    ) -> Result<()> {
        let offered: Vec<&ExplainedMatch> = r.eligible.iter().chain(&r.needs_info).collect();
        let states = self.ensure_reviews(enterprise_id, &offered)?;
        let hide = actor.is(Role::Enterprise);
        let mut held = 0;
        for list in [&mut r.eligible, &mut r.needs_info] {
            for m in list.iter_mut() {
                m.review = states.get(&(m.result.offer.id.clone(), m.version)).cloned();
            }
            if hide {
                let before = list.len();
                list.retain(|m| m.review.as_ref().is_some_and(|s| s.visible()));
                held += before - list.len();
            }
        }
        r.awaiting_review = held;
        Ok(())
    }

    /// The recommendations feed: eligible offers and offers needing information, best first.
    /// With review required the enterprise sees only approved ones.
    pub async fn recommendations(&self, actor: &Actor, id: &str) -> Result<Vec<Recommendation>> {
        let (profile, purpose) = self.readable(actor, id)?;
        let purpose = if purpose == Purpose::ProfileMaintenance {
            Purpose::FinancingMatch
        } else {
            purpose
        };
        let snapshot = self.snapshot();
        let as_of = self.today();
        let signals = self.signals_for(&snapshot, &profile.enterprise, Some(profile.revision))?;
        let reader = actor.reader();
        let result = match_enterprise(
            &snapshot.matching,
            &profile.enterprise,
            as_of,
            Some(&reader),
            &signals,
            &self.config.matching,
        );
        let facts = Facts::for_reader(&profile.enterprise, as_of, &reader);
        let mut shaped = self.shape(&snapshot, result, &facts, false);
        if self.config.review_required {
            self.apply_reviews(actor, id, &mut shaped)?;
        }
        let mut feed: Vec<Recommendation> = shaped
            .eligible
            .into_iter()
            .chain(shaped.needs_info)
            .map(|m| Recommendation {
                kind: kind_name(m.result.offer.kind),
                version: m.version,
                title: m.result.offer.title,
                label: m.result.offer.label,
                provider: m.result.offer.provider,
                outcome: m.result.outcome,
                score: m.result.score.total,
                missing: m.result.missing,
                days_left: m.result.score.days_left,
                benefit_yuan: m.result.score.benefit.as_ref().map(|b| b.yuan),
                review: m.review,
                offer_id: m.result.offer.id,
            })
            .collect();
        feed.sort_by(|a, b| {
            (a.outcome != Outcome::Eligible)
                .cmp(&(b.outcome != Outcome::Eligible))
                .then(b.score.total_cmp(&a.score))
        });
        let mut entry = actor.entry(
            "enterprise.recommendations",
            format!("enterprise:{id}"),
            purpose,
        );
        entry.detail = Some(serde_json::json!({ "count": feed.len() }));
        self.audit.append(vec![entry]).await?;
        Ok(feed)
    }
}
