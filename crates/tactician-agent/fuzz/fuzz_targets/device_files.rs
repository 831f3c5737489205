//! The files a device reads that it did not write itself, or that a damaged disk may hold:
//! a decrypted validation set (`TACVAL01`), a release's custom metadata, a group's channels
//! file, the history, the device identity's public half and `agent.toml`. The first byte picks
//! the parser. Must never panic; a validation set that parses reads back the same from the
//! bytes it writes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tactician_agent::identity::DeviceInfo;
use tactician_agent::store::History;
use tactician_agent::{AgentConfig, Channels, Release, ValidationSet};

fuzz_target!(|data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    match which % 6 {
        0 => {
            if let Ok(set) = ValidationSet::from_bytes(bytes) {
                let _ = set.reference();
                let written = set.to_bytes();
                let again = ValidationSet::from_bytes(&written).expect("its own bytes parse");
                assert_eq!(again.to_bytes(), written, "a validation set reads back the same");
            }
        }
        1 => {
            if let Ok(release) = serde_json::from_slice::<Release>(bytes) {
                let _ = release.check("arena", "1.0.0");
                let _ = tactician_agent::release::parse_version(&release.min_runtime);
            }
        }
        2 => {
            if let Ok(channels) = Channels::parse(bytes, "arena") {
                for version in channels.aliases.values() {
                    let _ = tactician_agent::release::parse_version(version);
                }
            }
        }
        3 => {
            let _ = serde_json::from_slice::<History>(bytes);
        }
        4 => {
            let _ = serde_json::from_slice::<DeviceInfo>(bytes);
        }
        _ => {
            if let Ok(text) = std::str::from_utf8(bytes)
                && let Ok(config) = toml::from_str::<AgentConfig>(text)
            {
                let _ = config.check();
                let _ = config.window();
            }
        }
    }
});
