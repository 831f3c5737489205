//! The device agent fetching the repository over HTTP, from a real server on a loopback port
//! (Python's `http.server`): it installs what verifies, refuses a changed byte and a longer
//! file than signed as it does from a folder, and keeps its model when the server is gone.
//!
//! Needs `python3` (or `TACTICIAN_PYTHON`). Under CI a missing one fails the test; elsewhere
//! it is skipped.

mod common;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use tactician_agent::fs::OsFs;
use tactician_agent::{AgentConfig, Outcome};

fn python() -> Option<PathBuf> {
    let py = std::env::var_os("TACTICIAN_PYTHON").map_or_else(|| "python3".into(), PathBuf::from);
    match Command::new(&py).arg("--version").output() {
        Ok(o) if o.status.success() => Some(py),
        other => {
            let why = format!("no Python ({}): {other:?}", py.display());
            assert!(std::env::var_os("CI").is_none(), "{why}");
            eprintln!("skipping: {why}");
            None
        }
    }
}

/// `python -m http.server` serving `dir` on 127.0.0.1; killed on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(py: &Path, dir: &Path) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(py)
            .args(["-m", "http.server", "--bind", "127.0.0.1", "--directory"])
            .arg(dir)
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "http.server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Server { child, port }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The stored file of target `suffix` (e.g. `arena~1.0.1~model.tflite.age`).
fn target_file(repo: &Path, suffix: &str) -> PathBuf {
    std::fs::read_dir(repo.join("targets"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(&format!(".{suffix}")))
        .unwrap_or_else(|| panic!("no target {suffix}"))
}

#[test]
fn the_agent_updates_over_http_and_refuses_what_does_not_verify() {
    let Some(py) = python() else { return };
    let s = Setup::new();
    let server = Server::start(&py, &s.repository());
    let mut config = AgentConfig::load(&OsFs, &s.state).unwrap();
    config.repository = server.url();
    config.save(&OsFs, &s.state).unwrap();

    s.publish("1.0.0", Some("production"));
    let out = s.update().unwrap();
    assert!(
        matches!(&out, Outcome::Activated { version, .. } if version == "1.0.0"),
        "{out:?}"
    );
    assert!(matches!(s.update().unwrap(), Outcome::UpToDate { .. }));

    // A byte changed in the served model, then the model served longer than signed.
    s.publish("1.0.1", Some("production"));
    let model = target_file(&s.repository(), &format!("{GROUP}~1.0.1~model.tflite.age"));
    let good = std::fs::read(&model).unwrap();
    let mut flipped = good.clone();
    flipped[good.len() / 2] ^= 1;
    std::fs::write(&model, &flipped).unwrap();
    expect_refused(&s, &["hash", "Hash"]);
    let mut long = good.clone();
    long.extend(std::iter::repeat_n(b'x', 1 << 20));
    std::fs::write(&model, &long).unwrap();
    expect_refused(&s, &["exceeded"]);

    // Served intact, it installs.
    std::fs::write(&model, &good).unwrap();
    let out = s.update().unwrap();
    assert!(
        matches!(&out, Outcome::Activated { version, previous: Some(p), .. } if version == "1.0.1" && p == "1.0.0"),
        "{out:?}"
    );

    // The server gone: an error that says so, the model kept.
    drop(server);
    let err = s.update().unwrap_err().to_string();
    assert!(
        err.contains("127.0.0.1") || err.to_lowercase().contains("connect"),
        "{err}"
    );
    assert_eq!(assert_consistent(&s.state).as_deref(), Some("1.0.1"));
}
