//! The OpenAPI 3.1 document, generated from the route table and the types' JSON Schemas
//! (schemars), served at `/openapi.json`.

use std::collections::BTreeMap;

use axum::http::Method;
use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

use super::Doc;
use crate::error::ErrorCode;

/// Schemas of request and response types.
pub mod schema {
    use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

    /// The schema of `T` (a reference into `components.schemas`).
    pub fn of<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
        g.subschema_for::<T>()
    }

    /// Any JSON object (responses described in prose).
    pub fn any(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "object" })
    }

    pub fn enterprise(g: &mut SchemaGenerator) -> Schema {
        of::<huiqi_engine::Enterprise>(g)
    }

    pub fn product(g: &mut SchemaGenerator) -> Schema {
        of::<huiqi_engine::Product>(g)
    }

    pub fn policy(g: &mut SchemaGenerator) -> Schema {
        of::<huiqi_engine::Policy>(g)
    }

    /// A whole policy, or only its prose (and what the prose does not say).
    pub fn policy_or_prose(g: &mut SchemaGenerator) -> Schema {
        let policy = of::<huiqi_engine::Policy>(g);
        let prose = of::<crate::platform::drafting::PolicyProse>(g);
        json_schema!({ "oneOf": [policy, prose] })
    }

    pub fn match_request(g: &mut SchemaGenerator) -> Schema {
        of::<crate::platform::matching::MatchRequest>(g)
    }

    /// The match answer: lists of offers with score breakdowns and explanations.
    pub fn match_response(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "description": "eligible, needs_info and near_misses: offers (offer, outcome, score breakdown, failed clauses, missing facts, explanation with every clause); ask_next: facts ranked by how many offers they settle; totals; evaluated",
            "required": ["enterprise", "as_of", "eligible", "needs_info", "near_misses", "ask_next", "totals", "evaluated"],
            "properties": {
                "enterprise": { "type": "string" },
                "as_of": { "type": "string", "format": "date" },
                "eligible": { "type": "array", "items": { "type": "object" } },
                "needs_info": { "type": "array", "items": { "type": "object" } },
                "near_misses": { "type": "array", "items": { "type": "object" } },
                "ask_next": { "type": "array", "items": { "type": "object" } },
                "totals": { "type": "object" },
                "evaluated": { "type": "integer" },
                "awaiting_review": { "type": "integer" }
            }
        })
    }
}

/// Path parameters of an axum path: `/v1/x/{id}` → `["id"]`.
fn path_params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .collect()
}

/// Query parameters from an object schema's properties.
fn query_params(schema: &Value, components: &BTreeMap<String, Value>) -> Vec<Value> {
    let resolved = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.rsplit('/').next())
        .and_then(|name| components.get(name))
        .unwrap_or(schema);
    let required: Vec<&str> = resolved
        .get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    resolved
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .map(|(name, s)| {
                    json!({
                        "name": name,
                        "in": "query",
                        "required": required.contains(&name.as_str()),
                        "description": s.get("description").cloned().unwrap_or(Value::Null),
                        "schema": s,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The whole document.
pub fn document(routes: &[(Method, &'static str, Doc)]) -> Value {
    let mut settings = SchemaSettings::openapi3();
    settings.definitions_path = "/components/schemas".into();
    let mut generator = settings.into_generator();
    let mut paths: BTreeMap<&str, serde_json::Map<String, Value>> = BTreeMap::new();
    let mut queries = Vec::new();
    for (method, path, doc) in routes {
        let mut op = serde_json::Map::new();
        op.insert("summary".into(), doc.summary.into());
        op.insert(
            "description".into(),
            format!("Who may call it: {}.", doc.roles).into(),
        );
        op.insert("tags".into(), json!([doc.tag]));
        op.insert(
            "operationId".into(),
            format!(
                "{}_{}",
                method.as_str().to_lowercase(),
                path.trim_start_matches('/')
                    .replace(['/', '{', '}'], "_")
                    .trim_end_matches('_')
            )
            .into(),
        );
        let mut params: Vec<Value> = path_params(path)
            .into_iter()
            .map(|p| json!({ "name": p, "in": "path", "required": true, "schema": { "type": "string" } }))
            .collect();
        if doc.public {
            op.insert("security".into(), json!([]));
        } else {
            params.push(json!({
                "name": "X-Purpose", "in": "header", "required": false,
                "description": "Why the data is used: financing_match, advisory_review, policy_outreach, profile_maintenance, credit_assessment or platform_oversight (each role may declare some); recorded in the audit log",
                "schema": { "type": "string" },
            }));
        }
        if let Some(q) = doc.query {
            queries.push((op.len(), *path, method.clone(), q(&mut generator)));
        }
        op.insert("parameters".into(), Value::Array(params));
        if let Some((content_type, body)) = doc.body {
            op.insert(
                "requestBody".into(),
                json!({ "required": true, "content": { content_type: { "schema": body(&mut generator) } } }),
            );
        }
        let (status, response) = doc.response;
        let mut responses = serde_json::Map::new();
        let ok = match response {
            Some(s) => {
                json!({ "description": "success", "content": { "application/json": { "schema": s(&mut generator) } } })
            }
            None => json!({ "description": "success" }),
        };
        responses.insert(status.to_string(), ok);
        let mut statuses: Vec<u16> = ErrorCode::ALL
            .iter()
            .map(|c| c.status().as_u16())
            .filter(|s| !doc.public || *s >= 500)
            .collect();
        statuses.sort();
        statuses.dedup();
        for s in statuses {
            let codes: Vec<&str> = ErrorCode::ALL
                .iter()
                .filter(|c| c.status().as_u16() == s)
                .map(|c| c.as_str())
                .collect();
            responses.insert(
                s.to_string(),
                json!({
                    "description": format!("error: {}", codes.join(", ")),
                    "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } },
                }),
            );
        }
        op.insert("responses".into(), Value::Object(responses));
        paths
            .entry(path)
            .or_default()
            .insert(method.as_str().to_lowercase(), Value::Object(op));
    }
    let mut components: BTreeMap<String, Value> =
        generator.take_definitions(true).into_iter().collect();
    // Query parameters are listed one by one, from their object schemas.
    for (_, path, method, q) in queries {
        let params = query_params(&serde_json::to_value(&q).unwrap_or_default(), &components);
        if let Some(Value::Object(op)) = paths
            .get_mut(path)
            .and_then(|p| p.get_mut(&method.as_str().to_lowercase()))
            && let Some(Value::Array(list)) = op.get_mut("parameters")
        {
            list.extend(params);
        }
    }
    let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    components.insert(
        "Error".into(),
        json!({
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": { "type": "string", "enum": codes },
                "message": { "type": "string", "description": "What was wrong, and where." },
                "details": { "type": "object", "description": "Structured context: the field, line and column, every validation problem." }
            }
        }),
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "huiqi (惠企) API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Matches SMEs with the loans and support policies they qualify for, and notifies each newly published policy to exactly the enterprises it can help (政策找人). Every error is {code, message, details}.",
        },
        "servers": [{ "url": "/" }],
        "security": [{ "bearer": [] }],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer", "description": "A token from the demo-tokens file or POST /v1/tokens" } },
        },
    })
}
