//! Bearer tokens and advisor assignments.
//!
//! A token is 32 random bytes shown once, as `hq_<64 hex>`; the database keeps only its
//! SHA-256. Each token maps to a role and a scope (see [`access`](super::access)). Tokens are
//! cached in memory by hash, so authenticating a request touches no database.

use std::collections::HashMap;
use std::path::PathBuf;

use huiqi_engine::codes::region;
use huiqi_engine::model::Role;
use huiqi_index::snapshot::Snapshot;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Platform;
use super::access::{Actor, parse_role, role_name};
use crate::error::{Error, ErrorCode, Result};
use crate::store::audit::{Purpose, hex};

/// Tokens by the hash of their secret.
#[derive(Debug, Default)]
pub struct TokenCache {
    by_hash: HashMap<[u8; 32], Actor>,
}

/// A token just issued: the secret is in `token` and is never shown again.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Issued {
    pub id: String,
    pub role: String,
    pub scope: Option<String>,
    pub label: String,
    pub token: String,
}

/// A token as listed (no secret).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TokenInfo {
    pub id: String,
    pub role: String,
    pub scope: Option<String>,
    pub label: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// A request for a new token.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// enterprise, advisor, policy_office, institution or admin.
    pub role: String,
    /// Enterprise id, advisor id, region code or institution id (none for admin).
    #[serde(default)]
    pub scope: Option<String>,
    /// Who or what the token is for, e.g. `张经理 (杭州分行)`.
    pub label: String,
}

fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| Error::internal(format_args!("random: {e}")))?;
    Ok(hex(&buf))
}

/// Ids of advisors and institutions: letters, digits, `-` and `_`.
pub fn valid_org_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Platform {
    /// The actor behind a bearer token, if the token is known and not revoked.
    pub fn authenticate(&self, secret: &str) -> Option<Actor> {
        self.tokens
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .by_hash
            .get(&hash(secret))
            .cloned()
    }

    pub(super) fn load_tokens(&self) -> Result<()> {
        let rows: Vec<(Vec<u8>, String, String, Option<String>)> = self.db.read(|c| {
            let mut stmt =
                c.prepare("SELECT hash, id, role, scope FROM tokens WHERE revoked_at IS NULL")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            rows.collect()
        })?;
        let mut cache = TokenCache::default();
        for (h, id, role, scope) in rows {
            let (Ok(h), Some(role)) = (<[u8; 32]>::try_from(h.as_slice()), parse_role(&role))
            else {
                return Err(Error::internal(format_args!("token {id} is malformed")));
            };
            cache.by_hash.insert(
                h,
                Actor {
                    token_id: id,
                    role,
                    scope,
                    purpose: None,
                },
            );
        }
        *self.tokens.write().unwrap_or_else(|p| p.into_inner()) = cache;
        Ok(())
    }

    /// Checks a scope for a role; returns it in canonical form.
    fn check_scope(&self, role: Role, scope: Option<&str>) -> Result<Option<String>> {
        let scope = scope.map(str::trim).filter(|s| !s.is_empty());
        let need = |what: &str| {
            Error::invalid_field(
                "scope",
                format!("{} tokens need a scope: {what}", role_name(role)),
            )
        };
        match role {
            Role::Admin => match scope {
                None => Ok(None),
                Some(_) => Err(Error::invalid_field(
                    "scope",
                    "an admin token covers everything and takes no scope",
                )),
            },
            Role::Enterprise => {
                let id = scope.ok_or_else(|| need("the enterprise id"))?;
                if self.profile(id).is_none() {
                    return Err(Error::invalid_field(
                        "scope",
                        format!("no enterprise has the id {id:?}"),
                    ));
                }
                Ok(Some(id.into()))
            }
            Role::PolicyOffice => {
                let code = scope.ok_or_else(|| need("the region code of the office"))?;
                let prefix = region::validate(code)
                    .map_err(|e| Error::invalid_field("scope", e.to_string()))?;
                Ok(Some(prefix))
            }
            Role::Advisor | Role::Institution => {
                let id = scope.ok_or_else(|| need("the advisor or institution id"))?;
                if !valid_org_id(id) {
                    return Err(Error::invalid_field(
                        "scope",
                        format!("{id:?} is not an id (letters, digits, - and _, at most 64)"),
                    ));
                }
                Ok(Some(id.into()))
            }
        }
    }

    fn insert_token(&self, role: Role, scope: Option<String>, label: &str) -> Result<Issued> {
        let id = format!("tok_{}", random_hex(6)?);
        let secret = format!("hq_{}", random_hex(32)?);
        let h = hash(&secret);
        let now = self.now();
        self.db.write(|tx| {
            tx.execute(
                "INSERT INTO tokens (id, hash, role, scope, label, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, h.as_slice(), role_name(role), scope, label, now],
            )?;
            Ok(())
        })?;
        self.tokens
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .by_hash
            .insert(
                h,
                Actor {
                    token_id: id.clone(),
                    role,
                    scope: scope.clone(),
                    purpose: None,
                },
            );
        Ok(Issued {
            id,
            role: role_name(role).into(),
            scope,
            label: label.into(),
            token: secret,
        })
    }

    /// Issues a token (admins only).
    pub async fn issue_token(&self, actor: &Actor, req: NewToken) -> Result<Issued> {
        actor.require(&[Role::Admin], "issue tokens")?;
        let role = parse_role(&req.role).ok_or_else(|| {
            Error::invalid_field(
                "role",
                format!(
                    "{:?} is not a role: enterprise, advisor, policy_office, institution or admin",
                    req.role
                ),
            )
        })?;
        let label = req.label.trim();
        if label.is_empty() || label.chars().count() > 200 {
            return Err(Error::invalid_field(
                "label",
                "give the token a label of 1 to 200 characters",
            ));
        }
        let scope = self.check_scope(role, req.scope.as_deref())?;
        let issued = self.insert_token(role, scope, label)?;
        let mut entry = actor.entry(
            "token.issue",
            format!("token:{}", issued.id),
            Purpose::PlatformOversight,
        );
        entry.detail = Some(serde_json::json!({ "role": issued.role, "scope": issued.scope }));
        self.audit.append(vec![entry]).await?;
        Ok(issued)
    }

    /// Every token, without secrets (admins only).
    pub fn list_tokens(&self, actor: &Actor) -> Result<Vec<TokenInfo>> {
        actor.require(&[Role::Admin], "list tokens")?;
        self.db.read(|c| {
            let mut stmt = c.prepare(
                "SELECT id, role, scope, label, created_at, revoked_at FROM tokens ORDER BY created_at, id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(TokenInfo {
                    id: r.get(0)?,
                    role: r.get(1)?,
                    scope: r.get(2)?,
                    label: r.get(3)?,
                    created_at: r.get(4)?,
                    revoked_at: r.get(5)?,
                })
            })?;
            rows.collect()
        })
    }

    /// Revokes a token at once (admins only; a token cannot revoke itself).
    pub async fn revoke_token(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(&[Role::Admin], "revoke tokens")?;
        if actor.token_id == id {
            return Err(Error::conflict(
                "a token cannot revoke itself; use another admin token",
            ));
        }
        let now = self.now();
        let changed = self.db.write(|tx| {
            Ok(tx.execute(
                "UPDATE tokens SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL",
                params![now, id],
            )?)
        })?;
        if changed == 0 {
            return Err(Error::not_found("active token", id));
        }
        self.tokens
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .by_hash
            .retain(|_, a| a.token_id != id);
        self.audit
            .append(vec![actor.entry(
                "token.revoke",
                format!("token:{id}"),
                Purpose::PlatformOversight,
            )])
            .await
    }

    /// Drops the enterprise tokens scoped to `enterprise_id` from the cache (after they were
    /// revoked in the database).
    pub(super) fn forget_enterprise_tokens(&self, enterprise_id: &str) {
        self.tokens
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .by_hash
            .retain(|_, a| {
                !(a.role == Role::Enterprise && a.scope.as_deref() == Some(enterprise_id))
            });
    }

    /// One token per role for trying the API at once; the advisor is assigned the Zhejiang
    /// enterprises, the policy office is 杭州市's.
    pub(super) fn issue_demo_tokens(&self, snapshot: &Snapshot) -> Result<Vec<Issued>> {
        let enterprises = &snapshot.enterprises;
        let enterprise = enterprises
            .iter()
            .find(|e| e.id == "E-0006")
            .or(enterprises.first())
            .map(|e| e.id.clone());
        let institution = snapshot
            .products
            .iter()
            .map(|p| p.item.institution_id.clone())
            .find(|i| i == "BANK-HANHAI")
            .or_else(|| {
                snapshot
                    .products
                    .first()
                    .map(|p| p.item.institution_id.clone())
            });
        let advisor = "ADV-ZJ-01".to_string();
        let zhejiang: Vec<&str> = enterprises
            .iter()
            .filter(|e| {
                e.registration
                    .region
                    .as_deref()
                    .is_some_and(|r| region::is_under(r, "33"))
            })
            .map(|e| e.id.as_str())
            .collect();
        let now = self.now();
        self.db.write(|tx| {
            for id in &zhejiang {
                tx.execute(
                    "INSERT OR IGNORE INTO assignments (advisor, enterprise_id, assigned_at) VALUES (?1, ?2, ?3)",
                    params![advisor, id, now],
                )?;
            }
            Ok(())
        })?;
        let mut issued = vec![self.insert_token(Role::Admin, None, "demo: platform operator")?];
        if let Some(id) = enterprise {
            issued.push(self.insert_token(Role::Enterprise, Some(id), "demo: enterprise")?);
        }
        issued.push(self.insert_token(
            Role::Advisor,
            Some(advisor),
            "demo: financing advisor for Zhejiang",
        )?);
        issued.push(self.insert_token(
            Role::PolicyOffice,
            Some("3301".into()),
            "demo: 杭州市 policy office",
        )?);
        if let Some(id) = institution {
            issued.push(self.insert_token(Role::Institution, Some(id), "demo: bank")?);
        }
        Ok(issued)
    }

    /// Writes the demo tokens beside the database, readable by the owner only.
    pub(super) fn write_demo_tokens(&self, issued: &[Issued]) -> Result<PathBuf> {
        let path = self.data_dir().join("demo-tokens.txt");
        let mut text = String::from(
            "# huiqi demo tokens, one per role (role, scope, token). Keep them private.\n",
        );
        for t in issued {
            text.push_str(&format!(
                "{}\t{}\t{}\n",
                t.role,
                t.scope.as_deref().unwrap_or("-"),
                t.token
            ));
        }
        write_private(&path, &text)
            .map_err(|e| Error::internal(format_args!("{}: {e}", path.display())))?;
        Ok(path)
    }

    /// Assigns an enterprise to an advisor (admins only).
    pub async fn assign(&self, actor: &Actor, advisor: &str, enterprise_id: &str) -> Result<()> {
        actor.require(&[Role::Admin], "assign enterprises to advisors")?;
        if !valid_org_id(advisor) {
            return Err(Error::parameter(
                "advisor",
                format!("{advisor:?} is not an advisor id"),
            ));
        }
        if self.profile(enterprise_id).is_none() {
            return Err(Error::not_found("enterprise", enterprise_id));
        }
        let now = self.now();
        self.db.write(|tx| {
            tx.execute(
                "INSERT OR IGNORE INTO assignments (advisor, enterprise_id, assigned_at) VALUES (?1, ?2, ?3)",
                params![advisor, enterprise_id, now],
            )?;
            Ok(())
        })?;
        {
            let mut map = self.assignments.write().unwrap_or_else(|p| p.into_inner());
            let list = map.entry(enterprise_id.to_string()).or_default();
            if !list.iter().any(|a| a == advisor) {
                list.push(advisor.to_string());
            }
        }
        self.audit
            .append(vec![actor.entry(
                "assignment.create",
                format!("enterprise:{enterprise_id}"),
                Purpose::AdvisoryReview,
            )])
            .await
    }

    /// Ends an assignment (admins only).
    pub async fn unassign(&self, actor: &Actor, advisor: &str, enterprise_id: &str) -> Result<()> {
        actor.require(&[Role::Admin], "change advisor assignments")?;
        let removed = self.db.write(|tx| {
            Ok(tx.execute(
                "DELETE FROM assignments WHERE advisor = ?1 AND enterprise_id = ?2",
                params![advisor, enterprise_id],
            )?)
        })?;
        if removed == 0 {
            return Err(Error::new(
                ErrorCode::NotFound,
                format!("{enterprise_id} is not assigned to {advisor}"),
            ));
        }
        if let Some(list) = self
            .assignments
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(enterprise_id)
        {
            list.retain(|a| a != advisor);
        }
        self.audit
            .append(vec![actor.entry(
                "assignment.delete",
                format!("enterprise:{enterprise_id}"),
                Purpose::AdvisoryReview,
            )])
            .await
    }

    /// The enterprises assigned to an advisor (the advisor itself or an admin).
    pub fn assigned_to(&self, actor: &Actor, advisor: &str) -> Result<Vec<String>> {
        if !(actor.is(Role::Admin) || (actor.is(Role::Advisor) && actor.scope() == advisor)) {
            return Err(Error::forbidden(
                "only the advisor itself or an admin can list an advisor's enterprises",
            ));
        }
        let mut ids: Vec<String> = self
            .assignments
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(_, advisors)| advisors.iter().any(|a| a == advisor))
            .map(|(e, _)| e.clone())
            .collect();
        ids.sort();
        Ok(ids)
    }
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}
