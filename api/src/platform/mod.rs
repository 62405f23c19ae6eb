//! The platform: everything the HTTP API does, as plain methods that check the caller's role
//! and scope, write the audit log and call into the engine and the index. The HTTP layer
//! ([`crate::server`]) only parses requests, makes one call here and shapes the answer.
//!
//! State lives in three places:
//! - the index snapshot ([`huiqi_index::snapshot::Store`]): products, policies, their text and
//!   vector indexes; changed one record at a time, published atomically;
//! - the SQLite database ([`crate::store`]): enterprises, tokens, assignments, reviews,
//!   notifications, jobs, webhooks, the audit log;
//! - memory: every enterprise (a map for forward matching, the engine's columnar store for
//!   reverse matching), the tokens and the advisor assignments, loaded at start and kept in
//!   step with every write.

pub mod access;
pub mod catalog;
pub mod drafting;
pub mod enterprises;
pub mod matching;
pub mod outreach;
pub mod reviews;
pub mod stats;
pub mod tokens;
pub mod webhooks;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use huiqi_engine::Enterprise;
use huiqi_engine::reverse::EnterpriseStore;
use huiqi_index::embed::{self, Embedder};
use huiqi_index::snapshot::{Snapshot, Store};
use tokio::sync::Notify;

pub use access::Actor;

use crate::clock::Clock;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::store::Db;
use crate::store::audit::AuditLog;

/// An enterprise held in memory, with the revision stored beside it.
#[derive(Debug, Clone)]
pub struct Profile {
    pub enterprise: Enterprise,
    pub revision: i64,
}

/// Every enterprise, in the two shapes matching needs.
#[derive(Debug, Default)]
pub struct Directory {
    pub by_id: HashMap<String, Arc<Profile>>,
    /// The columnar store reverse matching scans (政策找人).
    pub columns: EnterpriseStore,
}

/// What the first start did, for the operator.
#[derive(Debug, Default)]
pub struct Bootstrap {
    /// The snapshot was built from the fixtures folder.
    pub built_index: bool,
    /// Enterprises copied from the fixtures into the database.
    pub seeded_enterprises: usize,
    /// Demo tokens (role, scope, token), on the very first start only.
    pub demo_tokens: Vec<tokens::Issued>,
    /// Where the demo tokens were written.
    pub demo_tokens_file: Option<PathBuf>,
    /// Non-fatal remarks (e.g. the embedder fell back to lexical).
    pub warnings: Vec<String>,
}

/// The running platform.
#[derive(Debug)]
pub struct Platform {
    pub config: Config,
    pub clock: Arc<dyn Clock>,
    pub db: Db,
    pub audit: AuditLog,
    catalog: Store,
    /// Serialises changes to the catalog (one new snapshot version at a time).
    catalog_writer: Mutex<()>,
    embedder: Arc<dyn Embedder>,
    pub directory: RwLock<Directory>,
    tokens: RwLock<tokens::TokenCache>,
    /// enterprise id → advisors assigned to it.
    assignments: RwLock<HashMap<String, Vec<String>>>,
    signals: matching::SignalsCache,
    pub metrics: crate::metrics::Metrics,
    /// Wakes the job runner (a job was queued).
    pub jobs_wake: Notify,
    /// Wakes the webhook sender (a delivery was queued).
    pub deliveries_wake: Notify,
    /// Wakes loops that only sleep between rounds (reminders) when the server stops. Kept
    /// apart from `jobs_wake` so a queued job's single wake-up is never taken by them.
    stop_wake: Notify,
    stopping: AtomicBool,
}

impl Platform {
    /// Opens the data directory, building the index snapshot from the fixtures and seeding
    /// the database on first start.
    pub fn open(config: Config, clock: Arc<dyn Clock>) -> Result<(Platform, Bootstrap)> {
        let mut boot = Bootstrap::default();
        let data = config.data.clone();
        std::fs::create_dir_all(&data)
            .map_err(|e| Error::internal(format_args!("{}: cannot create: {e}", data.display())))?;
        if huiqi_index::snapshot::current_name(&data)?.is_none() {
            build_first_snapshot(&config, &mut boot)?;
        }
        let catalog = Store::open(&data)?;
        let snapshot = catalog.current();
        let embedder = embed::for_snapshot(&snapshot.manifest.embedder, None).map_err(|e| {
            Error::internal(format_args!(
                "the index in {} was built with {}, which is not available here: {e}",
                data.display(),
                snapshot.manifest.embedder.id
            ))
        })?;
        let db_path = data.join("huiqi.sqlite");
        let db = Db::open(&db_path)?;
        let audit = AuditLog::start(&db, clock.clone())?;
        let platform = Platform {
            config,
            clock,
            db,
            audit,
            catalog,
            catalog_writer: Mutex::new(()),
            embedder,
            directory: RwLock::new(Directory::default()),
            tokens: RwLock::new(tokens::TokenCache::default()),
            assignments: RwLock::new(HashMap::new()),
            signals: matching::SignalsCache::default(),
            metrics: crate::metrics::Metrics::default(),
            jobs_wake: Notify::new(),
            deliveries_wake: Notify::new(),
            stop_wake: Notify::new(),
            stopping: AtomicBool::new(false),
        };
        if !platform.is_seeded()? {
            boot.seeded_enterprises = platform.seed(&snapshot)?;
            boot.demo_tokens = platform.issue_demo_tokens(&snapshot)?;
            boot.demo_tokens_file = Some(platform.write_demo_tokens(&boot.demo_tokens)?);
            platform.mark_seeded()?;
        }
        platform.load_directory()?;
        platform.load_tokens()?;
        platform.load_assignments()?;
        Ok((platform, boot))
    }

    /// The live catalog snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.catalog.current()
    }

    pub fn data_dir(&self) -> &Path {
        &self.config.data
    }

    pub fn today(&self) -> chrono::NaiveDate {
        self.clock.today()
    }

    pub fn now(&self) -> String {
        crate::store::timestamp(self.clock.now())
    }

    /// Asks background work to stop at its next checkpoint.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.jobs_wake.notify_waiters();
        self.deliveries_wake.notify_waiters();
        self.stop_wake.notify_waiters();
    }

    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// The enterprise with this id, as stored now.
    pub fn profile(&self, id: &str) -> Option<Arc<Profile>> {
        self.directory
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .by_id
            .get(id)
            .cloned()
    }

    /// Advisors assigned to an enterprise.
    pub fn advisors_of(&self, enterprise_id: &str) -> Vec<String> {
        self.assignments
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(enterprise_id)
            .cloned()
            .unwrap_or_default()
    }

    fn is_seeded(&self) -> Result<bool> {
        self.db.read(|c| {
            c.query_row("SELECT count(*) FROM meta WHERE key = 'seeded'", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n > 0)
        })
    }

    fn mark_seeded(&self) -> Result<()> {
        let now = self.now();
        self.db.write(|tx| {
            tx.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('seeded', ?1)",
                [now],
            )?;
            Ok(())
        })
    }

    /// Copies the snapshot's enterprises (the fixtures) into the database, in one
    /// transaction: a crash here leaves an empty table and the next start seeds again.
    fn seed(&self, snapshot: &Snapshot) -> Result<usize> {
        let now = self.now();
        self.db.write(|tx| {
            for e in &snapshot.enterprises {
                enterprises::insert_row(tx, e, 1, &now)?;
            }
            Ok(snapshot.enterprises.len())
        })
    }

    fn load_directory(&self) -> Result<()> {
        let rows: Vec<(String, i64)> = self.db.read(|c| {
            let mut stmt = c.prepare("SELECT profile, revision FROM enterprises ORDER BY id")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })?;
        let mut by_id = HashMap::with_capacity(rows.len());
        let mut columns = EnterpriseStore::new();
        for (json, revision) in rows {
            let enterprise: Enterprise = serde_json::from_str(&json)
                .map_err(|e| Error::internal(format_args!("stored profile: {e}")))?;
            columns.upsert(&enterprise).map_err(Error::internal)?;
            by_id.insert(
                enterprise.id.clone(),
                Arc::new(Profile {
                    enterprise,
                    revision,
                }),
            );
        }
        tracing::info!(enterprises = by_id.len(), "enterprises loaded");
        *self.directory.write().unwrap_or_else(|p| p.into_inner()) = Directory { by_id, columns };
        Ok(())
    }

    fn load_assignments(&self) -> Result<()> {
        let rows: Vec<(String, String)> = self.db.read(|c| {
            let mut stmt = c.prepare("SELECT advisor, enterprise_id FROM assignments")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })?;
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (advisor, enterprise) in rows {
            map.entry(enterprise).or_default().push(advisor);
        }
        *self.assignments.write().unwrap_or_else(|p| p.into_inner()) = map;
        Ok(())
    }
}

fn build_first_snapshot(config: &Config, boot: &mut Bootstrap) -> Result<()> {
    let choice = embed::parse_choice(&config.embedder).map_err(Error::internal)?;
    let (embedder, warning) = embed::select(&choice)
        .map_err(|e| Error::internal(format_args!("embedder {}: {e}", config.embedder)))?;
    boot.warnings.extend(warning);
    tracing::info!(fixtures = %config.fixtures.display(), "building the first index snapshot");
    huiqi_index::pipeline::build(
        &config.fixtures,
        &config.data,
        embedder.as_ref(),
        &huiqi_index::progress::Silent,
    )
    .map_err(|e| match e {
        huiqi_index::Error::Input(report) => {
            let problems: Vec<String> = report.errors().map(ToString::to_string).collect();
            Error::internal(format_args!(
                "the fixtures in {} do not validate:\n{}",
                config.fixtures.display(),
                problems.join("\n")
            ))
        }
        other => Error::internal(other),
    })?;
    boot.built_index = true;
    Ok(())
}
