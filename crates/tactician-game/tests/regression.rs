//! Minimal reproductions of engine bugs found by the property tests, kept as regression tests.
//! Each test states the contract it checks ("Fixed:" or "Bug:" for one still open); none
//! depends on how the bug is fixed (refusing the input with an error is as good as handling
//! it).

mod common;

use common::{Dice, pick_aggressive};
use tactician_battle::Encoder;
use tactician_game::{
    Action, Battle, GameConfig, Legal, Outcome, SkirmishEncoder, Snapshot, UnitId, Victory,
};

/// A named edit of a snapshot, with one parameter.
type Edit<T> = (&'static str, fn(&mut Snapshot, T));

/// A fresh battle, waited forward until a unit of `side` acts.
fn acting_side(side: u8) -> Battle {
    let mut b = Battle::new(11, GameConfig::default());
    while b.actor().unwrap().side() != side {
        b.step(Action::Wait).unwrap();
    }
    b
}

/// A snapshot of a real battle that just ended by elimination while unit `[0, 0]` was
/// still to act that round.
fn ended_with_unit_0_queued() -> Battle {
    for seed in 0..5000 {
        let mut b = Battle::new(seed, GameConfig::default());
        let mut dice = Dice(seed);
        while !b.is_over() {
            let a = pick_aggressive(&b, dice.next());
            b.step(a).unwrap();
        }
        if b.snapshot().queue.contains(&UnitId(0)) {
            return b;
        }
    }
    panic!("no battle ended with unit [0, 0] queued");
}

/// Fixed: the snapshot of a battle that ended while unit `[0, 0]` was still queued was
/// refused with `BadQueue` (`from_snapshot` used 0 as the placeholder actor of a finished
/// battle, then found it in the queue). The recorder writes such snapshots at battle ends.
#[test]
fn finished_battle_snapshot_rebuilds_when_unit_0_is_queued() {
    let b = ended_with_unit_0_queued();
    let r = Battle::from_snapshot(&b.setup(), &b.snapshot());
    assert_eq!(r.map(|r| r.snapshot()), Ok(b.snapshot()));
}

/// Fixed: `from_snapshot` did not check where knocked-out units are, and the encoder computes
/// `7 - x` for every unit when side 1 acts: a knocked-out unit at `x = 200` overflowed
/// (a panic in debug builds).
#[test]
fn knocked_out_unit_off_the_board_does_not_crash_the_encoder() {
    let b = acting_side(1);
    let mut snap = b.snapshot();
    let victim = UnitId::new(0, 0);
    snap.units[victim.index()].hp = 0;
    snap.units[victim.index()].x = 200;
    snap.queue.retain(|&q| q != victim);
    if let Ok(r) = Battle::from_snapshot(&b.setup(), &snap) {
        let _ = SkirmishEncoder.encode(&r);
    }
}

/// Fixed: once a battle is over, the encoder encodes unit `[0, 0]` and reads the terrain
/// under it even when it is knocked out; a knocked-out unit at `y = 7` (then accepted by
/// `from_snapshot`) indexed past the map (a panic in release builds too).
#[test]
fn finished_battle_with_unit_0_off_the_board_does_not_crash_the_encoder() {
    let b = acting_side(1);
    let mut snap = b.snapshot();
    for u in UnitId::of_side(0) {
        snap.units[u.index()].hp = 0;
        snap.units[u.index()].poison = 0;
        snap.units[u.index()].burn = 0;
    }
    snap.units[0].y = 7;
    snap.actor = None;
    snap.queue.retain(|q| q.side() == 1);
    snap.outcome = Some(Outcome {
        winner: Some(1),
        victory: Victory::Elimination,
    });
    if let Ok(r) = Battle::from_snapshot(&b.setup(), &snap) {
        let _ = SkirmishEncoder.encode(&r);
    }
}

/// Fixed: `from_snapshot` accepted any round; at round 65535 the end-of-round check
/// `round + 1 >= max_rounds` overflowed (a panic in debug builds).
#[test]
fn snapshot_at_the_last_u16_round_does_not_overflow() {
    let b = Battle::new(4, GameConfig::default());
    let mut snap = b.snapshot();
    snap.round = u16::MAX;
    if let Ok(mut r) = Battle::from_snapshot(&b.setup(), &snap) {
        for _ in 0..12 {
            if r.is_over() {
                break;
            }
            r.step(Action::Wait).unwrap();
        }
    }
}

/// Fixed: `from_snapshot` accepted any turn counter; at `u32::MAX` the next step overflowed
/// it (a panic in debug builds).
#[test]
fn snapshot_at_the_last_u32_turn_does_not_overflow() {
    let b = Battle::new(4, GameConfig::default());
    let mut snap = b.snapshot();
    snap.turn = u32::MAX;
    if let Ok(mut r) = Battle::from_snapshot(&b.setup(), &snap) {
        let _ = r.step(Action::Wait);
    }
}

/// Fixed: an action with a slot outside `0..3` was refused, but formatting the refusal
/// panicked: `Action::name` indexed `ACTION_NAMES` with `5 + slot` (out of bounds from slot
/// 15; for slots 3..15 it named another action, e.g. `Attack(3)` printed as `skill_enemy_0`).
#[test]
fn refusing_an_out_of_range_slot_formats_without_panicking() {
    let mut b = Battle::new(1, GameConfig::default());
    let err = b.step(Action::Attack(15)).unwrap_err();
    let _ = err.to_string();
    assert_ne!(Action::Attack(3).to_string(), "skill_enemy_0");
}

/// Fixed: `Legal::contains` shifted by the action's index without checking its slot, so
/// `Attack(3)` read the bit of `SkillEnemy(0)` and `Attack(27)` shifted a `u32` by 32 (a
/// panic in debug builds; in release the shift wrapped and read the bit of `Wait`).
#[test]
fn legal_sets_never_contain_out_of_range_slots() {
    let all = Legal((1 << tactician_game::NUM_ACTIONS) - 1);
    assert!(!all.contains(Action::Attack(3)));
    assert!(!all.contains(Action::Attack(27)));
}

/// Fixed: `chances` indexed the units with the action's slot without checking it: for
/// side 0, `Attack(3)` indexed unit 6 of 6 (a panic); for side 1 it described an attack on an
/// ally.
#[test]
fn chances_of_an_out_of_range_slot_do_not_panic() {
    let b = acting_side(0);
    let _ = b.chances(Action::Attack(3));
}

/// Fixed: `UnitId`'s field is public, and `from_snapshot` indexed the units with the actor's
/// id before checking it: `UnitId(6)` panicked. A queued `UnitId(200)` was accepted and
/// panicked when its turn came.
#[test]
fn snapshot_with_a_unit_id_out_of_range_is_refused() {
    let b = Battle::new(2, GameConfig::default());
    let mut snap = b.snapshot();
    snap.actor = Some(UnitId(6));
    assert!(Battle::from_snapshot(&b.setup(), &snap).is_err());
    let mut snap = b.snapshot();
    snap.queue.push(UnitId(200));
    assert!(Battle::from_snapshot(&b.setup(), &snap).is_err());
}

/// Fixed: `from_snapshot` accepted a queue that lists a unit twice, and that unit then acted
/// twice in one round.
#[test]
fn snapshot_queue_with_a_repeated_unit_is_refused() {
    let b = Battle::new(2, GameConfig::default());
    let mut snap = b.snapshot();
    let q = snap.queue[0];
    snap.queue = vec![q, q];
    assert!(Battle::from_snapshot(&b.setup(), &snap).is_err());
}

/// Fixed: `from_snapshot` accepted statuses, cooldowns, items and rounds beyond anything the
/// game produces, and the encoder then emitted features outside the ranges its spec declares
/// (e.g. 200 poison turns gave `self_poison = 66.7` in a feature declared `[0, 1]`).
#[test]
fn accepted_snapshots_encode_within_the_spec_ranges() {
    let b = Battle::new(2, GameConfig::default());
    let actor = b.actor().unwrap().index();
    let edits: [Edit<usize>; 5] = [
        ("poison", |s, a| s.units[a].poison = 200),
        ("shield", |s, a| {
            s.units[a].shield = 200;
            s.units[a].shield_turns = 2
        }),
        ("cooldown", |s, a| s.units[a].cd_offense = 9),
        ("potions", |s, _| s.potions = [9, 9]),
        ("round", |s, _| s.round = 300),
    ];
    let spec = SkirmishEncoder::feature_spec();
    let mut bad = Vec::new();
    for (what, edit) in edits {
        let mut snap = b.snapshot();
        edit(&mut snap, actor);
        if let Ok(r) = Battle::from_snapshot(&b.setup(), &snap) {
            for (v, f) in SkirmishEncoder.encode(&r).iter().zip(spec.features()) {
                if !(f.min..=f.max).contains(v) {
                    bad.push(format!("{what}: {} = {v}", f.name));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "accepted snapshots encode out of range: {bad:?}"
    );
}

/// Bug: `Battle::new` accepts any config, but `from_snapshot` refuses `max_rounds = 0` and a
/// points margin above 100 (`BadConfig`), so the recorder can write battles whose snapshots
/// cannot be rebuilt. Every battle `Battle::new` creates must survive its own snapshot.
#[test]
fn every_new_battle_rebuilds_from_its_snapshot() {
    for config in [
        GameConfig {
            max_rounds: 0,
            points_margin_pct: 10,
        },
        GameConfig {
            max_rounds: 30,
            points_margin_pct: 200,
        },
    ] {
        let b = Battle::new(5, config);
        let r = Battle::from_snapshot(&b.setup(), &b.snapshot());
        assert!(r.is_ok(), "{config:?}: {r:?}");
    }
}

/// Bug: `from_snapshot` bounds the turn counter by the end of the current round
/// (`turn ≤ 6 × (round + 1)`), not by the turns still to come in it. It accepts turn 6 at the
/// start of round 0 with five units still queued; one step later the battle's own snapshot
/// (turn 7, still round 0) is refused with `BadClock`. Whatever `from_snapshot` accepts must
/// stay rebuildable as it plays on.
#[test]
fn accepted_snapshot_stays_rebuildable_as_it_plays_on() {
    let b = Battle::new(2, GameConfig::default());
    let mut snap = b.snapshot();
    assert_eq!((snap.round, snap.queue.len()), (0, 5));
    snap.turn = 6;
    if let Ok(mut r) = Battle::from_snapshot(&b.setup(), &snap) {
        r.step(Action::Wait).unwrap();
        let again = Battle::from_snapshot(&r.setup(), &r.snapshot());
        assert_eq!(again.map(|a| a.snapshot()), Ok(r.snapshot()));
    }
}

/// Bug: `from_snapshot` checks an outcome against the units only for elimination. A points
/// win is accepted for the side that trails, a timeout draw with a lead far above the margin,
/// and either one before the round limit.
#[test]
fn snapshot_outcome_must_match_health_and_round() {
    let rules = GameConfig {
        max_rounds: 3,
        points_margin_pct: 10,
    };
    let mut found = None;
    for seed in 0..500 {
        let mut b = Battle::new(seed, rules);
        let mut dice = Dice(seed);
        while !b.is_over() {
            let a = pick_aggressive(&b, dice.next());
            b.step(a).unwrap();
        }
        if b.outcome().unwrap().victory == Victory::Points {
            found = Some(b);
            break;
        }
    }
    let b = found.expect("a battle decided on points");
    let winner = b.outcome().unwrap().winner.unwrap();
    let edits: [Edit<u8>; 3] = [
        ("points win for the trailing side", |s, w| {
            s.outcome = Some(Outcome {
                winner: Some(1 - w),
                victory: Victory::Points,
            })
        }),
        ("timeout despite a lead above the margin", |s, _| {
            s.outcome = Some(Outcome {
                winner: None,
                victory: Victory::Timeout,
            })
        }),
        ("points win before the round limit", |s, _| {
            s.round = 0;
            s.turn = 0;
        }),
    ];
    let mut accepted = Vec::new();
    for (what, edit) in edits {
        let mut snap = b.snapshot();
        edit(&mut snap, winner);
        if Battle::from_snapshot(&b.setup(), &snap).is_ok() {
            accepted.push(what);
        }
    }
    assert!(accepted.is_empty(), "accepted: {accepted:?}");
}
