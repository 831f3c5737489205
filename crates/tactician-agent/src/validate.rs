//! Validation of a release on the device, before activation: the runtime loads it, its
//! encoder and minimum runtime version match the device, its latency and memory stay within the
//! budgets, and its top-1 agreement with the published validation set reaches the gate.

use serde::{Deserialize, Serialize};
use tactician_runtime::{Agreement, Latency, PolicyOptions};

use crate::battles::BattleGate;
use crate::config::Budgets;
use crate::release::{RUNTIME_VERSION, Release, parse_version, sha256_hex};
use crate::validation_set::ValidationSet;

/// What validation measured (`validated.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationReport {
    /// The version.
    pub version: String,
    /// The runtime that validated it.
    pub runtime: String,
    /// The model's encoder.
    pub encoder_hash: String,
    /// Validation rows compared.
    pub rows: usize,
    /// Top-1 agreement with the validation set.
    pub top1: f64,
    /// The gate it had to reach.
    pub min_top1: f64,
    /// Decision latency, 99th percentile, microseconds.
    pub latency_p99_us: f64,
    /// Decision latency, median, microseconds.
    pub latency_p50_us: f64,
    /// The model's memory: file, packed weights and activations, bytes.
    pub memory_bytes: u64,
    /// The validation battles, for a model of the built-in game.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub battles: Option<BattleGate>,
}

/// Why a release fails validation (the `reason` of [`crate::Error::Invalid`]).
pub type Refusal = String;

/// Checks a decrypted release against the device. `device_encoder`: the encoder the device's
/// game uses (from its settings or its active model), `None` to accept the release's.
pub fn validate(
    release: &Release,
    model: &[u8],
    validation: &[u8],
    budgets: &Budgets,
    device_encoder: Option<&str>,
) -> Result<ValidationReport, Refusal> {
    if sha256_hex(model) != release.model_sha256 || model.len() as u64 != release.model_bytes {
        return Err("the decrypted model's hash or length differs from the release's".into());
    }
    if sha256_hex(validation) != release.validation.sha256 {
        return Err("the decrypted validation set's hash differs from the release's".into());
    }
    let needs = parse_version(&release.min_runtime).map_err(|e| e.to_string())?;
    let have = parse_version(RUNTIME_VERSION).map_err(|e| e.to_string())?;
    if needs > have {
        return Err(format!(
            "the model needs runtime {needs} or newer, this device runs {have}: update \
             tactician-device first"
        ));
    }
    if let Some(device) = device_encoder
        && device != release.encoder_hash
    {
        return Err(format!(
            "the model reads features with encoder {}, this device's game uses {device}",
            release.encoder_hash
        ));
    }
    let set = ValidationSet::from_bytes(validation).map_err(|e| e.to_string())?;
    if set.encoder_hash != release.encoder_hash {
        return Err(format!(
            "the validation set was made with encoder {}, the model with {}",
            set.encoder_hash, release.encoder_hash
        ));
    }
    let report = tactician_runtime::check(
        model,
        &set.reference(),
        Some(&release.encoder_hash),
        budgets.timed_decisions.max(1),
    )
    .map_err(|e| format!("the runtime refuses the model: {e}"))?;
    let Agreement { rows, top1, .. } = report.agreement;
    let min_top1 = release.validation.min_top1.max(budgets.min_top1);
    if top1 < min_top1 {
        return Err(format!(
            "top-1 agreement with the validation set is {:.2}% on {rows} rows, below the gate \
             {:.2}%",
            100.0 * top1,
            100.0 * min_top1
        ));
    }
    let Latency { p50_us, p99_us, .. } = report.latency.ok_or("no decision was timed")?;
    if p99_us > budgets.max_latency_p99_us {
        return Err(format!(
            "decision latency p99 {p99_us:.1} µs exceeds the budget of {:.1} µs",
            budgets.max_latency_p99_us
        ));
    }
    let policy = tactician_runtime::Policy::load(
        model,
        &PolicyOptions {
            max_batch: 1,
            ..PolicyOptions::default()
        },
    )
    .map_err(|e| format!("the runtime refuses the model: {e}"))?;
    let stats = policy.engine().stats();
    let memory_bytes = (model.len() + stats.weight_bytes + stats.arena_bytes) as u64;
    let budget = budgets.max_memory_mib * 1024.0 * 1024.0;
    if memory_bytes as f64 > budget {
        return Err(format!(
            "the model needs {:.1} MiB, the budget is {:.1} MiB",
            memory_bytes as f64 / 1048576.0,
            budgets.max_memory_mib
        ));
    }
    Ok(ValidationReport {
        version: release.version.clone(),
        runtime: RUNTIME_VERSION.into(),
        encoder_hash: release.encoder_hash.clone(),
        rows,
        top1,
        min_top1,
        latency_p99_us: p99_us,
        latency_p50_us: p50_us,
        memory_bytes,
        battles: None,
    })
}
