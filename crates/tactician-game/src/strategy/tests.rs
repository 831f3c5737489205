//! Tests shared by all strategies: legality, determinism, registry, and a sanity check of
//! strength.

use super::*;
use crate::rules::GameConfig;
use crate::state::Outcome;

/// Plays a battle between two named strategies, checking every choice is legal, and returns
/// the outcome with every action taken.
fn play(seed: u64, names: [&str; 2]) -> (Outcome, Vec<Action>) {
    let mut players = [
        by_name(names[0], seed ^ 1).unwrap(),
        by_name(names[1], seed ^ 2).unwrap(),
    ];
    let mut battle = Battle::new(seed, GameConfig::default());
    let mut actions = Vec::new();
    while let Some(actor) = battle.actor() {
        let legal = battle.legal();
        let side = actor.side() as usize;
        let a = players[side].choose(&battle, legal);
        assert!(
            legal.contains(a),
            "{} chose illegal {a} in battle {seed}",
            names[side]
        );
        battle.step(a).unwrap();
        actions.push(a);
    }
    (battle.outcome().unwrap(), actions)
}

#[test]
fn registry_builds_every_name() {
    for &name in NAMES {
        assert_eq!(by_name(name, 7).unwrap().name(), name);
    }
    let err = by_name("chess", 1).err().unwrap();
    assert_eq!(err.name, "chess");
    assert!(err.known.contains("search"));
}

#[test]
fn every_strategy_plays_only_legal_actions() {
    for (k, &a) in NAMES.iter().enumerate() {
        for &b in &NAMES[k..] {
            for seed in 0..3 {
                play(seed * 31 + k as u64, [a, b]);
                play(seed * 31 + k as u64, [b, a]);
            }
        }
    }
}

#[test]
fn same_seed_same_battle() {
    for &name in NAMES {
        let first = play(5, [name, "random"]);
        assert_eq!(first, play(5, [name, "random"]), "{name}");
    }
}

#[test]
fn search_ignores_the_generator() {
    // Two copies of a battle that differ only in the dice to come get the same choices.
    let mut battle = Battle::new(9, GameConfig::default());
    let mut other = battle;
    other.rng = crate::rng::SplitMix64::new(12345);
    let mut search = Search::new(0);
    for _ in 0..40 {
        let Some(_) = battle.actor() else { break };
        let legal = battle.legal();
        let a = search.choose(&battle, legal);
        assert_eq!(a, search.choose(&other, legal));
        battle.step(a).unwrap();
        // Keep the copy on the same position but with its own dice.
        let rng = other.rng;
        other = battle;
        other.rng = rng;
    }
}

#[test]
fn search_chooses_its_best_valued_action() {
    // Along a battle: the choice is within the near-tie margin of the best searched value, and
    // among the near-best it has the best one-ply value (what the encoder shows).
    let mut battle = Battle::new(3, GameConfig::default());
    let search = Search::new(0);
    let mut decided_by_one_ply = 0;
    for _ in 0..60 {
        let Some(_) = battle.actor() else { break };
        let legal = battle.legal();
        let values = search.action_values(&battle, legal);
        assert_eq!(values.len(), legal.count() as usize);
        let best = values.iter().map(|v| v.1).fold(f32::NEG_INFINITY, f32::max);
        let chosen = search.clone().choose(&battle, legal);
        let v = values.iter().find(|v| v.0 == chosen).unwrap().1;
        assert!(v >= best - NEAR_TIE, "{v} < {best} - {NEAR_TIE}");
        let near: Vec<Action> = values
            .iter()
            .filter(|v| v.1 >= best - NEAR_TIE)
            .map(|v| v.0)
            .collect();
        if near.len() > 1 {
            decided_by_one_ply += 1;
            let one = search.one_ply_values(&battle, legal);
            let one_of = |a: Action| one.iter().find(|v| v.0 == a).unwrap().1;
            let top = near
                .iter()
                .map(|&a| one_of(a))
                .fold(f32::NEG_INFINITY, f32::max);
            assert!(
                one_of(chosen) >= top - 1e-2,
                "{chosen:?} is not the one-ply best"
            );
        }
        // With no margin, the choice is the searched best.
        let exact = search.clone().with_near_tie(0.0).choose(&battle, legal);
        let ve = values.iter().find(|v| v.0 == exact).unwrap().1;
        assert!(ve >= best - 1e-2, "{ve} < {best}");
        battle.step(chosen).unwrap();
    }
    assert!(
        decided_by_one_ply > 0,
        "no near-tie met; the test checks nothing"
    );
}

#[test]
fn scripted_styles_beat_random() {
    for &name in &NAMES[1..] {
        let wins: usize = (0..6u64)
            .flat_map(|seed| {
                let (a, _) = play(100 + seed, [name, "random"]);
                let (b, _) = play(100 + seed, ["random", name]);
                [a.value_for(0) > 0.0, b.value_for(1) > 0.0]
            })
            .filter(|&w| w)
            .count();
        assert!(wins >= 10, "{name} won only {wins} of 12 against random");
    }
}

#[test]
fn strategies_are_send() {
    fn send<T: Send>() {}
    send::<Aggressive>();
    send::<Defensive>();
    send::<Support>();
    send::<Kiting>();
    send::<Search>();
    send::<Random>();
}
