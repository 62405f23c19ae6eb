//! Statistics: each role's figures cover its own slice, checked against counts taken
//! independently from the store.

use axum::http::{Method, StatusCode};

use crate::support::{Harness, assert_error};

fn count(h: &Harness, sql: &str) -> i64 {
    h.platform
        .db
        .read(|c| c.query_row(sql, [], |r| r.get(0)))
        .unwrap()
}

#[tokio::test]
async fn each_role_counts_its_own_slice() {
    // With review required, every match made is recorded as a recommendation to review.
    let h = Harness::with(|c| c.review_required = true);
    // Publishing P-B09 (余杭区) gives the figures some notifications to count.
    h.publish_and_run("P-B09").await;
    let notified = count(&h, "SELECT count(*) FROM notifications");
    assert!(notified > 0, "P-B09 reaches someone");

    let all = h.call(Method::GET, "/v1/stats", Some("admin"), None).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(all.json["scope"], "all");
    let total = count(&h, "SELECT count(*) FROM enterprises");
    assert_eq!(all.json["enterprises"], total);
    assert_eq!(all.json["notifications_created"], notified);

    // The advisor: exactly its assigned enterprises (not everyone, as a correlated
    // sub-query once made it), and their notifications.
    let assigned = h
        .call(
            Method::GET,
            "/v1/advisors/ADV-ZJ-01/enterprises",
            Some("advisor"),
            None,
        )
        .await;
    assert_eq!(assigned.status, StatusCode::OK, "{}", assigned.text);
    let ids: Vec<&str> = assigned
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap())
        .collect();
    assert!(
        !ids.is_empty() && (ids.len() as i64) < total,
        "{}",
        assigned.text
    );
    let quoted = ids
        .iter()
        .map(|id| format!("'{id}'"))
        .collect::<Vec<_>>()
        .join(",");
    let adv = h
        .call(Method::GET, "/v1/stats", Some("advisor"), None)
        .await;
    assert_eq!(adv.status, StatusCode::OK, "{}", adv.text);
    assert_eq!(adv.json["enterprises"], ids.len() as i64, "{}", adv.text);
    assert_eq!(
        adv.json["notifications_created"],
        count(
            &h,
            &format!("SELECT count(*) FROM notifications WHERE enterprise_id IN ({quoted})")
        )
    );

    // The 杭州市 office: enterprises registered in 3301.
    let office = h
        .call(Method::GET, "/v1/stats", Some("policy_office"), None)
        .await;
    assert_eq!(office.status, StatusCode::OK, "{}", office.text);
    assert_eq!(
        office.json["enterprises"],
        count(
            &h,
            "SELECT count(*) FROM enterprises WHERE region LIKE '3301%'"
        )
    );
    assert_eq!(
        office.json["notifications_created"], notified,
        "余杭 is in 杭州"
    );

    // A bank sees no enterprise figures, only recommendations of its own products.
    for n in 1..=12 {
        let path = format!("/v1/enterprises/E-{n:04}/match");
        let a = h.call(Method::GET, &path, Some("admin"), None).await;
        assert_eq!(a.status, StatusCode::OK, "{path}: {}", a.text);
    }
    let hanhai = count(
        &h,
        "SELECT count(*) FROM recommendations WHERE offer_kind = 'product' AND offer_id LIKE 'HANHAI-%'",
    );
    assert!(hanhai > 0, "瀚海银行's products were recommended");
    let bank = h
        .call(Method::GET, "/v1/stats", Some("institution"), None)
        .await;
    assert_eq!(bank.status, StatusCode::OK, "{}", bank.text);
    assert_eq!(bank.json["enterprises"], 0);
    assert_eq!(bank.json["notifications_created"], 0);
    assert_eq!(bank.json["matches"], hanhai, "{}", bank.text);
    for row in bank.json["matches_by_institution"].as_array().unwrap() {
        assert_eq!(row["key"], "BANK-HANHAI", "{}", bank.text);
    }

    let a = h
        .call(Method::GET, "/v1/stats", Some("enterprise"), None)
        .await;
    assert_error(&a, StatusCode::FORBIDDEN, "forbidden");
}
