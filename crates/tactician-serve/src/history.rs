//! What the server saw over time: a bounded series of samples (decisions, errors, latency,
//! memory, CPU, temperature, throttling) and the last errors, written atomically to
//! `STATE/serve-status.json` so `tactician-device status` can show them from another process.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// The file the server writes in the state folder.
pub const STATUS_FILE: &str = "serve-status.json";

/// Errors kept.
pub const MAX_ERRORS: usize = 20;

/// One sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Unix time, seconds.
    pub unix: u64,
    /// Decisions served since the previous sample.
    pub decisions: u64,
    /// Requests refused since the previous sample.
    pub errors: u64,
    /// Median decision latency over the recent window, microseconds.
    pub p50_us: Option<f64>,
    /// 99th percentile over the recent window, microseconds.
    pub p99_us: Option<f64>,
    /// Resident memory, bytes.
    pub rss_bytes: Option<u64>,
    /// CPU used since the previous sample, percent of one core.
    pub cpu_percent: Option<f64>,
    /// The `cpu-thermal` zone's temperature (else the first zone's), °C.
    pub temperature_c: Option<f64>,
    /// Whether the firmware reported the CPU slowed.
    pub throttled: Option<bool>,
}

/// A refused or failed request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorEvent {
    /// Unix time, seconds.
    pub unix: u64,
    /// The error kind.
    pub kind: String,
    /// The message the client got.
    pub message: String,
}

/// The server's status file.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ServeStatus {
    /// The model in service.
    pub model_version: Option<String>,
    /// When the server started (Unix seconds).
    pub started_unix: u64,
    /// Seconds between samples.
    pub sample_seconds: u64,
    /// The samples, oldest first.
    pub samples: VecDeque<Sample>,
    /// The last errors, oldest first.
    pub errors: VecDeque<ErrorEvent>,
}

impl ServeStatus {
    /// Adds a sample, dropping the oldest beyond `keep`.
    pub fn push(&mut self, sample: Sample, keep: usize) {
        self.samples.push_back(sample);
        while self.samples.len() > keep.max(1) {
            self.samples.pop_front();
        }
    }

    /// Adds an error, dropping the oldest beyond [`MAX_ERRORS`].
    pub fn error(&mut self, kind: &str, message: &str) {
        self.errors.push_back(ErrorEvent {
            unix: now(),
            kind: kind.to_string(),
            message: message.to_string(),
        });
        while self.errors.len() > MAX_ERRORS {
            self.errors.pop_front();
        }
    }

    /// The status file of a state folder.
    pub fn path(state: &Path) -> PathBuf {
        state.join(STATUS_FILE)
    }

    /// Reads a state folder's status file: `None` when the server never ran there.
    pub fn load(state: &Path) -> Option<ServeStatus> {
        let bytes = std::fs::read(Self::path(state)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Writes it atomically.
    pub fn save(&self, state: &Path) -> Result<(), tactician_os::Error> {
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        tactician_os::write_atomic(&Self::path(state), &bytes)
    }

    /// A few lines for a person: the latest sample, the range over the history, the errors.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "server: model {}, {} samples every {} s\n",
            self.model_version.as_deref().unwrap_or("none"),
            self.samples.len(),
            self.sample_seconds
        );
        let range = |f: Field| {
            let v: Vec<f64> = self.samples.iter().filter_map(f).collect();
            (!v.is_empty()).then(|| {
                (
                    v.iter().copied().fold(f64::INFINITY, f64::min),
                    v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    *v.last().unwrap_or(&0.0),
                )
            })
        };
        let rows: [(&str, Field, &str); 5] = [
            ("decision p50", |s| s.p50_us, "µs"),
            ("decision p99", |s| s.p99_us, "µs"),
            (
                "resident memory",
                |s| s.rss_bytes.map(|b| b as f64 / 1048576.0),
                "MiB",
            ),
            ("CPU", |s| s.cpu_percent, "%"),
            ("temperature", |s| s.temperature_c, "°C"),
        ];
        for (name, f, unit) in rows {
            if let Some((lo, hi, last)) = range(f) {
                out.push_str(&format!(
                    "  {name}: {last:.1} {unit} now, {lo:.1}–{hi:.1} over the history\n"
                ));
            }
        }
        let decisions: u64 = self.samples.iter().map(|s| s.decisions).sum();
        let errors: u64 = self.samples.iter().map(|s| s.errors).sum();
        let throttled = self
            .samples
            .iter()
            .filter(|s| s.throttled == Some(true))
            .count();
        out.push_str(&format!(
            "  {decisions} decisions, {errors} refused requests, throttled in {throttled} samples\n"
        ));
        let now = now();
        for e in &self.errors {
            out.push_str(&format!(
                "  error {} s ago: {} ({})\n",
                now.saturating_sub(e.unix),
                e.message,
                e.kind
            ));
        }
        out
    }
}

/// One figure of a sample.
type Field = fn(&Sample) -> Option<f64>;

/// Unix time, seconds.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(unix: u64, p50: f64) -> Sample {
        Sample {
            unix,
            decisions: 10,
            errors: 1,
            p50_us: Some(p50),
            p99_us: Some(p50 * 2.0),
            rss_bytes: Some(8 << 20),
            cpu_percent: Some(3.0),
            temperature_c: Some(50.0),
            throttled: Some(unix % 3 == 0),
        }
    }

    #[test]
    fn the_history_is_bounded_and_round_trips() {
        let tmp = tempfile::tempdir().unwrap();
        let mut s = ServeStatus {
            sample_seconds: 10,
            ..ServeStatus::default()
        };
        for i in 0..50 {
            s.push(sample(i, i as f64), 30);
        }
        for i in 0..30 {
            s.error("bad_json", &format!("message {i}"));
        }
        assert_eq!(s.samples.len(), 30);
        assert_eq!(s.samples[0].unix, 20);
        assert_eq!(s.errors.len(), MAX_ERRORS);
        assert_eq!(s.errors[0].message, "message 10");
        s.save(tmp.path()).unwrap();
        assert_eq!(ServeStatus::load(tmp.path()), Some(s.clone()));
        let text = s.to_text();
        assert!(
            text.contains("decision p50: 49.0 µs now, 20.0–49.0"),
            "{text}"
        );
        assert!(
            text.contains("300 decisions, 30 refused requests, throttled in 10"),
            "{text}"
        );
        assert!(text.contains("resident memory: 8.0 MiB now"), "{text}");
        assert!(text.contains(" s ago: message 29 (bad_json)"), "{text}");
        assert!(now() > 1_600_000_000, "the clock reads {}", now());
        assert_eq!(ServeStatus::load(&tmp.path().join("nothing")), None);
    }
}
