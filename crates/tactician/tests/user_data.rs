//! Nothing a user owns is ever lost: `--force` never deletes an input or a file a command did
//! not write, an output is all or nothing (a full disk leaves the previous output as it was),
//! a stopped training run never looks alive, and out-of-range settings are refused.
//!
//! The full-disk cases run the command on a real, small filesystem: a tmpfs of a few hundred
//! KiB mounted in a private mount namespace (`unshare --user --map-root-user --mount`), so the
//! writes fail with the operating system's own "No space left on device".

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use tactician_formats::model::{Activation, Mlp, ModelJson};
use tactician_formats::prepared::{Split, SplitName};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_tactician")
}

fn tactician(args: &[&str]) -> Output {
    Command::new(bin())
        .arg("--quiet")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every file below `dir` with its content, by relative path.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

/// A small dataset of the built-in game in `dir/ds` (collected and ingested).
fn dataset(dir: &Path) -> PathBuf {
    let logs = dir.join("logs");
    let ds = dir.join("ds");
    let o = tactician(&[
        "collect",
        "--out",
        s(&logs),
        "--battles",
        "40",
        "--seed",
        "3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = tactician(&["ingest", s(&logs), "--out", s(&ds)]);
    assert!(o.status.success(), "{}", stderr(&o));
    ds
}

#[test]
fn force_never_deletes_an_input_or_a_file_it_did_not_write() {
    let tmp = tempfile::tempdir().unwrap();
    let par = tmp.path().join("par");
    std::fs::create_dir(&par).unwrap();
    let ds = dataset(&par);
    std::fs::write(par.join("notes.txt"), "mine").unwrap();
    let before = tree(&par);
    let prepare = |out: &Path| {
        tactician(&[
            "prepare",
            s(&ds),
            "--out",
            s(out),
            "--all-players",
            "--force",
        ])
    };

    // The output is, contains or lies inside the input: refused, nothing touched.
    for (out, relation) in [
        (ds.clone(), "is"),
        (par.clone(), "contains"),
        (ds.join("p"), "lies inside"),
    ] {
        let o = prepare(&out);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(&format!("it {relation} the input")), "{err}");
        assert_eq!(tree(&par), before);
    }

    // A folder with the user's files: the prepared files are added beside them, and a forced
    // run replaces only its own files.
    let out = tmp.path().join("prepared");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "keep me").unwrap();
    let o = tactician(&["prepare", s(&ds), "--out", s(&out), "--all-players"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = tactician(&["prepare", s(&ds), "--out", s(&out), "--all-players"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    let o = prepare(&out);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "keep me"
    );
    assert!(out.join("manifest.json").exists());
    let siblings: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(siblings.is_empty(), "leftovers: {siblings:?}");

    // Training into the prepared folder (or inside it) is refused.
    for bad in [out.clone(), out.join("model")] {
        let o = tactician(&[
            "train",
            s(&out),
            "--out",
            s(&bad),
            "--force",
            "--epochs",
            "1",
        ]);
        assert_eq!(o.status.code(), Some(1));
        assert!(stderr(&o).contains("refusing to write"), "{}", stderr(&o));
    }
    assert!(!out.join("model").exists() && !out.join("model.run").exists());
    assert!(out.join("train.safetensors").exists());
    assert_eq!(tree(&par), before);
}

#[test]
fn out_of_range_settings_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("none.jsonl");
    std::fs::write(&logs, "").unwrap();
    let ds = tmp.path().join("ds");
    for mib in ["17592186044416", "0", "-1", "4097"] {
        let flag = format!("--max-record-mib={mib}");
        let o = tactician(&["ingest", s(&logs), "--out", s(&ds), &flag]);
        assert_eq!(
            o.status.code(),
            Some(2),
            "--max-record-mib {mib}: {}",
            stderr(&o)
        );
        assert!(stderr(&o).contains("max-record-mib"), "{}", stderr(&o));
    }
    assert!(!ds.exists());
    let o = tactician(&["export", "m", "--out", "e", "--calibration-samples", "0"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn an_operating_system_error_is_printed_once() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("no-such-dataset");
    for args in [
        vec!["stats", s(&missing)],
        vec!["prepare", s(&missing), "--out", "x"],
        vec!["verify", s(&missing), "--model", "m", "--data", "d"],
        vec!["eval", s(&missing), "--battles", "0"],
    ] {
        let o = tactician(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.matches("No such file or directory").count() <= 1,
            "{args:?} repeats the cause: {err}"
        );
    }
}

/// Runs `script` (sh) with `$T` the tactician binary in a private mount namespace where `dir`
/// is a fresh tmpfs of `kib` KiB. The script's output tells what happened: the tmpfs is gone
/// when it ends.
fn on_small_disk(dir: &Path, kib: u64, script: &str) -> String {
    let o = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c"])
        .arg(format!(
            "set -u; mount -t tmpfs -o size={kib}k tmpfs '{}' || exit 99; {script}",
            dir.display()
        ))
        .env("T", bin())
        .stdin(Stdio::null())
        .output()
        .expect("unshare (util-linux) runs");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_ne!(
        o.status.code(),
        Some(99),
        "cannot mount a tmpfs: {}",
        stderr(&o)
    );
    assert!(
        o.status.success(),
        "the script failed: {out}\n{}",
        stderr(&o)
    );
    out
}

/// A network whose float32 file is about 300 KiB, and a prepared folder for it.
fn model_and_data(dir: &Path) -> (PathBuf, PathBuf) {
    let meta = ModelJson::new(40, vec![256, 256], Activation::Relu, 12, true, "disk-test");
    let model = dir.join("model");
    std::fs::create_dir_all(&model).unwrap();
    let mlp = Mlp::random(meta, 1);
    mlp.write(&model, &[]).unwrap();
    let data = dir.join("prepared");
    std::fs::create_dir_all(&data).unwrap();
    for (name, n) in [(SplitName::Train, 300usize), (SplitName::Test, 100)] {
        let split = Split {
            rows: n,
            features: 40,
            actions: 12,
            x: (0..n * 40)
                .map(|i| ((i * 7919) % 1000) as f32 / 250.0 - 2.0)
                .collect(),
            legal: vec![1; n * 12],
            action: vec![0; n],
            weight: vec![1.0; n],
            value: vec![0.0; n],
        };
        split.write(&data.join(name.file_name())).unwrap();
    }
    (model, data)
}

#[test]
fn an_export_on_a_full_disk_leaves_the_previous_export() {
    let tmp = tempfile::tempdir().unwrap();
    let (model, data) = model_and_data(tmp.path());
    let disk = tmp.path().join("disk");
    std::fs::create_dir(&disk).unwrap();
    let f32_kib = tactician_export::export(
        &Mlp::load(&model).unwrap(),
        &tactician_export::ExportOptions::new(tactician_export::Precision::Float32),
    )
    .unwrap()
    .len() as u64
        / 1024;
    // Room for the previous float32 export and a staged new one, not for its int8 file.
    let kib = 2 * f32_kib + 24;
    let script = format!(
        r#"
        out="{disk}/export"
        "$T" -q export "{model}" --out "$out" --quantize none || exit 1
        sum_before=$(cat "$out"/* | sha256sum)
        "$T" -q export "{model}" --out "$out" --calibration "{data}" 2> "{tmp}/err"
        echo "status=$?"
        echo "sum_same=$([ "$sum_before" = "$(cat "$out"/* | sha256sum)" ] && echo yes || echo no)"
        echo "files=$(ls -A "$out" | tr '\n' ' ')"
        echo "disk=$(ls -A "{disk}" | tr '\n' ' ')"
        "$T" -q verify "$out" --model "{model}" --data "{data}" > /dev/null
        echo "verify=$?"
        "#,
        disk = disk.display(),
        model = model.display(),
        data = data.display(),
        tmp = tmp.path().display(),
    );
    let out = on_small_disk(&disk, kib, &script);
    let err = std::fs::read_to_string(tmp.path().join("err")).unwrap();
    assert!(out.contains("status=1"), "{out}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(out.contains("sum_same=yes"), "{out}");
    assert!(
        out.contains("files=export.json model-f32.tflite \n"),
        "{out}"
    );
    assert!(
        out.contains("disk=export \n"),
        "no staging leftovers: {out}"
    );
    assert!(out.contains("verify=0"), "{out}");
}

#[test]
fn a_training_run_stopped_by_a_full_disk_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let prepared = tmp.path().join("prep");
    let spec = tactician_train::synth::SynthSpec::new(40, 8, 2000, 200, 5);
    tactician_train::synth::write_prepared(&prepared, &spec).unwrap();
    let disk = tmp.path().join("disk");
    std::fs::create_dir(&disk).unwrap();
    // A checkpoint of this network is about 4 × 4 × 45,000 bytes: it cannot be written.
    let script = format!(
        r#"
        "$T" -q train "{prepared}" --out "{disk}/model" --hidden 256,128 --epochs 3 \
            --batch-size 64 --threads 1 2> "{tmp}/err"
        echo "status=$?"
        echo "state=$(sed -n 's/.*"state": "\([a-z]*\)".*/\1/p' "{disk}/model.run/status.json")"
        echo "model=$([ -e "{disk}/model" ] && echo yes || echo no)"
        "#,
        prepared = prepared.display(),
        disk = disk.display(),
        tmp = tmp.path().display(),
    );
    let out = on_small_disk(&disk, 64, &script);
    let err = std::fs::read_to_string(tmp.path().join("err")).unwrap();
    assert!(out.contains("status=1"), "{out}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(out.contains("state=failed"), "{out}");
    assert!(out.contains("model=no"), "{out}");
}

#[test]
fn a_forced_collection_on_a_full_disk_leaves_the_previous_one() {
    let tmp = tempfile::tempdir().unwrap();
    let disk = tmp.path().join("disk");
    std::fs::create_dir(&disk).unwrap();
    // The size of the first collection, measured on the real disk.
    let sample = tmp.path().join("sample");
    let o = tactician(&[
        "collect",
        "--out",
        s(&sample),
        "--battles",
        "30",
        "--zero-wall-clock",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let kib: u64 = tree(&sample)
        .iter()
        .map(|(_, b)| b.len() as u64 / 1024 + 4)
        .sum();
    let script = format!(
        r#"
        out="{disk}/logs"
        "$T" -q collect --out "$out" --battles 30 --zero-wall-clock || exit 1
        echo "notes" > "$out/notes.txt"
        sum_before=$(cat "$out"/* | sha256sum)
        "$T" -q collect --out "$out" --battles 3000 --seed 2 --force 2> "{tmp}/err"
        echo "status=$?"
        echo "sum_same=$([ "$sum_before" = "$(cat "$out"/* | sha256sum)" ] && echo yes || echo no)"
        echo "disk=$(ls -A "{disk}" | tr '\n' ' ')"
        "#,
        disk = disk.display(),
        tmp = tmp.path().display(),
    );
    let out = on_small_disk(&disk, 2 * kib + 64, &script);
    let err = std::fs::read_to_string(tmp.path().join("err")).unwrap();
    assert!(out.contains("status=1"), "{out}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(out.contains("sum_same=yes"), "{out}");
    assert!(out.contains("disk=logs \n"), "no staging leftovers: {out}");
}

#[test]
fn a_forced_prepare_on_a_full_disk_leaves_the_previous_one() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = dataset(tmp.path());
    // The sizes of both outputs, measured on the real disk.
    let size = |name: &str, extra: &[&str]| -> u64 {
        let out = tmp.path().join(name);
        let mut args = vec!["prepare", s(&ds), "--out", s(&out)];
        args.extend_from_slice(extra);
        let o = tactician(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        tree(&out)
            .iter()
            .map(|(_, b)| b.len() as u64 / 1024 + 4)
            .sum()
    };
    let small = size("small", &["--all-players", "--no-augment"]);
    let large = size("large", &["--all-players"]);
    assert!(large > 256, "{large} KiB");
    let disk = tmp.path().join("disk");
    std::fs::create_dir(&disk).unwrap();
    let script = format!(
        r#"
        out="{disk}/prepared"
        "$T" -q prepare "{ds}" --out "$out" --all-players --no-augment || exit 1
        echo "notes" > "$out/notes.txt"
        sum_before=$(cat "$out"/* | sha256sum)
        "$T" -q prepare "{ds}" --out "$out" --all-players --force 2> "{tmp}/err"
        echo "status=$?"
        echo "sum_same=$([ "$sum_before" = "$(cat "$out"/* | sha256sum)" ] && echo yes || echo no)"
        echo "disk=$(ls -A "{disk}" | tr '\n' ' ')"
        "#,
        disk = disk.display(),
        ds = ds.display(),
        tmp = tmp.path().display(),
    );
    // Room for the first output and half of the second.
    let out = on_small_disk(&disk, small + large / 2 + 64, &script);
    let err = std::fs::read_to_string(tmp.path().join("err")).unwrap();
    assert!(out.contains("status=1"), "{out}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(out.contains("sum_same=yes"), "{out}");
    assert!(
        out.contains("disk=prepared \n"),
        "no staging leftovers: {out}"
    );
}
