//! What the kernel and the Pi's firmware say about the machine: thermal zones (as
//! node_exporter reads them, `/sys/class/thermal/thermal_zone*/{type,temp}`), the firmware's
//! throttling flags (`/sys/devices/platform/soc/soc:firmware/get_throttled`, a hexadecimal bit
//! mask), and this process's resident memory and CPU time from `/proc/self`. Every reading is
//! optional: a missing or unreadable entry is an absent value, never an error. The root is a
//! setting so tests use a fake tree.

use std::path::{Path, PathBuf};

/// One thermal zone.
#[derive(Debug, Clone, PartialEq)]
pub struct ThermalZone {
    /// The zone's number (`thermal_zone<N>`).
    pub zone: u32,
    /// Its type, e.g. `cpu-thermal` on a Raspberry Pi.
    pub kind: String,
    /// Degrees Celsius.
    pub celsius: f64,
}

/// The firmware's throttling flags: each condition now and since boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Throttled(pub u32);

/// The conditions the firmware reports, with the bit of "now" (the "since boot" bit is 16
/// above).
pub const CONDITIONS: [(&str, u32); 4] = [
    ("under_voltage", 0),
    ("frequency_capped", 1),
    ("throttled", 2),
    ("soft_temperature_limit", 3),
];

impl Throttled {
    /// Whether `condition` (a [`CONDITIONS`] bit) holds now.
    pub fn now(self, bit: u32) -> bool {
        self.0 >> bit & 1 == 1
    }

    /// Whether `condition` held at some time since boot.
    pub fn since_boot(self, bit: u32) -> bool {
        self.0 >> (bit + 16) & 1 == 1
    }

    /// Whether any condition that slows the CPU holds now (capped, throttled, soft limit).
    pub fn slowed_now(self) -> bool {
        self.0 & 0b1110 != 0
    }
}

/// This process's resources.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ProcessStats {
    /// Resident set size, bytes.
    pub resident_bytes: Option<u64>,
    /// CPU time in user and system mode, seconds.
    pub cpu_seconds: Option<f64>,
}

/// A view of `/sys` and `/proc` under a root (`/` on a device).
#[derive(Debug, Clone)]
pub struct Sysfs {
    root: PathBuf,
}

/// Linux reports process times in clock ticks of `USER_HZ`, 100 on every architecture the
/// device binary is built for (x86-64 and aarch64).
const USER_HZ: f64 = 100.0;

impl Sysfs {
    /// The tree under `root`.
    pub fn new(root: &Path) -> Sysfs {
        Sysfs {
            root: root.to_path_buf(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Every readable thermal zone, by number.
    pub fn thermal_zones(&self) -> Vec<ThermalZone> {
        let Ok(dir) = std::fs::read_dir(self.path("sys/class/thermal")) else {
            return Vec::new();
        };
        let mut zones: Vec<ThermalZone> = dir
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let zone = name.strip_prefix("thermal_zone")?.parse().ok()?;
                let read = |f: &str| std::fs::read_to_string(e.path().join(f)).ok();
                let kind = read("type")?.trim().to_string();
                let milli: f64 = read("temp")?.trim().parse().ok()?;
                Some(ThermalZone {
                    zone,
                    kind,
                    celsius: milli / 1000.0,
                })
            })
            .collect();
        zones.sort_by_key(|z| z.zone);
        zones
    }

    /// The firmware's throttling flags, where the firmware exposes them.
    pub fn throttled(&self) -> Option<Throttled> {
        let text = std::fs::read_to_string(
            self.path("sys/devices/platform/soc/soc:firmware/get_throttled"),
        )
        .ok()?;
        let text = text.trim();
        let hex = text.strip_prefix("0x").unwrap_or(text);
        u32::from_str_radix(hex, 16).ok().map(Throttled)
    }

    /// This process's resident memory and CPU time.
    pub fn process(&self) -> ProcessStats {
        let status = std::fs::read_to_string(self.path("proc/self/status")).ok();
        let resident_bytes = status.as_deref().and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .map(|kib| kib * 1024)
        });
        let stat = std::fs::read_to_string(self.path("proc/self/stat")).ok();
        // pid (comm) state ppid ... utime stime: fields 14 and 15, counted after the comm.
        let cpu_seconds = stat.as_deref().and_then(|s| {
            let rest = s.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let utime: f64 = fields.get(11)?.parse().ok()?;
            let stime: f64 = fields.get(12)?.parse().ok()?;
            Some((utime + stime) / USER_HZ)
        });
        ProcessStats {
            resident_bytes,
            cpu_seconds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fake_tree_reads_and_a_missing_one_is_empty() {
        let tmp = tempfile::tempdir().unwrap();
        let sys = Sysfs::new(tmp.path());
        assert!(sys.thermal_zones().is_empty());
        assert_eq!(sys.throttled(), None);
        assert_eq!(sys.process(), ProcessStats::default());

        let zone = tmp.path().join("sys/class/thermal/thermal_zone0");
        std::fs::create_dir_all(&zone).unwrap();
        std::fs::write(zone.join("type"), "cpu-thermal\n").unwrap();
        std::fs::write(zone.join("temp"), "48312\n").unwrap();
        // A zone without a readable temperature is skipped.
        std::fs::create_dir_all(tmp.path().join("sys/class/thermal/thermal_zone1")).unwrap();
        std::fs::create_dir_all(tmp.path().join("sys/class/thermal/cooling_device0")).unwrap();
        assert_eq!(
            sys.thermal_zones(),
            vec![ThermalZone {
                zone: 0,
                kind: "cpu-thermal".into(),
                celsius: 48.312
            }]
        );
        let fw = tmp.path().join("sys/devices/platform/soc/soc:firmware");
        std::fs::create_dir_all(&fw).unwrap();
        std::fs::write(fw.join("get_throttled"), "0x50005\n").unwrap();
        let t = sys.throttled().unwrap();
        assert!(t.now(0) && !t.now(1) && t.now(2) && !t.now(3));
        assert!(t.since_boot(0) && !t.since_boot(1) && t.since_boot(2));
        assert!(t.slowed_now());
        std::fs::write(fw.join("get_throttled"), "garbage").unwrap();
        assert_eq!(sys.throttled(), None);
    }

    #[test]
    fn only_capping_throttling_or_the_soft_limit_now_slow_the_cpu() {
        assert!(!Throttled(0).slowed_now());
        // Under-voltage alone, or anything only since boot, does not.
        assert!(!Throttled(0x1).slowed_now());
        assert!(!Throttled(0xF_0000).slowed_now());
        for bit in 1..4 {
            assert!(Throttled(1 << bit).slowed_now(), "bit {bit}");
        }
    }

    #[test]
    fn process_figures_are_read_from_a_fake_proc() {
        let tmp = tempfile::tempdir().unwrap();
        let proc_self = tmp.path().join("proc/self");
        std::fs::create_dir_all(&proc_self).unwrap();
        std::fs::write(proc_self.join("status"), "Name:\tx\nVmRSS:\t  2048 kB\n").unwrap();
        // pid (comm with spaces) state, then fields 4..: utime is the 14th field, stime the 15th.
        let stat = "42 (a b) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0 100 0 0";
        std::fs::write(proc_self.join("stat"), stat).unwrap();
        let p = Sysfs::new(tmp.path()).process();
        assert_eq!(p.resident_bytes, Some(2048 * 1024));
        assert_eq!(p.cpu_seconds, Some(3.0));
    }

    #[test]
    fn this_process_is_measured_on_linux() {
        let p = Sysfs::new(Path::new("/")).process();
        assert!(p.resident_bytes.is_some_and(|b| b > 1 << 20), "{p:?}");
        assert!(p.cpu_seconds.is_some_and(|s| s >= 0.0), "{p:?}");
    }
}
