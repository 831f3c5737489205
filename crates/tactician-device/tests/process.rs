//! `tactician-device update` as a real process: killed (SIGKILL) at moments spread over a whole
//! update, and run on a disk that fills up (a small tmpfs in a private mount namespace, where
//! writes fail with the operating system's own "No space left on device"). After each, the
//! device has exactly one active model that passed validation, and the next run completes the
//! update.

#[path = "../../tactician-publish/tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use common::*;
use tactician_agent::Release;
use tactician_agent::release::sha256_hex;

const EXE: &str = env!("CARGO_BIN_EXE_tactician-device");

/// 1.0.0 installed and active, 1.1.0 published to production: the state folder to copy.
fn template() -> (Setup, PathBuf) {
    let s = Setup::new();
    s.publish("1.0.0", Some("production"));
    s.update().unwrap();
    s.publish("1.1.0", Some("production"));
    assert_eq!(assert_consistent(&s.state).as_deref(), Some("1.0.0"));
    let template = s.tmp.path().join("template");
    copy_tree(&s.state, &template);
    (s, template)
}

/// `current` names one of `allowed`, validated, with the model its release describes; what a
/// killed run left in staging is allowed (the next run removes it).
fn assert_active_valid(state: &Path, allowed: &[&str], what: &str) -> String {
    let link = std::fs::read_link(state.join("current"))
        .unwrap_or_else(|e| panic!("{what}: no current model: {e}"));
    let version = link.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        allowed.contains(&version.as_str()),
        "{what}: current names {version}"
    );
    let dir = state.join("current");
    assert!(
        dir.join("validated.json").is_file(),
        "{what}: {version} is not validated"
    );
    let release: Release =
        serde_json::from_slice(&std::fs::read(dir.join("release.json")).unwrap()).unwrap();
    let model = std::fs::read(dir.join("model.tflite")).unwrap();
    assert_eq!(
        sha256_hex(&model),
        release.model_sha256,
        "{what}: the model differs"
    );
    version
}

/// The device binary with `args`, its output discarded.
fn spawn_quiet(args: &[&std::ffi::OsStr]) -> std::process::Child {
    Command::new(EXE)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn update(state: &Path) -> std::process::Output {
    Command::new(EXE)
        .args(["update", "--state"])
        .arg(state)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn an_update_killed_at_any_moment_leaves_a_working_model() {
    let (s, template) = template();
    let fresh = |name: &str| {
        let state = s.tmp.path().join("runs").join(name);
        copy_tree(&template, &state);
        state
    };

    // How long a whole update takes, process start included.
    let state = fresh("timing");
    let start = Instant::now();
    let o = update(&state);
    let whole = start.elapsed();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(assert_consistent(&state).as_deref(), Some("1.1.0"));

    let steps = 48u32;
    let (mut killed, mut finished) = (0, 0);
    let mut seen = std::collections::BTreeMap::<String, u32>::new();
    for i in 0..steps {
        let delay = whole * i / steps;
        let state = fresh(&format!("kill-{i}"));
        let mut child = spawn_quiet(&["update".as_ref(), "--state".as_ref(), state.as_os_str()]);
        std::thread::sleep(delay);
        child.kill().unwrap();
        let status = child.wait().unwrap();
        if status.success() {
            finished += 1;
        } else {
            killed += 1;
        }
        let what = format!("killed after {delay:?}");
        let active = assert_active_valid(&state, &["1.0.0", "1.1.0"], &what);
        let staged = state.join("staging").read_dir().map_or(0, |d| d.count());
        *seen
            .entry(format!("{active}, {staged} staged"))
            .or_default() += 1;
        // A restarted agent completes the update and leaves nothing staged.
        let o = update(&state);
        assert!(
            o.status.success(),
            "{what}, then: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(
            assert_consistent(&state).as_deref(),
            Some("1.1.0"),
            "{what}"
        );
    }
    println!(
        "a whole update: {whole:?}; {killed} runs killed, {finished} finished first; states \
         found after the kill: {seen:?}"
    );
    assert!(
        killed >= steps / 2,
        "most kills must land during the run: {killed} of {steps}"
    );
}

/// Size in KiB of what `dir` holds (rounded up to pages, as tmpfs counts).
fn kib_used(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            total += kib_used(&entry.path());
        } else if kind.is_file() {
            total += entry.metadata().unwrap().len().div_ceil(4096) * 4;
        }
    }
    total
}

/// In a private mount namespace: a tmpfs of `kib` KiB holding a copy of the template; an update
/// (its output in `out/first.*`, the state copied out to `out/after-first`); the tmpfs grown to
/// 8 MiB; another update (`out/second.*`, `out/after-second`).
const FULL_DISK: &str = r#"
set -e
kib=$1 template=$2 disk=$3 out=$4 exe=$5
mount -t tmpfs -o "size=${kib}k" tmpfs "$disk"
cp -a "$template" "$disk/state"
set +e
"$exe" update --state "$disk/state" >"$out/first.txt" 2>&1; echo $? >"$out/first.rc"
cp -a "$disk/state" "$out/after-first"
mount -t tmpfs -o remount,size=8192k tmpfs "$disk"
"$exe" update --state "$disk/state" >"$out/second.txt" 2>&1; echo $? >"$out/second.rc"
cp -a "$disk/state" "$out/after-second"
"#;

#[test]
fn an_update_on_a_full_disk_keeps_the_active_model() {
    let unshare = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "true"])
        .output();
    if !unshare.is_ok_and(|o| o.status.success()) {
        println!("skipped: `unshare --user --map-root-user --mount` is not available here");
        return;
    }
    let (s, template) = template();
    let start = kib_used(&template) + 8;
    let (mut full, mut fits) = (0, false);
    for kib in (start..start + 1024).step_by(8) {
        let out = s.tmp.path().join(format!("disk-{kib}"));
        let disk = out.join("mnt");
        std::fs::create_dir_all(&disk).unwrap();
        let o = Command::new("unshare")
            .args([
                "--user",
                "--map-root-user",
                "--mount",
                "sh",
                "-c",
                FULL_DISK,
                "sh",
            ])
            .arg(kib.to_string())
            .args([&template, &disk, &out])
            .arg(EXE)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{kib} KiB: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let read = |name: &str| std::fs::read_to_string(out.join(name)).unwrap();
        let what = format!("{kib} KiB: {}", read("first.txt").trim());
        if read("first.rc").trim() == "0" {
            assert_eq!(
                assert_consistent(&out.join("after-first")).as_deref(),
                Some("1.1.0"),
                "{what}"
            );
            println!("{kib} KiB: the update fits");
            fits = true;
            break;
        }
        println!("{what}");
        assert!(what.contains("No space left on device"), "{what}");
        assert_active_valid(&out.join("after-first"), &["1.0.0"], &what);
        // Room again: the next update finishes.
        assert_eq!(read("second.rc").trim(), "0", "{}", read("second.txt"));
        assert_eq!(
            assert_consistent(&out.join("after-second")).as_deref(),
            Some("1.1.0"),
            "{what}"
        );
        full += 1;
    }
    assert!(full > 0, "the smallest disk was not full");
    assert!(fits, "the update never fitted");
    println!("full disk: {full} sizes too small, then the update fitted");
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// A `tactician-device serve` process under four concurrent clients while the agent's own
/// commands activate 1.1.0 (`update`) and roll back to 1.0.0 (`rollback`): no request fails,
/// both versions answer, and the server's resident memory stays bounded.
#[test]
fn serving_under_load_survives_an_activation_and_a_rollback() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let (_s, template) = template();
    let state = template.clone();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut server = spawn_quiet(&[
        "serve".as_ref(),
        "--no-socket".as_ref(),
        "--poll-ms".as_ref(),
        "20".as_ref(),
        "--threads".as_ref(),
        "2".as_ref(),
        "--listen".as_ref(),
        listen.as_ref(),
        "--state".as_ref(),
        state.as_os_str(),
    ]);
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let start = Instant::now();
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "serve did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let body = serde_json::json!({"features": vec![0.25; FEATURES], "legal": vec![true; ACTIONS]})
        .to_string();
    let connect = || tactician_serve::client::tcp(addr).unwrap();
    let mut warm = connect();
    for _ in 0..200 {
        assert_eq!(
            warm.send("POST", "/v1/act", body.as_bytes()).unwrap().0,
            200
        );
    }
    let rss_before = rss_kib(server.id());
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (stop, body) = (stop.clone(), body.clone());
            let mut c = connect();
            std::thread::spawn(move || {
                let (mut ok, mut failed, mut v110, mut times) = (0u64, 0u64, 0u64, Vec::new());
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let (status, answer) = c.send("POST", "/v1/act", body.as_bytes()).unwrap();
                    let answer = String::from_utf8(answer).unwrap();
                    times.push(t.elapsed().as_secs_f64());
                    if status == 200 {
                        ok += 1;
                        v110 += u64::from(answer.contains("\"model_version\":\"1.1.0\""));
                    } else {
                        failed += 1;
                    }
                }
                (ok, failed, v110, times)
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let o = update(&state);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::thread::sleep(std::time::Duration::from_millis(400));
    let o = Command::new(EXE)
        .args(["rollback", "--state"])
        .arg(&state)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::thread::sleep(std::time::Duration::from_millis(400));
    stop.store(true, Ordering::Relaxed);
    let (mut ok, mut failed, mut v110, mut times) = (0, 0, 0, Vec::new());
    for c in clients {
        let (o, f, v, t) = c.join().unwrap();
        (ok, failed, v110) = (ok + o, failed + f, v110 + v);
        times.extend(t);
    }
    let rss_after = rss_kib(server.id());
    let _ = server.kill();
    let _ = server.wait();
    times.sort_by(f64::total_cmp);
    let p99 = times[(times.len() - 1) * 99 / 100] * 1e6;
    println!(
        "serving under load: {ok} answered ({v110} by 1.1.0), {failed} failed, p99 {p99:.0} µs; \
         resident {rss_before} KiB before, {rss_after} KiB after"
    );
    assert_eq!(failed, 0);
    assert!(
        v110 > 0 && v110 < ok,
        "both versions must answer: {v110} of {ok}"
    );
    assert_eq!(assert_consistent(&state).as_deref(), Some("1.0.0"));
    assert!(rss_after < 16 * 1024, "{rss_after} KiB resident");
}
