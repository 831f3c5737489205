//! Ingest streams: a log set far larger than the memory ingest uses is processed with bounded
//! memory. The log is built from real battles, each copied under fresh battle ids until the
//! decompressed text reaches `TACTICIAN_MEMTEST_BYTES` (default 768 MiB, three times the
//! bound, so the suite stays quick; run it with e.g. `TACTICIAN_MEMTEST_BYTES=4294967296` for
//! a multi-GB log), written as zstd frames like `collect` writes them; ingest then reports its
//! peak resident memory, which must stay under the same bound whatever the size.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::process::Command;

const DEFAULT_BYTES: u64 = 768 << 20;
/// The bound on ingest's peak resident memory, whatever the size of the log.
const MAX_RSS: u64 = 256 << 20;

#[test]
fn a_multi_gigabyte_log_is_ingested_in_bounded_memory() {
    let target: u64 = std::env::var("TACTICIAN_MEMTEST_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_BYTES);
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small");
    let bin = env!("CARGO_BIN_EXE_tactician");
    let o = Command::new(bin)
        .args([
            "collect",
            "-n",
            "42",
            "-m",
            "all",
            "-s",
            "9",
            "--no-compress",
            "-q",
            "--out",
        ])
        .arg(&small)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = fs::read_to_string(small.join("part-00000.jsonl")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let decisions: Vec<u64> = lines
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["decisions"].as_array().unwrap().len() as u64
        })
        .collect();

    // Copies of the battles under new ids, each line its own zstd frame.
    let big = dir.path().join("big.jsonl.zst");
    let mut out = BufWriter::new(File::create(&big).unwrap());
    let mut compressor = zstd::bulk::Compressor::new(1).unwrap();
    let (mut written, mut battles, mut expected_decisions) = (0u64, 0u64, 0u64);
    while written < target {
        for (line, &n) in lines.iter().zip(&decisions) {
            let at = line.find("\"battle_id\":\"").unwrap() + 13;
            let copy = format!("{}{:016x}{}\n", &line[..at], battles, &line[at + 16..]);
            out.write_all(&compressor.compress(copy.as_bytes()).unwrap())
                .unwrap();
            written += copy.len() as u64;
            battles += 1;
            expected_decisions += n;
        }
    }
    out.flush().unwrap();
    drop(out);

    let dataset = dir.path().join("dataset");
    let o = Command::new(bin)
        .args(["ingest", "--json", "-q", "--out"])
        .arg(&dataset)
        .arg(&big)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["accepted"], battles, "{report}");
    assert_eq!(report["quarantined"], 0, "{report}");
    assert_eq!(report["transitions"], expected_decisions, "{report}");
    let rss = report["peak_rss_bytes"]
        .as_u64()
        .expect("peak RSS is reported on Linux");
    eprintln!(
        "ingested {written} bytes of log text ({battles} battles, {expected_decisions} decisions) \
         with a peak RSS of {} MiB",
        rss >> 20
    );
    assert!(rss < MAX_RSS, "peak RSS {} MiB", rss >> 20);
    assert!(
        written >= 3 * MAX_RSS.min(target),
        "the log ({written} bytes) should be much larger than the memory bound ({MAX_RSS})"
    );
}
