//! The audit log: every read or write of enterprise data, append-only.
//!
//! Entries go to one writer thread with its own connection, which commits whatever has queued
//! up in one transaction (group commit) and only then answers each caller, so a request that
//! touched enterprise data returns only after its audit entry is durable. Each entry carries
//! the SHA-256 of the previous entry and of itself, so any change to a stored entry breaks the
//! chain ([`verify`]); SQLite triggers refuse UPDATE and DELETE outright, and no API call
//! writes anything but new entries.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

use super::{Db, connect, timestamp};
use crate::clock::Clock;
use crate::error::{Error, Result};

/// Why enterprise data was used. Data is used only for financing support; there is no
/// other purpose to give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// 融资对接: matching an enterprise with products and policies.
    FinancingMatch,
    /// 人工复核: an advisor reviewing machine matches.
    AdvisoryReview,
    /// 政策找人: notifying enterprises of policies that fit them.
    PolicyOutreach,
    /// 信息维护: the enterprise's profile being created, corrected or removed.
    ProfileMaintenance,
    /// 授信评估: an institution assessing an enterprise that authorised it.
    CreditAssessment,
    /// 平台监督: the operator checking the platform's own records.
    PlatformOversight,
}

impl Purpose {
    pub const ALL: [Purpose; 6] = [
        Purpose::FinancingMatch,
        Purpose::AdvisoryReview,
        Purpose::PolicyOutreach,
        Purpose::ProfileMaintenance,
        Purpose::CreditAssessment,
        Purpose::PlatformOversight,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::FinancingMatch => "financing_match",
            Purpose::AdvisoryReview => "advisory_review",
            Purpose::PolicyOutreach => "policy_outreach",
            Purpose::ProfileMaintenance => "profile_maintenance",
            Purpose::CreditAssessment => "credit_assessment",
            Purpose::PlatformOversight => "platform_oversight",
        }
    }

    pub fn parse(s: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// What happened, by whom, to what, why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// The token id and scope, e.g. `tok_1a2b… advisor:ADV-HZ`.
    pub actor: String,
    /// The actor's role (`system` for the platform's own jobs).
    pub role: String,
    /// e.g. `enterprise.read`, `enterprise.match`, `notification.create`.
    pub action: String,
    /// e.g. `enterprise:E-0034`.
    pub target: String,
    pub purpose: Purpose,
    /// Anything that helps reading the entry later (counts, ids), never profile data.
    pub detail: Option<serde_json::Value>,
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Stored {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub target: String,
    pub purpose: String,
    pub detail: Option<serde_json::Value>,
    pub hash: String,
}

struct Pending {
    entries: Vec<Entry>,
    done: oneshot::Sender<Result<(), String>>,
}

/// The handle every part of the server appends through.
#[derive(Debug, Clone)]
pub struct AuditLog {
    tx: mpsc::Sender<Pending>,
}

impl AuditLog {
    /// Starts the writer thread on its own connection to `db`.
    pub fn start(db: &Db, clock: Arc<dyn Clock>) -> Result<AuditLog> {
        let conn = connect(db.path())?;
        let pass_done = db.pass_done();
        let last: String = conn
            .query_row(
                "SELECT hash FROM audit ORDER BY seq DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(String::new()),
                e => Err(e),
            })?;
        let (tx, rx) = mpsc::channel::<Pending>();
        std::thread::Builder::new()
            .name("huiqi-audit".into())
            .spawn(move || writer(conn, rx, last, clock, &pass_done))
            .map_err(Error::internal)?;
        Ok(AuditLog { tx })
    }

    /// Appends entries; resolves once they are committed.
    pub async fn append(&self, entries: Vec<Entry>) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Pending { entries, done })
            .map_err(|_| Error::internal("the audit writer has stopped"))?;
        match wait.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Error::internal(format_args!("audit: {e}"))),
            Err(_) => Err(Error::internal("the audit writer has stopped")),
        }
    }

    /// [`append`](Self::append) for code that runs outside the async runtime (jobs).
    pub fn append_blocking(&self, entries: Vec<Entry>) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Pending { entries, done })
            .map_err(|_| Error::internal("the audit writer has stopped"))?;
        match wait.blocking_recv() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Error::internal(format_args!("audit: {e}"))),
            Err(_) => Err(Error::internal("the audit writer has stopped")),
        }
    }
}

fn writer(
    mut conn: Connection,
    rx: mpsc::Receiver<Pending>,
    mut last: String,
    clock: Arc<dyn Clock>,
    checkpoint_pass_done: &AtomicBool,
) {
    while let Ok(first) = rx.recv() {
        // Everything that queued while the previous group committed goes into this one.
        let mut group = vec![first];
        while let Ok(more) = rx.try_recv() {
            group.push(more);
        }
        let before = last.clone();
        let result =
            commit(&mut conn, &group, &mut last, clock.as_ref()).map_err(|e| e.to_string());
        if result.is_err() {
            last = before;
        }
        for p in group {
            let _ = p.done.send(result.clone());
        }
        // Finishes the checkpointer's pass between two commits (see store::Checkpointer).
        if checkpoint_pass_done.swap(false, Ordering::Acquire)
            && let Err(e) = super::checkpoint(&conn)
        {
            tracing::warn!("audit: finishing a checkpoint failed: {e}");
        }
    }
}

fn commit(
    conn: &mut Connection,
    group: &[Pending],
    last: &mut String,
    clock: &dyn Clock,
) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO audit (at, actor, role, action, target, purpose, detail, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        let at = timestamp(clock.now());
        for e in group.iter().flat_map(|p| &p.entries) {
            let detail = e.detail.as_ref().map(|d| d.to_string());
            let hash = chain_hash(last, &at, e, detail.as_deref().unwrap_or(""));
            insert.execute(params![
                at,
                e.actor,
                e.role,
                e.action,
                e.target,
                e.purpose.as_str(),
                detail,
                last.as_str(),
                hash
            ])?;
            *last = hash;
        }
    }
    tx.commit()
}

fn chain_hash(prev: &str, at: &str, e: &Entry, detail: &str) -> String {
    let mut h = Sha256::new();
    for part in [
        prev,
        at,
        &e.actor,
        &e.role,
        &e.action,
        &e.target,
        e.purpose.as_str(),
        detail,
    ] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    hex(&h.finalize())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Which entries to list.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Query {
    /// Only entries about this target, e.g. `enterprise:E-0034`.
    pub target: Option<String>,
    /// Only entries whose actor starts with this, e.g. a token id.
    pub actor: Option<String>,
    /// Only this action, e.g. `enterprise.read`.
    pub action: Option<String>,
    /// Only entries after this sequence number (for paging).
    pub after: Option<i64>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<u32>,
}

/// Lists entries oldest first.
pub fn list(db: &Db, q: &Query) -> Result<Vec<Stored>> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    db.read(|c| {
        let mut stmt = c.prepare_cached(
            "SELECT seq, at, actor, role, action, target, purpose, detail, hash FROM audit
             WHERE (?1 IS NULL OR target = ?1)
               AND (?2 IS NULL OR substr(actor, 1, length(?2)) = ?2)
               AND (?3 IS NULL OR action = ?3)
               AND seq > ?4
             ORDER BY seq LIMIT ?5",
        )?;
        let rows = stmt.query_map(
            params![q.target, q.actor, q.action, q.after.unwrap_or(0), limit],
            |r| {
                let detail: Option<String> = r.get(7)?;
                Ok(Stored {
                    seq: r.get(0)?,
                    at: r.get(1)?,
                    actor: r.get(2)?,
                    role: r.get(3)?,
                    action: r.get(4)?,
                    target: r.get(5)?,
                    purpose: r.get(6)?,
                    detail: detail.and_then(|d| serde_json::from_str(&d).ok()),
                    hash: r.get(8)?,
                })
            },
        )?;
        rows.collect()
    })
}

/// The result of checking the whole chain.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Verification {
    pub entries: u64,
    pub intact: bool,
    /// The first entry whose hash does not follow from its content and its predecessor.
    pub first_broken: Option<i64>,
}

/// Recomputes every entry's hash from its content and its predecessor's hash.
pub fn verify(db: &Db) -> Result<Verification> {
    db.read(|c| {
        let mut stmt = c.prepare(
            "SELECT seq, at, actor, role, action, target, purpose, detail, prev_hash, hash
             FROM audit ORDER BY seq",
        )?;
        let mut rows = stmt.query([])?;
        let mut last = String::new();
        let mut entries = 0u64;
        while let Some(r) = rows.next()? {
            entries += 1;
            let seq: i64 = r.get(0)?;
            let at: String = r.get(1)?;
            let purpose: String = r.get(6)?;
            let detail: Option<String> = r.get(7)?;
            let prev: String = r.get(8)?;
            let hash: String = r.get(9)?;
            let entry = Entry {
                actor: r.get(2)?,
                role: r.get(3)?,
                action: r.get(4)?,
                target: r.get(5)?,
                purpose: Purpose::parse(&purpose).unwrap_or(Purpose::PlatformOversight),
                detail: None,
            };
            let expected = chain_hash(&last, &at, &entry, detail.as_deref().unwrap_or(""));
            if prev != last || hash != expected || Purpose::parse(&purpose).is_none() {
                return Ok(Verification {
                    entries,
                    intact: false,
                    first_broken: Some(seq),
                });
            }
            last = hash;
        }
        Ok(Verification {
            entries,
            intact: true,
            first_broken: None,
        })
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::tests::{under_continuous_writes, wal_restarts};
    use super::*;
    use crate::clock::SystemClock;

    fn entry(i: usize) -> Entry {
        Entry {
            actor: format!("tok_{i} admin"),
            role: "admin".into(),
            action: "enterprise.read".into(),
            target: format!("enterprise:E-{i:04}"),
            purpose: Purpose::PlatformOversight,
            detail: Some(serde_json::json!({ "i": i })),
        }
    }

    #[test]
    fn concurrent_appends_form_one_intact_chain_and_tampering_shows() {
        let dir = std::env::temp_dir().join(format!("huiqi-audit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("audit.sqlite");
        let _ = std::fs::remove_file(&path);
        let db = Db::open(&path).unwrap();
        let log = AuditLog::start(&db, Arc::new(SystemClock::default())).unwrap();
        std::thread::scope(|s| {
            for t in 0..4 {
                let log = log.clone();
                s.spawn(move || {
                    for i in 0..50 {
                        log.append_blocking(vec![entry(t * 100 + i)]).unwrap();
                    }
                });
            }
        });
        let v = verify(&db).unwrap();
        assert_eq!((v.entries, v.intact), (200, true));
        let some = list(
            &db,
            &Query {
                target: Some("enterprise:E-0107".into()),
                ..Query::default()
            },
        )
        .unwrap();
        assert_eq!(some.len(), 1);
        assert_eq!(some[0].detail, Some(serde_json::json!({ "i": 107 })));

        // Tampering needs the triggers gone: what an attacker with the file could do.
        db.read(|c| {
            c.execute_batch(
                "DROP TRIGGER audit_no_update; UPDATE audit SET target = 'enterprise:X' WHERE seq = 17;",
            )
        })
        .unwrap();
        let v = verify(&db).unwrap();
        assert_eq!((v.intact, v.first_broken), (false, Some(17)));
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// Under appends that never pause, every checkpoint pass still ends with the WAL starting
    /// over from its beginning (the writer finishes the pass between two of its commits), so
    /// the WAL holds about one interval's writes instead of growing with every commit.
    #[test]
    fn the_wal_starts_over_after_each_pass_under_continuous_appends() {
        let dir = std::env::temp_dir().join(format!("huiqi-audit-wal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("audit.sqlite");
        let _ = std::fs::remove_file(&path);
        // The passes are run by hand below, as the checkpointer thread runs them.
        let db = Db::open_checkpointing_every(&path, Duration::from_secs(3600)).unwrap();
        let log = AuditLog::start(&db, Arc::new(SystemClock::default())).unwrap();
        let pass_done = db.pass_done();
        let hand = connect(&path).unwrap();
        let committed = under_continuous_writes(
            3,
            |t, i| log.append_blocking(vec![entry(t * 1_000_000 + i)]).unwrap(),
            |wait_for_more| {
                for pass in 0..5 {
                    wait_for_more(300);
                    let before = wal_restarts(&path);
                    // The checkpointer's pass, while the appends go on.
                    super::super::pass(&hand, &path, &pass_done, i64::MAX).unwrap();
                    while pass_done.load(Ordering::Acquire) {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    // Up to three appends of the group committed before the writer's step may
                    // still be counting; the fourth committed after it.
                    wait_for_more(4);
                    assert!(
                        wal_restarts(&path) > before,
                        "pass {pass}: the WAL did not start over under continuous appends"
                    );
                }
            },
        );
        let written: i64 = db
            .read(|c| c.query_row("SELECT count(*) FROM audit", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(written as usize, committed);
        assert!(verify(&db).unwrap().intact);
        drop((log, hand, db));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
