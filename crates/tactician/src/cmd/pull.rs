//! `tactician pull`: the battle logs a device recorded, brought to the workstation for
//! `tactician ingest`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use serde::Serialize;
use tactician_publish::push::{SshDestination, SshOptions, fetch_dir};
use tactician_serve::battlelog::{FOLDER, complete_lines};

/// Flags of `tactician pull`.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// The device: its state folder (a path), its server (http://host:port), or its state
    /// folder over SSH (ssh://[user@]host[:port]/var/lib/tactician, with rsync).
    #[arg(value_name = "DEVICE")]
    from: String,
    /// The folder the logs go to (created if missing): part-*.jsonl files, as ingest reads
    /// them. Files pulled before stay; a file pulled again is replaced by its newer copy.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The private key for SSH (ssh -i).
    #[arg(long, short = 'i', value_name = "FILE")]
    identity: Option<PathBuf>,
    /// An ssh option (repeat for more), e.g. `-o StrictHostKeyChecking=accept-new`.
    #[arg(long = "ssh-option", short = 'o', value_name = "OPTION")]
    ssh_options: Vec<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// What a pull brought.
#[derive(Debug, Serialize)]
struct Pulled {
    from: String,
    out: PathBuf,
    files: usize,
    records: usize,
    bytes: usize,
}

/// Writes `bytes` (complete lines) as `out/name`, atomically.
fn keep(out: &Path, name: &str, bytes: &[u8], pulled: &mut Pulled) -> anyhow::Result<()> {
    if !(name.starts_with("part-") && name.ends_with(".jsonl"))
        || name.contains('/')
        || name.contains("..")
    {
        bail!("the device offered {name:?}, which is not a battle log file name");
    }
    tactician_os::write_atomic(&out.join(name), bytes)?;
    pulled.files += 1;
    pulled.records += bytes.iter().filter(|&&b| b == b'\n').count();
    pulled.bytes += bytes.len();
    Ok(())
}

/// Copies the complete lines of every part file in `dir` into `out`.
fn from_folder(dir: &Path, out: &Path, pulled: &mut Pulled) -> anyhow::Result<()> {
    for (path, _) in tactician_serve::battlelog::parts(dir) {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .context("a log file name is not UTF-8")?
            .to_string();
        let bytes =
            complete_lines(&path).with_context(|| format!("cannot read {}", path.display()))?;
        keep(out, &name, &bytes, pulled)?;
    }
    Ok(())
}

/// Runs `tactician pull`.
pub fn run(a: PullArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create {}", a.out.display()))?;
    let mut pulled = Pulled {
        from: a.from.clone(),
        out: a.out.clone(),
        files: 0,
        records: 0,
        bytes: 0,
    };
    if a.from.starts_with("ssh://") {
        let from = SshDestination::parse(&a.from)?;
        let opts = SshOptions {
            identity: a.identity.clone(),
            options: a.ssh_options.clone(),
            ..SshOptions::default()
        };
        // rsync into a scratch folder beside the output, then keep complete lines only.
        let scratch = a.out.join(".pull-ssh");
        let _ = std::fs::remove_dir_all(&scratch);
        fetch_dir(&from, &opts, &format!("{}/{FOLDER}", from.path), &scratch)?;
        let result = from_folder(&scratch, &a.out, &mut pulled);
        let _ = std::fs::remove_dir_all(&scratch);
        result?;
    } else if a.from.starts_with("http://") || a.from.starts_with("https://") {
        let base = a.from.trim_end_matches('/').to_string();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let client = reqwest::Client::new();
        let get = |url: String| {
            let client = client.clone();
            async move {
                let r = client.get(&url).send().await?;
                let status = r.status();
                let body = r.bytes().await?;
                Ok::<_, reqwest::Error>((status, body))
            }
        };
        let (status, body) = rt
            .block_on(get(format!("{base}/v1/logs")))
            .with_context(|| format!("cannot reach {base}"))?;
        if !status.is_success() {
            bail!("{base}/v1/logs answered {status}");
        }
        let list: serde_json::Value = serde_json::from_slice(&body)?;
        for f in list["files"].as_array().context("no file list")? {
            let name = f["name"].as_str().context("a file without a name")?;
            let (status, bytes) = rt.block_on(get(format!("{base}/v1/logs/{name}")))?;
            if !status.is_success() {
                bail!("{base}/v1/logs/{name} answered {status}");
            }
            let keep_len = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            keep(&a.out, name, &bytes[..keep_len], &mut pulled)?;
        }
    } else {
        let dir = Path::new(&a.from).join(FOLDER);
        if !dir.is_dir() {
            bail!(
                "{} holds no battle logs ({FOLDER}/): the device records battles whose results \
                 the game reports with their seed and actions",
                a.from
            );
        }
        from_folder(&dir, &a.out, &mut pulled)?;
    }
    if a.json {
        return super::print_json(&pulled);
    }
    super::print(&format!(
        "pulled {} battle log files ({} battles, {} bytes) from {} into {}; next: tactician \
         ingest {} --out DATASET\n",
        pulled.files,
        pulled.records,
        pulled.bytes,
        pulled.from,
        pulled.out.display(),
        pulled.out.display()
    ))
}
