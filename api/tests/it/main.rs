//! The `huiqi` binary and the HTTP API as their users meet them. One test binary, a module
//! per feature.

mod cli;
mod http_access;
mod http_delivery;
mod http_drafting;
mod http_errors;
mod http_outreach;
mod http_stats;
mod serve;
mod support;
