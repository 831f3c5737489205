//! Column buffers that validated records are parsed into.

/// What a decision caused, summed from its events (see `docs/battle-log.md`: only events whose
/// `source` is the acting unit count as its own damage, healing, statuses and items).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Effects {
    /// Damage the acting unit dealt to health.
    pub damage: i32,
    /// Health the acting unit restored.
    pub healing: i32,
    /// Statuses the acting unit applied.
    pub applied: u16,
    /// Statuses the acting unit tried to apply but that were resisted.
    pub resisted: u16,
    /// Enemy units knocked out during the decision.
    pub knockouts: u16,
    /// Items the acting unit used.
    pub items: u16,
    /// Energy the acting unit spent.
    pub energy: i32,
}

/// One battle's header, outcome and provenance.
#[derive(Debug, Clone, PartialEq)]
pub struct BattleMeta {
    /// Unique id.
    pub battle_id: String,
    /// Seed, if the game has one.
    pub seed: Option<u64>,
    /// Game name.
    pub game: String,
    /// Game version.
    pub game_version: String,
    /// Encoder hash.
    pub encoder: String,
    /// `bot` or `human` per side.
    pub human: [bool; 2],
    /// Strategy (bots) or player id (humans) per side.
    pub player: [String; 2],
    /// Winning side, `None` for a draw.
    pub winner: Option<u8>,
    /// Victory condition.
    pub victory: String,
    /// Decisions.
    pub turns: u32,
    /// Rounds, if reported.
    pub rounds: Option<u32>,
    /// Wall time of the battle in milliseconds, if reported.
    pub wall_ms: Option<f64>,
    /// Start time (Unix milliseconds), if reported.
    pub started_unix_ms: Option<u64>,
    /// Index of the source file in the ingest's file list.
    pub source_file: u32,
    /// Line of the record in its file (1-based).
    pub line: u64,
}

/// Decisions of accepted battles, column by column. `battle[i]` indexes the battles list the
/// rows were parsed with.
#[derive(Debug, Default)]
pub struct Transitions {
    /// Index of the row's battle.
    pub battle: Vec<u32>,
    /// Decision index in the battle.
    pub turn: Vec<u32>,
    /// Round, `None` if not reported.
    pub round: Vec<Option<u32>>,
    /// Acting side.
    pub side: Vec<u8>,
    /// Acting unit (slot or game-specific id).
    pub actor: Vec<u32>,
    /// Features, `num_features` per row.
    pub features: Vec<f32>,
    /// Legal mask, `num_actions` bytes (0/1) per row.
    pub legal: Vec<u8>,
    /// Chosen action.
    pub action: Vec<u32>,
    /// Decision time in microseconds, if reported.
    pub decision_us: Vec<Option<f64>>,
    /// Reward to the acting side.
    pub reward: Vec<f32>,
    /// Last decision of the battle.
    pub done: Vec<bool>,
    /// Material of (own side, enemy side) before the decision, if reported.
    pub material: Vec<Option<[f32; 2]>>,
    /// Effects of the decision, if the record carried events.
    pub effects: Vec<Option<Effects>>,
}

impl Transitions {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.turn.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.turn.is_empty()
    }

    /// Reserves room for the decisions of about `text_bytes` of log text with `features` and
    /// `actions` per decision, so the columns do not grow (and copy) while a chunk is parsed.
    /// A decision takes at least two bytes per feature (`0,`) plus its other fields; logs of the
    /// built-in game take about 1.3 KB for 179 features, so this guess over-reserves about
    /// twofold (untouched capacity costs address space, not memory).
    pub fn reserve(&mut self, text_bytes: usize, features: usize, actions: usize) {
        let rows = text_bytes / (2 * features + 256);
        self.battle.reserve(rows);
        self.turn.reserve(rows);
        self.round.reserve(rows);
        self.side.reserve(rows);
        self.actor.reserve(rows);
        self.features.reserve(rows * features);
        self.legal.reserve(rows * actions);
        self.action.reserve(rows);
        self.decision_us.reserve(rows);
        self.reward.reserve(rows);
        self.done.reserve(rows);
        self.material.reserve(rows);
        self.effects.reserve(rows);
    }

    /// Lengths of every column, to roll back to after a rejected record.
    pub(crate) fn mark(&self) -> Mark {
        Mark {
            rows: self.len(),
            features: self.features.len(),
            legal: self.legal.len(),
        }
    }

    /// Drops everything after `mark`.
    pub(crate) fn rollback(&mut self, mark: Mark) {
        let r = mark.rows;
        self.battle.truncate(r);
        self.turn.truncate(r);
        self.round.truncate(r);
        self.side.truncate(r);
        self.actor.truncate(r);
        self.action.truncate(r);
        self.decision_us.truncate(r);
        self.reward.truncate(r);
        self.done.truncate(r);
        self.material.truncate(r);
        self.effects.truncate(r);
        self.features.truncate(mark.features);
        self.legal.truncate(mark.legal);
    }
}

/// Column lengths at a point in time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark {
    pub rows: usize,
    pub features: usize,
    pub legal: usize,
}
