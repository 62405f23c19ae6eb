//! Enterprise profiles: upsert (one or many), read (as the reader may see it), list, delete.
//!
//! A write commits the profile and bumps its revision in one transaction, then updates the
//! in-memory map and columnar store, then re-matches the enterprise against the live
//! policies (newly fitting ones are notified, see [`outreach`](super::outreach)).

use std::path::Path;
use std::sync::Arc;

use huiqi_engine::Enterprise;
use huiqi_engine::codes::region;
use huiqi_engine::model::Role;
use huiqi_index::Report;
use rusqlite::{OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

use super::access::{self, Actor, ProfileView};
use super::{Platform, Profile};
use crate::error::{Error, ErrorCode, Result};
use crate::store::audit::{Entry, Purpose};

/// What an upsert did.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Upserted {
    pub id: String,
    pub revision: i64,
    /// `created`, `updated` or `unchanged`.
    pub result: &'static str,
    /// Notifications created by re-matching the changed profile against live policies.
    pub notified: usize,
}

/// One enterprise in a list (public registration data only).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Summary {
    pub id: String,
    pub name: String,
    pub region: Option<String>,
    pub industry: Option<String>,
    pub revision: i64,
}

/// Which enterprises to list.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only enterprises registered under this region code (e.g. `3301`).
    pub region: Option<String>,
    /// Only ids after this one (paging).
    pub after: Option<String>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<u32>,
}

/// A problem with one line of a bulk upload.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LineError {
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}

/// The report of a bulk upload.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct BulkReport {
    pub lines: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub rejected: usize,
    pub notified: usize,
    /// The first 1,000 problems, by line.
    pub errors: Vec<LineError>,
    /// True when more problems occurred than are listed.
    pub errors_truncated: bool,
    /// Set when the upload stopped early (e.g. it exceeded the size limit); every line
    /// before it was processed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

impl BulkReport {
    const MAX_ERRORS: usize = 1000;

    pub fn reject(&mut self, e: LineError) {
        self.rejected += 1;
        if self.errors.len() < Self::MAX_ERRORS {
            self.errors.push(e);
        } else {
            self.errors_truncated = true;
        }
    }
}

pub(super) fn insert_row(
    tx: &Transaction<'_>,
    e: &Enterprise,
    revision: i64,
    now: &str,
) -> Result<()> {
    let json = serde_json::to_string(e).map_err(Error::internal)?;
    tx.execute(
        "INSERT INTO enterprises (id, credit_code, name, region, profile, revision, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
         ON CONFLICT (id) DO UPDATE SET credit_code = ?2, name = ?3, region = ?4, profile = ?5,
             revision = ?6, updated_at = ?7",
        params![
            e.id,
            e.credit_code,
            e.name,
            e.registration.region,
            json,
            revision,
            now
        ],
    )?;
    Ok(())
}

/// Validates a profile as the index builder does; problems become one error with every
/// problem in `details.problems`.
pub(super) fn validate_profile(e: &Enterprise) -> Result<()> {
    let mut report = Report::default();
    if huiqi_index::validate::check_enterprise(e, Path::new("request"), 1, &mut report) {
        Ok(())
    } else {
        Err(Error::from(huiqi_index::Error::Input(report)))
    }
}

impl Platform {
    /// Errors unless `actor` may read enterprise `id`; returns the profile and the purpose
    /// recorded for the read.
    pub fn readable(&self, actor: &Actor, id: &str) -> Result<(Arc<Profile>, Purpose)> {
        let denied = || {
            Error::forbidden(format!(
                "this {} token{} cannot read enterprise {id}",
                access::role_name(actor.role),
                actor
                    .scope
                    .as_deref()
                    .map(|s| format!(" for {s}"))
                    .unwrap_or_default()
            ))
        };
        let default = actor.allowed_purposes()[0];
        match actor.role {
            Role::Admin => {
                let p = self
                    .profile(id)
                    .ok_or_else(|| Error::not_found("enterprise", id))?;
                Ok((p, actor.purpose_or(default)))
            }
            Role::Enterprise if actor.scope() == id => {
                let p = self
                    .profile(id)
                    .ok_or_else(|| Error::not_found("enterprise", id))?;
                Ok((p, actor.purpose_or(default)))
            }
            Role::Advisor if self.advisors_of(id).iter().any(|a| a == actor.scope()) => {
                let p = self
                    .profile(id)
                    .ok_or_else(|| Error::not_found("enterprise", id))?;
                Ok((p, actor.purpose_or(default)))
            }
            Role::Institution => {
                let p = self.profile(id).ok_or_else(denied)?;
                if access::institution_authorised(&p.enterprise, actor.scope(), self.today()) {
                    Ok((p, actor.purpose_or(default)))
                } else {
                    Err(denied())
                }
            }
            _ => Err(denied()),
        }
    }

    /// Errors unless `actor` may change enterprise `id` (admins: any; the enterprise: itself;
    /// advisors: the ones assigned to them). Only admins create enterprises.
    fn writable(&self, actor: &Actor, id: &str, exists: bool) -> Result<()> {
        let ok = match actor.role {
            Role::Admin => true,
            Role::Enterprise => actor.scope() == id,
            Role::Advisor => self.advisors_of(id).iter().any(|a| a == actor.scope()),
            _ => false,
        };
        if !ok {
            return Err(Error::forbidden(format!(
                "this {} token{} cannot change enterprise {id}",
                access::role_name(actor.role),
                actor
                    .scope
                    .as_deref()
                    .map(|s| format!(" for {s}"))
                    .unwrap_or_default()
            )));
        }
        if !exists && !actor.is(Role::Admin) {
            return Err(Error::forbidden(format!(
                "enterprise {id} does not exist; only an admin creates enterprises"
            )));
        }
        Ok(())
    }

    /// One enterprise as `actor` may see it.
    pub async fn get_enterprise(&self, actor: &Actor, id: &str) -> Result<ProfileView> {
        let (p, purpose) = self.readable(actor, id)?;
        let view = access::view(&p.enterprise, p.revision, &actor.reader(), self.today());
        self.audit
            .append(vec![actor.entry(
                "enterprise.read",
                format!("enterprise:{id}"),
                purpose,
            )])
            .await?;
        Ok(view)
    }

    /// Enterprises `actor` may see, by id (public registration data only).
    pub async fn list_enterprises(&self, actor: &Actor, q: &ListQuery) -> Result<Vec<Summary>> {
        actor.require(
            &[Role::Admin, Role::Advisor, Role::Institution],
            "list enterprises",
        )?;
        let prefix = match &q.region {
            Some(code) => Some(
                region::validate(code).map_err(|e| Error::parameter("region", e.to_string()))?,
            ),
            None => None,
        };
        let limit = q.limit.unwrap_or(100).clamp(1, 1000) as usize;
        let today = self.today();
        let mut out: Vec<Summary> = {
            let dir = self.directory.read().unwrap_or_else(|p| p.into_inner());
            let mut ids: Vec<&String> = dir
                .by_id
                .keys()
                .filter(|id| q.after.as_ref().is_none_or(|a| id.as_str() > a.as_str()))
                .collect();
            ids.sort();
            ids.into_iter()
                .filter_map(|id| dir.by_id.get(id))
                .filter(|p| {
                    let e = &p.enterprise;
                    let in_region = prefix.as_deref().is_none_or(|pre| {
                        e.registration
                            .region
                            .as_deref()
                            .is_some_and(|r| region::is_under(r, pre))
                    });
                    let visible = match actor.role {
                        Role::Admin => true,
                        Role::Advisor => self.advisors_of(&e.id).iter().any(|a| a == actor.scope()),
                        _ => access::institution_authorised(e, actor.scope(), today),
                    };
                    in_region && visible
                })
                .take(limit)
                .map(|p| Summary {
                    id: p.enterprise.id.clone(),
                    name: p.enterprise.name.clone(),
                    region: p.enterprise.registration.region.clone(),
                    industry: p.enterprise.registration.industry.clone(),
                    revision: p.revision,
                })
                .collect()
        };
        out.sort_by(|a, b| a.id.cmp(&b.id));
        let mut entry = actor.entry(
            "enterprise.list",
            "enterprises".into(),
            actor.purpose_or(actor.allowed_purposes()[0]),
        );
        entry.detail = Some(serde_json::json!({ "count": out.len(), "region": q.region }));
        self.audit.append(vec![entry]).await?;
        Ok(out)
    }

    /// Creates or replaces one enterprise's profile.
    ///
    /// Blocking (SQLite, the columnar store and the re-match): call it off the async runtime.
    pub fn upsert_enterprise(&self, actor: &Actor, e: Enterprise) -> Result<Upserted> {
        let exists = self.profile(&e.id).is_some();
        self.writable(actor, &e.id, exists)?;
        validate_profile(&e)?;
        let (upserted, entry) = self.store_profile(actor, e)?;
        self.audit.append_blocking(entry.into_iter().collect())?;
        Ok(upserted)
    }

    /// Stores a validated profile: database, memory, re-match. Returns the audit entry to
    /// append (none when nothing changed).
    fn store_profile(&self, actor: &Actor, e: Enterprise) -> Result<(Upserted, Option<Entry>)> {
        let previous = self.profile(&e.id);
        if let Some(p) = &previous
            && p.enterprise == e
        {
            return Ok((
                Upserted {
                    id: e.id.clone(),
                    revision: p.revision,
                    result: "unchanged",
                    notified: 0,
                },
                None,
            ));
        }
        let revision = previous.as_ref().map_or(1, |p| p.revision + 1);
        let now = self.now();
        self.db.write(|tx| {
            let holder: Option<String> = tx
                .query_row(
                    "SELECT id FROM enterprises WHERE credit_code = ?1 AND id <> ?2",
                    params![e.credit_code, e.id],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(other) = holder {
                return Err(Error::new(
                    ErrorCode::Conflict,
                    format!(
                        "credit_code: {} already belongs to enterprise {other}",
                        e.credit_code
                    ),
                )
                .with_details(serde_json::json!({ "field": "credit_code", "enterprise": other })));
            }
            insert_row(tx, &e, revision, &now)
        })?;
        let profile = Arc::new(Profile {
            enterprise: e,
            revision,
        });
        {
            let mut dir = self.directory.write().unwrap_or_else(|p| p.into_inner());
            dir.columns
                .upsert(&profile.enterprise)
                .map_err(Error::internal)?;
            dir.by_id
                .insert(profile.enterprise.id.clone(), profile.clone());
        }
        let id = profile.enterprise.id.clone();
        let notified = match self.rematch(&profile, previous.as_deref()) {
            Ok(n) => n,
            Err(err) => {
                // The profile is stored; a failed re-match is retried by the next change.
                tracing::warn!(enterprise = %id, error = %err, "re-matching failed");
                0
            }
        };
        let (action, result) = if previous.is_some() {
            ("enterprise.update", "updated")
        } else {
            ("enterprise.create", "created")
        };
        let mut entry = actor.entry(
            action,
            format!("enterprise:{id}"),
            Purpose::ProfileMaintenance,
        );
        entry.detail = Some(serde_json::json!({ "revision": revision }));
        Ok((
            Upserted {
                id,
                revision,
                result,
                notified,
            },
            Some(entry),
        ))
    }

    /// Processes one batch of a bulk upload: each line is parsed, checked and stored on its
    /// own, so a bad line never blocks the good ones.
    ///
    /// Blocking, as [`Platform::upsert_enterprise`].
    pub fn bulk_upsert(
        &self,
        actor: &Actor,
        lines: Vec<(usize, String)>,
        report: &mut BulkReport,
    ) -> Result<()> {
        actor.require(&[Role::Admin], "upload enterprises in bulk")?;
        let mut entries = Vec::new();
        for (line, text) in lines {
            report.lines += 1;
            if text.trim().is_empty() {
                report.lines -= 1;
                continue;
            }
            let e = match parse_line(&text) {
                Ok(e) => e,
                Err((code, field, message)) => {
                    report.reject(LineError {
                        line,
                        id: id_hint(&text),
                        code,
                        field,
                        message,
                    });
                    continue;
                }
            };
            if let Err(err) = validate_profile(&e) {
                for p in err.details["problems"].as_array().into_iter().flatten() {
                    report.reject(LineError {
                        line,
                        id: Some(e.id.clone()),
                        code: err.code.as_str(),
                        field: p["field"].as_str().map(String::from),
                        message: p["message"].as_str().unwrap_or_default().to_string(),
                    });
                }
                continue;
            }
            match self.store_profile(actor, e.clone()) {
                Ok((u, entry)) => {
                    match u.result {
                        "created" => report.created += 1,
                        "updated" => report.updated += 1,
                        _ => report.unchanged += 1,
                    }
                    report.notified += u.notified;
                    entries.extend(entry);
                }
                Err(err) if !err.is_internal() => report.reject(LineError {
                    line,
                    id: Some(e.id.clone()),
                    code: err.code.as_str(),
                    field: err.details["field"].as_str().map(String::from),
                    message: err.message,
                }),
                Err(err) => return Err(err),
            }
        }
        self.audit.append_blocking(entries)
    }

    /// Removes an enterprise and everything about it except the audit log (admins, or the
    /// enterprise itself).
    pub async fn delete_enterprise(&self, actor: &Actor, id: &str) -> Result<()> {
        let allowed = actor.is(Role::Admin) || (actor.is(Role::Enterprise) && actor.scope() == id);
        if !allowed {
            return Err(Error::forbidden(
                "only an admin or the enterprise itself can delete an enterprise",
            ));
        }
        if self.profile(id).is_none() {
            return Err(Error::not_found("enterprise", id));
        }
        let now = self.now();
        self.db.write(|tx| {
            tx.execute(
                "DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT d.id FROM deliveries d
                 JOIN notifications n ON n.id = d.notification_id WHERE n.enterprise_id = ?1)",
                [id],
            )?;
            tx.execute(
                "DELETE FROM deliveries WHERE notification_id IN (SELECT id FROM notifications WHERE enterprise_id = ?1)",
                [id],
            )?;
            for sql in [
                "DELETE FROM notifications WHERE enterprise_id = ?1",
                "DELETE FROM recommendations WHERE enterprise_id = ?1",
                "DELETE FROM webhooks WHERE enterprise_id = ?1",
                "DELETE FROM assignments WHERE enterprise_id = ?1",
                "DELETE FROM enterprises WHERE id = ?1",
            ] {
                tx.execute(sql, [id])?;
            }
            // Its tokens die with it: an enterprise later stored under the same id is not
            // theirs to read.
            tx.execute(
                "UPDATE tokens SET revoked_at = ?2 WHERE role = 'enterprise' AND scope = ?1 AND revoked_at IS NULL",
                rusqlite::params![id, now],
            )?;
            Ok(())
        })?;
        self.forget_enterprise_tokens(id);
        {
            let mut dir = self.directory.write().unwrap_or_else(|p| p.into_inner());
            dir.by_id.remove(id);
            dir.columns.remove(id);
        }
        self.assignments
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
        self.audit
            .append(vec![actor.entry(
                "enterprise.delete",
                format!("enterprise:{id}"),
                Purpose::ProfileMaintenance,
            )])
            .await
    }
}

/// Parses one JSON Lines record with the path of the offending field.
fn parse_line(text: &str) -> Result<Enterprise, (&'static str, Option<String>, String)> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let code = crate::server::extract::classify(&inner);
        let field = (path != ".").then_some(path);
        (code.as_str(), field, inner.to_string())
    })
}

/// The `"id"` of a line that failed to parse, when it can be picked out.
fn id_hint(text: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    v.get("id")?.as_str().map(String::from)
}
