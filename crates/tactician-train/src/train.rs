//! The training loop: epochs of shuffled batches, validation, metrics, checkpoints, early
//! stopping, resume, and the final model folder.
//!
//! Files, for `--out MODEL`: the run folder `MODEL.run/` holds `status.json` (running, failed,
//! finished), `checkpoint.safetensors` (weights, Adam moments and best weights, with the whole
//! JSON state in its metadata, so one atomic rename saves a consistent checkpoint),
//! `checkpoint.json` (a readable copy of that state) and `metrics.jsonl`. `MODEL/` appears only
//! when training has finished, complete, in one rename.

use crate::checkpoint::{
    CKPT, CheckpointState, State, load_checkpoint, save_checkpoint, write_status,
};
pub use crate::checkpoint::{Status, read_status, run_dir};
use crate::config::TrainConfig;
use crate::data::Prepared;
use crate::error::TrainError;
use crate::model::{self, TrainedModel};
use crate::net::{self, BatchStats, NetSpec, Sharded, Targets};
use crate::optim::{Adam, AdamParams};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tactician_formats::model::{MODEL_FORMAT, ModelJson};
use tactician_formats::prepared::Split;
use tactician_os::process::peak_rss_mib;

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
        let a = split.actions;
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
    let all: Vec<u32> = (0..split.rows as u32).collect();
    for rows in all.chunks(cap) {
        buf.gather(split, rows);
        let batch = net::Batch {
            features: &split.x,
            f: split.features,
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
    let (f, a) = (data.train.features, data.train.actions);
    let spec = net_spec(cfg, f, a);
    let dir = run_dir(&opts.out);
    tactician_os::check_disjoint(&opts.out, &[&data.dir])?;
    tactician_os::check_disjoint(&dir, &[&data.dir])?;
    let encoder_hash = data.manifest.encoder.hash.clone();
    let status = read_status(&opts.out);
    if let Some(s) = &status
        && s.state == "running"
        && s.pid != std::process::id()
        && tactician_os::process::is_running(s.pid)
    {
        return Err(TrainError::State(format!(
            "{} is being trained by process {}",
            opts.out.display(),
            s.pid
        )));
    }

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
        if let Err(e) = tactician_os::OutputDir::preflight(
            &opts.out,
            &tactician_formats::model::is_model_file,
            opts.force,
        ) {
            return Err(match e {
                tactician_os::Error::Exists { .. } => TrainError::State(format!(
                    "{} already holds a model; pass --force to replace it",
                    opts.out.display()
                )),
                e => e.into(),
            });
        }
        if let Some(s) = &status
            && s.state != "finished"
            && !opts.force
        {
            return Err(TrainError::State(format!(
                "{} holds an unfinished run (state `{}`, {} epochs checkpointed{}); pass --resume to \
                 continue it or --force to start over",
                dir.display(),
                s.state_now(),
                s.epoch,
                if s.message.is_empty() {
                    String::new()
                } else {
                    format!(": {}", s.message)
                }
            )));
        }
        crate::checkpoint::clear_run_dir(&dir)?;
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
    std::fs::create_dir_all(&dir).map_err(|e| TrainError::io("create", &dir, e))?;
    let _ = std::fs::remove_file(dir.join("paused"));
    write_status(&dir, "running", st.ck.epoch, "")?;
    // metrics.jsonl always mirrors the checkpoint's history (a killed epoch leaves no line).
    let metrics_path = dir.join("metrics.jsonl");
    let mut lines = String::new();
    for m in &st.ck.history {
        lines.push_str(&serde_json::to_string(m).unwrap_or_default());
        lines.push('\n');
    }
    tactician_os::write_atomic(&metrics_path, lines.as_bytes())?;

    let result = run_epochs(data, opts, &spec, &mut st, &dir, progress);
    match result {
        Ok(stop_reason) => finish(data, opts, &spec, &st, &dir, stop_reason, resumed_from),
        Err(e) => {
            let _ = write_status(&dir, "failed", st.ck.epoch, &tactician_os::report(&e));
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
    let scale: Vec<f32> = (0..train.features).map(|j| norm.scale(j)).collect();
    let bs = cfg.batch_size.min(train.rows).max(1);
    let steps_per_epoch = train.rows.div_ceil(bs) as u64;
    let mut sh = Sharded::new(spec, bs);
    let mut buf = BatchBuf::new(bs, train.actions);
    let mut order: Vec<u32> = Vec::with_capacity(train.rows);
    let mut metrics_file = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join("metrics.jsonl"))
        .map_err(|e| TrainError::io("write", dir.join("metrics.jsonl"), e))?;
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
        order.extend(0..train.rows as u32);
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
                features: &train.x,
                f: train.features,
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
            samples_per_sec: train.rows as f64 / train_secs.max(1e-9),
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
            .map_err(|e| TrainError::io("write", dir.join("metrics.jsonl"), e))?;
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
        format: MODEL_FORMAT.into(),
        inputs: spec.inputs,
        hidden: spec.hidden.clone(),
        activation: spec.activation,
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
        .map_err(|e| TrainError::io("read", dir.join("metrics.jsonl"), e))?;
    // The model folder was checked before training (`--force`, overlap with the data).
    let written = model::write_model_dir(
        &opts.out,
        spec,
        &folded,
        meta,
        &[("metrics.jsonl", &metrics)],
        true,
    )?;
    summary.model_version = written.model_version;
    write_status(dir, "finished", st.ck.epoch, &summary.stop_reason)?;
    Ok(summary)
}

/// Loads the model a finished run wrote (a convenience for callers).
pub fn load_model(out: &Path) -> Result<TrainedModel, TrainError> {
    TrainedModel::load(out)
}
