//! Server settings in layers (as ripgrep and meilisearch): a command-line flag wins over a
//! `HUIQI_*` environment variable (clap reads both), which wins over the config file (TOML),
//! which wins over the default. [`Config::load`] merges and validates once; the rest of the
//! server reads one [`Config`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use huiqi_engine::matching::MatchOptions;
use serde::{Deserialize, Serialize};

/// Everything `huiqi serve` can be told.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Data directory: the SQLite database, the index snapshots, the demo tokens.
    pub data: PathBuf,
    /// Input folder the first index snapshot and the first enterprises are built from.
    pub fixtures: PathBuf,
    /// Embedder for a first build: `auto`, `lexical`, `e5` or `fastembed:<folder>`.
    pub embedder: String,
    /// Whether an advisor must approve a recommendation before the enterprise sees it
    /// (系统智能匹配+人工复核推荐).
    pub review_required: bool,
    /// Remind enterprises of a fitting policy whose window closes within this many days.
    pub reminder_days: i64,
    /// A fixed "today" (for demonstrations and tests); the real date in China when absent.
    pub today: Option<NaiveDate>,
    pub limits: Limits,
    pub webhooks: WebhookSettings,
    pub jobs: JobSettings,
    /// Score weights and market assumptions of forward matching.
    pub matching: MatchOptions,
}

/// Request limits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest JSON body, bytes.
    pub body_bytes: usize,
    /// Largest bulk upload (JSON Lines, streamed), bytes.
    pub bulk_bytes: usize,
    /// Sustained requests per second allowed per token.
    pub requests_per_second: f64,
    /// Requests a token may make at once above the sustained rate.
    pub burst: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_bytes: 1 << 20,
            bulk_bytes: 256 << 20,
            requests_per_second: 50.0,
            burst: 100,
        }
    }
}

/// Webhook delivery.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// Attempts before a delivery is given up (and logged as failed).
    pub max_attempts: u32,
    /// Wait before the first retry, milliseconds; doubled for each further retry.
    pub first_retry_ms: u64,
    /// Longest wait between retries, milliseconds.
    pub max_retry_ms: u64,
    /// Time allowed for one attempt, milliseconds.
    pub timeout_ms: u64,
    /// Allow targets on loopback and private networks (off: the platform must not be a way
    /// into internal services).
    pub allow_private_targets: bool,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            max_attempts: 8,
            first_retry_ms: 1_000,
            max_retry_ms: 600_000,
            timeout_ms: 5_000,
            allow_private_targets: false,
        }
    }
}

/// Background jobs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobSettings {
    /// Enterprises notified per committed step of a 政策找人 job (its checkpoint).
    pub batch: usize,
    /// How often window reminders are looked for, seconds.
    pub reminder_interval_secs: u64,
}

impl Default for JobSettings {
    fn default() -> Self {
        JobSettings {
            batch: 500,
            reminder_interval_secs: 3_600,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data: PathBuf::from("data"),
            fixtures: PathBuf::from("fixtures"),
            embedder: "auto".into(),
            review_required: false,
            reminder_days: 7,
            today: None,
            limits: Limits::default(),
            webhooks: WebhookSettings::default(),
            jobs: JobSettings::default(),
            matching: MatchOptions::default(),
        }
    }
}

/// What the command line and the environment set; `None` leaves the file's value or the
/// default.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "HUIQI_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Data directory [default: data].
    #[arg(long, env = "HUIQI_DATA")]
    pub data: Option<PathBuf>,
    /// Input folder for the first start [default: fixtures].
    #[arg(long, env = "HUIQI_FIXTURES")]
    pub fixtures: Option<PathBuf>,
    /// Config file (TOML); every setting of `Config` can be given there.
    #[arg(long, env = "HUIQI_CONFIG")]
    pub config: Option<PathBuf>,
    /// Embedder for the first index build: auto, lexical, e5 or fastembed:<folder>.
    #[arg(long, env = "HUIQI_EMBEDDER")]
    pub embedder: Option<String>,
    /// Require an advisor's approval before recommendations reach enterprises.
    #[arg(long, env = "HUIQI_REVIEW_REQUIRED")]
    pub review_required: Option<bool>,
    /// Days before a window closes to remind enterprises [default: 7].
    #[arg(long, env = "HUIQI_REMINDER_DAYS")]
    pub reminder_days: Option<i64>,
    /// Fix "today" (YYYY-MM-DD) for demonstrations.
    #[arg(long, env = "HUIQI_TODAY")]
    pub today: Option<NaiveDate>,
}

impl Config {
    /// Merges flags and environment over the config file over the defaults, and validates.
    /// Errors name the file, line and setting.
    pub fn load(args: &ServeArgs) -> Result<Config, String> {
        let mut config = match &args.config {
            Some(path) => Config::from_file(path)?,
            None => Config::default(),
        };
        let ServeArgs {
            listen,
            data,
            fixtures,
            config: _,
            embedder,
            review_required,
            reminder_days,
            today,
        } = args.clone();
        if let Some(v) = listen {
            config.listen = v;
        }
        if let Some(v) = data {
            config.data = v;
        }
        if let Some(v) = fixtures {
            config.fixtures = v;
        }
        if let Some(v) = embedder {
            config.embedder = v;
        }
        if let Some(v) = review_required {
            config.review_required = v;
        }
        if let Some(v) = reminder_days {
            config.reminder_days = v;
        }
        if today.is_some() {
            config.today = today;
        }
        config.validate()?;
        Ok(config)
    }

    /// Reads a TOML config file.
    pub fn from_file(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read the config file: {e}", path.display()))?;
        Config::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses TOML; errors carry the line and the setting.
    pub fn from_toml(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|span| {
                    let line = text[..span.start].matches('\n').count() + 1;
                    format!("line {line}: ")
                })
                .unwrap_or_default();
            format!("{at}{}", e.message())
        })
    }

    /// Checks values that parse but cannot work.
    pub fn validate(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        if huiqi_index::embed::parse_choice(&self.embedder).is_err() {
            problems.push(format!(
                "embedder: {:?} is not auto, lexical, e5 or fastembed:<folder>",
                self.embedder
            ));
        }
        if self.reminder_days < 0 {
            problems.push(format!("reminder_days: {} is negative", self.reminder_days));
        }
        let l = &self.limits;
        if l.body_bytes == 0 || l.bulk_bytes == 0 {
            problems.push("limits: body_bytes and bulk_bytes must be above 0".into());
        }
        if !(l.requests_per_second.is_finite() && l.requests_per_second > 0.0) || l.burst == 0 {
            problems.push("limits: requests_per_second and burst must be above 0".into());
        }
        let w = &self.webhooks;
        if w.max_attempts == 0 || w.timeout_ms == 0 || w.first_retry_ms > w.max_retry_ms {
            problems.push(
                "webhooks: max_attempts and timeout_ms must be above 0, first_retry_ms at most max_retry_ms"
                    .into(),
            );
        }
        if self.jobs.batch == 0 || self.jobs.reminder_interval_secs == 0 {
            problems.push("jobs: batch and reminder_interval_secs must be above 0".into());
        }
        let weights = &self.matching.weights;
        let parts = [
            ("need_fit", weights.need_fit),
            ("text", weights.text),
            ("semantic", weights.semantic),
            ("attractiveness", weights.attractiveness),
            ("time", weights.time),
        ];
        for (name, w) in parts {
            if !(w.is_finite() && w >= 0.0) {
                problems.push(format!(
                    "matching.weights.{name}: {w} is not a non-negative number"
                ));
            }
        }
        if parts.iter().all(|(_, w)| *w == 0.0) {
            problems.push("matching.weights: at least one weight must be above 0".into());
        }
        if self.matching.limit == 0 {
            problems.push("matching.limit must be above 0".into());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_environment_win_over_the_file_which_wins_over_defaults() {
        let dir = std::env::temp_dir().join(format!("huiqi-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("huiqi.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\nreview_required = true\n[matching.weights]\nneed_fit = 0.5\n",
        )
        .unwrap();
        let args = ServeArgs {
            config: Some(file.clone()),
            listen: Some("127.0.0.1:9100".parse().unwrap()),
            ..ServeArgs::default()
        };
        let c = Config::load(&args).unwrap();
        assert_eq!(c.listen.port(), 9100, "the flag wins");
        assert!(c.review_required, "the file sets what flags leave alone");
        assert_eq!(c.matching.weights.need_fit, 0.5);
        assert_eq!(c.matching.weights.text, 0.15, "defaults fill the rest");
        assert_eq!(c.reminder_days, 7);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bad_settings_are_named_with_their_line() {
        let e = Config::from_toml("reminder_days = 3\nreview_requird = true\n").unwrap_err();
        assert!(e.starts_with("line 2:"), "{e}");
        assert!(e.contains("review_requird"), "{e}");
        let e = Config::from_toml("[matching.weights]\nneed_fit = \"high\"\n").unwrap_err();
        assert!(e.starts_with("line 2:"), "{e}");
        let mut c = Config::default();
        c.matching.weights.text = -1.0;
        c.limits.burst = 0;
        let e = c.validate().unwrap_err();
        assert!(e.contains("matching.weights.text"), "{e}");
        assert!(e.contains("burst"), "{e}");
    }
}
