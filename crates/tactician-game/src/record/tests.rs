use super::*;
use crate::strategy;
use tactician_battle::record::BattleRecord;

fn rec(seed: u64, wall: WallClock) -> SkirmishRecord {
    let mut a = strategy::by_name("random", seed ^ 1).unwrap();
    let mut b = strategy::by_name("random", seed ^ 2).unwrap();
    record(seed, GameConfig::default(), [a.as_mut(), b.as_mut()], wall).unwrap()
}

fn through_json(r: &SkirmishRecord) -> SkirmishRecord {
    serde_json::from_str(&serde_json::to_string(r).unwrap()).unwrap()
}

#[test]
fn recorded_battles_replay_after_a_json_round_trip() {
    for seed in 0..150 {
        let r = through_json(&rec(seed, WallClock::Measured));
        let battle = replay(&r).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert_eq!(battle.turn() as usize, r.decisions.len());
        assert_eq!(battle.outcome().unwrap().winner, r.outcome.winner);
    }
}

#[test]
fn record_facts_are_consistent() {
    let r = rec(7, WallClock::Measured);
    assert_eq!(r.battle_id.len(), 16);
    assert_eq!(r.sides.len(), 2);
    assert_eq!(r.sides[1].strategy.as_deref(), Some("random"));
    let last = r.decisions.last().unwrap();
    assert!(last.done);
    assert!(
        r.decisions[..r.decisions.len() - 1]
            .iter()
            .all(|d| !d.done && d.reward == 0.0)
    );
    let expected = r
        .outcome
        .winner
        .map_or(0.0, |w| if w == last.side { 1.0 } else { -1.0 });
    assert_eq!(last.reward, expected);
    for (i, d) in r.decisions.iter().enumerate() {
        assert_eq!(d.turn as usize, i);
        assert_eq!(d.features.len(), r.encoder.features);
        assert_eq!(d.legal.len(), r.encoder.actions);
        assert_eq!(d.legal.as_bytes()[d.action as usize], b'1');
        assert!(d.wall.decision_us >= 0.0);
    }
    assert!(r.outcome.final_state.as_ref().unwrap().outcome.is_some());
}

#[test]
fn zero_wall_clock_gives_identical_bytes() {
    let a = serde_json::to_vec(&rec(11, WallClock::Zero)).unwrap();
    let b = serde_json::to_vec(&rec(11, WallClock::Zero)).unwrap();
    assert_eq!(a, b);
    let r = rec(11, WallClock::Zero);
    assert_eq!(r.wall.wall_ms, 0.0);
    assert!(r.decisions.iter().all(|d| d.wall.decision_us == 0.0));
}

#[test]
fn ids_differ_between_battles_and_strategies() {
    let a = rec(1, WallClock::Zero);
    let b = rec(2, WallClock::Zero);
    assert_ne!(a.battle_id, b.battle_id);
    let actions: Vec<u32> = a.decisions.iter().map(|d| d.action).collect();
    let cfg = GameConfig::default();
    assert_eq!(
        a.battle_id,
        battle_id(1, &cfg, ["random", "random"], &actions)
    );
    assert_ne!(
        a.battle_id,
        battle_id(1, &cfg, ["random", "search"], &actions)
    );
}

/// A decision with at least two legal actions, and another legal action than the chosen one.
fn alternative(r: &SkirmishRecord) -> (usize, u32) {
    r.decisions
        .iter()
        .enumerate()
        .find_map(|(i, d)| {
            d.legal
                .bytes()
                .enumerate()
                .find(|&(a, bit)| bit == b'1' && a as u32 != d.action && a != 0)
                .map(|(a, _)| (i, a as u32))
        })
        .unwrap()
}

#[test]
fn a_changed_action_fails_replay() {
    for seed in 0..20 {
        let mut r = rec(seed, WallClock::Zero);
        let (i, other) = alternative(&r);
        r.decisions[i].action = other;
        assert!(replay(&r).is_err(), "seed {seed}: changed action replayed");
    }
}

#[test]
fn an_illegal_action_is_named() {
    let mut r = rec(3, WallClock::Zero);
    let i = 2;
    let illegal = r.decisions[i]
        .legal
        .bytes()
        .position(|b| b == b'0')
        .unwrap();
    r.decisions[i].action = illegal as u32;
    assert!(matches!(
        replay(&r),
        Err(ReplayError::Illegal { index: 2, .. })
    ));
    r.decisions[i].action = 99;
    assert!(matches!(
        replay(&r),
        Err(ReplayError::Illegal {
            index: 2,
            action: 99,
            ..
        })
    ));
}

#[test]
fn changed_decision_facts_are_caught() {
    let r = rec(5, WallClock::Zero);
    let check = |f: &dyn Fn(&mut SkirmishRecord), field: Field| {
        let mut t = r.clone();
        f(&mut t);
        assert_eq!(
            replay(&t).unwrap_err(),
            ReplayError::Mismatch { index: 4, field }
        );
    };
    check(
        &|t| t.decisions[4].state.as_mut().unwrap().units[0].hp -= 1,
        Field::State,
    );
    check(
        &|t| t.decisions[4].state.as_mut().unwrap().rng ^= 1,
        Field::State,
    );
    check(&|t| t.decisions[4].features[3] += 0.25, Field::Features);
    check(&|t| t.decisions[4].legal = "0".repeat(20), Field::Legal);
    check(&|t| t.decisions[4].events.clear(), Field::Events);
    check(&|t| t.decisions[4].reward = 1.0, Field::Reward);
    check(&|t| t.decisions[4].done = true, Field::Done);
    check(&|t| t.decisions[4].turn = 9, Field::Turn);
    check(&|t| t.decisions[4].round += 1, Field::Round);
    check(&|t| t.decisions[4].side ^= 1, Field::Actor);
}

#[test]
fn changed_battle_facts_are_caught() {
    let r = rec(6, WallClock::Zero);
    let mut t = r.clone();
    t.outcome.winner = Some(t.outcome.winner.map_or(0, |w| 1 - w));
    assert_eq!(replay(&t).unwrap_err(), ReplayError::Outcome("winner"));
    let mut t = r.clone();
    t.outcome.final_state.as_mut().unwrap().units[5].energy ^= 1;
    assert_eq!(replay(&t).unwrap_err(), ReplayError::Outcome("final state"));
    let mut t = r.clone();
    t.battle_id = "0000000000000000".into();
    assert!(matches!(replay(&t), Err(ReplayError::BattleId { .. })));
    let mut t = r.clone();
    t.sides[0].strategy = Some("aggressive".into());
    assert!(matches!(replay(&t), Err(ReplayError::BattleId { .. })));
    let mut t = r.clone();
    t.seed += 1;
    assert_eq!(replay(&t).unwrap_err(), ReplayError::Setup);
    let mut t = r.clone();
    t.decisions.pop();
    assert!(matches!(replay(&t), Err(ReplayError::Unfinished(_))));
    let mut t = r.clone();
    let extra = t.decisions[0].clone();
    t.decisions.push(extra);
    assert!(matches!(replay(&t), Err(ReplayError::EndedEarly { .. })));
    let mut t = r.clone();
    t.encoder.hash = "skirmish-v2-0000".into();
    assert!(matches!(replay(&t), Err(ReplayError::Encoder { .. })));
    let mut t = r.clone();
    t.game.version = "0.9.0".into();
    assert!(matches!(replay(&t), Err(ReplayError::Game { .. })));
    let mut t = r.clone();
    t.setup = None;
    assert_eq!(replay(&t).unwrap_err(), ReplayError::MissingSetup);
    let mut t: BattleRecord<_, _, _> = r.clone();
    t.format = "tactician.battle/0".into();
    assert!(matches!(replay(&t), Err(ReplayError::Format(_))));
}
