//! Tests of the round-robin runner.

use super::*;

fn small() -> GameConfig {
    GameConfig {
        max_rounds: 10,
        ..GameConfig::default()
    }
}

#[test]
fn counts_add_up_and_mirror() {
    let names = ["random", "aggressive", "defensive"];
    let t = round_robin(&names, 6, 3, small()).unwrap();
    assert_eq!(t.pairs.len(), 6);
    for p in &t.pairs {
        assert_eq!(p.battles, 6);
        assert_eq!(p.wins + p.draws + p.losses, 6);
        assert!((p.win_rate - p.wins as f64 / 6.0).abs() < 1e-12);
        assert!(p.average_turns > 0.0);
        let q = t.get(&p.opponent, &p.strategy).unwrap();
        assert_eq!((p.wins, p.draws, p.losses), (q.losses, q.draws, q.wins));
        assert_eq!(p.average_turns, q.average_turns);
    }
    assert!(t.get("random", "random").is_none());
}

#[test]
fn same_seed_same_table_and_seed_matters() {
    let names = ["random", "kiting"];
    let a = round_robin(&names, 8, 11, small()).unwrap();
    let b = round_robin(&names, 8, 11, small()).unwrap();
    assert_eq!(a, b);
    let c = round_robin(&names, 8, 12, small()).unwrap();
    assert_ne!(
        (a.pairs[0].average_turns, a.pairs[0].wins),
        (c.pairs[0].average_turns, c.pairs[0].wins)
    );
}

#[test]
fn progress_reaches_the_total() {
    let seen = AtomicU64::new(0);
    let t = round_robin_with_progress(&["random", "support"], 4, 5, small(), &|p| {
        assert_eq!(p.total, 4);
        seen.fetch_max(p.done, Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(seen.load(Ordering::Relaxed), 4);
    assert_eq!(t.pairs[0].battles, 4);
}

#[test]
fn markdown_has_a_row_per_strategy_and_round_trips_as_json() {
    let t = round_robin(&["random", "aggressive"], 2, 1, small()).unwrap();
    let md = t.to_markdown();
    assert_eq!(md.lines().count(), 4, "{md}");
    assert!(
        md.lines().nth(2).unwrap().starts_with("| random | — |"),
        "{md}"
    );
    let json = serde_json::to_string(&t).unwrap();
    let back: Table = serde_json::from_str(&json).unwrap();
    assert_eq!(back, t);
}

#[test]
fn bad_requests_are_typed_errors() {
    let c = small();
    assert!(matches!(
        round_robin(&["random", "chess"], 2, 1, c),
        Err(TournamentError::UnknownStrategy(_))
    ));
    assert_eq!(
        round_robin(&["random"], 2, 1, c),
        Err(TournamentError::TooFewStrategies(1))
    );
    assert_eq!(
        round_robin(&["random", "random"], 2, 1, c),
        Err(TournamentError::DuplicateStrategy("random".into()))
    );
    assert_eq!(
        round_robin(&["random", "search"], 0, 1, c),
        Err(TournamentError::ZeroBattles)
    );
    assert_eq!(
        round_robin(&["random", "search"], 3, 1, c),
        Err(TournamentError::OddBattles(3))
    );
    let forever = GameConfig { max_rounds: 0, ..c };
    assert_eq!(
        round_robin(&["random", "search"], 2, 1, forever),
        Err(TournamentError::MaxRounds(0))
    );
}
