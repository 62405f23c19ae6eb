//! Counters and latency histograms, rendered in the Prometheus text format at `/metrics`.
//!
//! Hand-rolled on atomics: a handful of series does not need a metrics framework.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A monotonically increasing count.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn inc(&self) {
        self.add(1);
    }

    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Upper bounds of the latency buckets, seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Every series the server exports.
#[derive(Debug, Default)]
pub struct Metrics {
    /// (route, method, status) → requests.
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    /// route → latency.
    latency: Mutex<BTreeMap<String, Histogram>>,
    pub matches: Counter,
    pub notifications: Counter,
    pub notifications_read: Counter,
    webhook: [Counter; 3],
}

impl Metrics {
    /// Records one HTTP request.
    pub fn request(&self, route: &str, method: &str, status: u16, took: Duration) {
        *self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((route.to_string(), method.to_string(), status))
            .or_default() += 1;
        let secs = took.as_secs_f64();
        let mut latency = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        let h = latency.entry(route.to_string()).or_default();
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                h.buckets[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    /// Records a webhook attempt that left its delivery `delivered`, `pending` (to retry)
    /// or `failed`.
    pub fn webhook_attempts(&self, state: &str) {
        let i = match state {
            "delivered" => 0,
            "pending" => 1,
            _ => 2,
        };
        self.webhook[i].inc();
    }

    /// The Prometheus text exposition, with the gauges given by the caller.
    pub fn render(&self, gauges: &[(&str, &str, f64)]) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP huiqi_http_requests_total HTTP requests by route, method and status.\n# TYPE huiqi_http_requests_total counter"
        );
        for ((route, method, status), n) in self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "huiqi_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        let _ = writeln!(
            out,
            "# HELP huiqi_http_request_duration_seconds Time to answer, by route.\n# TYPE huiqi_http_request_duration_seconds histogram"
        );
        for (route, h) in self
            .latency
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let route = escape(route);
            for (le, n) in BUCKETS.iter().zip(h.buckets) {
                let _ = writeln!(
                    out,
                    "huiqi_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "huiqi_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\nhuiqi_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\nhuiqi_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count, h.sum, h.count
            );
        }
        let counters = [
            (
                "huiqi_matches_total",
                "Forward matches computed.",
                self.matches.get(),
            ),
            (
                "huiqi_notifications_created_total",
                "Notifications created.",
                self.notifications.get(),
            ),
            (
                "huiqi_notifications_read_total",
                "Notifications marked read.",
                self.notifications_read.get(),
            ),
        ];
        for (name, help, v) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP huiqi_webhook_attempts_total Webhook delivery attempts by the state they left the delivery in.\n# TYPE huiqi_webhook_attempts_total counter"
        );
        for (state, c) in ["delivered", "retrying", "failed"]
            .iter()
            .zip(&self.webhook)
        {
            let _ = writeln!(
                out,
                "huiqi_webhook_attempts_total{{result=\"{state}\"}} {}",
                c.get()
            );
        }
        for (name, help, v) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_cumulative_buckets_and_counts() {
        let m = Metrics::default();
        m.request("/v1/match", "POST", 200, Duration::from_micros(800));
        m.request("/v1/match", "POST", 200, Duration::from_millis(30));
        m.request("/v1/match", "POST", 422, Duration::from_micros(100));
        m.matches.add(2);
        let text = m.render(&[("huiqi_enterprises", "Enterprises stored.", 340.0)]);
        assert!(text.contains(
            "huiqi_http_requests_total{route=\"/v1/match\",method=\"POST\",status=\"200\"} 2"
        ));
        assert!(text.contains(
            "huiqi_http_request_duration_seconds_bucket{route=\"/v1/match\",le=\"0.001\"} 2"
        ));
        assert!(text.contains(
            "huiqi_http_request_duration_seconds_bucket{route=\"/v1/match\",le=\"0.05\"} 3"
        ));
        assert!(text.contains("huiqi_http_request_duration_seconds_count{route=\"/v1/match\"} 3"));
        assert!(text.contains("huiqi_matches_total 2"));
        assert!(text.contains("huiqi_enterprises 340"));
    }
}
