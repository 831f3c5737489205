//! Known answers on hand-built datasets.

use super::{B, D, Fx, b, d, dataset, write};
use crate::stats::{Stats, StatsError, compute};

fn stats(battles: &[B], top: usize) -> Stats {
    let (_dir, ds) = dataset(battles);
    compute(&ds, top).expect("statistics")
}

/// A: wins as side 0 against B; B (side 0) draws A; A against itself, side 1 wins on points.
fn three_battles() -> Vec<B> {
    let mut mirror = b("c", ["A", "A"], Some(1), vec![d(0, "wait"), d(1, "wait")]);
    mirror.victory = "points";
    mirror.wall_ms = None;
    vec![
        b(
            "a",
            ["A", "B"],
            Some(0),
            vec![d(0, "wait"), d(1, "wait"), d(0, "wait")],
        ),
        b("b", ["B", "A"], None, vec![d(0, "wait")]),
        mirror,
    ]
}

#[test]
fn wins_draws_and_losses_add_up_by_strategy_matchup_and_victory() {
    let s = stats(&three_battles(), 10);
    assert_eq!((s.battles, s.decisions), (3, 6));
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    let r = &s.results;
    let a = r.by_strategy.iter().find(|x| x.strategy == "A").unwrap();
    assert_eq!(
        (a.battles, a.mirror, a.wins, a.draws, a.losses),
        (3, 1, 1, 1, 0)
    );
    assert_eq!(a.win_rate, Some(0.5));
    assert_eq!(a.mean_turns, 2.0);
    assert_eq!(
        a.mean_seconds,
        Some(0.002),
        "the mirror battle has no wall time"
    );
    let bb = r.by_strategy.iter().find(|x| x.strategy == "B").unwrap();
    assert_eq!(
        (bb.battles, bb.mirror, bb.wins, bb.draws, bb.losses),
        (2, 0, 0, 1, 1)
    );
    for x in &r.by_strategy {
        assert_eq!(x.wins + x.draws + x.losses, x.battles - x.mirror, "{x:?}");
    }
    assert_eq!(r.by_strategy[0].strategy, "A", "best win rate first");

    assert_eq!(r.by_matchup.len(), 2);
    let ab = &r.by_matchup[0];
    assert_eq!((ab.a.as_str(), ab.b.as_str()), ("A", "B"));
    assert_eq!(
        (
            ab.total.battles,
            ab.total.a_wins,
            ab.total.draws,
            ab.total.b_wins
        ),
        (2, 1, 1, 0)
    );
    assert_eq!((ab.a_on_side0.battles, ab.a_on_side0.a_wins), (1, 1));
    assert_eq!((ab.a_on_side1.battles, ab.a_on_side1.draws), (1, 1));
    assert_eq!((ab.side0_wins, ab.side1_wins), (1, 0));
    assert_eq!(ab.mean_turns, 2.0);
    let aa = &r.by_matchup[1];
    assert_eq!((aa.total.a_wins, aa.total.b_wins, aa.side1_wins), (0, 1, 1));
    assert_eq!(aa.mean_seconds, None);
    for m in &r.by_matchup {
        let t = m.total;
        assert_eq!(t.a_wins + t.draws + t.b_wins, t.battles);
        assert_eq!(m.victories.values().sum::<u64>(), t.battles);
    }
    let names: Vec<(&str, u64)> = r
        .victories
        .iter()
        .map(|v| (v.victory.as_str(), v.battles))
        .collect();
    assert_eq!(names, [("elimination", 1), ("points", 1), ("timeout", 1)]);
    assert_eq!(r.victories.iter().map(|v| v.share).sum::<f64>(), 1.0);
}

#[test]
fn action_shares_sum_to_one_and_types_merge_slots() {
    let s = stats(
        &[b(
            "x",
            ["A", "B"],
            Some(0),
            vec![
                d(0, "attack_enemy_0"),
                d(1, "wait"),
                d(0, "attack_enemy_2"),
                d(1, "move_forward"),
                d(0, "wait"),
                d(0, "attack_enemy_0"),
            ],
        )],
        10,
    );
    let a = s.actions.iter().find(|x| x.strategy == "A").unwrap();
    assert_eq!(a.decisions, 4);
    let total: f64 = a.names.iter().map(|x| x.share).sum();
    assert!((total - 1.0).abs() < 1e-12, "{total}");
    assert_eq!(
        (a.names[0].name.as_str(), a.names[0].count),
        ("attack_enemy_0", 2)
    );
    assert_eq!(
        (a.types[0].name.as_str(), a.types[0].count, a.types[0].share),
        ("attack_enemy", 3, 0.75)
    );
    for x in &s.actions {
        let t: f64 = x.types.iter().map(|y| y.share).sum();
        assert!((t - 1.0).abs() < 1e-12);
    }
}

#[test]
fn sequences_stay_within_one_side_of_one_battle() {
    let s = stats(
        &[
            b(
                "x",
                ["A", "B"],
                Some(0),
                vec![
                    d(0, "wait"),
                    d(1, "move_back"),
                    d(0, "move_forward"),
                    d(1, "move_back"),
                    d(0, "wait"),
                ],
            ),
            b(
                "y",
                ["A", "B"],
                Some(0),
                vec![d(0, "move_forward"), d(0, "move_forward")],
            ),
        ],
        10,
    );
    let a = s.actions.iter().find(|x| x.strategy == "A").unwrap();
    let pairs: Vec<(String, u64)> = a
        .pairs
        .iter()
        .map(|q| (q.actions.join(">"), q.count))
        .collect();
    // wait>move_forward and move_forward>wait in x, move_forward>move_forward in y; the end of
    // x and the start of y (wait>move_forward) must not join, nor may B's moves interleave.
    assert_eq!(a.pair_count, 3);
    assert!(
        pairs.contains(&("wait>move_forward".into(), 1)),
        "{pairs:?}"
    );
    assert!(
        pairs.contains(&("move_forward>wait".into(), 1)),
        "{pairs:?}"
    );
    assert!(
        pairs.contains(&("move_forward>move_forward".into(), 1)),
        "{pairs:?}"
    );
    assert_eq!(a.triple_count, 1);
    assert_eq!(a.triples[0].actions, ["wait", "move_forward", "wait"]);
    let bb = s.actions.iter().find(|x| x.strategy == "B").unwrap();
    assert_eq!((bb.pair_count, bb.triple_count), (1, 0));
    assert_eq!(bb.pairs[0].actions, ["move_back", "move_back"]);
    assert_eq!(bb.pairs[0].share, 1.0);
    // top = 1 keeps one sequence.
    let one = stats(
        &[b(
            "x",
            ["A", "B"],
            None,
            vec![d(0, "wait"), d(0, "wait"), d(0, "move_back")],
        )],
        1,
    );
    assert_eq!(one.actions[0].pairs.len(), 1);
}

fn fx(damage: i32, applied: u16, resisted: u16) -> Option<Fx> {
    Some(Fx {
        damage,
        applied,
        resisted,
        ..Fx::default()
    })
}

#[test]
fn effectiveness_divides_by_uses_and_attempts() {
    let mut decisions = vec![
        D {
            fx: fx(20, 1, 0),
            ..d(0, "skill_enemy_0")
        },
        D {
            fx: fx(10, 1, 1),
            ..d(1, "skill_enemy_1")
        },
        D {
            fx: fx(6, 1, 0),
            ..d(0, "skill_enemy_2")
        },
        D {
            fx: fx(13, 0, 0),
            ..d(1, "attack_enemy_0")
        },
        D {
            fx: None,
            ..d(0, "attack_enemy_0")
        },
    ];
    decisions[1].fx.as_mut().unwrap().knockouts = 1;
    let s = stats(&[b("x", ["A", "B"], Some(0), decisions)], 10);
    let skill = s
        .effectiveness
        .iter()
        .find(|e| e.action_type == "skill_enemy")
        .unwrap();
    assert_eq!(
        (skill.uses, skill.measured, skill.status_attempts),
        (3, 3, 4)
    );
    assert_eq!(skill.damage_per_use, Some(12.0));
    assert_eq!(skill.status_success, Some(0.75));
    assert_eq!(skill.statuses_per_use, Some(1.0));
    assert_eq!(skill.knockouts_per_use, Some(1.0 / 3.0));
    let attack = s
        .effectiveness
        .iter()
        .find(|e| e.action_type == "attack_enemy")
        .unwrap();
    assert_eq!(
        (attack.uses, attack.measured),
        (2, 1),
        "one use had no events"
    );
    assert_eq!(attack.damage_per_use, Some(13.0));
    assert_eq!(attack.status_success, None, "no attempts, no rate");
    assert!(
        s.effectiveness.iter().all(|e| e.action_type != "wait"),
        "unused types are left out"
    );
}

/// Side 0's advantage goes 0 → 0.1 → -0.5 → -0.4 → -0.4: the largest swing (-0.6) follows
/// decision 1, side 1's fireball.
fn swinging() -> B {
    let m = |s0: f32, s1: f32| Some([s0, s1]);
    let mut x = b(
        "swing",
        ["A", "B"],
        Some(1),
        vec![
            D {
                material: m(1.0, 1.0),
                ..d(0, "attack_enemy_0")
            },
            D {
                material: m(1.0, 0.9),
                ..d(1, "skill_enemy_1")
            },
            D {
                material: m(0.4, 0.9),
                ..d(0, "potion_ally_0")
            },
            D {
                material: m(0.5, 0.9),
                ..d(1, "wait")
            },
            D {
                material: m(0.5, 0.9),
                ..d(0, "wait")
            },
        ],
    );
    x.decisions[1].fx = Some(Fx::default());
    x
}

#[test]
fn turning_points_pick_the_largest_swing_and_say_where_to_replay_it() {
    let calm = b(
        "calm",
        ["A", "B"],
        Some(0),
        vec![
            D {
                material: Some([1.0, 1.0]),
                ..d(0, "wait")
            },
            D {
                material: Some([1.0, 0.8]),
                ..d(1, "wait")
            },
        ],
    );
    let s = stats(&[calm, swinging()], 1);
    let tp = &s.turning_points;
    assert_eq!(tp.points.len(), 1);
    let p = &tp.points[0];
    assert_eq!((p.battle_id.as_str(), p.turn, p.side), ("swing", 1, 1));
    assert_eq!(
        (p.player.as_str(), p.opponent.as_str(), p.action.as_str()),
        ("B", "A", "skill_enemy_1")
    );
    assert!(
        (p.before - 0.1).abs() < 1e-6 && (p.after + 0.5).abs() < 1e-6,
        "{p:?}"
    );
    assert!((p.swing + 0.6).abs() < 1e-6);
    assert_eq!(p.winner, Some(1));
    assert_eq!(
        p.source.as_deref(),
        Some("logs/part-00000.jsonl:2"),
        "second battle, line 2"
    );
    assert_eq!(
        (
            tp.battles_measured,
            tp.decisive,
            tp.decisive_won_by_largest_gainer
        ),
        (2, 2, 2)
    );
    let all = stats(&[swinging()], 10);
    let swings: Vec<f64> = all
        .turning_points
        .points
        .iter()
        .map(|p| p.swing.abs())
        .collect();
    assert_eq!(swings.len(), 4, "4 swings between 5 decisions: {swings:?}");
    assert!(
        swings.windows(2).all(|w| w[0] >= w[1]),
        "largest first: {swings:?}"
    );
    // The actor's side gained 0.6 with the skill (side 1's view of a -0.6 swing).
    let skill = all
        .effectiveness
        .iter()
        .find(|e| e.action_type == "skill_enemy")
        .unwrap();
    assert!((skill.advantage_per_use.unwrap() - 0.6).abs() < 1e-6);
}

#[test]
fn phases_split_each_battle_in_thirds() {
    let energy = |e: i32, items: u16| {
        Some(Fx {
            energy: e,
            items,
            ..Fx::default()
        })
    };
    // Six decisions: two per third. Energy 10+20 | 30+40 | 50+60, items 0+1 | 0+0 | 1+1.
    let decisions: Vec<D> = [(10, 0), (20, 1), (30, 0), (40, 0), (50, 1), (60, 1)]
        .into_iter()
        .map(|(e, i)| D {
            fx: energy(e, i),
            ..d(0, "wait")
        })
        .collect();
    let s = stats(&[b("x", ["A", "A"], Some(0), decisions)], 10);
    let r = &s.resources[0];
    assert_eq!(
        (r.strategy.as_str(), r.sides),
        ("A", 1),
        "side 1 never acted"
    );
    let got: Vec<(u64, Option<f64>, Option<f64>)> = r
        .phases
        .iter()
        .map(|p| (p.decisions, p.energy_per_decision, p.items_per_battle))
        .collect();
    assert_eq!(
        got,
        [
            (2, Some(15.0), Some(1.0)),
            (2, Some(35.0), Some(0.0)),
            (2, Some(55.0), Some(2.0))
        ]
    );
    assert_eq!(
        r.phases
            .iter()
            .map(|p| p.phase.as_str())
            .collect::<Vec<_>>(),
        ["early", "mid", "late"]
    );
}

#[test]
fn winners_habits_and_item_use_are_compared() {
    let bomb = D {
        fx: Some(Fx {
            items: 1,
            ..Fx::default()
        }),
        ..d(0, "bomb_enemy_0")
    };
    let battles = [
        b(
            "x",
            ["A", "B"],
            Some(0),
            vec![
                bomb.clone(),
                d(1, "wait"),
                d(0, "attack_enemy_0"),
                d(1, "wait"),
            ],
        ),
        b(
            "y",
            ["B", "A"],
            Some(1),
            vec![
                d(0, "wait"),
                D {
                    side: 1,
                    ..bomb.clone()
                },
                d(0, "wait"),
            ],
        ),
        b("z", ["A", "B"], None, vec![bomb, d(1, "wait")]),
    ];
    let s = stats(&battles, 10);
    let p = &s.patterns;
    assert_eq!(
        (p.winner_decisions, p.loser_decisions),
        (3, 4),
        "draws left out"
    );
    let wait = p.by_type.iter().find(|x| x.pattern == "wait").unwrap();
    assert_eq!(
        (
            wait.winners,
            wait.losers,
            wait.winner_share,
            wait.loser_share
        ),
        (0, 4, 0.0, 1.0)
    );
    assert_eq!(wait.lift, Some(0.0));
    assert_eq!(
        p.by_type.last().unwrap().pattern,
        "wait",
        "most typical of losers last"
    );
    let any = &p.items[0];
    assert_eq!(any.item, "any item");
    assert_eq!((any.used.sides, any.used.wins, any.used.draws), (3, 2, 1));
    assert_eq!(
        (any.unused.sides, any.unused.losses, any.unused.draws),
        (3, 2, 1)
    );
    assert_eq!(p.items[1].item, "bomb_enemy");
    assert_eq!(p.items.len(), 2, "only item-spending types are listed");
}

#[test]
fn battles_spread_over_files_and_row_groups_give_the_same_answers() {
    let mut battles = three_battles();
    battles.push(swinging());
    let one = stats(&battles, 10);
    let dir = tempfile::tempdir().unwrap();
    let ds = write(&dir.path().join("ds"), &battles, 1, 1, 2);
    assert!(
        ds.manifest().table("transitions").count() >= 4,
        "one file per battle"
    );
    let many = compute(&ds, 10).unwrap();
    assert_eq!(
        Stats {
            dataset: one.dataset.clone(),
            ..many
        },
        one
    );
}

#[test]
fn interleaved_battles_and_bad_values_are_refused_with_the_file_named() {
    // Battles x and y alternate rows: x's second decision comes after y's first.
    let mut x = b("x", ["A", "B"], Some(0), vec![d(0, "wait"), d(1, "wait")]);
    let y = b("y", ["A", "B"], Some(0), vec![d(0, "wait")]);
    let x2 = B {
        decisions: vec![d(1, "wait")],
        ..x.clone()
    };
    x.decisions.truncate(1);
    let dir = tempfile::tempdir().unwrap();
    let ds = write(&dir.path().join("ds"), &[x, y, x2], 3, u64::MAX, 1 << 16);
    let err = compute(&ds, 10).unwrap_err();
    assert!(matches!(err, StatsError::Value { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("battle x") && text.contains("part-000001.parquet"),
        "{text}"
    );
}

#[test]
fn an_empty_dataset_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let ds =
        crate::dataset::Dataset::open_or_create(&dir.path().join("ds"), &super::spec()).unwrap();
    let err = compute(&ds, 10).unwrap_err();
    assert!(matches!(err, StatsError::Empty(_)), "{err}");
    assert!(err.to_string().contains("no battles"), "{err}");
    let missing = crate::stats::compute_at(&dir.path().join("nope"), 10).unwrap_err();
    assert!(matches!(missing, StatsError::Dataset(_)), "{missing}");
}
