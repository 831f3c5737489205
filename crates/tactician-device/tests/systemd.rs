//! The agent's systemd unit passes `systemd-analyze verify` (with ExecStart pointing at the
//! binary under test), where the machine has systemd; its sandboxing options are present.

use std::process::Command;

const UNIT: &str = include_str!("../systemd/tactician-device-agent.service");

#[test]
fn the_agent_unit_is_sandboxed() {
    for option in [
        "DynamicUser=yes",
        "StateDirectory=tactician",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "PrivateDevices=yes",
        "CapabilityBoundingSet=",
        "SystemCallFilter=@system-service",
        "ExecStart=/usr/local/bin/tactician-device agent --state /var/lib/tactician",
    ] {
        assert!(
            UNIT.lines().any(|l| l.trim() == option),
            "the unit lacks {option}"
        );
    }
}

#[test]
fn systemd_analyze_verifies_the_agent_unit() {
    let Ok(probe) = Command::new("systemd-analyze").arg("--version").output() else {
        eprintln!("skipping: no systemd-analyze on this machine");
        return;
    };
    assert!(probe.status.success());
    let tmp = tempfile::tempdir().unwrap();
    let unit = tmp.path().join("tactician-device-agent.service");
    let exe = env!("CARGO_BIN_EXE_tactician-device");
    std::fs::write(&unit, UNIT.replace("/usr/local/bin/tactician-device", exe)).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "systemd-analyze verify: {stderr}");
    // Warnings come on stderr with a zero status: none are expected for this unit.
    assert!(
        !stderr.contains("tactician-device-agent.service"),
        "systemd-analyze verify warns: {stderr}"
    );

    // A broken unit is refused: the check can fail.
    std::fs::write(&unit, UNIT.replace("Type=simple", "Type=bogus")).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() || stderr.contains("bogus"),
        "a bogus Type= passed: {stderr}"
    );
}
