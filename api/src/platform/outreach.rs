//! 政策找人: notifications of policies to the enterprises they fit, exactly once.
//!
//! Three things create notifications:
//! - publishing a policy queues a job ([`Platform::run_job`]) that scans every enterprise
//!   with the policy's compiled predicate and notifies the eligible (`policy_match`) and the
//!   possibly eligible (`policy_maybe`), in batches: each batch commits its notifications and
//!   the job's cursor in one transaction, so a job killed mid-way resumes after its last
//!   committed batch;
//! - a changed profile is re-matched against every open policy ([`Platform::rematch`]) and
//!   notified of policies it newly fits;
//! - a fitting policy's window closing within `reminder_days` gives a `window_closing`
//!   reminder ([`Platform::remind`]).
//!
//! The table's unique key (enterprise, policy, policy version, kind) makes every path
//! idempotent: at most one notification per key, however often a job runs.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use huiqi_engine::matching::offer_rule;
use huiqi_engine::model::{Policy, Role, Status};
use huiqi_engine::reverse::{CompiledPredicate, reach};
use huiqi_engine::rule::{Facts, Outcome, Rule};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

use super::reviews::{NewRecommendation, recommend};
use super::{Platform, Profile};
use crate::error::{Error, Result};
use crate::store::audit::{Entry, Purpose};

/// Test hook, as the index builder's: abort the process at a named point (a crash).
fn failpoint(name: &str) {
    if std::env::var("HUIQI_FAILPOINT").is_ok_and(|v| v == name) {
        std::process::abort();
    }
}

/// The kinds of notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A policy the enterprise is eligible for.
    PolicyMatch,
    /// A policy the enterprise may be eligible for once it adds some facts.
    PolicyMaybe,
    /// A fitting policy's application window closes soon.
    WindowClosing,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::PolicyMatch, Kind::PolicyMaybe, Kind::WindowClosing];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PolicyMatch => "policy_match",
            Kind::PolicyMaybe => "policy_maybe",
            Kind::WindowClosing => "window_closing",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A notification as the enterprise reads it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Notification {
    pub id: i64,
    pub enterprise_id: String,
    pub policy_id: String,
    pub policy_version: i64,
    pub kind: String,
    pub title: String,
    pub body: String,
    /// `delivered`, or (not shown to the enterprise) `pending_review` / `withheld`.
    pub state: String,
    pub created_at: String,
    pub delivered_at: Option<String>,
    pub read_at: Option<String>,
    pub dismissed_at: Option<String>,
}

pub(super) const NOTIFICATION_COLUMNS: &str = "id, enterprise_id, policy_id, policy_version, kind, title, body, state, created_at, delivered_at, read_at, dismissed_at";

pub(super) fn notification_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Notification> {
    Ok(Notification {
        id: r.get(0)?,
        enterprise_id: r.get(1)?,
        policy_id: r.get(2)?,
        policy_version: r.get(3)?,
        kind: r.get(4)?,
        title: r.get(5)?,
        body: r.get(6)?,
        state: r.get(7)?,
        created_at: r.get(8)?,
        delivered_at: r.get(9)?,
        read_at: r.get(10)?,
        dismissed_at: r.get(11)?,
    })
}

/// A 政策找人 job and its progress.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub policy_id: String,
    pub policy_version: i64,
    /// `queued`, `running`, `done`, `superseded` (the policy changed before it ran) or
    /// `failed`.
    pub state: String,
    /// Enterprises to notify (eligible + needs_info), once the scan ran.
    pub total: Option<i64>,
    pub processed: i64,
    pub eligible: Option<i64>,
    pub needs_info: Option<i64>,
    /// Notifications this job created.
    pub notified: i64,
    /// Times the job was started (more than 1 after an interruption).
    pub runs: i64,
    pub requested_by: String,
    pub error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub finished_at: Option<String>,
}

const JOB_COLUMNS: &str = "id, kind, policy_id, policy_version, state, total, processed, eligible, needs_info, notified, runs, requested_by, error, created_at, updated_at, finished_at";

fn job_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Job> {
    Ok(Job {
        id: r.get(0)?,
        kind: r.get(1)?,
        policy_id: r.get(2)?,
        policy_version: r.get(3)?,
        state: r.get(4)?,
        total: r.get(5)?,
        processed: r.get(6)?,
        eligible: r.get(7)?,
        needs_info: r.get(8)?,
        notified: r.get(9)?,
        runs: r.get(10)?,
        requested_by: r.get(11)?,
        error: r.get(12)?,
        created_at: r.get(13)?,
        updated_at: r.get(14)?,
        finished_at: r.get(15)?,
    })
}

/// The words of a notification.
fn wording(policy: &Policy, kind: Kind, missing: &[&str], today: NaiveDate) -> (String, String) {
    let closes = policy
        .window
        .closes
        .map(|c| format!("，申报截止 {c}"))
        .unwrap_or_default();
    match kind {
        Kind::PolicyMatch => (
            format!("新政策符合您的条件：{}", policy.title),
            format!(
                "贵企业符合《{}》（{}）的申报条件。支持内容：{}{closes}。",
                policy.title, policy.issuer, policy.benefit.summary
            ),
        ),
        Kind::PolicyMaybe => (
            format!("新政策可能适合您：{}", policy.title),
            format!(
                "贵企业可能符合《{}》（{}）的申报条件，补充以下信息后即可确认：{}。支持内容：{}{closes}。",
                policy.title,
                policy.issuer,
                missing.join("、"),
                policy.benefit.summary
            ),
        ),
        Kind::WindowClosing => {
            let days = policy
                .window
                .closes
                .map(|c| (c - today).num_days())
                .unwrap_or_default();
            (
                format!("申报即将截止：{}", policy.title),
                format!(
                    "《{}》将于 {} 截止申报（还剩 {days} 天），贵企业符合条件，请尽快申报。",
                    policy.title,
                    policy
                        .window
                        .closes
                        .map(|c| c.to_string())
                        .unwrap_or_default()
                ),
            )
        }
    }
}

/// What to notify one enterprise of.
pub(super) struct NewNotification<'a> {
    pub enterprise_id: &'a str,
    pub policy: &'a Policy,
    pub kind: Kind,
    pub outcome: Outcome,
    pub missing: Vec<&'static str>,
    /// `outreach`, `rematch` or `reminder`.
    pub source: &'a str,
}

/// Creates the notification unless its key exists; returns its id when it was created.
/// Match notifications go through the recommendation's review; reminders follow an
/// already delivered match.
pub(super) fn notify(
    tx: &Transaction<'_>,
    n: &NewNotification<'_>,
    review_required: bool,
    today: NaiveDate,
    now: &str,
) -> Result<Option<i64>> {
    let (recommendation, state) = match n.kind {
        Kind::PolicyMatch | Kind::PolicyMaybe => {
            let (id, review) = recommend(
                tx,
                &NewRecommendation {
                    enterprise_id: n.enterprise_id,
                    offer_kind: "policy",
                    offer_id: &n.policy.id,
                    offer_version: i64::from(n.policy.version),
                    provider: &n.policy.issuer,
                    outcome: n.outcome,
                    score: 0.0,
                    source: n.source,
                },
                review_required,
                now,
            )?;
            let state = match review.as_str() {
                "pending" => "pending_review",
                "rejected" => "withheld",
                _ => "delivered",
            };
            (Some(id), state)
        }
        Kind::WindowClosing => (None, "delivered"),
    };
    let (title, body) = wording(n.policy, n.kind, &n.missing, today);
    let inserted = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO notifications
             (enterprise_id, policy_id, policy_version, kind, recommendation_id, title, body, state, created_at, delivered_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, CASE WHEN ?8 = 'delivered' THEN ?9 END)",
        )?
        .execute(params![
            n.enterprise_id,
            n.policy.id,
            n.policy.version,
            n.kind.as_str(),
            recommendation,
            title,
            body,
            state,
            now
        ])?;
    if inserted == 0 {
        return Ok(None);
    }
    let id = tx.last_insert_rowid();
    if state == "delivered" {
        super::webhooks::enqueue(tx, id, now)?;
    }
    Ok(Some(id))
}

/// Delivers the notifications waiting on an approved recommendation; returns how many.
pub(super) fn deliver_for_recommendation(
    tx: &Transaction<'_>,
    recommendation: i64,
    now: &str,
) -> Result<usize> {
    let ids: Vec<i64> = {
        let mut stmt = tx.prepare_cached(
            "SELECT id FROM notifications WHERE recommendation_id = ?1 AND state = 'pending_review'",
        )?;
        let rows = stmt.query_map([recommendation], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for id in &ids {
        tx.execute(
            "UPDATE notifications SET state = 'delivered', delivered_at = ?1 WHERE id = ?2",
            params![now, id],
        )?;
        super::webhooks::enqueue(tx, *id, now)?;
    }
    Ok(ids.len())
}

/// A policy's rule as reverse matching and re-matching use it (service area included).
fn policy_rule(rule: &Rule, policy: &Policy) -> Rule {
    offer_rule(rule, &policy.regions, &[])
}

/// Policies that can still be applied for: published, window not closed.
fn open_policy(p: &Policy, today: NaiveDate) -> bool {
    p.status == Status::Published && p.window.closes.is_none_or(|c| today <= c)
}

/// Which notifications to list.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    /// `unread` (delivered, not read, not dismissed; the default) or `all`.
    pub filter: Option<String>,
    /// Only ids after this one (paging).
    pub after: Option<i64>,
    /// At most this many (default 50, at most 500).
    pub limit: Option<u32>,
}

impl Platform {
    /// Queues the 政策找人 job for a policy version (once per version); returns its id.
    pub(super) fn queue_outreach(
        &self,
        tx: &Transaction<'_>,
        policy: &Policy,
        by: &str,
    ) -> Result<i64> {
        let now = self.now();
        tx.execute(
            "INSERT OR IGNORE INTO jobs (kind, policy_id, policy_version, state, requested_by, created_at, updated_at)
             VALUES ('outreach', ?1, ?2, 'queued', ?3, ?4, ?4)",
            params![policy.id, policy.version, by, now],
        )?;
        Ok(tx.query_row(
            "SELECT id FROM jobs WHERE kind = 'outreach' AND policy_id = ?1 AND policy_version = ?2",
            params![policy.id, policy.version],
            |r| r.get(0),
        )?)
    }

    /// One job, for its progress (admins, and the policy office whose region covers it).
    pub fn job(&self, actor: &super::Actor, id: i64) -> Result<Job> {
        let job = self
            .db
            .read(|c| {
                c.query_row(
                    &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"),
                    [id],
                    job_from_row,
                )
                .optional()
            })?
            .ok_or_else(|| Error::not_found("job", &id.to_string()))?;
        match actor.role {
            Role::Admin => Ok(job),
            Role::PolicyOffice => {
                let snapshot = self.snapshot();
                let ours = snapshot
                    .policy(&job.policy_id)
                    .is_some_and(|p| super::catalog::office_covers(actor.scope(), &p.item));
                if ours {
                    Ok(job)
                } else {
                    Err(Error::not_found("job", &id.to_string()))
                }
            }
            _ => Err(Error::forbidden(
                "only policy offices and admins follow 政策找人 jobs",
            )),
        }
    }

    /// Jobs not finished (queued, or interrupted while running), oldest first.
    fn pending_jobs(&self) -> Result<Vec<i64>> {
        self.db.read(|c| {
            let mut stmt =
                c.prepare("SELECT id FROM jobs WHERE state IN ('queued', 'running') ORDER BY id")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect()
        })
    }

    /// Runs queued and interrupted jobs until the platform stops. Each job runs on a
    /// blocking thread; an interrupted one resumes after its last committed batch.
    pub async fn job_runner(self: Arc<Self>) {
        loop {
            if self.is_stopping() {
                return;
            }
            let notified = self.jobs_wake.notified();
            let jobs = match self.pending_jobs() {
                Ok(j) => j,
                Err(e) => {
                    tracing::error!(error = %e, "cannot list jobs");
                    Vec::new()
                }
            };
            for id in jobs {
                let p = self.clone();
                let result = tokio::task::spawn_blocking(move || p.run_job(id)).await;
                match result {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::error!(job = id, error = %e, "job failed"),
                    Err(e) => tracing::error!(job = id, error = %e, "job panicked"),
                }
                if self.is_stopping() {
                    return;
                }
            }
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep(Duration::from_secs(60)) => {}
            }
        }
    }

    /// Runs (or resumes) one job to the end, or to the next checkpoint when stopping.
    pub fn run_job(&self, id: i64) -> Result<()> {
        let job = self.db.read(|c| {
            c.query_row(
                &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"),
                [id],
                job_from_row,
            )
        })?;
        let cursor: Option<String> = self
            .db
            .read(|c| c.query_row("SELECT cursor FROM jobs WHERE id = ?1", [id], |r| r.get(0)))?;
        let snapshot = self.snapshot();
        let today = self.today();
        let Some(checked) = snapshot.policy(&job.policy_id).filter(|p| {
            i64::from(p.item.version) == job.policy_version && p.item.status == Status::Published
        }) else {
            return self.finish_job(id, "superseded", None);
        };
        let policy = &checked.item;
        let rule = policy_rule(&checked.rule, policy);
        let predicate = CompiledPredicate::compile(&rule, today).map_err(Error::internal)?;
        // The scan: every enterprise's outcome. Ids are sorted so the cursor means the same
        // after a restart.
        let mut targets: Vec<(String, Outcome)> = {
            let dir = self.directory.read().unwrap_or_else(|p| p.into_inner());
            let r = reach(&dir.columns, &predicate);
            r.ids(&dir.columns, Outcome::Eligible)
                .map(|id| (id.to_string(), Outcome::Eligible))
                .chain(
                    r.ids(&dir.columns, Outcome::NeedsInfo)
                        .map(|id| (id.to_string(), Outcome::NeedsInfo)),
                )
                .collect()
        };
        targets.sort();
        let eligible = targets
            .iter()
            .filter(|(_, o)| *o == Outcome::Eligible)
            .count();
        let done_before = cursor
            .as_deref()
            .map_or(0, |c| targets.partition_point(|(id, _)| id.as_str() <= c));
        let now = self.now();
        self.db.write(|tx| {
            tx.execute(
                "UPDATE jobs SET state = 'running', runs = runs + 1, total = ?1, eligible = ?2, needs_info = ?3,
                 processed = ?4, updated_at = ?5 WHERE id = ?6",
                params![
                    targets.len() as i64,
                    eligible as i64,
                    (targets.len() - eligible) as i64,
                    done_before as i64,
                    now,
                    id
                ],
            )?;
            Ok(())
        })?;
        let mut scan = Entry {
            detail: Some(serde_json::json!({
                "job": id, "policy": policy.id, "version": policy.version,
                "eligible": eligible, "needs_info": targets.len() - eligible,
            })),
            ..super::Actor::system().entry(
                "enterprise.scan",
                "enterprises".into(),
                Purpose::PolicyOutreach,
            )
        };
        scan.actor = format!("system job:{id}");
        self.audit.append_blocking(vec![scan])?;

        for batch in targets[done_before..].chunks(self.config.jobs.batch) {
            if self.is_stopping() {
                tracing::info!(
                    job = id,
                    "job paused at a checkpoint; it resumes at the next start"
                );
                return Ok(());
            }
            let now = self.now();
            let mut created = Vec::new();
            // The audit entries go first: an entry for a notification that a crash then
            // rolled back is harmless; a notification without its entry would not be.
            let entries: Vec<Entry> = batch
                .iter()
                .map(|(eid, _)| {
                    let mut e = super::Actor::system().entry(
                        "notification.create",
                        format!("enterprise:{eid}"),
                        Purpose::PolicyOutreach,
                    );
                    e.actor = format!("system job:{id}");
                    e.detail =
                        Some(serde_json::json!({ "policy": policy.id, "version": policy.version }));
                    e
                })
                .collect();
            self.audit.append_blocking(entries)?;
            self.db.write(|tx| {
                for (eid, outcome) in batch {
                    let Some(profile) = self.profile(eid) else {
                        continue; // removed since the scan
                    };
                    let (kind, missing) = match outcome {
                        Outcome::Eligible => (Kind::PolicyMatch, Vec::new()),
                        _ => {
                            let facts = Facts::new(&profile.enterprise, today);
                            let eval = rule.evaluate(&facts);
                            let missing = rule
                                .unknown_fields(&facts, &eval)
                                .into_iter()
                                .map(|f| f.def().label)
                                .collect();
                            (Kind::PolicyMaybe, missing)
                        }
                    };
                    let n = NewNotification {
                        enterprise_id: eid,
                        policy,
                        kind,
                        outcome: *outcome,
                        missing,
                        source: "outreach",
                    };
                    if let Some(nid) = notify(tx, &n, self.config.review_required, today, &now)? {
                        created.push(nid);
                    }
                }
                failpoint("outreach:before-commit");
                let last = batch.last().map(|(eid, _)| eid.as_str());
                tx.execute(
                    "UPDATE jobs SET cursor = ?1, processed = processed + ?2, notified = notified + ?3, updated_at = ?4
                     WHERE id = ?5",
                    params![last, batch.len() as i64, created.len() as i64, now, id],
                )?;
                Ok(())
            })?;
            failpoint("outreach:after-batch");
            self.metrics.notifications.add(created.len() as u64);
            if !created.is_empty() {
                self.deliveries_wake.notify_one();
            }
        }
        self.finish_job(id, "done", None)
    }

    fn finish_job(&self, id: i64, state: &str, error: Option<&str>) -> Result<()> {
        let now = self.now();
        self.db.write(|tx| {
            tx.execute(
                "UPDATE jobs SET state = ?1, error = ?2, updated_at = ?3, finished_at = ?3 WHERE id = ?4",
                params![state, error, now, id],
            )?;
            Ok(())
        })?;
        tracing::info!(job = id, state, "job finished");
        Ok(())
    }

    /// Re-matches a changed profile against every open policy; notifies the policies it newly
    /// fits (did not fit before the change, or is new). Returns how many notifications were
    /// created.
    pub(super) fn rematch(&self, profile: &Profile, previous: Option<&Profile>) -> Result<usize> {
        let snapshot = self.snapshot();
        let today = self.today();
        let facts = Facts::new(&profile.enterprise, today);
        let before = previous.map(|p| Facts::new(&p.enterprise, today));
        let mut todo = Vec::new();
        for checked in snapshot
            .policies
            .iter()
            .filter(|p| open_policy(&p.item, today))
        {
            let rule = policy_rule(&checked.rule, &checked.item);
            let now_eval = rule.evaluate(&facts);
            let was = before.as_ref().map(|f| rule.evaluate(f).outcome);
            let kind = match (now_eval.outcome, was) {
                (Outcome::Eligible, was) if was != Some(Outcome::Eligible) => Kind::PolicyMatch,
                (Outcome::NeedsInfo, None | Some(Outcome::Ineligible)) => Kind::PolicyMaybe,
                _ => continue,
            };
            let missing = rule
                .unknown_fields(&facts, &now_eval)
                .into_iter()
                .map(|f| f.def().label)
                .collect();
            todo.push((checked, kind, now_eval.outcome, missing));
        }
        if todo.is_empty() {
            return Ok(0);
        }
        // As in a job: the audit entries go before the notifications they describe.
        let entries: Vec<Entry> = todo
            .iter()
            .map(|(checked, kind, _, _)| {
                let mut e = super::Actor::system().entry(
                    "notification.create",
                    format!("enterprise:{}", profile.enterprise.id),
                    Purpose::PolicyOutreach,
                );
                e.detail = Some(serde_json::json!({
                    "policy": checked.item.id,
                    "version": checked.item.version,
                    "kind": kind.as_str(),
                    "source": "rematch",
                }));
                e
            })
            .collect();
        self.audit.append_blocking(entries)?;
        let now = self.now();
        let created = self.db.write(|tx| {
            let mut created = 0;
            for (checked, kind, outcome, missing) in todo {
                let n = NewNotification {
                    enterprise_id: &profile.enterprise.id,
                    policy: &checked.item,
                    kind,
                    outcome,
                    missing,
                    source: "rematch",
                };
                if notify(tx, &n, self.config.review_required, today, &now)?.is_some() {
                    created += 1;
                }
            }
            Ok(created)
        })?;
        if created > 0 {
            self.metrics.notifications.add(created as u64);
            self.deliveries_wake.notify_one();
        }
        Ok(created)
    }

    /// Reminds enterprises of fitting policies whose window closes within `reminder_days`:
    /// those with a delivered, undismissed match notification that still fit. Returns how
    /// many reminders were created.
    pub fn remind(&self) -> Result<usize> {
        let snapshot = self.snapshot();
        let today = self.today();
        let horizon = today + chrono::Days::new(self.config.reminder_days.max(0) as u64);
        let now = self.now();
        let mut created = 0;
        for checked in snapshot.policies.iter().filter(|p| {
            open_policy(&p.item, today) && p.item.window.closes.is_some_and(|c| c <= horizon)
        }) {
            let policy = &checked.item;
            let rule = policy_rule(&checked.rule, policy);
            let candidates: Vec<String> = self.db.read(|c| {
                let mut stmt = c.prepare_cached(
                    "SELECT enterprise_id FROM notifications
                     WHERE policy_id = ?1 AND policy_version = ?2 AND kind IN ('policy_match', 'policy_maybe')
                       AND state = 'delivered' AND dismissed_at IS NULL
                     EXCEPT
                     SELECT enterprise_id FROM notifications
                     WHERE policy_id = ?1 AND policy_version = ?2 AND kind = 'window_closing'",
                )?;
                let rows = stmt.query_map(params![policy.id, policy.version], |r| r.get(0))?;
                rows.collect()
            })?;
            let still_fit: Vec<String> = candidates
                .into_iter()
                .filter(|eid| {
                    self.profile(eid).is_some_and(|p| {
                        rule.evaluate(&Facts::new(&p.enterprise, today)).outcome
                            != Outcome::Ineligible
                    })
                })
                .collect();
            if still_fit.is_empty() {
                continue;
            }
            let entries: Vec<Entry> = still_fit
                .iter()
                .map(|eid| {
                    let mut e = super::Actor::system().entry(
                        "notification.create",
                        format!("enterprise:{eid}"),
                        Purpose::PolicyOutreach,
                    );
                    e.detail =
                        Some(serde_json::json!({ "policy": policy.id, "kind": "window_closing" }));
                    e
                })
                .collect();
            self.audit.append_blocking(entries)?;
            created += self.db.write(|tx| {
                let mut n = 0;
                for eid in &still_fit {
                    let new = NewNotification {
                        enterprise_id: eid,
                        policy,
                        kind: Kind::WindowClosing,
                        outcome: Outcome::Eligible,
                        missing: Vec::new(),
                        source: "reminder",
                    };
                    if notify(tx, &new, self.config.review_required, today, &now)?.is_some() {
                        n += 1;
                    }
                }
                Ok(n)
            })?;
        }
        if created > 0 {
            self.metrics.notifications.add(created as u64);
            self.deliveries_wake.notify_one();
        }
        Ok(created)
    }

    /// Looks for reminders now and then every `reminder_interval_secs`, until stopped.
    pub async fn reminder_loop(self: Arc<Self>) {
        let every = Duration::from_secs(self.config.jobs.reminder_interval_secs);
        loop {
            // Registered before the check, so a stop in between still wakes the sleep below.
            let stopped = self.stop_wake.notified();
            if self.is_stopping() {
                return;
            }
            let p = self.clone();
            match tokio::task::spawn_blocking(move || p.remind()).await {
                Ok(Ok(n)) if n > 0 => tracing::info!(reminders = n, "window reminders created"),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "reminders failed"),
                Err(e) => tracing::error!(error = %e, "reminders panicked"),
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stopped => {}
            }
        }
    }

    fn feed_reader(&self, actor: &super::Actor, enterprise_id: &str) -> Result<Purpose> {
        match actor.role {
            Role::Enterprise | Role::Advisor | Role::Admin => {
                let (_, purpose) = self.readable(actor, enterprise_id)?;
                Ok(purpose)
            }
            _ => Err(Error::forbidden(
                "notifications are read by the enterprise, its advisors and admins",
            )),
        }
    }

    /// An enterprise's notification feed (delivered notifications only), newest first.
    pub async fn notifications(
        &self,
        actor: &super::Actor,
        enterprise_id: &str,
        q: &FeedQuery,
    ) -> Result<Vec<Notification>> {
        let purpose = self.feed_reader(actor, enterprise_id)?;
        let unread_only = match q.filter.as_deref().unwrap_or("unread") {
            "unread" => true,
            "all" => false,
            other => {
                return Err(Error::parameter(
                    "filter",
                    format!("{other:?} is not unread or all"),
                ));
            }
        };
        let limit = q.limit.unwrap_or(50).clamp(1, 500);
        let list = self.db.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {NOTIFICATION_COLUMNS} FROM notifications
                 WHERE enterprise_id = ?1 AND state = 'delivered'
                   AND (?2 = 0 OR (read_at IS NULL AND dismissed_at IS NULL))
                   AND (?3 IS NULL OR id < ?3)
                 ORDER BY id DESC LIMIT ?4"
            ))?;
            let rows = stmt.query_map(
                params![enterprise_id, unread_only as i64, q.after, limit],
                notification_from_row,
            )?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        let mut entry = actor.entry(
            "notification.list",
            format!("enterprise:{enterprise_id}"),
            purpose,
        );
        entry.detail = Some(serde_json::json!({ "count": list.len() }));
        self.audit.append(vec![entry]).await?;
        Ok(list)
    }

    /// Marks a notification read or dismissed (the enterprise itself only).
    pub async fn mark_notification(
        &self,
        actor: &super::Actor,
        id: i64,
        how: &str,
    ) -> Result<Notification> {
        actor.require(&[Role::Enterprise], "mark notifications")?;
        let column = match how {
            "read" => "read_at",
            "dismiss" => "dismissed_at",
            other => {
                return Err(Error::parameter(
                    "action",
                    format!("{other:?} is not read or dismiss"),
                ));
            }
        };
        let now = self.now();
        let enterprise = actor.scope().to_string();
        let n = self.db.write(|tx| {
            let found = tx
                .query_row(
                    &format!(
                        "SELECT {NOTIFICATION_COLUMNS} FROM notifications
                         WHERE id = ?1 AND enterprise_id = ?2 AND state = 'delivered'"
                    ),
                    params![id, enterprise],
                    notification_from_row,
                )
                .optional()?;
            let Some(_) = found else {
                return Err(Error::not_found("notification", &id.to_string()));
            };
            tx.execute(
                &format!(
                    "UPDATE notifications SET {column} = coalesce({column}, ?1) WHERE id = ?2"
                ),
                params![now, id],
            )?;
            if how == "read" {
                self.metrics.notifications_read.inc();
            }
            Ok(tx.query_row(
                &format!("SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE id = ?1"),
                [id],
                notification_from_row,
            )?)
        })?;
        let mut entry = actor.entry(
            &format!("notification.{how}"),
            format!("enterprise:{enterprise}"),
            Purpose::ProfileMaintenance,
        );
        entry.detail = Some(serde_json::json!({ "notification": id }));
        self.audit.append(vec![entry]).await?;
        Ok(n)
    }
}
