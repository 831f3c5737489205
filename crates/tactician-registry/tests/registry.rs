//! The registry on real SQLite files in temporary folders.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::{Value, json};
use tactician_registry::{
    Change, Deployment, Device, Error, Registry, SCHEMA_VERSION, VersionRecord, check_name, diff,
};

fn open(dir: &Path) -> (Registry, PathBuf) {
    let path = dir.join("registry.sqlite");
    (Registry::open(&path).expect("open registry"), path)
}

fn device(id: &str, group: &str, key: &str) -> Device {
    Device {
        id: id.into(),
        public_key: key.into(),
        group: group.into(),
        added: "2025-01-31T12:00:00Z".into(),
    }
}

fn record(group: &str, version: &str) -> VersionRecord {
    VersionRecord {
        group: group.into(),
        version: version.into(),
        published: "2025-02-01T08:30:00.250Z".into(),
        encoder_hash: "enc-1".into(),
        min_runtime: "0.3.0".into(),
        model_sha256: "ab".repeat(32),
        precision: "int8".into(),
        targets: vec![
            format!("{group}/{version}/model.tflite.age"),
            format!("{group}/{version}/manifest.json"),
        ],
        metrics: json!({
            "verify": {"int8": {"top1": 0.9137, "agree": 0.1 + 0.2}, "f32": {"top1": 0.92}},
            "games": 2000,
            "win_rate": [0.5, 0.61],
        }),
        lineage: json!({"dataset": {"hash": "d1", "rows": 123456}, "parent": null}),
        notes: "first int8 model".into(),
    }
}

fn deployment(device: &str, seq: u64, version: &str, time: &str) -> Deployment {
    Deployment {
        device: device.into(),
        seq,
        group: "arena".into(),
        version: version.into(),
        time: time.into(),
        action: "install".into(),
        outcome: "ok".into(),
        reason: None,
    }
}

#[test]
fn devices_round_trip_ordered_by_group_then_id() {
    let tmp = tempfile::tempdir().unwrap();
    let (reg, _) = open(tmp.path());
    let b2 = device("pi-2", "b", "age1two");
    let a9 = device("pi-9", "a", "age1nine");
    let b1 = device("pi-1", "b", "age1one");
    for d in [&b2, &a9, &b1] {
        reg.add_device(d).unwrap();
    }
    assert_eq!(
        reg.devices(None).unwrap(),
        vec![a9.clone(), b1.clone(), b2.clone()]
    );
    assert_eq!(
        reg.devices(Some("b")).unwrap(),
        vec![b1.clone(), b2.clone()]
    );
    assert_eq!(reg.devices(Some("c")).unwrap(), vec![]);
    assert_eq!(reg.device("pi-9").unwrap(), Some(a9.clone()));
    assert_eq!(reg.device("pi-3").unwrap(), None);

    reg.remove_device("pi-1").unwrap();
    assert_eq!(reg.devices(Some("b")).unwrap(), vec![b2]);
    let err = reg.remove_device("pi-1").unwrap_err();
    assert!(
        matches!(&err, Error::UnknownDevice { id } if id == "pi-1"),
        "{err}"
    );
}

#[test]
fn device_re_add_is_idempotent_and_conflicts_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (reg, _) = open(tmp.path());
    let d = device("pi-1", "arena", "age1key");
    reg.add_device(&d).unwrap();
    // Same key and group: fine, even at a later time, which does not replace the first.
    let mut later = d.clone();
    later.added = "2025-03-01T00:00:00Z".into();
    reg.add_device(&later).unwrap();
    assert_eq!(reg.devices(None).unwrap(), vec![d.clone()]);

    let other_key = device("pi-1", "arena", "age1other");
    let err = reg.add_device(&other_key).unwrap_err();
    assert!(
        matches!(&err, Error::DeviceExists { id, group } if id == "pi-1" && group == "arena"),
        "{err}"
    );
    assert!(err.to_string().contains("remove it first"), "{err}");
    let other_group = device("pi-1", "lab", "age1key");
    assert!(matches!(
        reg.add_device(&other_group),
        Err(Error::DeviceExists { .. })
    ));
    assert_eq!(reg.devices(None).unwrap(), vec![d]);

    // Removed first, it can be registered again with a new key.
    reg.remove_device("pi-1").unwrap();
    reg.add_device(&other_key).unwrap();
    assert_eq!(reg.devices(None).unwrap(), vec![other_key]);
}

#[test]
fn device_values_are_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let (reg, _) = open(tmp.path());
    let bad_id = device(".hidden", "arena", "age1key");
    assert!(matches!(
        reg.add_device(&bad_id),
        Err(Error::InvalidName {
            what: "device id",
            ..
        })
    ));
    let bad_group = device("pi-1", "a/b", "age1key");
    assert!(matches!(
        reg.add_device(&bad_group),
        Err(Error::InvalidName { what: "group", .. })
    ));
    let no_key = device("pi-1", "arena", "");
    assert!(matches!(
        reg.add_device(&no_key),
        Err(Error::InvalidValue {
            what: "public key",
            ..
        })
    ));
    let mut bad_time = device("pi-1", "arena", "age1key");
    bad_time.added = "yesterday".into();
    assert!(matches!(
        reg.add_device(&bad_time),
        Err(Error::InvalidValue { .. })
    ));
    assert_eq!(reg.devices(None).unwrap(), vec![]);
}

#[test]
fn versions_round_trip_in_publication_order() {
    let tmp = tempfile::tempdir().unwrap();
    let (reg, _) = open(tmp.path());
    let b = record("arena", "b");
    let a = record("arena", "a");
    let other = record("lab", "a");
    for r in [&b, &other, &a] {
        reg.record_version(r).unwrap();
    }
    assert_eq!(
        reg.versions(None).unwrap(),
        vec![b.clone(), other.clone(), a.clone()]
    );
    assert_eq!(
        reg.versions(Some("arena")).unwrap(),
        vec![b.clone(), a.clone()]
    );
    assert_eq!(reg.version("lab", "a").unwrap(), Some(other));
    assert_eq!(reg.version("lab", "b").unwrap(), None);
    // Floats come back as the same floats.
    let read = reg.version("arena", "a").unwrap().unwrap();
    assert_eq!(read.metrics["verify"]["int8"]["agree"], json!(0.1 + 0.2));

    let err = reg.record_version(&record("arena", "a")).unwrap_err();
    assert!(
        matches!(&err, Error::VersionExists { group, version } if group == "arena" && version == "a"),
        "{err}"
    );
    let bad = record("arena", "1.0 beta");
    assert!(matches!(
        reg.record_version(&bad),
        Err(Error::InvalidName {
            what: "version",
            ..
        })
    ));
}

#[test]
fn groups_come_from_devices_and_versions() {
    let tmp = tempfile::tempdir().unwrap();
    let (reg, _) = open(tmp.path());
    assert_eq!(reg.groups().unwrap(), Vec::<String>::new());
    reg.add_device(&device("pi-1", "zoo", "k1")).unwrap();
    reg.add_device(&device("pi-2", "arena", "k2")).unwrap();
    reg.record_version(&record("arena", "1")).unwrap();
    reg.record_version(&record("lab", "1")).unwrap();
    assert_eq!(reg.groups().unwrap(), vec!["arena", "lab", "zoo"]);
}

#[test]
fn aliases_point_to_known_versions_and_keep_their_history() {
    let tmp = tempfile::tempdir().unwrap();
    let (reg, _) = open(tmp.path());
    reg.record_version(&record("arena", "1")).unwrap();
    reg.record_version(&record("arena", "2")).unwrap();
    reg.record_version(&record("lab", "3")).unwrap();

    let err = reg.set_alias("arena", "stable", "3").unwrap_err();
    assert!(
        matches!(&err, Error::UnknownVersion { group, version } if group == "arena" && version == "3"),
        "{err}"
    );
    assert!(matches!(
        reg.set_alias("arena", "-x", "1"),
        Err(Error::InvalidName { what: "alias", .. })
    ));
    assert_eq!(reg.alias("arena", "stable").unwrap(), None);

    assert_eq!(reg.set_alias("arena", "stable", "1").unwrap(), None);
    assert_eq!(reg.set_alias("arena", "canary", "2").unwrap(), None);
    assert_eq!(
        reg.set_alias("arena", "stable", "2").unwrap(),
        Some("1".into())
    );
    // Setting it to where it points already changes nothing and is not recorded.
    assert_eq!(
        reg.set_alias("arena", "stable", "2").unwrap(),
        Some("2".into())
    );
    assert_eq!(reg.set_alias("lab", "stable", "3").unwrap(), None);

    assert_eq!(
        reg.aliases("arena").unwrap(),
        vec![("canary".into(), "2".into()), ("stable".into(), "2".into())]
    );
    assert_eq!(reg.alias("arena", "stable").unwrap(), Some("2".into()));
    assert_eq!(reg.alias("lab", "stable").unwrap(), Some("3".into()));

    let history = reg.alias_history("arena", Some("stable")).unwrap();
    let steps: Vec<_> = history
        .iter()
        .map(|c| (c.previous.as_deref(), c.version.as_str()))
        .collect();
    assert_eq!(steps, vec![(None, "1"), (Some("1"), "2")]);
    for change in &history {
        assert_eq!(
            (change.group.as_str(), change.alias.as_str()),
            ("arena", "stable")
        );
        // RFC 3339 UTC with milliseconds: 2025-01-31T12:00:00.000Z.
        let t = change.time.as_bytes();
        assert_eq!(t.len(), 24, "{}", change.time);
        assert_eq!((t[10], t[19], t[23]), (b'T', b'.', b'Z'), "{}", change.time);
    }
    assert_eq!(reg.alias_history("arena", None).unwrap().len(), 3);
    assert_eq!(reg.alias_history("lab", None).unwrap().len(), 1);
}

#[test]
fn deployments_are_recorded_once_per_device_and_seq() {
    let tmp = tempfile::tempdir().unwrap();
    let (reg, _) = open(tmp.path());
    let first = deployment("pi-1", 0, "1", "2025-02-01T10:00:00Z");
    let mut second = deployment("pi-1", 1, "1", "2025-02-01T10:00:05Z");
    second.action = "activate".into();
    let mut failed = deployment("pi-2", 0, "2", "2025-02-01T10:00:01Z");
    failed.action = "reject".into();
    failed.outcome = "failed".into();
    failed.reason = Some("encoder hash mismatch".into());
    // An earlier instant, written with an offset: ordered by instant, not by text.
    let offset = deployment("pi-3", 7, "2", "2025-02-01T10:59:00+01:00");

    for d in [&second, &first, &failed, &offset] {
        assert!(reg.record_deployment(d).unwrap());
    }
    // The device sends its history again.
    for d in [&first, &second] {
        assert!(!reg.record_deployment(d).unwrap());
    }
    assert_eq!(
        reg.deployments(None, None).unwrap(),
        vec![
            offset.clone(),
            first.clone(),
            failed.clone(),
            second.clone()
        ]
    );
    assert_eq!(
        reg.deployments(Some("pi-1"), None).unwrap(),
        vec![first.clone(), second.clone()]
    );
    assert_eq!(
        reg.deployments(None, Some("2")).unwrap(),
        vec![offset, failed]
    );
    assert_eq!(reg.deployments(Some("pi-1"), Some("2")).unwrap(), vec![]);

    // Same (device, seq), other contents: refused, the recorded one stays.
    let mut changed = first.clone();
    changed.version = "2".into();
    let err = reg.record_deployment(&changed).unwrap_err();
    assert!(
        matches!(&err, Error::DeploymentConflict { device, seq: 0 } if device == "pi-1"),
        "{err}"
    );
    assert_eq!(reg.deployments(Some("pi-1"), None).unwrap()[0], first);
}

#[test]
fn deployment_values_are_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let (reg, _) = open(tmp.path());
    let mut bad = deployment("pi-1", 0, "1", "2025-02-01T10:00:00Z");
    bad.outcome = "maybe".into();
    assert!(matches!(
        reg.record_deployment(&bad),
        Err(Error::InvalidValue { .. })
    ));
    let huge = deployment("pi-1", u64::MAX, "1", "2025-02-01T10:00:00Z");
    assert!(matches!(
        reg.record_deployment(&huge),
        Err(Error::SeqOutOfRange { seq: u64::MAX, .. })
    ));
    let largest = deployment("pi-1", i64::MAX as u64, "1", "2025-02-01T10:00:00Z");
    assert!(reg.record_deployment(&largest).unwrap());
    assert_eq!(reg.deployments(None, None).unwrap(), vec![largest]);
}

#[test]
fn reopening_keeps_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let (reg, path) = open(tmp.path());
    reg.add_device(&device("pi-1", "arena", "age1key")).unwrap();
    reg.record_version(&record("arena", "1")).unwrap();
    reg.set_alias("arena", "stable", "1").unwrap();
    reg.record_deployment(&deployment("pi-1", 0, "1", "2025-02-01T10:00:00Z"))
        .unwrap();
    let before = (
        reg.devices(None).unwrap(),
        reg.versions(None).unwrap(),
        reg.aliases("arena").unwrap(),
        reg.alias_history("arena", None).unwrap(),
        reg.deployments(None, None).unwrap(),
    );
    drop(reg);

    let reg = Registry::open(&path).unwrap();
    let after = (
        reg.devices(None).unwrap(),
        reg.versions(None).unwrap(),
        reg.aliases("arena").unwrap(),
        reg.alias_history("arena", None).unwrap(),
        reg.deployments(None, None).unwrap(),
    );
    assert_eq!(before, after);
    assert_eq!(reg.path(), path);
}

#[test]
fn two_handles_share_one_file() {
    let tmp = tempfile::tempdir().unwrap();
    let (one, path) = open(tmp.path());
    let two = Registry::open(&path).unwrap();
    one.add_device(&device("pi-1", "arena", "k1")).unwrap();
    two.add_device(&device("pi-2", "arena", "k2")).unwrap();
    assert_eq!(one.devices(None).unwrap().len(), 2);
    assert_eq!(two.devices(None).unwrap().len(), 2);
}

#[test]
fn a_text_file_is_refused_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("notes.txt");
    let text = "this is not a database, just some notes about devices\n".repeat(20);
    std::fs::write(&path, &text).unwrap();
    let err = Registry::open(&path).unwrap_err();
    assert!(
        matches!(&err, Error::NotADatabase { path: p } if *p == path),
        "{err}"
    );
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    assert!(err.to_string().contains("not an SQLite database"), "{err}");
    // Left as it was.
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}

#[test]
fn a_folder_or_a_missing_folder_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let err = Registry::open(tmp.path()).unwrap_err();
    assert!(matches!(err, Error::NotADatabase { .. }), "{err}");

    let path = tmp.path().join("missing").join("registry.sqlite");
    let err = Registry::open(&path).unwrap_err();
    assert!(
        matches!(&err, Error::MissingFolder { folder, .. } if *folder == tmp.path().join("missing")),
        "{err}"
    );
    assert!(err.to_string().contains("create it first"), "{err}");
    assert!(!tmp.path().join("missing").exists());
}

#[test]
fn an_empty_file_becomes_a_registry() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("registry.sqlite");
    std::fs::write(&path, b"").unwrap();
    let reg = Registry::open(&path).unwrap();
    reg.add_device(&device("pi-1", "arena", "k")).unwrap();
    assert_eq!(reg.devices(None).unwrap().len(), 1);
}

#[test]
fn a_newer_schema_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (reg, path) = open(tmp.path());
    reg.add_device(&device("pi-1", "arena", "k")).unwrap();
    drop(reg);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);

    let err = Registry::open(&path).unwrap_err();
    assert!(
        matches!(err, Error::TooNew { found, known, .. } if found == SCHEMA_VERSION + 1 && known == SCHEMA_VERSION),
        "{err}"
    );
    assert!(err.to_string().contains("upgrade"), "{err}");
}

#[test]
fn another_applications_database_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("other.sqlite");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE songs (title TEXT)")
        .unwrap();
    drop(conn);
    let err = Registry::open(&path).unwrap_err();
    assert!(matches!(err, Error::ForeignDatabase { .. }), "{err}");
}

#[test]
fn diff_finds_nested_added_removed_and_text_changes() {
    let a = record("arena", "1");
    let mut b = record("arena", "2");
    b.published = "2025-03-01T00:00:00Z".into();
    b.metrics["verify"]["int8"]["top1"] = json!(0.95);
    b.metrics["verify"]["int8"]
        .as_object_mut()
        .unwrap()
        .remove("agree");
    b.metrics["latency_ms"] = json!({"p50": 1.5});
    b.lineage["dataset"]["hash"] = json!("d2");
    b.notes = "retrained".into();
    b.targets.pop();

    let changes = diff(&a, &b);
    let expected = vec![
        Change {
            path: "lineage.dataset.hash".into(),
            before: Some(json!("d1")),
            after: Some(json!("d2")),
        },
        Change {
            path: "metrics.latency_ms.p50".into(),
            before: None,
            after: Some(json!(1.5)),
        },
        Change {
            path: "metrics.verify.int8.agree".into(),
            before: Some(json!(0.1 + 0.2)),
            after: None,
        },
        Change {
            path: "metrics.verify.int8.top1".into(),
            before: Some(json!(0.9137)),
            after: Some(json!(0.95)),
        },
        Change {
            path: "notes".into(),
            before: Some(json!("first int8 model")),
            after: Some(json!("retrained")),
        },
        Change {
            path: "targets".into(),
            before: Some(json!(a.targets)),
            after: Some(json!(b.targets)),
        },
    ];
    assert_eq!(changes, expected);
    // Group, version and publication time are not compared.
    let mut other = a.clone();
    other.group = "lab".into();
    other.version = "9".into();
    other.published = "2026-01-01T00:00:00Z".into();
    assert_eq!(diff(&a, &other), vec![]);
}

#[test]
fn diff_tells_an_empty_object_from_a_missing_one() {
    let a = record("arena", "1");
    let mut b = a.clone();
    b.lineage["extra"] = json!({});
    assert_eq!(
        diff(&a, &b),
        vec![Change {
            path: "lineage.extra".into(),
            before: None,
            after: Some(json!({})),
        }]
    );
    b.encoder_hash = "enc-2".into();
    b.lineage = json!(null);
    let paths: Vec<_> = diff(&a, &b).into_iter().map(|c| c.path).collect();
    assert_eq!(
        paths,
        vec![
            "encoder_hash",
            "lineage",
            "lineage.dataset.hash",
            "lineage.dataset.rows",
            "lineage.parent"
        ]
    );
}

/// The leaves of `value` under `path`, written independently of the crate's flattening: a
/// non-empty object is the union of its members' leaves, anything else is one leaf.
fn leaves(path: &str, value: &Value) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    match value.as_object() {
        Some(members) if !members.is_empty() => {
            for (key, member) in members {
                out.extend(leaves(&format!("{path}.{key}"), member));
            }
        }
        _ => {
            out.insert(path.to_owned(), value.clone());
        }
    }
    out
}

fn all_leaves(r: &VersionRecord) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for (name, text) in [
        ("encoder_hash", &r.encoder_hash),
        ("min_runtime", &r.min_runtime),
        ("model_sha256", &r.model_sha256),
        ("precision", &r.precision),
        ("notes", &r.notes),
    ] {
        out.insert(name.to_owned(), json!(text));
    }
    out.insert("targets".to_owned(), json!(r.targets));
    out.extend(leaves("metrics", &r.metrics));
    out.extend(leaves("lineage", &r.lineage));
    out
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (0i64..4).prop_map(Value::from),
        prop::sample::select(vec![0.5, 0.25, 0.9137]).prop_map(Value::from),
        "[xy]{0,2}".prop_map(Value::from),
        prop::collection::vec(0i64..3, 0..3).prop_map(Value::from),
    ]
}

/// Small JSON objects over few keys, so that two of them share paths often.
fn json_object() -> impl Strategy<Value = Value> {
    let value = json_leaf().prop_recursive(3, 24, 3, |inner| {
        prop::collection::btree_map("[abc]", inner, 0..3)
            .prop_map(|m| Value::Object(m.into_iter().collect()))
    });
    prop::collection::btree_map("[abc]", value, 0..4)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

fn version_record() -> impl Strategy<Value = VersionRecord> {
    let text = || "[pq]{0,1}";
    (
        (text(), text(), text(), text(), text()),
        prop::collection::vec("[tu]", 0..3),
        json_object(),
        json_object(),
    )
        .prop_map(
            |(
                (encoder_hash, min_runtime, model_sha256, precision, notes),
                targets,
                metrics,
                lineage,
            )| {
                VersionRecord {
                    group: "g".into(),
                    version: "v".into(),
                    published: "2025-01-31T12:00:00Z".into(),
                    encoder_hash,
                    min_runtime,
                    model_sha256,
                    precision,
                    targets,
                    metrics,
                    lineage,
                    notes,
                }
            },
        )
}

/// The naming rule, written out again.
fn follows_name_rule(s: &str) -> bool {
    let n = s.chars().count();
    (1..=64).contains(&n)
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-')
        && !s.starts_with('.')
        && !s.starts_with('-')
}

proptest! {
    #[test]
    fn diff_of_a_record_with_itself_is_empty(a in version_record()) {
        prop_assert_eq!(diff(&a, &a), vec![]);
    }

    #[test]
    fn diff_lists_exactly_the_differing_paths(a in version_record(), b in version_record()) {
        let (x, y) = (all_leaves(&a), all_leaves(&b));
        let mut expected: Vec<Change> = x
            .keys()
            .chain(y.keys())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .filter(|p| x.get(*p) != y.get(*p))
            .map(|p| Change { path: p.clone(), before: x.get(p).cloned(), after: y.get(p).cloned() })
            .collect();
        expected.sort_by(|l, r| l.path.cmp(&r.path));
        let changes = diff(&a, &b);
        prop_assert_eq!(&changes, &expected);
        prop_assert_eq!(changes.is_empty(), x == y);
    }

    #[test]
    fn check_name_follows_the_rule(s in "[A-Za-z0-9._-]{0,70}|\\PC{0,10}|[a.-][a-z/ ]{0,3}") {
        prop_assert_eq!(check_name("group", &s).is_ok(), follows_name_rule(&s));
    }
}

proptest! {
    // Each case makes a registry file: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn stored_records_come_back_equal(records in prop::collection::vec(version_record(), 1..4)) {
        let tmp = tempfile::tempdir().unwrap();
        let (reg, _) = open(tmp.path());
        let records: Vec<_> = records
            .into_iter()
            .enumerate()
            .map(|(i, mut r)| { r.version = format!("v{i}"); r })
            .collect();
        for r in &records {
            reg.record_version(r).unwrap();
        }
        prop_assert_eq!(reg.versions(Some("g")).unwrap(), records);
    }
}

#[test]
fn check_name_edges() {
    for good in ["a", "A.b_c-1", "0", &"x".repeat(64), "_x"] {
        assert!(check_name("group", good).is_ok(), "{good}");
    }
    for bad in ["", ".a", "-a", "a b", "a/b", "é", &"x".repeat(65), "a\n"] {
        let err = check_name("alias", bad).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidName { what: "alias", value, .. } if value == bad),
            "{err}"
        );
    }
}
