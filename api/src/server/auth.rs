//! Authentication of each request (bearer token → [`Actor`]), its declared purpose, and the
//! per-token rate limit.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::AppState;
use crate::error::{Error, ErrorCode};
use crate::platform::Actor;
use crate::store::audit::Purpose;

/// A token bucket per token: `burst` requests at once, refilled at `rate` per second.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(rate: f64, burst: u32) -> RateLimiter {
        RateLimiter {
            rate,
            burst: f64::from(burst),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `key`'s bucket; `Err(seconds)` until one is available.
    pub fn take(&self, key: &str, now: Instant) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, last) = buckets.entry(key.to_string()).or_insert((self.burst, now));
        let refill = now.saturating_duration_since(*last).as_secs_f64() * self.rate;
        *tokens = (*tokens + refill).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / self.rate).ceil().max(1.0) as u64)
        }
    }
}

impl FromRequestParts<AppState> for Actor {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Actor, Error> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::Unauthenticated,
                    "send a token: Authorization: Bearer <token>",
                )
            })?
            .to_str()
            .map_err(|_| {
                Error::new(
                    ErrorCode::Unauthenticated,
                    "the Authorization header is not text",
                )
            })?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::Unauthenticated,
                    "the Authorization header must be `Bearer <token>`",
                )
            })?;
        let mut actor = state
            .platform
            .authenticate(token)
            .ok_or_else(|| Error::new(ErrorCode::Unauthenticated, "unknown or revoked token"))?;
        if let Err(wait) = state.limiter.take(&actor.token_id, Instant::now()) {
            return Err(Error::new(
                ErrorCode::RateLimited,
                format!("too many requests for this token; retry in {wait} s"),
            )
            .with_details(serde_json::json!({ "retry_after_seconds": wait })));
        }
        if let Some(value) = parts.headers.get("x-purpose") {
            let allowed: Vec<&str> = actor
                .allowed_purposes()
                .iter()
                .map(|p| p.as_str())
                .collect();
            let text = value.to_str().unwrap_or_default();
            let purpose = Purpose::parse(text).ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidParameter,
                    format!(
                        "X-Purpose: {text:?} is not a purpose; this token may declare {}",
                        allowed.join(", ")
                    ),
                )
                .with_details(serde_json::json!({ "header": "X-Purpose", "allowed": allowed }))
            })?;
            if !actor.allowed_purposes().contains(&purpose) {
                return Err(Error::forbidden(format!(
                    "X-Purpose: this {} token may not use data for {}; it may declare {}",
                    crate::platform::access::role_name(actor.role),
                    purpose.as_str(),
                    allowed.join(", ")
                )));
            }
            actor.purpose = Some(purpose);
        }
        Ok(actor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bursts_then_refills_at_the_rate() {
        let l = RateLimiter::new(10.0, 3);
        let t0 = Instant::now();
        assert!(l.take("a", t0).is_ok());
        assert!(l.take("a", t0).is_ok());
        assert!(l.take("a", t0).is_ok());
        assert_eq!(l.take("a", t0), Err(1));
        assert!(l.take("b", t0).is_ok(), "buckets are per token");
        assert!(l.take("a", t0 + Duration::from_millis(150)).is_ok());
        assert!(l.take("a", t0 + Duration::from_millis(150)).is_err());
    }
}
