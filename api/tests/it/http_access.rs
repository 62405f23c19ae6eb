//! Every role stays within its scope: an enterprise sees itself, an advisor its assigned
//! enterprises, a policy office its region, an institution the enterprises that authorised it
//! and its own products. Each denial is a 403 `forbidden` that names what was refused, and a
//! denied read leaves no trace of the data in the answer.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Harness, assert_error, repo};

/// A fixture policy as a request body under a new id.
fn policy_body(fixture: &str, id: &str) -> Value {
    let path = repo().join(format!("fixtures/policies/{fixture}.json"));
    let mut p: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    p["id"] = json!(id);
    p["status"] = json!("draft");
    p
}

/// Asserts a 403 `forbidden` whose message names `needle`, and that no profile leaked.
#[track_caller]
fn assert_denied(a: &crate::support::Answer, needle: &str) {
    assert_error(a, StatusCode::FORBIDDEN, "forbidden");
    assert!(
        a.json["message"].as_str().unwrap().contains(needle),
        "message should name {needle}: {}",
        a.text
    );
    assert!(a.json.get("credit_code").is_none(), "{}", a.text);
}

/// Reads a record as admin and sends it back unchanged with PUT as `role`: a write attempt
/// whose body is valid, so only the role's scope can refuse it.
async fn put_back_as(h: &Harness, path: &str, role: &str) -> crate::support::Answer {
    let mut body = h.call(Method::GET, path, Some("admin"), None).await.json;
    for view_only in ["masked", "withheld_categories", "revision"] {
        body.as_object_mut().unwrap().remove(view_only);
    }
    h.call(Method::PUT, path, Some(role), Some(body)).await
}

#[tokio::test]
async fn an_enterprise_reaches_only_itself() {
    let h = Harness::new();
    let me = Some("enterprise"); // E-0006
    assert_eq!(
        h.call(Method::GET, "/v1/enterprises/E-0006", me, None)
            .await
            .status,
        StatusCode::OK
    );
    for path in [
        "/v1/enterprises/E-0001",
        "/v1/enterprises/E-0001/match",
        "/v1/enterprises/E-0001/recommendations",
        "/v1/enterprises/E-0001/notifications",
    ] {
        let a = h.call(Method::GET, path, me, None).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{path}: {}", a.text);
        assert_eq!(a.json["code"], "forbidden", "{path}");
    }
    // Writing another's profile, or any catalog, review or admin action.
    let a = put_back_as(&h, "/v1/enterprises/E-0001", "enterprise").await;
    assert_denied(&a, "E-0001");
    let a = h
        .call(
            Method::POST,
            "/v1/policies",
            me,
            Some(policy_body("P-B09", "P-ACC-1")),
        )
        .await;
    assert_denied(&a, "enterprise");
    for (method, path) in [
        (Method::GET, "/v1/reviews"),
        (Method::GET, "/v1/tokens"),
        (Method::GET, "/v1/audit/verify"),
        (Method::GET, "/v1/stats"),
        (Method::GET, "/v1/advisors/ADV-ZJ-01/enterprises"),
    ] {
        let a = h.call(method, path, me, None).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{path}: {}", a.text);
    }
    // A token issued for another enterprise sees that one and not E-0006.
    let e1 = h.issue("enterprise", Some("E-0001")).await;
    assert_eq!(
        h.call_with(Method::GET, "/v1/enterprises/E-0001", Some(&e1), None)
            .await
            .status,
        StatusCode::OK
    );
    let a = h
        .call_with(Method::GET, "/v1/enterprises/E-0006", Some(&e1), None)
        .await;
    assert_denied(&a, "E-0006");
}

#[tokio::test]
async fn an_advisor_reaches_only_assigned_enterprises() {
    let h = Harness::new();
    let adv = Some("advisor"); // ADV-ZJ-01: the Zhejiang enterprises
    assert_eq!(
        h.call(Method::GET, "/v1/enterprises/E-0006/match", adv, None)
            .await
            .status,
        StatusCode::OK
    );
    // E-0001 is in Shenzhen: not assigned.
    let a = h
        .call(Method::GET, "/v1/enterprises/E-0001", adv, None)
        .await;
    assert_denied(&a, "E-0001");
    let a = h
        .call(Method::GET, "/v1/enterprises/E-0001/match", adv, None)
        .await;
    assert_error(&a, StatusCode::FORBIDDEN, "forbidden");
    // Its own list, not another advisor's; assignments are the admin's.
    assert_eq!(
        h.call(Method::GET, "/v1/advisors/ADV-ZJ-01/enterprises", adv, None)
            .await
            .status,
        StatusCode::OK
    );
    let a = h
        .call(Method::GET, "/v1/advisors/ADV-GD-01/enterprises", adv, None)
        .await;
    assert_error(&a, StatusCode::FORBIDDEN, "forbidden");
    let a = h
        .call(
            Method::PUT,
            "/v1/advisors/ADV-ZJ-01/enterprises/E-0001",
            adv,
            None,
        )
        .await;
    assert_error(&a, StatusCode::FORBIDDEN, "forbidden");
    // After the admin assigns E-0001, the advisor reaches it; after unassigning, not.
    let put = h
        .call(
            Method::PUT,
            "/v1/advisors/ADV-ZJ-01/enterprises/E-0001",
            Some("admin"),
            None,
        )
        .await;
    assert!(put.status.is_success(), "{}", put.text);
    assert_eq!(
        h.call(Method::GET, "/v1/enterprises/E-0001", adv, None)
            .await
            .status,
        StatusCode::OK
    );
    let del = h
        .call(
            Method::DELETE,
            "/v1/advisors/ADV-ZJ-01/enterprises/E-0001",
            Some("admin"),
            None,
        )
        .await;
    assert!(del.status.is_success(), "{}", del.text);
    let a = h
        .call(Method::GET, "/v1/enterprises/E-0001", adv, None)
        .await;
    assert_denied(&a, "E-0001");
    // An advisor with no assignments reaches nobody.
    let lonely = h.issue("advisor", Some("ADV-GD-01")).await;
    let a = h
        .call_with(Method::GET, "/v1/enterprises/E-0006", Some(&lonely), None)
        .await;
    assert_denied(&a, "E-0006");
}

#[tokio::test]
async fn a_policy_office_acts_within_its_region_only() {
    let h = Harness::new();
    let office = Some("policy_office"); // 3301 杭州市
    // Its own region: a draft, its preview.
    let a = h
        .call(
            Method::POST,
            "/v1/policies",
            office,
            Some(policy_body("P-B09", "P-ACC-HZ")),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert_eq!(
        h.call(Method::GET, "/v1/policies/P-ACC-HZ/preview", office, None)
            .await
            .status,
        StatusCode::OK
    );
    // Another region: neither create, preview, publish nor expire.
    let a = h
        .call(
            Method::POST,
            "/v1/policies",
            office,
            Some(policy_body("P-B01", "P-ACC-SZ")),
        )
        .await;
    assert_denied(&a, "3301");
    for path in ["/v1/policies/P-B01/publish", "/v1/policies/P-B01/expire"] {
        let a = h.call(Method::POST, path, office, None).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{path}: {}", a.text);
    }
    let a = h
        .call(Method::GET, "/v1/policies/P-B01/preview", office, None)
        .await;
    assert_error(&a, StatusCode::FORBIDDEN, "forbidden");
    // Enterprise profiles are not an office's to read, even in its region.
    let a = h
        .call(Method::GET, "/v1/enterprises/E-0006", office, None)
        .await;
    assert_denied(&a, "E-0006");
    // Nor is the catalog of banks.
    let a = put_back_as(&h, "/v1/products/HANHAI-XYD-01", "policy_office").await;
    assert_error(&a, StatusCode::FORBIDDEN, "forbidden");
    // A Shenzhen office is refused Hangzhou's draft.
    let sz = h.issue("policy_office", Some("4403")).await;
    let a = h
        .call_with(
            Method::POST,
            "/v1/policies/P-ACC-HZ/publish",
            Some(&sz),
            None,
        )
        .await;
    assert!(
        matches!(a.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
        "{}",
        a.text
    );
}

#[tokio::test]
async fn an_institution_sees_only_what_enterprises_authorised_and_its_own_products() {
    let h = Harness::new();
    let bank = Some("institution"); // BANK-HANHAI
    // E-0006 authorised no institution.
    let a = h
        .call(Method::GET, "/v1/enterprises/E-0006", bank, None)
        .await;
    assert_denied(&a, "E-0006");
    let a = h
        .call(Method::GET, "/v1/enterprises/E-0006/match", bank, None)
        .await;
    assert_error(&a, StatusCode::FORBIDDEN, "forbidden");
    // E-0005 authorised its tax and credit records to institutions: those, nothing else.
    let a = h
        .call(Method::GET, "/v1/enterprises/E-0005", bank, None)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let withheld = a.json["withheld_categories"].as_array().unwrap();
    assert!(withheld.iter().any(|c| c == "scale"), "{}", a.text);
    assert!(!withheld.iter().any(|c| c == "tax"), "{}", a.text);
    // The legal representative is masked, not hidden: the bank sees there is one, not who.
    assert_eq!(a.json["masked"], true, "{}", a.text);
    assert_eq!(a.json["legal_rep"]["name"], "王**", "{}", a.text);
    assert_eq!(a.json["legal_rep"]["phone"], "132****9657", "{}", a.text);
    assert_eq!(
        a.json["legal_rep"]["id_number"], "330***********268X",
        "{}",
        a.text
    );
    assert!(!a.text.contains("王秀兰") && !a.text.contains("13243409657"));
    // Reading is not writing.
    let mut body = a.json.clone();
    body.as_object_mut().unwrap().remove("withheld_categories");
    body.as_object_mut().unwrap().remove("masked");
    body.as_object_mut().unwrap().remove("revision");
    let a = h
        .call(Method::PUT, "/v1/enterprises/E-0005", bank, Some(body))
        .await;
    assert_denied(&a, "E-0005");
    // Its own product, not another bank's.
    let a = put_back_as(&h, "/v1/products/CHANGFENG-DYD-01", "institution").await;
    assert_error(&a, StatusCode::FORBIDDEN, "forbidden");
    // Policies belong to policy offices.
    let a = h
        .call(
            Method::POST,
            "/v1/policies",
            bank,
            Some(policy_body("P-B09", "P-ACC-BANK")),
        )
        .await;
    assert_error(&a, StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn a_revoked_token_is_refused_at_once() {
    let h = Harness::new();
    let issued = h
        .call(
            Method::POST,
            "/v1/tokens",
            Some("admin"),
            Some(json!({"role": "enterprise", "scope": "E-0006", "label": "财务 王会计"})),
        )
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text);
    let t = issued.json["token"].as_str().unwrap().to_string();
    let id = issued.json["id"].as_str().unwrap().to_string();
    assert_eq!(
        h.call_with(Method::GET, "/v1/enterprises/E-0006", Some(&t), None)
            .await
            .status,
        StatusCode::OK
    );
    let list = h.call(Method::GET, "/v1/tokens", Some("admin"), None).await;
    assert!(list.text.contains(&id), "{}", list.text);
    let a = h
        .call(
            Method::DELETE,
            &format!("/v1/tokens/{id}"),
            Some("admin"),
            None,
        )
        .await;
    assert!(a.status.is_success(), "{}", a.text);
    let a = h
        .call_with(Method::GET, "/v1/enterprises/E-0006", Some(&t), None)
        .await;
    assert_error(&a, StatusCode::UNAUTHORIZED, "unauthenticated");
    // Tokens are never listed with their secret.
    assert!(!list.text.contains(&t));
}

#[tokio::test]
async fn deleting_an_enterprise_revokes_its_tokens_and_keeps_its_audit() {
    let h = Harness::new();
    let theirs = h.issue("enterprise", Some("E-0007")).await;
    assert_eq!(
        h.call_with(Method::GET, "/v1/enterprises/E-0007", Some(&theirs), None)
            .await
            .status,
        StatusCode::OK
    );
    // Another enterprise cannot delete it; an admin can.
    let a = h
        .call(
            Method::DELETE,
            "/v1/enterprises/E-0007",
            Some("enterprise"),
            None,
        )
        .await;
    assert_error(&a, StatusCode::FORBIDDEN, "forbidden");
    let a = h
        .call(
            Method::DELETE,
            "/v1/enterprises/E-0007",
            Some("admin"),
            None,
        )
        .await;
    assert!(a.status.is_success(), "{}", a.text);
    let a = h
        .call(Method::GET, "/v1/enterprises/E-0007", Some("admin"), None)
        .await;
    assert_error(&a, StatusCode::NOT_FOUND, "not_found");
    // Its token is dead, even if the id is used again.
    let a = h
        .call_with(Method::GET, "/v1/enterprises/E-0007", Some(&theirs), None)
        .await;
    assert_error(&a, StatusCode::UNAUTHORIZED, "unauthenticated");
    // Who used its data stays on record.
    let audit = h
        .call(
            Method::GET,
            "/v1/audit?target=enterprise:E-0007",
            Some("admin"),
            None,
        )
        .await;
    let actions: Vec<&str> = audit
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"enterprise.read"), "{actions:?}");
    assert!(actions.contains(&"enterprise.delete"), "{actions:?}");
}
