//! # huiqi-api
//!
//! The `huiqi` binary's library: the command line ([`cli`]) and the HTTP server
//! ([`server`]) over the [`platform`], which holds everything the API does: roles and
//! scopes, persistence ([`store`]), 政策找人 jobs, notifications and webhooks, advisor review,
//! statistics and the audit log. Route handlers parse, make one call into the platform and
//! shape the answer; the platform calls into `huiqi-engine` and `huiqi-index`.

pub mod cli;
pub mod clock;
pub mod config;
pub mod error;
pub mod metrics;
pub mod platform;
pub mod server;
pub mod store;
pub mod table;
