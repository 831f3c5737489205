//! Dataset preparation: a dataset's decisions turned into training-ready tensors.
//!
//! [`prepare`] reads a dataset ([`crate::dataset`]) and writes a *prepared folder*:
//!
//! ```text
//! PREPARED/
//!   train.safetensors  features F32 [N,F] (raw), legal U8 [N,A], action I32 [N],
//!   val.safetensors    weight F32 [N], value F32 [N] (+1 win, 0 draw, -1 loss for the
//!   test.safetensors   acting side)
//!   scenarios.json     hand-built test situations with their acceptable actions
//!   manifest.json      encoder, normalization (train only), counts, split rule, filters,
//!                      balance and augmentation reports, seed, source dataset hash
//! ```
//!
//! The steps, in order: filter the decisions ([`PrepareConfig`]: players, minimum battle
//! length, winners only, single-legal-action decisions, invalid records), assign each battle
//! to a split by a hash of its id and the seed ([`split`]), balance the training split across
//! players ([`balance`]), augment it with the game's symmetries ([`augment`]), compute the
//! per-feature normalization on it ([`normalize`]), write the game's scenarios, and put
//! everything in place at the end through a staging folder: a failure leaves no output and
//! the previous one as it was, and only the prepared folder's own files are ever replaced.
//! The game ([`GameSpec`]) says what the features are and declares the symmetries and
//! scenarios, for the built-in game and for one that brings its own logs alike. The transitions are read in parallel in two passes over pieces of row groups
//! ([`read::scan`]): the small columns first, then the kept rows' features straight into
//! tensors allocated once at their final size; memory grows with the output (dense tensors),
//! not with the dataset. The same dataset and settings give byte-identical files, whatever
//! the thread count. The folder's format is defined in `tactician-formats`;
//! `docs/prepare.md` describes it.
//!
//! ```no_run
//! use tactician_data::prepare::{prepare, PrepareConfig, PrepareOptions};
//! use std::path::Path;
//!
//! let game = tactician_game::game_spec().unwrap();
//! let manifest = prepare(
//!     Path::new("runs/default/dataset"),
//!     Path::new("runs/default/prepared"),
//!     &PrepareConfig::default(),
//!     &game,
//!     &PrepareOptions::default(),
//! )
//! .unwrap();
//! println!("{} training rows", manifest.counts.rows["train"]);
//! ```

pub mod augment;
pub mod balance;
mod error;
pub mod normalize;
mod output;
pub mod read;
pub mod rows;
pub mod split;

pub use error::PrepareError;
pub use tactician_formats::prepared::{
    AugmentReport, BalanceMethod, BalanceReport, Distribution, Normalization, PrepareConfig,
    PreparedManifest,
};

use crate::dataset::Dataset;
use split::Split;
use std::collections::BTreeMap;
use std::path::Path;
use tactician_battle::GameSpec;
use tactician_formats::prepared::{
    Counts, EncoderInfo, FileInfo, SCENARIOS, ScenarioInfo, SplitInfo, is_prepared_file,
    scenarios_json,
};

/// Options of [`prepare`] that are not settings of the result.
#[derive(Default)]
pub struct PrepareOptions {
    /// Replace the prepared files of an existing output folder (its other files stay).
    pub force: bool,
    /// Worker threads; 0 for one per core.
    pub threads: usize,
    /// Called with the number of decisions read so far, and the total.
    pub progress: Option<Box<dyn Fn(u64, u64) + Send + Sync>>,
}

impl std::fmt::Debug for PrepareOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrepareOptions")
            .field("force", &self.force)
            .field("threads", &self.threads)
            .finish()
    }
}

/// The content hash of a dataset: BLAKE3 of `tactician.dataset/1\n` followed by one line
/// `<table> <rows> <blake3>\n` per part file, in manifest order. It names the data, not the
/// times it was ingested.
pub fn dataset_hash(ds: &Dataset) -> String {
    let mut h = blake3::Hasher::new();
    h.update(b"tactician.dataset/1\n");
    for f in &ds.manifest().files {
        h.update(format!("{} {} {}\n", f.table, f.rows, f.blake3).as_bytes());
    }
    h.finalize().to_hex().to_string()
}

/// Prepares the dataset at `dataset` into the folder `out` for `game` (the dataset must hold
/// its encoder's features); returns the manifest. The output may not be, contain or lie inside
/// the dataset.
pub fn prepare(
    dataset: &Path,
    out: &Path,
    config: &PrepareConfig,
    game: &GameSpec,
    opts: &PrepareOptions,
) -> Result<PreparedManifest, PrepareError> {
    config.validate().map_err(PrepareError::Config)?;
    tactician_os::check_disjoint(out, &[dataset])?;
    tactician_os::OutputDir::preflight(out, &is_prepared_file, opts.force)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .map_err(|e| PrepareError::Config(format!("cannot start worker threads: {e}")))?;
    pool.install(|| run(dataset, out, config, game, opts))
}

fn run(
    dataset: &Path,
    out: &Path,
    config: &PrepareConfig,
    game: &GameSpec,
    opts: &PrepareOptions,
) -> Result<PreparedManifest, PrepareError> {
    let ds = Dataset::open(dataset)?;
    let spec = ds.manifest().encoder.clone();
    let expected = game.features();
    if spec.hash() != expected.hash() {
        return Err(PrepareError::EncoderMismatch {
            dataset: spec.hash().to_string(),
            game: expected.hash().to_string(),
        });
    }
    if ds.manifest().transitions == 0 {
        return Err(PrepareError::EmptyDataset(dataset.to_path_buf()));
    }
    let symmetries = if config.augment {
        augment::select(game.symmetries(), &config.symmetries)?
    } else {
        Vec::new()
    };
    let (nf, na) = (spec.num_features(), spec.num_actions());
    let feature_names: Vec<String> = spec.features().iter().map(|f| f.name.clone()).collect();
    let action_names: Vec<String> = spec.actions().to_vec();

    // Read, filter and split.
    let battles = read::battles(&ds, config)?;
    let allowed: Vec<bool> = battles
        .players
        .iter()
        .map(|p| config.players.is_empty() || config.players.contains(p))
        .collect();
    let units = read::units(&ds)?;
    let total: u64 = units.iter().map(|u| u.rows).sum();
    let progress = |read: u64| {
        if let Some(p) = &opts.progress {
            p(read, total);
        }
    };
    // Room for the augmented copies in the training tensor as it is read, unless resampling
    // makes a new one first.
    let train_copies = match config.balance {
        BalanceMethod::Resample => 0,
        _ => augment::copies_per_row(symmetries.len(), config.augment_copies),
    };
    let scanned = read::scan(
        &units,
        &battles,
        &allowed,
        config,
        (nf, na),
        train_copies,
        &progress,
    )?;
    let mut splits = scanned.rows;
    let mut split_battles = scanned.battles;
    let removed = scanned.removed;
    let read_rows = scanned.read;
    if read_rows != ds.manifest().transitions {
        return Err(PrepareError::Corrupt(format!(
            "read {read_rows} decisions but the dataset manifest lists {}",
            ds.manifest().transitions
        )));
    }
    let kept: u64 = splits.iter().map(|s| s.len() as u64).sum();
    let filters: BTreeMap<String, u64> = read::RULES
        .iter()
        .zip(removed)
        .map(|(r, n)| (r.to_string(), n))
        .collect();
    if kept == 0 {
        return Err(PrepareError::NothingKept {
            rows: read_rows,
            removed: filters
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(r, n)| format!("{r}: {n}"))
                .collect::<Vec<_>>()
                .join(", "),
            players: battles.players.join(", "),
        });
    }
    let mut battle_counts = BTreeMap::new();
    let mut battle_digests = BTreeMap::new();
    let mut all_battles = 0u64;
    for (k, list) in split_battles.iter_mut().enumerate() {
        list.sort_unstable();
        list.dedup();
        all_battles += list.len() as u64;
        let mut ids: Vec<&str> = list
            .iter()
            .map(|&i| battles.ids[i as usize].as_str())
            .collect();
        ids.sort_unstable();
        let mut h = blake3::Hasher::new();
        for id in ids {
            h.update(id.as_bytes());
            h.update(b"\n");
        }
        let name = Split::ALL[k].name().to_string();
        battle_counts.insert(name.clone(), list.len() as u64);
        battle_digests.insert(name, h.finalize().to_hex().to_string());
    }
    for s in Split::ALL {
        if splits[s as usize].is_empty() {
            return Err(PrepareError::EmptySplit {
                split: s.name(),
                kept,
                battles: all_battles,
            });
        }
    }
    let decisions: BTreeMap<String, u64> = Split::ALL
        .iter()
        .map(|s| (s.name().to_string(), splits[*s as usize].len() as u64))
        .collect();

    // Balance, augment and normalize the training split.
    let train = &mut splits[Split::Train as usize];
    let balance = balance::balance(train, config, &battles.players, &action_names);
    let before_augment = train.len() as u64;
    let copies = augment::augment(train, &symmetries, config.augment_copies, config.seed);
    let augmentation = AugmentReport {
        enabled: copies > 0,
        reason: if copies > 0 {
            None
        } else if !config.augment {
            Some("turned off in the settings".into())
        } else {
            Some(format!("the game {} declares no symmetries", spec.name()))
        },
        available: symmetries.len(),
        symmetries: symmetries.iter().map(|s| s.name().to_string()).collect(),
        copies_per_row: copies,
        rows_before: before_augment,
        rows_after: train.len() as u64,
        multiplier: train.len() as f64 / before_augment.max(1) as f64,
    };
    let normalization = normalize::compute(
        train,
        &feature_names,
        config.std_floor,
        config.near_constant_std,
    );
    let scenario_list = game.scenarios();
    let scenario_reason = scenario_list
        .is_empty()
        .then(|| format!("the game {} declares no scenarios", spec.name()));

    // Write.
    let staging = tactician_os::OutputDir::create(out, is_prepared_file, opts.force)?;
    let mut files = BTreeMap::new();
    for s in Split::ALL {
        let name = s.file_name();
        let info = output::write_split(&staging.path().join(name), &splits[s as usize])?;
        files.insert(name.to_string(), info);
    }
    let scenarios = scenarios_json(scenario_list);
    staging.write(SCENARIOS, &scenarios)?;
    files.insert(SCENARIOS.to_string(), FileInfo::of(&scenarios));
    let manifest = PreparedManifest {
        format: tactician_formats::prepared::PREPARED_FORMAT.to_string(),
        encoder: EncoderInfo {
            name: spec.name().to_string(),
            hash: spec.hash().to_string(),
            features: feature_names,
            actions: action_names,
        },
        normalization,
        counts: Counts {
            read: read_rows,
            removed: read_rows - kept,
            kept,
            rows: Split::ALL
                .iter()
                .map(|s| (s.name().to_string(), splits[*s as usize].len() as u64))
                .collect(),
            decisions,
            battles: battle_counts,
        },
        seed: config.seed,
        source_dataset_hash: dataset_hash(&ds),
        split: SplitInfo {
            rule: split::RULE.to_string(),
            ratios: BTreeMap::from([
                ("train".to_string(), config.train),
                ("val".to_string(), config.val),
                ("test".to_string(), config.test),
            ]),
            battle_ids_blake3: battle_digests,
        },
        filters,
        players: battles.players.clone(),
        balance,
        augmentation,
        scenarios: ScenarioInfo {
            names: scenario_list.iter().map(|s| s.name.clone()).collect(),
            reason: scenario_reason,
        },
        config: config.clone(),
        files,
    };
    staging.write(tactician_formats::prepared::MANIFEST, &manifest.to_json())?;
    staging.commit(Some(tactician_formats::prepared::MANIFEST))?;
    Ok(manifest)
}
