//! The HTTP API (axum): JSON under `/v1`, bearer tokens, one error shape.
//!
//! [`app`] builds the router from the route table in [`handlers`], so the OpenAPI document
//! ([`openapi`]) is generated from the same table that routes requests and cannot drift from
//! it. [`serve`] runs the server with the background work (政策找人 jobs, webhook deliveries,
//! window reminders) and shuts down gracefully: in-flight requests finish, jobs stop at their
//! next checkpoint.

pub mod auth;
pub mod extract;
pub mod handlers;
pub mod openapi;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use axum::serve::ListenerExt;
use futures_util::FutureExt;

use crate::error::{Error, ErrorCode};
use crate::platform::Platform;
use auth::RateLimiter;

/// What every handler gets.
#[derive(Debug, Clone)]
pub struct AppState {
    pub platform: Arc<Platform>,
    pub limiter: Arc<RateLimiter>,
}

impl AppState {
    pub fn new(platform: Arc<Platform>) -> AppState {
        let l = platform.config.limits;
        AppState {
            limiter: Arc::new(RateLimiter::new(l.requests_per_second, l.burst)),
            platform,
        }
    }
}

/// A JSON Schema of a request or response type, for the OpenAPI document.
pub type SchemaFn = fn(&mut schemars::SchemaGenerator) -> schemars::Schema;

/// The documentation of one route.
#[derive(Debug, Clone, Copy)]
pub struct Doc {
    pub summary: &'static str,
    pub tag: &'static str,
    /// Who may call it, in words.
    pub roles: &'static str,
    /// Request body: content type and schema.
    pub body: Option<(&'static str, SchemaFn)>,
    /// Query parameters (an object schema).
    pub query: Option<SchemaFn>,
    /// Success status and schema.
    pub response: (u16, Option<SchemaFn>),
    /// Needs no token.
    pub public: bool,
}

impl Doc {
    pub const fn new(tag: &'static str, summary: &'static str, roles: &'static str) -> Doc {
        Doc {
            summary,
            tag,
            roles,
            body: None,
            query: None,
            response: (200, None),
            public: false,
        }
    }

    pub const fn body(mut self, schema: SchemaFn) -> Doc {
        self.body = Some(("application/json", schema));
        self
    }

    pub const fn body_as(mut self, content_type: &'static str, schema: SchemaFn) -> Doc {
        self.body = Some((content_type, schema));
        self
    }

    pub const fn query(mut self, schema: SchemaFn) -> Doc {
        self.query = Some(schema);
        self
    }

    pub const fn returns(mut self, schema: SchemaFn) -> Doc {
        self.response = (200, Some(schema));
        self
    }

    pub const fn status(mut self, status: u16) -> Doc {
        self.response.0 = status;
        self
    }

    pub const fn public(mut self) -> Doc {
        self.public = true;
        self
    }
}

/// The route table: the router and the documentation of every route, built together.
#[derive(Debug, Default)]
pub struct Routes {
    router: Router<AppState>,
    pub docs: Vec<(Method, &'static str, Doc)>,
}

impl Routes {
    pub fn add(
        mut self,
        method: Method,
        path: &'static str,
        handler: MethodRouter<AppState>,
        doc: Doc,
    ) -> Routes {
        self.router = self.router.route(path, handler);
        self.docs.push((method, path, doc));
        self
    }
}

/// The whole API for a platform.
pub fn app(platform: Arc<Platform>) -> Router {
    let state = AppState::new(platform);
    let routes = handlers::routes();
    let document = Arc::new(openapi::document(&routes.docs));
    let body_limit = state.platform.config.limits.body_bytes;
    routes
        .router
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let document = document.clone();
                async move { axum::Json((*document).clone()) }
            }),
        )
        .fallback(|| async {
            Error::new(ErrorCode::NoRoute, "no such endpoint; see /openapi.json")
        })
        .method_not_allowed_fallback(|method: Method| async move {
            Error::new(
                ErrorCode::MethodNotAllowed,
                format!("{method} is not allowed here; see /openapi.json"),
            )
        })
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// Records every request's route, status and latency, and turns a panic into a 500 in the
/// usual error shape (the server keeps running).
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = match std::panic::AssertUnwindSafe(next.run(req))
        .catch_unwind()
        .await
    {
        Ok(r) => r,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Error::internal(format_args!("handler panicked on {method} {route}: {what}"))
                .into_response()
        }
    };
    state.platform.metrics.request(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// Runs the API until Ctrl-C or SIGTERM, with the background work. Returns once in-flight
/// requests have finished and the jobs have stopped at a checkpoint.
pub async fn serve(
    platform: Arc<Platform>,
    listener: tokio::net::TcpListener,
) -> std::io::Result<()> {
    let background = [
        tokio::spawn(platform.clone().job_runner()),
        tokio::spawn(platform.clone().delivery_loop()),
        tokio::spawn(platform.clone().reminder_loop()),
    ];
    let stopping = platform.clone();
    // Without TCP_NODELAY the tail of a multi-segment answer waits for the client's delayed
    // ACK (up to 40 ms on Linux): that alone put p99 of match-by-id at 40-50 ms.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!("cannot set TCP_NODELAY: {e}");
        }
    });
    let result = axum::serve(listener, app(platform.clone()))
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            tracing::info!("shutting down: finishing requests, pausing jobs at a checkpoint");
            stopping.stop();
        })
        .await;
    platform.stop();
    for task in background {
        let _ = task.await;
    }
    result
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
