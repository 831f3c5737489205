//! Battles played through a device's decision server flow back: the game reports each battle's
//! seed and actions, the device keeps them as battle logs, `tactician pull` brings them from
//! the state folder and over HTTP, and `tactician ingest` learns from them.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};
use tactician_export::{ExportOptions, Precision, export};
use tactician_formats::model::{Activation, Mlp, ModelJson};
use tactician_game::{ACTION_NAMES, Action, Battle, GameConfig, NUM_ACTIONS, SkirmishEncoder};
use tactician_serve::client::tcp;
use tactician_serve::server::{Listen, ServeConfig, start};

fn tactician(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tactician"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// A device state folder with a random network of the built-in game active.
fn device(state: &Path) {
    let spec = SkirmishEncoder::feature_spec();
    let mut meta = ModelJson::new(
        spec.num_features(),
        vec![16],
        Activation::Relu,
        NUM_ACTIONS,
        true,
        spec.hash(),
    );
    meta.action_names = ACTION_NAMES.iter().map(|s| s.to_string()).collect();
    let bytes = export(
        &Mlp::random(meta, 3),
        &ExportOptions::new(Precision::Float32),
    )
    .unwrap();
    let dir = state.join("models/1.0.0");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("model.tflite"), bytes).unwrap();
    std::os::unix::fs::symlink("models/1.0.0", state.join("current")).unwrap();
}

#[test]
fn battles_served_on_a_device_are_pulled_and_ingested() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("device");
    device(&state);
    let running = start(
        ServeConfig::new(&state),
        &Listen {
            tcp: Some("127.0.0.1:0".parse().unwrap()),
            socket: None,
        },
        1,
    )
    .unwrap();
    let addr = running.tcp.unwrap();
    let mut c = tcp(addr).unwrap();
    let battles = 3u64;
    for seed in 0..battles {
        let id = format!("b{seed}");
        let mut battle = Battle::new(seed, GameConfig::default());
        let mut them = tactician_game::strategy::by_name("defensive", seed).unwrap();
        let mut actions = Vec::new();
        while let Some(actor) = battle.actor() {
            let action = if actor.side() == 0 {
                let req = json!({
                    "state": {"setup": battle.setup(), "snapshot": battle.snapshot()},
                    "battle_id": id,
                });
                let (status, d) = c.json("POST", "/v1/act", &req).unwrap();
                assert_eq!(status, 200, "{d}");
                Action::from_index(d["action"].as_u64().unwrap() as usize).unwrap()
            } else {
                them.choose(&battle, battle.legal())
            };
            actions.push(action.index());
            battle.step(action).unwrap();
        }
        let result = match battle.outcome().unwrap().winner {
            None => "draw",
            Some(0) => "win",
            Some(_) => "loss",
        };
        let body = json!({"result": result, "seed": seed, "actions": actions, "device_side": 0});
        let (status, r) = c
            .json("POST", &format!("/v1/battles/{id}/result"), &body)
            .unwrap();
        assert_eq!((status, &r["logged"]), (200, &json!(true)), "{r}");
    }

    // From the state folder and from the server: the same files.
    let by_folder = tmp.path().join("pulled");
    let by_http = tmp.path().join("pulled-http");
    let o = tactician(&[
        "pull",
        state.to_str().unwrap(),
        "--out",
        by_folder.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["records"], battles, "{report}");
    let url = format!("http://{addr}");
    let o = tactician(&["pull", &url, "--out", by_http.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let a = std::fs::read(by_folder.join("part-00000.jsonl")).unwrap();
    assert_eq!(a, std::fs::read(by_http.join("part-00000.jsonl")).unwrap());
    running.stop();

    // Ingest learns from them: every battle accepted, none quarantined.
    let ds = tmp.path().join("dataset");
    let o = tactician(&[
        "ingest",
        "-q",
        "--out",
        ds.to_str().unwrap(),
        by_folder.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["records"], battles, "{report}");
    assert_eq!(report["quarantined"], 0, "{report}");

    // A device without logs: a clear error.
    let o = tactician(&[
        "pull",
        tmp.path().to_str().unwrap(),
        "--out",
        by_folder.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("holds no battle logs"));
}
