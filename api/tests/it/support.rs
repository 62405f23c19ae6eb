//! A platform on a scratch data directory, built from the fixtures, and a way to call its
//! API in-process (`oneshot`, no socket).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chrono::NaiveDate;
use huiqi_api::clock::SystemClock;
use huiqi_api::config::Config;
use huiqi_api::platform::Platform;
use serde_json::Value;
use tower::ServiceExt;

/// The repository root (fixtures live there).
pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The day the fixtures' example cases are written for.
pub(crate) fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
}

/// A fresh scratch directory.
pub(crate) fn scratch(name: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("huiqi-api-{}-{name}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One index snapshot of the fixtures (lexical embedder) per test run, copied into each
/// harness: building it once keeps the tests fast.
fn template() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = scratch("template");
        huiqi_index::pipeline::build(
            &repo().join("fixtures"),
            &dir,
            &huiqi_index::embed::lexical::Lexical::default(),
            &huiqi_index::progress::Silent,
        )
        .expect("the fixtures build");
        dir
    })
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The settings every harness starts from.
pub(crate) fn config(dir: &Path) -> Config {
    let mut c = Config {
        data: dir.to_path_buf(),
        fixtures: repo().join("fixtures"),
        embedder: "lexical".into(),
        today: Some(today()),
        ..Config::default()
    };
    c.limits.requests_per_second = 1e6;
    c.limits.burst = 1_000_000;
    c
}

/// A platform with the fixtures, its API, and a demo token per role.
pub(crate) struct Harness {
    pub(crate) dir: PathBuf,
    pub(crate) platform: Arc<Platform>,
    pub(crate) app: Router,
    tokens: HashMap<String, String>,
}

/// An answer: status and JSON body (`Null` when empty or not JSON), and the raw text.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) json: Value,
    pub(crate) text: String,
    pub(crate) headers: axum::http::HeaderMap,
}

impl Harness {
    pub(crate) fn new() -> Harness {
        Harness::with(|_| {})
    }

    /// A harness whose settings `tune` adjusts.
    pub(crate) fn with(tune: impl FnOnce(&mut Config)) -> Harness {
        let dir = scratch("harness");
        copy_tree(template(), &dir);
        let mut c = config(&dir);
        tune(&mut c);
        let clock = Arc::new(SystemClock { today: c.today });
        let (platform, boot) = Platform::open(c, clock).expect("the platform opens");
        let tokens = boot
            .demo_tokens
            .iter()
            .map(|t| (t.role.clone(), t.token.clone()))
            .collect();
        let platform = Arc::new(platform);
        Harness {
            app: huiqi_api::server::app(platform.clone()),
            dir,
            platform,
            tokens,
        }
    }

    /// The demo token of a role: admin, enterprise (E-0006), advisor (ADV-ZJ-01, the
    /// Zhejiang enterprises), policy_office (3301 杭州市), institution (BANK-HANHAI).
    pub(crate) fn token(&self, role: &str) -> &str {
        &self.tokens[role]
    }

    /// Issues another token (as admin).
    pub(crate) async fn issue(&self, role: &str, scope: Option<&str>) -> String {
        let a = self
            .call(
                Method::POST,
                "/v1/tokens",
                Some("admin"),
                Some(serde_json::json!({ "role": role, "scope": scope, "label": "test" })),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
        a.json["token"].as_str().unwrap().to_string()
    }

    /// Calls the API as a demo role (`None`: no token) with an optional JSON body.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        role: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let token = role.map(|r| self.token(r).to_string());
        self.call_with(method, path, token.as_deref(), body).await
    }

    /// Calls the API with a given token.
    pub(crate) async fn call_with(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        self.send(req).await
    }

    /// Sends any request.
    pub(crate) async fn send(&self, req: Request<Body>) -> Answer {
        let response = self.app.clone().oneshot(req).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&bytes).to_string();
        Answer {
            status,
            json: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            text,
            headers,
        }
    }

    /// Runs queued 政策找人 jobs to the end (the server's runner does this in the
    /// background).
    pub(crate) async fn run_jobs(&self) {
        let ids: Vec<i64> = self
            .platform
            .db
            .read(|c| {
                let mut s = c.prepare(
                    "SELECT id FROM jobs WHERE state IN ('queued', 'running') ORDER BY id",
                )?;
                let rows = s.query_map([], |r| r.get(0))?;
                rows.collect()
            })
            .unwrap();
        for id in ids {
            let p = self.platform.clone();
            tokio::task::spawn_blocking(move || p.run_job(id))
                .await
                .unwrap()
                .unwrap();
        }
    }

    /// Publishes a policy as the demo policy office (杭州市) and runs its 政策找人 job.
    pub(crate) async fn publish_and_run(&self, policy: &str) {
        let path = format!("/v1/policies/{policy}/publish");
        let a = self
            .call(Method::POST, &path, Some("policy_office"), None)
            .await;
        assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.text);
        self.run_jobs().await;
    }

    /// Looks for window reminders now, as the server's reminder loop does.
    pub(crate) async fn remind(&self) -> usize {
        let p = self.platform.clone();
        tokio::task::spawn_blocking(move || p.remind())
            .await
            .unwrap()
            .unwrap()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Asserts the error shape and code.
#[track_caller]
pub(crate) fn assert_error(a: &Answer, status: StatusCode, code: &str) {
    assert_eq!(a.status, status, "{}", a.text);
    assert_eq!(a.json["code"], code, "{}", a.text);
    assert!(
        a.json["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{}",
        a.text
    );
    assert!(a.json["details"].is_object(), "{}", a.text);
}
