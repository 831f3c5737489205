//! The game's scenarios: hand-built situations with the actions a good player would take,
//! by which a trained policy is judged beside its accuracy.
//!
//! Each is built through the game's API (a [`Setup`] and [`Snapshot`] checked by
//! [`Battle::from_snapshot`]), encoded with the built-in encoder, and checked when built: every
//! acceptable action is legal, and playing the scenario's sure actions in the engine has the
//! effect the scenario is named after (an enemy knocked out, an ally healed, a tile left...).
//! Beside the encoded view, each scenario carries the position itself ([`Position`]), so it can
//! be replayed.

use crate::rules::Terrain;
use crate::{
    Action, Battle, Class, GameConfig, Setup, SkirmishEncoder, Snapshot, UnitId, UnitState, Weather,
};
use serde::{Deserialize, Serialize};
use tactician_battle::{GameSpecError, Scenario, ScenarioState};

/// The position of a scenario, written after its encoded view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// The acting unit as `[side, slot]`.
    pub actor: UnitId,
    /// The game state: rules, map, teams.
    pub setup: Setup,
    /// The game state: units, items, turn.
    pub snapshot: Snapshot,
}

/// One unit in a scenario: class, position, health, energy; statuses zero.
fn unit(x: u8, y: u8, hp: i16, energy: u8) -> UnitState {
    UnitState {
        x,
        y,
        hp,
        energy,
        poison: 0,
        burn: 0,
        stun: 0,
        shield: 0,
        shield_turns: 0,
        cd_offense: 0,
        cd_support: 0,
    }
}

struct Spec {
    name: &'static str,
    description: &'static str,
    map: [&'static str; 6],
    teams: [[Class; 3]; 2],
    units: [UnitState; 6],
    actor: UnitId,
    potions: [u8; 2],
    bombs: [u8; 2],
    acceptable: &'static [Action],
    /// Actions whose effect is certain, played in the engine to check the scenario.
    sure: &'static [Action],
    /// The effect every sure action must have: `(before, after) -> ok`.
    effect: fn(&Battle, &Battle) -> bool,
}

const OPEN: [&str; 6] = [
    "........", "........", "........", "........", "........", "........",
];

fn specs() -> Vec<Spec> {
    use Action::*;
    use Class::*;
    vec![
        Spec {
            name: "finish_low_health_enemy",
            description: "An enemy archer with 6 health stands next to our knight: knock it out \
                          (attack, bash or bomb it) rather than spend the turn elsewhere.",
            map: OPEN,
            teams: [[Knight, Archer, Cleric], [Archer, Mage, Cleric]],
            units: [
                unit(3, 2, 120, 50),
                unit(0, 0, 80, 50),
                unit(0, 5, 90, 50),
                unit(4, 2, 6, 50),
                unit(7, 0, 70, 50),
                unit(7, 5, 90, 50),
            ],
            actor: UnitId::new(0, 0),
            potions: [2, 2],
            bombs: [1, 1],
            acceptable: &[Attack(0), SkillEnemy(0), Bomb(0)],
            sure: &[SkillEnemy(0), Bomb(0)],
            effect: |_, after| !after.unit(UnitId::new(1, 0)).alive(),
        },
        Spec {
            name: "save_falling_ally",
            description: "Our knight is down to 10 of 120 health next to two enemies: heal it \
                          or give it a potion before it falls.",
            map: OPEN,
            teams: [[Knight, Archer, Cleric], [Knight, Archer, Mage]],
            units: [
                unit(3, 3, 10, 50),
                unit(0, 0, 80, 50),
                unit(2, 3, 90, 60),
                unit(4, 3, 120, 50),
                unit(6, 3, 80, 50),
                unit(7, 1, 70, 50),
            ],
            actor: UnitId::new(0, 2),
            potions: [2, 2],
            bombs: [0, 1],
            acceptable: &[SkillAlly(0), Potion(0)],
            sure: &[SkillAlly(0), Potion(0)],
            effect: |before, after| {
                let id = UnitId::new(0, 0);
                after.unit(id).hp >= before.unit(id).hp + 30
            },
        },
        Spec {
            name: "stunned_only_wait",
            description: "The acting mage (side 1) is stunned: waiting is the only legal action.",
            map: OPEN,
            teams: [[Knight, Archer, Cleric], [Knight, Archer, Mage]],
            units: [
                unit(2, 1, 100, 50),
                unit(0, 3, 80, 50),
                unit(1, 4, 90, 50),
                unit(6, 1, 120, 50),
                unit(7, 3, 80, 50),
                UnitState {
                    stun: 1,
                    ..unit(5, 2, 50, 40)
                },
            ],
            actor: UnitId::new(1, 2),
            potions: [2, 2],
            bombs: [1, 1],
            acceptable: &[Wait],
            sure: &[Wait],
            effect: |_, after| after.unit(UnitId::new(1, 2)).stun == 0,
        },
        Spec {
            name: "leave_swamp",
            description: "Our archer stands in a swamp (poison at the start of each turn) with \
                          no enemy in reach: step onto firm ground (north or back), not deeper \
                          into the swamp.",
            map: [
                "........", "........", "...SS...", "...S....", "........", "........",
            ],
            teams: [[Knight, Archer, Cleric], [Knight, Archer, Mage]],
            units: [
                unit(0, 1, 120, 50),
                unit(3, 2, 80, 50),
                unit(0, 4, 90, 50),
                unit(7, 0, 120, 50),
                unit(7, 3, 80, 50),
                unit(7, 5, 70, 50),
            ],
            actor: UnitId::new(0, 1),
            potions: [2, 2],
            bombs: [1, 1],
            acceptable: &[MoveBack, MoveNorth],
            sure: &[MoveBack, MoveNorth],
            effect: |_, after| {
                let u = after.unit(UnitId::new(0, 1));
                after.terrain(u.x, u.y) != Terrain::Swamp
            },
        },
        Spec {
            name: "last_potion_on_the_hurt_ally",
            description: "One potion left and two hurt allies next to our knight: the archer \
                          at 15 of 80 and poisoned needs it, not the mage at 60 of 70.",
            map: OPEN,
            teams: [[Knight, Archer, Mage], [Knight, Archer, Mage]],
            units: [
                unit(1, 2, 120, 50),
                UnitState {
                    poison: 2,
                    ..unit(1, 3, 15, 50)
                },
                unit(1, 1, 60, 50),
                unit(7, 0, 120, 50),
                unit(7, 3, 80, 50),
                unit(7, 5, 70, 50),
            ],
            actor: UnitId::new(0, 0),
            potions: [1, 2],
            bombs: [0, 1],
            acceptable: &[Potion(1)],
            sure: &[Potion(1)],
            effect: |_, after| {
                let a = after.unit(UnitId::new(0, 1));
                a.hp == 50 && a.poison == 0 && after.potions(0) == 0
            },
        },
        Spec {
            name: "bomb_the_cluster",
            description: "Two weakened enemies stand side by side (mage 18 health, cleric 9): \
                          the last bomb on the mage knocks out both with its splash.",
            map: OPEN,
            teams: [[Knight, Archer, Cleric], [Mage, Cleric, Knight]],
            units: [
                unit(0, 0, 120, 50),
                unit(3, 2, 80, 10),
                unit(0, 5, 90, 50),
                unit(5, 2, 18, 50),
                unit(5, 3, 9, 50),
                unit(7, 5, 120, 50),
            ],
            actor: UnitId::new(0, 1),
            potions: [0, 2],
            bombs: [1, 1],
            acceptable: &[Bomb(0)],
            sure: &[Bomb(0)],
            effect: |_, after| {
                !after.unit(UnitId::new(1, 0)).alive() && !after.unit(UnitId::new(1, 1)).alive()
            },
        },
    ]
}

fn build(s: &Spec) -> Result<(Scenario, Battle), GameSpecError> {
    let err = |message: String| GameSpecError::Scenario {
        name: s.name.to_string(),
        message,
    };
    let setup = Setup {
        config: GameConfig::default(),
        map: s.map.iter().map(|r| r.to_string()).collect(),
        teams: s.teams,
        initiative: [[5, 4, 3], [2, 1, 0]],
    };
    let snapshot = Snapshot {
        round: 2,
        turn: 12,
        actor: Some(s.actor),
        queue: Vec::new(),
        weather: Weather::Clear,
        potions: s.potions,
        bombs: s.bombs,
        units: s.units.to_vec(),
        outcome: None,
        rng: 0x5ce0_a210,
    };
    let battle = Battle::from_snapshot(&setup, &snapshot).map_err(|e| err(e.to_string()))?;
    let legal = battle.legal();
    for &a in s.acceptable {
        if !legal.contains(a) {
            return Err(err(format!("acceptable action {a} is not legal")));
        }
    }
    for &a in s.sure {
        let mut after = battle;
        after.step(a).map_err(|e| err(e.to_string()))?;
        if !(s.effect)(&battle, &after) {
            return Err(err(format!("{a} does not have the scenario's effect")));
        }
    }
    let mut features = vec![0f32; SkirmishEncoder::num_features()];
    SkirmishEncoder::encode_unit(&battle, s.actor, legal, &mut features);
    Ok((
        Scenario {
            name: s.name.to_string(),
            description: s.description.to_string(),
            features,
            legal: (0..crate::NUM_ACTIONS)
                .map(|i| u8::from(legal.contains_index(i)))
                .collect(),
            acceptable: s.acceptable.iter().map(|a| a.name().to_string()).collect(),
            encoder: SkirmishEncoder::feature_spec().hash().to_string(),
            state: ScenarioState::new(Position {
                actor: s.actor,
                setup,
                snapshot,
            }),
        },
        battle,
    ))
}

/// The game's scenarios, each built and checked in the engine.
/// A scenario that cannot be built is a defect of its definition, reported as
/// [`GameSpecError::Scenario`].
pub fn scenarios() -> Result<Vec<Scenario>, GameSpecError> {
    specs().iter().map(|s| build(s).map(|(sc, _)| sc)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tactician_battle::Encoder;

    #[test]
    fn every_scenario_is_legal_and_consistent_in_the_engine() {
        let list = scenarios().unwrap();
        assert!(list.len() >= 5);
        let mut names: Vec<&str> = list.iter().map(|s| s.name.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), list.len(), "names are unique");
        for s in &list {
            let p: Position = serde_json::from_value(s.state.to_value()).unwrap();
            let b = Battle::from_snapshot(&p.setup, &p.snapshot).unwrap();
            assert_eq!(b.actor(), Some(p.actor));
            assert_eq!(SkirmishEncoder.encode(&b), s.features, "{}", s.name);
            for a in &s.acceptable {
                let a = Action::from_name(a).unwrap();
                assert_eq!(s.legal[a.index()], 1, "{}: {a}", s.name);
            }
            // The state survives a JSON round trip (the evaluator reads it back).
            let text = serde_json::to_string(s).unwrap();
            let back: Scenario = serde_json::from_str(&text).unwrap();
            assert_eq!(&back, s);
        }
        let stunned = list.iter().find(|s| s.name == "stunned_only_wait").unwrap();
        assert_eq!(stunned.legal.iter().map(|&x| u32::from(x)).sum::<u32>(), 1);
    }

    #[test]
    fn the_checks_can_fail() {
        // The cluster bomb on the cleric leaves the mage standing: the effect check sees it.
        let mut spec = specs()
            .into_iter()
            .find(|s| s.name == "bomb_the_cluster")
            .unwrap();
        spec.sure = &[Action::Bomb(1)];
        assert!(build(&spec).is_err());
        // An illegal acceptable action is refused.
        let mut spec = specs()
            .into_iter()
            .find(|s| s.name == "stunned_only_wait")
            .unwrap();
        spec.acceptable = &[Action::MoveBack];
        assert!(build(&spec).is_err());
    }
}
