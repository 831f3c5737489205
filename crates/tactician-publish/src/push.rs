//! Mirroring the repository to a device over SSH, and reading its history back.
//!
//! The system's `rsync` over `ssh` copies `repository/` to a folder on the device in two passes:
//! every file except `metadata/timestamp.json` first, then the timestamp. rsync writes each
//! file under a temporary name and renames it into place, and the files of a consistent
//! snapshot are never overwritten, so until the second pass lands the device sees the
//! previous timestamp, which names the previous snapshot, whose files are all still there. An
//! interrupted transfer therefore never makes a device install anything; and whatever a
//! transfer leaves, the device's TUF client verifies every byte it reads against signed
//! metadata, so the transport is trusted with nothing.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use serde::Serialize;
use tactician_registry::{Deployment, Registry};

use crate::error::{Error, Result};
use crate::repo::RepoDirs;

/// Where a repository is mirrored: `ssh://[user@]host[:port]/absolute/path`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SshDestination {
    /// The login name; ssh's default (or its config) when absent.
    pub user: Option<String>,
    /// The host name or address.
    pub host: String,
    /// The port; ssh's default (or its config) when absent.
    pub port: Option<u16>,
    /// The folder on the device the repository is mirrored into.
    pub path: String,
}

impl SshDestination {
    /// Parses `ssh://[user@]host[:port]/path`.
    pub fn parse(text: &str) -> Result<SshDestination> {
        let bad = |reason: &str| Error::Invalid {
            reason: format!(
                "{text:?} is not a destination: {reason} (expected ssh://[user@]host[:port]/absolute/path)"
            ),
        };
        // The URL parser resolves dot segments; a destination that holds any is refused.
        if text.split('/').skip(3).any(|seg| {
            matches!(
                seg.to_ascii_lowercase().as_str(),
                "." | ".." | "%2e" | "%2e%2e" | ".%2e" | "%2e."
            )
        }) {
            return Err(bad("the path holds . or .. segments"));
        }
        let url = url::Url::parse(text).map_err(|e| bad(&e.to_string()))?;
        if url.scheme() != "ssh" {
            return Err(bad("the scheme must be ssh://"));
        }
        if url.password().is_some() {
            return Err(bad("passwords are not accepted in the URL; use keys"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("a query or fragment has no meaning here"));
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_string(),
            Some(url::Host::Ipv4(a)) => a.to_string(),
            Some(url::Host::Ipv6(a)) => format!("[{a}]"),
            None => return Err(bad("no host")),
        };
        let path = percent_decode(url.path()).ok_or_else(|| bad("the path is not UTF-8"))?;
        if path.len() < 2 {
            return Err(bad("no folder"));
        }
        if let Some(c) = path.chars().find(|&c| !safe_path_char(c)) {
            return Err(bad(&format!(
                "the path holds {c:?}; use letters, digits and . _ - + / only"
            )));
        }
        if path.split('/').any(|seg| seg == "..") {
            return Err(bad("the path holds .."));
        }
        let user = match url.username() {
            "" => None,
            u => {
                let u = percent_decode(u).ok_or_else(|| bad("the user is not UTF-8"))?;
                if u.starts_with('-') || u.chars().any(|c| !safe_path_char(c) || c == '/') {
                    return Err(bad("the user name holds characters ssh would misread"));
                }
                Some(u)
            }
        };
        if host.starts_with('-') {
            return Err(bad("the host starts with -"));
        }
        Ok(SshDestination {
            user,
            host,
            port: url.port(),
            path: path.trim_end_matches('/').to_string(),
        })
    }

    /// `[user@]host`, as ssh takes it.
    pub fn login(&self) -> String {
        match &self.user {
            Some(u) => format!("{u}@{}", self.host),
            None => self.host.clone(),
        }
    }
}

impl std::fmt::Display for SshDestination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ssh://{}", self.login())?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        write!(f, "{}", self.path)
    }
}

fn safe_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '/')
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// How to reach the device.
#[derive(Debug, Clone, Default)]
pub struct SshOptions {
    /// The private key to log in with (`ssh -i`).
    pub identity: Option<PathBuf>,
    /// Options passed to ssh as `-o OPTION` (e.g. `StrictHostKeyChecking=accept-new`).
    pub options: Vec<String>,
    /// A bandwidth limit for rsync, KiB per second.
    pub bwlimit_kib: Option<u32>,
    /// Remove files the workstation's repository no longer has, after the new state is in
    /// force.
    pub delete: bool,
    /// The ssh program (default: `$TACTICIAN_SSH` or `ssh` on `PATH`).
    pub ssh: Option<PathBuf>,
    /// The rsync program (default: `$TACTICIAN_RSYNC` or `rsync` on `PATH`).
    pub rsync: Option<PathBuf>,
}

impl SshOptions {
    fn ssh_program(&self) -> PathBuf {
        program(&self.ssh, "TACTICIAN_SSH", "ssh")
    }

    fn rsync_program(&self) -> PathBuf {
        program(&self.rsync, "TACTICIAN_RSYNC", "rsync")
    }

    /// ssh's arguments before the login: never prompts (no terminal), fails fast.
    fn ssh_args(&self, to: &SshDestination) -> Vec<String> {
        let mut args = vec![
            "-o".to_string(),
            "BatchMode=yes".to_string(),
            "-o".to_string(),
            "ConnectTimeout=15".to_string(),
        ];
        if let Some(id) = &self.identity {
            args.push("-i".into());
            args.push(id.display().to_string());
            args.push("-o".into());
            args.push("IdentitiesOnly=yes".into());
        }
        for o in &self.options {
            args.push("-o".into());
            args.push(o.clone());
        }
        if let Some(p) = to.port {
            args.push("-p".into());
            args.push(p.to_string());
        }
        args
    }

    /// rsync's `-e` value: the ssh command line, each word quoted for rsync's splitter.
    fn rsync_shell(&self, to: &SshDestination) -> Result<String> {
        let mut words = vec![self.ssh_program().display().to_string()];
        words.extend(self.ssh_args(to));
        let mut out = Vec::with_capacity(words.len());
        for w in words {
            if w.contains('"') || w.contains('\'') || w.contains('\\') {
                return Err(Error::Invalid {
                    reason: format!("the ssh argument {w:?} holds quotes or backslashes"),
                });
            }
            if w.chars().any(char::is_whitespace) || w.is_empty() {
                out.push(format!("\"{w}\""));
            } else {
                out.push(w);
            }
        }
        Ok(out.join(" "))
    }
}

fn program(given: &Option<PathBuf>, var: &str, name: &str) -> PathBuf {
    given
        .clone()
        .or_else(|| std::env::var_os(var).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(name))
}

/// What a push did.
#[derive(Debug, Clone, Serialize)]
pub struct Pushed {
    /// The destination.
    pub to: String,
    /// Files copied (unchanged files are skipped).
    pub files: usize,
    /// Their bytes.
    pub bytes: u64,
    /// Wall time, seconds.
    pub seconds: f64,
}

/// Mirrors `repo` to `to`: content first, the timestamp last (see the module's notes).
pub fn push(repo: &RepoDirs, to: &SshDestination, opts: &SshOptions) -> Result<Pushed> {
    let start = Instant::now();
    let (mut files, mut bytes) = push_content(repo, to, opts)?;
    let (f, b) = push_timestamp(repo, to, opts)?;
    files += f;
    bytes += b;
    if opts.delete {
        let (f, b) = rsync(repo, to, opts, &["--delete"], "removing old files")?;
        files += f;
        bytes += b;
    }
    Ok(Pushed {
        to: to.to_string(),
        files,
        bytes,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The first pass: every file but the timestamp. On its own it changes nothing a device
/// acts on. Returns (files, bytes) copied.
pub fn push_content(
    repo: &RepoDirs,
    to: &SshDestination,
    opts: &SshOptions,
) -> Result<(usize, u64)> {
    let ts = repo.metadata().join("timestamp.json");
    if !ts.is_file() {
        return Err(Error::NoRepository {
            path: repo.root.clone(),
        });
    }
    let mkdir = format!("mkdir -p -- {}/metadata {}/targets", to.path, to.path);
    let out = run(ssh_command(to, opts, &mkdir), "ssh")?;
    if !out.status.success() {
        return Err(transfer_error(
            &format!("creating {} on {}", to.path, to.login()),
            &out,
        ));
    }
    rsync(
        repo,
        to,
        opts,
        &["--exclude=/metadata/timestamp.json"],
        "copying the repository",
    )
}

/// The second pass: the timestamp, which puts the copied state in force.
pub fn push_timestamp(
    repo: &RepoDirs,
    to: &SshDestination,
    opts: &SshOptions,
) -> Result<(usize, u64)> {
    rsync(
        repo,
        to,
        opts,
        &[
            "--include=/metadata/",
            "--include=/metadata/timestamp.json",
            "--exclude=*",
        ],
        "copying the timestamp",
    )
}

fn rsync(
    repo: &RepoDirs,
    to: &SshDestination,
    opts: &SshOptions,
    filter: &[&str],
    what: &str,
) -> Result<(usize, u64)> {
    let mut cmd = Command::new(opts.rsync_program());
    cmd.args(["--recursive", "--times", "--chmod=D755,F644"])
        .arg("--out-format=%l %n")
        .arg("-e")
        .arg(opts.rsync_shell(to)?);
    if let Some(kib) = opts.bwlimit_kib {
        cmd.arg(format!("--bwlimit={kib}"));
    }
    cmd.args(filter);
    let mut src = repo.root.clone().into_os_string();
    src.push("/");
    cmd.arg(src)
        .arg(format!("{}:{}/", to.login(), to.path))
        .stdin(Stdio::null());
    let out = run(cmd, "rsync")?;
    if !out.status.success() {
        return Err(transfer_error(&format!("{what} to {to}"), &out));
    }
    let mut files = 0;
    let mut bytes = 0u64;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some((len, name)) = line.split_once(' ') else {
            continue;
        };
        if name.ends_with('/') {
            continue;
        }
        if let Ok(n) = len.parse::<u64>() {
            files += 1;
            bytes += n;
        }
    }
    Ok((files, bytes))
}

fn ssh_command(to: &SshDestination, opts: &SshOptions, remote: &str) -> Command {
    let mut cmd = Command::new(opts.ssh_program());
    cmd.args(opts.ssh_args(to))
        .arg("--")
        .arg(to.login())
        .arg(remote)
        .stdin(Stdio::null());
    cmd
}

fn run(mut cmd: Command, name: &str) -> Result<Output> {
    cmd.output().map_err(|e| Error::Transfer {
        what: format!("running {name}"),
        reason: if e.kind() == std::io::ErrorKind::NotFound {
            format!(
                "{} is not installed or not on PATH",
                cmd.get_program().to_string_lossy()
            )
        } else {
            e.to_string()
        },
    })
}

fn transfer_error(what: &str, out: &Output) -> Error {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .rev()
        .take(3)
        .collect();
    let mut reason = last.into_iter().rev().collect::<Vec<_>>().join("; ");
    if reason.is_empty() {
        reason = format!("exit status {}", out.status);
    }
    if stderr.contains("rsync: command not found") || stderr.contains("rsync: not found") {
        reason.push_str(" (install rsync on the device)");
    }
    Error::Transfer {
        what: what.to_string(),
        reason,
    }
}

/// Copies the folder `remote` of the device (its files, not deeper) into `local` with rsync
/// over ssh. Returns the files copied.
pub fn fetch_dir(
    from: &SshDestination,
    opts: &SshOptions,
    remote: &str,
    local: &std::path::Path,
) -> Result<usize> {
    if remote.is_empty() || !remote.chars().all(safe_path_char) {
        return Err(Error::Invalid {
            reason: format!("{remote:?}: use letters, digits and . _ - + / only in device paths"),
        });
    }
    std::fs::create_dir_all(local).map_err(|e| Error::io("create", local, e))?;
    let mut cmd = Command::new(opts.rsync_program());
    cmd.args(["--recursive", "--times", "--out-format=%n"])
        .arg("-e")
        .arg(opts.rsync_shell(from)?);
    if let Some(kib) = opts.bwlimit_kib {
        cmd.arg(format!("--bwlimit={kib}"));
    }
    let mut dest = local.as_os_str().to_owned();
    dest.push("/");
    cmd.arg(format!(
        "{}:{}/",
        from.login(),
        remote.trim_end_matches('/')
    ))
    .arg(dest)
    .stdin(Stdio::null());
    let out = run(cmd, "rsync")?;
    if !out.status.success() {
        return Err(transfer_error(
            &format!("copying {remote} from {}", from.login()),
            &out,
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.ends_with('/') && !l.trim().is_empty())
        .count())
}

/// Reads a file on the device: `None` when it does not exist. `sudo` runs the read with
/// `sudo -n` (a state folder the agent's service keeps private).
pub fn read_remote(
    to: &SshDestination,
    opts: &SshOptions,
    path: &str,
    sudo: bool,
) -> Result<Option<Vec<u8>>> {
    if path.is_empty() || !path.chars().all(safe_path_char) {
        return Err(Error::Invalid {
            reason: format!("{path:?}: use letters, digits and . _ - + / only in device paths"),
        });
    }
    let prefix = if sudo { "sudo -n " } else { "" };
    // Exit status 3 (never ssh's own, 255) says the file is absent.
    let remote = format!("if {prefix}test -e {path}; then {prefix}cat -- {path}; else exit 3; fi");
    let out = run(ssh_command(to, opts, &remote), "ssh")?;
    match out.status.code() {
        Some(0) => Ok(Some(out.stdout)),
        Some(3) => Ok(None),
        _ => Err(transfer_error(
            &format!("reading {path} on {}", to.login()),
            &out,
        )),
    }
}

/// What importing a device's history added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Imported {
    /// New deployment records.
    pub added: usize,
    /// Events in the history.
    pub events: usize,
}

/// Records a device's history (`history.json`'s bytes) as deployments in the registry;
/// events already recorded are skipped.
pub fn import_history(reg: &Registry, device: &str, bytes: &[u8]) -> Result<Imported> {
    let history: tactician_agent::store::History =
        serde_json::from_slice(bytes).map_err(|e| Error::Invalid {
            reason: format!("the history of device {device} is not valid: {e}"),
        })?;
    let group = reg
        .device(device)?
        .map_or_else(|| "default".to_string(), |d| d.group);
    let mut added = 0;
    for e in &history.events {
        let version = if e.version.is_empty() || e.version == "-" {
            "none".to_string()
        } else {
            e.version.clone()
        };
        if reg.record_deployment(&Deployment {
            device: device.to_string(),
            seq: e.seq,
            group: group.clone(),
            version,
            time: e.time.clone(),
            action: e.action.clone(),
            outcome: e.outcome.clone(),
            reason: e.reason.clone(),
        })? {
            added += 1;
        }
    }
    Ok(Imported {
        added,
        events: history.events.len(),
    })
}

/// The device's public identity file under its state folder, as a path on the device.
pub fn remote_identity_path(state: &str) -> String {
    format!("{}/identity/device.json", state.trim_end_matches('/'))
}

/// The device's history file under its state folder, as a path on the device.
pub fn remote_history_path(state: &str) -> String {
    format!("{}/history.json", state.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_parse() {
        let d = SshDestination::parse("ssh://pi@raspberrypi.local:2222/srv/tactician").unwrap();
        assert_eq!(d.user.as_deref(), Some("pi"));
        assert_eq!(d.host, "raspberrypi.local");
        assert_eq!(d.port, Some(2222));
        assert_eq!(d.path, "/srv/tactician");
        assert_eq!(
            d.to_string(),
            "ssh://pi@raspberrypi.local:2222/srv/tactician"
        );
        let d = SshDestination::parse("ssh://10.0.0.7/srv/t/").unwrap();
        assert_eq!((d.user, d.port, d.path.as_str()), (None, None, "/srv/t"));
        let d = SshDestination::parse("ssh://u@[::1]:22/x").unwrap();
        assert_eq!(d.login(), "u@[::1]");
    }

    #[test]
    fn bad_destinations_are_refused() {
        for bad in [
            "pi@host:/srv",
            "http://host/srv",
            "ssh://host",
            "ssh://host/",
            "ssh://u:pw@host/srv",
            "ssh://host/srv/a%20b",
            "ssh://host/srv;rm",
            "ssh://host/srv/$(x)",
            "ssh://host/srv/../etc",
            "ssh://-oProxyCommand=x/srv",
            "ssh://-u@host/srv",
            "ssh://host/srv?x=1",
        ] {
            assert!(SshDestination::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn rsync_shell_quotes_words_with_spaces() {
        let opts = SshOptions {
            identity: Some(PathBuf::from("/k/my key")),
            options: vec!["UserKnownHostsFile=/k/known".into()],
            ssh: Some(PathBuf::from("ssh")),
            ..SshOptions::default()
        };
        let to = SshDestination::parse("ssh://h:2/x").unwrap();
        let e = opts.rsync_shell(&to).unwrap();
        assert!(e.starts_with("ssh -o BatchMode=yes"), "{e}");
        assert!(e.contains("-i \"/k/my key\" -o IdentitiesOnly=yes"), "{e}");
        assert!(e.ends_with("-o UserKnownHostsFile=/k/known -p 2"), "{e}");
        let opts = SshOptions {
            options: vec!["X=\"y\"".into()],
            ..SshOptions::default()
        };
        assert!(opts.rsync_shell(&to).is_err());
    }
}
