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
