//! Webhook subscriptions and the delivery of notifications to them.
//!
//! A delivered notification queues one delivery per matching subscription, in the same
//! transaction that delivered it (unique per subscription and notification, so never twice).
//! The sender POSTs each due delivery as JSON signed with HMAC-SHA256 over
//! `"{timestamp}.{body}"` with the subscription's secret:
//!
//! ```text
//! X-Huiqi-Delivery: 42
//! X-Huiqi-Event: policy_match
//! X-Huiqi-Timestamp: 1796284800
//! X-Huiqi-Signature: sha256=5f0c…
//! ```
//!
//! A 2xx answer delivers it; anything else (or no answer within the timeout) is retried with
//! exponential backoff (`first_retry_ms`, doubled each time, at most `max_retry_ms`) until
//! `max_attempts`, then it is marked failed. Every attempt is logged. Deliveries survive a
//! restart: they are rows, not tasks.
//!
//! Targets are `http://` URLs; addresses on the loopback or private networks are refused
//! unless `webhooks.allow_private_targets` is set (a guard against reaching internal
//! services through the platform).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{Request, Uri, header};
use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use huiqi_engine::model::Role;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rusqlite::{OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::Platform;
use super::access::Actor;
use super::outreach::{Kind, NOTIFICATION_COLUMNS};
use crate::error::{Error, Result};
use crate::store::audit::{Purpose, hex};

/// A new subscription.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where to POST, `http://host[:port]/path`.
    pub url: String,
    /// The enterprise whose notifications to send; an enterprise token's own by default.
    /// Admins may leave it out to receive every enterprise's.
    #[serde(default)]
    pub enterprise_id: Option<String>,
    /// Notification kinds to send (`policy_match`, `policy_maybe`, `window_closing`); all
    /// when absent.
    #[serde(default)]
    pub kinds: Option<Vec<String>>,
}

/// A subscription (its secret is shown once, at creation).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Webhook {
    pub id: String,
    pub enterprise_id: Option<String>,
    pub url: String,
    pub kinds: Vec<String>,
    pub owner: String,
    pub created_at: String,
    /// The HMAC key, only in the answer to the creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// One delivery and its attempts.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Delivery {
    pub id: i64,
    pub notification_id: i64,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub log: Vec<Attempt>,
}

/// One attempt of a delivery.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Attempt {
    pub attempt: i64,
    pub at: String,
    /// HTTP status answered, if any.
    pub status: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// Queues deliveries of a delivered notification to every matching subscription.
pub(super) fn enqueue(tx: &Transaction<'_>, notification: i64, now: &str) -> Result<usize> {
    Ok(tx
        .prepare_cached(
            "INSERT OR IGNORE INTO deliveries (webhook_id, notification_id, state, next_attempt_at, created_at)
             SELECT w.id, n.id, 'pending', ?2, ?2
             FROM notifications n JOIN webhooks w
               ON (w.enterprise_id = n.enterprise_id OR w.enterprise_id IS NULL)
              AND (w.kinds = '*' OR instr(',' || w.kinds || ',', ',' || n.kind || ',') > 0)
             WHERE n.id = ?1 AND n.state = 'delivered'",
        )?
        .execute(params![notification, now])?)
}

fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

/// Checks a target URL; returns it parsed.
fn check_url(url: &str, allow_private: bool) -> Result<Uri> {
    let bad = |why: &str| Error::invalid_field("url", format!("{url:?}: {why}"));
    let uri: Uri = url.parse().map_err(|_| bad("not a URL"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(bad(
                "https targets are not supported by this build; deliver to an http:// relay inside your network",
            ));
        }
        _ => return Err(bad("the URL must start with http://")),
    }
    let host = uri.host().ok_or_else(|| bad("the URL has no host"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let private =
        host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(is_private);
    if private && !allow_private {
        return Err(bad(
            "loopback and private addresses are refused (set webhooks.allow_private_targets to allow them)",
        ));
    }
    Ok(uri)
}

/// The signature header value for a body sent at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex(&mac.finalize().into_bytes()))
}

fn webhook_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Webhook> {
    let kinds: String = r.get(3)?;
    Ok(Webhook {
        id: r.get(0)?,
        enterprise_id: r.get(1)?,
        url: r.get(2)?,
        kinds: if kinds == "*" {
            Kind::ALL.iter().map(|k| k.as_str().to_string()).collect()
        } else {
            kinds.split(',').map(String::from).collect()
        },
        owner: r.get(4)?,
        created_at: r.get(5)?,
        secret: None,
    })
}

const WEBHOOK_COLUMNS: &str = "id, enterprise_id, url, kinds, owner, created_at";

impl Platform {
    /// Subscribes a URL to an enterprise's notifications (the enterprise itself, or an
    /// admin for one or every enterprise).
    pub async fn create_webhook(&self, actor: &Actor, req: NewWebhook) -> Result<Webhook> {
        actor.require(&[Role::Enterprise, Role::Admin], "subscribe webhooks")?;
        let enterprise_id = match (actor.role, req.enterprise_id) {
            (Role::Enterprise, None) => Some(actor.scope().to_string()),
            (Role::Enterprise, Some(id)) if id == actor.scope() => Some(id),
            (Role::Enterprise, Some(id)) => {
                return Err(Error::forbidden(format!(
                    "enterprise_id: a token of {} cannot subscribe to {id}'s notifications",
                    actor.scope()
                )));
            }
            (_, id) => id,
        };
        if let Some(id) = &enterprise_id
            && self.profile(id).is_none()
        {
            return Err(Error::invalid_field(
                "enterprise_id",
                format!("no enterprise has the id {id:?}"),
            ));
        }
        check_url(&req.url, self.config.webhooks.allow_private_targets)?;
        let kinds = match &req.kinds {
            None => "*".to_string(),
            Some(list) if list.is_empty() => {
                return Err(Error::invalid_field(
                    "kinds",
                    "give at least one kind, or leave it out for all",
                ));
            }
            Some(list) => {
                for (i, k) in list.iter().enumerate() {
                    if Kind::parse(k).is_none() {
                        return Err(Error::invalid_field(
                            &format!("kinds[{i}]"),
                            format!("{k:?} is not policy_match, policy_maybe or window_closing"),
                        ));
                    }
                }
                list.join(",")
            }
        };
        let id = format!("wh_{}", random_hex(6)?);
        let secret = format!("whsec_{}", random_hex(24)?);
        let now = self.now();
        let owner = actor.describe();
        self.db.write(|tx| {
            tx.execute(
                "INSERT INTO webhooks (id, enterprise_id, url, secret, kinds, owner, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![id, enterprise_id, req.url, secret, kinds, owner, now],
            )?;
            Ok(())
        })?;
        let target = enterprise_id
            .as_ref()
            .map_or("enterprises".to_string(), |e| format!("enterprise:{e}"));
        let mut entry = actor.entry("webhook.create", target, Purpose::ProfileMaintenance);
        entry.detail = Some(serde_json::json!({ "webhook": id, "url": req.url }));
        self.audit.append(vec![entry]).await?;
        let mut hook = self.db.read(|c| {
            c.query_row(
                &format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = ?1"),
                [&id],
                webhook_from_row,
            )
        })?;
        hook.secret = Some(secret);
        Ok(hook)
    }

    fn visible_webhook(&self, actor: &Actor, id: &str) -> Result<Webhook> {
        actor.require(&[Role::Enterprise, Role::Admin], "manage webhooks")?;
        let hook = self
            .db
            .read(|c| {
                c.query_row(
                    &format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = ?1"),
                    [id],
                    webhook_from_row,
                )
                .optional()
            })?
            .filter(|h| actor.is(Role::Admin) || h.enterprise_id.as_deref() == Some(actor.scope()))
            .ok_or_else(|| Error::not_found("webhook", id))?;
        Ok(hook)
    }

    /// The caller's subscriptions (every one, for admins).
    pub fn list_webhooks(&self, actor: &Actor) -> Result<Vec<Webhook>> {
        actor.require(&[Role::Enterprise, Role::Admin], "list webhooks")?;
        let scope = actor
            .is(Role::Enterprise)
            .then(|| actor.scope().to_string());
        self.db.read(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE ?1 IS NULL OR enterprise_id = ?1 ORDER BY created_at, id"
            ))?;
            let rows = stmt.query_map([scope], webhook_from_row)?;
            rows.collect()
        })
    }

    /// Removes a subscription; its pending deliveries stop, its log stays until then.
    pub async fn delete_webhook(&self, actor: &Actor, id: &str) -> Result<()> {
        let hook = self.visible_webhook(actor, id)?;
        self.db.write(|tx| {
            tx.execute(
                "DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE webhook_id = ?1)",
                [id],
            )?;
            tx.execute("DELETE FROM deliveries WHERE webhook_id = ?1", [id])?;
            tx.execute("DELETE FROM webhooks WHERE id = ?1", [id])?;
            Ok(())
        })?;
        let target = hook
            .enterprise_id
            .map_or("enterprises".to_string(), |e| format!("enterprise:{e}"));
        let mut entry = actor.entry("webhook.delete", target, Purpose::ProfileMaintenance);
        entry.detail = Some(serde_json::json!({ "webhook": id }));
        self.audit.append(vec![entry]).await
    }

    /// The delivery log of a subscription, newest first.
    pub fn deliveries(&self, actor: &Actor, id: &str, limit: u32) -> Result<Vec<Delivery>> {
        self.visible_webhook(actor, id)?;
        let limit = limit.clamp(1, 500);
        self.db.read(|c| {
            let mut stmt = c.prepare(
                "SELECT id, notification_id, state, attempts, next_attempt_at, last_status, last_error, created_at, finished_at
                 FROM deliveries WHERE webhook_id = ?1 ORDER BY id DESC LIMIT ?2",
            )?;
            let mut list: Vec<Delivery> = stmt
                .query_map(params![id, limit], |r| {
                    let state: String = r.get(2)?;
                    Ok(Delivery {
                        id: r.get(0)?,
                        notification_id: r.get(1)?,
                        next_attempt_at: if state == "pending" { r.get(4)? } else { None },
                        state,
                        attempts: r.get(3)?,
                        last_status: r.get(5)?,
                        last_error: r.get(6)?,
                        created_at: r.get(7)?,
                        finished_at: r.get(8)?,
                        log: Vec::new(),
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            let mut attempts = c.prepare(
                "SELECT attempt, at, status, error, duration_ms FROM delivery_attempts WHERE delivery_id = ?1 ORDER BY attempt",
            )?;
            for d in &mut list {
                d.log = attempts
                    .query_map([d.id], |r| {
                        Ok(Attempt {
                            attempt: r.get(0)?,
                            at: r.get(1)?,
                            status: r.get(2)?,
                            error: r.get(3)?,
                            duration_ms: r.get(4)?,
                        })
                    })?
                    .collect::<rusqlite::Result<_>>()?;
            }
            Ok(list)
        })
    }

    /// Sends due deliveries until the platform stops; sleeps until the next one is due or a
    /// new one is queued.
    pub async fn delivery_loop(self: Arc<Self>) {
        let client: Client<HttpConnector, Full<Bytes>> =
            Client::builder(TokioExecutor::new()).build_http();
        loop {
            if self.is_stopping() {
                return;
            }
            let wake = self.deliveries_wake.notified();
            let due = match self.due_deliveries(32) {
                Ok(d) => d,
                Err(e) => {
                    tracing::error!(error = %e, "cannot list due deliveries");
                    Vec::new()
                }
            };
            let busy = !due.is_empty();
            futures_util::stream::iter(due)
                .for_each_concurrent(8, |d| {
                    let client = client.clone();
                    let p = self.clone();
                    async move {
                        let outcome = p.send(&client, &d).await;
                        if let Err(e) = p.record_attempt(&d, outcome) {
                            tracing::error!(delivery = d.id, error = %e, "cannot record a delivery attempt");
                        }
                    }
                })
                .await;
            if busy {
                continue;
            }
            let wait = self.next_due_in().unwrap_or(Duration::from_secs(60));
            tokio::select! {
                _ = wake => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    fn due_deliveries(&self, n: usize) -> Result<Vec<Due>> {
        let now = self.now();
        self.db.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT d.id, d.attempts, w.url, w.secret, {}
                 FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
                 JOIN notifications n ON n.id = d.notification_id
                 WHERE d.state = 'pending' AND d.next_attempt_at <= ?1
                 ORDER BY d.next_attempt_at, d.id LIMIT ?2",
                NOTIFICATION_COLUMNS
                    .split(", ")
                    .map(|c| format!("n.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))?;
            let rows = stmt.query_map(params![now, n as i64], |r| {
                Ok(Due {
                    id: r.get(0)?,
                    attempts: r.get(1)?,
                    url: r.get(2)?,
                    secret: r.get(3)?,
                    notification: notification_from_offset(r, 4)?,
                })
            })?;
            rows.collect()
        })
    }

    fn next_due_in(&self) -> Option<Duration> {
        let next: Option<String> = self
            .db
            .read(|c| {
                c.query_row(
                    "SELECT min(next_attempt_at) FROM deliveries WHERE state = 'pending'",
                    [],
                    |r| r.get(0),
                )
            })
            .ok()
            .flatten();
        let next = chrono::DateTime::parse_from_rfc3339(&next?).ok()?;
        let wait = next.with_timezone(&chrono::Utc) - self.clock.now();
        Some(
            wait.to_std()
                .unwrap_or(Duration::ZERO)
                .min(Duration::from_secs(60))
                .max(Duration::from_millis(10)),
        )
    }

    async fn send(&self, client: &Client<HttpConnector, Full<Bytes>>, d: &Due) -> SendOutcome {
        let started = Instant::now();
        let body = serde_json::json!({
            "delivery": d.id,
            "event": d.notification.kind,
            "notification": d.notification,
        })
        .to_string();
        let timestamp = self.clock.now().timestamp();
        let request = Request::post(&d.url)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::USER_AGENT, "huiqi-webhooks/1")
            .header("x-huiqi-delivery", d.id.to_string())
            .header("x-huiqi-event", d.notification.kind.as_str())
            .header("x-huiqi-timestamp", timestamp.to_string())
            .header(
                "x-huiqi-signature",
                signature(&d.secret, timestamp, body.as_bytes()),
            )
            .body(Full::new(Bytes::from(body)));
        let request = match request {
            Ok(r) => r,
            Err(e) => {
                return SendOutcome {
                    status: None,
                    error: Some(format!("bad request: {e}")),
                    elapsed: started.elapsed(),
                };
            }
        };
        let timeout = Duration::from_millis(self.config.webhooks.timeout_ms);
        let result = tokio::time::timeout(timeout, async {
            let response = client.request(request).await?;
            let status = response.status();
            // Drain the answer so the connection can be reused.
            let _ = response.into_body().collect().await;
            Ok::<_, hyper_util::client::legacy::Error>(status)
        })
        .await;
        let (status, error) = match result {
            Ok(Ok(status)) if status.is_success() => (Some(status.as_u16()), None),
            Ok(Ok(status)) => (Some(status.as_u16()), Some(format!("answered {status}"))),
            Ok(Err(e)) => (None, Some(format!("{e}"))),
            Err(_) => (
                None,
                Some(format!("no answer within {} ms", timeout.as_millis())),
            ),
        };
        SendOutcome {
            status,
            error,
            elapsed: started.elapsed(),
        }
    }

    fn record_attempt(&self, d: &Due, o: SendOutcome) -> Result<()> {
        let now = self.clock.now();
        let at = crate::store::timestamp(now);
        let attempt = d.attempts + 1;
        let w = &self.config.webhooks;
        let (state, next) = if o.error.is_none() {
            ("delivered", None)
        } else if attempt >= i64::from(w.max_attempts) {
            ("failed", None)
        } else {
            let backoff = w
                .first_retry_ms
                .saturating_mul(1u64 << (attempt - 1).clamp(0, 30))
                .min(w.max_retry_ms);
            let next = now + chrono::Duration::milliseconds(backoff as i64);
            ("pending", Some(crate::store::timestamp(next)))
        };
        self.db.write(|tx| {
            tx.execute(
                "INSERT OR IGNORE INTO delivery_attempts (delivery_id, attempt, at, status, error, duration_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![d.id, attempt, at, o.status, o.error, o.elapsed.as_millis() as i64],
            )?;
            tx.execute(
                "UPDATE deliveries SET attempts = ?1, state = ?2, last_status = ?3, last_error = ?4,
                   next_attempt_at = coalesce(?5, next_attempt_at),
                   finished_at = CASE WHEN ?2 = 'pending' THEN NULL ELSE ?6 END
                 WHERE id = ?7",
                params![attempt, state, o.status, o.error, next, at, d.id],
            )?;
            Ok(())
        })?;
        self.metrics.webhook_attempts(state);
        Ok(())
    }
}

struct Due {
    id: i64,
    attempts: i64,
    url: String,
    secret: String,
    notification: super::outreach::Notification,
}

struct SendOutcome {
    status: Option<u16>,
    error: Option<String>,
    elapsed: Duration,
}

fn notification_from_offset(
    r: &rusqlite::Row<'_>,
    at: usize,
) -> rusqlite::Result<super::outreach::Notification> {
    Ok(super::outreach::Notification {
        id: r.get(at)?,
        enterprise_id: r.get(at + 1)?,
        policy_id: r.get(at + 2)?,
        policy_version: r.get(at + 3)?,
        kind: r.get(at + 4)?,
        title: r.get(at + 5)?,
        body: r.get(at + 6)?,
        state: r.get(at + 7)?,
        created_at: r.get(at + 8)?,
        delivered_at: r.get(at + 9)?,
        read_at: r.get(at + 10)?,
        dismissed_at: r.get(at + 11)?,
    })
}

fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| Error::internal(format_args!("random: {e}")))?;
    Ok(hex(&buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_must_be_public_http_unless_allowed() {
        assert!(check_url("http://hooks.example.com/huiqi", false).is_ok());
        for bad in [
            "https://hooks.example.com/x",
            "ftp://x/y",
            "not a url",
            "http://127.0.0.1:9000/x",
            "http://localhost/x",
            "http://10.1.2.3/x",
            "http://[::1]:80/x",
        ] {
            let e = check_url(bad, false).unwrap_err();
            assert!(e.message.starts_with("url:"), "{bad}: {}", e.message);
        }
        assert!(check_url("http://127.0.0.1:9000/x", true).is_ok());
    }

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Known answer computed independently (Python's hmac module).
        assert_eq!(
            signature("whsec_test", 1_796_284_800, br#"{"delivery":1}"#),
            "sha256=7324de66398d8008b1415694229db8bf7cdbd08457eefcf2dcfd812d011429b9"
        );
    }
}
