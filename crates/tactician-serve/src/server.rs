//! The HTTP server: routes, handlers, listeners (TCP and a Unix socket), and the watcher that
//! follows the agent's `current` link, the firmware's throttling flags and recent latency.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;

use crate::api::{
    ActRequest, ActResponse, BatchRequest, BatchResponse, BattleResult, ErrorBody, input,
};
use crate::battlelog::BattleLog;
use crate::error::{Error, Result};
use crate::history::{Sample, ServeStatus};
use crate::metrics::{AgreementLabels, BattleLabels, Metrics, SwitchLabels};
use crate::model::{ActiveModel, Current, MAX_BATCH, current_version};
use crate::sysfs::Sysfs;

/// The server's settings.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The agent's state folder: the model in service is the one `current` names.
    pub state: PathBuf,
    /// The root under which `/sys` and `/proc` are read (`/` on a device).
    pub sysfs_root: PathBuf,
    /// How often the server looks at `current`, the throttling flags and recent latency.
    pub poll: Duration,
    /// Recent median latency above the activation-time median times this sets the
    /// degradation flag.
    pub degradation_factor: f64,
    /// Decisions cached per pooled policy (0: none).
    pub cache_capacity: usize,
    /// Largest request body, bytes.
    pub max_body_bytes: usize,
    /// Decisions in the recent-latency window.
    pub window: usize,
    /// Longest time a request may take to arrive and be answered: a client that sends its
    /// body slowly gets a 408 and its connection closed, and holds nothing meanwhile.
    pub request_timeout: Duration,
    /// Time between two samples of the history (`STATE/serve-status.json`).
    pub sample_every: Duration,
    /// Samples kept.
    pub history_len: usize,
    /// Battle log files are rotated at this size, bytes.
    pub log_part_bytes: u64,
    /// The battle logs are kept under this total, bytes (the oldest files go first).
    pub log_total_bytes: u64,
}

impl ServeConfig {
    /// Settings for `state` with the defaults.
    pub fn new(state: &Path) -> ServeConfig {
        ServeConfig {
            state: state.to_path_buf(),
            sysfs_root: PathBuf::from("/"),
            poll: Duration::from_millis(500),
            degradation_factor: 2.0,
            cache_capacity: 256,
            max_body_bytes: 1 << 20,
            window: 1024,
            request_timeout: Duration::from_secs(10),
            sample_every: Duration::from_secs(10),
            history_len: 360,
            log_part_bytes: 1 << 20,
            log_total_bytes: 64 << 20,
        }
    }
}

/// Battles remembered for their results.
const MAX_BATTLES: usize = 10_000;

/// What the server remembers of a battle until its result: the model that played and the
/// decisions it served from game states (turn, action).
#[derive(Debug, Clone, Default)]
struct BattleEntry {
    version: String,
    served: Vec<(u32, u32)>,
}

/// What every handler shares.
#[derive(Debug)]
pub struct Shared {
    config: ServeConfig,
    current: Current,
    /// The metrics.
    pub metrics: Metrics,
    sysfs: Sysfs,
    throttled: AtomicBool,
    recent: Mutex<VecDeque<f64>>,
    battles: Mutex<(HashMap<String, BattleEntry>, VecDeque<String>)>,
    battle_log: BattleLog,
    status: Mutex<ServeStatus>,
    decisions_since: AtomicU64,
    errors_since: AtomicU64,
    /// When the last sample was taken, and the process's CPU seconds then.
    last_sample: Mutex<(Instant, Option<f64>)>,
}

impl Shared {
    /// The server's state, with the model `current` names loaded (if any).
    pub fn new(config: ServeConfig) -> Result<Arc<Shared>> {
        let shared = Arc::new(Shared {
            sysfs: Sysfs::new(&config.sysfs_root),
            current: Current::default(),
            metrics: Metrics::new(),
            throttled: AtomicBool::new(false),
            recent: Mutex::new(VecDeque::new()),
            battles: Mutex::new((HashMap::new(), VecDeque::new())),
            battle_log: BattleLog::new(
                &config.state,
                config.log_part_bytes,
                config.log_total_bytes,
            ),
            status: Mutex::new(ServeStatus {
                started_unix: crate::history::now(),
                sample_seconds: config.sample_every.as_secs().max(1),
                ..ServeStatus::default()
            }),
            decisions_since: AtomicU64::new(0),
            errors_since: AtomicU64::new(0),
            last_sample: Mutex::new((Instant::now(), None)),
            config,
        });
        if let Some(model) =
            ActiveModel::from_state(&shared.config.state, shared.config.cache_capacity)?
        {
            shared.put(Arc::new(model), None);
        }
        shared.tick();
        Ok(shared)
    }

    /// The model in service.
    pub fn model(&self) -> Option<Arc<ActiveModel>> {
        self.current.get()
    }

    fn put(&self, model: Arc<ActiveModel>, switch: Option<&str>) {
        self.metrics
            .set_model(Some((&model.version, &model.encoder_hash)));
        self.metrics
            .baseline_p50
            .set(model.baseline_p50_us.map_or(0.0, |us| us * 1e-6));
        if let Some(kind) = switch {
            self.metrics
                .switches
                .get_or_create(&SwitchLabels {
                    kind: kind.to_string(),
                })
                .inc();
        }
        if let Ok(mut r) = self.recent.lock() {
            r.clear();
        }
        self.current.set(Some(model));
    }

    /// One look at the world: a new `current` is loaded and put in service (an unloadable one
    /// is counted and the previous model stays); the throttling flag and the latency window
    /// are refreshed.
    pub fn tick(&self) {
        let on_disk = current_version(&self.config.state);
        let serving = self.current.get();
        if on_disk.as_deref() != serving.as_ref().map(|m| m.version.as_str()) {
            match ActiveModel::from_state(&self.config.state, self.config.cache_capacity) {
                // Put in service only if `current` did not move while it loaded.
                Ok(Some(model)) if current_version(&self.config.state) == on_disk => {
                    let kind = match &serving {
                        Some(old)
                            if !tactician_agent::release::is_newer(
                                &model.version,
                                &old.version,
                            ) =>
                        {
                            "rollback"
                        }
                        _ => "activation",
                    };
                    self.put(Arc::new(model), Some(kind));
                }
                Ok(Some(_)) => {}
                // No model on disk any more: keep serving the last one rather than nothing.
                Ok(None) => {}
                Err(_) => {
                    self.metrics.load_errors.inc();
                }
            }
        }
        // Read once per look: the flag for latency samples, and the history's sample.
        let slowed = self.sysfs.throttled().map(|t| t.slowed_now());
        let throttled = slowed == Some(true);
        self.throttled.store(throttled, Ordering::Relaxed);
        let p50 = self.recent.lock().ok().and_then(|r| {
            let mut v: Vec<f64> = r.iter().copied().collect();
            if v.len() < 16 {
                return None;
            }
            v.sort_by(f64::total_cmp);
            Some(v[v.len() / 2])
        });
        let baseline = self.current.get().and_then(|m| m.baseline_p50_us);
        self.sample(p50, slowed);
        if let Some(p50) = p50 {
            self.metrics.recent_p50.set(p50);
            let degraded =
                baseline.is_some_and(|b| p50 > b * 1e-6 * self.config.degradation_factor);
            self.metrics.degraded.set(i64::from(degraded));
        }
    }

    /// Takes a sample of the history when one is due (`slowed`: the firmware flags this look
    /// read), and writes the status file.
    fn sample(&self, p50: Option<f64>, slowed: Option<bool>) {
        let Ok(mut last) = self.last_sample.lock() else {
            return;
        };
        let first = last.1.is_none();
        if !first && last.0.elapsed() < self.config.sample_every {
            return;
        }
        let p99 = self.recent.lock().ok().and_then(|r| {
            let mut v: Vec<f64> = r.iter().copied().collect();
            if v.len() < 16 {
                return None;
            }
            v.sort_by(f64::total_cmp);
            Some(v[(v.len() - 1) * 99 / 100])
        });
        let process = self.sysfs.process();
        let cpu_percent = match (last.1, process.cpu_seconds) {
            (Some(before), Some(now)) if !first => {
                let wall = last.0.elapsed().as_secs_f64();
                (wall > 0.0).then(|| 100.0 * (now - before) / wall)
            }
            _ => None,
        };
        *last = (Instant::now(), process.cpu_seconds.or(Some(0.0)));
        drop(last);
        let zones = self.sysfs.thermal_zones();
        let temperature_c = zones
            .iter()
            .find(|z| z.kind == "cpu-thermal")
            .or(zones.first())
            .map(|z| z.celsius);
        let sample = Sample {
            unix: crate::history::now(),
            decisions: self.decisions_since.swap(0, Ordering::Relaxed),
            errors: self.errors_since.swap(0, Ordering::Relaxed),
            p50_us: p50.map(|s| s * 1e6),
            p99_us: p99.map(|s| s * 1e6),
            rss_bytes: process.resident_bytes,
            cpu_percent,
            temperature_c,
            throttled: slowed,
        };
        let Ok(mut status) = self.status.lock() else {
            return;
        };
        status.model_version = self.current.get().map(|m| m.version.clone());
        status.push(sample, self.config.history_len);
        // A read-only or full state folder costs the history, never a request.
        let _ = status.save(&self.config.state);
    }

    /// The history so far.
    pub fn status(&self) -> ServeStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Records the model's time for `decisions` decisions taken together.
    fn observe(&self, seconds: f64, decisions: u64) {
        self.decisions_since.fetch_add(decisions, Ordering::Relaxed);
        self.metrics
            .decision(seconds, self.throttled.load(Ordering::Relaxed));
        if let Ok(mut r) = self.recent.lock() {
            if r.len() == self.config.window.max(1) {
                r.pop_front();
            }
            r.push_back(seconds);
        }
    }

    fn remember_battle(&self, id: &str, version: &str, served: Option<(u32, u32)>) {
        if let Ok(mut b) = self.battles.lock() {
            let (map, order) = &mut *b;
            let entry = map.entry(id.to_string()).or_insert_with(|| {
                order.push_back(id.to_string());
                BattleEntry::default()
            });
            entry.version = version.to_string();
            entry.served.extend(served);
            if order.len() > MAX_BATTLES
                && let Some(old) = order.pop_front()
            {
                map.remove(&old);
            }
        }
    }
}

/// An answer the client gets for a bad request.
struct ApiError {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            kind,
            message: message.into(),
        }
    }

    fn bad(kind: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, kind, message)
    }
}

fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Runs a handler's body: counts the request, its latency and its error kind.
fn answer(
    shared: &Shared,
    endpoint: &'static str,
    start: Instant,
    result: std::result::Result<Response, ApiError>,
) -> Response {
    let response = match result {
        Ok(r) => r,
        Err(e) => {
            shared.metrics.error(e.kind);
            shared.errors_since.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut status) = shared.status.lock() {
                status.error(e.kind, &e.message);
            }
            json(
                e.status,
                &ErrorBody {
                    error: e.message,
                    kind: e.kind.to_string(),
                },
            )
        }
    };
    shared.metrics.request(
        endpoint,
        response.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    response
}

fn body<T: serde::de::DeserializeOwned>(
    bytes: std::result::Result<Bytes, BytesRejection>,
) -> std::result::Result<T, ApiError> {
    let bytes = bytes.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "the request body exceeds the server's limit",
            )
        } else {
            ApiError::new(e.status(), "bad_body", e.body_text())
        }
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad("bad_json", format!("the body is not a valid request: {e}")))
}

fn model(shared: &Shared) -> std::result::Result<Arc<ActiveModel>, ApiError> {
    shared.model().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_model",
            "no model is active on this device yet (see `tactician-device status`)",
        )
    })
}

fn model_error(e: Error) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "model", e.to_string())
}

/// The content type of a binary `/v1/act` body: the features as little-endian `f32`s, then one
/// byte (0 or 1) per action for the legal mask.
pub const BINARY_ROW: &str = "application/octet-stream";

/// A binary row's features and mask, checked against the model's sizes.
fn binary_row(
    bytes: &[u8],
    m: &ActiveModel,
) -> std::result::Result<(Vec<f32>, Vec<bool>), ApiError> {
    let want = 4 * m.features + m.actions;
    if bytes.len() != want {
        return Err(ApiError::bad(
            "bad_features",
            format!(
                "a binary row is {want} bytes for the model in service ({} features as \
                 little-endian f32, then {} legal flags), not {}",
                m.features,
                m.actions,
                bytes.len()
            ),
        ));
    }
    let (xb, lb) = bytes.split_at(4 * m.features);
    let x: Vec<f32> = xb
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    if let Some(b) = lb.iter().find(|&&b| b > 1) {
        return Err(ApiError::bad(
            "bad_mask",
            format!("a legal flag is {b}, expected 0 or 1"),
        ));
    }
    let req = ActRequest {
        features: Some(x),
        legal: Some(lb.iter().map(|&b| b == 1).collect()),
        ..ActRequest::default()
    };
    input(&req, m.features, m.actions, &m.encoder_hash)
        .map_err(|(kind, msg)| ApiError::bad(kind, msg))
}

async fn act(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    bytes: std::result::Result<Bytes, BytesRejection>,
) -> Response {
    let start = Instant::now();
    let binary = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(BINARY_ROW));
    let result = (|| {
        let (req, x, legal, m) = if binary {
            let m = model(&shared)?;
            let raw = bytes.map_err(|e| ApiError::new(e.status(), "bad_body", e.body_text()))?;
            let (x, legal) = binary_row(&raw, &m)?;
            (ActRequest::default(), x, legal, m)
        } else {
            let req: ActRequest = body(bytes)?;
            let m = model(&shared)?;
            let (x, legal) = input(&req, m.features, m.actions, &m.encoder_hash)
                .map_err(|(kind, msg)| ApiError::bad(kind, msg))?;
            (req, x, legal, m)
        };
        let out = m
            .with_policy(|p| {
                let t = Instant::now();
                let d = p.act(&x, &legal)?;
                let seconds = t.elapsed().as_secs_f64();
                Ok::<_, tactician_runtime::Error>((
                    d.action,
                    d.probabilities.to_vec(),
                    d.value,
                    d.cached,
                    seconds,
                ))
            })
            .map_err(model_error)?
            .map_err(|e| {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "model", e.to_string())
            })?;
        let (action, probabilities, value, cached, seconds) = out;
        shared.observe(seconds, 1);
        if cached {
            shared.metrics.cache_hits.inc();
        } else {
            shared.metrics.cache_misses.inc();
        }
        if let Some(id) = &req.battle_id {
            let served = req
                .state
                .as_ref()
                .map(|st| (st.snapshot.turn, action as u32));
            shared.remember_battle(id, &m.version, served);
        }
        Ok(json(
            StatusCode::OK,
            &ActResponse {
                action,
                action_name: m.action_names[action].clone(),
                probabilities,
                value,
                model_version: m.version.clone(),
                latency_us: seconds * 1e6,
                cached,
            },
        ))
    })();
    answer(&shared, "act", start, result)
}

async fn act_batch(
    State(shared): State<Arc<Shared>>,
    bytes: std::result::Result<Bytes, BytesRejection>,
) -> Response {
    let start = Instant::now();
    let result = (|| {
        let req: BatchRequest = body(bytes)?;
        let n = req.requests.len();
        if n == 0 || n > MAX_BATCH {
            return Err(ApiError::bad(
                "bad_batch",
                format!("a batch holds 1 to {MAX_BATCH} requests, not {n}"),
            ));
        }
        let m = model(&shared)?;
        let mut xs = Vec::with_capacity(n * m.features);
        let mut legal = Vec::with_capacity(n * m.actions);
        for (i, r) in req.requests.iter().enumerate() {
            let (x, l) = input(r, m.features, m.actions, &m.encoder_hash)
                .map_err(|(kind, msg)| ApiError::bad(kind, format!("request {i}: {msg}")))?;
            xs.extend_from_slice(&x);
            legal.extend_from_slice(&l);
        }
        let (actions, probabilities, values, seconds) = m
            .with_policy(|p| {
                let t = Instant::now();
                let d = p.act_batch(&xs, &legal, n)?;
                let seconds = t.elapsed().as_secs_f64();
                Ok::<_, tactician_runtime::Error>((
                    d.actions.to_vec(),
                    d.probabilities.to_vec(),
                    d.values.map(<[f32]>::to_vec),
                    seconds,
                ))
            })
            .map_err(model_error)?
            .map_err(|e| {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "model", e.to_string())
            })?;
        shared.observe(seconds, n as u64);
        for r in &req.requests {
            if let Some(id) = &r.battle_id {
                shared.remember_battle(id, &m.version, None);
            }
        }
        let a = m.actions;
        let decisions = (0..n)
            .map(|i| ActResponse {
                action: actions[i],
                action_name: m.action_names[actions[i]].clone(),
                probabilities: probabilities[i * a..(i + 1) * a].to_vec(),
                value: values.as_ref().map(|v| v[i]),
                model_version: m.version.clone(),
                latency_us: seconds * 1e6,
                cached: false,
            })
            .collect();
        Ok(json(
            StatusCode::OK,
            &BatchResponse {
                decisions,
                model_version: m.version.clone(),
                latency_us: seconds * 1e6,
            },
        ))
    })();
    answer(&shared, "act_batch", start, result)
}

async fn battle_result(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    bytes: std::result::Result<Bytes, BytesRejection>,
) -> Response {
    let start = Instant::now();
    let result = (|| {
        let r: BattleResult = body(bytes)?;
        if !matches!(r.result.as_str(), "win" | "loss" | "draw") {
            return Err(ApiError::bad(
                "bad_result",
                format!("result {:?}: expected win, loss or draw", r.result),
            ));
        }
        if let Some(a) = r.agreement
            && a.agreed > a.total
        {
            return Err(ApiError::bad(
                "bad_result",
                "agreement.agreed exceeds agreement.total",
            ));
        }
        let entry = shared
            .battles
            .lock()
            .ok()
            .and_then(|b| b.0.get(&id).cloned())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "unknown_battle",
                    format!("no decision of battle {id:?} was served (or it is too old)"),
                )
            })?;
        let version = entry.version.clone();
        let mut agreement = r.agreement;
        let logged = match (r.seed, &r.actions) {
            (Some(seed), Some(actions)) => {
                let found = log_battle(&shared, &r, seed, actions)?;
                // The device's served decisions against what the game played.
                if agreement.is_none() && !entry.served.is_empty() {
                    let agreed = entry
                        .served
                        .iter()
                        .filter(|(turn, a)| found.get(*turn as usize) == Some(a))
                        .count() as u64;
                    agreement = Some(crate::api::Agreement {
                        agreed,
                        total: entry.served.len() as u64,
                    });
                }
                true
            }
            (None, None) => false,
            _ => {
                return Err(ApiError::bad(
                    "bad_result",
                    "give `seed` and `actions` together (with `device_side`), or neither",
                ));
            }
        };
        shared
            .metrics
            .battles
            .get_or_create(&BattleLabels {
                version: version.clone(),
                result: r.result.clone(),
            })
            .inc();
        if let Some(a) = agreement {
            for (agreed, n) in [("true", a.agreed), ("false", a.total - a.agreed)] {
                shared
                    .metrics
                    .agreement
                    .get_or_create(&AgreementLabels {
                        version: version.clone(),
                        agreed: agreed.to_string(),
                    })
                    .inc_by(n);
            }
        }
        Ok(json(
            StatusCode::OK,
            &serde_json::json!({
                "battle": id,
                "model_version": version,
                "result": r.result,
                "logged": logged,
                "agreement": agreement,
            }),
        ))
    })();
    answer(&shared, "battle_result", start, result)
}

/// Plays a reported battle back from its seed and actions, checks it ends as reported, and
/// appends its record to the battle logs. Returns the actions.
fn log_battle(
    shared: &Shared,
    r: &BattleResult,
    seed: u64,
    actions: &[u32],
) -> std::result::Result<Vec<u32>, ApiError> {
    let side = match r.device_side {
        Some(s @ (0 | 1)) => s,
        _ => {
            return Err(ApiError::bad(
                "bad_result",
                "`device_side` (0 or 1) is needed to record the battle",
            ));
        }
    };
    let names = if side == 0 {
        ["tactician-device", "game"]
    } else {
        ["game", "tactician-device"]
    };
    let record = tactician_game::record::record_actions(
        seed,
        r.rules.unwrap_or_default(),
        names,
        actions,
        tactician_game::record::WallClock::Measured,
    )
    .map_err(|e| ApiError::bad("bad_battle", format!("the battle does not play back: {e}")))?;
    let played = match record.outcome.winner {
        None => "draw",
        Some(w) if w == side => "win",
        Some(_) => "loss",
    };
    if played != r.result {
        return Err(ApiError::bad(
            "bad_result",
            format!(
                "the actions given end in a {played} for side {side}, the result says {}",
                r.result
            ),
        ));
    }
    let line = serde_json::to_vec(&record)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "log", e.to_string()))?;
    shared.battle_log.append(&line).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "log",
            format!("cannot append to the battle logs: {e}"),
        )
    })?;
    Ok(actions.to_vec())
}

/// `GET /v1/logs`: the battle log files, oldest first, with their complete bytes.
async fn logs(State(shared): State<Arc<Shared>>) -> Response {
    let start = Instant::now();
    let files: Vec<serde_json::Value> = crate::battlelog::parts(shared.battle_log.dir())
        .iter()
        .filter_map(|(p, _)| {
            let name = p.file_name()?.to_str()?.to_string();
            let bytes = crate::battlelog::complete_lines(p).ok()?.len();
            Some(serde_json::json!({"name": name, "bytes": bytes}))
        })
        .collect();
    answer(
        &shared,
        "logs",
        start,
        Ok(json(StatusCode::OK, &serde_json::json!({"files": files}))),
    )
}

/// `GET /v1/logs/{name}`: one battle log file, up to its last complete record.
async fn log_file(State(shared): State<Arc<Shared>>, UrlPath(name): UrlPath<String>) -> Response {
    let start = Instant::now();
    let result = (|| {
        let known = crate::battlelog::parts(shared.battle_log.dir())
            .into_iter()
            .find(|(p, _)| p.file_name().and_then(|n| n.to_str()) == Some(name.as_str()));
        let Some((path, _)) = known else {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_log",
                format!("no battle log {name:?} (see GET /v1/logs)"),
            ));
        };
        let bytes = crate::battlelog::complete_lines(&path)
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "log", e.to_string()))?;
        Ok((
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/x-ndjson")],
            bytes,
        )
            .into_response())
    })();
    answer(&shared, "log_file", start, result)
}

async fn healthz(State(shared): State<Arc<Shared>>) -> Response {
    let start = Instant::now();
    let response = match shared.model() {
        Some(m) => json(
            StatusCode::OK,
            &serde_json::json!({"status": "ok", "model_version": m.version}),
        ),
        None => json(
            StatusCode::SERVICE_UNAVAILABLE,
            &serde_json::json!({"status": "no model"}),
        ),
    };
    shared.metrics.request(
        "healthz",
        response.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    response
}

async fn metrics(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let start = Instant::now();
    shared
        .metrics
        .request("metrics", 200, start.elapsed().as_secs_f64());
    let text = shared.metrics.encode(&shared.sysfs);
    // OpenMetrics for scrapers that ask for it (Prometheus does), the classic text format for
    // everyone else.
    let openmetrics = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/openmetrics-text"));
    if openmetrics {
        (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response()
    } else {
        (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            crate::metrics::to_text_format(&text),
        )
            .into_response()
    }
}

async fn not_found(State(shared): State<Arc<Shared>>) -> Response {
    let start = Instant::now();
    answer(
        &shared,
        "other",
        start,
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such endpoint: see /v1/act, /v1/act/batch, /v1/battles/{id}/result, /healthz, /metrics",
        )),
    )
}

/// Answers 408 to a request not read and answered within the configured time.
async fn deadline(
    State(shared): State<Arc<Shared>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let start = Instant::now();
    let limit = shared.config.request_timeout;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            let mut response = answer(
                &shared,
                "other",
                start,
                Err(ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "timeout",
                    format!(
                        "the request did not arrive within {:.1} s",
                        limit.as_secs_f64()
                    ),
                )),
            );
            response.headers_mut().insert(
                header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
            response
        }
    }
}

/// The API's routes.
pub fn router(shared: Arc<Shared>) -> Router {
    router_with(shared, Router::new())
}

/// The API's routes and `extra` (a benchmark's constant answer), all behind the same body
/// limit and deadline.
pub fn router_with(shared: Arc<Shared>, extra: Router<Arc<Shared>>) -> Router {
    let limit = shared.config.max_body_bytes;
    Router::new()
        .route("/v1/act", post(act))
        .route("/v1/act/batch", post(act_batch))
        .route("/v1/battles/{id}/result", post(battle_result))
        .route("/v1/logs", get(logs))
        .route("/v1/logs/{name}", get(log_file))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .merge(extra)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            deadline,
        ))
        .with_state(shared)
}

/// Where the server listens.
#[derive(Debug, Clone, Default)]
pub struct Listen {
    /// A TCP address (`127.0.0.1:8470`).
    pub tcp: Option<SocketAddr>,
    /// A Unix socket's path (replaced if a stale one is there).
    pub socket: Option<PathBuf>,
}

/// A running server.
#[derive(Debug)]
pub struct Running {
    /// The TCP address it listens on (the port chosen when 0 was asked).
    pub tcp: Option<SocketAddr>,
    /// The Unix socket it listens on.
    pub socket: Option<PathBuf>,
    /// The shared state (metrics, model).
    pub shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Stops the server and waits for it.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Some(p) = &self.socket {
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Serves `app` on `listener` until `stop` fires, letting requests in progress finish.
fn spawn_serving<L>(
    listener: L,
    app: Router,
    mut stop: tokio::sync::broadcast::Receiver<()>,
) -> tokio::task::JoinHandle<()>
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.recv().await;
            })
            .await;
    })
}

/// Starts the server on its own threads: binds the listeners (errors come back here), loads
/// the model in service, and watches for the agent's switches every `config.poll`.
pub fn start(config: ServeConfig, listen: &Listen, threads: usize) -> Result<Running> {
    let shared = Shared::new(config)?;
    let app = router(shared.clone());
    start_app(shared, app, listen, threads)
}

/// Starts `app` (the [`router`] of `shared`, with routes of the caller's added, as a benchmark
/// adds a constant answer) like [`start`].
pub fn start_app(
    shared: Arc<Shared>,
    app: Router,
    listen: &Listen,
    threads: usize,
) -> Result<Running> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .map_err(|e| Error::Listen {
            what: "the runtime".into(),
            source: e,
        })?;
    let tcp = match listen.tcp {
        Some(addr) => Some(
            rt.block_on(tokio::net::TcpListener::bind(addr))
                .map_err(|e| Error::Listen {
                    what: addr.to_string(),
                    source: e,
                })?,
        ),
        None => None,
    };
    let tcp_addr = tcp.as_ref().and_then(|l| l.local_addr().ok());
    let unix = match &listen.socket {
        Some(path) => {
            if std::fs::symlink_metadata(path).is_ok() {
                std::fs::remove_file(path).map_err(|e| Error::Listen {
                    what: path.display().to_string(),
                    source: e,
                })?;
            }
            let _guard = rt.enter();
            Some(
                tokio::net::UnixListener::bind(path).map_err(|e| Error::Listen {
                    what: path.display().to_string(),
                    source: e,
                })?,
            )
        }
        None => None,
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let watch = shared.clone();
    let thread = std::thread::Builder::new()
        .name("tactician-serve".into())
        .spawn(move || {
            rt.block_on(async move {
                let (tx, _) = tokio::sync::broadcast::channel::<()>(1);
                let mut tasks = Vec::new();
                if let Some(l) = tcp {
                    tasks.push(spawn_serving(l, app.clone(), tx.subscribe()));
                }
                if let Some(l) = unix {
                    tasks.push(spawn_serving(l, app.clone(), tx.subscribe()));
                }
                let poll = watch.config.poll;
                let ticker = tokio::spawn(async move {
                    let mut interval = tokio::time::interval(poll);
                    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                    loop {
                        interval.tick().await;
                        let w = watch.clone();
                        // Loading a model reads files: off the request threads.
                        let _ = tokio::task::spawn_blocking(move || w.tick()).await;
                    }
                });
                let _ = stop_rx.await;
                let _ = tx.send(());
                for t in tasks {
                    let _ = t.await;
                }
                ticker.abort();
            });
        })
        .map_err(|e| Error::Listen {
            what: "the server thread".into(),
            source: e,
        })?;
    Ok(Running {
        tcp: tcp_addr,
        socket: listen.socket.clone(),
        shared,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}

/// Blocks until the process gets SIGINT or SIGTERM (systemd's stop).
pub fn wait_for_signal() -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Listen {
            what: "signals".into(),
            source: e,
        })?;
    rt.block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).map_err(|e| Error::Listen {
            what: "SIGTERM".into(),
            source: e,
        })?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        Ok(())
    })
}
