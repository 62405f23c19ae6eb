//! Getting data in and notifications out: bulk JSON Lines uploads with a per-line report,
//! and webhook deliveries signed with HMAC, retried after a failure, and logged.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{Harness, assert_error};

/// A fixture enterprise under a new id and credit code, as one JSON line.
fn line(h: &Harness, from: &str, id: &str, credit_code: &str) -> String {
    let mut e: Value = serde_json::to_value(&h.platform.profile(from).unwrap().enterprise).unwrap();
    e["id"] = json!(id);
    e["credit_code"] = json!(credit_code);
    e.to_string()
}

async fn upload(h: &Harness, body: String, content_type: &str) -> crate::support::Answer {
    let req = Request::builder()
        .method(Method::POST)
        .uri("/v1/enterprises/bulk")
        .header("authorization", format!("Bearer {}", h.token("admin")))
        .header("content-type", content_type)
        .body(Body::from(body))
        .unwrap();
    h.send(req).await
}

#[tokio::test]
async fn a_bulk_upload_stores_good_lines_and_reports_each_bad_one_by_line() {
    let h = Harness::new();
    let good_1 = line(&h, "E-0006", "E-BULK-1", "91330110MA2H000017");
    let good_2 = line(&h, "E-0001", "E-BULK-2", "91440305MA5F00002M");
    let bad_code = line(&h, "E-0006", "E-BULK-3", "91330110MA2H00001X");
    let mut unknown_field: Value = serde_json::from_str(&good_1).unwrap();
    unknown_field["id"] = json!("E-BULK-4");
    unknown_field["registration"]["regoin"] = json!("330110");
    let body = [
        good_1.as_str(),
        "{\"id\": \"E-BULK-5\", \"name\": ",
        "",
        bad_code.as_str(),
        &unknown_field.to_string(),
        good_2.as_str(),
    ]
    .join("\n");
    let a = upload(&h, body, "application/x-ndjson").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(
        a.json["lines"], 5,
        "the blank line is not counted: {}",
        a.text
    );
    assert_eq!(a.json["created"], 2, "{}", a.text);
    assert_eq!(a.json["rejected"], 3, "{}", a.text);
    let errors = a.json["errors"].as_array().unwrap();
    let by_line = |n: u64| {
        errors
            .iter()
            .find(|e| e["line"] == n)
            .unwrap_or_else(|| panic!("no error for line {n}: {}", a.text))
    };
    assert_eq!(by_line(2)["code"], "malformed_json", "{}", a.text);
    assert_eq!(by_line(4)["id"], "E-BULK-3");
    assert_eq!(by_line(4)["field"], "credit_code", "{}", a.text);
    assert!(
        by_line(5)["message"].as_str().unwrap().contains("regoin"),
        "{}",
        a.text
    );
    // Good lines are stored, bad ones are not.
    assert!(h.platform.profile("E-BULK-1").is_some());
    assert!(h.platform.profile("E-BULK-2").is_some());
    assert!(h.platform.profile("E-BULK-3").is_none());
    assert!(h.platform.profile("E-BULK-4").is_none());

    // The same upload again changes nothing.
    let again = [good_1, good_2].join("\n");
    let a = upload(&h, again, "application/x-ndjson").await;
    assert_eq!(a.json["unchanged"], 2, "{}", a.text);

    // Plain JSON is not JSON Lines.
    let a = upload(&h, "[]".into(), "application/json").await;
    assert_error(
        &a,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
}

/// What the receiving end saw: the headers (lower-case names) and body of each request.
type Received = Arc<Mutex<Vec<(Vec<(String, String)>, String)>>>;

/// A webhook receiver on loopback that fails the first request with 500 and accepts the
/// rest.
async fn receiver() -> (String, Received) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/huiqi", listener.local_addr().unwrap());
    let seen: Received = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut raw = Vec::new();
            let mut buf = [0u8; 4096];
            let (head, body) = loop {
                let n = sock.read(&mut buf).await.unwrap();
                if n == 0 {
                    break (String::new(), String::new());
                }
                raw.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&raw).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    if body.len() >= len {
                        break (head.to_string(), body.to_string());
                    }
                }
            };
            if head.is_empty() {
                continue;
            }
            let headers = head
                .lines()
                .skip(1)
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                .collect();
            let first = {
                let mut seen = log.lock().unwrap();
                seen.push((headers, body));
                seen.len() == 1
            };
            let status = if first {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            let _ = sock
                .write_all(
                    format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                        .as_bytes(),
                )
                .await;
        }
    });
    (url, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_deliveries_are_signed_retried_and_logged() {
    let h = Harness::with(|c| {
        c.webhooks.allow_private_targets = true;
        c.webhooks.first_retry_ms = 50;
    });
    let (url, seen) = receiver().await;
    let a = h
        .call(
            Method::POST,
            "/v1/webhooks",
            Some("enterprise"),
            Some(json!({ "url": url })),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let hook = a.json["id"].as_str().unwrap().to_string();
    let secret = a.json["secret"].as_str().unwrap().to_string();
    let listed = h
        .call(Method::GET, "/v1/webhooks", Some("enterprise"), None)
        .await;
    assert!(!listed.text.contains(&secret), "the secret is shown once");

    let sender = tokio::spawn(h.platform.clone().delivery_loop());
    h.publish_and_run("P-B09").await;

    // The first attempt is answered 500, the retry 200.
    for _ in 0..400 {
        if seen.lock().unwrap().len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "one failure, one retry: {seen:?}");
    for (headers, body) in &seen {
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("{name} missing: {headers:?}"))
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{}.{body}", header("x-huiqi-timestamp")).as_bytes());
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(header("x-huiqi-signature"), format!("sha256={expected}"));
        let event: Value = serde_json::from_str(body).unwrap();
        assert_eq!(event["notification"]["enterprise_id"], "E-0006");
        assert_eq!(event["notification"]["policy_id"], "P-B09");
        assert_eq!(header("x-huiqi-delivery"), event["delivery"].to_string());
    }
    assert_eq!(seen[0].1, seen[1].1, "a retry sends the same delivery");

    // The delivery log shows both attempts.
    let mut log = Value::Null;
    for _ in 0..100 {
        log = h
            .call(
                Method::GET,
                &format!("/v1/webhooks/{hook}/deliveries"),
                Some("enterprise"),
                None,
            )
            .await
            .json;
        if log[0]["state"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(log[0]["state"], "delivered", "{log}");
    assert_eq!(log[0]["attempts"], 2, "{log}");
    let statuses: Vec<&Value> = log[0]["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["status"])
        .collect();
    assert_eq!(statuses, [&json!(500), &json!(200)], "{log}");

    // Another enterprise cannot read this subscription's log.
    let other = h.issue("enterprise", Some("E-0001")).await;
    let a = h
        .call_with(
            Method::GET,
            &format!("/v1/webhooks/{hook}/deliveries"),
            Some(&other),
            None,
        )
        .await;
    assert!(
        matches!(a.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
        "{}",
        a.text
    );

    h.platform.stop();
    sender.await.unwrap();
}
