//! Request extractors whose rejections are the platform's errors: every malformed body,
//! query or path answers `{code, message, details}` with the precise reason and place.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::{Error, ErrorCode};

/// A JSON body, parsed with the path of any offending field.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        let JsonBody(bytes) = JsonBody::from_request(req, state).await?;
        parse(&bytes).map(Json)
    }
}

/// A JSON body not yet parsed, for handlers that accept more than one shape: parse it with
/// [`parse`] once the shape is known, so errors still name the line and column.
#[derive(Debug, Clone, Default)]
pub struct JsonBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        let json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                let v = v.trim();
                v.eq_ignore_ascii_case("application/json") || v.ends_with("+json")
            });
        if !json {
            return Err(Error::new(
                ErrorCode::UnsupportedMediaType,
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|rejection| body_error(&rejection.body_text(), rejection.status()))?;
        Ok(JsonBody(bytes))
    }
}

/// Maps a body rejection (too large, or unreadable) to the platform's error.
pub fn body_error(text: &str, status: axum::http::StatusCode) -> Error {
    if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        Error::new(
            ErrorCode::PayloadTooLarge,
            "the body exceeds this endpoint's size limit",
        )
    } else {
        Error::new(
            ErrorCode::MalformedJson,
            format!("the body could not be read: {text}"),
        )
    }
}

/// Parses JSON; errors name the field path, line and column.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let code = classify(&inner);
        let message = if path == "." || code == ErrorCode::MalformedJson {
            inner.to_string()
        } else {
            format!("{path}: {inner}")
        };
        let mut details = serde_json::json!({ "line": inner.line(), "column": inner.column() });
        if path != "." {
            details["field"] = path.into();
        }
        Error::new(code, message).with_details(details)
    })?;
    de.end().map_err(|e| {
        Error::new(
            ErrorCode::MalformedJson,
            format!("{e}: only one JSON value may be sent"),
        )
        .with_details(serde_json::json!({ "line": e.line(), "column": e.column() }))
    })?;
    Ok(value)
}

/// The error code for a serde_json error.
pub fn classify(e: &serde_json::Error) -> ErrorCode {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => ErrorCode::MalformedJson,
        Category::Data => {
            let m = e.to_string();
            if m.starts_with("unknown field") {
                ErrorCode::UnknownField
            } else if m.starts_with("missing field") {
                ErrorCode::MissingField
            } else {
                ErrorCode::InvalidField
            }
        }
    }
}

/// Query-string parameters.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| Query(q.0))
            .map_err(|r| {
                let text = r.body_text();
                let reason = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text);
                Error::new(
                    ErrorCode::InvalidParameter,
                    format!("query string: {reason}"),
                )
            })
    }
}

/// Path segments.
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|r| Error::new(ErrorCode::InvalidParameter, r.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Need {
        amount: i64,
        inner: Option<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        term: u32,
    }

    #[test]
    fn json_errors_name_the_field_and_the_kind_of_fault() {
        let e = parse::<Need>(br#"{"amount": "many"}"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidField);
        assert!(
            e.message.starts_with("amount: invalid type"),
            "{}",
            e.message
        );
        assert_eq!(e.details["field"], "amount");

        let e = parse::<Need>(br#"{"amount": 1, "inner": {"term": 3, "colour": 1}}"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::UnknownField);
        assert!(e.message.contains("colour"), "{}", e.message);

        let e = parse::<Need>(br#"{"inner": null}"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::MissingField);

        let e = parse::<Need>(b"{\"amount\": 1,\n ").unwrap_err();
        assert_eq!(e.code, ErrorCode::MalformedJson);
        assert_eq!(e.details["line"], 2);

        let e = parse::<Need>(br#"{"amount": 1} {"amount": 2}"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::MalformedJson);
        assert!(e.message.contains("only one JSON value"), "{}", e.message);

        let e = parse::<Need>(br#"{"amount": 1, "inner": {"term": -1}}"#).unwrap_err();
        assert_eq!(e.details["field"], "inner.term");
    }
}

/// A JSON answer, serialised in one go into a buffer sized for the platform's typical answers
/// (a match with explanations is ~20 KB; axum's `Json` starts at 128 bytes and regrows).
#[derive(Debug, Clone, Copy, Default)]
pub struct Reply<T>(pub T);

impl<T: serde::Serialize> axum::response::IntoResponse for Reply<T> {
    fn into_response(self) -> axum::response::Response {
        let mut body = Vec::with_capacity(16 * 1024);
        match serde_json::to_writer(&mut body, &self.0) {
            Ok(()) => (
                [(
                    CONTENT_TYPE,
                    axum::http::HeaderValue::from_static("application/json"),
                )],
                body,
            )
                .into_response(),
            Err(e) => Error::internal(format_args!("serialising the answer: {e}")).into_response(),
        }
    }
}
