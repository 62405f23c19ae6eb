//! Products and policies: search, read, create and update by their owners, and the policy
//! lifecycle draft → preview → publish (which queues a 政策找人 job) → expire.
//!
//! Every change is one record applied to the live index snapshot
//! ([`huiqi_index::pipeline::apply`]): validated (rules parsed and type-checked, a policy's
//! example cases run), one document re-indexed, one vector embedded, published atomically.
//! These calls block (file I/O, indexing); the HTTP layer runs them on blocking threads.
//!
//! Ownership: an institution changes its own products (`institution_id` = its scope); a
//! policy office changes policies whose regions all lie within its region; admins change
//! anything.

use huiqi_engine::codes::region;
use huiqi_engine::model::{Policy, Product, Role, Status};
use huiqi_engine::reverse::{CompiledPredicate, GroupCount, reach};
use huiqi_engine::rule::Outcome;
use huiqi_index::pipeline::{self, Change};
use huiqi_index::text::{DocKind, Filters, TextHit};
use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::Platform;
use super::access::{Actor, role_name};
use crate::error::{Error, ErrorCode, Result};
use crate::store::audit::Purpose;

/// Whether a policy office with region `scope` owns `policy`: every region of the policy
/// lies within the office's (a nationwide policy belongs to admins only).
pub fn office_covers(scope: &str, policy: &Policy) -> bool {
    !policy.regions.is_empty() && policy.regions.iter().all(|r| region::is_under(r, scope))
}

/// Search parameters.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// The query, in Chinese as people write it (segmented with jieba).
    pub q: String,
    /// Rank by meaning (embedding similarity) instead of words.
    #[serde(default)]
    pub semantic: bool,
    /// `product` or `policy`.
    pub doc: Option<String>,
    /// A kind label, e.g. `信用贷` or `贷款贴息`.
    pub kind: Option<String>,
    /// Only offers serving this region code (its own, its ancestors', nationwide ones).
    pub region: Option<String>,
    /// A product's institution id or a policy's issuer.
    pub institution: Option<String>,
    /// At most this many (default 10, at most 100).
    pub limit: Option<usize>,
}

/// One search result.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Hit {
    pub id: String,
    /// `product` or `policy`.
    pub doc: &'static str,
    pub title: String,
    pub kind: String,
    pub institution: String,
    /// BM25 score (full text) or cosine similarity (semantic).
    pub score: f32,
    /// Matched words marked with 【】 (full text only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
}

/// The reach preview of a policy: who it would reach, before publishing.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Preview {
    pub policy_id: String,
    pub version: u32,
    pub as_of: chrono::NaiveDate,
    /// The rule as evaluated (the policy's regions folded in).
    pub rule: String,
    pub enterprises: usize,
    pub eligible: usize,
    pub needs_info: usize,
    pub by_province: Vec<Group>,
    pub by_city: Vec<Group>,
    pub by_size: Vec<Group>,
    pub by_industry: Vec<Group>,
    /// Some of the eligible enterprises (public registration data).
    pub sample_eligible: Vec<SampleEnterprise>,
    /// Some of the enterprises that may qualify once they add facts.
    pub sample_needs_info: Vec<SampleEnterprise>,
}

/// Counts of one group (a province, city, size class or industry section).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Group {
    /// The code (`33`, `3301`, `小型`, `C`); `null` where unknown.
    pub key: Option<String>,
    pub name: Option<String>,
    pub eligible: u64,
    pub needs_info: u64,
}

/// An enterprise in a preview sample.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SampleEnterprise {
    pub id: String,
    pub name: String,
    pub region: Option<String>,
}

/// What a lifecycle step did.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Lifecycle {
    pub policy_id: String,
    pub version: u32,
    pub status: String,
    /// The 政策找人 job publishing queued (GET /v1/jobs/{id} for progress).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<i64>,
    /// The index snapshot version that holds the change.
    pub snapshot: u64,
}

fn groups(list: &[GroupCount]) -> Vec<Group> {
    let mut out: Vec<Group> = list
        .iter()
        .filter(|g| g.eligible + g.needs_info > 0)
        .map(|g| Group {
            key: g.key.clone(),
            name: g.name.map(String::from),
            eligible: g.eligible,
            needs_info: g.needs_info,
        })
        .collect();
    out.sort_by(|a, b| {
        (b.eligible, b.needs_info)
            .cmp(&(a.eligible, a.needs_info))
            .then_with(|| a.key.cmp(&b.key))
    });
    out
}

fn status_name(s: Status) -> &'static str {
    s.as_str()
}

impl Platform {
    /// Applies one catalog change and makes it live; one change at a time.
    fn apply(&self, change: Change) -> Result<u64> {
        let _writer = self
            .catalog_writer
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let manifest = pipeline::apply(self.data_dir(), change, self.embedder.as_ref())?;
        self.catalog.refresh()?;
        Ok(manifest.version)
    }

    /// Full-text or semantic search over products and policies. Only published offers are
    /// searched.
    pub fn search(&self, q: &SearchQuery) -> Result<Vec<Hit>> {
        if q.q.trim().is_empty() {
            return Err(Error::parameter("q", "give a query"));
        }
        let limit = q.limit.unwrap_or(10);
        if !(1..=100).contains(&limit) {
            return Err(Error::parameter("limit", "must be between 1 and 100"));
        }
        let doc = match q.doc.as_deref() {
            None => None,
            Some("product") => Some(DocKind::Product),
            Some("policy") => Some(DocKind::Policy),
            Some(other) => {
                return Err(Error::parameter(
                    "doc",
                    format!("{other:?} is not product or policy"),
                ));
            }
        };
        if let Some(code) = &q.region {
            region::validate(code).map_err(|e| Error::parameter("region", e.to_string()))?;
        }
        let filters = Filters {
            doc,
            kind: q.kind.clone(),
            institution: q.institution.clone(),
            region: q.region.clone(),
            published_only: true,
        };
        let snapshot = self.snapshot();
        if !q.semantic {
            let hits = snapshot.search(&q.q, &filters, limit)?;
            return Ok(hits.into_iter().map(hit_of_text).collect());
        }
        // Semantic: rank everything, then filter as the text index would.
        let serves = |regions: &[String]| {
            q.region.as_deref().is_none_or(|place| {
                regions.is_empty() || regions.iter().any(|r| region::is_under(place, r))
            })
        };
        let ranked = snapshot.semantic(self.embedder.as_ref(), &q.q, snapshot.vectors.len())?;
        let hits = ranked
            .into_iter()
            .filter_map(|(id, sim)| {
                let (doc_kind, title, kind, institution, status, served) =
                    match snapshot.product(&id) {
                        Some(p) => (
                            DocKind::Product,
                            p.item.name.clone(),
                            p.item.kind.label(),
                            p.item.institution_id.clone(),
                            p.item.status,
                            serves(&p.item.regions),
                        ),
                        None => {
                            let p = snapshot.policy(&id)?;
                            (
                                DocKind::Policy,
                                p.item.title.clone(),
                                p.item.kind.label(),
                                p.item.issuer.clone(),
                                p.item.status,
                                serves(&p.item.regions),
                            )
                        }
                    };
                let keep = status == Status::Published
                    && filters.doc.is_none_or(|d| d == doc_kind)
                    && filters.kind.as_deref().is_none_or(|k| k == kind)
                    && filters
                        .institution
                        .as_ref()
                        .is_none_or(|i| *i == institution)
                    && served;
                keep.then(|| Hit {
                    id,
                    doc: doc_kind.as_str(),
                    title,
                    kind: kind.into(),
                    institution,
                    score: sim,
                    snippet: None,
                })
            })
            .take(limit)
            .collect();
        Ok(hits)
    }

    /// A product; drafts only for their institution and admins.
    pub fn product(&self, actor: &Actor, id: &str) -> Result<Product> {
        let snapshot = self.snapshot();
        let p = snapshot
            .product(id)
            .ok_or_else(|| Error::not_found("product", id))?;
        let owner = actor.is(Role::Admin)
            || (actor.is(Role::Institution) && actor.scope() == p.item.institution_id);
        if p.item.status == Status::Draft && !owner {
            return Err(Error::not_found("product", id));
        }
        Ok(p.item.clone())
    }

    /// A policy; drafts only for their office and admins.
    pub fn policy(&self, actor: &Actor, id: &str) -> Result<Policy> {
        let snapshot = self.snapshot();
        let p = snapshot
            .policy(id)
            .ok_or_else(|| Error::not_found("policy", id))?;
        if p.item.status == Status::Draft && !self.owns_policy(actor, &p.item) {
            return Err(Error::not_found("policy", id));
        }
        Ok(p.item.clone())
    }

    fn owns_policy(&self, actor: &Actor, p: &Policy) -> bool {
        actor.is(Role::Admin) || (actor.is(Role::PolicyOffice) && office_covers(actor.scope(), p))
    }

    /// Creates (`create`) or replaces a product of the actor's institution. The version
    /// goes up by one with every change; `version` in the body must be the current one
    /// (1 for a new product), so two editors cannot overwrite each other unknowingly.
    pub fn put_product(
        &self,
        actor: &Actor,
        mut p: Product,
        create: bool,
    ) -> Result<(Product, u64)> {
        actor.require(&[Role::Institution, Role::Admin], "publish products")?;
        if actor.is(Role::Institution) && p.institution_id != actor.scope() {
            return Err(Error::forbidden(format!(
                "institution_id: a token of institution {} cannot publish products of {}",
                actor.scope(),
                p.institution_id
            ))
            .with_details(serde_json::json!({ "field": "institution_id" })));
        }
        let snapshot = self.snapshot();
        if snapshot.policy(&p.id).is_some() {
            return Err(Error::conflict(format!(
                "the id {} belongs to a policy",
                p.id
            )));
        }
        let existing = snapshot.product(&p.id).map(|c| c.item.clone());
        match (&existing, create) {
            (Some(_), true) => {
                return Err(Error::conflict(format!(
                    "product {} exists; change it with PUT /v1/products/{}",
                    p.id, p.id
                )));
            }
            (None, false) => return Err(Error::not_found("product", &p.id)),
            (Some(old), false) => {
                if actor.is(Role::Institution) && old.institution_id != actor.scope() {
                    return Err(Error::forbidden(format!(
                        "product {} belongs to institution {}",
                        p.id, old.institution_id
                    )));
                }
                expect_version(p.version, old.version)?;
                p.version = old.version + 1;
            }
            (None, true) => expect_version(p.version, 1)?,
        }
        let id = p.id.clone();
        let snapshot_version = self.apply(Change::UpsertProduct(Box::new(p.clone())))?;
        let mut entry = actor.entry(
            if create {
                "product.create"
            } else {
                "product.update"
            },
            format!("product:{id}"),
            Purpose::FinancingMatch,
        );
        entry.detail =
            Some(serde_json::json!({ "version": p.version, "status": status_name(p.status) }));
        self.audit.append_blocking(vec![entry])?;
        Ok((p, snapshot_version))
    }

    /// Creates (`create`) or edits a policy as a draft. Editing a published or expired
    /// policy makes the next version, a draft, which replaces it until published.
    pub fn put_policy(&self, actor: &Actor, mut p: Policy, create: bool) -> Result<(Policy, u64)> {
        actor.require(&[Role::PolicyOffice, Role::Admin], "write policies")?;
        if actor.is(Role::PolicyOffice) && !office_covers(actor.scope(), &p) {
            let name = region::name(actor.scope()).unwrap_or("");
            return Err(Error::forbidden(format!(
                "regions: a policy office for {} ({name}) writes policies for places within it; {:?} is not",
                actor.scope(),
                p.regions
            ))
            .with_details(serde_json::json!({ "field": "regions" })));
        }
        if p.status != Status::Draft {
            return Err(Error::invalid_field(
                "status",
                "policies are written as drafts; publish with POST /v1/policies/{id}/publish",
            ));
        }
        let snapshot = self.snapshot();
        if snapshot.product(&p.id).is_some() {
            return Err(Error::conflict(format!(
                "the id {} belongs to a product",
                p.id
            )));
        }
        let existing = snapshot.policy(&p.id).map(|c| c.item.clone());
        match (&existing, create) {
            (Some(_), true) => {
                return Err(Error::conflict(format!(
                    "policy {} exists; change it with PUT /v1/policies/{}",
                    p.id, p.id
                )));
            }
            (None, false) => return Err(Error::not_found("policy", &p.id)),
            (Some(old), false) => {
                if !self.owns_policy(actor, old) {
                    return Err(Error::forbidden(format!(
                        "policy {} belongs to another office",
                        p.id
                    )));
                }
                expect_version(p.version, old.version)?;
                if old.status != Status::Draft {
                    p.version = old.version + 1;
                }
            }
            (None, true) => expect_version(p.version, 1)?,
        }
        let id = p.id.clone();
        let snapshot_version = self.apply(Change::UpsertPolicy(Box::new(p.clone())))?;
        let mut entry = actor.entry(
            if create {
                "policy.create"
            } else {
                "policy.update"
            },
            format!("policy:{id}"),
            Purpose::PolicyOutreach,
        );
        entry.detail = Some(serde_json::json!({ "version": p.version }));
        self.audit.append_blocking(vec![entry])?;
        Ok((p, snapshot_version))
    }

    fn owned_policy(&self, actor: &Actor, id: &str) -> Result<Policy> {
        actor.require(&[Role::PolicyOffice, Role::Admin], "manage policies")?;
        let snapshot = self.snapshot();
        let p = snapshot
            .policy(id)
            .map(|c| c.item.clone())
            .ok_or_else(|| Error::not_found("policy", id))?;
        if !self.owns_policy(actor, &p) {
            return Err(Error::forbidden(format!(
                "policy {id} is not within the region of this {} token",
                role_name(actor.role)
            )));
        }
        Ok(p)
    }

    /// Who the policy would reach today: counts by province, city, size class and
    /// industry, and a sample of enterprises (their public registration data).
    pub fn preview(&self, actor: &Actor, id: &str) -> Result<Preview> {
        let policy = self.owned_policy(actor, id)?;
        let snapshot = self.snapshot();
        let checked = snapshot
            .policy(id)
            .ok_or_else(|| Error::not_found("policy", id))?;
        let rule = huiqi_engine::matching::offer_rule(&checked.rule, &policy.regions, &[]);
        let today = self.today();
        let predicate = CompiledPredicate::compile(&rule, today)
            .map_err(|e| Error::new(ErrorCode::InvalidRule, e.to_string()))?;
        let preview = {
            let dir = self.directory.read().unwrap_or_else(|p| p.into_inner());
            let r = reach(&dir.columns, &predicate);
            let sample = |o: Outcome| -> Vec<SampleEnterprise> {
                r.sample(&dir.columns, o, 10)
                    .into_iter()
                    .filter_map(|id| dir.by_id.get(id))
                    .map(|p| SampleEnterprise {
                        id: p.enterprise.id.clone(),
                        name: p.enterprise.name.clone(),
                        region: p.enterprise.registration.region.clone(),
                    })
                    .collect()
            };
            Preview {
                policy_id: policy.id.clone(),
                version: policy.version,
                as_of: today,
                rule: rule.expr.to_string(),
                enterprises: dir.columns.len(),
                eligible: r.eligible.len(),
                needs_info: r.needs_info.len(),
                by_province: groups(&r.by_province),
                by_city: groups(&r.by_city),
                by_size: groups(&r.by_size),
                by_industry: groups(&r.by_section),
                sample_eligible: sample(Outcome::Eligible),
                sample_needs_info: sample(Outcome::NeedsInfo),
            }
        };
        let mut entry = actor.entry(
            "enterprise.scan",
            "enterprises".into(),
            Purpose::PolicyOutreach,
        );
        entry.detail = Some(serde_json::json!({
            "preview": id, "eligible": preview.eligible, "needs_info": preview.needs_info,
        }));
        self.audit.append_blocking(vec![entry])?;
        Ok(preview)
    }

    /// Publishes a draft and queues its 政策找人 job. Publishing a policy that is already
    /// published queues its job if it has none (a retry after a crash between the two).
    pub fn publish(&self, actor: &Actor, id: &str) -> Result<Lifecycle> {
        let mut policy = self.owned_policy(actor, id)?;
        let today = self.today();
        let snapshot_version = match policy.status {
            Status::Draft => {
                if policy.window.closes.is_some_and(|c| c < today) {
                    return Err(Error::conflict(format!(
                        "the application window closed on {}; change it before publishing",
                        policy
                            .window
                            .closes
                            .map(|c| c.to_string())
                            .unwrap_or_default()
                    )));
                }
                policy.status = Status::Published;
                self.apply(Change::UpsertPolicy(Box::new(policy.clone())))?
            }
            Status::Published => self.snapshot().manifest.version,
            Status::Expired => {
                return Err(Error::conflict(format!(
                    "policy {id} has expired; edit it (PUT) to make a new version, then publish that"
                )));
            }
        };
        let job = self.db.write(|tx| {
            let job = self.queue_outreach(tx, &policy, &actor.describe())?;
            // A job found superseded (the catalog change had not landed) runs again.
            tx.execute(
                "UPDATE jobs SET state = 'queued', finished_at = NULL WHERE id = ?1 AND state = 'superseded'",
                params![job],
            )?;
            Ok(job)
        })?;
        self.jobs_wake.notify_one();
        let mut entry = actor.entry(
            "policy.publish",
            format!("policy:{id}"),
            Purpose::PolicyOutreach,
        );
        entry.detail = Some(serde_json::json!({ "version": policy.version, "job": job }));
        self.audit.append_blocking(vec![entry])?;
        Ok(Lifecycle {
            policy_id: policy.id,
            version: policy.version,
            status: status_name(policy.status).into(),
            job: Some(job),
            snapshot: snapshot_version,
        })
    }

    /// Ends a published policy: no longer matched, no more notifications.
    pub fn expire(&self, actor: &Actor, id: &str) -> Result<Lifecycle> {
        let mut policy = self.owned_policy(actor, id)?;
        if policy.status != Status::Published {
            return Err(Error::conflict(format!(
                "policy {id} is {}; only a published policy expires",
                status_name(policy.status)
            )));
        }
        policy.status = Status::Expired;
        let snapshot_version = self.apply(Change::UpsertPolicy(Box::new(policy.clone())))?;
        self.audit.append_blocking(vec![actor.entry(
            "policy.expire",
            format!("policy:{id}"),
            Purpose::PolicyOutreach,
        )])?;
        Ok(Lifecycle {
            policy_id: policy.id,
            version: policy.version,
            status: status_name(policy.status).into(),
            job: None,
            snapshot: snapshot_version,
        })
    }
}

fn expect_version(given: u32, current: u32) -> Result<()> {
    if given == current {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::Conflict,
            format!(
                "version: the body says {given} but the current version is {current}; reload and apply your change to version {current}"
            ),
        )
        .with_details(serde_json::json!({ "field": "version", "current": current })))
    }
}

fn hit_of_text(h: TextHit) -> Hit {
    Hit {
        id: h.id,
        doc: h.doc.as_str(),
        title: h.title,
        kind: h.kind,
        institution: h.institution,
        score: h.score,
        snippet: Some(h.snippet),
    }
}
