//! The route table and its handlers. Each handler parses, makes one call into the
//! [`Platform`], and shapes the answer; blocking work (catalog changes, scans) runs on a
//! blocking thread.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use futures_util::StreamExt;
use huiqi_engine::Enterprise;
use huiqi_engine::model::{Policy, Product, Role};
use serde::Deserialize;

use super::extract::{Json, JsonBody, Path, Query, Reply, parse};
use super::openapi::schema;
use super::{AppState, Doc, Routes};
use crate::error::{Error, ErrorCode, Result};
use crate::platform::drafting::PolicyProse;
use crate::platform::enterprises::{BulkReport, ListQuery};
use crate::platform::matching::MatchRequest;
use crate::platform::{Actor, Platform, catalog, outreach, reviews, tokens, webhooks};
use crate::store::audit::{self, Purpose};

/// Runs blocking platform work off the async threads.
async fn blocking<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&Platform) -> Result<T> + Send + 'static,
) -> Result<T> {
    let p = state.platform.clone();
    tokio::task::spawn_blocking(move || f(&p))
        .await
        .map_err(|e| Error::internal(format_args!("blocking task: {e}")))?
}

pub fn routes() -> Routes {
    let m = |method: Method| method;
    Routes::default()
        .add(m(Method::GET), "/healthz", get(healthz), Doc::new("platform", "Liveness and what is loaded", "anyone").public().returns(schema::any))
        .add(m(Method::GET), "/metrics", get(metrics), Doc::new("platform", "Prometheus metrics (text format)", "anyone").public())
        // Enterprises
        .add(m(Method::GET), "/v1/enterprises", get(list_enterprises),
            Doc::new("enterprises", "List enterprises the caller may see (registration data)", "admin, advisor (assigned), institution (authorised)")
                .query(schema::of::<ListQuery>).returns(schema::of::<Vec<crate::platform::enterprises::Summary>>))
        .add(m(Method::POST), "/v1/enterprises", post(upsert_enterprise),
            Doc::new("enterprises", "Create or replace an enterprise profile", "admin; the enterprise itself; its advisors")
                .body(schema::enterprise).returns(schema::of::<crate::platform::enterprises::Upserted>))
        .add(m(Method::POST), "/v1/enterprises/bulk", post(bulk_upsert).layer(axum::extract::DefaultBodyLimit::disable()),
            Doc::new("enterprises", "Upsert many enterprises from JSON Lines (streamed), with a per-line report", "admin")
                .body_as("application/x-ndjson", schema::enterprise).returns(schema::of::<BulkReport>))
        .add(m(Method::GET), "/v1/enterprises/{id}", get(get_enterprise),
            Doc::new("enterprises", "Read a profile: unauthorised categories removed, personal fields masked unless entitled", "admin; the enterprise; its advisors; institutions it authorised")
                .returns(schema::enterprise))
        .add(m(Method::PUT), "/v1/enterprises/{id}", put(put_enterprise),
            Doc::new("enterprises", "Create or replace the profile with this id", "admin; the enterprise itself; its advisors")
                .body(schema::enterprise).returns(schema::of::<crate::platform::enterprises::Upserted>))
        .add(m(Method::DELETE), "/v1/enterprises/{id}", delete(delete_enterprise),
            Doc::new("enterprises", "Delete an enterprise and its notifications, reviews and webhooks (the audit log stays)", "admin; the enterprise itself").status(204))
        .add(m(Method::GET), "/v1/enterprises/{id}/match", get(match_by_id),
            Doc::new("matching", "Match a stored enterprise: eligible, needs-info and near-miss offers with explanations, and what to ask next", "admin; the enterprise; its advisors; institutions it authorised")
                .query(schema::of::<MatchParams>).returns(schema::match_response))
        .add(m(Method::POST), "/v1/match", post(match_request),
            Doc::new("matching", "Match a stored enterprise by id, or an inline profile (not stored)", "any role (stored enterprises: as for reading them)")
                .body(schema::match_request).returns(schema::match_response))
        .add(m(Method::GET), "/v1/enterprises/{id}/recommendations", get(recommendations),
            Doc::new("matching", "The recommendations feed (only advisor-approved ones for the enterprise where review is required)", "admin; the enterprise; its advisors; institutions it authorised")
                .returns(schema::of::<Vec<crate::platform::matching::Recommendation>>))
        .add(m(Method::GET), "/v1/enterprises/{id}/notifications", get(notifications),
            Doc::new("notifications", "The enterprise's notification feed, newest first", "admin; the enterprise; its advisors")
                .query(schema::of::<outreach::FeedQuery>).returns(schema::of::<Vec<outreach::Notification>>))
        .add(m(Method::POST), "/v1/notifications/{id}/read", post(mark_read),
            Doc::new("notifications", "Mark a notification read", "the enterprise").returns(schema::of::<outreach::Notification>))
        .add(m(Method::POST), "/v1/notifications/{id}/dismiss", post(mark_dismissed),
            Doc::new("notifications", "Dismiss a notification (no reminders follow it)", "the enterprise").returns(schema::of::<outreach::Notification>))
        // Catalog
        .add(m(Method::GET), "/v1/search", get(search),
            Doc::new("catalog", "Search published products and policies: full text (jieba) or semantic", "any role")
                .query(schema::of::<catalog::SearchQuery>).returns(schema::of::<Vec<catalog::Hit>>))
        .add(m(Method::POST), "/v1/products", post(create_product),
            Doc::new("catalog", "Publish a new product (validated, indexed at once)", "institution (its own), admin")
                .body(schema::product).returns(schema::product).status(201))
        .add(m(Method::GET), "/v1/products/{id}", get(get_product),
            Doc::new("catalog", "Read a product (drafts: its institution and admins only)", "any role").returns(schema::product))
        .add(m(Method::PUT), "/v1/products/{id}", put(update_product),
            Doc::new("catalog", "Change a product; `version` must be the current one", "institution (its own), admin")
                .body(schema::product).returns(schema::product))
        .add(m(Method::POST), "/v1/policies", post(create_policy),
            Doc::new("policies", "Create a policy draft: a whole policy, or only its prose ({text}), from which the rule, benefit, window and regions are extracted; the answer then holds the draft and the extractor's reading (clauses with their sentences and confidence, unread sentences)", "policy office (within its region), admin")
                .body(schema::policy_or_prose).returns(schema::any).status(201))
        .add(m(Method::GET), "/v1/policies/{id}", get(get_policy),
            Doc::new("policies", "Read a policy (drafts: its office and admins only)", "any role").returns(schema::policy))
        .add(m(Method::PUT), "/v1/policies/{id}", put(update_policy),
            Doc::new("policies", "Edit a policy as a draft (a published one gets the next version); `version` must be the current one", "policy office (within its region), admin")
                .body(schema::policy).returns(schema::policy))
        .add(m(Method::GET), "/v1/policies/{id}/preview", get(preview),
            Doc::new("policies", "Reach preview: who the policy would reach, by region, size and industry", "policy office (within its region), admin")
                .returns(schema::of::<catalog::Preview>))
        .add(m(Method::POST), "/v1/policies/{id}/publish", post(publish),
            Doc::new("policies", "Publish a draft and start its 政策找人 job", "policy office (within its region), admin")
                .returns(schema::of::<catalog::Lifecycle>).status(202))
        .add(m(Method::POST), "/v1/policies/{id}/expire", post(expire),
            Doc::new("policies", "Expire a published policy", "policy office (within its region), admin")
                .returns(schema::of::<catalog::Lifecycle>))
        .add(m(Method::GET), "/v1/jobs/{id}", get(job),
            Doc::new("policies", "Progress of a 政策找人 job", "policy office (its policies), admin").returns(schema::of::<outreach::Job>))
        // Webhooks
        .add(m(Method::POST), "/v1/webhooks", post(create_webhook),
            Doc::new("notifications", "Subscribe a URL to notifications (HMAC-signed deliveries; the secret is shown once)", "the enterprise (itself), admin")
                .body(schema::of::<webhooks::NewWebhook>).returns(schema::of::<webhooks::Webhook>).status(201))
        .add(m(Method::GET), "/v1/webhooks", get(list_webhooks),
            Doc::new("notifications", "List subscriptions", "the enterprise (its own), admin").returns(schema::of::<Vec<webhooks::Webhook>>))
        .add(m(Method::DELETE), "/v1/webhooks/{id}", delete(delete_webhook),
            Doc::new("notifications", "Remove a subscription", "the enterprise (its own), admin").status(204))
        .add(m(Method::GET), "/v1/webhooks/{id}/deliveries", get(deliveries),
            Doc::new("notifications", "The delivery log: every delivery and attempt", "the enterprise (its own), admin")
                .query(schema::of::<LimitQuery>).returns(schema::of::<Vec<webhooks::Delivery>>))
        // Reviews
        .add(m(Method::GET), "/v1/reviews", get(review_queue),
            Doc::new("reviews", "The review queue of the advisor's assigned enterprises, with explanations", "advisor, admin")
                .query(schema::of::<reviews::QueueQuery>).returns(schema::any))
        .add(m(Method::POST), "/v1/reviews/{id}", post(decide),
            Doc::new("reviews", "Approve or reject a recommendation with a reason and a note", "advisor (assigned), admin")
                .body(schema::of::<reviews::Decision>).returns(schema::of::<reviews::ReviewState>))
        .add(m(Method::GET), "/v1/advisors/{advisor}/enterprises", get(assigned),
            Doc::new("reviews", "Enterprises assigned to an advisor", "the advisor, admin").returns(schema::of::<Vec<String>>))
        .add(m(Method::PUT), "/v1/advisors/{advisor}/enterprises/{id}", put(assign),
            Doc::new("reviews", "Assign an enterprise to an advisor", "admin").status(204))
        .add(m(Method::DELETE), "/v1/advisors/{advisor}/enterprises/{id}", delete(unassign),
            Doc::new("reviews", "End an assignment", "admin").status(204))
        // Administration
        .add(m(Method::POST), "/v1/tokens", post(issue_token),
            Doc::new("admin", "Issue a token for a role and scope (the secret is shown once)", "admin")
                .body(schema::of::<tokens::NewToken>).returns(schema::of::<tokens::Issued>).status(201))
        .add(m(Method::GET), "/v1/tokens", get(list_tokens),
            Doc::new("admin", "List tokens (no secrets)", "admin").returns(schema::of::<Vec<tokens::TokenInfo>>))
        .add(m(Method::DELETE), "/v1/tokens/{id}", delete(revoke_token),
            Doc::new("admin", "Revoke a token at once", "admin").status(204))
        .add(m(Method::GET), "/v1/audit", get(audit_log),
            Doc::new("admin", "Read the audit log (an enterprise reads the entries about itself)", "admin, the enterprise")
                .query(schema::of::<audit::Query>).returns(schema::of::<Vec<audit::Stored>>))
        .add(m(Method::GET), "/v1/audit/verify", get(audit_verify),
            Doc::new("admin", "Check the audit log's hash chain", "admin").returns(schema::of::<audit::Verification>))
        .add(m(Method::GET), "/v1/stats", get(stats),
            Doc::new("admin", "Statistics: enterprises, matches, notifications, reviews; by region and institution", "admin, advisor, policy office, institution (each its own slice)")
                .returns(schema::of::<crate::platform::stats::Stats>))
}

// --- platform -------------------------------------------------------------------------------

async fn healthz(State(s): State<AppState>) -> Reply<serde_json::Value> {
    let snapshot = s.platform.snapshot();
    let enterprises = s
        .platform
        .directory
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .by_id
        .len();
    Reply(serde_json::json!({
        "status": if s.platform.is_stopping() { "stopping" } else { "ok" },
        "snapshot": snapshot.manifest.version,
        "embedder": snapshot.manifest.embedder.id,
        "products": snapshot.manifest.counts.products,
        "policies": snapshot.manifest.counts.policies,
        "enterprises": enterprises,
        "review_required": s.platform.config.review_required,
        "today": s.platform.today(),
    }))
}

async fn metrics(State(s): State<AppState>) -> Response {
    let enterprises = s
        .platform
        .directory
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .by_id
        .len() as f64;
    let (queued, pending) = s
        .platform
        .db
        .read(|c| {
            c.query_row(
                "SELECT (SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')),
                        (SELECT count(*) FROM deliveries WHERE state = 'pending')",
                [],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
            )
        })
        .unwrap_or((0, 0));
    let snapshot = s.platform.snapshot().manifest.version as f64;
    let text = s.platform.metrics.render(&[
        ("huiqi_enterprises", "Enterprises stored.", enterprises),
        (
            "huiqi_jobs_unfinished",
            "政策找人 jobs queued or running.",
            queued as f64,
        ),
        (
            "huiqi_webhook_deliveries_pending",
            "Webhook deliveries waiting to be sent.",
            pending as f64,
        ),
        (
            "huiqi_snapshot_version",
            "Version of the live index snapshot.",
            snapshot,
        ),
    ]);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

// --- enterprises ----------------------------------------------------------------------------

async fn list_enterprises(
    State(s): State<AppState>,
    actor: Actor,
    Query(q): Query<ListQuery>,
) -> Result<Response> {
    Ok(Reply(s.platform.list_enterprises(&actor, &q).await?).into_response())
}

async fn upsert_enterprise(
    State(s): State<AppState>,
    actor: Actor,
    Json(e): Json<Enterprise>,
) -> Result<Response> {
    let u = blocking(&s, move |p| p.upsert_enterprise(&actor, e)).await?;
    let status = if u.result == "created" {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Reply(u)).into_response())
}

async fn put_enterprise(
    State(s): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    Json(e): Json<Enterprise>,
) -> Result<Response> {
    if e.id != id {
        return Err(Error::invalid_field(
            "id",
            format!("the body's id {:?} is not the path's {id:?}", e.id),
        ));
    }
    upsert_enterprise(State(s), actor, Json(e)).await
}

/// Reads JSON Lines as they arrive, in batches, so an upload of any size holds only one
/// batch in memory; stops (keeping what was stored) past the size limit.
/// Stores one batch of a bulk upload on the blocking pool; the report travels with it.
async fn bulk_batch(
    s: &AppState,
    actor: &Actor,
    lines: Vec<(usize, String)>,
    mut report: BulkReport,
) -> Result<BulkReport> {
    let actor = actor.clone();
    blocking(s, move |p| {
        p.bulk_upsert(&actor, lines, &mut report)?;
        Ok(report)
    })
    .await
}

async fn bulk_upsert(
    State(s): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    actor.require(&[Role::Admin], "upload enterprises in bulk")?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let ndjson = [
        "application/x-ndjson",
        "application/jsonl",
        "application/json-lines",
    ]
    .iter()
    .any(|t| content_type.starts_with(t));
    if !ndjson {
        return Err(Error::new(
            ErrorCode::UnsupportedMediaType,
            "send JSON Lines (one enterprise per line) with Content-Type: application/x-ndjson",
        ));
    }
    let limit = s.platform.config.limits.bulk_bytes;
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        && len > limit
    {
        return Err(Error::new(
            ErrorCode::PayloadTooLarge,
            format!("the upload has {len} bytes; the limit is {limit}"),
        ));
    }
    const BATCH: usize = 500;
    let mut report = BulkReport::default();
    let mut stream = body.into_data_stream();
    let mut pending: Vec<u8> = Vec::new();
    let mut batch: Vec<(usize, String)> = Vec::new();
    let mut line_no = 0usize;
    let mut received = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            Error::new(
                ErrorCode::MalformedJson,
                format!("the upload broke off: {e}"),
            )
        })?;
        received += chunk.len();
        if received > limit {
            report.stopped = Some(format!(
                "the upload exceeded {limit} bytes; lines up to {line_no} were processed, the rest was not read"
            ));
            break;
        }
        pending.extend_from_slice(&chunk);
        while let Some(nl) = pending.iter().position(|b| *b == b'\n') {
            let raw: Vec<u8> = pending.drain(..=nl).collect();
            line_no += 1;
            take_line(line_no, &raw[..raw.len() - 1], &mut batch, &mut report);
            if batch.len() >= BATCH {
                report = bulk_batch(&s, &actor, std::mem::take(&mut batch), report).await?;
            }
        }
    }
    if report.stopped.is_none() && !pending.is_empty() {
        line_no += 1;
        take_line(line_no, &pending, &mut batch, &mut report);
    }
    report = bulk_batch(&s, &actor, batch, report).await?;
    let status = if report.stopped.is_some() {
        StatusCode::PAYLOAD_TOO_LARGE
    } else {
        StatusCode::OK
    };
    Ok((status, Reply(report)).into_response())
}

/// One line of a bulk upload into the batch, or a rejection when it is not UTF-8.
fn take_line(line: usize, raw: &[u8], batch: &mut Vec<(usize, String)>, report: &mut BulkReport) {
    match std::str::from_utf8(raw) {
        Ok(text) => batch.push((line, text.trim_end_matches('\r').to_string())),
        Err(e) => report.reject(crate::platform::enterprises::LineError {
            line,
            id: None,
            code: ErrorCode::MalformedJson.as_str(),
            field: None,
            message: format!("not UTF-8: {e}"),
        }),
    }
}

async fn get_enterprise(
    State(s): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Response> {
    Ok(Reply(s.platform.get_enterprise(&actor, &id).await?).into_response())
}

async fn delete_enterprise(
    State(s): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    s.platform.delete_enterprise(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Query parameters of a match by id.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchParams {
    /// Evaluation date (YYYY-MM-DD); today when absent.
    pub as_of: Option<chrono::NaiveDate>,
    /// Offers listed per list (1–200).
    pub limit: Option<usize>,
    /// Include each listed offer's explanation (default true).
    pub explain: Option<bool>,
}

async fn match_by_id(
    State(s): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    Query(q): Query<MatchParams>,
) -> Result<Response> {
    let req = MatchRequest {
        enterprise_id: Some(id),
        profile: None,
        as_of: q.as_of,
        limit: q.limit,
        explain: q.explain,
    };
    Ok(Reply(s.platform.match_enterprise(&actor, req).await?).into_response())
}

async fn match_request(
    State(s): State<AppState>,
    actor: Actor,
    Json(req): Json<MatchRequest>,
) -> Result<Response> {
    Ok(Reply(s.platform.match_enterprise(&actor, req).await?).into_response())
}

async fn recommendations(
    State(s): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Response> {
    Ok(Reply(s.platform.recommendations(&actor, &id).await?).into_response())
}

async fn notifications(
    State(s): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    Query(q): Query<outreach::FeedQuery>,
) -> Result<Response> {
    Ok(Reply(s.platform.notifications(&actor, &id, &q).await?).into_response())
}

async fn mark_read(
    State(s): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Response> {
    Ok(Reply(s.platform.mark_notification(&actor, id, "read").await?).into_response())
}

async fn mark_dismissed(
    State(s): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Response> {
    Ok(Reply(s.platform.mark_notification(&actor, id, "dismiss").await?).into_response())
}

// --- catalog --------------------------------------------------------------------------------

async fn search(
    State(s): State<AppState>,
    _actor: Actor,
    Query(q): Query<catalog::SearchQuery>,
) -> Result<Response> {
    let hits = blocking(&s, move |p| p.search(&q)).await?;
    Ok(Reply(hits).into_response())
}

async fn create_product(
    State(s): State<AppState>,
    actor: Actor,
    Json(p): Json<Product>,
) -> Result<Response> {
    let (product, _) = blocking(&s, move |pl| pl.put_product(&actor, p, true)).await?;
    Ok((StatusCode::CREATED, Reply(product)).into_response())
}

async fn update_product(
    State(s): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    Json(p): Json<Product>,
) -> Result<Response> {
    if p.id != id {
        return Err(Error::invalid_field(
            "id",
            format!("the body's id {:?} is not the path's {id:?}", p.id),
        ));
    }
    let (product, _) = blocking(&s, move |pl| pl.put_product(&actor, p, false)).await?;
    Ok(Reply(product).into_response())
}

async fn get_product(
    State(s): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Response> {
    Ok(Reply(s.platform.product(&actor, &id)?).into_response())
}

async fn create_policy(
    State(s): State<AppState>,
    actor: Actor,
    JsonBody(body): JsonBody,
) -> Result<Response> {
    if is_prose(&parse(&body)?) {
        let prose: PolicyProse = parse(&body)?;
        let drafted = blocking(&s, move |pl| pl.draft_from_prose(&actor, prose)).await?;
        return Ok((StatusCode::CREATED, Reply(drafted)).into_response());
    }
    let p: Policy = parse(&body)?;
    let (policy, _) = blocking(&s, move |pl| pl.put_policy(&actor, p, true)).await?;
    Ok((StatusCode::CREATED, Reply(policy)).into_response())
}

/// A policy sent as prose: its text, and only fields a [`PolicyProse`] has (a whole policy
/// that merely lacks its rule is a policy, and is told which field is missing).
fn is_prose(body: &serde_json::Value) -> bool {
    const PROSE: [&str; 8] = [
        "text",
        "id",
        "title",
        "issuer",
        "issuer_level",
        "kind",
        "source",
        "tags",
    ];
    body.as_object()
        .is_some_and(|o| o.contains_key("text") && o.keys().all(|k| PROSE.contains(&k.as_str())))
}

async fn update_policy(
    State(s): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    Json(p): Json<Policy>,
) -> Result<Response> {
    if p.id != id {
        return Err(Error::invalid_field(
            "id",
            format!("the body's id {:?} is not the path's {id:?}", p.id),
        ));
    }
    let (policy, _) = blocking(&s, move |pl| pl.put_policy(&actor, p, false)).await?;
    Ok(Reply(policy).into_response())
}

async fn get_policy(
    State(s): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Response> {
    Ok(Reply(s.platform.policy(&actor, &id)?).into_response())
}

async fn preview(
    State(s): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Response> {
    Ok(Reply(blocking(&s, move |p| p.preview(&actor, &id)).await?).into_response())
}

async fn publish(
    State(s): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Response> {
    let done = blocking(&s, move |p| p.publish(&actor, &id)).await?;
    Ok((StatusCode::ACCEPTED, Reply(done)).into_response())
}

async fn expire(
    State(s): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Response> {
    Ok(Reply(blocking(&s, move |p| p.expire(&actor, &id)).await?).into_response())
}

async fn job(State(s): State<AppState>, actor: Actor, Path(id): Path<i64>) -> Result<Response> {
    Ok(Reply(s.platform.job(&actor, id)?).into_response())
}

// --- webhooks -------------------------------------------------------------------------------

async fn create_webhook(
    State(s): State<AppState>,
    actor: Actor,
    Json(req): Json<webhooks::NewWebhook>,
) -> Result<Response> {
    let hook = s.platform.create_webhook(&actor, req).await?;
    Ok((StatusCode::CREATED, Reply(hook)).into_response())
}

async fn list_webhooks(State(s): State<AppState>, actor: Actor) -> Result<Response> {
    Ok(Reply(s.platform.list_webhooks(&actor)?).into_response())
}

async fn delete_webhook(
    State(s): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    s.platform.delete_webhook(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `limit` alone.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitQuery {
    /// At most this many (default 100).
    pub limit: Option<u32>,
}

async fn deliveries(
    State(s): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    Query(q): Query<LimitQuery>,
) -> Result<Response> {
    Ok(Reply(s.platform.deliveries(&actor, &id, q.limit.unwrap_or(100))?).into_response())
}

// --- reviews --------------------------------------------------------------------------------

async fn review_queue(
    State(s): State<AppState>,
    actor: Actor,
    Query(q): Query<reviews::QueueQuery>,
) -> Result<Response> {
    Ok(Reply(s.platform.review_queue(&actor, &q).await?).into_response())
}

async fn decide(
    State(s): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    Json(d): Json<reviews::Decision>,
) -> Result<Response> {
    Ok(Reply(s.platform.decide(&actor, id, d).await?).into_response())
}

async fn assigned(
    State(s): State<AppState>,
    actor: Actor,
    Path(advisor): Path<String>,
) -> Result<Response> {
    Ok(Reply(s.platform.assigned_to(&actor, &advisor)?).into_response())
}

async fn assign(
    State(s): State<AppState>,
    actor: Actor,
    Path((advisor, id)): Path<(String, String)>,
) -> Result<StatusCode> {
    s.platform.assign(&actor, &advisor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn unassign(
    State(s): State<AppState>,
    actor: Actor,
    Path((advisor, id)): Path<(String, String)>,
) -> Result<StatusCode> {
    s.platform.unassign(&actor, &advisor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// --- administration -------------------------------------------------------------------------

async fn issue_token(
    State(s): State<AppState>,
    actor: Actor,
    Json(req): Json<tokens::NewToken>,
) -> Result<Response> {
    let issued = s.platform.issue_token(&actor, req).await?;
    Ok((StatusCode::CREATED, Reply(issued)).into_response())
}

async fn list_tokens(State(s): State<AppState>, actor: Actor) -> Result<Response> {
    Ok(Reply(s.platform.list_tokens(&actor)?).into_response())
}

async fn revoke_token(
    State(s): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    s.platform.revoke_token(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn audit_log(
    State(s): State<AppState>,
    actor: Actor,
    Query(mut q): Query<audit::Query>,
) -> Result<Response> {
    match actor.role {
        Role::Admin => {}
        Role::Enterprise => {
            // An enterprise sees who used its data, and nothing else.
            let own = format!("enterprise:{}", actor.scope());
            if q.target.as_ref().is_some_and(|t| *t != own) {
                return Err(Error::forbidden(
                    "an enterprise reads only the audit entries about itself",
                ));
            }
            q.target = Some(own);
        }
        _ => {
            return Err(Error::forbidden(
                "the audit log is read by admins (and each enterprise about itself)",
            ));
        }
    }
    let entries = audit::list(&s.platform.db, &q)?;
    let mut entry = actor.entry(
        "audit.read",
        q.target.clone().unwrap_or_else(|| "audit".into()),
        Purpose::PlatformOversight,
    );
    entry.detail = Some(serde_json::json!({ "count": entries.len() }));
    s.platform.audit.append(vec![entry]).await?;
    Ok(Reply(entries).into_response())
}

async fn audit_verify(State(s): State<AppState>, actor: Actor) -> Result<Response> {
    actor.require(&[Role::Admin], "verify the audit log")?;
    let db = s.platform.clone();
    let v = tokio::task::spawn_blocking(move || audit::verify(&db.db))
        .await
        .map_err(Error::internal)??;
    Ok(Reply(v).into_response())
}

async fn stats(State(s): State<AppState>, actor: Actor) -> Result<Response> {
    Ok(Reply(s.platform.stats(&actor).await?).into_response())
}
