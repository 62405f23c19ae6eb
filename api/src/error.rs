//! The one error type of the platform and the HTTP API, and the one table from error code to
//! HTTP status (as meilisearch's `make_error_codes!`).
//!
//! Every error body has the same shape: `{"code": "...", "message": "...", "details": {...}}`.
//! Codes for the caller's faults are 4xx and carry the precise reason; internal faults are 5xx,
//! are logged, and never leak their details.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident => ($status:ident, $code:literal),)*) => {
        /// What went wrong, as a stable machine-readable code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The code as it appears in error bodies.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            /// The HTTP status this code is answered with.
            pub fn status(self) -> StatusCode {
                match self {
                    $(ErrorCode::$variant => StatusCode::$status,)*
                }
            }
        }
    };
}

error_codes! {
    /// The body is not JSON, or not JSON of the expected shape.
    MalformedJson => (BAD_REQUEST, "malformed_json"),
    /// A field has the wrong type or an impossible value.
    InvalidField => (UNPROCESSABLE_ENTITY, "invalid_field"),
    /// A field the endpoint does not know.
    UnknownField => (UNPROCESSABLE_ENTITY, "unknown_field"),
    /// A required field is absent.
    MissingField => (UNPROCESSABLE_ENTITY, "missing_field"),
    /// An eligibility rule that does not parse or type-check.
    InvalidRule => (UNPROCESSABLE_ENTITY, "invalid_rule"),
    /// A 统一社会信用代码 that fails GB 32100.
    InvalidCreditCode => (UNPROCESSABLE_ENTITY, "invalid_credit_code"),
    /// A record that fails validation for another reason (every problem is in `details`).
    InvalidRecord => (UNPROCESSABLE_ENTITY, "invalid_record"),
    /// A query-string parameter or path segment that cannot be used.
    InvalidParameter => (BAD_REQUEST, "invalid_parameter"),
    /// The request's content type is not the one the endpoint reads.
    UnsupportedMediaType => (UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
    /// The body exceeds the endpoint's size limit.
    PayloadTooLarge => (PAYLOAD_TOO_LARGE, "payload_too_large"),
    /// No bearer token, or one the platform does not know (or has revoked).
    Unauthenticated => (UNAUTHORIZED, "unauthenticated"),
    /// The token's role or scope does not cover this action or this record.
    Forbidden => (FORBIDDEN, "forbidden"),
    /// No such record (or none the reader may know about).
    NotFound => (NOT_FOUND, "not_found"),
    /// No such endpoint.
    NoRoute => (NOT_FOUND, "no_route"),
    /// The endpoint exists but not with this method.
    MethodNotAllowed => (METHOD_NOT_ALLOWED, "method_not_allowed"),
    /// The record's state does not allow this action (e.g. publishing an expired policy).
    Conflict => (CONFLICT, "conflict"),
    /// Too many requests for this token; retry after `details.retry_after_seconds`.
    RateLimited => (TOO_MANY_REQUESTS, "rate_limited"),
    /// The server is shutting down or a dependency is not ready.
    Unavailable => (SERVICE_UNAVAILABLE, "unavailable"),
    /// A fault of the platform, not of the request.
    Internal => (INTERNAL_SERVER_ERROR, "internal"),
}

/// An error of the platform: a code, a message for people, and structured details.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    pub details: Value,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for Error {}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
            details: Value::Object(Default::default()),
        }
    }

    pub fn with_details(mut self, details: Value) -> Error {
        self.details = details;
        self
    }

    pub fn not_found(what: &str, id: &str) -> Error {
        Error::new(ErrorCode::NotFound, format!("no {what} with the id {id:?}"))
            .with_details(serde_json::json!({ "kind": what, "id": id }))
    }

    pub fn forbidden(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::Forbidden, message)
    }

    pub fn conflict(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::Conflict, message)
    }

    pub fn invalid_field(field: &str, message: impl Into<String>) -> Error {
        let message = message.into();
        Error::new(ErrorCode::InvalidField, format!("{field}: {message}"))
            .with_details(serde_json::json!({ "field": field }))
    }

    pub fn parameter(name: &str, message: impl Into<String>) -> Error {
        let message = message.into();
        Error::new(ErrorCode::InvalidParameter, format!("{name}: {message}"))
            .with_details(serde_json::json!({ "parameter": name }))
    }

    /// An internal fault. The cause is logged here; the caller sees only a generic message.
    pub fn internal(cause: impl std::fmt::Display) -> Error {
        tracing::error!(error = %cause, "internal error");
        Error::new(
            ErrorCode::Internal,
            "an internal error occurred; it has been logged",
        )
    }

    pub fn is_internal(&self) -> bool {
        self.code.status().is_server_error()
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::internal(format_args!("database: {e}"))
    }
}

/// Library errors: the user's faults keep their message (and the validation report), the
/// rest are internal.
impl From<huiqi_index::Error> for Error {
    fn from(e: huiqi_index::Error) -> Self {
        match e {
            huiqi_index::Error::Input(report) => {
                let code = record_code(&report.issues);
                let first = report
                    .issues
                    .iter()
                    .find(|i| i.severity == huiqi_index::Severity::Error)
                    .map(issue_text)
                    .unwrap_or_else(|| "the record is invalid".into());
                let problems: Vec<Value> = report
                    .issues
                    .iter()
                    .filter(|i| i.severity == huiqi_index::Severity::Error)
                    .map(issue_json)
                    .collect();
                Error::new(code, first).with_details(serde_json::json!({ "problems": problems }))
            }
            huiqi_index::Error::Invalid(message) => Error::new(ErrorCode::Conflict, message),
            other => Error::internal(other),
        }
    }
}

/// The most specific code for a set of validation problems.
fn record_code(issues: &[huiqi_index::Issue]) -> ErrorCode {
    let errors = || {
        issues
            .iter()
            .filter(|i| i.severity == huiqi_index::Severity::Error)
    };
    let on = |f: &str| errors().all(|i| i.field.as_deref() == Some(f));
    if errors().count() > 0 && on("credit_code") {
        ErrorCode::InvalidCreditCode
    } else if errors().count() > 0 && on("eligibility") {
        ErrorCode::InvalidRule
    } else {
        ErrorCode::InvalidRecord
    }
}

fn issue_text(i: &huiqi_index::Issue) -> String {
    match &i.field {
        Some(f) => format!("{f}: {}", i.message),
        None => i.message.clone(),
    }
}

/// A validation problem as it appears in `details.problems`.
pub fn issue_json(i: &huiqi_index::Issue) -> Value {
    serde_json::json!({
        "field": i.field,
        "record": i.record,
        "message": i.message,
    })
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'static str,
    message: &'a str,
    details: &'a Value,
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.code.status();
        let body = Body {
            code: self.code.as_str(),
            message: &self.message,
            details: &self.details,
        };
        let mut response = (status, axum::Json(body)).into_response();
        if self.code == ErrorCode::RateLimited
            && let Some(secs) = self
                .details
                .get("retry_after_seconds")
                .and_then(Value::as_u64)
            && let Ok(v) = axum::http::HeaderValue::from_str(&secs.to_string())
        {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, v);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_faults_of_the_caller_are_4xx() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{} twice", code.as_str());
            let server = code.status().is_server_error();
            assert_eq!(
                server,
                matches!(code, ErrorCode::Internal | ErrorCode::Unavailable),
                "{}",
                code.as_str()
            );
        }
    }
}
