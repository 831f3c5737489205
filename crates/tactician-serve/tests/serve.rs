//! The decision server over loopback TCP and a Unix socket, on a state folder laid out as the
//! agent leaves it (`models/<version>/`, `current`): decisions equal the runtime's own, bad
//! requests get clear 4xx answers, metrics pass `promtool check metrics`, and a model switch
//! under concurrent load fails no request.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tactician_export::{ExportOptions, Precision, export};
use tactician_formats::model::{Activation, Mlp, ModelJson};
use tactician_game::{ACTION_NAMES, Battle, GameConfig, NUM_ACTIONS, SkirmishEncoder};
use tactician_runtime::{Policy, PolicyOptions};
use tactician_serve::client::Conn;
use tactician_serve::server::{Listen, Running, ServeConfig, start};

/// A random network of the built-in game, exported as float32.
fn model_bytes(seed: u64) -> Vec<u8> {
    let spec = SkirmishEncoder::feature_spec();
    let mut meta = ModelJson::new(
        spec.num_features(),
        vec![32],
        Activation::Relu,
        NUM_ACTIONS,
        true,
        spec.hash(),
    );
    meta.action_names = ACTION_NAMES.iter().map(|s| s.to_string()).collect();
    let mlp = Mlp::random(meta, seed);
    export(&mlp, &ExportOptions::new(Precision::Float32)).unwrap()
}

/// Installs `version` in `state` as the agent does (without activating it).
fn install(state: &Path, version: &str, seed: u64, baseline_p50_us: f64) -> Vec<u8> {
    let dir = state.join("models").join(version);
    std::fs::create_dir_all(&dir).unwrap();
    let bytes = model_bytes(seed);
    std::fs::write(dir.join("model.tflite"), &bytes).unwrap();
    std::fs::write(
        dir.join("validated.json"),
        json!({"version": version, "latency_p50_us": baseline_p50_us}).to_string(),
    )
    .unwrap();
    bytes
}

/// Points `current` at `version` atomically (a new link renamed over the old), as the agent.
fn activate(state: &Path, version: &str) {
    let tmp = state.join("current.partial");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(Path::new("models").join(version), &tmp).unwrap();
    std::fs::rename(&tmp, state.join("current")).unwrap();
}

fn server(state: &Path, sysfs: Option<&Path>) -> Running {
    let mut config = ServeConfig::new(state);
    config.poll = Duration::from_millis(20);
    config.max_body_bytes = 64 * 1024;
    config.request_timeout = Duration::from_millis(500);
    if let Some(root) = sysfs {
        config.sysfs_root = root.to_path_buf();
    }
    let listen = Listen {
        tcp: Some("127.0.0.1:0".parse().unwrap()),
        socket: Some(state.join("serve.sock")),
    };
    start(config, &listen, 2).unwrap()
}

/// A kept-alive connection whose answers are decoded for the assertions.
struct Client<S> {
    conn: Conn<S>,
}

fn tcp(addr: SocketAddr) -> Client<TcpStream> {
    let conn = tactician_serve::client::tcp(addr).unwrap();
    Client { conn }
}

impl<S: Read + Write> Client<S> {
    fn send(&mut self, method: &str, path: &str, body: &[u8]) -> (u16, String) {
        let (status, body) = self.conn.send(method, path, body).unwrap();
        (status, String::from_utf8(body).unwrap())
    }

    fn json(&mut self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        self.conn.json(method, path, body).unwrap()
    }
}

fn features_of(battle: &Battle) -> (Vec<f32>, Vec<bool>) {
    let actor = battle.actor().unwrap();
    let legal = battle.legal();
    let mut x = vec![0.0; SkirmishEncoder::feature_spec().num_features()];
    SkirmishEncoder::encode_unit(battle, actor, legal, &mut x);
    (
        x,
        (0..NUM_ACTIONS).map(|i| legal.contains_index(i)).collect(),
    )
}

#[test]
fn decisions_equal_the_runtimes_over_tcp_and_the_unix_socket() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path();
    let bytes = install(state, "1.0.0", 1, 5.0);
    activate(state, "1.0.0");
    let running = server(state, None);
    let mut c = tcp(running.tcp.unwrap());
    let mut policy = Policy::load(&bytes, &PolicyOptions::default()).unwrap();

    let (status, health) = c.json("GET", "/healthz", &Value::Null);
    assert_eq!(
        (status, health["model_version"].as_str()),
        (200, Some("1.0.0"))
    );

    let mut battle = Battle::new(7, GameConfig::default());
    for step in 0..20 {
        let Some(_) = battle.actor() else { break };
        let (x, legal) = features_of(&battle);
        let want = policy.act(&x, &legal).unwrap();
        // The same decision from features and from the game's state.
        let state_req = json!({
            "state": {"setup": battle.setup(), "snapshot": battle.snapshot()},
            "battle_id": "b-7",
        });
        let (s1, by_state) = c.json("POST", "/v1/act", &state_req);
        let (s2, by_features) = c.json("POST", "/v1/act", &json!({"features": x, "legal": legal}));
        assert_eq!((s1, s2), (200, 200), "{by_state} {by_features}");
        for got in [&by_state, &by_features] {
            assert_eq!(got["action"], want.action, "step {step}: {got}");
            assert_eq!(got["action_name"], ACTION_NAMES[want.action]);
            assert_eq!(got["model_version"], "1.0.0");
            let p: Vec<f32> = serde_json::from_value(got["probabilities"].clone()).unwrap();
            for (a, b) in p.iter().zip(want.probabilities) {
                assert!((a - b).abs() < 1e-6, "{a} {b}");
            }
            assert!(got["latency_us"].as_f64().unwrap() >= 0.0);
        }
        let action = tactician_game::Action::from_index(want.action).unwrap();
        battle.step(action).unwrap();
    }

    // A batch answers like single requests; legal_actions is the mask by indices.
    let battles: Vec<Battle> = (0..5)
        .map(|s| Battle::new(s, GameConfig::default()))
        .collect();
    let requests: Vec<Value> = battles
        .iter()
        .map(|b| {
            let (x, legal) = features_of(b);
            let idx: Vec<usize> = (0..NUM_ACTIONS).filter(|&i| legal[i]).collect();
            json!({"features": x, "legal_actions": idx})
        })
        .collect();
    let (status, batch) = c.json("POST", "/v1/act/batch", &json!({"requests": requests}));
    assert_eq!(status, 200, "{batch}");
    for (i, r) in requests.iter().enumerate() {
        let (_, one) = c.json("POST", "/v1/act", r);
        assert_eq!(batch["decisions"][i]["action"], one["action"], "{i}");
    }

    // A binary row (little-endian f32 features, one byte per action) decides the same.
    for (b, r) in battles.iter().zip(batch["decisions"].as_array().unwrap()) {
        let (x, legal) = features_of(b);
        let mut row: Vec<u8> = x.iter().flat_map(|v| v.to_le_bytes()).collect();
        row.extend(legal.iter().map(|&l| u8::from(l)));
        let (status, answer) = c
            .conn
            .send_typed("POST", "/v1/act", tactician_serve::server::BINARY_ROW, &row)
            .unwrap();
        let answer: Value = serde_json::from_slice(&answer).unwrap();
        assert_eq!((status, &answer["action"]), (200, &r["action"]), "{answer}");
        row.pop();
        let (status, answer) = c
            .conn
            .send_typed("POST", "/v1/act", tactician_serve::server::BINARY_ROW, &row)
            .unwrap();
        let answer: Value = serde_json::from_slice(&answer).unwrap();
        assert_eq!(
            (status, answer["kind"].as_str()),
            (400, Some("bad_features"))
        );
    }

    // The Unix socket serves the same.
    let s = UnixStream::connect(state.join("serve.sock")).unwrap();
    let mut u = Client { conn: Conn::new(s) };
    let (status, one) = u.json("POST", "/v1/act", &requests[0]);
    assert_eq!(
        (status, &one["action"]),
        (200, &batch["decisions"][0]["action"])
    );

    // The battle's result is counted against the model that played it.
    let (status, r) = c.json(
        "POST",
        "/v1/battles/b-7/result",
        &json!({"result": "win", "agreement": {"agreed": 15, "total": 20}}),
    );
    assert_eq!((status, &r["model_version"]), (200, &json!("1.0.0")));
    let (_, metrics) = c.send("GET", "/metrics", b"");
    for line in [
        "tactician_battles_total{version=\"1.0.0\",result=\"win\"} 1",
        "tactician_decision_agreement_total{version=\"1.0.0\",agreed=\"true\"} 15",
        "tactician_decision_agreement_total{version=\"1.0.0\",agreed=\"false\"} 5",
        "tactician_requests_total{endpoint=\"act_batch\",code=\"200\"} 1",
    ] {
        assert!(metrics.contains(line), "no {line} in\n{metrics}");
    }
    running.stop();
    assert!(!state.join("serve.sock").exists());
}

#[test]
fn bad_requests_get_clear_answers_and_disturb_nobody() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path();
    let running = server(state, None);
    let mut c = tcp(running.tcp.unwrap());
    // No model yet.
    let (status, body) = c.json(
        "POST",
        "/v1/act",
        &json!({"features": [1.0], "legal": [true]}),
    );
    assert_eq!(
        (status, body["kind"].as_str()),
        (503, Some("no_model")),
        "{body}"
    );
    assert_eq!(c.json("GET", "/healthz", &Value::Null).0, 503);
    install(state, "1.0.0", 1, 5.0);
    activate(state, "1.0.0");
    let start = Instant::now();
    while c.json("GET", "/healthz", &Value::Null).0 != 200 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the model never came"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let n = SkirmishEncoder::feature_spec().num_features();
    let good = json!({"features": vec![0.5; n], "legal": vec![true; NUM_ACTIONS]});
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("/v1/act", b"{not json".to_vec(), 400, "bad_json"),
        (
            "/v1/act",
            b"{\"features\": [NaN]}".to_vec(),
            400,
            "bad_json",
        ),
        (
            "/v1/act",
            b"{\"features\": [1], \"legal\": [true], \"extra\": 1}".to_vec(),
            400,
            "bad_json",
        ),
        (
            "/v1/act",
            json!({"features": [1.0, 2.0], "legal": [true]})
                .to_string()
                .into_bytes(),
            400,
            "bad_features",
        ),
        (
            "/v1/act",
            json!({"features": vec![1e39; n], "legal": vec![true; NUM_ACTIONS]})
                .to_string()
                .into_bytes(),
            400,
            "bad_features",
        ),
        (
            "/v1/act",
            json!({"features": vec![0.0; n], "legal": vec![false; NUM_ACTIONS]})
                .to_string()
                .into_bytes(),
            400,
            "no_legal_action",
        ),
        (
            "/v1/act",
            json!({"features": vec![0.0; n], "legal_actions": [99]})
                .to_string()
                .into_bytes(),
            400,
            "bad_mask",
        ),
        (
            "/v1/act",
            json!({"features": vec![0.0; n]}).to_string().into_bytes(),
            400,
            "bad_mask",
        ),
        (
            "/v1/act",
            json!({}).to_string().into_bytes(),
            400,
            "bad_request",
        ),
        ("/v1/act", vec![b' '; 100 * 1024], 413, "too_large"),
        (
            "/v1/act/batch",
            json!({"requests": []}).to_string().into_bytes(),
            400,
            "bad_batch",
        ),
        (
            "/v1/battles/nobody/result",
            json!({"result": "win"}).to_string().into_bytes(),
            404,
            "unknown_battle",
        ),
        (
            "/v1/battles/x/result",
            json!({"result": "maybe"}).to_string().into_bytes(),
            400,
            "bad_result",
        ),
        ("/v2/anything", b"{}".to_vec(), 404, "not_found"),
    ];
    for (path, body, want, kind) in cases {
        // A fresh connection each: a refused body may close the connection.
        let mut c = tcp(running.tcp.unwrap());
        let (status, text) = c.send("POST", path, &body);
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        assert_eq!(
            (status, v["kind"].as_str()),
            (want, Some(kind)),
            "{path}: {text}"
        );
        assert!(!v["error"].as_str().unwrap_or("").is_empty(), "{text}");
        // The others are not disturbed.
        let (status, _) = tcp(running.tcp.unwrap()).json("POST", "/v1/act", &good);
        assert_eq!(status, 200);
    }
    // A state that is not a valid battle.
    let mut battle = Battle::new(1, GameConfig::default());
    let setup = battle.setup();
    let mut snap = battle.snapshot();
    snap.units.pop();
    let (status, body) = c.json(
        "POST",
        "/v1/act",
        &json!({"state": {"setup": setup, "snapshot": snap}}),
    );
    assert_eq!(
        (status, body["kind"].as_str()),
        (400, Some("bad_state")),
        "{body}"
    );
    battle.step(tactician_game::Action::Wait).unwrap();
}

fn promtool_check(text: &str) {
    let found = Command::new("promtool").arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs promtool (Debian package prometheus)"
        );
        eprintln!("skipping promtool: not installed (Debian package prometheus)");
        return;
    }
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool refuses the metrics: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A sysfs tree under `root` with a `cpu-thermal` zone at `milli_celsius` and the Pi firmware's
/// `get_throttled` flags.
fn fake_sysfs(root: &Path, milli_celsius: &str, throttled: &str) -> std::path::PathBuf {
    let zone = root.join("sys/class/thermal/thermal_zone0");
    std::fs::create_dir_all(&zone).unwrap();
    std::fs::write(zone.join("type"), "cpu-thermal\n").unwrap();
    std::fs::write(zone.join("temp"), format!("{milli_celsius}\n")).unwrap();
    let fw = root.join("sys/devices/platform/soc/soc:firmware");
    std::fs::create_dir_all(&fw).unwrap();
    std::fs::write(fw.join("get_throttled"), format!("{throttled}\n")).unwrap();
    root.to_path_buf()
}

#[test]
fn metrics_read_a_fake_sysfs_and_pass_promtool() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    // Throttled now, under-voltage since boot.
    let sys = fake_sysfs(&tmp.path().join("root"), "61250", "0x10004");
    // A tiny baseline: every decision is "degraded".
    install(&state, "1.0.0", 1, 0.001);
    activate(&state, "1.0.0");
    let running = server(&state, Some(&sys));
    let mut c = tcp(running.tcp.unwrap());
    let n = SkirmishEncoder::feature_spec().num_features();
    for i in 0..40 {
        let body = json!({"features": vec![i as f32 * 0.01; n], "legal": vec![true; NUM_ACTIONS]});
        assert_eq!(c.json("POST", "/v1/act", &body).0, 200);
    }
    std::thread::sleep(Duration::from_millis(100));
    let (status, text) = c.send("GET", "/metrics", b"");
    assert_eq!(status, 200);
    for line in [
        "tactician_thermal_zone_temp_celsius{zone=\"0\",type=\"cpu-thermal\"} 61.25",
        "tactician_firmware_throttled{condition=\"throttled\",when=\"now\"} 1",
        "tactician_firmware_throttled{condition=\"under_voltage\",when=\"since_boot\"} 1",
        "tactician_firmware_throttled{condition=\"under_voltage\",when=\"now\"} 0",
        "tactician_model_info{version=\"1.0.0\",encoder=\"",
        "tactician_decision_duration_seconds_count{throttled=\"true\"} 40",
        "tactician_latency_degraded 1",
        "process_resident_memory_bytes ",
        "process_cpu_seconds_total ",
    ] {
        assert!(text.contains(line), "no {line} in\n{text}");
    }
    promtool_check(&text);

    // A machine without the entries: no such metrics, no error.
    std::fs::remove_dir_all(sys.join("sys")).unwrap();
    let (_, text) = c.send("GET", "/metrics", b"");
    assert!(
        !text.contains("tactician_thermal_zone_temp_celsius{"),
        "{text}"
    );
    assert!(!text.contains("tactician_firmware_throttled{"), "{text}");
    promtool_check(&text);
}

/// Concurrent clients while the agent activates 1.1.0 and then rolls back to 1.0.0: no request
/// fails, both versions answer, the switches are counted.
#[test]
fn a_model_switch_under_load_fails_no_request() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().to_path_buf();
    install(&state, "1.0.0", 1, 5.0);
    install(&state, "1.1.0", 2, 5.0);
    activate(&state, "1.0.0");
    let running = server(&state, None);
    let addr = running.tcp.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let n = SkirmishEncoder::feature_spec().num_features();
    let clients: Vec<_> = (0..4)
        .map(|t| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut c = tcp(addr);
                let mut seen = std::collections::BTreeMap::<String, u64>::new();
                let (mut failed, mut latencies) = (0u64, Vec::new());
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let body = json!({
                        "features": vec![((i + t) % 7) as f32 * 0.1; n],
                        "legal": vec![true; NUM_ACTIONS],
                    });
                    let start = Instant::now();
                    let (status, v) = c.json("POST", "/v1/act", &body);
                    latencies.push(start.elapsed().as_secs_f64());
                    if status == 200 {
                        *seen
                            .entry(v["model_version"].as_str().unwrap().to_string())
                            .or_default() += 1;
                    } else {
                        failed += 1;
                    }
                    i += 1;
                }
                (seen, failed, latencies)
            })
        })
        .collect();
    let wait_for = |v: &str| {
        let start = Instant::now();
        while running.shared.model().map(|m| m.version.clone()).as_deref() != Some(v) {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{v} never served"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    std::thread::sleep(Duration::from_millis(200));
    activate(&state, "1.1.0");
    wait_for("1.1.0");
    activate(&state, "1.0.0");
    wait_for("1.0.0");
    stop.store(true, Ordering::Relaxed);
    let mut total = std::collections::BTreeMap::<String, u64>::new();
    let (mut failed, mut latencies) = (0, Vec::new());
    for c in clients {
        let (seen, f, l) = c.join().unwrap();
        for (k, v) in seen {
            *total.entry(k).or_default() += v;
        }
        failed += f;
        latencies.extend(l);
    }
    latencies.sort_by(f64::total_cmp);
    let p = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize] * 1e6;
    println!(
        "{} requests by 4 clients during an activation and a rollback: {failed} failed, \
         answered by {total:?}; p50 {:.0} µs, p99 {:.0} µs",
        latencies.len(),
        p(0.5),
        p(0.99)
    );
    assert_eq!(failed, 0);
    assert!(
        total.get("1.0.0").is_some_and(|&n| n > 0) && total.get("1.1.0").is_some_and(|&n| n > 0),
        "{total:?}"
    );
    let mut c = tcp(addr);
    let (_, text) = c.send("GET", "/metrics", b"");
    for line in [
        "tactician_model_switches_total{kind=\"activation\"} 1",
        "tactician_model_switches_total{kind=\"rollback\"} 1",
    ] {
        assert!(text.contains(line), "no {line} in\n{text}");
    }
}

/// A client that sends its body one byte at a time gets a 408 once the deadline passes, while
/// other clients are served as usual.
#[test]
fn a_slow_client_times_out_without_holding_up_others() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path();
    install(state, "1.0.0", 1, 5.0);
    activate(state, "1.0.0");
    let running = server(state, None);
    let addr = running.tcp.unwrap();
    let slow = std::thread::spawn(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(b"POST /v1/act HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
            .unwrap();
        let start = Instant::now();
        // One byte every 50 ms: 1000 bytes would take 50 s.
        while start.elapsed() < Duration::from_secs(3) {
            if s.write_all(b" ").is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        (answer, start.elapsed())
    });
    let n = SkirmishEncoder::feature_spec().num_features();
    let body = json!({"features": vec![0.1; n], "legal": vec![true; NUM_ACTIONS]});
    let mut c = tcp(addr);
    let start = Instant::now();
    let mut served = 0;
    while start.elapsed() < Duration::from_millis(400) {
        assert_eq!(c.json("POST", "/v1/act", &body).0, 200);
        served += 1;
    }
    let (answer, took) = slow.join().unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"kind\":\"timeout\""), "{answer}");
    assert!(
        took < Duration::from_secs(3),
        "the slow client was held {took:?}"
    );
    assert!(served > 10, "{served} requests served meanwhile");
}

/// Every metric the shipped Grafana dashboard queries is one the server exports.
#[test]
fn the_grafana_dashboard_queries_metrics_the_server_exports() {
    let dashboard: Value =
        serde_json::from_str(include_str!("../../../docs/grafana/tactician-device.json")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let sys = fake_sysfs(&tmp.path().join("root"), "50000", "0x0");
    install(&state, "1.0.0", 1, 5.0);
    install(&state, "1.1.0", 2, 5.0);
    activate(&state, "1.0.0");
    let running = server(&state, Some(&sys));
    let mut c = tcp(running.tcp.unwrap());
    // Traffic that fills every family: decisions, a refusal, a battle with agreement, a switch.
    let n = SkirmishEncoder::feature_spec().num_features();
    let body =
        json!({"features": vec![0.2; n], "legal": vec![true; NUM_ACTIONS], "battle_id": "g"});
    assert_eq!(c.json("POST", "/v1/act", &body).0, 200);
    assert_eq!(c.json("POST", "/v1/act", &json!({})).0, 400);
    let result = json!({"result": "draw", "agreement": {"agreed": 1, "total": 1}});
    assert_eq!(c.json("POST", "/v1/battles/g/result", &result).0, 200);
    activate(&state, "1.1.0");
    let start = Instant::now();
    while running.shared.model().unwrap().version != "1.1.0" {
        assert!(start.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(5));
    }
    let (_, text) = c.send("GET", "/metrics", b"");
    let exported: std::collections::BTreeSet<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .collect();
    let mut queried = std::collections::BTreeSet::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if word.starts_with("tactician_") || word.starts_with("process_") {
                    queried.insert(word.to_string());
                }
            }
        }
    }
    assert!(queried.len() >= 12, "{queried:?}");
    for name in &queried {
        assert!(
            exported.contains(name.as_str()),
            "the dashboard queries {name}, which the server does not export: {exported:?}"
        );
    }
}

/// The server keeps a bounded history of samples and the last errors in the state folder.
#[test]
fn the_history_of_samples_and_errors_is_kept_in_the_state_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path();
    install(state, "1.0.0", 1, 5.0);
    activate(state, "1.0.0");
    let mut config = ServeConfig::new(state);
    config.poll = Duration::from_millis(10);
    config.sample_every = Duration::from_millis(30);
    config.history_len = 5;
    let listen = Listen {
        tcp: Some("127.0.0.1:0".parse().unwrap()),
        socket: None,
    };
    let running = start(config, &listen, 2).unwrap();
    let mut c = tcp(running.tcp.unwrap());
    let n = SkirmishEncoder::feature_spec().num_features();
    let body = json!({"features": vec![0.3; n], "legal": vec![true; NUM_ACTIONS]});
    let start_at = Instant::now();
    while start_at.elapsed() < Duration::from_millis(400) {
        assert_eq!(c.json("POST", "/v1/act", &body).0, 200);
    }
    assert_eq!(
        c.json("POST", "/v1/act", &json!({"features": [1.0]})).0,
        400
    );
    std::thread::sleep(Duration::from_millis(100));
    let status = tactician_serve::history::ServeStatus::load(state).expect("no status file");
    assert_eq!(status.model_version.as_deref(), Some("1.0.0"));
    assert_eq!(status.samples.len(), 5, "bounded to history_len");
    assert!(status.samples.iter().any(|s| s.decisions > 0), "{status:?}");
    assert!(
        status.samples.iter().any(|s| s.p50_us.is_some()),
        "{status:?}"
    );
    assert!(
        status.samples.iter().all(|s| s.rss_bytes.is_some()),
        "{status:?}"
    );
    assert_eq!(status.errors.len(), 1);
    assert_eq!(status.errors[0].kind, "bad_mask");
    assert!(
        status.to_text().contains("decision p50"),
        "{}",
        status.to_text()
    );
}

/// Battles played through the API (the device on one side, a scripted strategy on the other)
/// and reported with their seed and actions become battle log records the game's replay
/// accepts, with the device's agreement computed from the decisions it served.
#[test]
fn reported_battles_become_battle_logs() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path();
    install(state, "1.0.0", 1, 5.0);
    activate(state, "1.0.0");
    let running = server(state, None);
    let mut c = tcp(running.tcp.unwrap());
    for seed in 0..4u64 {
        let device_side = (seed % 2) as u8;
        let id = format!("battle-{seed}");
        let mut battle = Battle::new(seed, GameConfig::default());
        let mut them = tactician_game::strategy::by_name("aggressive", seed).unwrap();
        let mut actions = Vec::new();
        while let Some(actor) = battle.actor() {
            let action = if actor.side() == device_side {
                let req = json!({
                    "state": {"setup": battle.setup(), "snapshot": battle.snapshot()},
                    "battle_id": id,
                });
                let (status, d) = c.json("POST", "/v1/act", &req);
                assert_eq!(status, 200, "{d}");
                tactician_game::Action::from_index(d["action"].as_u64().unwrap() as usize).unwrap()
            } else {
                them.choose(&battle, battle.legal())
            };
            actions.push(action.index() as u32);
            battle.step(action).unwrap();
        }
        let result = match battle.outcome().unwrap().winner {
            None => "draw",
            Some(w) if w == device_side => "win",
            Some(_) => "loss",
        };
        // A wrong result or a cut action list is refused, and nothing is logged for it.
        let wrong = if result == "win" { "loss" } else { "win" };
        let body =
            json!({"result": wrong, "seed": seed, "actions": actions, "device_side": device_side});
        let (status, r) = c.json("POST", &format!("/v1/battles/{id}/result"), &body);
        assert_eq!(
            (status, r["kind"].as_str()),
            (400, Some("bad_result")),
            "{r}"
        );
        let cut = &actions[..actions.len() - 1];
        let body =
            json!({"result": result, "seed": seed, "actions": cut, "device_side": device_side});
        let (status, r) = c.json("POST", &format!("/v1/battles/{id}/result"), &body);
        assert_eq!(
            (status, r["kind"].as_str()),
            (400, Some("bad_battle")),
            "{r}"
        );
        let body =
            json!({"result": result, "seed": seed, "actions": actions, "device_side": device_side});
        let (status, r) = c.json("POST", &format!("/v1/battles/{id}/result"), &body);
        assert_eq!(status, 200, "{r}");
        assert_eq!(r["logged"], true);
        // The game played every served decision: full agreement.
        assert_eq!(r["agreement"]["agreed"], r["agreement"]["total"], "{r}");
        assert!(r["agreement"]["total"].as_u64().unwrap() > 0);
    }
    let files = tactician_serve::battlelog::parts(&state.join("battles"));
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(&files[0].0).unwrap();
    assert_eq!(text.lines().count(), 4);
    for (seed, line) in text.lines().enumerate() {
        let rec: tactician_game::record::SkirmishRecord = serde_json::from_str(line).unwrap();
        assert_eq!(rec.seed, seed as u64);
        let names: Vec<_> = rec
            .sides
            .iter()
            .map(|s| s.strategy.clone().unwrap())
            .collect();
        assert_eq!(names[seed % 2], "tactician-device", "{names:?}");
        tactician_game::record::replay(&rec).unwrap();
    }
}
