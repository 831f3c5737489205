//! End-to-end training on synthetic prepared data: learning, determinism, folding, metrics,
//! status files and bad input.

use std::path::Path;
use tactician_train::synth::{SynthSpec, write_prepared};
use tactician_train::train::{NoProgress, TrainOptions, read_status, run_dir};
use tactician_train::{Prepared, TrainConfig, TrainError, TrainedModel, train};

fn small_config() -> TrainConfig {
    TrainConfig {
        hidden: vec![32, 16],
        epochs: 4,
        batch_size: 64,
        lr: 3e-3,
        threads: 2,
        patience: 0,
        ..Default::default()
    }
}

fn prepared(dir: &Path, seed: u64) -> Prepared {
    write_prepared(dir, &SynthSpec::new(12, 6, 2000, 400, seed)).unwrap();
    Prepared::load(dir, None).unwrap()
}

fn opts(config: TrainConfig, out: &Path) -> TrainOptions {
    TrainOptions {
        config,
        out: out.to_path_buf(),
        resume: false,
        force: false,
        pause_at: None,
    }
}

#[test]
fn trains_deterministically_and_writes_a_folded_model() {
    let tmp = tempfile::tempdir().unwrap();
    let data = prepared(&tmp.path().join("prep"), 1);
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    let s = train(&data, &opts(small_config(), &a), &mut NoProgress).unwrap();
    train(&data, &opts(small_config(), &b), &mut NoProgress).unwrap();
    let wa = std::fs::read(a.join("model.safetensors")).unwrap();
    let wb = std::fs::read(b.join("model.safetensors")).unwrap();
    assert_eq!(
        wa, wb,
        "same config and seed must give bit-identical weights"
    );
    // A different seed gives different weights.
    let c = tmp.path().join("c");
    train(
        &data,
        &opts(
            TrainConfig {
                seed: 9,
                ..small_config()
            },
            &c,
        ),
        &mut NoProgress,
    )
    .unwrap();
    assert_ne!(wa, std::fs::read(c.join("model.safetensors")).unwrap());

    // It learned: chance is about 1/4 (4.5 legal actions on average).
    assert!(s.best_val_top1 > 0.45, "val top-1 {}", s.best_val_top1);
    assert_eq!(s.epochs_run, 4);
    assert_eq!(read_status(&a).unwrap().state, "finished");
    let lines = std::fs::read_to_string(a.join("metrics.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 4);
    let first: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    for key in [
        "train_loss",
        "train_acc",
        "val_loss",
        "val_top1",
        "val_top3",
        "val_value_mae",
        "lr",
        "grad_norm",
        "epoch_seconds",
        "samples_per_sec",
        "peak_rss_mib",
    ] {
        assert!(first.get(key).is_some(), "metrics line lacks {key}");
    }

    // The saved model takes RAW features: its predictions agree with the labels as often as
    // validation said (the same examples, normalized inside the trainer).
    let model = TrainedModel::load(&a).unwrap();
    assert_eq!(model.meta.encoder_hash, "synthetic-encoder-1");
    let (logits, values) = model.predict(&data.val.x, 100);
    assert_eq!(values.len(), data.val.rows);
    let act = data.val.actions;
    let hits = (0..data.val.rows)
        .filter(|&i| {
            let row = &logits[i * act..(i + 1) * act];
            let legal = &data.val.legal[i * act..(i + 1) * act];
            let best = (0..act)
                .filter(|&j| legal[j] != 0)
                .fold(None, |best: Option<usize>, j| match best {
                    Some(k) if row[k] >= row[j] => Some(k),
                    _ => Some(j),
                });
            best == Some(data.val.action[i] as usize)
        })
        .count();
    let acc = hits as f64 / data.val.rows as f64;
    assert!(
        (acc - s.best_val_top1).abs() < 0.01,
        "folded model accuracy {acc} vs trainer's {}",
        s.best_val_top1
    );
}

#[test]
fn folding_normalization_is_exact() {
    use tactician_formats::prepared::Normalization;
    use tactician_train::kernel::Threads;
    use tactician_train::net::{NetSpec, Workspace, forward};
    let spec = NetSpec {
        inputs: 7,
        hidden: vec![9, 5],
        activation: tactician_train::Activation::Tanh,
        actions: 4,
        value_head: true,
    };
    let mut rng = tactician_train::rng::Rng::new(4);
    let params = spec.init(&mut rng);
    let norm = Normalization {
        mean: (0..7).map(|_| rng.uniform(-5.0, 5.0)).collect(),
        std: (0..7)
            .map(|j| if j == 3 { 0.0 } else { rng.uniform(0.1, 3.0) })
            .collect(),
        ..Normalization::identity(7)
    };
    let raw: Vec<f32> = (0..7 * 10).map(|_| rng.uniform(-8.0, 8.0)).collect();
    let mut ws = Workspace::new(&spec, 10);
    for (i, x) in ws.x.iter_mut().enumerate() {
        *x = (raw[i] - norm.mean[i % 7]) * norm.scale(i % 7);
    }
    forward(&spec, &params, &mut ws, 10, Threads::One);
    let want = ws.acts.last().unwrap().clone();
    let mut folded = params.clone();
    tactician_train::model::fold_normalization(&spec, &mut folded, &norm);
    ws.x.copy_from_slice(&raw);
    forward(&spec, &folded, &mut ws, 10, Threads::One);
    for (g, w) in ws.acts.last().unwrap().iter().zip(&want) {
        assert!((g - w).abs() <= 1e-5 * (1.0 + w.abs()), "{g} vs {w}");
    }
}

#[test]
fn bad_input_gives_clear_errors_and_no_model() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("prep");
    let data = prepared(&dir, 2);
    let out = tmp.path().join("m");

    // Another encoder.
    let e = Prepared::load(&dir, Some("other-hash")).unwrap_err();
    assert!(matches!(e, TrainError::Encoder(_)), "{e}");
    assert!(e.to_string().contains("synthetic-encoder-1"), "{e}");

    // Zero-width layer, negative learning rate.
    let e = train(
        &data,
        &opts(
            TrainConfig {
                hidden: vec![8, 0],
                ..small_config()
            },
            &out,
        ),
        &mut NoProgress,
    )
    .unwrap_err();
    assert!(e.to_string().contains("width 0"), "{e}");
    let e = train(
        &data,
        &opts(
            TrainConfig {
                lr: -1.0,
                ..small_config()
            },
            &out,
        ),
        &mut NoProgress,
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("learning rate must be positive"),
        "{e}"
    );
    assert!(!out.exists());

    // A loss that becomes NaN in epoch 2 (the step schedule multiplies the rate by 1e30):
    // a clear error naming epoch and batch, the run recorded as failed, epoch 1's checkpoint
    // kept, no model folder.
    let boom = TrainConfig {
        schedule: tactician_train::ScheduleKind::Step,
        step_epochs: 1,
        step_gamma: 1e30,
        lr: 1e-3,
        optimizer: tactician_train::OptimizerKind::Adam,
        ..small_config()
    };
    let e = train(&data, &opts(boom, &out), &mut NoProgress).unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(
            e,
            TrainError::NonFinite {
                epoch: 2,
                last_good_epoch: 1,
                ..
            }
        ),
        "{msg}"
    );
    assert!(msg.contains("epoch 2, batch"), "{msg}");
    assert!(!out.exists(), "a failed run must not leave a model");
    let status = read_status(&out).unwrap();
    assert_eq!((status.state.as_str(), status.epoch), ("failed", 1));
    assert!(run_dir(&out).join("checkpoint.safetensors").exists());
    // Starting again without --force or --resume is refused with the reason.
    let e = train(&data, &opts(small_config(), &out), &mut NoProgress).unwrap_err();
    assert!(e.to_string().contains("unfinished run"), "{e}");

    // Corrupt safetensors: truncated, then garbage.
    let path = dir.join("train.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let e = Prepared::load(&dir, None).unwrap_err();
    assert!(
        e.to_string().contains("not a valid safetensors file"),
        "{e}"
    );
    std::fs::write(&path, b"garbage").unwrap();
    assert!(Prepared::load(&dir, None).is_err());

    // A corrupt checkpoint is refused on --resume.
    let ck = run_dir(&out).join("checkpoint.safetensors");
    std::fs::write(&ck, b"\x08\0\0\0\0\0\0\0{}").unwrap();
    let data = prepared(&dir, 2);
    let e = train(
        &data,
        &TrainOptions {
            resume: true,
            ..opts(small_config(), &out)
        },
        &mut NoProgress,
    )
    .unwrap_err();
    assert!(e.to_string().contains("checkpoint"), "{e}");
}

#[test]
fn early_stopping_and_resume_of_a_finished_run() {
    let tmp = tempfile::tempdir().unwrap();
    let data = prepared(&tmp.path().join("prep"), 3);
    let out = tmp.path().join("m");
    // A huge constant rate overfits/oscillates: validation loss stops improving quickly.
    let c = TrainConfig {
        epochs: 40,
        patience: 2,
        lr: 0.05,
        schedule: tactician_train::ScheduleKind::Constant,
        ..small_config()
    };
    let s = train(&data, &opts(c.clone(), &out), &mut NoProgress).unwrap();
    assert!(s.epochs_run < 40, "{s:?}");
    assert!(
        s.stop_reason.contains("early stopping"),
        "{}",
        s.stop_reason
    );
    assert_eq!(s.epochs_run, s.best_epoch + 2);
    let e = train(
        &data,
        &TrainOptions {
            resume: true,
            ..opts(c, &out)
        },
        &mut NoProgress,
    )
    .unwrap_err();
    assert!(e.to_string().contains("already finished"), "{e}");
}
