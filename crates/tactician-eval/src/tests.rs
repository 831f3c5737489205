use super::*;
use proptest::prelude::*;
use std::sync::Arc;
use tactician_battle::Scenario;
use tactician_formats::model::ModelJson;
use tactician_formats::prepared::{EncoderInfo, Normalization, SCENARIOS, Split, scenarios_json};
use tactician_game::strategy::Strategy;
use tactician_game::{ACTION_NAMES, Battle, GameConfig, NUM_ACTIONS, SkirmishEncoder};

const ATTACK_0: usize = 5;

fn spec() -> &'static tactician_battle::FeatureSpec {
    SkirmishEncoder::feature_spec()
}

/// A small random model for the game's encoder.
fn tiny(seed: u64, value_head: bool) -> Mlp {
    let meta = ModelJson::for_spec(spec(), vec![16, 8], Activation::Relu, value_head);
    Mlp::random(meta, seed)
}

/// A model whose only non-zero parameter is a policy bias of 3 on `action` (and a value bias).
fn prefers(action: usize, value_bias: f32) -> Mlp {
    let meta = ModelJson::for_spec(spec(), vec![4], Activation::Relu, true);
    let mut m = Mlp::random(meta, 0);
    for d in m.hidden.iter_mut().chain([&mut m.policy]) {
        d.weight.fill(0.0);
        d.bias.fill(0.0);
    }
    m.policy.bias[action] = 3.0;
    let v = m.value.as_mut().unwrap();
    v.weight.fill(0.0);
    v.bias[0] = value_bias;
    m
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

// --- Wilson -------------------------------------------------------------------------------

#[test]
fn wilson_matches_known_values() {
    // Reference values from the closed form evaluated independently (and the textbook
    // example 81/263 → [0.2553, 0.3662]).
    let cases = [
        (0, 10, 0.0, 0.277_532_8),
        (5, 10, 0.236_593_1, 0.763_406_9),
        (10, 10, 0.722_467_2, 1.0),
        (81, 263, 0.255_288_5, 0.366_209_6),
        (70, 100, 0.604_151_5, 0.781_051_1),
        (1, 1, 0.206_549_3, 1.0),
    ];
    for (k, n, low, high) in cases {
        let i = wilson95(k, n);
        assert!(close(i.low, low, 1e-6), "{k}/{n}: low {} vs {low}", i.low);
        assert!(
            close(i.high, high, 1e-6),
            "{k}/{n}: high {} vs {high}",
            i.high
        );
    }
    assert_eq!(
        wilson95(0, 0),
        Interval {
            low: 0.0,
            high: 1.0
        }
    );
}

proptest! {
    #[test]
    fn wilson_contains_the_rate_and_narrows(k in 0u64..500, extra in 0u64..500) {
        let n = k + extra;
        prop_assume!(n > 0);
        let i = wilson95(k, n);
        let p = k as f64 / n as f64;
        prop_assert!(0.0 <= i.low && i.low <= p + 1e-12 && p <= i.high + 1e-12 && i.high <= 1.0);
        // Four times the data, same rate: a narrower interval.
        let j = wilson95(4 * k, 4 * n);
        prop_assert!(j.high - j.low < i.high - i.low);
    }
}

// --- argmax and friends -----------------------------------------------------------------------

#[test]
fn masked_argmax_skips_illegal_and_breaks_ties_low() {
    let logits = [1.0, 5.0, 5.0, 9.0, f32::NAN];
    assert_eq!(masked_argmax(&logits, |i| i != 3), Some(1));
    assert_eq!(masked_argmax(&logits, |_| true), Some(3));
    assert_eq!(masked_argmax(&logits, |i| i == 4 || i == 0), Some(0));
    assert_eq!(masked_argmax(&logits, |i| i == 4), Some(4));
    assert_eq!(masked_argmax(&logits, |_| false), None);
    assert_eq!(masked_top_k(&logits, |i| i != 3, 3), vec![1, 2, 0]);
    let p = masked_softmax(&[0.0, 0.0, 7.0], |i| i < 2);
    assert_eq!(p, vec![0.5, 0.5, 0.0]);
}

// --- model file ----------------------------------------------------------------------------

#[test]
fn a_model_for_another_encoder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let m = tiny(3, true);
    m.write(dir.path(), &[]).unwrap();
    let json_path = dir.path().join(tactician_formats::model::MODEL_JSON);
    let json = std::fs::read_to_string(&json_path).unwrap();
    let other = json.replace(&m.meta.encoder_hash, "skirmish-v0-0000000000000000");
    std::fs::write(&json_path, other).unwrap();
    assert!(Mlp::load(dir.path()).is_ok());
    let e = load_model(dir.path()).unwrap_err();
    assert!(matches!(e, EvalError::EncoderMismatch { .. }), "{e}");
    let loaded = Arc::new(Mlp::load(dir.path()).unwrap());
    assert!(ModelPlayer::new(loaded).is_err());
    // Same hash, other action names.
    let renamed = json.replace("\"wait\"", "\"pause\"");
    std::fs::write(&json_path, renamed).unwrap();
    let e = load_model(dir.path()).unwrap_err();
    assert!(e.to_string().contains("features or actions"), "{e}");
    std::fs::write(&json_path, json.replace(spec().hash(), "x")).unwrap();
    assert!(matches!(
        load_model(dir.path()),
        Err(EvalError::EncoderMismatch { .. })
    ));
}

// --- playing --------------------------------------------------------------------------------

#[test]
fn a_hand_set_model_plays_its_preferred_action_whenever_legal() {
    let mut me = ModelPlayer::new(Arc::new(prefers(ATTACK_0, 0.0))).unwrap();
    let mut them = tactician_game::strategy::by_name("aggressive", 5).unwrap();
    let (mut preferred, mut decisions) = (0, 0);
    for seed in 0..6 {
        let mut battle = Battle::new(seed, GameConfig::default());
        while let Some(actor) = battle.actor() {
            let legal = battle.legal();
            let action = if actor.side() == 0 {
                let a = me.choose(&battle, legal);
                // Attack slot 0 if legal, else every logit ties at 0: the lowest legal index.
                let expected = if legal.contains_index(ATTACK_0) {
                    preferred += 1;
                    ATTACK_0
                } else {
                    (0..NUM_ACTIONS).find(|&i| legal.contains_index(i)).unwrap()
                };
                assert_eq!(a.index(), expected);
                decisions += 1;
                a
            } else {
                them.choose(&battle, legal)
            };
            battle.step(action).unwrap();
        }
    }
    assert!(decisions > 50 && preferred > 0, "{decisions} {preferred}");
}

fn settings(battles: usize, opponents: &[&str]) -> BattleSettings {
    BattleSettings {
        battles,
        seed: 11,
        opponents: opponents.iter().map(|s| s.to_string()).collect(),
        config: GameConfig::default(),
        turning_battles: 2,
    }
}

#[test]
fn a_tiny_random_model_plays_battles_with_swapped_sides() {
    let model = Arc::new(tiny(42, true));
    let s = settings(6, &["random", "aggressive"]);
    let r = play_battles(&model, &s, &|_, _| {}).unwrap();
    assert_eq!(r.opponents.len(), 2);
    for o in &r.opponents {
        assert_eq!(o.battles, 6);
        assert_eq!(o.wdl.battles(), 6);
        assert_eq!(o.as_side0.battles(), 3);
        assert_eq!(o.as_side1.battles(), 3);
        assert_eq!(o.win_interval, wilson95(o.wdl.wins, 6));
        assert!(o.average_turns > 0.0);
    }
    assert_eq!(r.overall.battles(), 12);
    // Turning points: two battles, each swing the difference of its ends, largest first.
    assert_eq!(r.turning_points.len(), 2);
    for b in &r.turning_points {
        assert!(!b.points.is_empty() && b.points.len() <= 3);
        for p in &b.points {
            assert!((p.swing - (p.value_after - p.value_before)).abs() < 1e-6);
        }
        for w in b.points.windows(2) {
            assert!(w[0].swing.abs() >= w[1].swing.abs());
        }
    }
    assert!(r.turning_points[0].points[0].swing.abs() >= r.turning_points[1].points[0].swing.abs());
    // Replaying a reported battle from its seeds alone gives the reported result.
    let b = &r.turning_points[0];
    let mut me = ModelPlayer::new(model.clone()).unwrap();
    let mut them = tactician_game::strategy::by_name(&b.opponent, b.opponent_seed).unwrap();
    let players: [&mut dyn Strategy; 2] = if b.model_side == 0 {
        [&mut me, them.as_mut()]
    } else {
        [them.as_mut(), &mut me]
    };
    let mut battle = Battle::new(b.battle_seed, GameConfig::default());
    while let Some(actor) = battle.actor() {
        let a = players[actor.side() as usize].choose(&battle, battle.legal());
        battle.step(a).unwrap();
    }
    let v = battle.outcome().unwrap().value_for(b.model_side);
    let expected = match b.result.as_str() {
        "win" => 1.0,
        "loss" => -1.0,
        _ => 0.0,
    };
    assert_eq!(v, expected);
    assert_eq!(battle.turn(), b.turns);
}

#[test]
fn battles_do_not_depend_on_the_thread_count() {
    let model = Arc::new(tiny(9, true));
    let s = settings(8, &["random", "kiting"]);
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| play_battles(&model, &s, &|_, _| {}).unwrap())
    };
    let one = run(1);
    assert_eq!(one, run(3));
    // And a different seed plays different battles.
    let other = play_battles(
        &model,
        &BattleSettings {
            seed: 12,
            ..s.clone()
        },
        &|_, _| {},
    )
    .unwrap();
    assert_ne!(
        serde_json::to_string(&one.turning_points).unwrap(),
        serde_json::to_string(&other.turning_points).unwrap()
    );
}

#[test]
fn battle_settings_are_checked() {
    let model = Arc::new(tiny(1, false));
    for (n, opps) in [(3, vec!["random"]), (0, vec!["random"]), (2, vec![])] {
        assert!(play_battles(&model, &settings(n, &opps), &|_, _| {}).is_err());
    }
    let e = play_battles(&model, &settings(2, &["nobody"]), &|_, _| {}).unwrap_err();
    assert!(e.to_string().contains("nobody"));
    // Without a value head: results but no turning points.
    let r = play_battles(&model, &settings(2, &["random"]), &|_, _| {}).unwrap();
    assert!(r.turning_points.is_empty());
    assert_eq!(r.overall.battles(), 2);
}

// --- scenarios ------------------------------------------------------------------------------

fn scenario(name: &str, legal: &[usize], acceptable: &[&str]) -> Scenario {
    let mut l = vec![0u8; NUM_ACTIONS];
    for &i in legal {
        l[i] = 1;
    }
    Scenario {
        name: name.into(),
        description: String::new(),
        features: vec![0.25; spec().num_features()],
        legal: l,
        acceptable: acceptable.iter().map(|s| s.to_string()).collect(),
        encoder: spec().hash().to_string(),
        state: Default::default(),
    }
}

#[test]
fn scenarios_pass_when_the_choice_is_acceptable() {
    let m = prefers(ATTACK_0, 0.0);
    let list = [
        scenario("attack", &[0, 1, ATTACK_0], &["attack_enemy_0"]),
        scenario(
            "attack or wait",
            &[0, ATTACK_0],
            &["wait", "attack_enemy_0"],
        ),
        scenario("cannot attack", &[0, 2], &["attack_enemy_0"]),
        scenario("must move", &[2, 3], &["move_back"]),
        scenario("wrong move", &[2, 3], &["move_north"]),
    ];
    let r = run_scenarios(&m, &list, Path::new("s.json")).unwrap();
    let pass: Vec<bool> = r.results.iter().map(|r| r.pass).collect();
    assert_eq!(pass, [true, true, false, true, false]);
    assert_eq!((r.passed, r.total), (3, 5));
    assert_eq!(r.results[2].chosen, "wait");
    assert_eq!(r.results[3].chosen, "move_back");
    assert!(r.results[0].top3[0].probability > 0.8);

    let broken = [
        scenario("unknown", &[0], &["fly"]),
        scenario("none legal", &[], &["wait"]),
        scenario("nothing acceptable", &[0], &[]),
        Scenario {
            features: vec![0.0; 3],
            ..scenario("short", &[0], &["wait"])
        },
    ];
    for s in broken {
        let e = run_scenarios(&m, std::slice::from_ref(&s), Path::new("s.json")).unwrap_err();
        assert!(e.to_string().contains(&s.name), "{e}");
    }
}

// --- test split -----------------------------------------------------------------------------

/// Ten rows: 4 where the teacher attacked slot 0, 3 where it waited although the attack was
/// legal, 3 where it waited and the attack was not legal. Values alternate +1, -1, 0.
fn split() -> Split {
    let (f, a) = (spec().num_features(), NUM_ACTIONS);
    let mut s = Split {
        rows: 10,
        features: f,
        actions: a,
        x: (0..10 * f).map(|i| (i % 7) as f32 / 7.0).collect(),
        legal: vec![0; 10 * a],
        action: Vec::new(),
        weight: Vec::new(),
        value: Vec::new(),
    };
    for r in 0..10 {
        let (legal, teacher, w): (&[usize], usize, f32) = match r {
            0..4 => (&[0, 1, ATTACK_0], ATTACK_0, 1.0),
            4..7 => (&[0, 1, ATTACK_0], 0, 2.0),
            _ => (&[0, 1], 0, 1.0),
        };
        for &i in legal {
            s.legal[r * a + i] = 1;
        }
        s.action.push(teacher as u32);
        s.weight.push(w);
        s.value.push([1.0, -1.0, 0.0][r % 3]);
    }
    s
}

#[test]
fn test_metrics_count_agreement_confusion_loss_and_value_error() {
    let m = prefers(ATTACK_0, 0.5);
    let t = test_metrics(&m, &split(), Path::new("test.safetensors")).unwrap();
    assert_eq!(t.examples, 10);
    assert!(close(t.top1, 0.7, 1e-12));
    assert!(close(t.top3, 1.0, 1e-12));
    // Weighted: hits weigh 4·1 + 3·1 of 4·1 + 3·2 + 3·1.
    assert!(close(t.weighted_top1, 7.0 / 13.0, 1e-12));
    // p(attack) = e³/(e³+2) over three legal actions; p(wait) = 1/(e³+2); 1/2 over two.
    let e3 = 3f64.exp();
    let loss = (4.0 * (e3 + 2.0).ln() - 4.0 * 3.0 + 3.0 * (e3 + 2.0).ln() + 3.0 * 2f64.ln()) / 10.0;
    assert!(close(t.loss, loss, 1e-5), "{} vs {loss}", t.loss);
    assert_eq!(t.matrix[ATTACK_0][ATTACK_0], 4);
    assert_eq!(t.matrix[0][ATTACK_0], 3);
    assert_eq!(t.matrix[0][0], 3);
    assert_eq!(t.matrix.iter().flatten().sum::<u64>(), 10);
    // Compact rows: the teacher's two actions, most supported first.
    assert_eq!(t.rows.len(), 2);
    assert_eq!(t.rows[0].action, "wait");
    assert_eq!(t.rows[0].support, 6);
    assert!(close(t.rows[0].recall, 0.5, 1e-12));
    assert_eq!(t.rows[0].confused_with[0].action, "attack_enemy_0");
    assert_eq!(t.rows[0].confused_with[0].count, 3);
    assert_eq!(t.rows[1].precision, Some(4.0 / 7.0));
    // Value: tanh(0.5) everywhere against targets +1, -1, 0 (4, 3, 3 times).
    let v = 0.5f64.tanh();
    let v32 = f64::from(0.5f32.tanh());
    let mae = (4.0 * (1.0 - v) + 3.0 * (1.0 + v) + 3.0 * v) / 10.0;
    let value = t.value.as_ref().unwrap();
    assert!(close(value.mae, mae, 1e-6), "{} vs {mae}", value.mae);
    let rmse =
        ((4.0 * (1.0 - v32).powi(2) + 3.0 * (1.0 + v32).powi(2) + 3.0 * v32 * v32) / 10.0).sqrt();
    assert!(close(value.rmse, rmse, 1e-6));
    assert_eq!(value.sign_accuracy, Some(4.0 / 7.0));
}

#[test]
fn a_split_of_another_width_is_refused() {
    let model = tiny(1, false);
    let mut narrow = split();
    narrow.features = 3;
    narrow.x = vec![0.0; 30];
    assert!(test_metrics(&model, &narrow, Path::new("test.safetensors")).is_err());
}

// --- the whole report ------------------------------------------------------------------------

/// A prepared folder with a manifest for `hash`, the test split and two scenarios.
fn prepared(dir: &Path, hash: &str) {
    let encoder = EncoderInfo {
        name: "skirmish".into(),
        hash: hash.into(),
        features: spec().features().iter().map(|f| f.name.clone()).collect(),
        actions: ACTION_NAMES.iter().map(|a| a.to_string()).collect(),
    };
    PreparedManifest::new(encoder, Normalization::identity(spec().num_features()))
        .write(dir)
        .unwrap();
    split()
        .write(&dir.join(SplitName::Test.file_name()))
        .unwrap();
    let scenarios = vec![
        scenario("attack", &[0, ATTACK_0], &["attack_enemy_0"]),
        scenario("retreat", &[0, 2], &["move_back"]),
    ];
    std::fs::write(dir.join(SCENARIOS), scenarios_json(&scenarios)).unwrap();
}

#[test]
fn the_report_has_its_documented_json_shape() {
    let root = tempfile::tempdir().unwrap();
    let (model_dir, data) = (root.path().join("model"), root.path().join("prepared"));
    std::fs::create_dir_all(&data).unwrap();
    let m = prefers(ATTACK_0, 0.25);
    std::fs::create_dir_all(&model_dir).unwrap();
    m.write(&model_dir, &[]).unwrap();
    prepared(&data, spec().hash());
    let gates = Gates {
        min_teacher_agreement: Some(0.5),
        min_win_rate: [("random".to_string(), 1.1), ("kiting".to_string(), 0.5)]
            .into_iter()
            .collect(),
    };
    let mut settings = EvalSettings {
        data: Some(data.clone()),
        battles: Some(settings(2, &["random", "search"])),
        threads: Some(2),
        gates,
    };
    let e = evaluate(&model_dir, &settings, &|_, _| {}).unwrap_err();
    assert!(e.to_string().contains("min_win_rate.random = 1.1"), "{e}");
    settings.gates.min_win_rate.insert("random".into(), 0.0);
    // A gate on an opponent that is not played cannot be checked: refused.
    let e = evaluate(&model_dir, &settings, &|_, _| {}).unwrap_err();
    assert!(
        e.to_string()
            .contains("\"kiting\" is not among the opponents"),
        "{e}"
    );
    settings.gates.min_win_rate.remove("kiting");
    let report = evaluate(&model_dir, &settings, &|_, _| {}).unwrap();
    let j = serde_json::to_value(&report).unwrap();
    assert_eq!(j["model"]["encoder_hash"], spec().hash());
    assert_eq!(j["model"]["hidden"], serde_json::json!([4]));
    assert_eq!(j["test"]["examples"], 10);
    assert!(j["test"]["top1"].as_f64().is_some());
    assert!(j["test"]["top3"].as_f64().is_some());
    assert!(j["test"]["value"]["mae"].as_f64().is_some());
    let matrix = j["test"]["matrix"].as_array().unwrap();
    assert_eq!(matrix.len(), NUM_ACTIONS);
    assert!(
        matrix
            .iter()
            .all(|r| r.as_array().unwrap().len() == NUM_ACTIONS)
    );
    assert!(j["test"]["rows"][0]["confused_with"].is_array());
    assert_eq!(j["scenarios"]["total"], 2);
    assert_eq!(j["scenarios"]["passed"], 1);
    assert_eq!(j["scenarios"]["results"][1]["pass"], false);
    let o = &j["battles"]["opponents"][1];
    assert_eq!(o["opponent"], "search");
    for key in ["wins", "draws", "losses"] {
        assert!(o["wdl"][key].is_u64());
    }
    assert!(o["win_interval"]["low"].as_f64().unwrap() <= o["win_rate"].as_f64().unwrap());
    assert!(j["battles"]["turning_points"][0]["points"][0]["swing"].is_f64());
    assert!(j["battles"]["turning_points"][0]["battle_seed"].is_u64());
    // The gates set and measured: agreement and random.
    let names: Vec<&str> = j["gates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["teacher agreement (test top-1)", "win rate vs random"]
    );
    // The JSON reads back, and the text has every section.
    let back: EvalReport = serde_json::from_value(j).unwrap();
    assert_eq!(
        back.battles.unwrap().overall,
        report.battles.as_ref().unwrap().overall
    );
    let text = report.to_text();
    for part in [
        "Test split",
        "Confusion",
        "Scenarios: 1/2 passed",
        "Validation battles",
        "Turning points",
        "Gates",
    ] {
        assert!(text.contains(part), "{part} missing from:\n{text}");
    }
    assert!(report.failures().is_empty() == report.gates.iter().all(|c| c.pass));

    // Prepared data from another encoder is refused.
    prepared(&data, "skirmish-v0-0000000000000000");
    let e = evaluate(&model_dir, &settings, &|_, _| {}).unwrap_err();
    assert!(matches!(e, EvalError::EncoderMismatch { .. }), "{e}");
}
