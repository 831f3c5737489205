//! The pass over the transitions table: rows are gathered into whole battles, and each battle
//! is handed to the aggregators.
//!
//! Ingest writes each battle's decisions together, in turn order, within one part file (a
//! record is parsed into consecutive rows and a parsed chunk is written as one batch), so one
//! battle's rows are all that is held in memory. The pass checks this as it goes: a battle must
//! start at turn 0 and go on turn by turn, and a battle id must not come back after another
//! battle's rows (which would count the battle twice), or the pass fails naming the file. The
//! latter check keeps a 64-bit hash per battle seen: 8 bytes per battle.

use super::StatsError;
use super::actions::ActionTally;
use super::battle::{Actions, BattleView, Decision, Effects, Players};
use super::effect::EffectTally;
use super::patterns::PatternTally;
use super::read::{self, Batch};
use super::timing::TimingTally;
use super::turning::TurningTally;
use crate::dataset::Dataset;
use arrow_array::{
    Array, Float32Array, Float64Array, Int32Array, StringArray, UInt8Array, UInt16Array,
    UInt32Array,
};
use std::collections::HashSet;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

/// The transitions columns statistics read.
const COLUMNS: [&str; 16] = [
    "battle_id",
    "turn",
    "side",
    "player",
    "action",
    "decision_us",
    "outcome",
    "material_own",
    "material_enemy",
    "damage",
    "healing",
    "statuses_applied",
    "statuses_resisted",
    "knockouts",
    "items_used",
    "energy_spent",
];

/// Everything gathered from the transitions table.
pub(crate) struct Scan {
    pub players: Players,
    pub battles: u64,
    pub decisions: u64,
    pub actions: ActionTally,
    pub timing: TimingTally,
    pub effect: EffectTally,
    pub turning: TurningTally,
    pub patterns: PatternTally,
}

impl Scan {
    fn new(actions: &Actions, top: usize) -> Self {
        Self {
            players: Players::default(),
            battles: 0,
            decisions: 0,
            actions: ActionTally::default(),
            timing: TimingTally::default(),
            effect: EffectTally::new(actions),
            turning: TurningTally::new(top),
            patterns: PatternTally::new(actions),
        }
    }

    fn battle(&mut self, b: &mut BattleView, actions: &Actions) {
        if b.rows.is_empty() {
            return;
        }
        b.finish();
        self.battles += 1;
        self.decisions += b.rows.len() as u64;
        self.actions.add(b);
        self.timing.add(b);
        self.effect.add(b);
        self.turning.add(b, self.battles);
        self.patterns.add(b, actions);
    }
}

/// Reads the transitions table of `ds` once and aggregates it.
pub(crate) fn transitions(ds: &Dataset, actions: &Actions, top: usize) -> Result<Scan, StatsError> {
    let mut scan = Scan::new(actions, top);
    let mut battle = BattleView::new();
    let mut state = Seen::default();
    for f in ds.manifest().table("transitions") {
        let path = ds.root().join(&f.path);
        read::scan(&path, &COLUMNS, |b| {
            rows(b, actions, &mut scan, &mut battle, &mut state)
        })?;
    }
    scan.battle(&mut battle, actions);
    Ok(scan)
}

/// What the pass remembers between rows: hashes of the battle ids already seen, and the last
/// player name looked up.
#[derive(Default)]
struct Seen {
    /// Hashes of the ids of the battles started so far (a fixed-key hasher: the same on every
    /// run, so an error, if any, is reproducible).
    battles: HashSet<u64>,
    last_player: Option<(String, u32)>,
}

impl Seen {
    /// Records battle `id`; false if it was seen before.
    fn first_time(&mut self, id: &str) -> bool {
        let h = BuildHasherDefault::<DefaultHasher>::default().hash_one(id);
        self.battles.insert(h)
    }
}

/// Adds the rows of one batch, finishing each battle whose rows have all been seen.
fn rows(
    b: &Batch<'_>,
    actions: &Actions,
    scan: &mut Scan,
    battle: &mut BattleView,
    seen: &mut Seen,
) -> Result<(), StatsError> {
    let ids = b.required::<StringArray>("battle_id")?;
    let turn = b.required::<UInt32Array>("turn")?;
    let side = b.required::<UInt8Array>("side")?;
    let player = b.required::<StringArray>("player")?;
    let action = b.required::<UInt32Array>("action")?;
    let outcome = b.required::<Float32Array>("outcome")?;
    let us = b.col::<Float64Array>("decision_us")?;
    let own = b.col::<Float32Array>("material_own")?;
    let enemy = b.col::<Float32Array>("material_enemy")?;
    let damage = b.col::<Int32Array>("damage")?;
    let healing = b.col::<Int32Array>("healing")?;
    let applied = b.col::<UInt16Array>("statuses_applied")?;
    let resisted = b.col::<UInt16Array>("statuses_resisted")?;
    let knockouts = b.col::<UInt16Array>("knockouts")?;
    let items = b.col::<UInt16Array>("items_used")?;
    let energy = b.col::<Int32Array>("energy_spent")?;
    let num_actions = actions.names.len();
    for i in 0..b.len() {
        let id = ids.value(i);
        let t = turn.value(i);
        if id != battle.id || battle.rows.is_empty() {
            scan.battle(battle, actions);
            battle.reset(id);
            if !seen.first_time(id) {
                return Err(b.value_error(format!(
                    "battle {id} comes back after the decisions of other battles; statistics need each battle's decisions together and in turn order, as ingest writes them (and a battle id only once)"
                )));
            }
            if t != 0 {
                return Err(b.value_error(format!(
                    "battle {id} starts at decision {t}, or its decisions are not stored together; statistics need each battle's decisions together and in turn order, as ingest writes them"
                )));
            }
        } else if let Some(prev) = battle.rows.last()
            && prev.turn.checked_add(1) != Some(t)
        {
            return Err(b.value_error(format!(
                "battle {id}: decision {t} follows decision {}; statistics need each battle's decisions in turn order, as ingest writes them",
                prev.turn
            )));
        }
        let s = side.value(i);
        if s > 1 {
            return Err(b.value_error(format!("battle {id} decision {t}: side {s} is not 0 or 1")));
        }
        let a = action.value(i);
        if a as usize >= num_actions {
            return Err(b.value_error(format!(
                "battle {id} decision {t}: action {a} is outside the dataset's {num_actions} actions"
            )));
        }
        let name = player.value(i);
        let p = match &seen.last_player {
            Some((n, p)) if n == name => *p,
            _ => {
                let p = scan.players.intern(name);
                seen.last_player = Some((name.to_string(), p));
                p
            }
        };
        let opt = |valid: bool| valid.then_some(());
        let material =
            opt(own.is_valid(i) && enemy.is_valid(i)).map(|()| [own.value(i), enemy.value(i)]);
        let d = Decision {
            turn: t,
            side: s,
            player: p,
            action: a,
            decision_us: opt(us.is_valid(i)).map(|()| us.value(i)),
            material,
            effects: Effects {
                damage: opt(damage.is_valid(i)).map(|()| damage.value(i)),
                healing: opt(healing.is_valid(i)).map(|()| healing.value(i)),
                applied: opt(applied.is_valid(i)).map(|()| applied.value(i)),
                resisted: opt(resisted.is_valid(i)).map(|()| resisted.value(i)),
                knockouts: opt(knockouts.is_valid(i)).map(|()| knockouts.value(i)),
                items: opt(items.is_valid(i)).map(|()| items.value(i)),
                energy: opt(energy.is_valid(i)).map(|()| energy.value(i)),
            },
        };
        battle.push(d, outcome.value(i));
    }
    Ok(())
}
