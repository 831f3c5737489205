//! Checking a model on known rows before trusting it: its metadata, its answers against a
//! reference's (top-1 agreement and output errors), and its decision latency.
//!
//! The workstation's `tactician verify` and the device, before it activates a model, run the
//! same [`check`], so a model is judged the same way wherever it runs.

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::policy::{Metadata, Policy, PolicyOptions, graph_metadata};
use std::time::Instant;

/// Rows to check a model on, with a reference's answers on them.
#[derive(Debug, Clone, Copy)]
pub struct Reference<'a> {
    /// Actions per row.
    pub actions: usize,
    /// Raw features, `[rows, features]` row-major.
    pub features: &'a [f32],
    /// Legal actions, 0 or 1, `[rows, actions]`.
    pub legal: &'a [u8],
    /// The reference's logits, `[rows, actions]`.
    pub logits: &'a [f32],
    /// The reference's values, `[rows]`, when it has a value head.
    pub values: Option<&'a [f32]>,
}

impl Reference<'_> {
    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.legal.len().checked_div(self.actions).unwrap_or(0)
    }
}

/// How closely a model's answers follow the reference's.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Agreement {
    /// Rows compared (those with at least one legal action).
    pub rows: usize,
    /// Fraction of compared rows where the model's top legal action is the reference's.
    pub top1: f64,
    /// Mean absolute logit error.
    pub mean_abs_logit_error: f64,
    /// Largest absolute logit error.
    pub max_abs_logit_error: f64,
    /// Largest absolute value error, when both have a value head.
    pub max_abs_value_error: Option<f64>,
}

/// Decision latency: one row in, the masked decision out, through the [`Policy`] API.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Latency {
    /// Decisions timed.
    pub decisions: usize,
    /// Median, microseconds.
    pub p50_us: f64,
    /// 99th percentile, microseconds.
    pub p99_us: f64,
    /// Slowest, microseconds.
    pub max_us: f64,
}

/// What [`check`] found.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CheckReport {
    /// The model's `tactician` metadata, if it has one.
    pub metadata: Option<Metadata>,
    /// Its answers against the reference's.
    pub agreement: Agreement,
    /// Its decision latency, when decisions were timed.
    pub latency: Option<Latency>,
}

/// The legal index with the highest score, the lowest such index on ties; a NaN score counts
/// as minus infinity. `None` when nothing is legal.
pub fn masked_argmax(scores: &[f32], legal: impl Fn(usize) -> bool) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (i, &s) in scores.iter().enumerate() {
        if !legal(i) {
            continue;
        }
        let s = if s.is_nan() { f32::NEG_INFINITY } else { s };
        if best.is_none_or(|(_, b)| s > b) {
            best = Some((i, s));
        }
    }
    best.map(|(i, _)| i)
}

/// Runs `rows` rows of `features` through `engine` in batches of its planned size: (logits,
/// values), by the outputs named `logits` and `value`.
pub fn run_rows(
    engine: &mut Engine,
    features: &[f32],
    rows: usize,
) -> Result<(Vec<f32>, Option<Vec<f32>>)> {
    let names: Vec<&str> = engine.outputs().iter().map(|p| p.name.as_str()).collect();
    let li = names
        .iter()
        .position(|n| *n == "logits")
        .ok_or_else(|| Error::Unsupported("the model has no output named \"logits\"".into()))?;
    let vi = names.iter().position(|n| *n == "value");
    let width = engine.inputs().first().map_or(0, |p| p.row);
    if features.len() != rows * width {
        return Err(Error::InputLength {
            what: "features",
            expected: rows * width,
            got: features.len(),
        });
    }
    let batch = engine.max_batch();
    let mut logits = Vec::new();
    let mut value = vi.map(|_| Vec::with_capacity(rows));
    for start in (0..rows).step_by(batch) {
        let n = batch.min(rows - start);
        engine
            .input_mut(0, n)?
            .copy_from_slice(&features[start * width..(start + n) * width]);
        engine.run(n)?;
        logits.extend_from_slice(engine.output(li, n)?);
        if let (Some(vi), Some(v)) = (vi, value.as_mut()) {
            v.extend_from_slice(engine.output(vi, n)?);
        }
    }
    Ok((logits, value))
}

/// Compares a model's `logits` (and `values`) on the reference's rows with the reference's.
pub fn agreement(logits: &[f32], values: Option<&[f32]>, reference: &Reference<'_>) -> Agreement {
    let a = reference.actions;
    let (mut agree, mut counted) = (0usize, 0usize);
    for (r, legal) in reference.legal.chunks_exact(a.max(1)).enumerate() {
        let is_legal = |i: usize| legal[i] != 0;
        let row = r * a..(r + 1) * a;
        if let Some(want) = masked_argmax(&reference.logits[row.clone()], is_legal) {
            counted += 1;
            agree += usize::from(masked_argmax(&logits[row], is_legal) == Some(want));
        }
    }
    let (sum, max) = logits
        .iter()
        .zip(reference.logits)
        .map(|(x, y)| f64::from((x - y).abs()))
        .fold((0f64, 0f64), |(s, m), e| (s + e, m.max(e)));
    let max_abs_value_error = match (values, reference.values) {
        (Some(v), Some(r)) => Some(
            v.iter()
                .zip(r)
                .map(|(x, y)| f64::from((x - y).abs()))
                .fold(0f64, f64::max),
        ),
        _ => None,
    };
    Agreement {
        rows: counted,
        top1: if counted == 0 {
            1.0
        } else {
            agree as f64 / counted as f64
        },
        mean_abs_logit_error: sum / logits.len().max(1) as f64,
        max_abs_logit_error: max,
        max_abs_value_error,
    }
}

/// Loads the `.tflite` file `bytes`, runs it on the reference's rows and compares its answers;
/// times `timed` single decisions (the first rows with a legal action) through the policy API.
/// With `encoder_hash`, a model whose metadata names another encoder (or none) is refused.
pub fn check(
    bytes: &[u8],
    reference: &Reference<'_>,
    encoder_hash: Option<&str>,
    timed: usize,
) -> Result<CheckReport> {
    const BATCH: usize = 256;
    let graph = crate::load::graph_from_bytes(bytes)?;
    let metadata = graph_metadata(&graph)?;
    if let Some(device) = encoder_hash {
        crate::policy::require_encoder(metadata.as_ref(), device)?;
    }
    let rows = reference.rows();
    if reference.logits.len() != rows * reference.actions
        || reference.values.is_some_and(|v| v.len() != rows)
    {
        return Err(Error::InputLength {
            what: "reference outputs",
            expected: rows * reference.actions,
            got: reference.logits.len(),
        });
    }
    let mut engine = Engine::new(&graph, BATCH)?;
    let (logits, values) = run_rows(&mut engine, reference.features, rows)?;
    if logits.len() != reference.logits.len() {
        return Err(Error::Unsupported(format!(
            "the model gives {} logits per row, the reference {}",
            logits.len() / rows.max(1),
            reference.logits.len() / rows.max(1)
        )));
    }
    let agreement = agreement(&logits, values.as_deref(), reference);
    let latency = if timed == 0 {
        None
    } else {
        // The encoder was checked above.
        let opts = PolicyOptions {
            max_batch: 1,
            ..PolicyOptions::default()
        };
        let mut policy = Policy::from_graph(&graph, &opts)?;
        Some(time_decisions(&mut policy, reference, timed)?)
    };
    Ok(CheckReport {
        metadata,
        agreement,
        latency,
    })
}

/// Times up to `n` single decisions on the reference's rows that have a legal action.
fn time_decisions(policy: &mut Policy, reference: &Reference<'_>, n: usize) -> Result<Latency> {
    let rows = reference.rows();
    let a = reference.actions;
    let f = reference.features.len() / rows.max(1);
    let mut legal = vec![false; a];
    let mut times = Vec::with_capacity(n);
    for r in 0..rows {
        if times.len() == n {
            break;
        }
        for (l, &v) in legal.iter_mut().zip(&reference.legal[r * a..(r + 1) * a]) {
            *l = v != 0;
        }
        if !legal.contains(&true) {
            continue;
        }
        let x = &reference.features[r * f..(r + 1) * f];
        let t0 = Instant::now();
        policy.act(x, &legal)?;
        times.push(t0.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| {
        times
            .get(((times.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    Ok(Latency {
        decisions: times.len(),
        p50_us: at(0.5),
        p99_us: at(0.99),
        max_us: times.last().copied().unwrap_or(0.0),
    })
}
