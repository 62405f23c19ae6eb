//! Policy drafts from prose: `POST /v1/policies` with only the text returns the extracted
//! rule, each clause's sentence and the sentences nothing could read; the office then
//! previews and publishes the stored draft.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Harness, assert_error, repo};

fn fixture_text(id: &str) -> String {
    let path = repo().join(format!("fixtures/policies/{id}.json"));
    let p: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    p["text"].as_str().unwrap().to_string()
}

/// A 杭州市 notice in the office's words, with one condition no pattern reads.
const NOTICE: &str = "关于开展2027年度小微企业首贷贴息工作的通知\n\
一、支持对象\n注册地在杭州市的小微企业。\n\
二、申报条件\n（一）成立满1年；\n（二）纳税信用等级为A级或B级；\n（三）未被列入严重失信主体名单；\n\
（四）企业法定代表人须参加过市级企业家培训班。\n\
三、支持标准\n按企业实际支付利息的50%给予贴息，每家企业每年最高20万元，贴息期限最长12个月。\n\
四、申报时间\n2027年1月1日至2027年6月30日。";

#[tokio::test]
async fn prose_becomes_a_reviewed_draft_the_office_can_preview_and_publish() {
    let h = Harness::new();
    let office = Some("policy_office"); // 3301 杭州市
    let a = h
        .call(
            Method::POST,
            "/v1/policies",
            office,
            Some(json!({ "text": NOTICE })),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let policy = &a.json["policy"];
    let extracted = &a.json["extracted"];
    let id = policy["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("P-D-"), "{id}");
    assert_eq!(policy["status"], "draft");
    assert_eq!(policy["regions"], json!(["3301"]), "{}", a.text);
    assert_eq!(policy["issuer_level"], "市级");
    assert_eq!(policy["kind"], "首贷贴息");
    assert_eq!(
        policy["title"],
        "关于开展2027年度小微企业首贷贴息工作的通知"
    );
    assert_eq!(
        policy["window"],
        json!({"opens": "2027-01-01", "closes": "2027-06-30"})
    );
    assert_eq!(policy["benefit"]["basis"], "interest");
    assert_eq!(policy["benefit"]["percent_bp"], 5000);
    assert_eq!(policy["benefit"]["cap_per_year"], 200_000);
    // The stored rule is the extracted one; each clause cites its sentence exactly.
    assert_eq!(policy["eligibility"], extracted["rule"]);
    let rule = extracted["rule"].as_str().unwrap();
    for needle in ["years_since(established) >= 1", "tax_grade", "dishonest"] {
        assert!(rule.contains(needle), "{needle} in {rule}");
    }
    let clauses = extracted["clauses"].as_array().unwrap();
    assert!(clauses.len() >= 4, "{}", a.text);
    for c in clauses {
        let src = &c["source"];
        let (start, end) = (
            src["start"].as_u64().unwrap() as usize,
            src["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&NOTICE[start..end], src["sentence"].as_str().unwrap());
        let confidence = c["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&confidence), "{c}");
    }
    // The condition nothing reads is listed for the reviewer.
    let unread = extracted["unread"].as_array().unwrap();
    assert!(
        unread.iter().any(|u| u["source"]["sentence"]
            .as_str()
            .unwrap()
            .contains("企业家培训班")),
        "{}",
        a.text
    );

    // The office previews the stored draft's reach and publishes it.
    let preview = h
        .call(
            Method::GET,
            &format!("/v1/policies/{id}/preview"),
            office,
            None,
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    assert!(preview.json["enterprises"].as_u64().unwrap() > 0);
    let published = h
        .call(
            Method::POST,
            &format!("/v1/policies/{id}/publish"),
            office,
            None,
        )
        .await;
    assert_eq!(published.status, StatusCode::ACCEPTED, "{}", published.text);

    // The same text again is the same draft: a conflict, not a second one.
    let a = h
        .call(
            Method::POST,
            "/v1/policies",
            office,
            Some(json!({ "text": NOTICE })),
        )
        .await;
    assert_error(&a, StatusCode::CONFLICT, "conflict");
}

#[tokio::test]
async fn prose_is_checked_like_any_policy() {
    let h = Harness::new();
    let office = Some("policy_office");
    // 南山区 is not 杭州市's to write for.
    let a = h
        .call(
            Method::POST,
            "/v1/policies",
            office,
            Some(json!({ "text": fixture_text("P-B01") })),
        )
        .await;
    assert_error(&a, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(a.json["details"]["field"], "regions", "{}", a.text);
    // Nothing to draft from.
    let a = h
        .call(
            Method::POST,
            "/v1/policies",
            office,
            Some(json!({ "text": "  " })),
        )
        .await;
    assert_error(&a, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert_eq!(a.json["details"]["field"], "text");
    // Conditions but no benefit: the reading comes back, nothing is stored.
    let a = h
        .call(
            Method::POST,
            "/v1/policies",
            office,
            Some(json!({ "text": "申报条件：注册地在杭州市、成立满2年的小微企业。" })),
        )
        .await;
    assert_error(&a, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert!(
        a.json["message"].as_str().unwrap().contains("支持标准"),
        "{}",
        a.text
    );
    assert!(
        a.json["details"]["extracted"]["clauses"].is_array(),
        "{}",
        a.text
    );
    // A field prose does not have makes it a whole policy, which then lacks its rule.
    let a = h
        .call(
            Method::POST,
            "/v1/policies",
            office,
            Some(json!({ "text": NOTICE, "regions": ["3301"] })),
        )
        .await;
    assert_error(&a, StatusCode::UNPROCESSABLE_ENTITY, "missing_field");
    // Prose is for policy offices.
    let a = h
        .call(
            Method::POST,
            "/v1/policies",
            Some("enterprise"),
            Some(json!({ "text": NOTICE })),
        )
        .await;
    assert_error(&a, StatusCode::FORBIDDEN, "forbidden");
}
