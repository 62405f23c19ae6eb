//! `huiqi serve` as a process, through a real socket: publish a policy, read the
//! notifications as an enterprise, find the audit entries; stop gracefully; and a 政策找人 job
//! killed mid-way (a crash, by failpoint) that resumes at the next start without duplicates
//! or losses.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{repo, scratch};

/// A running `huiqi serve` on a scratch data directory and a free port.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    /// Starts the server and waits for its "listening" line. `failpoint` crashes it there.
    fn start(data: &Path, config: Option<&Path>, failpoint: Option<&str>) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_huiqi"));
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--today", "2026-11-21"])
            .args(["--embedder", "lexical", "--fixtures"])
            .arg(repo().join("fixtures"))
            .arg("--data")
            .arg(data)
            .env("RUST_LOG", "warn")
            .env_remove("HUIQI_FAILPOINT")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(c) = config {
            cmd.arg("--config").arg(c);
        }
        if let Some(f) = failpoint {
            cmd.env("HUIQI_FAILPOINT", f);
        }
        let mut child = cmd.spawn().expect("huiqi starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("the server prints where it listens")
                .unwrap();
            if let Some(rest) = line.split("listening on http://").nth(1) {
                break rest.split_whitespace().next().unwrap().parse().unwrap();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Server { child, addr }
    }

    /// One request; returns the status and the JSON body (`Null` when none).
    fn call(&self, method: &str, path: &str, token: Option<&str>) -> (u16, Value) {
        self.send(method, path, token, None)
    }

    /// One request with an optional JSON body.
    fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut s = TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let auth = token.map_or(String::new(), |t| format!("authorization: Bearer {t}\r\n"));
        let body = body.map_or(String::new(), Value::to_string);
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nhost: {}\r\n{auth}content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .unwrap();
        let mut raw = String::new();
        // A server that crashed mid-answer (by failpoint) answers nothing.
        let _ = s.read_to_string(&mut raw);
        let Some((head, body)) = raw.split_once("\r\n\r\n") else {
            return (0, Value::Null);
        };
        let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
        assert!(
            !head
                .to_ascii_lowercase()
                .contains("transfer-encoding: chunked"),
            "JSON answers carry a length"
        );
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    }

    /// Polls a job until it is done.
    fn wait_for_job(&self, id: i64, admin: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (status, job) = self.call("GET", &format!("/v1/jobs/{id}"), Some(admin));
            assert_eq!(status, 200, "{job}");
            if job["state"] == "done" {
                return job;
            }
            assert!(Instant::now() < deadline, "job {id} did not finish: {job}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops with SIGTERM, as a service manager does, and returns how it exited.
    fn terminate(mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        // The shell's built-in kill: no procps needed.
        let killed = Command::new("sh")
            .args(["-c", &format!("kill -TERM {pid}")])
            .status()
            .unwrap();
        assert!(killed.success());
        wait_with_timeout(&mut self.child)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_with_timeout(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The demo token of a role, from the file the first start wrote.
fn token(data: &Path, role: &str) -> String {
    std::fs::read_to_string(data.join("demo-tokens.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let mut cols = l.split('\t');
            (cols.next() == Some(role)).then(|| cols.nth(1).unwrap().to_string())
        })
        .unwrap_or_else(|| panic!("no demo token for {role}"))
}

/// (enterprise, kind) of every notification of a policy, read from the stopped server's
/// database.
fn stored_notifications(data: &Path, policy: &str) -> Vec<(String, String)> {
    let db = rusqlite::Connection::open(data.join("huiqi.sqlite")).unwrap();
    let mut s = db
        .prepare("SELECT enterprise_id, kind FROM notifications WHERE policy_id = ?1 ORDER BY 1")
        .unwrap();
    s.query_map([policy], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn publish_notify_read_and_audit_through_a_socket() {
    let data = scratch("serve-e2e");
    let server = Server::start(&data, None, None);
    let (admin, office, me) = (
        token(&data, "admin"),
        token(&data, "policy_office"),
        token(&data, "enterprise"),
    );
    let (status, health) = server.call("GET", "/healthz", None);
    assert_eq!(status, 200, "{health}");

    // 杭州市's office publishes the 余杭区 draft: a 政策找人 job is queued and runs.
    let (status, published) = server.call("POST", "/v1/policies/P-B09/publish", Some(&office));
    assert_eq!(status, 202, "{published}");
    let job = server.wait_for_job(published["job"].as_i64().unwrap(), &admin);
    assert!(job["notified"].as_i64().unwrap() >= 1, "{job}");
    assert_eq!(job["notified"], job["total"], "{job}");

    // E-0006, a 余杭 manufacturer with a green certificate, finds it in its feed and reads it.
    let (status, feed) = server.call("GET", "/v1/enterprises/E-0006/notifications", Some(&me));
    assert_eq!(status, 200, "{feed}");
    let mine = feed
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["policy_id"] == "P-B09")
        .unwrap_or_else(|| panic!("P-B09 in the feed: {feed}"));
    let id = mine["id"].as_i64().unwrap();
    let (status, read) = server.call("POST", &format!("/v1/notifications/{id}/read"), Some(&me));
    assert!((200..300).contains(&status), "{read}");
    let (_, unread) = server.call("GET", "/v1/enterprises/E-0006/notifications", Some(&me));
    assert!(
        unread.as_array().unwrap().iter().all(|n| n["id"] != id),
        "read notifications leave the unread feed: {unread}"
    );

    // The audit log holds the notification's creation and the enterprise's reads.
    let (status, audit) = server.call(
        "GET",
        "/v1/audit?target=enterprise:E-0006&limit=1000",
        Some(&admin),
    );
    assert_eq!(status, 200, "{audit}");
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"notification.create"), "{actions:?}");
    assert!(
        actions
            .iter()
            .filter(|a| a.starts_with("notification"))
            .count()
            >= 3,
        "created, listed and marked read: {actions:?}"
    );

    // SIGTERM: a clean exit.
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn a_job_killed_mid_way_resumes_without_duplicates_or_losses() {
    for point in ["outreach:after-batch", "outreach:before-commit"] {
        let data = scratch("serve-crash");
        // One enterprise per batch, so the crash falls between batches.
        let config: PathBuf = data.join("huiqi.toml");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(&config, "[jobs]\nbatch = 1\n").unwrap();

        let crashing = Server::start(&data, Some(&config), Some(point));
        let office = token(&data, "policy_office");
        // A new 杭州市 policy like P-B02 (首贷贴息), which fits dozens of fixture enterprises.
        let mut draft: Value = serde_json::from_str(
            &std::fs::read_to_string(repo().join("fixtures/policies/P-B02.json")).unwrap(),
        )
        .unwrap();
        draft["id"] = "P-CRASH".into();
        draft["status"] = "draft".into();
        let (status, created) = crashing.send("POST", "/v1/policies", Some(&office), Some(&draft));
        assert_eq!(status, 201, "{created}");
        let (status, preview) = crashing.call("GET", "/v1/policies/P-CRASH/preview", Some(&office));
        assert_eq!(status, 200, "{preview}");
        let expected =
            preview["eligible"].as_i64().unwrap() + preview["needs_info"].as_i64().unwrap();
        assert!(
            expected >= 2,
            "a crash between batches needs two: {preview}"
        );
        // The job starts at once, so the crash may beat the answer (status 0) to the socket.
        let (status, published) =
            crashing.call("POST", "/v1/policies/P-CRASH/publish", Some(&office));
        assert!(status == 202 || status == 0, "{published}");
        let mut child = crashing;
        let status = wait_with_timeout(&mut child.child);
        assert!(
            !status.success(),
            "{point}: the failpoint crashed the server"
        );
        let before = stored_notifications(&data, "P-CRASH");
        assert!(
            (before.len() as i64) < expected,
            "{point}: the job was cut short ({} of {expected})",
            before.len()
        );

        let job_id: i64 = rusqlite::Connection::open(data.join("huiqi.sqlite"))
            .unwrap()
            .query_row("SELECT id FROM jobs WHERE policy_id = 'P-CRASH'", [], |r| {
                r.get(0)
            })
            .unwrap();

        // The next start resumes the job from its checkpoint.
        let server = Server::start(&data, Some(&config), None);
        let admin = token(&data, "admin");
        let job = server.wait_for_job(job_id, &admin);
        assert!(job["runs"].as_i64().unwrap() >= 2, "{job}");
        assert!(server.terminate().success());
        let after = stored_notifications(&data, "P-CRASH");
        let mut unique = after.clone();
        unique.dedup_by(|a, b| a.0 == b.0);
        assert_eq!(unique.len(), after.len(), "{point}: no enterprise twice");
        assert_eq!(after.len() as i64, expected, "{point}: nobody lost");
        assert!(
            before.iter().all(|n| after.contains(n)),
            "{point}: what was sent stays"
        );
        let _ = std::fs::remove_dir_all(&data);
    }
}
