//! "Now", injectable: the server reads the time only through a [`Clock`], so tests and
//! demonstrations can fix it.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

/// Where the platform gets the time and the date.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant, for timestamps.
    fn now(&self) -> DateTime<Utc>;

    /// Today in China (UTC+8), for eligibility and application windows.
    fn today(&self) -> NaiveDate {
        let china = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
        self.now().with_timezone(&china).date_naive()
    }
}

/// The system clock, optionally with a fixed date for eligibility (`--today`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock {
    pub today: Option<NaiveDate>,
}

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn today(&self) -> NaiveDate {
        self.today.unwrap_or_else(|| {
            let china = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
            Utc::now().with_timezone(&china).date_naive()
        })
    }
}
