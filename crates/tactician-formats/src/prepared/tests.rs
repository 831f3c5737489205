use super::*;
use proptest::prelude::*;

fn split(rows: usize, f: usize, a: usize, seed: u64) -> Split {
    let mut s = seed;
    let mut next = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        s >> 33
    };
    let mut out = Split {
        rows,
        features: f,
        actions: a,
        ..Default::default()
    };
    for _ in 0..rows {
        out.x.extend((0..f).map(|_| next() as f32 / 1e6 - 1000.0));
        let act = (next() % a as u64) as usize;
        out.legal
            .extend((0..a).map(|i| u8::from(i == act || next() % 2 == 0)));
        out.action.push(act as u32);
        out.weight.push((next() % 100) as f32 / 10.0);
        out.value.push([-1.0, 0.0, 1.0][(next() % 3) as usize]);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// A split written reads back unchanged, with its widths checked when expected.
    #[test]
    fn splits_round_trip(rows in 0usize..30, f in 1usize..9, a in 1usize..7, seed in any::<u64>()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("train.safetensors");
        let s = split(rows, f, a, seed);
        s.write(&path).unwrap();
        prop_assert_eq!(&Split::read(&path, None).unwrap(), &s);
        prop_assert_eq!(&Split::read(&path, Some((f, a))).unwrap(), &s);
        prop_assert!(Split::read(&path, Some((f + 1, a))).is_err());
    }

    /// Any bytes are refused or read, never a panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.safetensors");
        std::fs::write(&path, &bytes).unwrap();
        let _ = Split::read(&path, None);
    }
}

fn read_error(edit: impl FnOnce(&mut Split)) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.safetensors");
    let mut s = split(4, 3, 2, 1);
    edit(&mut s);
    std::fs::write(&path, s.to_bytes().unwrap()).unwrap();
    Split::read(&path, None).unwrap_err().to_string()
}

#[test]
fn bad_rows_are_named() {
    let e = read_error(|s| s.x[4] = f32::NAN);
    assert!(
        e.contains("row 1 holds a non-finite feature (column 1)"),
        "{e}"
    );
    let e = read_error(|s| s.legal[3] = 2);
    assert!(e.contains("row 1 has legal value 2"), "{e}");
    let e = read_error(|s| s.action[2] = 7);
    assert!(
        e.contains("row 2 records action 7, which is out of range"),
        "{e}"
    );
    let e = read_error(|s| {
        s.legal[4] = 1;
        s.legal[5] = 0;
        s.action[2] = 1;
    });
    assert!(
        e.contains("row 2 records action 1, which is not legal"),
        "{e}"
    );
    let e = read_error(|s| s.weight[0] = -1.0);
    assert!(e.contains("row 0: weight -1"), "{e}");
    let e = read_error(|s| s.value[3] = 2.0);
    assert!(e.contains("row 3: value 2 is outside"), "{e}");
}

fn manifest() -> PreparedManifest {
    let names = |p: &str, n: usize| (0..n).map(|i| format!("{p}{i}")).collect::<Vec<_>>();
    let encoder = EncoderInfo {
        name: "e".into(),
        hash: "e-1".into(),
        features: names("f", 3),
        actions: names("a", 2),
    };
    let mut n = Normalization::identity(3);
    n.std[1] = 0.0;
    n.std[2] = 2.0;
    PreparedManifest::new(encoder, n)
}

#[test]
fn manifests_are_checked_when_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = manifest();
    let s = split(4, 3, 2, 9);
    s.write(&dir.path().join("train.safetensors")).unwrap();
    m.files.insert(
        "train.safetensors".into(),
        file_info(&dir.path().join("train.safetensors")).unwrap(),
    );
    m.write(dir.path()).unwrap();
    let back = PreparedManifest::read(dir.path()).unwrap();
    assert_eq!(back, m);
    assert!(back.is_intact(dir.path()));
    assert_eq!(back.normalization.scale(1), 1.0);
    assert_eq!(back.normalization.scale(2), 0.5);
    std::fs::write(dir.path().join("train.safetensors"), b"changed").unwrap();
    assert!(!back.is_intact(dir.path()));
    m.normalization.mean.pop();
    m.write(dir.path()).unwrap();
    let e = PreparedManifest::read(dir.path()).unwrap_err().to_string();
    assert!(e.contains("one entry per feature"), "{e}");
    m = manifest();
    m.format = "x/2".into();
    m.write(dir.path()).unwrap();
    let e = PreparedManifest::read(dir.path()).unwrap_err().to_string();
    assert!(e.contains("format is \"x/2\""), "{e}");
}

#[test]
fn settings_are_validated() {
    assert!(PrepareConfig::default().validate().is_ok());
    for (t, v, s) in [
        (0.8, 0.1, 0.2),
        (1.0, 0.0, 0.0),
        (0.9, 0.1, 0.0),
        (-0.1, 0.6, 0.5),
        (f64::NAN, 0.5, 0.5),
    ] {
        let c = PrepareConfig {
            train: t,
            val: v,
            test: s,
            ..Default::default()
        };
        assert!(c.validate().unwrap_err().contains("split ratio"));
    }
    assert_eq!(
        BalanceMethod::from_name("resample"),
        Some(BalanceMethod::Resample)
    );
    assert_eq!(BalanceMethod::from_name("x"), None);
}

#[test]
fn scenarios_file_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let s: tactician_battle::Scenario = serde_json::from_str(
        r#"{"name":"n","features":[0.5],"legal":[1],"acceptable":["a"],"extra":[1,2]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join(SCENARIOS),
        scenarios_json(std::slice::from_ref(&s)),
    )
    .unwrap();
    assert_eq!(read_scenarios(dir.path()).unwrap(), vec![s]);
    assert!(is_prepared_file("scenarios.json") && !is_prepared_file("notes.txt"));
}
