//! # huiqi-api
//!
//! The `huiqi` binary's library: the command line ([`cli`]) and, later, the HTTP server. It
//! parses what the user gives, makes one call into `huiqi-engine` / `huiqi-index`, and shapes
//! the answer for a terminal or as JSON.

pub mod cli;
pub mod table;
