//! Battle-log records: one [`BattleRecord`] per JSON line.
//!
//! The schema is specified in `docs/battle-log.md`. Records are generic over the game's
//! structured state snapshot `S`, event type `E` and setup `G`; a reader that does not know the
//! game uses the defaults ([`serde_json::Value`]).
//!
//! Everything that depends on the wall clock lives in fields named `wall` (one per battle, one
//! per decision), placed last, so two recordings of the same seed differ only there.

use serde::{Deserialize, Serialize};

/// The `format` tag of version 1 records.
pub const FORMAT_V1: &str = "tactician.battle/1";

/// One recorded battle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BattleRecord<S = serde_json::Value, E = serde_json::Value, G = serde_json::Value> {
    /// Always [`FORMAT_V1`] for this version.
    pub format: String,
    /// Unique id of the battle (ingest deduplicates on it).
    pub battle_id: String,
    /// The seed the battle was played from.
    pub seed: u64,
    /// Which game, which version.
    pub game: GameInfo,
    /// Which encoder produced the features.
    pub encoder: EncoderInfo,
    /// The two sides, side 0 first.
    pub sides: Vec<SideInfo>,
    /// Game-specific setup (for the built-in game: rules config, map, teams).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup: Option<G>,
    /// Every decision, in turn order.
    pub decisions: Vec<Decision<S, E>>,
    /// How the battle ended.
    pub outcome: Outcome<S>,
    /// Wall-clock facts (not reproducible).
    #[serde(default)]
    pub wall: BattleWall,
}

/// The game that produced a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GameInfo {
    /// Game name, e.g. `tactician-skirmish`.
    pub name: String,
    /// Game (rules) version.
    pub version: String,
}

/// The encoder that produced a record's features.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncoderInfo {
    /// Encoder name.
    pub name: String,
    /// Its [`FeatureSpec`](crate::FeatureSpec) hash.
    pub hash: String,
    /// Length of every feature vector.
    pub features: usize,
    /// Size of the action space.
    pub actions: usize,
}

/// Who played a side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SideKind {
    /// A scripted strategy or a model.
    Bot,
    /// A person.
    Human,
}

/// One side of a battle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SideInfo {
    /// 0 or 1.
    pub side: u8,
    /// Bot or human.
    pub kind: SideKind,
    /// Strategy name for bots.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    /// Player id for humans.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub player: Option<String>,
}

/// One decision: the state a unit saw, what it could do, what it did and what followed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision<S = serde_json::Value, E = serde_json::Value> {
    /// Decision index in the battle, from 0, without gaps.
    pub turn: u32,
    /// Round number, from 0.
    pub round: u32,
    /// Side of the acting unit.
    pub side: u8,
    /// Team slot of the acting unit.
    pub actor: u8,
    /// Structured snapshot of the state before the action.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<S>,
    /// The encoder's features for the acting unit (integral values are written as integers).
    #[serde(serialize_with = "compact_floats")]
    pub features: Vec<f32>,
    /// Legal-action mask as a string of `0`/`1`, action 0 first.
    pub legal: String,
    /// The chosen action index.
    pub action: u32,
    /// What happened between this decision and the next.
    #[serde(default = "Vec::new")]
    pub events: Vec<E>,
    /// Reward to the acting side (the battle outcome on the final decision, else 0).
    pub reward: f32,
    /// True on the final decision of the battle.
    pub done: bool,
    /// Each side's material before the decision (side 0 first): any measure of advantage the
    /// game defines, larger is better (the built-in game: remaining share of total health).
    /// Statistics find turning points where it swings most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub material: Option<[f32; 2]>,
    /// Wall-clock facts (not reproducible).
    #[serde(default)]
    pub wall: DecisionWall,
}

/// How a battle ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome<S = serde_json::Value> {
    /// Winning side, or `None` for a draw.
    pub winner: Option<u8>,
    /// Victory condition, e.g. `elimination`, `points`, `timeout`.
    pub victory: String,
    /// Decisions played.
    pub turns: u32,
    /// Rounds started.
    pub rounds: u32,
    /// Units still standing per side at the end (side 0 first), if the game has units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alive: Option<[u32; 2]>,
    /// Each side's material at the end (see [`Decision::material`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub material: Option<[f32; 2]>,
    /// Snapshot of the final state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub final_state: Option<S>,
}

/// Wall-clock facts of a battle.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct BattleWall {
    /// Unix time the battle started, in milliseconds.
    pub started_unix_ms: u64,
    /// Wall time the battle took, in milliseconds.
    pub wall_ms: f64,
}

/// Wall-clock facts of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct DecisionWall {
    /// Time the player took to choose, in microseconds.
    pub decision_us: f64,
}

/// Writes floats that hold whole numbers as JSON integers (`1` rather than `1.0`): most
/// features are flags and counts, and this keeps logs a third smaller and faster to read.
fn compact_floats<S: serde::Serializer>(values: &[f32], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(values.len()))?;
    for &v in values {
        if v.fract() == 0.0 && v.abs() < 16_777_216.0 && !(v == 0.0 && v.is_sign_negative()) {
            seq.serialize_element(&(v as i32))?;
        } else {
            seq.serialize_element(&v)?;
        }
    }
    seq.end()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_round_trip_exactly_and_compactly() {
        let d: Decision = Decision {
            turn: 0,
            round: 0,
            side: 0,
            actor: 0,
            state: None,
            features: vec![0.0, 1.0, -3.0, 0.5, 0.85714287, -0.0, 1e-7, 16_777_216.0],
            legal: "1".into(),
            action: 0,
            events: vec![],
            reward: 0.0,
            done: true,
            material: None,
            wall: DecisionWall::default(),
        };
        let text = serde_json::to_string(&d).unwrap();
        assert!(
            text.contains("[0,1,-3,0.5,0.85714287,-0.0,1e-7,16777216.0]"),
            "{text}"
        );
        let back: Decision = serde_json::from_str(&text).unwrap();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back.features), bits(&d.features));
    }
}
