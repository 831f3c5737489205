//! The settings of a preparation, recorded in its manifest: filters, split ratios, balancing,
//! augmentation, normalization thresholds and seed.

use serde::{Deserialize, Serialize};

/// How the training split is balanced across strategies (players).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BalanceMethod {
    /// No balancing: every weight is 1.
    None,
    /// Sample weights: every group gets the same total weight; the mean weight is 1.
    Weights,
    /// Seeded resampling: every group is sub- or over-sampled to the mean group size; every
    /// weight is 1.
    Resample,
}

impl BalanceMethod {
    /// Parses `none`, `weights` or `resample`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "none" => Some(Self::None),
            "weights" => Some(Self::Weights),
            "resample" => Some(Self::Resample),
            _ => None,
        }
    }
}

/// Settings of `tactician prepare` (the `[prepare]` section of the pipeline config).
///
/// The defaults prepare behaviour cloning of the search-based strategy: only decisions whose
/// player is `search` are kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrepareConfig {
    /// Seed of the split assignment and of resampling.
    pub seed: u64,
    /// Share of battles in the training split.
    pub train: f64,
    /// Share of battles in the validation split.
    pub val: f64,
    /// Share of battles in the test split.
    pub test: f64,
    /// Keep only decisions of these players (strategy names for bots, ids for humans); empty
    /// keeps every player.
    pub players: Vec<String>,
    /// Keep only decisions of the side that won its battle.
    pub winners_only: bool,
    /// Drop battles shorter than this many decisions.
    pub min_battle_turns: u32,
    /// Drop decisions with a single legal action (nothing to learn from them).
    pub drop_single_legal: bool,
    /// How the training split is balanced across players.
    pub balance: BalanceMethod,
    /// Also balance across actions within each player (weights only), capped by
    /// `max_weight`.
    pub balance_actions: bool,
    /// Largest sample weight before renormalizing (weights balancing).
    pub max_weight: f32,
    /// Augment the training split with the game's symmetries (where it declares any).
    pub augment: bool,
    /// The symmetries to draw from, by name; empty uses all of them.
    pub symmetries: Vec<String>,
    /// Symmetric copies added per training row (a seeded choice of distinct symmetries per
    /// row); 0 adds one copy per symmetry.
    pub augment_copies: usize,
    /// Smallest standard deviation written to the normalization.
    pub std_floor: f32,
    /// A feature whose standard deviation is below this (but not constant) is reported as
    /// near-constant.
    pub near_constant_std: f32,
}

impl Default for PrepareConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            train: 0.8,
            val: 0.1,
            test: 0.1,
            players: vec!["search".to_string()],
            winners_only: false,
            min_battle_turns: 0,
            drop_single_legal: true,
            balance: BalanceMethod::Weights,
            balance_actions: false,
            max_weight: 10.0,
            augment: true,
            symmetries: Vec::new(),
            augment_copies: 1,
            std_floor: 1e-3,
            near_constant_std: 1e-2,
        }
    }
}

impl PrepareConfig {
    /// Checks that the settings are possible; the error says which one is not.
    pub fn validate(&self) -> Result<(), String> {
        for (name, r) in [
            ("train", self.train),
            ("val", self.val),
            ("test", self.test),
        ] {
            if !(r.is_finite() && r > 0.0 && r < 1.0) {
                return Err(format!(
                    "split ratio {name} = {r} must be above 0 and below 1 (every split must \
                     receive battles)"
                ));
            }
        }
        let sum = self.train + self.val + self.test;
        if (sum - 1.0).abs() > 1e-6 {
            return Err(format!(
                "split ratios train {} + val {} + test {} add up to {sum}, not 1",
                self.train, self.val, self.test
            ));
        }
        if !(self.max_weight.is_finite() && self.max_weight >= 1.0) {
            return Err(format!(
                "max_weight = {} must be at least 1",
                self.max_weight
            ));
        }
        if !(self.std_floor.is_finite() && self.std_floor > 0.0) {
            return Err(format!("std_floor = {} must be above 0", self.std_floor));
        }
        if !(self.near_constant_std.is_finite() && self.near_constant_std >= 0.0) {
            return Err(format!(
                "near_constant_std = {} must be 0 or more",
                self.near_constant_std
            ));
        }
        if self.balance_actions && self.balance != BalanceMethod::Weights {
            return Err("balance_actions needs balance = \"weights\"".into());
        }
        if self.players.iter().any(String::is_empty) {
            return Err("players lists an empty name".into());
        }
        Ok(())
    }
}
