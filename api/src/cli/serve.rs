//! `huiqi serve`: the HTTP API on the embedded default (SQLite and the index snapshot under
//! the data directory, built from the fixtures on first start).

use std::io::Write;
use std::sync::Arc;

use crate::clock::SystemClock;
use crate::config::{Config, ServeArgs};
use crate::platform::Platform;

use super::{CliError, CliResult};

pub(super) fn run(args: &ServeArgs, out: &mut dyn Write) -> CliResult {
    let config = Config::load(args).map_err(CliError::Input)?;
    init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Internal(e.into()))?;
    runtime.block_on(async move {
        let clock = Arc::new(SystemClock {
            today: config.today,
        });
        let listen = config.listen;
        let (platform, boot) = tokio::task::spawn_blocking(move || Platform::open(config, clock))
            .await
            .map_err(|e| CliError::Internal(e.into()))?
            .map_err(|e| CliError::Internal(anyhow::anyhow!("{e}")))?;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| CliError::Input(format!("cannot listen on {listen}: {e}")))?;
        let platform = Arc::new(platform);
        for w in &boot.warnings {
            tracing::warn!("{w}");
        }
        if boot.built_index {
            writeln!(
                out,
                "built the index snapshot from {}",
                platform.config.fixtures.display()
            )?;
        }
        if boot.seeded_enterprises > 0 {
            writeln!(
                out,
                "stored {} enterprises from the fixtures",
                boot.seeded_enterprises
            )?;
        }
        if !boot.demo_tokens.is_empty() {
            writeln!(
                out,
                "demo tokens (also in {}):",
                boot.demo_tokens_file
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            )?;
            for t in &boot.demo_tokens {
                writeln!(
                    out,
                    "  {:<14} {:<12} {}",
                    t.role,
                    t.scope.as_deref().unwrap_or("-"),
                    t.token
                )?;
            }
        }
        writeln!(
            out,
            "huiqi listening on http://{} (data in {}, review {}; Ctrl-C to stop)",
            listener.local_addr()?,
            platform.data_dir().display(),
            if platform.config.review_required {
                "required"
            } else {
                "not required"
            }
        )?;
        out.flush()?;
        crate::server::serve(platform, listener)
            .await
            .map_err(|e| CliError::Internal(e.into()))
    })
}

/// Logs to stderr; `RUST_LOG` chooses the level (info by default).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
