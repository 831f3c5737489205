use super::*;
use crate::FeatureDef;
use crate::outcome::{DeclaredEnd, WinnerRule};

fn spec_json(extra: &str) -> String {
    format!(
        r#"{{
  "name": "duel",
  "features": [
    {{"name": "hp_0", "min": 0, "max": 1}},
    {{"name": "hp_1", "min": 0, "max": 1}}
  ],
  "actions": ["pass", "attack_0", "attack_1"]{extra}
}}"#
    )
}

const SWAP: &str = r#"{"name": "swap", "features": [{"source": 1, "scale": 1, "offset": 0}, {"source": 0, "scale": 1, "offset": 0}], "actions": [0, 2, 1]}"#;

fn scenario(features: &str, legal: &str, acceptable: &str) -> String {
    format!(
        r#"{{"name": "finish", "features": {features}, "legal": {legal}, "acceptable": {acceptable}, "note": "kept"}}"#
    )
}

#[test]
fn reads_every_section_and_writes_it_back() {
    let text = spec_json(&format!(
        r#",
  "symmetries": [{SWAP}],
  "scenarios": [{}],
  "victories": [{{"name": "elimination", "winner": "required"}}, {{"name": "timeout", "winner": "none"}}]"#,
        scenario("[0.1, 1.0]", "[1, 1, 1]", r#"["attack_0"]"#)
    ));
    let g = GameSpec::from_json(text.as_bytes()).unwrap();
    assert_eq!(g.features().num_features(), 2);
    assert_eq!(g.symmetries()[0].action_map(), [0, 2, 1]);
    let s = &g.scenarios()[0];
    assert_eq!(s.encoder, g.features().hash());
    assert_eq!(s.state.to_value()["note"], "kept");
    assert_eq!(g.outcomes().victories[1].winner, WinnerRule::None);
    assert_eq!(g.outcomes().game, "duel");
    let end = DeclaredEnd {
        winner: Some(0),
        victory: "timeout",
        ..Default::default()
    };
    assert!(g.outcomes().check(&end).is_err());
    let again = GameSpec::from_json(&g.to_json()).unwrap();
    assert_eq!(again, g);
    // A plain feature spec is a game spec that declares nothing.
    let plain = GameSpec::from_json(spec_json("").as_bytes()).unwrap();
    assert!(plain.symmetries().is_empty() && plain.scenarios().is_empty());
    assert_eq!(plain.features(), g.features());
}

fn error(extra: &str) -> String {
    match GameSpec::from_json(spec_json(extra).as_bytes()) {
        Err(e) => {
            let mut text = e.to_string();
            if let Some(s) = std::error::Error::source(&e) {
                text.push_str(&format!(": {s}"));
            }
            text
        }
        Ok(_) => panic!("accepted {extra}"),
    }
}

#[test]
fn refuses_declarations_that_do_not_fit() {
    let sc = |f: &str, l: &str, a: &str| format!(r#", "scenarios": [{}]"#, scenario(f, l, a));
    let e = error(&sc("[0.1]", "[1, 1, 1]", r#"["pass"]"#));
    assert!(e.contains("1 features, the spec has 2"), "{e}");
    let e = error(&sc("[0.1, 9]", "[1, 1, 1]", r#"["pass"]"#));
    assert!(e.contains("\"hp_1\" is 9, outside its range [0, 1]"), "{e}");
    let e = error(&sc("[0.1, 0.2]", "[1, 0, 1]", r#"["attack_0"]"#));
    assert!(e.contains("\"attack_0\" is not legal"), "{e}");
    let e = error(&sc("[0.1, 0.2]", "[1, 2, 1]", r#"["pass"]"#));
    assert!(e.contains("holds 2"), "{e}");
    let e = error(&sc("[0.1, 0.2]", "[1, 1, 1]", r#"["dance"]"#));
    assert!(e.contains("\"dance\" is not an action"), "{e}");
    let e = error(
        r#", "symmetries": [{"name": "short", "features": [{"source": 0, "scale": 1, "offset": 0}], "actions": [0, 1, 2]}]"#,
    );
    assert!(
        e.contains("maps 1 features and 3 actions but the spec has 2 and 3"),
        "{e}"
    );
    let e = error(&format!(r#", "symmetries": [{SWAP}, {SWAP}]"#));
    assert!(e.contains("declared twice"), "{e}");
    let e = error(
        r#", "victories": [{"name": "x", "winner": "none"}, {"name": "x", "winner": "any"}]"#,
    );
    assert!(e.contains("twice"), "{e}");
    let e = error(r#", "victories": [{"name": "x", "winner": "sometimes"}]"#);
    assert!(e.contains("not a game spec"), "{e}");
}

#[test]
fn built_from_code_too() {
    let spec = FeatureSpec::new(
        "g",
        vec![FeatureDef::new("x", "", 0.0, 1.0)],
        vec!["a".into()],
    )
    .unwrap();
    let g = GameSpec::new(spec.clone());
    assert_eq!(g.features(), &spec);
    assert!(g.outcomes().victories.is_empty());
}

mod properties {
    use super::*;
    use crate::outcome::{EndRule, VictoryRule, WinnerRule};
    use crate::symmetry::FeatureMap;
    use proptest::prelude::*;

    /// A valid game spec: `f` features in [0, 1], `a` actions, a feature-swap symmetry, a
    /// scenario and victories.
    fn game() -> impl Strategy<Value = GameSpec> {
        (1usize..6, 2usize..6, any::<u64>()).prop_map(|(f, a, seed)| {
            let defs = (0..f)
                .map(|i| FeatureDef::new(format!("f{i}"), "", 0.0, 1.0))
                .collect();
            let actions = (0..a).map(|i| format!("a{i}")).collect();
            let spec = FeatureSpec::new("g", defs, actions).unwrap();
            let mut maps: Vec<FeatureMap> = (0..f).map(FeatureMap::copy).collect();
            maps.reverse();
            let mut perm: Vec<usize> = (0..a).collect();
            perm.swap(0, a - 1);
            let sym = FeatureSymmetry::new("flip", maps, perm).unwrap();
            let x = (seed % 1000) as f32 / 1000.0;
            let scenario: Scenario = serde_json::from_value(serde_json::json!({
                "name": "s",
                "features": vec![x; f],
                "legal": vec![1; a],
                "acceptable": ["a0"],
                "extra": {"seed": seed},
            }))
            .unwrap();
            let outcomes = OutcomeRules {
                victories: vec![
                    VictoryRule::new("win", WinnerRule::Required, EndRule::Elimination),
                    VictoryRule::new("draw", WinnerRule::None, EndRule::None),
                ],
                game: "g".into(),
                end_check: None,
            };
            GameSpec::new(spec)
                .with_symmetries(vec![sym])
                .unwrap()
                .with_scenarios(vec![scenario])
                .unwrap()
                .with_outcomes(outcomes)
                .unwrap()
        })
    }

    proptest! {
        /// Written and read back, a game spec is the same.
        #[test]
        fn game_specs_round_trip(g in game()) {
            prop_assert_eq!(GameSpec::from_json(&g.to_json()).unwrap(), g);
        }

        /// Any bytes are a game spec or an error, never a panic.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = GameSpec::from_json(&bytes);
        }

        /// A valid spec with any one byte changed is read or refused, never a panic, and what
        /// is read satisfies every check.
        #[test]
        fn damaged_specs_never_panic(g in game(), at in any::<prop::sample::Index>(), b in any::<u8>()) {
            let mut bytes = g.to_json();
            let i = at.index(bytes.len());
            bytes[i] = b;
            if let Ok(read) = GameSpec::from_json(&bytes) {
                let again = GameSpec::from_json(&read.to_json()).unwrap();
                prop_assert_eq!(again, read);
            }
        }
    }
}
