use super::*;
use crate::write_atomic;
use proptest::prelude::*;
use std::collections::BTreeMap;

fn own(name: &str) -> bool {
    name.ends_with(".own") || name == "manifest.json" || name == "sub"
}

/// Every file below `dir` with its content, by relative path.
fn tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, fs::read_to_string(&p).unwrap());
            }
        }
    }
    walk(dir, dir, &mut out);
    out
}

fn siblings(target: &Path) -> Vec<String> {
    entry_names(target.parent().unwrap()).unwrap()
}

#[test]
fn a_new_output_appears_whole_on_commit() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("a/b/out");
    let o = OutputDir::create(&target, own, false).unwrap();
    write_atomic(&o.path().join("x.own"), b"1").unwrap();
    write_atomic(&o.path().join("manifest.json"), b"{}").unwrap();
    assert!(!target.exists());
    o.commit(Some("manifest.json")).unwrap();
    assert_eq!(tree(&target).len(), 2);
    assert_eq!(siblings(&target), ["out"]);
}

#[test]
fn a_previous_output_is_refused_without_force_and_foreign_files_do_not_count() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out");
    fs::create_dir(&target).unwrap();
    fs::write(target.join("notes.txt"), "mine").unwrap();
    let o = OutputDir::create(&target, own, false).unwrap();
    write_atomic(&o.path().join("x.own"), b"1").unwrap();
    o.commit(None).unwrap();
    assert_eq!(tree(&target).len(), 2);
    let e = OutputDir::create(&target, own, false).unwrap_err();
    assert!(
        matches!(e, Error::Exists { ref found, .. } if found == "x.own"),
        "{e}"
    );
    assert!(e.to_string().contains("--force"), "{e}");
}

#[test]
fn force_replaces_own_files_only() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out");
    fs::create_dir_all(target.join("sub")).unwrap();
    fs::create_dir_all(target.join("keep.d")).unwrap();
    for (name, text) in [
        ("notes.txt", "mine"),
        ("stale.own", "old"),
        ("x.own", "old"),
        ("manifest.json", "old"),
        ("sub/inner", "old"),
        ("keep.d/inner", "mine too"),
    ] {
        fs::write(target.join(name), text).unwrap();
    }
    let o = OutputDir::create(&target, own, true).unwrap();
    fs::create_dir(o.path().join("sub")).unwrap();
    write_atomic(&o.path().join("sub/new"), b"new").unwrap();
    write_atomic(&o.path().join("x.own"), b"new").unwrap();
    write_atomic(&o.path().join("manifest.json"), b"new").unwrap();
    o.commit(Some("manifest.json")).unwrap();
    let got = tree(&target);
    let want: BTreeMap<String, String> = [
        ("keep.d/inner", "mine too"),
        ("manifest.json", "new"),
        ("notes.txt", "mine"),
        ("sub/new", "new"),
        ("x.own", "new"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(got, want);
    assert_eq!(siblings(&target), ["out"]);
}

#[test]
fn an_abandoned_output_leaves_the_previous_one() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out");
    fs::create_dir(&target).unwrap();
    fs::write(target.join("x.own"), "old").unwrap();
    let o = OutputDir::create(&target, own, true).unwrap();
    write_atomic(&o.path().join("x.own"), b"new").unwrap();
    drop(o);
    assert_eq!(fs::read_to_string(target.join("x.own")).unwrap(), "old");
    assert_eq!(siblings(&target), ["out"]);
}

#[test]
fn leftovers_of_gone_processes_are_removed_and_live_ones_refused() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out");
    let mut done = std::process::Command::new("true").spawn().unwrap();
    let gone = done.id();
    done.wait().unwrap();
    let stale = dir.path().join(format!(".out.staging-{gone}"));
    fs::create_dir(&stale).unwrap();
    fs::write(stale.join("x.own"), "half").unwrap();
    let o = OutputDir::create(&target, own, false).unwrap();
    assert!(!stale.exists());
    drop(o);
    let mut live = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    let busy = dir.path().join(format!(".out.staging-{}", live.id()));
    fs::create_dir(&busy).unwrap();
    let e = OutputDir::create(&target, own, false).unwrap_err();
    live.kill().unwrap();
    live.wait().unwrap();
    assert!(
        matches!(e, Error::Busy { pid, .. } if pid == live.id()),
        "{e}"
    );
}

#[test]
fn a_file_is_not_an_output_folder() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("file");
    fs::write(&target, "x").unwrap();
    let e = OutputDir::create(&target, own, true).unwrap_err();
    assert!(matches!(e, Error::NotADirectory(_)), "{e}");
}

/// A file name of the tests' little world: own (`.own`) or foreign (`.txt`).
fn name() -> impl Strategy<Value = String> {
    (0u8..6, any::<bool>())
        .prop_map(|(i, mine)| format!("f{i}.{}", if mine { "own" } else { "txt" }))
}

proptest! {
    /// Whatever the old folder held, a forced commit leaves exactly the new own files and every
    /// foreign file untouched.
    #[test]
    fn commit_keeps_foreign_and_replaces_own(
        old in proptest::collection::btree_set(name(), 0..8),
        new in proptest::collection::btree_set(
            (0u8..6).prop_map(|i| format!("f{i}.own")), 0..5),
        exists in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        if exists {
            fs::create_dir(&target).unwrap();
            for n in &old {
                fs::write(target.join(n), "old").unwrap();
            }
        }
        let o = OutputDir::create(&target, own, true).unwrap();
        for n in &new {
            write_atomic(&o.path().join(n), b"new").unwrap();
        }
        o.commit(None).unwrap();
        let got = if target.exists() { tree(&target) } else { BTreeMap::new() };
        let mut want: BTreeMap<String, String> = BTreeMap::new();
        if exists {
            for n in old.iter().filter(|n| !own(n)) {
                want.insert(n.clone(), "old".into());
            }
        }
        for n in &new {
            want.insert(n.clone(), "new".into());
        }
        prop_assert_eq!(got, want);
        prop_assert_eq!(siblings(&target).len(), usize::from(target.exists()));
    }
}
