//! Publishing on the workstation and the device agent's full flow: publish → refresh and
//! verify → download → decrypt → validate → window → activate → rollback.

mod common;

use common::*;
use jiff::Timestamp;
use tactician_agent::Outcome;
use tactician_agent::fs::OsFs;
use tactician_agent::window::WindowConfig;

#[test]
fn a_published_model_reaches_the_device_and_rolls_back_on_demand() {
    let s = Setup::new();
    // Nothing published: the device says so and stays without a model.
    let out = s.update().unwrap();
    assert!(matches!(out, Outcome::NoRelease { .. }), "{out:?}");

    s.publish("1.0.0", Some("production"));
    let out = s.update().unwrap();
    let Outcome::Activated {
        version,
        previous,
        report,
    } = out
    else {
        panic!("{out:?}")
    };
    assert_eq!((version.as_str(), previous), ("1.0.0", None));
    assert!(report.top1 >= 0.95, "{report:?}");
    assert_eq!(assert_consistent(&s.state).as_deref(), Some("1.0.0"));
    assert!(matches!(s.update().unwrap(), Outcome::UpToDate { .. }));

    // A candidate does not move production devices.
    s.publish("1.1.0", Some("candidate"));
    assert!(matches!(s.update().unwrap(), Outcome::UpToDate { .. }));
    tactician_publish::promote(
        &s.deploy,
        GROUP,
        "production",
        "1.1.0",
        tactician_publish::Expiry::default(),
        Timestamp::now(),
    )
    .unwrap();
    let out = s.update().unwrap();
    assert!(
        matches!(&out, Outcome::Activated { version, previous: Some(p), .. } if version == "1.1.0" && p == "1.0.0"),
        "{out:?}"
    );

    // An explicit rollback, after which the agent does not reinstall the rolled-back version.
    let agent = s.agent(&OsFs);
    let out = agent.rollback(None, Timestamp::now()).unwrap();
    assert!(
        matches!(&out, Outcome::Activated { version, .. } if version == "1.0.0"),
        "{out:?}"
    );
    assert_eq!(assert_consistent(&s.state).as_deref(), Some("1.0.0"));
    let out = s.update().unwrap();
    assert!(
        matches!(&out, Outcome::Refused { version, .. } if version == "1.1.0"),
        "{out:?}"
    );
    assert_eq!(s.active().as_deref(), Some("1.0.0"));

    // A newer version moves on.
    s.publish("1.2.0", Some("production"));
    let out = s.update().unwrap();
    assert!(
        matches!(&out, Outcome::Activated { version, .. } if version == "1.2.0"),
        "{out:?}"
    );
    let status = s.agent(&OsFs).status().unwrap();
    assert_eq!(status.active.as_deref(), Some("1.2.0"));
    assert_eq!(status.highest.as_deref(), Some("1.2.0"));
    assert!(
        status.installed.contains(&"1.0.0".to_string()),
        "{status:?}"
    );
    assert!(status.metadata.timestamp >= 4, "{status:?}");
}

#[test]
fn activation_waits_for_the_maintenance_window() {
    let s = Setup::new();
    let mut config = tactician_agent::AgentConfig::load(&OsFs, &s.state).unwrap();
    config.window = Some(WindowConfig {
        schedule: "0 2 * * *".into(),
        duration_minutes: 60,
        time_zone: "UTC".into(),
    });
    config.save(&OsFs, &s.state).unwrap();
    s.publish("1.0.0", Some("production"));
    let agent = s.agent(&OsFs);
    let closed: Timestamp = "2026-12-07T12:00:00Z".parse().unwrap();
    let out = agent.update(closed).unwrap();
    let Outcome::Waiting { version, opens_at } = out else {
        panic!("{out:?}")
    };
    assert_eq!(version, "1.0.0");
    assert_eq!(opens_at.as_deref(), Some("2026-12-08T02:00:00Z"));
    assert_eq!(agent.store().active().unwrap(), None);
    assert_eq!(
        agent.store().installed().unwrap(),
        vec!["1.0.0".to_string()]
    );
    let open: Timestamp = "2026-12-08T02:30:00Z".parse().unwrap();
    let out = agent.update(open).unwrap();
    assert!(
        matches!(&out, Outcome::Activated { version, .. } if version == "1.0.0"),
        "{out:?}"
    );
    assert_eq!(assert_consistent(&s.state).as_deref(), Some("1.0.0"));
}

/// A network of the built-in game whose policy ignores its input and prefers actions in the
/// order `bias` gives (weights zero): a fixed preference among the legal actions.
fn skirmish_policy(bias: impl Fn(&str) -> f32) -> tactician_formats::model::Mlp {
    use tactician_formats::model::{Activation, Mlp, ModelJson};
    use tactician_game::{ACTION_NAMES, NUM_ACTIONS, SkirmishEncoder};
    let spec = SkirmishEncoder::feature_spec();
    let meta = ModelJson::new(
        spec.num_features(),
        vec![8],
        Activation::Relu,
        NUM_ACTIONS,
        true,
        spec.hash(),
    );
    let mut mlp = Mlp::random(meta, 1);
    mlp.policy.weight.iter_mut().for_each(|w| *w = 0.0);
    for (b, name) in mlp.policy.bias.iter_mut().zip(ACTION_NAMES) {
        *b = bias(name);
    }
    mlp
}

fn fighter(name: &str) -> f32 {
    if name.starts_with("attack") || name.starts_with("skill_enemy") || name.starts_with("bomb") {
        3.0
    } else if name == "move_forward" {
        2.0
    } else if name == "wait" {
        0.0
    } else {
        1.0
    }
}

fn idler(name: &str) -> f32 {
    if name == "wait" { 5.0 } else { 0.0 }
}

#[test]
fn validation_battles_hold_back_a_weaker_model_of_the_builtin_game() {
    let s = Setup::new();
    // Against the random baseline, where a fixed preference for attacking wins.
    let mut config = tactician_agent::AgentConfig::load(&OsFs, &s.state).unwrap();
    config.battles.opponent = "random".into();
    config.save(&OsFs, &s.state).unwrap();
    let publish = |v: &str, mlp: &tactician_formats::model::Mlp| {
        s.try_publish_mlp(v, Some("production"), Timestamp::now(), mlp, |p| {
            p.min_top1 = 0.9
        })
        .unwrap();
    };
    publish("1.0.0", &skirmish_policy(fighter));
    let out = s.update().unwrap();
    let Outcome::Activated { report, .. } = &out else {
        panic!("{out:?}")
    };
    let first = report
        .battles
        .clone()
        .expect("a model of the built-in game plays battles");
    assert_eq!((first.candidate.battles, first.active.clone()), (40, None));
    eprintln!("fighter: {:?}", first.candidate);

    // A model that only waits: validated otherwise, refused by its battles.
    publish("1.0.1", &skirmish_policy(idler));
    let out = s.update().unwrap();
    let Outcome::Refused { version, reason } = &out else {
        panic!("{out:?}")
    };
    assert_eq!(version, "1.0.1");
    assert!(
        reason.contains("validation battles against random"),
        "{reason}"
    );
    assert_eq!(assert_consistent(&s.state).as_deref(), Some("1.0.0"));

    // A model as strong as the active one passes; the active one's score is reused.
    let mut same = skirmish_policy(fighter);
    same.policy.bias[0] = 0.5;
    publish("1.0.2", &same);
    let out = s.update().unwrap();
    let Outcome::Activated {
        version, report, ..
    } = &out
    else {
        panic!("{out:?}")
    };
    assert_eq!(version, "1.0.2");
    let gate = report.battles.clone().unwrap();
    assert_eq!(
        gate.active,
        Some(("1.0.0".to_string(), first.candidate.clone()))
    );
    assert!(gate.margin > 0.0);

    // With battles off, the idler goes through: the battles are what held it back.
    let mut config = tactician_agent::AgentConfig::load(&OsFs, &s.state).unwrap();
    config.battles.enabled = false;
    config.save(&OsFs, &s.state).unwrap();
    publish("1.0.3", &skirmish_policy(idler));
    let out = s.update().unwrap();
    assert!(
        matches!(&out, Outcome::Activated { version, report, .. } if version == "1.0.3" && report.battles.is_none()),
        "{out:?}"
    );
}
