//! `prepare` end to end on synthetic datasets: splits without leaks and stable under added
//! battles, filters checked against a naive count, balancing, augmentation, normalization on
//! the train split only, byte-identical output, and bad input that leaves nothing behind.

mod prepare_common;

use arrow_array::{
    Array, FixedSizeBinaryArray, Float32Array, RecordBatch, StringArray, UInt32Array,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use prepare_common::{BATTLE_SCALE, write, write_poisoned};
use safetensors::SafeTensors;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use tactician_battle::symmetry::{FeatureMap, FeatureSymmetry};
use tactician_battle::{FeatureDef, FeatureSpec, GameSpec};
use tactician_data::prepare::{
    BalanceMethod, PrepareConfig, PrepareError, PrepareOptions, PreparedManifest,
};
use tactician_game::SkirmishEncoder;

fn spec() -> &'static FeatureSpec {
    SkirmishEncoder::feature_spec()
}

/// The built-in game's spec (built once).
fn builtin() -> &'static GameSpec {
    static GAME: std::sync::OnceLock<GameSpec> = std::sync::OnceLock::new();
    GAME.get_or_init(|| tactician_game::game_spec().unwrap())
}

/// Prepares for the built-in game.
fn prepare(
    ds: &Path,
    out: &Path,
    config: &PrepareConfig,
    opts: &PrepareOptions,
) -> Result<PreparedManifest, PrepareError> {
    tactician_data::prepare::prepare(ds, out, config, builtin(), opts)
}

fn all_players() -> PrepareConfig {
    PrepareConfig {
        players: vec![],
        ..Default::default()
    }
}

/// One split file, decoded.
struct Split {
    features: Vec<f32>,
    legal: Vec<u8>,
    action: Vec<i32>,
    weight: Vec<f32>,
    value: Vec<f32>,
    nf: usize,
    na: usize,
}

fn floats(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|x| f32::from_le_bytes([x[0], x[1], x[2], x[3]]))
        .collect()
}

fn load(dir: &Path, name: &str) -> Split {
    let bytes = std::fs::read(dir.join(format!("{name}.safetensors"))).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let f = st.tensor("features").unwrap();
    let l = st.tensor("legal").unwrap();
    let a = st.tensor("action").unwrap();
    assert_eq!(f.dtype(), safetensors::Dtype::F32);
    assert_eq!(l.dtype(), safetensors::Dtype::U8);
    assert_eq!(a.dtype(), safetensors::Dtype::I32);
    let n = a.shape()[0];
    assert_eq!(f.shape()[0], n);
    assert_eq!(l.shape()[0], n);
    Split {
        nf: f.shape()[1],
        na: l.shape()[1],
        features: floats(f.data()),
        legal: l.data().to_vec(),
        action: a
            .data()
            .chunks_exact(4)
            .map(|x| i32::from_le_bytes([x[0], x[1], x[2], x[3]]))
            .collect(),
        weight: floats(st.tensor("weight").unwrap().data()),
        value: floats(st.tensor("value").unwrap().data()),
    }
}

impl Split {
    fn len(&self) -> usize {
        self.action.len()
    }
    fn battles(&self) -> BTreeSet<u64> {
        (0..self.len())
            .map(|i| (self.features[i * self.nf + 1] * BATTLE_SCALE) as u64)
            .collect()
    }
}

fn manifest(dir: &Path) -> PreparedManifest {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn splits_do_not_leak_and_stay_put_when_battles_are_added() {
    let tmp = tempfile::tempdir().unwrap();
    let small = tmp.path().join("small");
    let large = tmp.path().join("large");
    write(&small, spec(), 1, 0, 300, 40);
    write(&large, spec(), 1, 0, 450, 40);
    let config = PrepareConfig {
        augment: false,
        ..all_players()
    };
    let opts = PrepareOptions::default();
    let mut per_split = Vec::new();
    for ds in [&small, &large] {
        let out = ds.with_extension("prepared");
        let m = prepare(ds, &out, &config, &opts).unwrap();
        let splits: Vec<BTreeSet<u64>> = ["train", "val", "test"]
            .iter()
            .map(|s| load(&out, s).battles())
            .collect();
        // No battle in two splits.
        for i in 0..3 {
            for j in i + 1..3 {
                assert!(
                    splits[i].is_disjoint(&splits[j]),
                    "splits {i} and {j} share battles"
                );
            }
            assert_eq!(
                splits[i].len() as u64,
                m.counts.battles[["train", "val", "test"][i]]
            );
        }
        per_split.push(splits);
    }
    // Every battle of the small dataset is in the same split in the large one.
    for (small, large) in per_split[0].iter().zip(&per_split[1]) {
        let moved: Vec<&u64> = small.iter().filter(|b| !large.contains(b)).collect();
        assert!(moved.is_empty(), "battles changed split: {moved:?}");
    }
    // Roughly the ratios (450 battles, 80/10/10).
    let train = per_split[1][0].len();
    assert!((320..400).contains(&train), "{train}");
}

/// Every record batch of the dataset's transitions table, part files in name order.
fn transition_batches(ds: &Path) -> Vec<RecordBatch> {
    let mut parts: Vec<_> = std::fs::read_dir(ds.join("transitions"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    parts.sort();
    parts
        .into_iter()
        .flat_map(|path| {
            ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).unwrap())
                .unwrap()
                .build()
                .unwrap()
                .map(|b| b.unwrap())
        })
        .collect()
}

/// Column `name` of `batch` as its array type.
fn column<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> &'a T {
    batch
        .column_by_name(name)
        .unwrap()
        .as_any()
        .downcast_ref::<T>()
        .unwrap()
}

/// The filter counts by a plain reading of the transitions table.
fn naive_filter_counts(
    ds: &Path,
    config: &PrepareConfig,
    turns: &BTreeMap<String, u32>,
) -> BTreeMap<String, u64> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut kept = 0;
    for batch in transition_batches(ds) {
        let ids = column::<StringArray>(&batch, "battle_id");
        let player = column::<StringArray>(&batch, "player");
        let legal = column::<StringArray>(&batch, "legal");
        let outcome = column::<Float32Array>(&batch, "outcome");
        for r in 0..batch.num_rows() {
            let rule = if !config.players.is_empty()
                && !config.players.iter().any(|p| p == player.value(r))
            {
                "players"
            } else if turns[ids.value(r)] < config.min_battle_turns {
                "min_battle_turns"
            } else if config.winners_only && outcome.value(r) <= 0.0 {
                "winners_only"
            } else if config.drop_single_legal
                && legal.value(r).chars().filter(|&c| c == '1').count() == 1
            {
                "single_legal"
            } else {
                kept += 1;
                continue;
            };
            *counts.entry(rule.to_string()).or_default() += 1;
        }
    }
    counts.insert("kept".into(), kept);
    counts
}

#[test]
fn filters_remove_what_they_say_and_count_it() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    write(&ds, spec(), 2, 0, 200, 30);
    let turns: BTreeMap<String, u32> = (0..200)
        .map(|b| {
            let x = prepare_common::battle(2, b, 30);
            (x.id, x.turns)
        })
        .collect();
    for (i, config) in [
        PrepareConfig::default(),
        PrepareConfig {
            winners_only: true,
            min_battle_turns: 30,
            ..all_players()
        },
        PrepareConfig {
            players: vec!["aggressive".into(), "support".into()],
            drop_single_legal: false,
            ..Default::default()
        },
    ]
    .into_iter()
    .enumerate()
    {
        let out = tmp.path().join(format!("out{i}"));
        let m = prepare(&ds, &out, &config, &PrepareOptions::default()).unwrap();
        let expected = naive_filter_counts(&ds, &config, &turns);
        for rule in [
            "players",
            "min_battle_turns",
            "winners_only",
            "single_legal",
        ] {
            assert_eq!(
                m.filters[rule],
                expected.get(rule).copied().unwrap_or(0),
                "config {i}, rule {rule}"
            );
        }
        assert_eq!(m.filters["invalid"], 0);
        assert_eq!(m.counts.kept, expected["kept"], "config {i}");
        let rows: u64 = ["val", "test"]
            .iter()
            .map(|s| m.counts.rows[*s])
            .sum::<u64>()
            + m.counts.decisions["train"];
        assert_eq!(rows, m.counts.kept);
        for s in ["train", "val", "test"] {
            let split = load(&out, s);
            for r in 0..split.len() {
                let a = split.action[r] as usize;
                assert_eq!(split.legal[r * split.na + a], 1, "action is legal");
                if config.drop_single_legal {
                    let n: u32 = split.legal[r * split.na..(r + 1) * split.na]
                        .iter()
                        .map(|&x| u32::from(x))
                        .sum();
                    assert!(n > 1);
                }
                assert!([-1.0, 0.0, 1.0].contains(&split.value[r]));
                if config.winners_only {
                    assert_eq!(split.value[r], 1.0);
                }
            }
        }
    }
}

#[test]
fn normalization_comes_from_the_train_split_and_weights_balance_players() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    write(&ds, spec(), 3, 0, 150, 30);
    let out = tmp.path().join("out");
    let config = PrepareConfig {
        augment: false,
        ..all_players()
    };
    let m = prepare(&ds, &out, &config, &PrepareOptions::default()).unwrap();
    let train = load(&out, "train");
    let n = train.len();
    for j in [1, 2, 7] {
        let col: Vec<f64> = (0..n)
            .map(|i| f64::from(train.features[i * train.nf + j]))
            .collect();
        let mean = col.iter().sum::<f64>() / n as f64;
        let sd = (col.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
        assert!(
            (f64::from(m.normalization.mean[j]) - mean).abs() < 1e-5,
            "mean {j}"
        );
        assert!(
            (f64::from(m.normalization.std[j]) - sd.max(1e-3)).abs() < 1e-5,
            "std {j}"
        );
    }
    // Feature 0 is 0.25 everywhere: constant, std 1.
    assert_eq!(m.normalization.std[0], 1.0);
    assert!(
        m.normalization
            .constant_features
            .contains(&spec().features()[0].name)
    );
    // Weights: mean 1, the same total per player.
    let mean_w = train.weight.iter().map(|&w| f64::from(w)).sum::<f64>() / n as f64;
    assert!((mean_w - 1.0).abs() < 1e-4, "{mean_w}");
    let totals: Vec<f64> = m.balance.after.by_player.values().copied().collect();
    assert_eq!(totals.len(), 3);
    for t in &totals {
        assert!((t - totals[0]).abs() < 0.01 * totals[0], "{totals:?}");
    }
    assert!(load(&out, "val").weight.iter().all(|&w| w == 1.0));
    // Resampling instead: equal counts, unit weights.
    let out2 = tmp.path().join("out2");
    let m2 = prepare(
        &ds,
        &out2,
        &PrepareConfig {
            balance: BalanceMethod::Resample,
            ..config
        },
        &PrepareOptions::default(),
    )
    .unwrap();
    let counts: Vec<f64> = m2.balance.after.by_player.values().copied().collect();
    assert!(
        counts.iter().all(|&c| (c - counts[0]).abs() <= 1.0),
        "{counts:?}"
    );
    assert!(load(&out2, "train").weight.iter().all(|&w| w == 1.0));
}

#[test]
fn augmentation_maps_features_mask_and_action_together() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    write(&ds, spec(), 4, 0, 100, 20);
    let (nf, na) = (spec().num_features(), spec().num_actions());
    // Swap features 2 and 3, reflect feature 4, swap actions 3 and 4.
    let mut maps: Vec<FeatureMap> = (0..nf).map(FeatureMap::copy).collect();
    maps[2] = FeatureMap::copy(3);
    maps[3] = FeatureMap::copy(2);
    maps[4] = FeatureMap::affine(4, -1.0, 1.0);
    let mut perm: Vec<usize> = (0..na).collect();
    perm.swap(3, 4);
    let sym = FeatureSymmetry::new("swap", maps, perm).unwrap();
    let game = GameSpec::new(spec().clone())
        .with_symmetries(vec![sym])
        .unwrap();
    let out = tmp.path().join("out");
    let m = tactician_data::prepare::prepare(
        &ds,
        &out,
        &all_players(),
        &game,
        &PrepareOptions::default(),
    )
    .unwrap();
    assert!(m.augmentation.enabled);
    assert_eq!(m.augmentation.multiplier, 2.0);
    let t = load(&out, "train");
    let half = t.len() / 2;
    assert_eq!(half as u64, m.augmentation.rows_before);
    for i in 0..half {
        let (a, b) = (i * nf, (i + half) * nf);
        assert_eq!(t.features[b + 2], t.features[a + 3]);
        assert_eq!(t.features[b + 3], t.features[a + 2]);
        assert_eq!(t.features[b + 4], 1.0 - t.features[a + 4]);
        assert_eq!(t.features[b + 5..b + nf], t.features[a + 5..a + nf]);
        let la = &t.legal[i * na..(i + 1) * na];
        let lb = &t.legal[(i + half) * na..(i + half + 1) * na];
        assert_eq!((la[3], la[4]), (lb[4], lb[3]));
        let expected = match t.action[i] {
            3 => 4,
            4 => 3,
            x => x,
        };
        assert_eq!(t.action[i + half], expected);
        assert_eq!(lb[t.action[i + half] as usize], 1);
        assert_eq!(
            (t.value[i + half], t.weight[i + half]),
            (t.value[i], t.weight[i])
        );
    }
    // A game that declares no symmetries: augmentation is off and says why.
    let other = FeatureSpec::new(
        "external",
        (0..4)
            .map(|i| FeatureDef::new(format!("f{i}"), "", 0.0, 1.0))
            .collect(),
        vec!["a".into(), "b".into(), "c".into()],
    )
    .unwrap();
    let ds2 = tmp.path().join("ds2");
    write(&ds2, &other, 4, 0, 100, 20);
    let out2 = tmp.path().join("out2");
    let m2 = tactician_data::prepare::prepare(
        &ds2,
        &out2,
        &all_players(),
        &GameSpec::new(other.clone()),
        &PrepareOptions::default(),
    )
    .unwrap();
    assert!(!m2.augmentation.enabled);
    assert!(
        m2.augmentation
            .reason
            .as_deref()
            .unwrap()
            .contains("no symmetries")
    );
    assert_eq!(m2.augmentation.multiplier, 1.0);
    assert!(m2.scenarios.names.is_empty() && m2.scenarios.reason.is_some());
}

#[test]
fn same_dataset_and_seed_give_identical_bytes_on_any_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    write(&ds, spec(), 5, 0, 120, 30);
    let config = PrepareConfig {
        balance: BalanceMethod::Resample,
        augment_copies: 2,
        ..all_players()
    };
    let mut outs = Vec::new();
    for threads in [1, 2, 3] {
        let out = tmp.path().join(format!("out{threads}"));
        prepare(
            &ds,
            &out,
            &config,
            &PrepareOptions {
                threads,
                ..Default::default()
            },
        )
        .unwrap();
        outs.push(out);
    }
    let names = [
        "train.safetensors",
        "val.safetensors",
        "test.safetensors",
        "manifest.json",
        "scenarios.json",
    ];
    for name in names {
        let a = std::fs::read(outs[0].join(name)).unwrap();
        for o in &outs[1..] {
            assert!(a == std::fs::read(o.join(name)).unwrap(), "{name} differs");
        }
    }
    // Another seed splits differently.
    let other = tmp.path().join("other");
    let m = prepare(
        &ds,
        &other,
        &PrepareConfig { seed: 9, ..config },
        &PrepareOptions::default(),
    )
    .unwrap();
    assert_ne!(
        m.split.battle_ids_blake3,
        manifest(&outs[0]).split.battle_ids_blake3
    );
}

fn assert_fails_cleanly(
    ds: &Path,
    out: &Path,
    config: &PrepareConfig,
    opts: &PrepareOptions,
    check: impl Fn(&PrepareError) -> bool,
) -> String {
    let before: BTreeSet<_> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let e = prepare(ds, out, config, opts).unwrap_err();
    assert!(check(&e), "unexpected error: {e}");
    let after: BTreeSet<_> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(before, after, "the failure left files behind");
    e.to_string()
}

#[test]
fn bad_input_fails_with_a_clear_error_and_no_output() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    write(&ds, spec(), 6, 0, 60, 20);
    let out = tmp.path().join("out");
    let opts = PrepareOptions::default();

    let bad_ratios = PrepareConfig {
        train: 0.9,
        val: 0.2,
        ..all_players()
    };
    let e = assert_fails_cleanly(&ds, &out, &bad_ratios, &opts, |e| {
        matches!(e, PrepareError::Config(_))
    });
    assert!(e.contains("add up to"), "{e}");

    let nobody = PrepareConfig {
        players: vec!["nobody".into()],
        ..Default::default()
    };
    let e = assert_fails_cleanly(&ds, &out, &nobody, &opts, |e| {
        matches!(e, PrepareError::NothingKept { .. })
    });
    assert!(e.contains("players: ") && e.contains("search"), "{e}");

    let empty = tmp.path().join("empty");
    tactician_data::dataset::Dataset::open_or_create(&empty, spec()).unwrap();
    assert_fails_cleanly(&empty, &out, &all_players(), &opts, |e| {
        matches!(e, PrepareError::EmptyDataset(_))
    });

    let one = tmp.path().join("one");
    write(&one, spec(), 6, 0, 1, 20);
    let e = assert_fails_cleanly(&one, &out, &all_players(), &opts, |e| {
        matches!(e, PrepareError::EmptySplit { .. })
    });
    assert!(e.contains("split is empty"), "{e}");

    let other = FeatureSpec::new(
        "skirmish-v0",
        (0..4)
            .map(|i| FeatureDef::new(format!("f{i}"), "", 0.0, 1.0))
            .collect(),
        vec!["a".into(), "b".into()],
    )
    .unwrap();
    let old = tmp.path().join("old");
    write(&old, &other, 6, 0, 30, 20);
    let e = assert_fails_cleanly(&old, &out, &all_players(), &opts, |e| {
        matches!(e, PrepareError::EncoderMismatch { .. })
    });
    assert!(e.contains(other.hash()) && e.contains(spec().hash()), "{e}");

    // An existing output is refused without force, and survives a failed forced run.
    prepare(&ds, &out, &all_players(), &opts).unwrap();
    let first = std::fs::read(out.join("manifest.json")).unwrap();
    assert_fails_cleanly(&ds, &out, &all_players(), &opts, |e| {
        matches!(e, PrepareError::Os(tactician_os::Error::Exists { .. }))
    });
    let force = PrepareOptions {
        force: true,
        ..Default::default()
    };
    assert_fails_cleanly(&ds, &out, &nobody, &force, |e| {
        matches!(e, PrepareError::NothingKept { .. })
    });
    assert_eq!(std::fs::read(out.join("manifest.json")).unwrap(), first);
    // A forced run that succeeds replaces it.
    prepare(
        &ds,
        &out,
        &PrepareConfig {
            seed: 1,
            ..all_players()
        },
        &force,
    )
    .unwrap();
    assert_eq!(manifest(&out).seed, 1);
}

#[test]
fn default_preset_keeps_the_search_strategy_only() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    write(&ds, spec(), 7, 0, 90, 20);
    let out = tmp.path().join("out");
    let m = prepare(
        &ds,
        &out,
        &PrepareConfig::default(),
        &PrepareOptions::default(),
    )
    .unwrap();
    assert_eq!(
        m.balance.before.by_player.keys().collect::<Vec<_>>(),
        vec!["search"]
    );
    assert!(m.filters["players"] > 0);
    // The built-in game's encoder: its symmetries augment by default (one copy per row), and
    // the scenarios are written.
    assert!(m.augmentation.enabled, "{:?}", m.augmentation.reason);
    assert_eq!(m.augmentation.multiplier, 2.0);
    assert!(m.scenarios.names.len() >= 5);
    let scenarios: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("scenarios.json")).unwrap()).unwrap();
    let list = scenarios.as_array().unwrap();
    assert_eq!(list.len(), m.scenarios.names.len());
    for s in list {
        assert_eq!(
            s["features"].as_array().unwrap().len(),
            spec().num_features()
        );
        assert_eq!(s["legal"].as_array().unwrap().len(), spec().num_actions());
    }
    assert_eq!(m.encoder.features.len(), m.normalization.mean.len());
    assert_eq!(m.format, "tactician-prepared/1");
}

/// The kept decisions of the validation and test splits (which are neither augmented nor
/// reordered) by a plain one-pass reading of the whole transitions table: features, mask and
/// action per row, in table order.
fn naive_rows(
    ds: &Path,
    players: &[&str],
    split_of: &BTreeMap<String, String>,
) -> BTreeMap<String, Vec<(Vec<u8>, String, u32)>> {
    let mut out: BTreeMap<String, Vec<(Vec<u8>, String, u32)>> = BTreeMap::new();
    for batch in transition_batches(ds) {
        let ids = column::<StringArray>(&batch, "battle_id");
        let player = column::<StringArray>(&batch, "player");
        let legal = column::<StringArray>(&batch, "legal");
        let action = column::<UInt32Array>(&batch, "action");
        let features = column::<FixedSizeBinaryArray>(&batch, "features");
        for r in 0..batch.num_rows() {
            let f = features.value(r);
            if !players.contains(&player.value(r))
                || legal.value(r).chars().filter(|&c| c == '1').count() <= 1
                || floats(f).iter().any(|x| !x.is_finite())
            {
                continue;
            }
            out.entry(split_of[ids.value(r)].clone())
                .or_default()
                .push((f.to_vec(), legal.value(r).to_string(), action.value(r)));
        }
    }
    out
}

#[test]
fn kept_rows_keep_their_own_features_mask_and_action_and_bad_features_are_invalid() {
    // Filters read the small columns first and the features of the kept rows only: a
    // misaligned second pass would pair a row's mask and action with another row's
    // features. Every fifth decision has a NaN feature and must go as `invalid`. About
    // 24,000 decisions: more than one unit of work (`UNIT_ROWS`) in the same row group, so a
    // unit that starts inside a row group is checked too.
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    write_poisoned(&ds, spec(), 5, 0, 600, 40, Some(5));
    assert!(
        tactician_data::dataset::Dataset::open(&ds)
            .unwrap()
            .manifest()
            .transitions
            > tactician_data::prepare::read::UNIT_ROWS
    );
    for players in [vec!["search"], vec!["aggressive", "search", "support"]] {
        let out = tmp.path().join(format!("out{}", players.len()));
        let config = PrepareConfig {
            players: players.iter().map(|p| p.to_string()).collect(),
            ..Default::default()
        };
        let m = prepare(&ds, &out, &config, &PrepareOptions::default()).unwrap();
        assert!(m.filters["invalid"] > 0, "{:?}", m.filters);
        // Which split each battle went to: read back from the output by feature 1.
        let mut split_of = BTreeMap::new();
        for s in ["train", "val", "test"] {
            let split = load(&out, s);
            for r in 0..split.len() {
                let b = (split.features[r * split.nf + 1] * BATTLE_SCALE) as u64;
                split_of.insert(format!("synthetic-{b:08}"), s.to_string());
            }
        }
        for b in 0..600u64 {
            split_of
                .entry(format!("synthetic-{b:08}"))
                .or_insert_with(|| "none".into());
        }
        let expected = naive_rows(&ds, &players, &split_of);
        let kept: usize = expected
            .iter()
            .filter(|(s, _)| s.as_str() != "none")
            .map(|(_, v)| v.len())
            .sum();
        assert_eq!(kept as u64, m.counts.kept);
        for s in ["val", "test"] {
            let split = load(&out, s);
            let want = &expected[s];
            assert_eq!(split.len(), want.len(), "{s}");
            for (r, (f, mask, a)) in want.iter().enumerate() {
                assert_eq!(
                    floats(f),
                    split.features[r * split.nf..(r + 1) * split.nf],
                    "{s} row {r}"
                );
                let got: String = split.legal[r * split.na..(r + 1) * split.na]
                    .iter()
                    .map(|&x| if x == 1 { '1' } else { '0' })
                    .collect();
                assert_eq!(&got, mask, "{s} row {r}");
                assert_eq!(split.action[r] as u32, *a, "{s} row {r}");
            }
        }
    }
}
