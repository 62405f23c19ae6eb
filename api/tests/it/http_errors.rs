//! Bad input of every kind answers 4xx with `{code, message, details}` and the precise
//! reason; nothing is stored half-way; nothing panics.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;

use crate::support::{Harness, assert_error};

fn firm() -> serde_json::Value {
    json!({
        "id": "E-HTTP-1", "credit_code": "913301060000000013", "name": "杭州云栖数联科技有限公司",
        "registration": {"region": "330106", "industry": "I65", "established": "2021-05-10"},
        "scale": {"employees": 38, "revenue": 12000000}, "tax": {"credit_grade": "B"}
    })
}

#[tokio::test]
async fn tokens_are_required_and_checked() {
    let h = Harness::new();
    let a = h
        .call(Method::GET, "/v1/enterprises/E-0006", None, None)
        .await;
    assert_error(&a, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert!(a.json["message"].as_str().unwrap().contains("Bearer"));
    let a = h
        .call_with(Method::GET, "/v1/enterprises/E-0006", Some("hq_nope"), None)
        .await;
    assert_error(&a, StatusCode::UNAUTHORIZED, "unauthenticated");
    let req = Request::get("/v1/enterprises/E-0006")
        .header("authorization", "Basic abc")
        .body(Body::empty())
        .unwrap();
    assert_error(
        &h.send(req).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    // Public endpoints need none.
    assert_eq!(
        h.call(Method::GET, "/healthz", None, None).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn malformed_and_mistyped_json_name_the_place() {
    let h = Harness::new();
    let raw = |body: &str| {
        Request::post("/v1/enterprises")
            .header("authorization", format!("Bearer {}", h.token("admin")))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let a = h.send(raw("{\"id\": \"E-X\",\n \"name\": }")).await;
    assert_error(&a, StatusCode::BAD_REQUEST, "malformed_json");
    assert_eq!(a.json["details"]["line"], 2, "{}", a.text);

    let mut body = firm();
    body["scale"]["employees"] = json!("很多");
    let a = h
        .call(Method::POST, "/v1/enterprises", Some("admin"), Some(body))
        .await;
    assert_error(&a, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert_eq!(a.json["details"]["field"], "scale.employees", "{}", a.text);

    let mut body = firm();
    body["tax"]["grade"] = json!("A");
    let a = h
        .call(Method::POST, "/v1/enterprises", Some("admin"), Some(body))
        .await;
    assert_error(&a, StatusCode::UNPROCESSABLE_ENTITY, "unknown_field");
    assert!(
        a.json["message"].as_str().unwrap().contains("grade"),
        "{}",
        a.text
    );

    let mut body = firm();
    body.as_object_mut().unwrap().remove("credit_code");
    let a = h
        .call(Method::POST, "/v1/enterprises", Some("admin"), Some(body))
        .await;
    assert_error(&a, StatusCode::UNPROCESSABLE_ENTITY, "missing_field");

    let req = Request::post("/v1/enterprises")
        .header("authorization", format!("Bearer {}", h.token("admin")))
        .header("content-type", "text/plain")
        .body(Body::from(firm().to_string()))
        .unwrap();
    assert_error(
        &h.send(req).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );

    // Nothing of the rejected bodies was stored.
    assert!(h.platform.profile("E-HTTP-1").is_none());
}

#[tokio::test]
async fn bad_credit_codes_and_codes_are_rejected_with_the_field() {
    let h = Harness::new();
    let mut body = firm();
    body["credit_code"] = json!("913301060000000014"); // wrong check digit
    let a = h
        .call(Method::POST, "/v1/enterprises", Some("admin"), Some(body))
        .await;
    assert_error(&a, StatusCode::UNPROCESSABLE_ENTITY, "invalid_credit_code");
    assert_eq!(
        a.json["details"]["problems"][0]["field"], "credit_code",
        "{}",
        a.text
    );

    let mut body = firm();
    body["registration"]["region"] = json!("339999");
    body["registration"]["industry"] = json!("Z99");
    let a = h
        .call(Method::POST, "/v1/enterprises", Some("admin"), Some(body))
        .await;
    assert_error(&a, StatusCode::UNPROCESSABLE_ENTITY, "invalid_record");
    let fields: Vec<&str> = a.json["details"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["field"].as_str())
        .collect();
    assert!(fields.contains(&"registration.region"), "{}", a.text);
    assert!(fields.contains(&"registration.industry"), "{}", a.text);
    assert!(h.platform.profile("E-HTTP-1").is_none());

    // A good one is stored, and a second enterprise cannot take its credit code.
    let a = h
        .call(Method::POST, "/v1/enterprises", Some("admin"), Some(firm()))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let mut other = firm();
    other["id"] = json!("E-HTTP-2");
    let a = h
        .call(Method::POST, "/v1/enterprises", Some("admin"), Some(other))
        .await;
    assert_error(&a, StatusCode::CONFLICT, "conflict");
    assert_eq!(a.json["details"]["field"], "credit_code");
}

#[tokio::test]
async fn bad_rules_in_policies_are_invalid_rule_with_their_position() {
    let h = Harness::new();
    let mut policy: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(crate::support::repo().join("fixtures/policies/P-B09.json"))
            .unwrap(),
    )
    .unwrap();
    policy["id"] = json!("P-HTTP-1");
    policy["cases"] = json!([]);
    policy["eligibility"] = json!("region under \"330110\" and employes < 300");
    let a = h
        .call(
            Method::POST,
            "/v1/policies",
            Some("policy_office"),
            Some(policy),
        )
        .await;
    assert_error(&a, StatusCode::UNPROCESSABLE_ENTITY, "invalid_rule");
    let m = a.json["message"].as_str().unwrap();
    assert!(
        m.contains("eligibility") && m.contains("employees"),
        "{}",
        a.text
    );
    assert!(m.contains("column"), "{}", a.text);
    // Not in the catalog.
    let a = h
        .call(Method::GET, "/v1/policies/P-HTTP-1", Some("admin"), None)
        .await;
    assert_error(&a, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn routes_methods_parameters_and_sizes() {
    let h = Harness::with(|c| c.limits.body_bytes = 4096);
    let a = h
        .call(Method::GET, "/v1/nothing", Some("admin"), None)
        .await;
    assert_error(&a, StatusCode::NOT_FOUND, "no_route");
    let a = h
        .call(Method::PATCH, "/v1/enterprises/E-0006", Some("admin"), None)
        .await;
    assert_error(&a, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let a = h
        .call(Method::GET, "/v1/jobs/seven", Some("admin"), None)
        .await;
    assert_error(&a, StatusCode::BAD_REQUEST, "invalid_parameter");
    let a = h
        .call(
            Method::GET,
            "/v1/enterprises/E-0006/match?limit=lots",
            Some("admin"),
            None,
        )
        .await;
    assert_error(&a, StatusCode::BAD_REQUEST, "invalid_parameter");
    let a = h
        .call(
            Method::GET,
            "/v1/enterprises/E-0006/match?colour=red",
            Some("admin"),
            None,
        )
        .await;
    assert_error(&a, StatusCode::BAD_REQUEST, "invalid_parameter");
    assert!(
        a.json["message"].as_str().unwrap().contains("colour"),
        "{}",
        a.text
    );
    let a = h
        .call(
            Method::GET,
            "/v1/enterprises/E-0006/match?limit=0",
            Some("admin"),
            None,
        )
        .await;
    assert_error(&a, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    let a = h
        .call(Method::GET, "/v1/search?q=", Some("admin"), None)
        .await;
    assert_error(&a, StatusCode::BAD_REQUEST, "invalid_parameter");
    let a = h
        .call(
            Method::GET,
            "/v1/search?q=贷款&region=99",
            Some("admin"),
            None,
        )
        .await;
    assert_error(&a, StatusCode::BAD_REQUEST, "invalid_parameter");

    let mut big = firm();
    big["business_scope"] = json!("软件开发；".repeat(1000));
    let a = h
        .call(Method::POST, "/v1/enterprises", Some("admin"), Some(big))
        .await;
    assert_error(&a, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
}

#[tokio::test]
async fn purposes_are_declared_within_the_role() {
    let h = Harness::new();
    let get = |purpose: &str| {
        Request::get("/v1/enterprises/E-0006")
            .header("authorization", format!("Bearer {}", h.token("enterprise")))
            .header("x-purpose", purpose)
            .body(Body::empty())
            .unwrap()
    };
    assert_error(
        &h.send(get("marketing")).await,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
    );
    assert_error(
        &h.send(get("platform_oversight")).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_eq!(
        h.send(get("profile_maintenance")).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn each_token_is_rate_limited_on_its_own() {
    let h = Harness::with(|c| {
        c.limits.requests_per_second = 1.0;
        c.limits.burst = 3;
    });
    for _ in 0..3 {
        let a = h
            .call(
                Method::GET,
                "/v1/enterprises/E-0006",
                Some("enterprise"),
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    }
    let a = h
        .call(
            Method::GET,
            "/v1/enterprises/E-0006",
            Some("enterprise"),
            None,
        )
        .await;
    assert_error(&a, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(a.headers["retry-after"], "1");
    let a = h
        .call(Method::GET, "/v1/enterprises/E-0006", Some("admin"), None)
        .await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "another token has its own bucket: {}",
        a.text
    );
}

#[tokio::test]
async fn the_openapi_document_lists_every_route_with_its_schemas() {
    let h = Harness::new();
    let a = h.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(a.status, StatusCode::OK);
    let doc = &a.json;
    assert_eq!(doc["openapi"], "3.1.0");
    let operations: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    assert_eq!(operations, huiqi_api::server::handlers::routes().docs.len());
    let post = &doc["paths"]["/v1/enterprises"]["post"];
    assert_eq!(
        post["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Enterprise"
    );
    let enterprise = &doc["components"]["schemas"]["Enterprise"];
    assert!(
        enterprise["properties"]["credit_code"].is_object(),
        "{enterprise}"
    );
    assert!(
        doc["components"]["schemas"]["Error"]["properties"]["code"]["enum"]
            .as_array()
            .unwrap()
            .contains(&json!("invalid_rule"))
    );
    let params = doc["paths"]["/v1/search"]["get"]["parameters"]
        .as_array()
        .unwrap();
    assert!(
        params
            .iter()
            .any(|p| p["name"] == "q" && p["in"] == "query" && p["required"] == true)
    );
}
