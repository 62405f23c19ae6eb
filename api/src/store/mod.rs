//! Persistence of the embedded default: one SQLite database (WAL) under the data directory
//! for enterprises, tokens, advisor assignments, recommendations and their reviews,
//! notifications, 政策找人 jobs, webhooks and their deliveries, and the audit log.
//!
//! Writes that belong together commit in one transaction, so a crash leaves either all of a
//! change or none of it. The audit log has its own writer ([`audit`]) that commits entries in
//! groups; SQLite triggers refuse any UPDATE or DELETE of it.
//!
//! No commit checkpoints the WAL into the database file: a background thread does
//! ([`Checkpointer`]). SQLite's automatic checkpoint runs inside whichever commit crosses
//! 1,000 pages and fsyncs there, so under load every request waiting on that commit (each
//! match waits for its audit entry) stalled for tens to hundreds of milliseconds.

pub mod audit;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::thread::JoinHandle;
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
    checkpointer: Checkpointer,
}

impl Db {
    /// Opens (creating and migrating when needed) the database at `path`, and starts its
    /// checkpointer.
    pub fn open(path: &Path) -> Result<Db> {
        Db::open_checkpointing_every(path, Checkpointer::INTERVAL)
    }

    /// [`Db::open`] with another interval between checkpoint passes (tests run them by hand).
    fn open_checkpointing_every(path: &Path, every: Duration) -> Result<Db> {
        let conn = connect(path)?;
        migrate(&conn)?;
        Ok(Db {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
            checkpointer: Checkpointer::start(path, every)?,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Raised after each background checkpoint pass, for the busiest writer to finish it
    /// (see [`Checkpointer`]).
    pub fn pass_done(&self) -> Arc<AtomicBool> {
        self.checkpointer.pass_done.clone()
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
    // The Checkpointer moves the WAL into the database file, off every commit's path.
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    Ok(conn)
}

/// Copies the WAL into the database file from a thread of its own, on its own connection.
///
/// Its PASSIVE checkpoints copy (and fsync) without blocking anyone. But the WAL starts over
/// only after a checkpoint has copied all of it, which never happens while a writer keeps
/// appending during the pass: under load the audit writer commits thousands of times a
/// second, and the WAL grew by 50 MB/s. So after each pass the checkpointer raises
/// [`pass_done`](Db::pass_done), and the audit writer, between two of its commits, runs one
/// more PASSIVE checkpoint itself: it copies only the frames of the last few milliseconds,
/// nobody writes meanwhile, and its next commit starts the WAL over from its beginning.
/// The checkpointer fsyncs both files after its pass ([`flush_to_disk`]), so that closing
/// step has only those milliseconds of writes to sync (measured under load: 6-12 ms, against
/// 25-35 ms without the flush).
/// (A RESTART checkpoint from this thread did the same, but the writers it held off waited
/// in SQLite's busy handler, which sleeps in steps of up to 100 ms: p99 doubled. It remains
/// the fallback when the WAL passes [`WAL_LIMIT_FRAMES`](Self::WAL_LIMIT_FRAMES) anyway, say
/// under a long run of writes that are not audited.)
/// Stops (and is joined) on drop.
#[derive(Debug)]
pub struct Checkpointer {
    pass_done: Arc<AtomicBool>,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Between passes: the WAL stays at about one interval's writes.
    pub const INTERVAL: Duration = Duration::from_millis(250);
    /// 128 MiB of 4 KiB pages, about five intervals at 6,000 requests/s.
    pub const WAL_LIMIT_FRAMES: i64 = 32_768;

    pub fn start(path: &Path, every: Duration) -> Result<Checkpointer> {
        let conn = connect(path)?;
        let db_path = path.to_path_buf();
        let pass_done = Arc::new(AtomicBool::new(false));
        let raise = pass_done.clone();
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("huiqi-checkpoint".into())
            .spawn(move || {
                // Runs until the Checkpointer is dropped (the sender goes away).
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                    if let Err(e) = pass(&conn, &db_path, &raise, Self::WAL_LIMIT_FRAMES) {
                        tracing::warn!("checkpoint of the database failed: {e}");
                    }
                }
            })
            .map_err(Error::internal)?;
        Ok(Checkpointer {
            pass_done,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

/// One pass of the checkpointer: copy what it can, sync, and leave the rest to the next
/// writer through `pass_done`; past `wal_limit` frames, make the writers wait for a restart.
fn pass(conn: &Connection, db_path: &Path, pass_done: &AtomicBool, wal_limit: i64) -> Result<()> {
    let (frames, _) = checkpoint(conn)?;
    flush_to_disk(db_path)
        .map_err(|e| Error::internal(format_args!("{}: cannot sync: {e}", db_path.display())))?;
    pass_done.store(true, Ordering::Release);
    if frames > wal_limit {
        tracing::warn!("the WAL holds {frames} frames: restarting it");
        conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()))?;
    }
    Ok(())
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// fsyncs the database file and its WAL (Linux flushes a file's dirty pages whichever
/// descriptor asks), so that the writer's closing step has only milliseconds of writes to
/// sync. A PASSIVE pass that does not reach the WAL's end never syncs the database file: the
/// step that finishes it flushed everything the passes before it had copied, 25-35 ms.
fn flush_to_disk(db_path: &Path) -> std::io::Result<()> {
    std::fs::File::open(db_path)?.sync_data()?;
    match std::fs::File::open(wal_path(db_path)) {
        Ok(wal) => wal.sync_data(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// The WAL SQLite keeps beside the database at `db_path`.
fn wal_path(db_path: &Path) -> PathBuf {
    let mut wal = db_path.as_os_str().to_owned();
    wal.push("-wal");
    PathBuf::from(wal)
}

/// One PASSIVE checkpoint: returns (frames in the WAL, frames copied into the database).
pub fn checkpoint(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get(1)?, r.get(2)?))
    })
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
    use std::sync::atomic::AtomicUsize;

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

    /// How many times the WAL beside `db_path` started over: its header's checkpoint sequence
    /// number.
    pub(crate) fn wal_restarts(db_path: &Path) -> u32 {
        let header = std::fs::read(wal_path(db_path)).unwrap();
        u32::from_be_bytes(header[12..16].try_into().unwrap())
    }

    /// Runs `writers` threads that call `write(thread, i)` without pause while `check` runs,
    /// and returns how many writes completed. `check` gets `wait_for_more(n)`, which returns
    /// once `n` more writes have completed. The writers stop however `check` ends, a failed
    /// assertion included, and are bounded in any case.
    pub(crate) fn under_continuous_writes(
        writers: usize,
        write: impl Fn(usize, usize) + Sync,
        check: impl FnOnce(&dyn Fn(usize)),
    ) -> usize {
        let committed = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let wait_for_more = |n: usize| {
            let target = committed.load(Ordering::Acquire) + n;
            while committed.load(Ordering::Acquire) < target {
                std::thread::sleep(Duration::from_millis(1));
            }
        };
        std::thread::scope(|s| {
            for t in 0..writers {
                let (write, committed, stop) = (&write, &committed, &stop);
                s.spawn(move || {
                    for i in 0..50_000 {
                        if stop.load(Ordering::Acquire) {
                            break;
                        }
                        write(t, i);
                        committed.fetch_add(1, Ordering::AcqRel);
                    }
                });
            }
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&wait_for_more)));
            stop.store(true, Ordering::Release);
            if let Err(panic) = result {
                std::panic::resume_unwind(panic);
            }
        });
        committed.into_inner()
    }

    /// Writes the audit writer never sees (and so never finishes a pass for) still cannot grow
    /// the WAL without bound: past the limit, the pass makes the writers wait for a restart.
    #[test]
    fn past_the_limit_a_pass_restarts_the_wal_under_continuous_writes() {
        let dir = std::env::temp_dir().join(format!("huiqi-restart-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("test.sqlite");
        let _ = std::fs::remove_file(&path);
        let db = Db::open_checkpointing_every(&path, Duration::from_secs(3600)).unwrap();
        let hand = connect(&path).unwrap();
        under_continuous_writes(
            1,
            |_, i| {
                db.write(|tx| {
                    tx.execute(
                        "INSERT INTO meta (key, value) VALUES (?1, 'job batch')",
                        [format!("k{i}")],
                    )?;
                    Ok(())
                })
                .unwrap();
            },
            |wait_for_more| {
                for pass_no in 0..3 {
                    wait_for_more(300);
                    let before = wal_restarts(&path);
                    // Nobody finishes this pass: the limit (0 frames) does.
                    pass(&hand, &path, &AtomicBool::new(false), 0).unwrap();
                    wait_for_more(2);
                    assert!(
                        wal_restarts(&path) > before,
                        "pass {pass_no}: the WAL did not start over"
                    );
                }
            },
        );
        drop((db, hand));
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// The checkpointer's flush syncs a database with or without a WAL beside it, and says so
    /// when the database itself is gone.
    #[test]
    fn flush_to_disk_syncs_the_database_and_its_wal() {
        let dir = std::env::temp_dir().join(format!("huiqi-flush-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("test.sqlite");
        std::fs::write(&path, b"not yet a database").unwrap();
        flush_to_disk(&path).expect("no WAL yet is fine");
        std::fs::write(dir.join("test.sqlite-wal"), b"frames").unwrap();
        flush_to_disk(&path).expect("database and WAL");
        std::fs::remove_file(&path).unwrap();
        let err = flush_to_disk(&path).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// Commits never checkpoint (that stalled requests under load); the checkpointer's pass
    /// copies the whole WAL into the database file while the WAL is still open for writes.
    #[test]
    fn commits_leave_checkpointing_to_the_checkpointer() {
        let dir = std::env::temp_dir().join(format!("huiqi-ckpt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("test.sqlite");
        let _ = std::fs::remove_file(&path);
        // A checkpointer that would not wake during the test: passes are run by hand below.
        let db = Db::open_checkpointing_every(&path, Duration::from_secs(3600)).unwrap();
        // ~3,000 pages of audit-like rows, three times SQLite's automatic threshold.
        let detail = "x".repeat(4000);
        for i in 0..3000 {
            db.read(|c| {
                c.execute(
                    "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                    rusqlite::params![format!("k{i}"), detail],
                )
            })
            .unwrap();
        }
        let wal = || std::fs::metadata(wal_path(&path)).unwrap().len();
        assert!(
            wal() > 3000 * 4096,
            "the WAL holds every commit until a checkpoint ({} bytes)",
            wal()
        );
        let other = connect(&path).unwrap();
        let (frames, copied) = checkpoint(&other).unwrap();
        assert!(frames >= 3000, "{frames} frames in the WAL");
        assert_eq!(copied, frames, "a pass with no reader copies the whole WAL");
        // The next commit starts the WAL over instead of growing it.
        let before = wal();
        db.read(|c| c.execute("INSERT INTO meta (key, value) VALUES ('after', 'v')", []))
            .unwrap();
        assert_eq!(
            wal(),
            before,
            "the WAL file is reused from its start, not extended"
        );
        let (frames, _) = checkpoint(&other).unwrap();
        assert!(
            frames < 10,
            "after the restart the WAL holds only the new commit ({frames})"
        );
        let n: i64 = other
            .query_row("SELECT count(*) FROM meta WHERE key LIKE 'k%'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(n, 3000);
        drop((db, other));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
