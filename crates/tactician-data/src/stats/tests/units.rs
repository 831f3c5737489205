//! The small pieces: histogram quantiles, action types, swings and phases, sequence counting,
//! the turning-point pick, the z statistic, number formats and tables, and the Markdown.

use super::super::actions::ActionTally;
use super::super::battle::{Actions, BattleView, Decision, Effects, Players, action_type};
use super::super::patterns::{extremes, pattern};
use super::super::table::{Table, duration, pct, sig, signed};
use super::super::timing::Histogram;
use super::super::turning::TurningTally;
use super::{D, Fx, b, d, dataset};
use crate::stats::compute;
use proptest::prelude::*;

fn decision(turn: u32, side: u8, player: u32, action: u32, material: Option<[f32; 2]>) -> Decision {
    Decision {
        turn,
        side,
        player,
        action,
        decision_us: None,
        material,
        effects: Effects::default(),
    }
}

/// A battle of players 0 (side 0) and 1 (side 1) with these (side, action, material) rows.
fn view(id: &str, winner: Option<u8>, rows: &[(u8, u32, Option<[f32; 2]>)]) -> BattleView {
    let mut v = BattleView::new();
    v.reset(id);
    for (t, &(side, action, material)) in rows.iter().enumerate() {
        let outcome = match winner {
            None => 0.0,
            Some(w) if w == side => 1.0,
            Some(_) => -1.0,
        };
        v.push(
            decision(t as u32, side, u32::from(side), action, material),
            outcome,
        );
    }
    v.finish();
    v
}

fn actions() -> Actions {
    Actions::new(&[
        "wait".to_string(),
        "attack_enemy_0".to_string(),
        "attack_enemy_1".to_string(),
        "heal_ally_0".to_string(),
    ])
}

#[test]
fn action_types_drop_only_a_trailing_number() {
    assert_eq!(action_type("attack_enemy_2"), "attack_enemy");
    assert_eq!(action_type("attack_enemy_12"), "attack_enemy");
    assert_eq!(action_type("wait"), "wait");
    assert_eq!(action_type("move_forward"), "move_forward");
    assert_eq!(action_type("slot_"), "slot_");
    assert_eq!(action_type("_3"), "_3");
    assert_eq!(action_type("x_2a"), "x_2a");
    let a = actions();
    assert_eq!(a.types, ["wait", "attack_enemy", "heal_ally"]);
    assert_eq!((a.type_of(1), a.type_of(2), a.type_of(3)), (1, 1, 2));
    assert_eq!(a.name(9), "?");
}

#[test]
fn players_are_interned_once() {
    let mut p = Players::default();
    assert_eq!((p.intern("a"), p.intern("b"), p.intern("a")), (0, 1, 0));
    assert_eq!((p.len(), p.name(1), p.name(7)), (2, "b", ""));
}

#[test]
fn histogram_quantiles_are_within_one_percent() {
    let mut h = Histogram::default();
    for us in 1..=1000 {
        h.add(f64::from(us));
    }
    h.add(f64::NAN);
    h.add(-1.0);
    h.add(f64::INFINITY);
    assert_eq!(
        h.count(),
        1000,
        "NaN, negative and infinite times are ignored"
    );
    assert_eq!(h.mean(), Some(500.5));
    assert_eq!(h.max(), Some(1000.0));
    for (q, exact) in [(0.5, 500.0), (0.9, 900.0), (0.99, 990.0), (1.0, 1000.0)] {
        let got = h.quantile(q).unwrap();
        assert!(
            (got - exact).abs() <= 0.01 * exact,
            "q{q}: {got} against {exact}"
        );
    }
    let empty = Histogram::default();
    assert_eq!(
        (empty.quantile(0.5), empty.mean(), empty.max()),
        (None, None, None)
    );
    let mut zeros = Histogram::default();
    zeros.add(0.0);
    zeros.add(0.0);
    zeros.add(5.0);
    assert_eq!(zeros.quantile(0.5), Some(0.0));
    assert!((zeros.quantile(1.0).unwrap() - 5.0).abs() <= 0.05);
}

proptest! {
    #[test]
    fn histogram_quantiles_track_the_exact_ones(mut xs in prop::collection::vec(0.01f64..1e7, 1..200), q in 0.01f64..1.0) {
        let mut h = Histogram::default();
        for &x in &xs {
            h.add(x);
        }
        xs.sort_by(f64::total_cmp);
        let rank = ((q * xs.len() as f64).ceil() as usize).clamp(1, xs.len());
        let exact = xs[rank - 1];
        let got = h.quantile(q).unwrap();
        prop_assert!((got - exact).abs() <= 0.0101 * exact, "{} against {}", got, exact);
        prop_assert_eq!(h.max(), Some(*xs.last().unwrap()));
    }
}

#[test]
fn swings_follow_side_zeros_advantage_and_skip_unknown_material() {
    // Material is (acting side, enemy) in the decision; side 1's rows are mirrored.
    let v = view(
        "s",
        Some(0),
        &[
            (0, 0, Some([1.0, 1.0])),
            (1, 0, Some([0.5, 1.0])),
            (0, 0, None),
            (0, 0, Some([1.0, 0.25])),
        ],
    );
    let s: Vec<Option<f64>> = v.swing.clone();
    assert_eq!(s.len(), 4);
    assert!((s[0].unwrap() - 0.5).abs() < 1e-9, "0 → +0.5: {s:?}");
    assert_eq!((s[1], s[2], s[3]), (None, None, None));
    assert_eq!((v.outcome(0), v.outcome(1)), (1, -1));
    assert_eq!(v.players, [Some(0), Some(1)]);
    let draw = view("d", None, &[(0, 0, None)]);
    assert_eq!(
        (draw.winner, draw.outcome(0), draw.outcome(1)),
        (None, 0, 0)
    );
}

#[test]
fn phases_are_thirds_by_decision_index() {
    let phases = |n: usize| {
        let v = view("p", None, &vec![(0u8, 0u32, None); n]);
        (0..n).map(|i| v.phase(i)).collect::<Vec<_>>()
    };
    assert_eq!(phases(1), [0]);
    assert_eq!(phases(2), [0, 1]);
    assert_eq!(phases(3), [0, 1, 2]);
    assert_eq!(phases(4), [0, 0, 1, 2]);
    assert_eq!(phases(7), [0, 0, 0, 1, 1, 2, 2]);
}

#[test]
fn sequences_are_counted_per_side_and_reset_per_battle() {
    let a = actions();
    let mut t = ActionTally::default();
    // Side 0: 1 1 1, side 1: 2 3 interleaved.
    t.add(&view(
        "x",
        None,
        &[
            (0, 1, None),
            (1, 2, None),
            (0, 1, None),
            (1, 3, None),
            (0, 1, None),
        ],
    ));
    t.add(&view("y", None, &[(0, 1, None), (0, 1, None)]));
    let mut players = Players::default();
    players.intern("zero");
    players.intern("one");
    let out = t.finish(&players, &a, 10);
    let zero = &out[0];
    assert_eq!(zero.decisions, 5);
    // Pairs: two in x, one in y (not across the battles). Triples: one in x.
    assert_eq!((zero.pair_count, zero.triple_count), (3, 1));
    assert_eq!(zero.pairs[0].actions, ["attack_enemy_0", "attack_enemy_0"]);
    assert_eq!(zero.pairs[0].count, 3);
    assert_eq!(zero.triples[0].count, 1);
    let one = &out[1];
    assert_eq!((one.pair_count, one.triple_count), (1, 0));
    assert_eq!(one.pairs[0].actions, ["attack_enemy_1", "heal_ally_0"]);
    assert_eq!(one.types[0].name, "attack_enemy");
    assert_eq!(one.types[0].share, 0.5);
}

#[test]
fn the_turning_point_pick_keeps_the_largest_and_breaks_ties_by_order() {
    let a = actions();
    let mut players = Players::default();
    players.intern("zero");
    players.intern("one");
    // Side 0's advantage: battle 1 goes 0 → +0.5; battle 2 goes 0 → +0.5 → -0.3.
    let first = view(
        "first",
        Some(0),
        &[(0, 1, Some([1.0, 1.0])), (1, 0, Some([0.5, 1.0]))],
    );
    let second = view(
        "second",
        Some(1),
        &[
            (0, 0, Some([1.0, 1.0])),
            (1, 2, Some([0.5, 1.0])),
            (0, 0, Some([0.2, 0.5])),
        ],
    );
    let mut t = TurningTally::new(2);
    t.add(&first, 1);
    t.add(&second, 2);
    let tp = t.finish(&players, &a);
    let picked: Vec<(&str, u32)> = tp
        .points
        .iter()
        .map(|p| (p.battle_id.as_str(), p.turn))
        .collect();
    assert_eq!(
        picked,
        [("second", 1), ("first", 0)],
        "0.8, then the earlier 0.5"
    );
    assert!((tp.points[0].swing + 0.8).abs() < 1e-6);
    assert_eq!(tp.points[0].action, "attack_enemy_1");
    assert_eq!(
        (tp.points[0].player.as_str(), tp.points[0].opponent.as_str()),
        ("one", "zero")
    );
    // first: side 0 gained and won; second: side 0 lost 0.8 and side 1 won.
    assert_eq!(
        (
            tp.battles_measured,
            tp.decisive,
            tp.decisive_won_by_largest_gainer
        ),
        (2, 2, 2)
    );
    let none = TurningTally::new(0);
    assert!(none.finish(&players, &a).points.is_empty());
}

#[test]
fn the_z_statistic_and_lift_match_a_hand_computation() {
    // 30 of 100 winners' decisions against 10 of 100 losers': pooled p = 0.2,
    // se = sqrt(0.2 · 0.8 · (1/100 + 1/100)) = 0.0566, z = 0.2 / 0.0566 = 3.536.
    let p = pattern("x".into(), [30, 10], [100, 100]);
    assert!((p.z.unwrap() - 3.5355339).abs() < 1e-6, "{p:?}");
    assert!((p.lift.unwrap() - 3.0).abs() < 1e-12);
    assert_eq!((p.winner_share, p.loser_share), (0.3, 0.1));
    let never = pattern("y".into(), [5, 0], [10, 10]);
    assert_eq!(never.lift, None, "losers never did it");
    let one_sided = pattern("z".into(), [5, 0], [10, 0]);
    assert_eq!(one_sided.z, None, "no losers at all");
    let flat = pattern("w".into(), [0, 0], [10, 10]);
    assert_eq!(flat.z, None, "zero variance");
}

#[test]
fn extremes_keep_the_top_of_each_end() {
    let ps: Vec<_> = [(9, 1), (6, 4), (4, 6), (1, 9), (5, 5)]
        .iter()
        .enumerate()
        .map(|(i, &(w, l))| pattern(format!("p{i}"), [w, l], [10, 10]))
        .collect();
    let names =
        |v: Vec<super::super::Pattern>| v.into_iter().map(|p| p.pattern).collect::<Vec<_>>();
    assert_eq!(names(extremes(ps.clone(), 1)), ["p0", "p3"]);
    assert_eq!(names(extremes(ps.clone(), 2)), ["p0", "p1", "p2", "p3"]);
    assert_eq!(
        names(extremes(ps, 10)),
        ["p0", "p1", "p2", "p3"],
        "z = 0 is dropped"
    );
}

#[test]
fn numbers_are_formatted_for_reading() {
    assert_eq!(sig(0.33149), "0.331");
    assert_eq!(sig(12.44), "12.4");
    assert_eq!(sig(130.2), "130");
    assert_eq!(sig(12345.0), "12345");
    assert_eq!(sig(0.0), "0");
    assert_eq!(duration(1.2), "1.20 s");
    assert_eq!(duration(0.0012), "1.20 ms");
    assert_eq!(duration(0.000891), "891 µs");
    assert_eq!(pct(0.1234), "12.3%");
    assert_eq!(signed(-0.3, 3), "-0.300");
}

#[test]
fn tables_line_up() {
    let mut t = Table::new(&["name", "n"]);
    t.row(vec!["µ-strategy".into(), "7".into()]);
    t.row(vec!["b".into(), "1234".into(), "dropped".into()]);
    let mut out = String::new();
    t.render(&mut out);
    assert_eq!(
        out,
        "| name       |    n |\n|------------|-----:|\n| µ-strategy |    7 |\n| b          | 1234 |\n\n"
    );
}

#[test]
fn the_markdown_has_every_section_with_its_numbers() {
    let m = |s0: f32, s1: f32| Some([s0, s1]);
    let battles = [b(
        "battle-17",
        ["hunter", "turtle"],
        Some(0),
        vec![
            D {
                us: Some(40.0),
                material: m(1.0, 1.0),
                fx: Some(Fx {
                    damage: 30,
                    energy: 2,
                    ..Fx::default()
                }),
                ..d(0, "attack_enemy_0")
            },
            D {
                us: Some(60.0),
                material: m(1.0, 0.7),
                fx: Some(Fx {
                    items: 1,
                    ..Fx::default()
                }),
                ..d(1, "potion_ally_0")
            },
            d(0, "wait"),
        ],
    )];
    let (_dir, ds) = dataset(&battles);
    let s = compute(&ds, 3).unwrap();
    let md = s.to_markdown();
    for heading in [
        "## Results by strategy",
        "## Results by matchup",
        "## Victory conditions",
        "## Action frequency by strategy",
        "## Decision time",
        "## Effectiveness by action type",
        "## Resources by battle phase",
        "## Turning points",
        "## Patterns that go with winning",
    ] {
        assert!(md.contains(heading), "{heading} missing:\n{md}");
    }
    for text in [
        "hunter",
        "turtle",
        "battle-17",
        "attack_enemy",
        "potion_ally",
        "elimination",
    ] {
        assert!(md.contains(text), "{text} missing:\n{md}");
    }
    assert!(md.contains("1 battles, 3 decisions"), "{md}");
    // And the JSON carries the same numbers.
    let json: serde_json::Value = serde_json::to_value(&s).unwrap();
    assert_eq!(json["battles"], 1);
    assert_eq!(json["results"]["by_strategy"][0]["strategy"], "hunter");
    assert_eq!(
        json["turning_points"]["points"][0]["battle_id"],
        "battle-17"
    );
}
