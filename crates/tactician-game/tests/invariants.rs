//! State invariants hold after every step of random battles, battles end within their round
//! limit with a consistent outcome, and a seed plus an action list replays a battle exactly.

mod common;

use common::{Dice, check_state, check_step, config, game_config, pick, pick_aggressive};
use proptest::prelude::*;
use tactician_game::{Battle, Event, GameConfig};

proptest! {
    #![proptest_config(config(96))]

    /// Every step of a random battle keeps the state valid (health, energy, tiles, statuses,
    /// actor, items), moves the turn counter by one, and the battle ends within
    /// `max_rounds` rounds with an outcome that agrees with the final state.
    #[test]
    fn invariants_hold_after_every_step(seed in any::<u64>(), rules in game_config(), dice in any::<u64>()) {
        let mut b = Battle::new(seed, rules);
        if let Err(e) = check_state(&b) {
            prop_assert!(false, "initial state: {}", e);
        }
        prop_assert_eq!(b.turn(), 0);
        prop_assert_eq!(b.round(), 0);
        let aggressive = dice % 2 == 0;
        let mut dice = Dice(dice);
        let limit = 6 * u32::from(rules.max_rounds.max(1));
        while !b.is_over() {
            prop_assert!(b.turn() < limit, "battle runs past {} turns", limit);
            let before = b;
            let a = if aggressive { pick_aggressive(&b, dice.next()) } else { pick(&b, dice.next()) };
            b.step(a).unwrap();
            if let Err(e) = check_step(&before, &b) {
                prop_assert!(false, "after {} at turn {}: {}\nbefore: {:?}\nafter: {:?}", a, before.turn(), e, before, b);
            }
        }
        prop_assert!(b.outcome().is_some());
    }

    /// The same seed and the same actions give identical battles and identical event streams,
    /// and recording events does not change the battle.
    #[test]
    fn replays_are_deterministic(seed in any::<u64>(), rules in game_config(), dice in any::<u64>()) {
        let mut a = Battle::new(seed, rules);
        let mut b = Battle::new(seed, rules);
        let mut silent = Battle::new(seed, rules);
        prop_assert_eq!(a, b);
        let mut dice = Dice(dice);
        let mut actions = Vec::new();
        let mut events_a: Vec<Event> = Vec::new();
        let mut events_b: Vec<Event> = Vec::new();
        while !a.is_over() {
            let act = pick(&a, dice.next());
            actions.push(act);
            let mut ea = Vec::new();
            let mut eb = Vec::new();
            a.step_with(act, &mut ea).unwrap();
            b.step_with(act, &mut eb).unwrap();
            silent.step(act).unwrap();
            prop_assert_eq!(a, b);
            prop_assert_eq!(a, silent);
            prop_assert_eq!(&ea, &eb);
            events_a.extend(ea);
            events_b.extend(eb);
        }
        prop_assert_eq!(a.outcome(), b.outcome());
        // A third replay from the action list alone.
        let mut c = Battle::new(seed, rules);
        let mut events_c: Vec<Event> = Vec::new();
        for act in &actions {
            c.step_with(*act, &mut events_c).unwrap();
        }
        prop_assert_eq!(c, a);
        prop_assert_eq!(&events_c, &events_a);
        // Events survive JSON.
        let json = serde_json::to_string(&events_a).unwrap();
        let back: Vec<Event> = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back, events_a);
    }
}

/// Over many random battles every ending happens: elimination by either side, points and
/// timeouts (so the outcome checks above are exercised, not vacuous).
#[test]
fn every_kind_of_ending_occurs() {
    use std::collections::BTreeSet;
    use tactician_game::Victory;
    let mut seen = BTreeSet::new();
    let short = GameConfig {
        max_rounds: 6,
        points_margin_pct: 10,
    };
    for seed in 0..400u64 {
        let rules = if seed % 2 == 0 {
            GameConfig::default()
        } else {
            short
        };
        let mut b = Battle::new(seed, rules);
        let mut dice = Dice(seed);
        while !b.is_over() {
            let a = pick_aggressive(&b, dice.next());
            b.step(a).unwrap();
        }
        check_state(&b).unwrap();
        let o = b.outcome().unwrap();
        seen.insert((o.winner, o.victory.name()));
    }
    for expected in [
        (Some(0), Victory::Elimination),
        (Some(1), Victory::Elimination),
        (Some(0), Victory::Points),
        (Some(1), Victory::Points),
        (None, Victory::Timeout),
    ] {
        assert!(
            seen.contains(&(expected.0, expected.1.name())),
            "never saw {expected:?}; saw {seen:?}"
        );
    }
}

/// Different seeds give different battles (the seed reaches the map, teams and weather).
#[test]
fn seeds_matter() {
    let setups: std::collections::HashSet<String> = (0..200u64)
        .map(|s| serde_json::to_string(&Battle::new(s, GameConfig::default()).setup()).unwrap())
        .collect();
    assert!(setups.len() > 190, "only {} distinct setups", setups.len());
}
