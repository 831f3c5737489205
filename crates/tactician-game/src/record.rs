//! Recording a battle into a [`BattleRecord`], and replaying a record to prove it.
//!
//! [`record`] plays a battle between two strategies and writes down, for every decision, the
//! [`Snapshot`] the acting unit saw, its features from [`SkirmishEncoder`], the legal mask, the
//! chosen action and the [`Event`]s it caused. [`replay`] rebuilds the battle from the record's
//! seed, rules and action list alone, and checks every recorded fact against the replayed
//! battle: a record that replays is a faithful account of a real battle.
//!
//! The layout of a record on disk is specified in `docs/battle-log.md`.

use crate::action::Action;
use crate::encoder::{ENCODER_NAME, SkirmishEncoder};
use crate::engine::GameError;
use crate::event::Event;
use crate::rules::{GAME_NAME, GAME_VERSION, GameConfig};
use crate::state::{Battle, Setup, Snapshot};
use crate::strategy::Strategy;
use std::fmt;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tactician_battle::Encoder;
use tactician_battle::record::{
    BattleRecord, BattleWall, Decision, DecisionWall, EncoderInfo, FORMAT_V1, GameInfo, Outcome,
    SideInfo, SideKind,
};

/// A recorded Skirmish battle.
pub type SkirmishRecord = BattleRecord<Snapshot, Event, Setup>;

/// Whether the wall-clock fields of a record are measured or written as zero.
///
/// With [`WallClock::Zero`], two recordings of the same battle are identical, byte for byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WallClock {
    /// Measure decision times, battle time and start time.
    #[default]
    Measured,
    /// Write zero in every wall-clock field.
    Zero,
}

/// A strategy chose an action that is not legal: a bug in the strategy, reported, not hidden.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("strategy {strategy:?} chose an illegal action at decision {turn}")]
pub struct RecordError {
    /// The strategy's name.
    pub strategy: String,
    /// The decision index.
    pub turn: u32,
    /// The engine's refusal.
    #[source]
    pub source: GameError,
}

/// The game and encoder facts written into every record.
fn game_info() -> GameInfo {
    GameInfo {
        name: GAME_NAME.to_string(),
        version: GAME_VERSION.to_string(),
    }
}

/// This game's encoder as written into records.
pub fn encoder_info() -> EncoderInfo {
    let spec = SkirmishEncoder::feature_spec();
    EncoderInfo {
        name: ENCODER_NAME.to_string(),
        hash: spec.hash().to_string(),
        features: spec.num_features(),
        actions: spec.num_actions(),
    }
}

/// The id of a battle: 16 hex digits of the BLAKE3 hash of the game and its version, the rules,
/// the seed, the two sides' strategies and the list of actions played.
///
/// Two records share an id exactly when they describe the same battle played by the same
/// strategies, so ingest can deduplicate on it, and [`replay`] can check it.
pub fn battle_id(seed: u64, config: &GameConfig, strategies: [&str; 2], actions: &[u32]) -> String {
    let mut h = blake3::Hasher::new();
    h.update(b"tactician.battle-id/1\0");
    h.update(GAME_NAME.as_bytes());
    h.update(b"\0");
    h.update(GAME_VERSION.as_bytes());
    h.update(b"\0");
    h.update(&config.max_rounds.to_le_bytes());
    h.update(&[config.points_margin_pct]);
    h.update(&seed.to_le_bytes());
    for s in strategies {
        h.update(&(s.len() as u64).to_le_bytes());
        h.update(s.as_bytes());
    }
    for a in actions {
        h.update(&a.to_le_bytes());
    }
    h.finalize().to_hex()[..16].to_string()
}

/// Each side's material: its remaining share of its total health.
fn material(battle: &Battle) -> [f32; 2] {
    [battle.health_fraction(0), battle.health_fraction(1)]
}

/// Plays a battle from `seed` between two strategies (side 0 first) and records it.
pub fn record(
    seed: u64,
    config: GameConfig,
    players: [&mut dyn Strategy; 2],
    wall: WallClock,
) -> Result<SkirmishRecord, RecordError> {
    let started = Instant::now();
    let started_unix_ms = match wall {
        WallClock::Measured => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64),
        WallClock::Zero => 0,
    };
    let names = [players[0].name(), players[1].name()];
    let encoder = SkirmishEncoder;
    let mut battle = Battle::new(seed, config);
    let setup = battle.setup();
    let mut decisions: Vec<Decision<Snapshot, Event>> = Vec::new();
    while let Some(actor) = battle.actor() {
        let snapshot = battle.snapshot();
        let legal = battle.legal();
        let features = encoder.encode(&battle);
        let material = Some(material(&battle));
        let t = Instant::now();
        let action = players[actor.side() as usize].choose(&battle, legal);
        let decision_us = match wall {
            WallClock::Measured => t.elapsed().as_secs_f64() * 1e6,
            WallClock::Zero => 0.0,
        };
        let mut events = Vec::new();
        battle
            .step_with(action, &mut events)
            .map_err(|source| RecordError {
                strategy: names[actor.side() as usize].to_string(),
                turn: snapshot.turn,
                source,
            })?;
        let reward = battle.outcome().map_or(0.0, |o| o.value_for(actor.side()));
        decisions.push(Decision {
            turn: snapshot.turn,
            round: u32::from(snapshot.round),
            side: actor.side(),
            actor: actor.slot(),
            state: Some(snapshot),
            features,
            legal: legal.to_bitstring(),
            action: action.index() as u32,
            events,
            reward,
            done: battle.is_over(),
            material,
            wall: DecisionWall { decision_us },
        });
    }
    let outcome = battle
        .outcome()
        .expect("the loop ends when the battle is over");
    let actions: Vec<u32> = decisions.iter().map(|d| d.action).collect();
    let wall_ms = match wall {
        WallClock::Measured => started.elapsed().as_secs_f64() * 1e3,
        WallClock::Zero => 0.0,
    };
    Ok(BattleRecord {
        format: FORMAT_V1.to_string(),
        battle_id: battle_id(seed, &config, names, &actions),
        seed,
        game: game_info(),
        encoder: encoder_info(),
        sides: (0..2u8)
            .map(|side| SideInfo {
                side,
                kind: SideKind::Bot,
                strategy: Some(names[side as usize].to_string()),
                player: None,
            })
            .collect(),
        setup: Some(setup),
        decisions,
        outcome: Outcome {
            winner: outcome.winner,
            victory: outcome.victory.name().to_string(),
            turns: battle.turn(),
            rounds: u32::from(battle.round()) + 1,
            alive: Some([0, 1].map(|s| battle.alive_count(s) as u32)),
            material: Some(material(&battle)),
            final_state: Some(battle.snapshot()),
        },
        wall: BattleWall {
            started_unix_ms,
            wall_ms,
        },
    })
}

/// Why a list of actions does not make a battle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ActionsError {
    /// An action is illegal where it was played.
    #[error(transparent)]
    Illegal(#[from] RecordError),
    /// An index names no action.
    #[error("action {action} at decision {turn} is not an action index")]
    Unknown {
        /// The decision.
        turn: u32,
        /// The index given.
        action: u32,
    },
    /// The battle is not over when the list ends.
    #[error("the battle is not over after the {0} actions given")]
    TooShort(usize),
    /// The battle ended before the list did.
    #[error("the battle ended after {played} actions, {extra} more were given")]
    TooLong {
        /// Actions the battle took.
        played: usize,
        /// Actions left over.
        extra: usize,
    },
}

/// Plays back a list of actions (by index, both sides in turn order) from `seed`, as a
/// strategy-less record: how a device that served some of a battle's decisions records the
/// whole battle once the game reports its seed and every action. `names` label the two sides.
pub fn record_actions(
    seed: u64,
    config: GameConfig,
    names: [&'static str; 2],
    actions: &[u32],
    wall: WallClock,
) -> Result<SkirmishRecord, ActionsError> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    struct Playback {
        name: &'static str,
        actions: Arc<[u32]>,
        next: Arc<AtomicUsize>,
        problem: Arc<Mutex<Option<ActionsError>>>,
    }
    impl Strategy for Playback {
        fn name(&self) -> &'static str {
            self.name
        }
        fn choose(&mut self, battle: &Battle, legal: crate::Legal) -> Action {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let fallback = (0..crate::NUM_ACTIONS)
                .find(|&a| legal.contains_index(a))
                .and_then(Action::from_index)
                .unwrap_or(Action::Wait);
            let problem = match self.actions.get(i) {
                None => Some(ActionsError::TooShort(self.actions.len())),
                Some(&a) => match Action::from_index(a as usize) {
                    Some(action) => return action,
                    None => Some(ActionsError::Unknown {
                        turn: battle.turn(),
                        action: a,
                    }),
                },
            };
            if let Ok(mut p) = self.problem.lock()
                && p.is_none()
            {
                *p = problem;
            }
            fallback
        }
    }
    let list: Arc<[u32]> = actions.into();
    let next = Arc::new(AtomicUsize::new(0));
    let problem = Arc::new(Mutex::new(None));
    let mut players = names.map(|name| Playback {
        name,
        actions: list.clone(),
        next: next.clone(),
        problem: problem.clone(),
    });
    let [a, b] = &mut players;
    let rec = record(seed, config, [a, b], wall);
    // A list that ran out or named no action explains any later illegal move.
    if let Some(p) = problem.lock().ok().and_then(|mut p| p.take()) {
        return Err(p);
    }
    let rec = rec?;
    let played = rec.decisions.len();
    if played < actions.len() {
        return Err(ActionsError::TooLong {
            played,
            extra: actions.len() - played,
        });
    }
    Ok(rec)
}

/// A recorded fact of a decision that [`replay`] checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Field {
    /// The decision index.
    Turn,
    /// The round number.
    Round,
    /// The acting unit (side and slot).
    Actor,
    /// The state snapshot.
    State,
    /// The feature vector.
    Features,
    /// The legal-action mask.
    Legal,
    /// The events the action caused.
    Events,
    /// The reward.
    Reward,
    /// The end-of-battle flag.
    Done,
    /// The material of both sides.
    Material,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Turn => "turn",
            Field::Round => "round",
            Field::Actor => "actor",
            Field::State => "state snapshot",
            Field::Features => "features",
            Field::Legal => "legal mask",
            Field::Events => "events",
            Field::Reward => "reward",
            Field::Done => "done flag",
            Field::Material => "material",
        })
    }
}

/// Why a record does not replay.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// The record's format tag is not one this code reads.
    #[error("record format {0:?} is not {FORMAT_V1:?}")]
    Format(String),
    /// The record comes from another game or another version of its rules.
    #[error("record is from game {name} {version}, this is {GAME_NAME} {GAME_VERSION}")]
    Game {
        /// The record's game name.
        name: String,
        /// The record's game version.
        version: String,
    },
    /// The record's features come from another encoder layout.
    #[error("record features come from encoder {found}, this game's encoder is {expected}")]
    Encoder {
        /// The record's encoder hash.
        found: String,
        /// This game's encoder hash.
        expected: String,
    },
    /// The record has no setup, so its rules are unknown.
    #[error("record has no setup, so its rules are unknown")]
    MissingSetup,
    /// The record does not list exactly two sides.
    #[error("record lists {0} sides, expected 2")]
    Sides(usize),
    /// The seed produces another map or other teams than the record's setup.
    #[error("the seed's map and teams differ from the record's setup")]
    Setup,
    /// A recorded fact of a decision differs from the replayed battle.
    #[error("decision {index}: the recorded {field} differs from the replay")]
    Mismatch {
        /// The decision's position in the record.
        index: usize,
        /// Which fact.
        field: Field,
    },
    /// A recorded action cannot be played in the replayed battle.
    #[error("decision {index}: action {action} cannot be played: {reason}")]
    Illegal {
        /// The decision's position in the record.
        index: usize,
        /// The recorded action index.
        action: u32,
        /// The engine's refusal.
        reason: GameError,
    },
    /// The replayed battle ended before the record's last decision.
    #[error("the battle ended after {played} decisions but the record has {recorded}")]
    EndedEarly {
        /// Decisions played when the battle ended.
        played: usize,
        /// Decisions in the record.
        recorded: usize,
    },
    /// The record ends while the replayed battle goes on.
    #[error("the record ends after {0} decisions but the battle is not over")]
    Unfinished(usize),
    /// The recorded outcome differs from the replayed one.
    #[error("the recorded outcome ({0}) differs from the replay")]
    Outcome(&'static str),
    /// The record's id does not match its content.
    #[error("battle id {found} does not match the battle's content ({expected})")]
    BattleId {
        /// The recorded id.
        found: String,
        /// The id of the replayed content.
        expected: String,
    },
}

/// Rebuilds a battle from a record's seed, rules and actions, checking every decision's
/// snapshot, features, legal mask, events, reward and end flag, the outcome, the final state and
/// the battle id against the replay. Returns the finished battle.
pub fn replay(rec: &SkirmishRecord) -> Result<Battle, ReplayError> {
    if rec.format != FORMAT_V1 {
        return Err(ReplayError::Format(rec.format.clone()));
    }
    if rec.game.name != GAME_NAME || rec.game.version != GAME_VERSION {
        return Err(ReplayError::Game {
            name: rec.game.name.clone(),
            version: rec.game.version.clone(),
        });
    }
    let enc = encoder_info();
    if rec.encoder != enc {
        return Err(ReplayError::Encoder {
            found: rec.encoder.hash.clone(),
            expected: enc.hash,
        });
    }
    let setup = rec.setup.as_ref().ok_or(ReplayError::MissingSetup)?;
    if rec.sides.len() != 2 {
        return Err(ReplayError::Sides(rec.sides.len()));
    }
    let mut battle = Battle::new(rec.seed, setup.config);
    if battle.setup() != *setup {
        return Err(ReplayError::Setup);
    }
    let encoder = SkirmishEncoder;
    let mut events = Vec::new();
    for (index, d) in rec.decisions.iter().enumerate() {
        let mismatch = |field| ReplayError::Mismatch { index, field };
        let Some(actor) = battle.actor() else {
            return Err(ReplayError::EndedEarly {
                played: index,
                recorded: rec.decisions.len(),
            });
        };
        if d.turn != battle.turn() || d.turn as usize != index {
            return Err(mismatch(Field::Turn));
        }
        if d.round != u32::from(battle.round()) {
            return Err(mismatch(Field::Round));
        }
        if d.side != actor.side() || d.actor != actor.slot() {
            return Err(mismatch(Field::Actor));
        }
        if d.state.as_ref().is_some_and(|s| *s != battle.snapshot()) {
            return Err(mismatch(Field::State));
        }
        if d.material.is_some_and(|m| m != material(&battle)) {
            return Err(mismatch(Field::Material));
        }
        let legal = battle.legal();
        if d.legal != legal.to_bitstring() {
            return Err(mismatch(Field::Legal));
        }
        if d.features != encoder.encode(&battle) {
            return Err(mismatch(Field::Features));
        }
        let action = Action::from_index(d.action as usize).ok_or(ReplayError::Illegal {
            index,
            action: d.action,
            reason: GameError::UnknownAction(d.action as usize),
        })?;
        events.clear();
        battle
            .step_with(action, &mut events)
            .map_err(|reason| ReplayError::Illegal {
                index,
                action: d.action,
                reason,
            })?;
        if d.events != events {
            return Err(mismatch(Field::Events));
        }
        let reward = battle.outcome().map_or(0.0, |o| o.value_for(actor.side()));
        if d.reward != reward {
            return Err(mismatch(Field::Reward));
        }
        if d.done != battle.is_over() {
            return Err(mismatch(Field::Done));
        }
    }
    let Some(outcome) = battle.outcome() else {
        return Err(ReplayError::Unfinished(rec.decisions.len()));
    };
    let o = &rec.outcome;
    if o.winner != outcome.winner {
        return Err(ReplayError::Outcome("winner"));
    }
    if o.victory != outcome.victory.name() {
        return Err(ReplayError::Outcome("victory"));
    }
    if o.turns != battle.turn() || o.rounds != u32::from(battle.round()) + 1 {
        return Err(ReplayError::Outcome("turns or rounds"));
    }
    if o.alive
        .is_some_and(|a| a != [0, 1].map(|s| battle.alive_count(s) as u32))
        || o.material.is_some_and(|m| m != material(&battle))
    {
        return Err(ReplayError::Outcome("alive units or material"));
    }
    if o.final_state
        .as_ref()
        .is_some_and(|s| *s != battle.snapshot())
    {
        return Err(ReplayError::Outcome("final state"));
    }
    let names = [&rec.sides[0], &rec.sides[1]].map(side_name);
    let actions: Vec<u32> = rec.decisions.iter().map(|d| d.action).collect();
    let expected = battle_id(rec.seed, &setup.config, names, &actions);
    if rec.battle_id != expected {
        return Err(ReplayError::BattleId {
            found: rec.battle_id.clone(),
            expected,
        });
    }
    Ok(battle)
}

/// The name a side enters the battle id with: its strategy, else its player id.
fn side_name(side: &SideInfo) -> &str {
    side.strategy
        .as_deref()
        .or(side.player.as_deref())
        .unwrap_or("")
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod actions_tests {
    use super::*;

    #[test]
    fn a_battle_played_back_from_its_actions_is_the_same_battle() {
        let mut a = crate::strategy::by_name("aggressive", 1).unwrap();
        let mut b = crate::strategy::by_name("defensive", 2).unwrap();
        let original = record(
            9,
            GameConfig::default(),
            [&mut *a, &mut *b],
            WallClock::Zero,
        )
        .unwrap();
        let actions: Vec<u32> = original.decisions.iter().map(|d| d.action).collect();
        let back = record_actions(
            9,
            GameConfig::default(),
            ["x", "y"],
            &actions,
            WallClock::Zero,
        )
        .unwrap();
        assert_eq!(back.decisions, original.decisions);
        assert_eq!(back.outcome, original.outcome);
        assert!(replay(&back).is_ok());
        // One action short, one too many, an unknown index, an illegal one.
        let short = record_actions(
            9,
            GameConfig::default(),
            ["x", "y"],
            &actions[..actions.len() - 1],
            WallClock::Zero,
        );
        assert!(matches!(short, Err(ActionsError::TooShort(_))), "{short:?}");
        let mut long = actions.clone();
        long.push(0);
        let err = record_actions(9, GameConfig::default(), ["x", "y"], &long, WallClock::Zero);
        assert!(
            matches!(err, Err(ActionsError::TooLong { extra: 1, .. })),
            "{err:?}"
        );
        let mut unknown = actions.clone();
        unknown[0] = 999;
        let err = record_actions(
            9,
            GameConfig::default(),
            ["x", "y"],
            &unknown,
            WallClock::Zero,
        );
        assert!(
            matches!(
                err,
                Err(ActionsError::Unknown {
                    turn: 0,
                    action: 999
                })
            ),
            "{err:?}"
        );
    }
}
