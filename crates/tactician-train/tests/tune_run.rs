//! `tune`: a grid search over a tiny space keeps the best trial and writes the leaderboard.

use std::collections::BTreeMap;
use tactician_train::synth::{SynthSpec, write_prepared};
use tactician_train::tune::{NoTuneProgress, SearchMethod, TuneConfig, tune};
use tactician_train::{Prepared, TrainConfig};

#[test]
fn grid_search_ranks_trials_and_keeps_the_best_model() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("prep");
    write_prepared(&dir, &SynthSpec::new(10, 5, 1000, 300, 5)).unwrap();
    let data = Prepared::load(&dir, None).unwrap();
    let base = TrainConfig {
        hidden: vec![16],
        epochs: 3,
        batch_size: 64,
        threads: 1,
        patience: 0,
        ..Default::default()
    };
    let t = TuneConfig {
        method: SearchMethod::Grid,
        trials: 3,
        seed: 0,
        // A rate of 1e-7 cannot learn in 3 epochs: it must rank last.
        space: BTreeMap::from([(
            "lr".to_string(),
            vec![1e-7.into(), 3e-3.into(), 1e-2.into()],
        )]),
    };
    let out = tmp.path().join("tune");
    let board = tune(&data, &base, &t, &out, &mut NoTuneProgress).unwrap();
    assert_eq!(board.trials.len(), 3);
    assert_eq!(board.trials[2].settings["lr"], serde_json::json!(1e-7));
    assert!(board.trials[0].val_top1 >= board.trials[1].val_top1);
    assert!(board.trials[0].val_top1 > board.trials[2].val_top1 + 0.1);
    let best = tactician_train::TrainedModel::load(&out.join("best")).unwrap();
    let winner = tactician_train::TrainedModel::load(&board.trials[0].model_dir).unwrap();
    assert_eq!(best.params, winner.params);
    let csv = std::fs::read_to_string(out.join("leaderboard.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4);
    assert!(out.join("leaderboard.json").exists());
}
