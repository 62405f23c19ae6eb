//! Persistence of the embedded default: one SQLite database (WAL) under the data directory
//! for enterprises, tokens, advisor assignments, recommendations and their reviews,
//! notifications, 政策找人 jobs, webhooks and their deliveries, and the audit log.
//!
//! Writes that belong together commit in one transaction, so a crash leaves either all of a
//! change or none of it. The audit log has its own writer ([`audit`]) that commits entries in
//! groups; SQLite triggers refuse any UPDATE or DELETE of it.

pub mod audit;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction};

use crate::error::{Error, Result};

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE enterprises (
    id          TEXT PRIMARY KEY,
    credit_code TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    region      TEXT,
    profile     TEXT NOT NULL,
    revision    INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX enterprises_region ON enterprises(region);

CREATE TABLE tokens (
    id         TEXT PRIMARY KEY,
    hash       BLOB NOT NULL UNIQUE,
    role       TEXT NOT NULL,
    scope      TEXT,
    label      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE assignments (
    advisor       TEXT NOT NULL,
    enterprise_id TEXT NOT NULL,
    assigned_at   TEXT NOT NULL,
    PRIMARY KEY (advisor, enterprise_id)
);
CREATE INDEX assignments_enterprise ON assignments(enterprise_id);

CREATE TABLE recommendations (
    id            INTEGER PRIMARY KEY,
    enterprise_id TEXT NOT NULL,
    offer_kind    TEXT NOT NULL,
    offer_id      TEXT NOT NULL,
    offer_version INTEGER NOT NULL,
    provider      TEXT NOT NULL,
    outcome       TEXT NOT NULL,
    score         REAL NOT NULL,
    source        TEXT NOT NULL,
    review        TEXT NOT NULL,
    reviewer      TEXT,
    reason        TEXT,
    note          TEXT,
    reviewed_at   TEXT,
    created_at    TEXT NOT NULL,
    UNIQUE (enterprise_id, offer_id, offer_version)
);
CREATE INDEX recommendations_review ON recommendations(review, enterprise_id);

CREATE TABLE notifications (
    id                INTEGER PRIMARY KEY,
    enterprise_id     TEXT NOT NULL,
    policy_id         TEXT NOT NULL,
    policy_version    INTEGER NOT NULL,
    kind              TEXT NOT NULL,
    recommendation_id INTEGER,
    title             TEXT NOT NULL,
    body              TEXT NOT NULL,
    state             TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    delivered_at      TEXT,
    read_at           TEXT,
    dismissed_at      TEXT,
    UNIQUE (enterprise_id, policy_id, policy_version, kind)
);
CREATE INDEX notifications_feed ON notifications(enterprise_id, state, id);
CREATE INDEX notifications_recommendation ON notifications(recommendation_id);

CREATE TABLE jobs (
    id             INTEGER PRIMARY KEY,
    kind           TEXT NOT NULL,
    policy_id      TEXT NOT NULL,
    policy_version INTEGER NOT NULL,
    state          TEXT NOT NULL,
    total          INTEGER,
    processed      INTEGER NOT NULL DEFAULT 0,
    eligible       INTEGER,
    needs_info     INTEGER,
    notified       INTEGER NOT NULL DEFAULT 0,
    cursor         TEXT,
    runs           INTEGER NOT NULL DEFAULT 0,
    requested_by   TEXT NOT NULL,
    error          TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    finished_at    TEXT,
    UNIQUE (kind, policy_id, policy_version)
);

CREATE TABLE webhooks (
    id            TEXT PRIMARY KEY,
    enterprise_id TEXT,
    url           TEXT NOT NULL,
    secret        TEXT NOT NULL,
    kinds         TEXT NOT NULL,
    owner         TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    webhook_id      TEXT NOT NULL,
    notification_id INTEGER NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_status     INTEGER,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    finished_at     TEXT,
    UNIQUE (webhook_id, notification_id)
);
CREATE INDEX deliveries_due ON deliveries(state, next_attempt_at);

CREATE TABLE delivery_attempts (
    delivery_id INTEGER NOT NULL,
    attempt     INTEGER NOT NULL,
    at          TEXT NOT NULL,
    status      INTEGER,
    error       TEXT,
    duration_ms INTEGER NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);

CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    role      TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    purpose   TEXT NOT NULL,
    detail    TEXT,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX audit_target ON audit(target);
CREATE INDEX audit_actor ON audit(actor);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"#];

/// The database, shared by the request handlers and the background jobs.
///
/// One connection behind a mutex serves everything but the audit writer: every statement
/// here takes microseconds, and SQLite serialises writers anyway.
#[derive(Debug)]
pub struct Db {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl Db {
    /// Opens (creating and migrating when needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Db> {
        let conn = connect(path)?;
        migrate(&conn)?;
        Ok(Db {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (the transaction rolls
        // back on drop), so the poisoned connection is still good.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs reads (or a single write) on the connection.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        Ok(f(&self.lock())?)
    }

    /// Runs `f` in one transaction: committed when it returns `Ok`, rolled back otherwise.
    pub fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }
}

/// A connection with the settings every connection of the platform uses.
pub(crate) fn connect(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| Error::internal(format_args!("{}: cannot open: {e}", path.display())))?;
    conn.busy_timeout(Duration::from_secs(10))?;
    // WAL: readers never block the writer. synchronous=NORMAL: a committed transaction
    // survives a crash of the process (not necessarily a power cut).
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

fn migrate(conn: &Connection) -> Result<()> {
    let done: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let done = usize::try_from(done).unwrap_or(usize::MAX);
    if done > MIGRATIONS.len() {
        return Err(Error::internal(format_args!(
            "the database has schema version {done}, newer than this build knows ({}); use a newer huiqi",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done) {
        conn.execute_batch(&format!(
            "BEGIN;\n{sql}\nPRAGMA user_version = {};\nCOMMIT;",
            i + 1
        ))?;
    }
    Ok(())
}

/// The current time as stored: RFC 3339 in UTC with milliseconds.
pub fn timestamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_run_once_and_the_audit_log_refuses_changes() {
        let dir = std::env::temp_dir().join(format!("huiqi-db-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("test.sqlite");
        let _ = std::fs::remove_file(&path);
        let db = Db::open(&path).unwrap();
        drop(db);
        let db = Db::open(&path).unwrap();
        db.read(|c| {
            c.execute(
                "INSERT INTO audit (at, actor, role, action, target, purpose, prev_hash, hash)
                 VALUES ('t', 'a', 'admin', 'x', 'y', 'z', '', 'h')",
                [],
            )
        })
        .unwrap();
        let update = db.read(|c| c.execute("UPDATE audit SET actor = 'b'", []));
        assert!(update.is_err(), "an UPDATE of the audit log must fail");
        let delete = db.read(|c| c.execute("DELETE FROM audit", []));
        assert!(delete.is_err(), "a DELETE of the audit log must fail");
        let n: i64 = db
            .read(|c| c.query_row("SELECT count(*) FROM audit", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(n, 1);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
