//! 政策找人 through the API: publishing notifies exactly the enterprises the policy fits,
//! once; reviews gate what reaches enterprises; changed profiles are re-matched; windows
//! closing soon are reminded.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use huiqi_engine::matching::offer_rule;
use huiqi_engine::rule::{Facts, Outcome};
use serde_json::{Value, json};

use crate::support::{Harness, assert_error, today};

/// What the interpreter says a policy should notify: (enterprise, kind) over every stored
/// enterprise.
fn expected(h: &Harness, policy: &str) -> BTreeSet<(String, String)> {
    let snapshot = h.platform.snapshot();
    let checked = snapshot.policy(policy).unwrap();
    let rule = offer_rule(&checked.rule, &checked.item.regions, &[]);
    let dir = h.platform.directory.read().unwrap();
    dir.by_id
        .values()
        .filter_map(
            |p| match rule.evaluate(&Facts::new(&p.enterprise, today())).outcome {
                Outcome::Eligible => Some((p.enterprise.id.clone(), "policy_match".to_string())),
                Outcome::NeedsInfo => Some((p.enterprise.id.clone(), "policy_maybe".to_string())),
                Outcome::Ineligible => None,
            },
        )
        .collect()
}

fn notified(h: &Harness, policy: &str) -> Vec<(String, String)> {
    h.platform
        .db
        .read(|c| {
            let mut s = c.prepare(
                "SELECT enterprise_id, kind FROM notifications WHERE policy_id = ?1 ORDER BY 1, 2",
            )?;
            let rows = s.query_map([policy], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })
        .unwrap()
}

fn audit_targets(h: &Harness, action: &str) -> Vec<String> {
    h.platform
        .db
        .read(|c| {
            let mut s = c.prepare("SELECT target FROM audit WHERE action = ?1 ORDER BY seq")?;
            let rows = s.query_map([action], |r| r.get(0))?;
            rows.collect()
        })
        .unwrap()
}

#[tokio::test]
async fn publishing_notifies_exactly_the_fitting_enterprises_once() {
    let h = Harness::new();
    let want = expected(&h, "P-B09");
    assert!(
        want.contains(&("E-0006".into(), "policy_match".into())),
        "{want:?}"
    );

    let preview = h
        .call(
            Method::GET,
            "/v1/policies/P-B09/preview",
            Some("policy_office"),
            None,
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    let eligible = want.iter().filter(|(_, k)| k == "policy_match").count();
    assert_eq!(preview.json["eligible"], eligible, "{}", preview.text);
    assert_eq!(preview.json["needs_info"], want.len() - eligible);
    assert_eq!(
        preview.json["by_city"][0]["key"], "3301",
        "{}",
        preview.text
    );

    let a = h
        .call(
            Method::POST,
            "/v1/policies/P-B09/publish",
            Some("policy_office"),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.text);
    let job = a.json["job"].as_i64().unwrap();
    h.run_jobs().await;
    let got: BTreeSet<_> = notified(&h, "P-B09").into_iter().collect();
    assert_eq!(got, want);

    let j = h
        .call(
            Method::GET,
            &format!("/v1/jobs/{job}"),
            Some("policy_office"),
            None,
        )
        .await;
    assert_eq!(j.json["state"], "done", "{}", j.text);
    assert_eq!(j.json["notified"], want.len());
    assert_eq!(j.json["processed"], want.len());

    // Running it again (or publishing again) adds nothing.
    let p = h.platform.clone();
    tokio::task::spawn_blocking(move || p.run_job(job))
        .await
        .unwrap()
        .unwrap();
    let again = h
        .call(
            Method::POST,
            "/v1/policies/P-B09/publish",
            Some("policy_office"),
            None,
        )
        .await;
    assert_eq!(again.json["job"], job, "{}", again.text);
    h.run_jobs().await;
    assert_eq!(notified(&h, "P-B09").len(), want.len());

    // The enterprise reads its feed, marks it read; the audit log has every step.
    let feed = h
        .call(
            Method::GET,
            "/v1/enterprises/E-0006/notifications",
            Some("enterprise"),
            None,
        )
        .await;
    assert_eq!(feed.status, StatusCode::OK, "{}", feed.text);
    let item = feed
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["policy_id"] == "P-B09")
        .unwrap()
        .clone();
    assert_eq!(item["kind"], "policy_match");
    assert!(
        item["title"].as_str().unwrap().contains("余杭区绿色制造"),
        "{item}"
    );
    let id = item["id"].as_i64().unwrap();
    let read = h
        .call(
            Method::POST,
            &format!("/v1/notifications/{id}/read"),
            Some("enterprise"),
            None,
        )
        .await;
    assert!(read.json["read_at"].is_string(), "{}", read.text);
    let unread = h
        .call(
            Method::GET,
            "/v1/enterprises/E-0006/notifications",
            Some("enterprise"),
            None,
        )
        .await;
    assert!(
        unread
            .json
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["id"] != id)
    );
    let all = h
        .call(
            Method::GET,
            "/v1/enterprises/E-0006/notifications?filter=all",
            Some("enterprise"),
            None,
        )
        .await;
    assert!(all.json.as_array().unwrap().iter().any(|n| n["id"] == id));

    let created = audit_targets(&h, "notification.create");
    for (e, _) in &want {
        assert!(
            created.contains(&format!("enterprise:{e}")),
            "no audit entry for {e}"
        );
    }
    assert!(audit_targets(&h, "notification.list").contains(&"enterprise:E-0006".to_string()));
    assert!(audit_targets(&h, "notification.read").contains(&"enterprise:E-0006".to_string()));
    assert_eq!(audit_targets(&h, "policy.publish").len(), 2);
    let v = h
        .call(Method::GET, "/v1/audit/verify", Some("admin"), None)
        .await;
    assert_eq!(v.json["intact"], true, "{}", v.text);
}

#[tokio::test]
async fn with_review_required_only_approved_recommendations_reach_the_enterprise() {
    let h = Harness::with(|c| c.review_required = true);
    h.call(
        Method::POST,
        "/v1/policies/P-B09/publish",
        Some("policy_office"),
        None,
    )
    .await;
    h.run_jobs().await;
    let feed = h
        .call(
            Method::GET,
            "/v1/enterprises/E-0006/notifications",
            Some("enterprise"),
            None,
        )
        .await;
    assert_eq!(feed.json, json!([]), "nothing before review: {}", feed.text);

    let queue = h
        .call(
            Method::GET,
            "/v1/reviews?enterprise=E-0006",
            Some("advisor"),
            None,
        )
        .await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.text);
    let item = queue
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["offer_id"] == "P-B09")
        .unwrap()
        .clone();
    assert_eq!(item["review"]["state"], "pending");
    assert_eq!(
        item["explanation"]["clauses"].as_array().unwrap().len(),
        9,
        "{item}"
    );
    let id = item["id"].as_i64().unwrap();

    // A reason that does not fit the decision, and a bare `other`, are refused.
    let bad = h
        .call(
            Method::POST,
            &format!("/v1/reviews/{id}"),
            Some("advisor"),
            Some(json!({"decision": "approve", "reason": "duplicate"})),
        )
        .await;
    assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    let bad = h
        .call(
            Method::POST,
            &format!("/v1/reviews/{id}"),
            Some("advisor"),
            Some(json!({"decision": "reject", "reason": "other"})),
        )
        .await;
    assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "missing_field");

    let ok = h
        .call(Method::POST, &format!("/v1/reviews/{id}"), Some("advisor"),
            Some(json!({"decision": "approve", "reason": "verified_eligible", "note": "已电话核实绿色工厂证书"}))).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(ok.json["state"], "approved");
    let again = h
        .call(
            Method::POST,
            &format!("/v1/reviews/{id}"),
            Some("advisor"),
            Some(json!({"decision": "reject", "reason": "duplicate"})),
        )
        .await;
    assert_error(&again, StatusCode::CONFLICT, "conflict");

    let feed = h
        .call(
            Method::GET,
            "/v1/enterprises/E-0006/notifications",
            Some("enterprise"),
            None,
        )
        .await;
    let list = feed.json.as_array().unwrap();
    assert_eq!(list.len(), 1, "{}", feed.text);
    assert_eq!(list[0]["policy_id"], "P-B09");

    // The recommendations feed of the enterprise shows approved offers only.
    let recs = h
        .call(
            Method::GET,
            "/v1/enterprises/E-0006/recommendations",
            Some("enterprise"),
            None,
        )
        .await;
    assert_eq!(recs.status, StatusCode::OK, "{}", recs.text);
    assert!(
        recs.json
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["review"]["state"] == "approved"),
        "{}",
        recs.text
    );
    let advisor_view = h
        .call(
            Method::GET,
            "/v1/enterprises/E-0006/recommendations",
            Some("advisor"),
            None,
        )
        .await;
    assert!(
        advisor_view
            .json
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["review"]["state"] == "pending"),
        "the advisor sees what waits for review: {}",
        advisor_view.text
    );
}

#[tokio::test]
async fn a_changed_profile_is_notified_of_newly_fitting_policies() {
    let h = Harness::new();
    h.publish_and_run("P-B09").await;
    let before = notified(&h, "P-B09").len();
    // A Yuhang manufacturer that lacks the green certificate, then gets it.
    let mut e: Value =
        serde_json::to_value(&h.platform.profile("E-0006").unwrap().enterprise).unwrap();
    e["id"] = json!("E-GREEN-1");
    e["credit_code"] = json!("91330110MA2H000004");
    e["name"] = json!("杭州余杭绿源纺织有限公司");
    e["environment"]["green_certified"] = json!(false);
    let a = h
        .call(
            Method::POST,
            "/v1/enterprises",
            Some("admin"),
            Some(e.clone()),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert_eq!(notified(&h, "P-B09").len(), before, "not yet fitting");

    e["environment"]["green_certified"] = json!(true);
    let a = h
        .call(
            Method::PUT,
            "/v1/enterprises/E-GREEN-1",
            Some("admin"),
            Some(e.clone()),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json["result"], "updated");
    assert!(a.json["notified"].as_u64().unwrap() >= 1, "{}", a.text);
    let mine: Vec<_> = notified(&h, "P-B09")
        .into_iter()
        .filter(|(e, _)| e == "E-GREEN-1")
        .collect();
    assert_eq!(
        mine,
        vec![("E-GREEN-1".to_string(), "policy_match".to_string())]
    );
    // Each re-match notification has its audit entry, like a job's.
    let stored: i64 = h
        .platform
        .db
        .read(|c| {
            c.query_row(
                "SELECT count(*) FROM notifications WHERE enterprise_id = 'E-GREEN-1'",
                [],
                |r| r.get(0),
            )
        })
        .unwrap();
    let audited = audit_targets(&h, "notification.create")
        .iter()
        .filter(|t| *t == "enterprise:E-GREEN-1")
        .count();
    assert_eq!(audited as i64, stored);

    // The same profile again changes nothing and notifies nothing.
    let a = h
        .call(
            Method::PUT,
            "/v1/enterprises/E-GREEN-1",
            Some("admin"),
            Some(e),
        )
        .await;
    assert_eq!(a.json["result"], "unchanged", "{}", a.text);
    assert_eq!(a.json["notified"], 0);
}

#[tokio::test]
async fn fitting_policies_closing_soon_are_reminded_once() {
    // P-B09 closes 2027-12-31: on 2027-12-28 it is within a week.
    let h =
        Harness::with(|c| c.today = Some(chrono::NaiveDate::from_ymd_opt(2027, 12, 28).unwrap()));
    h.call(
        Method::POST,
        "/v1/policies/P-B09/publish",
        Some("policy_office"),
        None,
    )
    .await;
    h.run_jobs().await;
    let matched: BTreeSet<String> = notified(&h, "P-B09")
        .into_iter()
        .filter(|(_, k)| k != "window_closing")
        .map(|(e, _)| e)
        .collect();
    assert!(!matched.is_empty());
    let n = h.remind().await;
    assert_eq!(n, matched.len());
    assert_eq!(h.remind().await, 0, "reminded once");
    let feed = h
        .call(
            Method::GET,
            "/v1/enterprises/E-0006/notifications",
            Some("enterprise"),
            None,
        )
        .await;
    let reminder = feed
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "window_closing")
        .unwrap()
        .clone();
    assert!(
        reminder["body"].as_str().unwrap().contains("还剩 3 天"),
        "{reminder}"
    );
}
