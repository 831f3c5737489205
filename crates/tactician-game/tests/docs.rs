//! The documentation agrees with the code. `docs/features.md` is generated from the encoder's
//! spec, and the tables of `docs/game.md` carry the numbers of `rules.rs` and the action space.
//!
//! Regenerate `docs/features.md` after an encoder change with
//! `UPDATE_DOCS=1 cargo test -p tactician-game --test docs`.

use std::fmt::Write as _;
use std::path::PathBuf;
use tactician_game::rules::{self, Class, SkillKind};
use tactician_game::{ACTION_NAMES, NUM_ACTIONS, SkirmishEncoder};

fn docs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs")
}

fn read(name: &str) -> String {
    let path = docs_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The text of `docs/features.md` for the current spec.
fn features_md() -> String {
    let spec = SkirmishEncoder::feature_spec();
    let mut s = String::new();
    s.push_str("# Skirmish encoder features\n\n");
    s.push_str(
        "<!-- Generated from `tactician_game::SkirmishEncoder::feature_spec()` by\n\
         `UPDATE_DOCS=1 cargo test -p tactician-game --test docs`; do not edit by hand. -->\n\n",
    );
    writeln!(
        s,
        "Encoder `{}`, layout hash `{}`: {} features, {} actions. The feature groups and how \
         they are scaled are described in [game.md](game.md#the-encoder).\n",
        spec.name(),
        spec.hash(),
        spec.num_features(),
        spec.num_actions()
    )
    .unwrap();
    s.push_str("| # | name | min | max | description |\n|---:|---|---:|---:|---|\n");
    for (i, f) in spec.features().iter().enumerate() {
        writeln!(
            s,
            "| {i} | `{}` | {} | {} | {} |",
            f.name,
            f.min,
            f.max,
            f.description.replace('|', "\\|")
        )
        .unwrap();
    }
    s.push_str("\n## Actions\n\n| # | name |\n|---:|---|\n");
    for (i, a) in spec.actions().iter().enumerate() {
        writeln!(s, "| {i} | `{a}` |").unwrap();
    }
    s
}

#[test]
fn features_md_matches_the_spec() {
    let want = features_md();
    let path = docs_dir().join("features.md");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/features.md does not match the encoder's spec; regenerate it with \
         `UPDATE_DOCS=1 cargo test -p tactician-game --test docs`"
    );
}

fn assert_has_row(doc: &str, row: &str) {
    assert!(
        doc.lines().any(|l| l.starts_with(row)),
        "docs/game.md has no table row starting with `{row}`"
    );
}

#[test]
fn game_md_lists_the_action_space() {
    let doc = read("game.md");
    assert_eq!(ACTION_NAMES.len(), NUM_ACTIONS);
    for (i, name) in ACTION_NAMES.iter().enumerate() {
        assert_has_row(&doc, &format!("| {i} | `{name}` |"));
    }
}

#[test]
fn game_md_carries_the_class_and_skill_numbers() {
    let doc = read("game.md");
    let skill_name = |k: SkillKind| {
        serde_json::to_value(k)
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    };
    for class in Class::ALL {
        let s = class.stats();
        assert_has_row(
            &doc,
            &format!(
                "| {} | {} | {} | {} | {} | {} |",
                class.name(),
                s.max_hp,
                s.attack,
                s.range,
                s.speed,
                s.crit
            ),
        );
        for (skill, target) in [(s.offense, "enemy"), (s.support, "ally")] {
            if let Some(k) = skill {
                assert_has_row(
                    &doc,
                    &format!(
                        "| {} | {} | {target} | {} | {} | {} | {} | {} |",
                        skill_name(k.kind),
                        class.name(),
                        k.cost,
                        k.cooldown,
                        k.range,
                        k.power,
                        k.status_turns
                    ),
                );
            }
        }
    }
}

#[test]
fn game_md_carries_the_constants() {
    let doc = read("game.md");
    let constants: &[(&str, i64)] = &[
        ("WIDTH", rules::WIDTH as i64),
        ("HEIGHT", rules::HEIGHT as i64),
        ("TEAM_SIZE", rules::TEAM_SIZE as i64),
        ("DEFAULT_MAX_ROUNDS", i64::from(rules::DEFAULT_MAX_ROUNDS)),
        ("MAX_ENERGY", i64::from(rules::MAX_ENERGY)),
        ("START_ENERGY", i64::from(rules::START_ENERGY)),
        ("ENERGY_REGEN", i64::from(rules::ENERGY_REGEN)),
        ("ENERGY_REGEN_HEAT", i64::from(rules::ENERGY_REGEN_HEAT)),
        ("WAIT_ENERGY", i64::from(rules::WAIT_ENERGY)),
        ("BASE_HIT", i64::from(rules::BASE_HIT)),
        ("FOREST_EVASION", i64::from(rules::FOREST_EVASION)),
        ("WEATHER_MISS", i64::from(rules::WEATHER_MISS)),
        ("STUN_CHANCE", i64::from(rules::STUN_CHANCE)),
        ("POISON_DAMAGE", i64::from(rules::POISON_DAMAGE)),
        ("BURN_DAMAGE", i64::from(rules::BURN_DAMAGE)),
        ("BURN_DAMAGE_HEAT", i64::from(rules::BURN_DAMAGE_HEAT)),
        ("SWAMP_POISON", i64::from(rules::SWAMP_POISON)),
        ("START_POTIONS", i64::from(rules::START_POTIONS)),
        ("START_BOMBS", i64::from(rules::START_BOMBS)),
        ("POTION_HEAL", i64::from(rules::POTION_HEAL)),
        ("POTION_RANGE", i64::from(rules::POTION_RANGE)),
        ("BOMB_DAMAGE", i64::from(rules::BOMB_DAMAGE)),
        ("BOMB_SPLASH", i64::from(rules::BOMB_SPLASH)),
        ("BOMB_RANGE", i64::from(rules::BOMB_RANGE)),
        ("WEATHER_PERIOD", i64::from(rules::WEATHER_PERIOD)),
    ];
    for (name, value) in constants {
        assert_has_row(&doc, &format!("| `{name}` | {value} |"));
    }
    let config = tactician_game::GameConfig::default();
    assert_has_row(&doc, &format!("| `max_rounds` | {} |", config.max_rounds));
    assert_has_row(
        &doc,
        &format!("| `points_margin_pct` | {} |", config.points_margin_pct),
    );
    assert!(
        doc.contains(&format!("`{}`", rules::GAME_VERSION)),
        "rules version"
    );
}

/// The worked setup example of `docs/game.md`, generated from the engine.
fn worked_example() -> String {
    use tactician_game::{Battle, GameConfig, UnitId};
    let b = Battle::new(1, GameConfig::default());
    let mut s = String::from("Battle::new(1, GameConfig::default())\nmap:\n");
    for row in b.map_rows() {
        writeln!(s, "  {row}").unwrap();
    }
    for side in 0..2u8 {
        let units: Vec<String> = UnitId::of_side(side)
            .map(|id| {
                let u = b.unit(id);
                format!(
                    "slot {} {} ({}, {}) initiative {}",
                    id.slot(),
                    u.class.name(),
                    u.x,
                    u.y,
                    u.initiative
                )
            })
            .collect();
        writeln!(s, "side {side}: {}", units.join("; ")).unwrap();
    }
    let weather = serde_json::to_value(b.weather()).unwrap();
    writeln!(s, "weather: {}", weather.as_str().unwrap()).unwrap();
    let order: Vec<String> = b
        .actor()
        .into_iter()
        .chain(b.queue())
        .map(|u| format!("[{}, {}]", u.side(), u.slot()))
        .collect();
    writeln!(s, "round 0 order: {}", order.join(" ")).unwrap();
    writeln!(s, "generator state after setup: {}", b.snapshot().rng).unwrap();
    s
}

#[test]
fn game_md_worked_example_matches_the_engine() {
    let doc = read("game.md");
    let example = worked_example();
    assert!(
        doc.contains(&example),
        "docs/game.md's worked example differs from the engine; it should read:\n{example}"
    );
}

#[test]
fn game_md_states_the_feature_count_and_keeps_its_strategies() {
    let doc = read("game.md");
    let n = SkirmishEncoder::num_features();
    assert!(
        doc.contains(&format!("{n} features")),
        "game.md should say `{n} features`"
    );
    assert!(
        doc.lines().any(|l| l == "## Strategies"),
        "game.md lost its Strategies section"
    );
}
