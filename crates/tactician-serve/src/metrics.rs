//! The server's metrics, in the Prometheus text format through `prometheus-client`: decisions
//! and requests, the model in service and its switches, battles, and the machine (process
//! memory and CPU, thermal zones, the firmware's throttling flags) read at scrape time.

use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use crate::sysfs::{CONDITIONS, Sysfs};

/// Labels of a request counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// `act`, `act_batch`, `battle_result`, `healthz`, `metrics`, `logs`, `log_file`, `other`.
    pub endpoint: &'static str,
    /// The HTTP status code.
    pub code: u16,
}

/// Labels of an error counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    /// What went wrong: `bad_json`, `bad_features`, `no_legal_action`, `bad_state`,
    /// `no_model`, `too_large`, `model`.
    pub kind: &'static str,
}

/// Labels of a decision latency sample.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LatencyLabels {
    /// Whether the firmware reported the CPU slowed (capped, throttled or at its soft
    /// temperature limit) when the sample was taken: such samples are counted apart.
    pub throttled: bool,
}

/// Labels naming a model version.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VersionLabels {
    /// The model version.
    pub version: String,
}

/// Labels of the model-in-service info metric.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ModelLabels {
    /// The model version.
    pub version: String,
    /// Its encoder.
    pub encoder: String,
}

/// Labels of a battle result.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BattleLabels {
    /// The model version that played.
    pub version: String,
    /// `win`, `loss` or `draw`.
    pub result: String,
}

/// Labels of an agreement count.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AgreementLabels {
    /// The model version.
    pub version: String,
    /// `true` when the game's reference agreed with the served decision.
    pub agreed: String,
}

/// Labels of a model switch.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SwitchLabels {
    /// `activation` (a newer version) or `rollback` (an older one).
    pub kind: String,
}

/// Labels of a thermal zone.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ZoneLabels {
    /// The zone's number.
    pub zone: String,
    /// Its type (`cpu-thermal`).
    pub r#type: String,
}

/// Labels of a throttling flag.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ThrottleLabels {
    /// `under_voltage`, `frequency_capped`, `throttled`, `soft_temperature_limit`.
    pub condition: String,
    /// `now` or `since_boot`.
    pub when: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

fn latency_histogram() -> Histogram {
    // 1 µs to ~33 ms.
    Histogram::new(exponential_buckets(1e-6, 2.0, 16))
}

/// Every metric the server exports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Decision latency (the model's work, features in, probabilities out), seconds.
    pub decision_seconds: Family<LatencyLabels, Histogram>,
    /// Whole-request latency inside the server, seconds.
    pub request_seconds: Family<RequestLabels, Histogram>,
    /// Requests by endpoint and status.
    pub requests: Family<RequestLabels, Counter>,
    /// Errors by kind.
    pub errors: Family<ErrorLabels, Counter>,
    /// Decisions answered from the decision cache.
    pub cache_hits: Counter,
    /// Decisions computed by the model.
    pub cache_misses: Counter,
    /// The model in service (value 1).
    pub model_info: Family<ModelLabels, Gauge>,
    /// Model switches seen by the server.
    pub switches: Family<SwitchLabels, Counter>,
    /// Models that failed to load (the previous one stays in service).
    pub load_errors: Counter,
    /// Battles reported, by model version and result.
    pub battles: Family<BattleLabels, Counter>,
    /// Decisions whose agreement with the game's reference a result reported.
    pub agreement: Family<AgreementLabels, Counter>,
    /// 1 when recent decision latency exceeds the latency measured at activation by the
    /// configured factor.
    pub degraded: Gauge,
    /// Median decision latency over the recent window, seconds.
    pub recent_p50: FloatGauge,
    /// Median decision latency measured when the model was validated, seconds.
    pub baseline_p50: FloatGauge,
    resident: Gauge,
    cpu: Counter<f64, AtomicU64>,
    cpu_seen: Mutex<f64>,
    zones: Family<ZoneLabels, FloatGauge>,
    throttle: Family<ThrottleLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let decision_seconds = Family::<LatencyLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        registry.register_with_unit(
            "tactician_decision_duration",
            "Decision latency: the model's work for one decision or one batch",
            Unit::Seconds,
            decision_seconds.clone(),
        );
        let request_seconds = Family::<RequestLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        registry.register_with_unit(
            "tactician_request_duration",
            "Request latency inside the server, from the parsed request to the response",
            Unit::Seconds,
            request_seconds.clone(),
        );
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "tactician_requests",
            "Requests by endpoint and HTTP status",
            requests.clone(),
        );
        let errors = Family::<ErrorLabels, Counter>::default();
        registry.register(
            "tactician_request_errors",
            "Refused requests by kind",
            errors.clone(),
        );
        let cache_hits = Counter::default();
        registry.register(
            "tactician_decision_cache_hits",
            "Decisions answered from the decision cache",
            cache_hits.clone(),
        );
        let cache_misses = Counter::default();
        registry.register(
            "tactician_decision_cache_misses",
            "Decisions computed by the model",
            cache_misses.clone(),
        );
        let model_info = Family::<ModelLabels, Gauge>::default();
        registry.register(
            "tactician_model_info",
            "The model in service (value 1), by version and encoder",
            model_info.clone(),
        );
        let switches = Family::<SwitchLabels, Counter>::default();
        registry.register(
            "tactician_model_switches",
            "Models put in service after the agent activated a newer version or rolled back",
            switches.clone(),
        );
        let load_errors = Counter::default();
        registry.register(
            "tactician_model_load_errors",
            "Models that failed to load; the previous one stayed in service",
            load_errors.clone(),
        );
        let battles = Family::<BattleLabels, Counter>::default();
        registry.register(
            "tactician_battles",
            "Battles reported by the game, by model version and result",
            battles.clone(),
        );
        let agreement = Family::<AgreementLabels, Counter>::default();
        registry.register(
            "tactician_decision_agreement",
            "Decisions whose agreement with the game's reference a battle result reported",
            agreement.clone(),
        );
        let degraded = Gauge::default();
        registry.register(
            "tactician_latency_degraded",
            "1 when recent decision latency exceeds the latency measured at activation by the \
             configured factor",
            degraded.clone(),
        );
        let recent_p50 = FloatGauge::default();
        registry.register_with_unit(
            "tactician_decision_recent_p50",
            "Median decision latency over the recent window",
            Unit::Seconds,
            recent_p50.clone(),
        );
        let baseline_p50 = FloatGauge::default();
        registry.register_with_unit(
            "tactician_decision_baseline_p50",
            "Median decision latency measured when the model in service was validated",
            Unit::Seconds,
            baseline_p50.clone(),
        );
        let resident = Gauge::default();
        registry.register_with_unit(
            "process_resident_memory",
            "Resident memory size",
            Unit::Bytes,
            resident.clone(),
        );
        let cpu = Counter::<f64, AtomicU64>::default();
        registry.register_with_unit(
            "process_cpu",
            "Total user and system CPU time spent",
            Unit::Seconds,
            cpu.clone(),
        );
        let zones = Family::<ZoneLabels, FloatGauge>::default();
        registry.register_with_unit(
            "tactician_thermal_zone_temp",
            "Thermal zone temperature, as /sys/class/thermal reports it",
            Unit::Other("celsius".into()),
            zones.clone(),
        );
        let throttle = Family::<ThrottleLabels, Gauge>::default();
        registry.register(
            "tactician_firmware_throttled",
            "The Raspberry Pi firmware's throttling flags (1 when set), now and since boot",
            throttle.clone(),
        );
        Metrics {
            registry,
            decision_seconds,
            request_seconds,
            requests,
            errors,
            cache_hits,
            cache_misses,
            model_info,
            switches,
            load_errors,
            battles,
            agreement,
            degraded,
            recent_p50,
            baseline_p50,
            resident,
            cpu,
            cpu_seen: Mutex::new(0.0),
            zones,
            throttle,
        }
    }

    /// Counts a request.
    pub fn request(&self, endpoint: &'static str, code: u16, seconds: f64) {
        // Static label values: no allocation per request.
        let labels = RequestLabels { endpoint, code };
        self.requests.get_or_create(&labels).inc();
        self.request_seconds.get_or_create(&labels).observe(seconds);
    }

    /// Counts a refused request.
    pub fn error(&self, kind: &'static str) {
        self.errors.get_or_create(&ErrorLabels { kind }).inc();
    }

    /// Records one decision's latency.
    pub fn decision(&self, seconds: f64, throttled: bool) {
        self.decision_seconds
            .get_or_create(&LatencyLabels { throttled })
            .observe(seconds);
    }

    /// Names the model in service.
    pub fn set_model(&self, model: Option<(&str, &str)>) {
        self.model_info.clear();
        if let Some((version, encoder)) = model {
            self.model_info
                .get_or_create(&ModelLabels {
                    version: version.to_string(),
                    encoder: encoder.to_string(),
                })
                .set(1);
        }
    }

    /// The OpenMetrics exposition, with the machine's figures read now.
    pub fn encode(&self, sys: &Sysfs) -> String {
        let p = sys.process();
        if let Some(b) = p.resident_bytes {
            self.resident.set(i64::try_from(b).unwrap_or(i64::MAX));
        }
        if let Some(s) = p.cpu_seconds
            && let Ok(mut seen) = self.cpu_seen.lock()
            && s > *seen
        {
            self.cpu.inc_by(s - *seen);
            *seen = s;
        }
        self.zones.clear();
        for z in sys.thermal_zones() {
            self.zones
                .get_or_create(&ZoneLabels {
                    zone: z.zone.to_string(),
                    r#type: z.kind,
                })
                .set(z.celsius);
        }
        self.throttle.clear();
        if let Some(t) = sys.throttled() {
            for (name, bit) in CONDITIONS {
                for (when, set) in [("now", t.now(bit)), ("since_boot", t.since_boot(bit))] {
                    self.throttle
                        .get_or_create(&ThrottleLabels {
                            condition: name.to_string(),
                            when: when.to_string(),
                        })
                        .set(i64::from(set));
                }
            }
        }
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// The classic Prometheus text format (0.0.4) of an OpenMetrics exposition, for scrapers and
/// tools that do not ask for OpenMetrics (`promtool check metrics` among them): a counter's
/// HELP and TYPE name its `_total` samples, and the UNIT and EOF lines go.
pub fn to_text_format(openmetrics: &str) -> String {
    let mut out = String::with_capacity(openmetrics.len());
    let mut help: Option<&str> = None;
    for line in openmetrics.lines() {
        if line.starts_with("# HELP ") {
            if let Some(h) = help.take() {
                out.push_str(h);
                out.push('\n');
            }
            help = Some(line);
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, ""));
            let name = if kind == "counter" {
                format!("{name}_total")
            } else {
                name.to_string()
            };
            if let Some(h) = help.take() {
                let text = h
                    .strip_prefix("# HELP ")
                    .and_then(|r| r.split_once(' '))
                    .map_or("", |(_, t)| t);
                out.push_str(&format!("# HELP {name} {text}\n"));
            }
            out.push_str(&format!("# TYPE {name} {kind}\n"));
            continue;
        }
        if line.starts_with("# UNIT ") || line == "# EOF" {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    if let Some(h) = help {
        out.push_str(h);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_renamed_and_openmetrics_lines_dropped() {
        let om = "# HELP a Requests.\n# TYPE a counter\na_total{x=\"1\"} 3\n\
                  # HELP b Latency.\n# TYPE b histogram\n# UNIT b seconds\nb_count 1\n# EOF\n";
        assert_eq!(
            to_text_format(om),
            "# HELP a_total Requests.\n# TYPE a_total counter\na_total{x=\"1\"} 3\n\
             # HELP b Latency.\n# TYPE b histogram\nb_count 1\n"
        );
    }
}
