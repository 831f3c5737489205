//! The training loop: epochs of shuffled batches, validation, metrics, checkpoints, early
//! stopping, resume, and the final model folder.
//!
//! Files, for `--out MODEL`: the run folder `MODEL.run/` holds `status.json` (running, failed,
//! finished), `checkpoint.safetensors` (weights, Adam moments and best weights, with the whole
//! JSON state in its metadata, so one atomic rename saves a consistent checkpoint),
//! `checkpoint.json` (a readable copy of that state) and `metrics.jsonl`. `MODEL/` appears only
//! when training has finished, complete, in one rename.

use crate::config::TrainConfig;
use crate::data::{Prepared, Split};
use crate::error::TrainError;
use crate::model::{self, ModelJson, TrainedModel};
use crate::net::{self, BatchStats, NetSpec, Sharded, Targets};
use crate::optim::{Adam, AdamParams};
use crate::rng::Rng;
use crate::tensors;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// One line of metrics.jsonl.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// 1-based epoch.
    pub epoch: usize,
    /// Weighted mean training loss over the epoch's batches.
    pub train_loss: f64,
    /// Training top-1 accuracy (before each batch's update).
    pub train_acc: f64,
    /// Weighted mean validation loss.
    pub val_loss: f64,
    /// Validation top-1 accuracy.
    pub val_top1: f64,
    /// Validation top-3 accuracy.
    pub val_top3: f64,
    /// Validation mean absolute value-head error (null without a value head).
    pub val_value_mae: Option<f64>,
    /// Learning rate of the epoch's last step.
    pub lr: f64,
    /// Mean gradient L2 norm over the epoch's batches.
    pub grad_norm: f64,
    /// Wall-clock seconds of the epoch (training and validation).
    pub epoch_seconds: f64,
    /// Training examples per second (training passes only).
    pub samples_per_sec: f64,
    /// Peak resident memory of the process so far, MiB (null where unknown).
    pub peak_rss_mib: Option<f64>,
}

/// The state saved with every checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointState {
    /// Completed epochs.
    pub epoch: usize,
    /// The settings.
    pub config: TrainConfig,
    /// Encoder hash of the data.
    pub encoder_hash: String,
    /// The generator's state after `epoch`.
    pub rng: Rng,
    /// Optimizer steps taken.
    pub adam_t: u64,
    /// Best validation loss and its epoch.
    pub best: Option<(f64, usize)>,
    /// Epochs since the best.
    pub since_best: usize,
    /// Metrics of every completed epoch.
    pub history: Vec<EpochMetrics>,
}

/// status.json of a run folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// `running`, `failed` or `finished`. A `running` status whose process is gone means the
    /// run was interrupted.
    pub state: String,
    /// Process id of the run.
    pub pid: u32,
    /// Completed (checkpointed) epochs.
    pub epoch: usize,
    /// Why it failed, or how it finished.
    pub message: String,
}

/// What training ended with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainSummary {
    /// Epochs run (in total, over resumes).
    pub epochs_run: usize,
    /// Why training stopped.
    pub stop_reason: String,
    /// Epoch of the kept weights (best validation loss).
    pub best_epoch: usize,
    /// Its validation loss.
    pub best_val_loss: f64,
    /// Its validation top-1 accuracy.
    pub best_val_top1: f64,
    /// Highest validation top-1 accuracy of any epoch.
    pub max_val_top1: f64,
    /// First epoch reaching 95% of the highest validation top-1 accuracy.
    pub epochs_to_95pct: usize,
    /// Training examples per second over all epochs of this process.
    pub samples_per_sec: f64,
    /// Seconds spent training in this process.
    pub seconds: f64,
    /// Peak resident memory, MiB.
    pub peak_rss_mib: Option<f64>,
    /// The model folder.
    pub model_dir: PathBuf,
    /// Its model_version.
    pub model_version: String,
    /// Whether this run was resumed from a checkpoint.
    pub resumed_from_epoch: Option<usize>,
}

/// Receives progress (the CLI draws a bar from it).
pub trait Progress: Send {
    /// An epoch of `batches` batches starts.
    fn epoch_start(&mut self, _epoch: usize, _epochs: usize, _batches: usize) {}
    /// `done` batches of the epoch are done; `loss` is the running mean loss.
    fn batch(&mut self, _done: usize, _loss: f64) {}
    /// An epoch ended.
    fn epoch_end(&mut self, _m: &EpochMetrics) {}
}

/// Progress that goes nowhere.
pub struct NoProgress;
impl Progress for NoProgress {}

/// How to run.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// The settings.
    pub config: TrainConfig,
    /// The model folder to write.
    pub out: PathBuf,
    /// Continue from the run folder's checkpoint.
    pub resume: bool,
    /// Replace an existing model or unfinished run.
    pub force: bool,
    /// Test hook: at (epoch, batch), write `paused` in the run folder and wait forever (so a
    /// test can kill the process mid-epoch).
    pub pause_at: Option<(usize, usize)>,
}

/// The run folder of model folder `out`.
pub fn run_dir(out: &Path) -> PathBuf {
    model::sibling(out, ".run")
}

/// Reads the status of the run for model folder `out`, if there is one.
pub fn read_status(out: &Path) -> Option<Status> {
    let text = std::fs::read_to_string(run_dir(out).join("status.json")).ok()?;
    serde_json::from_str(&text).ok()
}

fn write_status(dir: &Path, state: &str, epoch: usize, message: &str) -> Result<(), TrainError> {
    let s = Status {
        state: state.into(),
        pid: std::process::id(),
        epoch,
        message: message.into(),
    };
    let text = serde_json::to_string_pretty(&s).unwrap_or_default();
    tensors::write_atomic(&dir.join("status.json"), text.as_bytes())
}

/// Peak resident memory of this process in MiB (Linux), if known.
pub fn peak_rss_mib() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// The threads a config asks for (0: one per core).
pub fn thread_count(config: &TrainConfig) -> usize {
    if config.threads > 0 {
        config.threads
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

/// The network a config describes for data of `f` features and `a` actions.
pub fn net_spec(config: &TrainConfig, f: usize, a: usize) -> NetSpec {
    NetSpec {
        inputs: f,
        hidden: config.hidden.clone(),
        activation: config.activation,
        actions: a,
        value_head: config.value_head,
    }
}

/// Batch buffers of labels (gathered per batch) beside the network's workspace.
struct BatchBuf {
    rows: Vec<u32>,
    legal: Vec<u8>,
    action: Vec<u32>,
    weight: Vec<f32>,
    value: Vec<f32>,
}

impl BatchBuf {
    fn new(cap: usize, a: usize) -> Self {
        Self {
            rows: Vec::with_capacity(cap),
            legal: Vec::with_capacity(cap * a),
            action: Vec::with_capacity(cap),
            weight: Vec::with_capacity(cap),
            value: Vec::with_capacity(cap),
        }
    }

    fn gather(&mut self, split: &Split, rows: &[u32]) {
        let a = split.a;
        self.rows.clear();
        self.rows.extend_from_slice(rows);
        self.legal.clear();
        self.action.clear();
        self.weight.clear();
        self.value.clear();
        for &r in rows {
            let r = r as usize;
            self.legal
                .extend_from_slice(&split.legal[r * a..(r + 1) * a]);
            self.action.push(split.action[r]);
            self.weight.push(split.weight[r]);
            self.value.push(split.value[r]);
        }
    }

    fn targets(&self) -> Targets<'_> {
        Targets {
            legal: &self.legal,
            action: &self.action,
            weight: &self.weight,
            value: &self.value,
        }
    }
}

/// Everything that changes during training.
struct State {
    params: Vec<f32>,
    best_params: Vec<f32>,
    adam: Adam,
    ck: CheckpointState,
}

const CKPT: &str = "checkpoint.safetensors";

fn save_checkpoint(dir: &Path, spec: &NetSpec, st: &State) -> Result<(), TrainError> {
    let path = dir.join(CKPT);
    let json =
        serde_json::to_string(&st.ck).map_err(|e| TrainError::format(&path, e.to_string()))?;
    let mut out = Vec::new();
    for t in spec.tensors() {
        let r = t.offset..t.offset + t.len();
        out.push(tensors::Out {
            name: t.name.clone(),
            shape: t.shape.clone(),
            data: &st.params[r.clone()],
        });
        out.push(tensors::Out {
            name: format!("adam.m.{}", t.name),
            shape: t.shape.clone(),
            data: &st.adam.m[r.clone()],
        });
        out.push(tensors::Out {
            name: format!("adam.v.{}", t.name),
            shape: t.shape.clone(),
            data: &st.adam.v[r.clone()],
        });
        out.push(tensors::Out {
            name: format!("best.{}", t.name),
            shape: t.shape.clone(),
            data: &st.best_params[r],
        });
    }
    let meta = HashMap::from([("state".to_string(), json.clone())]);
    tensors::write_f32(&path, &out, Some(meta))?;
    let pretty = serde_json::to_string_pretty(&st.ck).unwrap_or(json);
    tensors::write_atomic(&dir.join("checkpoint.json"), pretty.as_bytes())
}

fn load_checkpoint(dir: &Path, spec: &NetSpec) -> Result<State, TrainError> {
    let path = dir.join(CKPT);
    let bytes = tensors::read_bytes(&path)?;
    let meta = tensors::metadata(&path, &bytes)?;
    let json = meta
        .get("state")
        .ok_or_else(|| TrainError::format(&path, "no training state in the checkpoint"))?;
    let ck: CheckpointState = serde_json::from_str(json)
        .map_err(|e| TrainError::format(&path, format!("bad training state: {e}")))?;
    let st = tensors::parse(&path, &bytes)?;
    let n = spec.param_count();
    let (mut params, mut m, mut v, mut best) =
        (vec![0f32; n], vec![0f32; n], vec![0f32; n], vec![0f32; n]);
    for t in spec.tensors() {
        for (prefix, buf) in [
            ("", &mut params),
            ("adam.m.", &mut m),
            ("adam.v.", &mut v),
            ("best.", &mut best),
        ] {
            let name = format!("{prefix}{}", t.name);
            let (data, shape) = tensors::f32s(&path, &st, &name)?;
            if shape != t.shape {
                return Err(TrainError::format(
                    &path,
                    format!(
                        "`{name}` has shape {shape:?} but the config needs {:?}",
                        t.shape
                    ),
                ));
            }
            buf[t.offset..t.offset + t.len()].copy_from_slice(&data);
        }
    }
    Ok(State {
        params,
        best_params: best,
        adam: Adam { m, v, t: ck.adam_t },
        ck,
    })
}

/// Forward-only pass over a whole split, data-parallel over shards.
#[allow(clippy::too_many_arguments)]
fn evaluate(
    spec: &NetSpec,
    params: &[f32],
    sh: &mut Sharded,
    buf: &mut BatchBuf,
    split: &Split,
    mean: &[f32],
    scale: &[f32],
    value_weight: f32,
) -> BatchStats {
    let mut total = BatchStats::default();
    let cap = sh.capacity();
    let all: Vec<u32> = (0..split.n as u32).collect();
    for rows in all.chunks(cap) {
        buf.gather(split, rows);
        let batch = net::Batch {
            features: &split.features,
            f: split.f,
            rows,
            mean,
            scale,
            targets: buf.targets(),
        };
        total.add(&net::eval_sharded(spec, params, sh, &batch, value_weight));
    }
    total
}

/// Trains on `data` as `opts` says; returns the summary once the model folder is written.
pub fn train(
    data: &Prepared,
    opts: &TrainOptions,
    progress: &mut dyn Progress,
) -> Result<TrainSummary, TrainError> {
    let cfg = &opts.config;
    cfg.validate()?;
    if cfg.hidden.is_empty() {
        return Err(TrainError::Config(
            "at least one hidden layer is needed".into(),
        ));
    }
    let threads = thread_count(cfg);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| TrainError::State(format!("cannot start {threads} threads: {e}")))?;
    pool.install(|| train_in_pool(data, opts, progress))
}

fn train_in_pool(
    data: &Prepared,
    opts: &TrainOptions,
    progress: &mut dyn Progress,
) -> Result<TrainSummary, TrainError> {
    let cfg = &opts.config;
    let (f, a) = (data.train.f, data.train.a);
    let spec = net_spec(cfg, f, a);
    let dir = run_dir(&opts.out);
    let encoder_hash = data.manifest.encoder.hash.clone();
    let status = read_status(&opts.out);

    let mut st = if opts.resume {
        let Some(status) = status else {
            return Err(TrainError::State(format!(
                "nothing to resume: {} holds no run (start without --resume)",
                dir.display()
            )));
        };
        if status.state == "finished" {
            return Err(TrainError::State(format!(
                "the run in {} has already finished; its model is {}",
                dir.display(),
                opts.out.display()
            )));
        }
        if !dir.join(CKPT).exists() {
            return Err(TrainError::State(format!(
                "the run in {} stopped before its first checkpoint; start again without --resume (with --force)",
                dir.display()
            )));
        }
        let st = load_checkpoint(&dir, &spec)?;
        if st.ck.encoder_hash != encoder_hash {
            return Err(TrainError::Encoder(format!(
                "the checkpoint was trained on encoder {} but {} holds data of encoder {encoder_hash}",
                st.ck.encoder_hash,
                data.dir.display()
            )));
        }
        let mut saved = st.ck.config.clone();
        saved.threads = cfg.threads;
        saved.epochs = cfg.epochs;
        if saved != *cfg {
            return Err(TrainError::State(
                "the settings differ from the checkpoint's (only epochs and threads may change on --resume)".into(),
            ));
        }
        st
    } else {
        if opts.out.exists() && !opts.force {
            return Err(TrainError::State(format!(
                "{} already exists; pass --force to replace it",
                opts.out.display()
            )));
        }
        if let Some(s) = &status
            && s.state != "finished"
            && !opts.force
        {
            return Err(TrainError::State(format!(
                "{} holds an unfinished run (state `{}`, {} epochs checkpointed{}); pass --resume to \
                 continue it or --force to start over",
                dir.display(),
                s.state,
                s.epoch,
                if s.message.is_empty() {
                    String::new()
                } else {
                    format!(": {}", s.message)
                }
            )));
        }
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| TrainError::io(&dir, e))?;
        }
        let mut rng = Rng::new(cfg.seed);
        let params = spec.init(&mut rng);
        State {
            best_params: params.clone(),
            adam: Adam::new(params.len()),
            params,
            ck: CheckpointState {
                epoch: 0,
                config: cfg.clone(),
                encoder_hash: encoder_hash.clone(),
                rng,
                adam_t: 0,
                best: None,
                since_best: 0,
                history: Vec::new(),
            },
        }
    };
    st.ck.config = cfg.clone();
    let resumed_from = opts.resume.then_some(st.ck.epoch);
    std::fs::create_dir_all(&dir).map_err(|e| TrainError::io(&dir, e))?;
    let _ = std::fs::remove_file(dir.join("paused"));
    write_status(&dir, "running", st.ck.epoch, "")?;
    // metrics.jsonl always mirrors the checkpoint's history (a killed epoch leaves no line).
    let metrics_path = dir.join("metrics.jsonl");
    let mut lines = String::new();
    for m in &st.ck.history {
        lines.push_str(&serde_json::to_string(m).unwrap_or_default());
        lines.push('\n');
    }
    tensors::write_atomic(&metrics_path, lines.as_bytes())?;

    let result = run_epochs(data, opts, &spec, &mut st, &dir, progress);
    match result {
        Ok(stop_reason) => finish(data, opts, &spec, &st, &dir, stop_reason, resumed_from),
        Err(e) => {
            let _ = write_status(&dir, "failed", st.ck.epoch, &e.to_string());
            Err(e)
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn run_epochs(
    data: &Prepared,
    opts: &TrainOptions,
    spec: &NetSpec,
    st: &mut State,
    dir: &Path,
    progress: &mut dyn Progress,
) -> Result<String, TrainError> {
    let cfg = &opts.config;
    let train = &data.train;
    let norm = &data.manifest.normalization;
    let mean = norm.mean.clone();
    let scale: Vec<f32> = (0..train.f).map(|j| norm.scale(j)).collect();
    let bs = cfg.batch_size.min(train.n).max(1);
    let steps_per_epoch = train.n.div_ceil(bs) as u64;
    let mut sh = Sharded::new(spec, bs);
    let mut buf = BatchBuf::new(bs, train.a);
    let mut order: Vec<u32> = Vec::with_capacity(train.n);
    let mut metrics_file = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join("metrics.jsonl"))
        .map_err(|e| TrainError::io(dir.join("metrics.jsonl"), e))?;
    if st.ck.epoch >= cfg.epochs {
        return Ok(format!("completed all {} epochs", cfg.epochs));
    }
    if cfg.patience > 0 && st.ck.since_best >= cfg.patience {
        return Ok(format!(
            "early stopping: no better validation loss for {} epochs",
            cfg.patience
        ));
    }
    for epoch in st.ck.epoch + 1..=cfg.epochs {
        let t0 = Instant::now();
        order.clear();
        order.extend(0..train.n as u32);
        st.ck.rng.shuffle(&mut order);
        progress.epoch_start(epoch, cfg.epochs, steps_per_epoch as usize);
        let mut total = BatchStats::default();
        let mut norm_sum = 0f64;
        let mut lr = cfg.lr;
        for (bi, rows) in order.chunks(bs).enumerate() {
            if opts.pause_at == Some((epoch, bi + 1)) {
                let _ = std::fs::write(dir.join("paused"), b"paused\n");
                loop {
                    std::thread::sleep(std::time::Duration::from_secs(60));
                }
            }
            buf.gather(train, rows);
            let batch = net::Batch {
                features: &train.features,
                f: train.f,
                rows,
                mean: &mean,
                scale: &scale,
                targets: buf.targets(),
            };
            let (s, grad_norm) =
                net::train_step_sharded(spec, &st.params, &mut sh, &batch, cfg.value_weight);
            let batch_loss = s.loss_sum / rows.len() as f64;
            // The norm is not finite exactly when some gradient element is not.
            if !batch_loss.is_finite() || !grad_norm.is_finite() {
                return Err(TrainError::NonFinite {
                    epoch,
                    batch: bi + 1,
                    value: batch_loss as f32,
                    last_good_epoch: st.ck.epoch,
                });
            }
            total.add(&s);
            lr = cfg.lr_at(st.adam.t, steps_per_epoch);
            let h = AdamParams {
                kind: cfg.optimizer,
                lr,
                beta1: cfg.beta1,
                beta2: cfg.beta2,
                eps: cfg.eps,
                weight_decay: cfg.weight_decay,
            };
            st.adam.step(&mut st.params, sh.grad(), &h);
            norm_sum += grad_norm;
            progress.batch(bi + 1, total.loss_sum / total.n.max(1) as f64);
        }
        let train_secs = t0.elapsed().as_secs_f64();
        let v = evaluate(
            spec,
            &st.params,
            &mut sh,
            &mut buf,
            &data.val,
            &mean,
            &scale,
            cfg.value_weight,
        );
        let vn = v.n.max(1) as f64;
        let m = EpochMetrics {
            epoch,
            train_loss: total.loss_sum / total.n.max(1) as f64,
            train_acc: total.top1 as f64 / total.n.max(1) as f64,
            val_loss: if v.n > 0 { v.loss_sum / vn } else { f64::NAN },
            val_top1: v.top1 as f64 / vn,
            val_top3: v.top3 as f64 / vn,
            val_value_mae: spec.value_head.then_some(v.value_abs_err / vn),
            lr,
            grad_norm: norm_sum / steps_per_epoch as f64,
            epoch_seconds: t0.elapsed().as_secs_f64(),
            samples_per_sec: train.n as f64 / train_secs.max(1e-9),
            peak_rss_mib: peak_rss_mib(),
        };
        // Without a validation split the training loss decides.
        let watched = if v.n > 0 { m.val_loss } else { m.train_loss };
        if !watched.is_finite() {
            return Err(TrainError::NonFinite {
                epoch,
                batch: 0,
                value: watched as f32,
                last_good_epoch: st.ck.epoch,
            });
        }
        match st.ck.best {
            Some((best, _)) if watched >= best => st.ck.since_best += 1,
            _ => {
                st.ck.best = Some((watched, epoch));
                st.ck.since_best = 0;
                st.best_params.copy_from_slice(&st.params);
            }
        }
        st.ck.epoch = epoch;
        st.ck.adam_t = st.adam.t;
        st.ck.history.push(m.clone());
        save_checkpoint(dir, spec, st)?;
        let mut line = serde_json::to_string(&m).unwrap_or_default();
        line.push('\n');
        metrics_file
            .write_all(line.as_bytes())
            .and_then(|()| metrics_file.flush())
            .map_err(|e| TrainError::io(dir.join("metrics.jsonl"), e))?;
        write_status(dir, "running", epoch, "")?;
        progress.epoch_end(&m);
        if cfg.patience > 0 && st.ck.since_best >= cfg.patience {
            return Ok(format!(
                "early stopping: no better validation loss for {} epochs",
                cfg.patience
            ));
        }
    }
    Ok(format!("completed all {} epochs", cfg.epochs))
}

fn finish(
    data: &Prepared,
    opts: &TrainOptions,
    spec: &NetSpec,
    st: &State,
    dir: &Path,
    stop_reason: String,
    resumed_from: Option<usize>,
) -> Result<TrainSummary, TrainError> {
    let h = &st.ck.history;
    let (best_val_loss, best_epoch) = st.ck.best.unwrap_or((f64::NAN, 0));
    let best = h.iter().find(|m| m.epoch == best_epoch);
    let max_top1 = h.iter().map(|m| m.val_top1).fold(0.0, f64::max);
    let to95 = h
        .iter()
        .find(|m| m.val_top1 >= 0.95 * max_top1)
        .map_or(0, |m| m.epoch);
    let this_run: Vec<&EpochMetrics> = h
        .iter()
        .filter(|m| m.epoch > resumed_from.unwrap_or(0))
        .collect();
    let secs: f64 = this_run.iter().map(|m| m.epoch_seconds).sum();
    let sps = if this_run.is_empty() {
        0.0
    } else {
        this_run.iter().map(|m| m.samples_per_sec).sum::<f64>() / this_run.len() as f64
    };
    let mut summary = TrainSummary {
        epochs_run: st.ck.epoch,
        stop_reason,
        best_epoch,
        best_val_loss,
        best_val_top1: best.map_or(0.0, |m| m.val_top1),
        max_val_top1: max_top1,
        epochs_to_95pct: to95,
        samples_per_sec: sps,
        seconds: secs,
        peak_rss_mib: peak_rss_mib(),
        model_dir: opts.out.clone(),
        model_version: String::new(),
        resumed_from_epoch: resumed_from,
    };
    let mut folded = st.best_params.clone();
    model::fold_normalization(spec, &mut folded, &data.manifest.normalization);
    let enc = &data.manifest.encoder;
    let meta = ModelJson {
        format: model::MODEL_FORMAT.into(),
        inputs: spec.inputs,
        hidden: spec.hidden.clone(),
        activation: spec.activation.name().into(),
        actions: spec.actions,
        value_head: spec.value_head,
        encoder_hash: enc.hash.clone(),
        feature_names: enc.features.clone(),
        action_names: enc.actions.clone(),
        model_version: String::new(),
        training: serde_json::json!({
            "config": opts.config,
            "summary": &summary,
            "prepared": data.dir,
        }),
    };
    let metrics = std::fs::read(dir.join("metrics.jsonl"))
        .map_err(|e| TrainError::io(dir.join("metrics.jsonl"), e))?;
    let written = model::write_model_dir(
        &opts.out,
        spec,
        &folded,
        meta,
        &[("metrics.jsonl", metrics)],
    )?;
    summary.model_version = written.model_version;
    write_status(dir, "finished", st.ck.epoch, &summary.stop_reason)?;
    Ok(summary)
}

/// Loads the model a finished run wrote (a convenience for callers).
pub fn load_model(out: &Path) -> Result<TrainedModel, TrainError> {
    TrainedModel::load(out)
}
