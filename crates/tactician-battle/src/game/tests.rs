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
