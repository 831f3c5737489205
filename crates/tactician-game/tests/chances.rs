//! `chances()` lists every random outcome `step` can produce, with probabilities that sum to 1
//! and agree with the exact distribution of `Roll::from_draw` over all 64-bit draws.

mod common;

use common::{config, game_config, play};
use proptest::prelude::*;
use tactician_game::rules::{STUN_CHANCE, SkillKind};
use tactician_game::{Action, Battle, Roll, UnitId};

/// `#{v in 0..n : v % 100 < p}`.
fn below_prefix(n: u64, p: u64) -> u64 {
    (n / 100) * p + (n % 100).min(p)
}

/// Exact probabilities of (miss, hit, critical hit) for an attack with `hit_pct` and `crit_pct`,
/// counting all 2^64 draws: the hit die reads bits 0..32 and the critical die bits 21..53, so
/// they share bits 21..32 (`h` below) and the count runs over those 2^11 shared values.
fn exact_attack(hit_pct: u8, crit_pct: u8) -> [f64; 3] {
    let (ph, pc) = (u64::from(hit_pct), u64::from(crit_pct));
    let mut hit_crit = 0u128;
    let mut hit = 0u128;
    for h in 0..(1u64 << 11) {
        // Hit die: the 32-bit value h * 2^21 + low, low in 0..2^21 (a contiguous range).
        let start = h << 21;
        let hits = below_prefix(start + (1 << 21), ph) - below_prefix(start, ph);
        // Critical die: the 32-bit value g * 2^11 + h, g in 0..2^21. Since 2^11 * 25 is a
        // multiple of 100, the residues repeat every 25 values of g.
        let in_period = (0..25u64).filter(|g| (g * 2048 + h) % 100 < pc).count() as u64;
        let full = (1u64 << 21) / 25;
        let rest = ((full * 25)..(1u64 << 21))
            .filter(|g| (g * 2048 + h) % 100 < pc)
            .count() as u64;
        let crits = full * in_period + rest;
        hit += u128::from(hits) << 21;
        hit_crit += u128::from(hits) * u128::from(crits);
    }
    let total = (1u128 << 53) as f64;
    let p_hit = hit as f64 / total;
    let p_crit = hit_crit as f64 / total;
    [1.0 - p_hit, p_hit - p_crit, p_crit]
}

/// Exact probability that the status die (bits 42..64, a 22-bit value) is below `pct`.
fn exact_status(pct: u8) -> f64 {
    below_prefix(1 << 22, u64::from(pct)) as f64 / (1u64 << 22) as f64
}

fn check_chances(b: &Battle) -> Result<(), TestCaseError> {
    let Some(actor) = b.actor() else {
        return Ok(());
    };
    for action in b.legal().iter() {
        let chances = b.chances(action);
        prop_assert!(!chances.is_empty());
        prop_assert_eq!(chances.iter().count(), chances.len());
        let total: f32 = chances.iter().map(|(p, _)| p).sum();
        prop_assert!((total - 1.0).abs() < 1e-6, "{} sums to {}", action, total);
        prop_assert!(chances.iter().all(|(p, _)| (0.0..=1.0).contains(&p)));

        // What `step` does is what one of the listed rolls does.
        let mut stepped = *b;
        let mut events = Vec::new();
        stepped.step_with(action, &mut events).unwrap();
        let matching: Vec<(f32, Roll)> = chances
            .iter()
            .filter(|&(_, roll)| {
                let mut c = *b;
                let mut ev = Vec::new();
                c.step_with_roll(action, roll, &mut ev).unwrap();
                c == stepped && ev == events
            })
            .collect();
        prop_assert!(
            !matching.is_empty(),
            "{} produced an outcome chances() does not list",
            action
        );
        prop_assert!(
            matching.iter().any(|(p, _)| *p > 0.0),
            "{} produced an outcome of probability 0",
            action
        );

        // The listed probabilities are the exact ones.
        let unit = b.unit(actor);
        let stats = unit.class.stats();
        let listed: Vec<f32> = chances.iter().map(|(p, _)| p).collect();
        match action {
            Action::Attack(slot) => {
                let target = UnitId::new(1 - actor.side(), slot);
                let exact = exact_attack(b.hit_chance(actor, target), stats.crit);
                let rolls: Vec<Roll> = chances.iter().map(|(_, r)| r).collect();
                prop_assert_eq!(rolls.len(), 3);
                prop_assert!(
                    !rolls[0].hit
                        && rolls[1].hit
                        && !rolls[1].crit
                        && rolls[2].hit
                        && rolls[2].crit
                );
                for (p, e) in listed.iter().zip(exact) {
                    prop_assert!(
                        (f64::from(*p) - e).abs() < 1e-6,
                        "{}: listed {:?}, exact {:?}",
                        action,
                        listed,
                        exact
                    );
                }
            }
            Action::SkillEnemy(_) if stats.offense.map(|s| s.kind) == Some(SkillKind::Bash) => {
                let exact = exact_status(STUN_CHANCE);
                prop_assert_eq!(listed.len(), 2);
                prop_assert!((f64::from(listed[0]) - exact).abs() < 1e-6);
            }
            _ => prop_assert_eq!(listed, vec![1.0]),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(64))]

    /// At random points of random battles, every legal action's chances are a probability
    /// distribution over rolls that covers what `step` produces.
    #[test]
    fn chances_cover_step(
        seed in any::<u64>(),
        rules in game_config(),
        choices in prop::collection::vec(any::<u32>(), 0..200),
    ) {
        let mut b = Battle::new(seed, rules);
        for chunk in choices.chunks(7) {
            check_chances(&b)?;
            play(&mut b, chunk);
        }
        check_chances(&b)?;
    }
}

/// Each of the chances' rolls is reachable: over many seeds, every listed outcome of an
/// attack occurs, at about its listed frequency.
#[test]
fn attack_outcomes_occur_at_their_rates() {
    // counts of (miss, hit, crit) and summed listed probabilities
    let mut seen = [0u32; 3];
    let mut expected = [0f64; 3];
    let mut n = 0;
    for seed in 0..4000u64 {
        let mut b = Battle::new(seed, Default::default());
        let mut k = seed as u32;
        while !b.is_over() && b.turn() < 400 {
            let legal = b.legal();
            let attack = legal.iter().find(|a| matches!(a, Action::Attack(_)));
            if let Some(a) = attack {
                let chances: Vec<(f32, Roll)> = b.chances(a).iter().collect();
                let before = b;
                let mut ev = Vec::new();
                b.step_with(a, &mut ev).unwrap();
                let i = chances
                    .iter()
                    .position(|&(_, r)| {
                        // Compare events too: a miss and a hit can lead to the same state
                        // (a hit the shield absorbs, a target that falls to poison anyway).
                        let mut c = before;
                        let mut ev2 = Vec::new();
                        c.step_with_roll(a, r, &mut ev2).unwrap();
                        c == b && ev2 == ev
                    })
                    .unwrap();
                seen[i] += 1;
                for (e, (p, _)) in expected.iter_mut().zip(&chances) {
                    *e += f64::from(*p);
                }
                n += 1;
            } else {
                k = k.wrapping_mul(2_654_435_761).wrapping_add(1);
                let a = legal.nth((k >> 7) % legal.count()).unwrap();
                b.step(a).unwrap();
            }
        }
    }
    assert!(n > 10_000, "only {n} attacks");
    for i in 0..3 {
        let e = expected[i];
        let sd = (e * (1.0 - e / f64::from(n))).sqrt();
        assert!(
            (f64::from(seen[i]) - e).abs() < 5.0 * sd + 1.0,
            "outcome {i}: seen {}, expected {e:.1} (n = {n})",
            seen[i]
        );
    }
}

#[test]
fn exact_counts_are_sane() {
    let [m, h, c] = exact_attack(90, 10);
    assert!((m - 0.10).abs() < 1e-6 && (h - 0.81).abs() < 1e-6 && (c - 0.09).abs() < 1e-6);
    let [m, h, c] = exact_attack(100, 0);
    assert_eq!([m, h, c], [0.0, 1.0, 0.0]);
    assert!((exact_status(75) - 0.75).abs() < 1e-5);
    // Against a brute-force count on the draws 0..2^20 spread over the 64-bit space.
    let mut counts = [0u32; 3];
    let mut g = tactician_game::SplitMix64::new(5);
    for _ in 0..200_000 {
        let r = Roll::from_draw(g.next_u64(), 80, 20, 75);
        counts[usize::from(r.hit) + usize::from(r.hit && r.crit)] += 1;
    }
    let exact = exact_attack(80, 20);
    for i in 0..3 {
        let f = f64::from(counts[i]) / 200_000.0;
        assert!((f - exact[i]).abs() < 0.01, "{i}: {f} vs {}", exact[i]);
    }
}
