//! The pipeline's serve step: the local device's decision server (the one
//! `tactician-device serve` runs) is started on a loopback port over the model the deploy step
//! activated, asked for one decision through its HTTP API, and stopped.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use serde::Serialize;
use tactician_game::{Battle, GameConfig, SkirmishEncoder};
use tactician_serve::api::{ActRequest, ActResponse, GameState};
use tactician_serve::server::{Listen, ServeConfig, start};

/// What the serve step did.
#[derive(Debug, Serialize)]
pub struct ServeStep {
    /// The address the server listened on.
    pub url: String,
    /// The device's state folder it served from.
    pub device: PathBuf,
    /// What the request sent: a state of the built-in game or a features row.
    pub request: &'static str,
    /// The decision.
    pub decision: ActResponse,
    /// The request's round trip, microseconds.
    pub round_trip_us: f64,
}

impl ServeStep {
    /// The step as text.
    pub fn to_markdown(&self) -> String {
        let d = &self.decision;
        format!(
            "\n## serve: {} (one decision, then stopped; `tactician-device serve --state {}` keeps \
             it running)\n\nPOST /v1/act with {}: action {} ({}), probability {:.3}{}, model {}, \
             model time {:.1} µs, round trip {:.0} µs\n",
            self.url,
            self.device.display(),
            self.request,
            d.action,
            d.action_name,
            d.probabilities.get(d.action).copied().unwrap_or(0.0),
            d.value.map_or(String::new(), |v| format!(", value {v:.3}")),
            d.model_version,
            d.latency_us,
            self.round_trip_us
        )
    }
}

/// Runs the serve step on the local device in `device`.
pub fn pipeline_step(device: &Path, seed: u64) -> anyhow::Result<ServeStep> {
    let listen = Listen {
        tcp: Some("127.0.0.1:0".parse()?),
        socket: None,
    };
    let running = start(ServeConfig::new(device), &listen, 1)
        .context("cannot start the local device's server")?;
    let Some(model) = running.shared.model() else {
        bail!("the local device has no active model to serve");
    };
    let addr = running.tcp.context("the server has no TCP address")?;
    let (request, kind) = if model.encoder_hash == SkirmishEncoder::feature_spec().hash() {
        let battle = Battle::new(seed, GameConfig::default());
        let req = ActRequest {
            state: Some(GameState {
                setup: battle.setup(),
                snapshot: battle.snapshot(),
            }),
            ..ActRequest::default()
        };
        (req, "the opening state of a built-in game battle")
    } else {
        let req = ActRequest {
            features: Some(vec![0.0; model.features]),
            legal: Some(vec![true; model.actions]),
            ..ActRequest::default()
        };
        (req, "a row of zeros, every action legal")
    };
    let url = format!("http://{addr}");
    let body = serde_json::to_vec(&request)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let start_at = Instant::now();
    let (status, bytes) = rt.block_on(async {
        let response = reqwest::Client::new()
            .post(format!("{url}/v1/act"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?;
        let status = response.status();
        Ok::<_, reqwest::Error>((status, response.bytes().await?))
    })?;
    let round_trip_us = start_at.elapsed().as_secs_f64() * 1e6;
    running.stop();
    if !status.is_success() {
        bail!(
            "the local device's server answered {status}: {}",
            String::from_utf8_lossy(&bytes)
        );
    }
    let decision: ActResponse =
        serde_json::from_slice(&bytes).context("the server's answer does not parse")?;
    Ok(ServeStep {
        url,
        device: device.to_path_buf(),
        request: kind,
        decision,
        round_trip_us,
    })
}
