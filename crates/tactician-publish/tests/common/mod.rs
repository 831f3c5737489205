//! A workstation deployment folder and a device state folder in a temporary folder: keys,
//! repository, a random network exported to .tflite, publishing, and the device's view.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde_json::json;
use tactician_agent::fs::{Fs, OsFs};
use tactician_agent::{Agent, AgentConfig, Outcome, ValidationSet};
use tactician_export::{ExportOptions, Precision, export};
use tactician_formats::model::{Activation, Mlp, ModelJson};
use tactician_publish::keys::RoleKeys;
use tactician_publish::{DeployDir, Expiry, Publication, Published};
use tough::schema::RoleType;

pub const FEATURES: usize = 24;
pub const ACTIONS: usize = 7;
pub const GROUP: &str = "arena";

pub fn rows(seed: u64, n: usize, f: usize) -> Vec<f32> {
    let mut state = seed;
    (0..n * f)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (((z >> 11) as f64 / (1u64 << 53) as f64) * 4.0 - 2.0) as f32
        })
        .collect()
}

/// A random network with `encoder`, exported as float32.
pub fn network(seed: u64, encoder: &str) -> Mlp {
    let mut meta = ModelJson::new(FEATURES, vec![16], Activation::Relu, ACTIONS, true, encoder);
    meta.encoder_hash = encoder.into();
    Mlp::random(meta, seed)
}

pub fn tflite(mlp: &Mlp, precision: Precision) -> Vec<u8> {
    let calib = rows(7, 64, mlp.meta.inputs);
    export(mlp, &ExportOptions::new(precision).with_calibration(&calib)).unwrap()
}

/// 64 rows with the network's float answers.
pub fn validation_set(mlp: &Mlp) -> ValidationSet {
    let n = 64;
    let (features, actions) = (mlp.meta.inputs, mlp.meta.actions);
    let x = rows(3, n, features);
    let out = mlp.forward_exact(&x, n);
    let legal: Vec<u8> = (0..n * actions).map(|i| u8::from(i % 3 != 1)).collect();
    ValidationSet {
        encoder_hash: mlp.meta.encoder_hash.clone(),
        features,
        actions,
        x,
        legal,
        logits: out.logits,
        values: out.value,
    }
}

pub fn standard_roles() -> [(RoleType, RoleKeys); 4] {
    [
        (RoleType::Root, RoleKeys::new(1, 1)),
        (RoleType::Targets, RoleKeys::new(1, 1)),
        (RoleType::Snapshot, RoleKeys::new(1, 1)),
        (RoleType::Timestamp, RoleKeys::new(1, 1)),
    ]
}

pub struct Setup {
    pub tmp: tempfile::TempDir,
    pub deploy: DeployDir,
    pub state: PathBuf,
    pub public_key: String,
}

pub const ENCODER: &str = "test-encoder-1";

impl Setup {
    pub fn new() -> Setup {
        Setup::with_roles(standard_roles())
    }

    pub fn with_roles(roles: [(RoleType, RoleKeys); 4]) -> Setup {
        let tmp = tempfile::tempdir().unwrap();
        let deploy = DeployDir::new(&tmp.path().join("deploy"));
        tactician_publish::init(&deploy, roles, Expiry::default(), Timestamp::now()).unwrap();
        let state = tmp.path().join("device");
        let public_key = device(&state, "pi-1", &deploy);
        Setup {
            tmp,
            deploy,
            state,
            public_key,
        }
    }

    pub fn repository(&self) -> PathBuf {
        self.deploy.repository().root
    }

    /// Publishes version `v` of a random network (seed from the version) to GROUP.
    pub fn publish(&self, version: &str, alias: Option<&str>) -> Published {
        self.publish_with(version, alias, |_| {})
    }

    pub fn publish_with(
        &self,
        version: &str,
        alias: Option<&str>,
        edit: impl FnOnce(&mut Publication<'_>),
    ) -> Published {
        self.try_publish_with(version, alias, Timestamp::now(), edit)
            .unwrap()
    }

    pub fn try_publish_with(
        &self,
        version: &str,
        alias: Option<&str>,
        now: Timestamp,
        edit: impl FnOnce(&mut Publication<'_>),
    ) -> tactician_publish::Result<Published> {
        let seed = version.bytes().map(u64::from).sum::<u64>();
        self.try_publish_mlp(version, alias, now, &network(seed, ENCODER), edit)
    }

    /// Publishes `mlp` (float32) as version `v` to GROUP.
    pub fn try_publish_mlp(
        &self,
        version: &str,
        alias: Option<&str>,
        now: Timestamp,
        mlp: &Mlp,
        edit: impl FnOnce(&mut Publication<'_>),
    ) -> tactician_publish::Result<Published> {
        let model = tflite(mlp, Precision::Float32);
        let set = validation_set(mlp);
        let recipients = vec![self.public_key.clone()];
        let mut p = Publication {
            group: GROUP,
            version,
            notes: "test release",
            alias,
            model: &model,
            precision: "f32",
            encoder_hash: &mlp.meta.encoder_hash,
            validation: &set,
            min_top1: 0.95,
            min_runtime: tactician_agent::release::RUNTIME_VERSION,
            metrics: json!({"verify": {"top1": 1.0}}),
            lineage: json!({"dataset": "test"}),
            recipients: &recipients,
        };
        edit(&mut p);
        tactician_publish::publish(&self.deploy, &p, Expiry::default(), now)
    }

    pub fn agent<'a>(&self, fs: &'a dyn Fs) -> Agent<'a> {
        Agent::open(fs, &self.state).unwrap()
    }

    pub fn update(&self) -> tactician_agent::Result<Outcome> {
        self.agent(&OsFs).update(Timestamp::now())
    }

    pub fn active(&self) -> Option<String> {
        self.agent(&OsFs).store().active().unwrap()
    }
}

/// Creates a device in `state` following `deploy`'s repository, and returns its public key.
pub fn device(state: &Path, id: &str, deploy: &DeployDir) -> String {
    let repo = deploy.repository();
    let config = AgentConfig::new(repo.root.to_str().unwrap(), GROUP);
    let root = std::fs::read(repo.metadata().join("root.json")).unwrap();
    let identity = tactician_agent::provision(&OsFs, state, id, &config, Some(&root)).unwrap();
    identity.public_key().to_owned()
}

/// The device's invariant: `current` names a validated model whose files match its release,
/// and nothing is left in staging.
pub fn assert_consistent(state: &Path) -> Option<String> {
    let agent = Agent::open(&OsFs, state).unwrap();
    let active = agent.store().active().unwrap();
    if let Some(v) = &active {
        let dir = state.join("current");
        assert!(
            dir.join("validated.json").exists(),
            "active {v} is not validated"
        );
        let release = agent.store().release(v).unwrap();
        let model = std::fs::read(dir.join("model.tflite")).unwrap();
        assert_eq!(
            tactician_agent::release::sha256_hex(&model),
            release.model_sha256,
            "active {v}'s model differs from its release"
        );
    }
    let staging = state.join("staging");
    if staging.exists() {
        let left: Vec<_> = std::fs::read_dir(&staging).unwrap().collect();
        assert!(left.is_empty(), "staging not empty: {left:?}");
    }
    active
}

/// Copies a folder recursively, symbolic links as links (`current` -> `models/<v>`).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type().unwrap();
        if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src).unwrap(), &dst).unwrap();
        } else if kind.is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// Runs the device agent, opened afresh (as after a restart), and checks that it refuses: an
/// error of the repository or a refusal, whose message names one of `words`; the active model
/// is the one before, consistent, and nothing is left in staging. Returns the message.
pub fn expect_refused(s: &Setup, words: &[&str]) -> String {
    let before = assert_consistent(&s.state);
    assert!(
        before.is_some(),
        "attacks run against a device with a model"
    );
    let reason = match s.update() {
        Err(
            e @ (tactician_agent::Error::Repository { .. }
            | tactician_agent::Error::Rejected { .. }
            | tactician_agent::Error::Invalid { .. }),
        ) => e.to_string(),
        Err(e) => panic!("an error that is no refusal: {e:?}"),
        Ok(Outcome::Refused { reason, .. }) => reason,
        Ok(other) => panic!("the attack was not refused: {other:?}"),
    };
    assert!(
        words.iter().any(|w| reason.contains(w)),
        "the reason names none of {words:?}: {reason}"
    );
    assert_eq!(
        assert_consistent(&s.state),
        before,
        "the active model moved"
    );
    eprintln!("refused: {reason}");
    reason
}
