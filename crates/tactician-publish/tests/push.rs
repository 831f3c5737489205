//! Mirroring the repository to a device over SSH, against a real `sshd` started on a loopback
//! port with keys made for the test: the device installs what a complete push brings, nothing
//! from an interrupted one, and its history comes back into the registry.
//!
//! Needs OpenSSH's server and rsync (Debian: `openssh-server rsync`, installed by CI). Where
//! they are missing the tests say so and pass, except under CI (`CI` set), where they fail.

mod common;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use tactician_agent::fs::OsFs;
use tactician_agent::{AgentConfig, Outcome};
use tactician_publish::Error;
use tactician_publish::push::{
    SshDestination, SshOptions, import_history, push, push_content, read_remote,
    remote_history_path, remote_identity_path,
};
use tactician_registry::Registry;

fn find_sshd() -> Option<PathBuf> {
    let from_env = std::env::var_os("TACTICIAN_SSHD").map(PathBuf::from);
    let candidates = from_env
        .into_iter()
        .chain(["/usr/sbin/sshd", "/usr/local/sbin/sshd", "/sbin/sshd"].map(PathBuf::from));
    let found = candidates.into_iter().find(|p| p.is_file());
    let rsync = Command::new("rsync").arg("--version").output().is_ok();
    match (found, rsync) {
        (Some(p), true) => Some(p),
        _ if std::env::var_os("CI").is_some() => {
            panic!("CI needs sshd and rsync (Debian packages openssh-server and rsync)")
        }
        _ => {
            eprintln!("skipping: no sshd or rsync on this machine (openssh-server, rsync)");
            None
        }
    }
}

/// An OpenSSH server on 127.0.0.1 with its own host key, accepting one client key for the
/// current user. Killed on drop.
struct Sshd {
    child: Child,
    port: u16,
    dir: PathBuf,
}

fn keygen(path: &Path) {
    let out = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "tactician-test",
            "-f",
        ])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

impl Sshd {
    fn start(sshd: &Path, dir: &Path) -> Sshd {
        std::fs::create_dir_all(dir).unwrap();
        keygen(&dir.join("host_key"));
        keygen(&dir.join("client_key"));
        std::fs::copy(dir.join("client_key.pub"), dir.join("authorized_keys")).unwrap();
        // The privilege-separation folder sshd needs when it runs as root.
        if is_root() {
            std::fs::create_dir_all("/run/sshd").unwrap();
        }
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let host_pub = std::fs::read_to_string(dir.join("host_key.pub")).unwrap();
        let mut words = host_pub.split_whitespace();
        let (kind, key) = (words.next().unwrap(), words.next().unwrap());
        std::fs::write(
            dir.join("known_hosts"),
            format!("[127.0.0.1]:{port} {kind} {key}\n"),
        )
        .unwrap();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\n\
             AuthorizedKeysFile {d}/authorized_keys\nPidFile {d}/sshd.pid\nStrictModes no\n\
             UsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nLogLevel ERROR\n",
            d = dir.display()
        );
        std::fs::write(dir.join("sshd_config"), config).unwrap();
        let child = Command::new(sshd)
            .args(["-D", "-e", "-f"])
            .arg(dir.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("sshd.log")).unwrap())
            .spawn()
            .unwrap();
        let s = Sshd {
            child,
            port,
            dir: dir.to_path_buf(),
        };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "sshd did not start: {}",
                std::fs::read_to_string(dir.join("sshd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        s
    }

    fn destination(&self, path: &Path) -> SshDestination {
        SshDestination::parse(&format!(
            "ssh://{}@127.0.0.1:{}{}",
            user(),
            self.port,
            path.display()
        ))
        .unwrap()
    }

    fn options(&self) -> SshOptions {
        SshOptions {
            identity: Some(self.dir.join("client_key")),
            options: vec![
                format!(
                    "UserKnownHostsFile={}",
                    self.dir.join("known_hosts").display()
                ),
                "StrictHostKeyChecking=yes".into(),
            ],
            ..SshOptions::default()
        }
    }

    /// Kills every session the server is serving (the connections drop mid-transfer); the
    /// server keeps listening.
    fn cut_sessions(&self) -> usize {
        let mut killed = 0;
        for pid in descendants(self.child.id()) {
            if Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status()
                .is_ok_and(|s| s.success())
            {
                killed += 1;
            }
        }
        killed
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.cut_sessions();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn user() -> String {
    let o = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(o.stdout).unwrap().trim().to_string()
}

/// Every process below `pid`, from /proc.
fn descendants(pid: u32) -> Vec<u32> {
    let mut parent_of: Vec<(u32, u32)> = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(p) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        if let Some(ppid) = rest.split_whitespace().nth(1).and_then(|s| s.parse().ok()) {
            parent_of.push((p, ppid));
        }
    }
    let mut found = vec![pid];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            parent_of
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    found.remove(0);
    found
}

/// Points the device at `repo`, the folder a push fills.
fn follow(state: &Path, repo: &Path) {
    let mut config = AgentConfig::load(&OsFs, state).unwrap();
    config.repository = repo.to_str().unwrap().to_string();
    config.save(&OsFs, state).unwrap();
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for sub in ["metadata", "targets"] {
        if let Ok(rd) = std::fs::read_dir(dir.join(sub)) {
            for e in rd.flatten() {
                out.push(format!("{sub}/{}", e.file_name().to_string_lossy()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_push_over_ssh_installs_and_an_interrupted_one_installs_nothing() {
    let Some(sshd_bin) = find_sshd() else { return };
    let s = Setup::new();
    let sshd = Sshd::start(&sshd_bin, &s.tmp.path().join("sshd"));
    let remote = s.tmp.path().join("pi/srv/tactician");
    follow(&s.state, &remote);
    let to = sshd.destination(&remote);
    let opts = sshd.options();
    let repo = s.deploy.repository();

    // Before any push the device has no repository: a clear error, nothing installed.
    let err = s.update().unwrap_err().to_string();
    assert!(err.contains("repository"), "{err}");
    assert_eq!(assert_consistent(&s.state), None);

    s.publish("1.0.0", Some("production"));
    let pushed = push(&repo, &to, &opts).unwrap();
    assert!(pushed.files >= 8 && pushed.bytes > 1000, "{pushed:?}");
    assert_eq!(files_under(&remote), files_under(&repo.root));
    let out = s.update().unwrap();
    assert!(
        matches!(&out, Outcome::Activated { version, .. } if version == "1.0.0"),
        "{out:?}"
    );
    // Nothing changed: nothing copied.
    let again = push(&repo, &to, &opts).unwrap();
    assert_eq!(again.files, 0, "{again:?}");

    // The device's history comes back over SSH into the registry, once.
    let state = s.state.to_str().unwrap();
    let info = read_remote(&to, &opts, &remote_identity_path(state), false)
        .unwrap()
        .unwrap();
    let info: tactician_agent::identity::DeviceInfo = serde_json::from_slice(&info).unwrap();
    assert_eq!(info.id, "pi-1");
    let history = read_remote(&to, &opts, &remote_history_path(state), false)
        .unwrap()
        .unwrap();
    let reg = Registry::open(&s.deploy.registry()).unwrap();
    let first = import_history(&reg, &info.id, &history).unwrap();
    assert!(first.added >= 1 && first.added == first.events, "{first:?}");
    assert_eq!(import_history(&reg, &info.id, &history).unwrap().added, 0);
    let deployments = reg.deployments(Some("pi-1"), Some("1.0.0")).unwrap();
    assert!(
        deployments
            .iter()
            .any(|d| d.action == "activate" && d.outcome == "ok"),
        "{deployments:?}"
    );
    // Battle logs come back the same way (`tactician pull ssh://...`).
    let logs = s.state.join("battles");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("part-00000.jsonl"), b"{\"a\":1}\n{\"a\":2}\n").unwrap();
    let pulled = s.tmp.path().join("pulled");
    let n =
        tactician_publish::push::fetch_dir(&to, &opts, logs.to_str().unwrap(), &pulled).unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        std::fs::read(pulled.join("part-00000.jsonl")).unwrap(),
        std::fs::read(logs.join("part-00000.jsonl")).unwrap()
    );
    let missing = s.tmp.path().join("pi/nothing-here.json");
    assert_eq!(
        read_remote(&to, &opts, missing.to_str().unwrap(), false).unwrap(),
        None
    );

    // A new release; the transfer is cut by the network mid-way (a slow link, every SSH
    // session killed once the first new file starts arriving).
    s.publish("1.0.1", Some("production"));
    let timestamp_before = std::fs::read(remote.join("metadata/timestamp.json")).unwrap();
    let before = files_under(&remote);
    let slow = SshOptions {
        bwlimit_kib: Some(1),
        ..opts.clone()
    };
    let worker = {
        let (repo, to) = (repo.clone(), to.clone());
        std::thread::spawn(move || push(&repo, &to, &slow))
    };
    let start = Instant::now();
    loop {
        let now = files_under(&remote);
        let arrived = now.iter().any(|f| !before.contains(f));
        if arrived || start.elapsed() > Duration::from_secs(3) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(sshd.cut_sessions() > 0, "no session to cut");
    let err = worker.join().unwrap().unwrap_err();
    assert!(matches!(err, Error::Transfer { .. }), "{err}");
    assert_eq!(
        std::fs::read(remote.join("metadata/timestamp.json")).unwrap(),
        timestamp_before,
        "an interrupted push changed the timestamp"
    );
    let out = s.update().unwrap();
    assert!(matches!(out, Outcome::UpToDate { .. }), "{out:?}");
    assert_eq!(assert_consistent(&s.state).as_deref(), Some("1.0.0"));

    // Interrupted right before the timestamp: every new file there, still nothing installed.
    push_content(&repo, &to, &opts).unwrap();
    assert_eq!(
        std::fs::read(remote.join("metadata/timestamp.json")).unwrap(),
        timestamp_before
    );
    let out = s.update().unwrap();
    assert!(matches!(out, Outcome::UpToDate { .. }), "{out:?}");

    // The next complete push installs the release.
    let pushed = push(&repo, &to, &opts).unwrap();
    assert!(pushed.files >= 1, "{pushed:?}");
    let out = s.update().unwrap();
    assert!(
        matches!(&out, Outcome::Activated { version, .. } if version == "1.0.1"),
        "{out:?}"
    );
    assert_eq!(assert_consistent(&s.state).as_deref(), Some("1.0.1"));
    let history = read_remote(&to, &opts, &remote_history_path(state), false)
        .unwrap()
        .unwrap();
    assert!(import_history(&reg, "pi-1", &history).unwrap().added >= 1);
}

#[test]
fn push_failures_say_why() {
    let Some(sshd_bin) = find_sshd() else { return };
    let s = Setup::new();
    let sshd = Sshd::start(&sshd_bin, &s.tmp.path().join("sshd"));
    let remote = s.tmp.path().join("pi/repo");
    let repo = s.deploy.repository();
    s.publish("1.0.0", Some("production"));

    // A key the server does not accept.
    let stranger = s.tmp.path().join("stranger");
    keygen(&stranger);
    let opts = SshOptions {
        identity: Some(stranger),
        ..sshd.options()
    };
    let err = push(&repo, &sshd.destination(&remote), &opts)
        .unwrap_err()
        .to_string();
    assert!(err.contains("Permission denied"), "{err}");

    // A host key that is not the known one.
    let known = std::fs::read(sshd.dir.join("known_hosts")).unwrap();
    std::fs::write(
        sshd.dir.join("known_hosts"),
        format!(
            "[127.0.0.1]:{} {}",
            sshd.port,
            std::fs::read_to_string(sshd.dir.join("client_key.pub")).unwrap()
        ),
    )
    .unwrap();
    let err = push(&repo, &sshd.destination(&remote), &sshd.options())
        .unwrap_err()
        .to_string();
    assert!(err.contains("Host key verification failed"), "{err}");
    assert!(!remote.exists());

    // Nobody listening.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let to = SshDestination::parse(&format!("ssh://127.0.0.1:{port}/srv/x")).unwrap();
    let err = push(&repo, &to, &sshd.options()).unwrap_err().to_string();
    assert!(err.contains("Connection refused"), "{err}");

    // No rsync.
    let opts = SshOptions {
        rsync: Some(PathBuf::from("/nonexistent/rsync")),
        ..sshd.options()
    };
    std::fs::write(sshd.dir.join("known_hosts"), known).unwrap();
    let err = push(&repo, &sshd.destination(&remote), &opts)
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent/rsync is not installed"), "{err}");

    // No repository.
    let empty = tactician_publish::repo::RepoDirs::new(&s.tmp.path().join("nothing"));
    let err = push(&empty, &sshd.destination(&remote), &sshd.options())
        .unwrap_err()
        .to_string();
    assert!(err.contains("keys init"), "{err}");
}
