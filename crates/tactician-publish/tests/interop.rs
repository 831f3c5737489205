//! The reference TUF client, python-tuf's `ngclient`, refreshes our repository over HTTP from
//! its root and downloads and verifies a target: the repository is standard TUF, not a dialect
//! only our agent reads. It also refuses our repository after a byte of the served targets
//! metadata changes. The other way round, our client refreshes a repository that python-tuf's
//! metadata API wrote and signed (with securesystemslib's signer), and fetches and verifies its
//! targets and their custom metadata.
//!
//! Needs a Python with `tuf`: `TACTICIAN_PYTHON` (set by `./scripts/test`), else `python3`.
//! Under CI a missing one fails the test; elsewhere it is skipped.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;

/// Serves the repository on a loopback port (http.server), refreshes with ngclient, downloads
/// one target, prints what it saw as JSON.
const CLIENT: &str = r#"
import functools, http.server, json, os, sys, threading
from tuf.ngclient import Updater
repo, root, work, name = sys.argv[1:5]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=repo)
handler.log_message = lambda *a: None
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
threading.Thread(target=srv.serve_forever, daemon=True).start()
base = "http://127.0.0.1:%d" % srv.server_port
meta = os.path.join(work, "metadata"); os.makedirs(meta, exist_ok=True)
dl = os.path.join(work, "downloads"); os.makedirs(dl, exist_ok=True)
out = {}
try:
    u = Updater(metadata_dir=meta, metadata_base_url=base + "/metadata/",
                target_base_url=base + "/targets/", target_dir=dl,
                bootstrap=open(root, "rb").read())
    u.refresh()
    info = u.get_targetinfo(name)
    path = u.download_target(info)
    out = {"ok": True, "length": info.length, "custom": info.custom,
           "bytes": os.path.getsize(path),
           "versions": {r: getattr(u._trusted_set, r).version
                        for r in ("root", "timestamp", "snapshot", "targets")}}
except Exception as e:
    out = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
srv.shutdown()
print(json.dumps(out))
"#;

fn python() -> Option<PathBuf> {
    let py = std::env::var_os("TACTICIAN_PYTHON").map_or_else(|| "python3".into(), PathBuf::from);
    match Command::new(&py)
        .args([
            "-c",
            "import tuf.ngclient, tuf.api.metadata, securesystemslib.signer, cryptography",
        ])
        .output()
    {
        Ok(o) if o.status.success() => Some(py),
        other => {
            let why = format!("no Python with python-tuf ({}): {other:?}", py.display());
            assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
            eprintln!("skipping: {why}");
            None
        }
    }
}

fn ngclient(py: &PathBuf, s: &Setup, work: &str, target: &str) -> serde_json::Value {
    let o = Command::new(py)
        .arg("-c")
        .arg(CLIENT)
        .arg(s.repository())
        .arg(s.repository().join("metadata").join("1.root.json"))
        .arg(s.tmp.path().join(work))
        .arg(target)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn python_tuf_refreshes_our_repository_and_verifies_a_target() {
    let Some(py) = python() else { return };
    let s = Setup::new();
    s.publish("1.0.0", Some("production"));
    let p = s.publish("1.1.0", Some("production"));
    // Walk a root rotation too: ngclient must follow 1.root.json -> 2.root.json.
    let new = tactician_publish::keys::generate(&tactician_publish::keys::key_path(
        &s.deploy.keys(),
        tough::schema::RoleType::Timestamp,
        2,
    ))
    .unwrap();
    tactician_publish::rotate(
        &s.deploy,
        tough::schema::RoleType::Timestamp,
        &[new],
        1,
        tactician_publish::Expiry::default(),
        jiff::Timestamp::now(),
    )
    .unwrap();
    tactician_publish::refresh(
        &s.deploy,
        tactician_publish::Expiry::default(),
        jiff::Timestamp::now(),
    )
    .unwrap();

    let model = &p.targets[0];
    let seen = ngclient(&py, &s, "ok", model);
    assert_eq!(seen["ok"], true, "{seen}");
    assert_eq!(seen["versions"]["root"], 2, "{seen}");
    assert_eq!(seen["custom"]["release"]["version"], "1.1.0", "{seen}");
    assert_eq!(seen["custom"]["kind"], "model");
    assert_eq!(seen["length"], seen["bytes"]);
    let channels = ngclient(&py, &s, "channels", &format!("{GROUP}~channels.json"));
    assert_eq!(channels["ok"], true, "{channels}");

    // A changed byte in the served targets metadata: the reference client refuses too.
    let meta = s.repository().join("metadata");
    let current = std::fs::read_dir(&meta)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".targets.json"))
        .max_by_key(|n| n.split('.').next().unwrap().parse::<u64>().unwrap())
        .unwrap();
    let path = meta.join(&current);
    let mut bytes = std::fs::read(&path).unwrap();
    let i = bytes.len() / 2;
    bytes[i] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let refused = ngclient(&py, &s, "flipped", model);
    assert_eq!(refused["ok"], false, "{refused}");
}

/// Writes a repository with python-tuf's metadata API: fresh Ed25519 keys for the four roles,
/// consistent snapshots, the given targets (name, file, custom metadata), signed; prints the
/// root's bytes' path.
const WRITER: &str = r#"
import datetime, hashlib, json, os, sys
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import Metadata, MetaFile, Root, Snapshot, TargetFile, Targets, Timestamp
from tuf.api.serialization.json import JSONSerializer
out, spec = sys.argv[1], json.loads(sys.argv[2])
os.makedirs(out + "/metadata"); os.makedirs(out + "/targets")
exp = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=7)).replace(microsecond=0)
roles = ["root", "targets", "snapshot", "timestamp"]
signers = {r: CryptoSigner.generate_ed25519() for r in roles}
ser = JSONSerializer(compact=False)
root = Metadata(Root(expires=exp, consistent_snapshot=True))
for r in roles:
    root.signed.add_key(signers[r].public_key, r)
targets = Metadata(Targets(expires=exp))
for t in spec:
    data = open(t["path"], "rb").read()
    tf = TargetFile.from_data(t["name"], data, ["sha256"])
    tf.unrecognized_fields["custom"] = t["custom"]
    targets.signed.targets[t["name"]] = tf
    open("%s/targets/%s.%s" % (out, tf.hashes["sha256"], t["name"]), "wb").write(data)
def meta(md):
    b = md.to_bytes(ser)
    return MetaFile(version=md.signed.version, length=len(b),
                    hashes={"sha256": hashlib.sha256(b).hexdigest()})
for md, r in [(root, "root"), (targets, "targets")]:
    md.sign(signers[r])
snapshot = Metadata(Snapshot(expires=exp))
snapshot.signed.meta["targets.json"] = meta(targets)
snapshot.sign(signers["snapshot"])
timestamp = Metadata(Timestamp(expires=exp))
timestamp.signed.snapshot_meta = meta(snapshot)
timestamp.sign(signers["timestamp"])
root.to_file(out + "/metadata/1.root.json", ser)
targets.to_file(out + "/metadata/1.targets.json", ser)
snapshot.to_file(out + "/metadata/1.snapshot.json", ser)
timestamp.to_file(out + "/metadata/timestamp.json", ser)
print(out + "/metadata/1.root.json")
"#;

#[test]
fn our_client_reads_a_repository_python_tuf_wrote() {
    use tactician_agent::fs::OsFs;
    use tactician_agent::tuf::{TufFloor, refresh, trusted_root};
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model.bin");
    let channels = tmp.path().join("channels.json");
    std::fs::write(
        &model,
        (0..5000u32).map(|i| (i * 7) as u8).collect::<Vec<_>>(),
    )
    .unwrap();
    std::fs::write(&channels, br#"{"format":"x","group":"arena","aliases":{}}"#).unwrap();
    let spec = serde_json::json!([
        {"name": "arena~1.0.0~model.tflite.age", "path": model, "custom": {"kind": "model"}},
        {"name": "arena~channels.json", "path": channels, "custom": {"kind": "channels"}},
    ]);
    let repo = tmp.path().join("repo");
    let o = Command::new(&py)
        .arg("-c")
        .arg(WRITER)
        .arg(&repo)
        .arg(spec.to_string())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let root = PathBuf::from(String::from_utf8(o.stdout).unwrap().trim());

    // A device trusting python-tuf's root.
    let state = tmp.path().join("device");
    let anchor = trusted_root(&state);
    std::fs::create_dir_all(anchor.parent().unwrap()).unwrap();
    std::fs::copy(&root, &anchor).unwrap();
    let (view, floor) =
        refresh(&OsFs, &state, repo.to_str().unwrap(), TufFloor::default()).unwrap();
    assert_eq!(
        view.fetch("arena~1.0.0~model.tflite.age").unwrap().unwrap(),
        std::fs::read(&model).unwrap()
    );
    assert_eq!(
        view.custom("arena~channels.json", "kind").unwrap(),
        Some(&serde_json::json!("channels"))
    );
    assert_eq!(view.fetch("arena~nothing").unwrap(), None);
    drop(view);

    // A changed byte in a stored target: refused on download.
    let stored = std::fs::read_dir(repo.join("targets"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with("model.tflite.age"))
        .unwrap();
    let mut bytes = std::fs::read(&stored).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&stored, &bytes).unwrap();
    let (view, _) = refresh(&OsFs, &state, repo.to_str().unwrap(), floor).unwrap();
    let err = view
        .fetch("arena~1.0.0~model.tflite.age")
        .unwrap_err()
        .to_string();
    assert!(err.contains("ash"), "{err}");
}
