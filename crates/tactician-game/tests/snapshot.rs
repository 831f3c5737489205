//! A battle rebuilt from its setup and snapshot behaves exactly like the original; setups and
//! snapshots survive JSON; snapshots that describe impossible positions are refused with a
//! `StateError`, never a panic.

mod common;

use common::{Dice, check_state, check_step, config, game_config, pick, pick_mixed, play};
use proptest::prelude::*;
use serde_json::Value;
use tactician_game::rules::WIDTH;
use tactician_game::{Battle, GameConfig, Setup, Snapshot, StateError, Terrain, UnitId, Victory};

fn rebuild(b: &Battle) -> Battle {
    Battle::from_snapshot(&b.setup(), &b.snapshot()).unwrap()
}

/// A battle after some random play, for the corruption tests.
fn midgame(seed: u64, steps: usize) -> Battle {
    midgame_with(seed, steps, GameConfig::default())
}

/// The same under other rules.
fn midgame_with(seed: u64, steps: usize, rules: GameConfig) -> Battle {
    let mut b = Battle::new(seed, rules);
    let mut dice = Dice(seed ^ 0xABCD);
    for _ in 0..steps {
        if b.is_over() {
            break;
        }
        let a = pick_mixed(&b, dice.next());
        b.step(a).unwrap();
    }
    b
}

proptest! {
    #![proptest_config(config(96))]

    /// From any point of a battle, the rebuilt battle and the original show the same
    /// snapshot, setup and legal actions, and stay identical (snapshot, legal actions,
    /// outcome) when the same actions are played from both.
    #[test]
    fn rebuilt_battle_behaves_the_same(
        seed in any::<u64>(),
        rules in game_config(),
        prefix in prop::collection::vec(any::<u32>(), 0..200),
        dice in any::<u64>(),
    ) {
        let mut b = Battle::new(seed, rules);
        play(&mut b, &prefix);
        let mut r = rebuild(&b);
        prop_assert_eq!(r.snapshot(), b.snapshot());
        prop_assert_eq!(r.setup(), b.setup());
        prop_assert_eq!(r.legal(), b.legal());
        let mut dice = Dice(dice);
        while !b.is_over() {
            let a = pick_mixed(&b, dice.next());
            b.step(a).unwrap();
            r.step(a).unwrap();
            prop_assert_eq!(r.snapshot(), b.snapshot());
            prop_assert_eq!(r.legal(), b.legal());
            // A rebuild of a rebuild is still the same battle.
            prop_assert_eq!(rebuild(&r).snapshot(), b.snapshot());
        }
        prop_assert_eq!(r.outcome(), b.outcome());
        // Snapshots of finished battles rebuild too.
        prop_assert_eq!(rebuild(&b).snapshot(), b.snapshot());
    }

    /// Setups and snapshots round-trip through JSON, and the parsed pair rebuilds the battle.
    #[test]
    fn setup_and_snapshot_round_trip_json(
        seed in any::<u64>(),
        rules in game_config(),
        prefix in prop::collection::vec(any::<u32>(), 0..200),
    ) {
        let mut b = Battle::new(seed, rules);
        play(&mut b, &prefix);
        let (setup, snap) = (b.setup(), b.snapshot());
        let setup_json = serde_json::to_string(&setup).unwrap();
        let snap_json = serde_json::to_string(&snap).unwrap();
        let setup2: Setup = serde_json::from_str(&setup_json).unwrap();
        let snap2: Snapshot = serde_json::from_str(&snap_json).unwrap();
        prop_assert_eq!(&setup2, &setup);
        prop_assert_eq!(&snap2, &snap);
        prop_assert_eq!(serde_json::to_string(&snap2).unwrap(), snap_json);
        let r = Battle::from_snapshot(&setup2, &snap2).unwrap();
        prop_assert_eq!(r.snapshot(), snap);
    }

    /// Random edits of a snapshot's JSON (numbers changed, elements dropped or repeated,
    /// values replaced) are either rejected by the parser or by `from_snapshot`, or give a
    /// battle that plays on without panicking.
    #[test]
    fn mutated_snapshots_never_panic(
        seed in any::<u64>(),
        rules in game_config(),
        steps in 0usize..200,
        edits in prop::collection::vec((any::<u64>(), any::<u8>(), any::<i64>()), 1..4),
    ) {
        let b = midgame_with(seed, steps, rules);
        let mut setup = serde_json::to_value(b.setup()).unwrap();
        let mut snap = serde_json::to_value(b.snapshot()).unwrap();
        for (path_choice, kind, value) in edits {
            if kind % 8 == 0 {
                mutate(&mut setup, path_choice, kind, value);
            } else {
                mutate(&mut snap, path_choice, kind, value);
            }
        }
        let (Ok(setup), Ok(snap)) = (
            serde_json::from_value::<Setup>(setup),
            serde_json::from_value::<Snapshot>(snap),
        ) else {
            return Ok(());
        };
        if let Ok(mut battle) = Battle::from_snapshot(&setup, &snap) {
            exercise(&mut battle)?;
        }
    }
}

/// Checks an accepted battle like one the engine produced, uses every entry point on it and
/// plays it on for a while: its state invariants hold, its features stay in the spec's ranges,
/// and it survives its own snapshot.
fn exercise(b: &mut Battle) -> Result<(), TestCaseError> {
    use tactician_battle::Encoder;
    let enc = tactician_game::SkirmishEncoder;
    let spec = tactician_game::SkirmishEncoder::feature_spec();
    if let Err(e) = check_state(b) {
        prop_assert!(false, "accepted an impossible state: {}", e);
    }
    let mut dice = Dice(7);
    for _ in 0..200 {
        for (v, f) in enc.encode(b).iter().zip(spec.features()) {
            prop_assert!(
                (f.min..=f.max).contains(v),
                "{} = {} outside its range",
                f.name,
                v
            );
        }
        prop_assert_eq!(rebuild(b).snapshot(), b.snapshot());
        let Some(_) = b.actor() else { break };
        for a in b.legal().iter() {
            let _ = b.chances(a);
            let mut c = *b;
            c.step(a).unwrap();
        }
        let before = *b;
        let a = pick(b, dice.next());
        b.step(a).unwrap();
        if let Err(e) = check_step(&before, b) {
            prop_assert!(false, "after {}: {}", a, e);
        }
    }
    Ok(())
}

/// Collects the paths of all leaves of a JSON value.
fn leaves(v: &Value, path: &mut Vec<PathStep>, out: &mut Vec<Vec<PathStep>>) {
    match v {
        Value::Array(items) => {
            out.push(path.clone());
            for (i, item) in items.iter().enumerate() {
                path.push(PathStep::Index(i));
                leaves(item, path, out);
                path.pop();
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                path.push(PathStep::Key(k.clone()));
                leaves(item, path, out);
                path.pop();
            }
        }
        _ => out.push(path.clone()),
    }
}

#[derive(Clone, Debug)]
enum PathStep {
    Index(usize),
    Key(String),
}

fn at<'a>(v: &'a mut Value, path: &[PathStep]) -> &'a mut Value {
    path.iter().fold(v, |v, step| match step {
        PathStep::Index(i) => &mut v[*i],
        PathStep::Key(k) => &mut v[k.as_str()],
    })
}

/// One random edit: a number nudged or replaced (small, boundary or huge values), a string
/// character changed, an array element removed or repeated, or a value nulled.
fn mutate(root: &mut Value, choice: u64, kind: u8, value: i64) {
    let mut paths = Vec::new();
    leaves(root, &mut Vec::new(), &mut paths);
    let path = &paths[(choice % paths.len() as u64) as usize];
    let target = at(root, path);
    let small = value.rem_euclid(12) - 2;
    match (kind / 8) % 8 {
        0 | 1 => {
            if let Some(n) = target.as_i64() {
                *target = Value::from(n.saturating_add(small));
            }
        }
        2 => *target = Value::from(small),
        3 => {
            let edges = [
                0, 1, 2, 5, 6, 7, 8, 25, 99, 100, 101, 120, 255, 256, 65_535, -1,
            ];
            *target = Value::from(edges[(value.unsigned_abs() % edges.len() as u64) as usize]);
        }
        4 => *target = Value::from(value),
        5 => {
            if let Value::String(s) = target {
                let chars = ['.', 'F', 'H', 'S', '#', 'x', 'é'];
                let mut cs: Vec<char> = s.chars().collect();
                if !cs.is_empty() {
                    let i = (value.unsigned_abs() % cs.len() as u64) as usize;
                    cs[i] = chars[(choice % chars.len() as u64) as usize];
                }
                *s = cs.into_iter().collect();
            } else if let Some(n) = target.as_u64() {
                *target = Value::from(n ^ (1 << (value.unsigned_abs() % 16)));
            }
        }
        6 => {
            if let Value::Array(items) = target
                && !items.is_empty()
            {
                let i = (value.unsigned_abs() % items.len() as u64) as usize;
                if value % 2 == 0 {
                    items.remove(i);
                } else {
                    let copy = items[i].clone();
                    items.push(copy);
                }
            }
        }
        _ => *target = Value::Null,
    }
}

// Hand-made corruptions, each of which must give its specific error.

fn corrupt(b: &Battle, edit: impl FnOnce(&mut Setup, &mut Snapshot)) -> Result<Battle, StateError> {
    let (mut setup, mut snap) = (b.setup(), b.snapshot());
    edit(&mut setup, &mut snap);
    Battle::from_snapshot(&setup, &snap)
}

/// Knocks a unit out the way the engine does: no health, no statuses.
fn knock_out(u: &mut tactician_game::UnitState) {
    (u.hp, u.poison, u.burn, u.stun, u.shield, u.shield_turns) = (0, 0, 0, 0, 0, 0);
}

fn living(snap: &Snapshot) -> Vec<usize> {
    (0..6).filter(|&i| snap.units[i].hp > 0).collect()
}

#[test]
fn corrupted_snapshots_are_refused() {
    for seed in 0..60 {
        let b = midgame(seed, (seed as usize * 7) % 90);
        if b.is_over() {
            continue;
        }
        let actor = b.actor().unwrap().index();

        let r = corrupt(&b, |_, s| {
            let alive = living(s);
            let (i, j) = (alive[0], alive[1]);
            s.units[j].x = s.units[i].x;
            s.units[j].y = s.units[i].y;
        });
        assert!(matches!(r, Err(StateError::Overlap(_, _))), "{r:?}");

        let max_hp = b.units()[actor].max_hp();
        let r = corrupt(&b, |_, s| s.units[actor].hp = max_hp + 1);
        assert!(matches!(r, Err(StateError::BadUnit(_, _))), "{r:?}");
        let r = corrupt(&b, |_, s| s.units[actor].hp = -1);
        assert!(matches!(r, Err(StateError::BadUnit(_, _))), "{r:?}");
        let r = corrupt(&b, |_, s| s.units[actor].energy = 101);
        assert!(matches!(r, Err(StateError::BadUnit(_, _))), "{r:?}");
        let r = corrupt(&b, |_, s| s.units[actor].x = WIDTH as u8);
        assert!(matches!(r, Err(StateError::BadUnit(_, _))), "{r:?}");
        let r = corrupt(&b, |_, s| s.units[actor].y = 200);
        assert!(matches!(r, Err(StateError::BadUnit(_, _))), "{r:?}");
        let r = corrupt(&b, |g, _| g.initiative[0][1] = g.initiative[0][0]);
        assert_eq!(r, Err(StateError::BadInitiative));
        let r = corrupt(&b, |g, _| g.initiative[1][2] = 6);
        assert_eq!(r, Err(StateError::BadInitiative));

        let r = corrupt(&b, |g, _| g.map[2].replace_range(3..4, "X"));
        assert_eq!(r, Err(StateError::MapTile('X')));
        let r = corrupt(&b, |g, _| {
            g.map.pop();
        });
        assert_eq!(r, Err(StateError::MapSize));
        let r = corrupt(&b, |g, _| g.map[0].push('.'));
        assert_eq!(r, Err(StateError::MapSize));
        let r = corrupt(&b, |g, _| g.map[5] = ".......é".into());
        assert_eq!(r, Err(StateError::MapTile('é')));

        let r = corrupt(&b, |_, s| {
            s.units.pop();
        });
        assert_eq!(r, Err(StateError::UnitCount(5)));
        let r = corrupt(&b, |_, s| s.units.push(s.units[0]));
        assert_eq!(r, Err(StateError::UnitCount(7)));
        let r = corrupt(&b, |_, s| s.units.clear());
        assert_eq!(r, Err(StateError::UnitCount(0)));

        // Classes come from the setup: swapped teams either give each unit its new class or,
        // when a unit's health exceeds the new class's maximum, are refused.
        let r = corrupt(&b, |g, _| g.teams.swap(0, 1));
        match r {
            Ok(rebuilt) => {
                for u in UnitId::all() {
                    let class = b.setup().teams[1 - u.side() as usize][u.slot() as usize];
                    assert_eq!(rebuilt.unit(u).class, class);
                }
            }
            Err(e) => assert!(matches!(e, StateError::BadUnit(_, _)), "{e:?}"),
        }

        let r = corrupt(&b, |_, s| knock_out(&mut s.units[actor]));
        assert_eq!(r, Err(StateError::BadActor));
        let r = corrupt(&b, |_, s| s.actor = None);
        assert_eq!(r, Err(StateError::BadActor));
        let r = corrupt(&b, |_, s| {
            s.outcome = Some(tactician_game::Outcome {
                winner: Some(0),
                victory: Victory::Elimination,
            })
        });
        assert_eq!(
            r,
            Err(StateError::BadActor),
            "a finished battle has no actor"
        );

        let r = corrupt(&b, |_, s| s.queue.push(s.actor.unwrap()));
        assert_eq!(r, Err(StateError::BadQueue));
        let r = corrupt(&b, |_, s| {
            let other = UnitId::all().find(|&u| Some(u) != s.actor).unwrap();
            s.queue = vec![other; 6];
        });
        assert_eq!(r, Err(StateError::BadQueue));

        let r = corrupt(&b, |_, s| {
            let foe = 1 - s.actor.unwrap().side();
            for u in UnitId::of_side(foe) {
                knock_out(&mut s.units[u.index()]);
            }
            s.queue.retain(|q| q.side() != foe);
        });
        assert!(matches!(r, Err(StateError::NoUnits(_))), "{r:?}");

        // Numbers beyond anything the rules produce.
        let r = corrupt(&b, |_, s| s.units[actor].poison = 4);
        assert!(matches!(r, Err(StateError::BadUnit(..))), "{r:?}");
        let r = corrupt(&b, |_, s| s.units[actor].shield = 26);
        assert!(matches!(r, Err(StateError::BadUnit(..))), "{r:?}");
        let r = corrupt(&b, |_, s| s.units[actor].cd_offense = 9);
        assert!(matches!(r, Err(StateError::BadUnit(..))), "{r:?}");
        let r = corrupt(&b, |_, s| s.potions[1] = 3);
        assert_eq!(r, Err(StateError::BadItems));
        let r = corrupt(&b, |_, s| s.bombs[0] = 2);
        assert_eq!(r, Err(StateError::BadItems));
        let r = corrupt(&b, |g, s| s.round = g.config.max_rounds);
        assert_eq!(r, Err(StateError::BadClock));
        let r = corrupt(&b, |_, s| s.turn = u32::MAX);
        assert_eq!(r, Err(StateError::BadClock));
        // Knocked-out units carry no statuses.
        let r = corrupt(&b, |_, s| {
            let other = (0..6).find(|&i| i != actor && s.units[i].hp > 0).unwrap();
            s.units[other].hp = 0;
            s.units[other].poison = 1;
            s.queue.retain(|q| q.index() != other);
        });
        assert!(matches!(r, Err(StateError::BadUnit(..))), "{r:?}");
        // An outcome that contradicts the units.
        let r = corrupt(&b, |_, s| {
            s.actor = None;
            s.outcome = Some(tactician_game::Outcome {
                winner: Some(0),
                victory: Victory::Elimination,
            });
        });
        assert_eq!(r, Err(StateError::BadOutcome));

        // A unit on rock, where the map has rock.
        let rows = b.map_rows();
        if let Some((y, x)) = rows
            .iter()
            .enumerate()
            .find_map(|(y, row)| row.find('#').map(|x| (y, x)))
        {
            let r = corrupt(&b, |_, s| {
                s.units[actor].x = x as u8;
                s.units[actor].y = y as u8;
            });
            assert!(
                matches!(
                    r,
                    Err(StateError::BadUnit(..)) | Err(StateError::Overlap(..))
                ),
                "{r:?}"
            );
            assert_eq!(b.terrain(x as u8, y as u8), Terrain::Rock);
        }
    }
}

/// JSON that names a unit that does not exist is refused by the parser.
#[test]
fn unknown_units_are_refused_by_the_parser() {
    let b = Battle::new(3, GameConfig::default());
    let json = serde_json::to_value(b.snapshot()).unwrap();
    for bad in [
        serde_json::json!([2, 0]),
        serde_json::json!([0, 3]),
        serde_json::json!([0]),
    ] {
        let mut j = json.clone();
        j["actor"] = bad.clone();
        assert!(serde_json::from_value::<Snapshot>(j).is_err(), "{bad}");
    }
}
