//! Every kind of defect a battle log can have, each in a hand-made bad log: the bad record is
//! quarantined with its reason code, source file and line; the good records before and after it
//! are kept; and the summary reconciles (records read = accepted + quarantined, per reason).

mod common;

use common::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use tactician_data::dataset::Dataset;
use tactician_data::ingest::IngestOptions;

/// `bad` lines, each between two good battles, in one plain log: checks each is quarantined
/// for `reason` at its line, every good battle is kept at its line, and the run reconciles.
/// Returns the quarantine entries (for checks of their detail).
fn between_good(bad: &[String], reason: &str) -> Vec<Quarantined> {
    between_good_with(bad, reason, &opts())
}

fn between_good_with(bad: &[String], reason: &str, opts: &IngestOptions) -> Vec<Quarantined> {
    assert!(bad.len() < 8, "battles 0..8 are the good ones");
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    // good 0, bad 0, good 1, bad 1, ..., good n
    let mut lines = vec![line(0)];
    for (i, b) in bad.iter().enumerate() {
        lines.push(b.clone());
        lines.push(line(i + 1));
    }
    let log = write_plain(&dir.path().join("bad.jsonl"), &lines);
    let report = run(&ds, std::slice::from_ref(&log), opts).unwrap();
    check_reconciles(&ds, &report);
    let name = log.display().to_string();

    let q = quarantine(&ds, &report);
    let expected: Vec<(String, u64, String)> = (0..bad.len())
        .map(|i| (name.clone(), 2 * i as u64 + 2, reason.to_string()))
        .collect();
    assert_eq!(where_why(&q), expected, "{q:#?}");
    assert_eq!(report.records, lines.len() as u64);
    assert_eq!(report.quarantined, bad.len() as u64);
    assert_eq!(report.by_reason, reasons(&[(reason, bad.len() as u64)]));

    let mut kept = battle_rows(&ds);
    kept.sort();
    let mut want: Vec<BattleRow> = (0..=bad.len())
        .map(|i| BattleRow {
            id: id(i),
            source: name.clone(),
            line: 2 * i as u64 + 1,
        })
        .collect();
    want.sort();
    assert_eq!(kept, want);
    let decisions: u64 = (0..=bad.len()).map(decisions_of).sum();
    assert_eq!(report.transitions, decisions);
    Dataset::open(&ds).unwrap().verify().unwrap();
    q
}

fn decisions_of(i: usize) -> u64 {
    battles()[i]["decisions"].as_array().unwrap().len() as u64
}

/// Battle `i` with the JSON at `pointer` replaced by the raw text `token` (which need not be
/// valid JSON, e.g. `NaN`).
fn with_raw(i: usize, pointer: &str, token: &str) -> String {
    const MARK: &str = "\u{1}RAW\u{1}";
    let text = edited(i, |v| *v.pointer_mut(pointer).unwrap() = json!(MARK));
    let quoted = serde_json::to_string(MARK).unwrap();
    assert_eq!(text.matches(&quoted).count(), 1);
    text.replace(&quoted, token)
}

/// Removes the field at `pointer` (`/a/b/key`) of battle `i`.
fn without(i: usize, pointer: &str) -> String {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    edited(i, |v| {
        let p = v.pointer_mut(parent).unwrap();
        match p {
            Value::Object(m) => assert!(m.remove(key).is_some(), "{pointer}"),
            Value::Array(a) => {
                a.remove(key.parse::<usize>().unwrap());
            }
            _ => panic!("{pointer}"),
        }
    })
}

fn decision(v: &mut Value, j: usize) -> &mut Value {
    &mut v["decisions"][j]
}

#[test]
fn malformed_json_is_quarantined() {
    let q = between_good(
        &[
            "this is not json".to_string(),
            line(9).replacen("\"seed\":", "\"seed\" ", 1),
            format!("{}}}", line(10)),
            "{\"format\": \"tactician.battle/1\", \"seed\": 1,, }".to_string(),
        ],
        "malformed_json",
    );
    assert!(q.iter().all(|e| !e.detail.is_empty()));
}

#[test]
fn truncated_records_are_quarantined() {
    let full = line(9);
    between_good(
        &[
            full[..full.len() / 2].to_string(),
            full[..full.len() - 1].to_string(),
            "{\"format\":".to_string(),
        ],
        "truncated",
    );
}

#[test]
fn a_cut_off_last_line_is_quarantined_and_the_lines_before_kept() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    let full = line(9);
    let text = format!("{}\n{}\n{}", line(0), line(1), &full[..full.len() / 3]);
    let log = dir.path().join("cut.jsonl");
    fs::write(&log, text).unwrap();
    let report = run(&ds, std::slice::from_ref(&log), &opts()).unwrap();
    check_reconciles(&ds, &report);
    let name = log.display().to_string();
    assert_eq!(
        where_why(&quarantine(&ds, &report)),
        [(name, 3, "truncated".to_string())]
    );
    assert_eq!(report.accepted, 2);
    // The battle id was read before the cut: it is in the quarantine entry.
    assert_eq!(
        quarantine(&ds, &report)[0].battle_id.as_deref(),
        Some(id(9).as_str())
    );
}

#[test]
fn a_corrupt_zstd_frame_loses_only_its_record() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    let lines: Vec<String> = (0..6).map(line).collect();
    let mut frames = frames(&lines);
    // Damage the compressed payload in the middle of frame 2 (its header stays readable).
    let f = &mut frames[2];
    let mid = f.len() / 2;
    for b in &mut f[mid..mid + 8] {
        *b ^= 0x5a;
    }
    let log = dir.path().join("part-00000.jsonl.zst");
    fs::write(&log, frames.concat()).unwrap();
    let report = run(&ds, std::slice::from_ref(&log), &opts()).unwrap();
    check_reconciles(&ds, &report);
    let name = log.display().to_string();
    assert_eq!(
        where_why(&quarantine(&ds, &report)),
        [(name.clone(), 3, "corrupt_compression".to_string())]
    );
    assert!(report.files[0].compressed);
    let mut kept: Vec<(String, u64)> = battle_rows(&ds)
        .into_iter()
        .map(|r| (r.id, r.line))
        .collect();
    kept.sort();
    let mut want: Vec<(String, u64)> = [0, 1, 3, 4, 5]
        .into_iter()
        .map(|i| (id(i), i as u64 + 1))
        .collect();
    want.sort();
    assert_eq!(kept, want);
}

#[test]
fn a_zstd_file_cut_in_a_frame_keeps_the_whole_frames_before() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    let lines: Vec<String> = (0..4).map(line).collect();
    let frames = frames(&lines);
    let mut bytes = frames[..3].concat();
    bytes.extend_from_slice(&frames[3][..frames[3].len() / 2]);
    let log = dir.path().join("cut.jsonl.zst");
    fs::write(&log, bytes).unwrap();
    let report = run(&ds, std::slice::from_ref(&log), &opts()).unwrap();
    check_reconciles(&ds, &report);
    let name = log.display().to_string();
    assert_eq!(
        where_why(&quarantine(&ds, &report)),
        [(name, 4, "corrupt_compression".to_string())]
    );
    assert_eq!(report.accepted, 3);
}

#[test]
fn a_cut_single_frame_stream_keeps_the_whole_lines_before_the_damage() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    let text: String = (0..8).map(|i| line(i) + "\n").collect();
    let whole = frame(text.as_bytes());
    let log = dir.path().join("stream.jsonl.zst");
    fs::write(&log, &whole[..whole.len() * 3 / 4]).unwrap();
    let report = run(&ds, std::slice::from_ref(&log), &opts()).unwrap();
    check_reconciles(&ds, &report);
    let kept = report.accepted;
    assert!((1..8).contains(&kept), "{report:#?}");
    // The whole lines before the damage are kept, in order; the rest is one lost record.
    let mut rows = battle_rows(&ds);
    rows.sort_by_key(|r| r.line);
    let ids: Vec<String> = rows.into_iter().map(|r| r.id).collect();
    assert_eq!(ids, (0..kept as usize).map(id).collect::<Vec<_>>());
    assert_eq!(
        where_why(&quarantine(&ds, &report)),
        [(
            log.display().to_string(),
            kept + 1,
            "corrupt_compression".to_string()
        )]
    );
}

#[test]
fn missing_fields_are_quarantined() {
    let q = between_good(
        &[
            without(9, "/battle_id"),
            without(9, "/decisions/3/action"),
            without(10, "/outcome/winner"),
            without(10, "/format"),
            without(11, "/decisions/0/features"),
            without(11, "/decisions/5/legal"),
            without(12, "/sides"),
        ],
        "missing_field",
    );
    for (e, field) in q.iter().zip([
        "battle_id",
        "decisions[3].action",
        "outcome.winner",
        "format",
        "decisions[0].features",
        "decisions[5].legal",
        "sides",
    ]) {
        assert!(e.detail.contains(field), "{e:?} should name {field}");
    }
    // The id is reported when it was read.
    assert_eq!(q[0].battle_id, None);
    assert_eq!(q[1].battle_id.as_deref(), Some(id(9).as_str()));
}

#[test]
fn feature_vectors_of_the_wrong_length_are_quarantined() {
    let q = between_good(
        &[
            edited(9, |v| {
                decision(v, 2)["features"].as_array_mut().unwrap().pop();
            }),
            edited(10, |v| {
                decision(v, 0)["features"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!(0.5));
            }),
            edited(11, |v| decision(v, 4)["features"] = json!([])),
            edited(12, |v| v["encoder"]["features"] = json!(178)),
        ],
        "feature_length",
    );
    assert!(q[0].detail.contains("decisions[2].features"), "{q:?}");
}

#[test]
fn nan_and_infinite_values_are_quarantined() {
    let q = between_good(
        &[
            with_raw(9, "/decisions/1/features/3", "NaN"),
            with_raw(10, "/decisions/0/features/0", "-Infinity"),
            with_raw(11, "/decisions/2/features/7", "1e39"),
            with_raw(12, "/decisions/3/reward", "Infinity"),
            with_raw(13, "/decisions/4/material/0", "1e999"),
            with_raw(14, "/decisions/5/wall/decision_us", "NaN"),
        ],
        "non_finite",
    );
    // Errors inside a decision name it by index.
    for (e, field) in q.iter().zip([
        "decisions[1].features",
        "decisions[0].features",
        "decisions[2].features",
        "decisions[3].reward",
        "decisions[4].material",
        "decisions[5].wall",
    ]) {
        assert!(e.detail.contains(field), "{e:?} should name {field}");
    }
}

#[test]
fn feature_values_outside_their_declared_range_are_quarantined() {
    // The built-in spec declares every feature's range; one past either end is refused.
    let spec = tactician_game::SkirmishEncoder::feature_spec();
    let (lo, hi) = (spec.features()[5].min, spec.features()[9].max);
    let q = between_good(
        &[
            edited(9, |v| decision(v, 2)["features"][5] = json!(lo - 1.0)),
            edited(10, |v| decision(v, 0)["features"][9] = json!(hi + 0.5)),
        ],
        "feature_range",
    );
    let name = |j: usize| spec.features()[j].name.clone();
    assert!(q[0].detail.contains("decisions[2].features[5]"), "{q:?}");
    assert!(q[0].detail.contains(&name(5)), "{q:?}");
    assert!(q[1].detail.contains("decisions[0].features[9]"), "{q:?}");
}

#[test]
fn actions_out_of_range_are_quarantined() {
    let na = battles()[0]["encoder"]["actions"].as_u64().unwrap();
    between_good(
        &[
            edited(9, |v| decision(v, 3)["action"] = json!(na)),
            edited(10, |v| decision(v, 0)["action"] = json!(-1)),
            edited(11, |v| decision(v, 1)["action"] = json!(1_000_000)),
        ],
        "action_out_of_range",
    );
}

/// Battle `i` with decision `j`'s action replaced by one its mask forbids.
fn illegal_action(i: usize, j: usize) -> String {
    edited(i, |v| {
        let d = decision(v, j);
        let legal = d["legal"].as_str().unwrap().to_string();
        let forbidden = legal.find('0').expect("some action is illegal");
        d["action"] = json!(forbidden);
    })
}

#[test]
fn actions_their_own_mask_forbids_are_quarantined() {
    let q = between_good(
        &[illegal_action(9, 0), illegal_action(10, 7)],
        "action_illegal",
    );
    assert!(q[1].detail.contains("decisions[7].action"), "{q:?}");
}

#[test]
fn legal_masks_of_the_wrong_shape_are_quarantined() {
    between_good(
        &[
            edited(9, |v| decision(v, 1)["legal"] = json!("1")),
            edited(10, |v| {
                let d = decision(v, 2);
                let m = d["legal"].as_str().unwrap().replacen('0', "x", 1);
                d["legal"] = json!(m);
            }),
        ],
        "mask_invalid",
    );
}

#[test]
fn turns_out_of_order_or_missing_are_quarantined() {
    between_good(
        &[
            // Two decisions swapped.
            edited(9, |v| {
                v["decisions"].as_array_mut().unwrap().swap(3, 4);
            }),
            // A decision missing in the middle.
            without(10, "/decisions/5"),
            // A decision repeated.
            edited(11, |v| {
                let d = v["decisions"][2].clone();
                v["decisions"].as_array_mut().unwrap().insert(3, d);
            }),
            // The first decision missing.
            without(12, "/decisions/0"),
        ],
        "turn_order",
    );
}

#[test]
fn an_outcome_inconsistent_with_the_final_state_is_quarantined() {
    let flip = |i: usize| {
        edited(i, |v| {
            let w = v["outcome"]["winner"].as_u64().expect("a decided battle");
            v["outcome"]["winner"] = json!(1 - w);
        })
    };
    let decided: Vec<usize> = (9..16)
        .filter(|&i| battles()[i]["outcome"]["winner"].is_u64())
        .collect();
    let q = between_good(
        &[
            // The winner contradicts the final state.
            flip(decided[0]),
            // A draw claimed where the final state has a winner.
            edited(decided[1], |v| v["outcome"]["winner"] = Value::Null),
            // A final state that is not finished.
            edited(decided[2], |v| {
                let first = v["decisions"][0]["state"].clone();
                v["outcome"]["final_state"] = first;
            }),
            // The turn count disagrees with the decisions.
            edited(9, |v| {
                let t = v["outcome"]["turns"].as_u64().unwrap();
                v["outcome"]["turns"] = json!(t + 1);
            }),
            // `done` on a decision that is not the last.
            edited(10, |v| decision(v, 1)["done"] = json!(true)),
            // The units alive contradict the final state.
            edited(11, |v| v["outcome"]["alive"] = json!([9, 9])),
        ],
        "outcome_inconsistent",
    );
    assert!(q[0].detail.contains("final state"), "{q:?}");
}

#[test]
fn unknown_encoders_and_formats_are_quarantined() {
    let q = between_good(
        &[
            edited(9, |v| {
                v["encoder"]["hash"] = json!("skirmish-v1-0000000000000000");
            }),
            edited(10, |v| v["encoder"]["hash"] = json!("")),
        ],
        "unknown_encoder",
    );
    assert!(q[0].detail.contains("skirmish-v1-0000000000000000"));
    between_good(
        &[edited(9, |v| v["format"] = json!("tactician.battle/2"))],
        "unsupported_format",
    );
}

#[test]
fn values_outside_their_domain_are_quarantined() {
    between_good(
        &[
            edited(9, |v| v["sides"][0]["kind"] = json!("alien")),
            edited(10, |v| v["outcome"]["winner"] = json!(2)),
            edited(11, |v| decision(v, 0)["side"] = json!(2)),
            edited(12, |v| v["seed"] = json!("seven")),
            edited(13, |v| v["battle_id"] = json!("")),
            // Valid JSON, but not a record.
            "[1, 2, 3]".to_string(),
        ],
        "invalid_value",
    );
}

#[test]
fn empty_battles_and_over_long_lines_are_quarantined() {
    between_good(&[edited(9, |v| v["decisions"] = json!([]))], "empty_battle");
    let longest = (0..8).map(|i| line(i).len()).max().unwrap();
    let padded = edited(9, |v| v["padding"] = json!("x".repeat(longest)));
    between_good_with(
        &[padded],
        "too_large",
        &IngestOptions {
            max_line: longest + 1,
            ..opts()
        },
    );
}

#[test]
fn duplicate_battles_within_a_file_and_across_files_are_quarantined() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    let a = write_plain(&dir.path().join("a.jsonl"), &[line(0), line(1), line(0)]);
    // The same battle written differently (other spacing) is the same battle.
    let spaced = line(2).replace(",\"", ", \"");
    assert_ne!(spaced, line(2));
    let b_lines = [line(2), line(1), spaced];
    let b = dir.path().join("b.jsonl.zst");
    fs::write(&b, frames(&b_lines).concat()).unwrap();
    let report = run(&ds, &[a.clone(), b.clone()], &opts()).unwrap();
    check_reconciles(&ds, &report);
    let (a, b) = (a.display().to_string(), b.display().to_string());
    let dup = "duplicate_battle".to_string();
    assert_eq!(
        where_why(&quarantine(&ds, &report)),
        [
            (a, 3, dup.clone()),
            (b.clone(), 2, dup.clone()),
            (b, 3, dup)
        ]
    );
    assert_eq!(report.accepted, 3);
    let q = quarantine(&ds, &report);
    assert_eq!(q[0].battle_id.as_deref(), Some(id(0).as_str()));
}

#[test]
fn ingesting_the_same_logs_twice_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    let plain = write_plain(
        &dir.path().join("a.jsonl"),
        &(0..4).map(line).collect::<Vec<_>>(),
    );
    let zst = dir.path().join("b.jsonl.zst");
    fs::write(&zst, frames(&(4..7).map(line).collect::<Vec<_>>()).concat()).unwrap();
    let logs = [plain, zst];
    let first = run(&ds, &logs, &opts()).unwrap();
    check_reconciles(&ds, &first);
    assert_eq!((first.accepted, first.quarantined), (7, 0));
    let parts_before: Vec<(String, Vec<u8>)> = snapshot(&ds)
        .into_iter()
        .filter(|(n, _)| n.ends_with(".parquet"))
        .collect();
    let before = Dataset::open(&ds).unwrap().manifest().clone();

    let second = run(&ds, &logs, &opts()).unwrap();
    check_reconciles(&ds, &second);
    assert_eq!((second.records, second.accepted), (7, 0));
    assert_eq!(second.by_reason, reasons(&[("duplicate_battle", 7)]));
    assert!(second.new_files.is_empty(), "{second:#?}");
    let after = Dataset::open(&ds).unwrap().manifest().clone();
    assert_eq!(after.files, before.files);
    assert_eq!(
        (after.battles, after.transitions),
        (before.battles, before.transitions)
    );
    assert_eq!(after.ingests.len(), 2);
    let parts_after: Vec<(String, Vec<u8>)> = snapshot(&ds)
        .into_iter()
        .filter(|(n, _)| n.ends_with(".parquet"))
        .collect();
    assert_eq!(parts_after, parts_before);
    assert_eq!(battle_rows(&ds).len(), 7);
}

/// One defect planted in the dirty set: the line it is on, and the reason it must get.
struct Planted {
    line: u64,
    reason: &'static str,
}

/// Writes a plain log of `entries` (good battle index or bad line with its reason); returns
/// the path and what was planted.
fn dirty_plain(path: &Path, entries: &[Entry]) -> (PathBuf, Vec<Planted>, Vec<usize>) {
    let mut lines = Vec::new();
    let mut planted = Vec::new();
    let mut good = Vec::new();
    for (n, e) in entries.iter().enumerate() {
        match e {
            Entry::Good(i) => {
                lines.push(line(*i));
                good.push(*i);
            }
            Entry::Bad(text, reason) => {
                lines.push(text.clone());
                planted.push(Planted {
                    line: n as u64 + 1,
                    reason,
                });
            }
        }
    }
    (write_plain(path, &lines), planted, good)
}

enum Entry {
    Good(usize),
    Bad(String, &'static str),
}

#[test]
fn a_dirty_log_set_with_every_kind_of_defect_reconciles_exactly() {
    use Entry::{Bad, Good};
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    let full = line(15);
    let longest = (0..16).map(|i| line(i).len()).max().unwrap();
    let opts = IngestOptions {
        max_line: longest + 100,
        ..opts()
    };
    let (a, mut planted_a, mut good) = dirty_plain(
        &dir.path().join("a.jsonl"),
        &[
            Good(0),
            Bad("{not json".into(), "malformed_json"),
            Good(1),
            Bad(full[..full.len() / 2].into(), "truncated"),
            Bad(without(15, "/decisions/2/action"), "missing_field"),
            Good(2),
            Bad(
                edited(15, |v| {
                    decision(v, 0)["features"].as_array_mut().unwrap().pop();
                }),
                "feature_length",
            ),
            Bad(with_raw(15, "/decisions/1/features/0", "NaN"), "non_finite"),
            Bad(
                with_raw(14, "/decisions/1/reward", "-Infinity"),
                "non_finite",
            ),
            Good(3),
            Bad(
                edited(15, |v| decision(v, 1)["action"] = json!(99)),
                "action_out_of_range",
            ),
            Bad(illegal_action(15, 2), "action_illegal"),
            Bad(
                edited(15, |v| decision(v, 1)["legal"] = json!("101")),
                "mask_invalid",
            ),
            Bad(
                edited(15, |v| {
                    v["decisions"].as_array_mut().unwrap().swap(0, 1);
                }),
                "turn_order",
            ),
            Bad(without(14, "/decisions/3"), "turn_order"),
            Good(4),
            Good(0), // a duplicate within the batch: planted below
            Bad(
                edited(15, |v| {
                    let t = v["outcome"]["turns"].as_u64().unwrap();
                    v["outcome"]["turns"] = json!(t + 2);
                }),
                "outcome_inconsistent",
            ),
            Bad(
                edited(15, |v| {
                    v["encoder"]["hash"] = json!("other-0123456789abcdef")
                }),
                "unknown_encoder",
            ),
            Bad(
                edited(15, |v| v["format"] = json!("tactician.battle/9")),
                "unsupported_format",
            ),
            Bad(edited(15, |v| v["decisions"] = json!([])), "empty_battle"),
            Bad(
                edited(15, |v| v["sides"][1]["kind"] = json!("ghost")),
                "invalid_value",
            ),
            Bad(
                edited(15, |v| v["pad"] = json!("y".repeat(longest + 200))),
                "too_large",
            ),
            Good(5),
        ],
    );
    // The second Good(0) is the duplicate: it is not a good battle, it is a planted defect.
    let dup_line = 17;
    assert_eq!(good.iter().filter(|&&i| i == 0).count(), 2);
    good.retain({
        let mut seen = false;
        move |&i| {
            if i == 0 {
                let keep = !seen;
                seen = true;
                keep
            } else {
                true
            }
        }
    });
    planted_a.push(Planted {
        line: dup_line,
        reason: "duplicate_battle",
    });

    // A zstd log as collect writes it, with a corrupt frame, a duplicate of a battle of the
    // first file, and a cut-off end.
    let b_lines: Vec<String> = [6, 7, 2, 8, 9, 10].into_iter().map(line).collect();
    let mut b_frames = frames(&b_lines);
    let f = &mut b_frames[3];
    let mid = f.len() / 2;
    for x in &mut f[mid..mid + 8] {
        *x ^= 0xa5;
    }
    let last = b_frames.pop().unwrap();
    let mut b_bytes = b_frames.concat();
    b_bytes.extend_from_slice(&last[..last.len() / 3]);
    let b = dir.path().join("b.jsonl.zst");
    fs::write(&b, b_bytes).unwrap();
    let planted_b = [
        Planted {
            line: 3,
            reason: "duplicate_battle",
        },
        Planted {
            line: 4,
            reason: "corrupt_compression",
        },
        Planted {
            line: 6,
            reason: "corrupt_compression",
        },
    ];
    let good_b = [6, 7, 9];

    // A file that cannot be read at all.
    let missing = dir.path().join("missing.jsonl");

    let logs = [a.clone(), b.clone(), missing.clone()];
    let report = run(&ds, &logs, &opts).unwrap();
    check_reconciles(&ds, &report);

    let mut want_reasons: BTreeMap<String, u64> = BTreeMap::new();
    for p in planted_a.iter().chain(&planted_b) {
        *want_reasons.entry(p.reason.to_string()).or_default() += 1;
    }
    // Every reason code of a record's content is planted (read errors need a failing disk).
    assert_eq!(want_reasons.len(), 17, "{want_reasons:?}");
    assert_eq!(report.by_reason, want_reasons);
    let n_planted = (planted_a.len() + planted_b.len()) as u64;
    let n_good = (good.len() + good_b.len()) as u64;
    assert_eq!(report.quarantined, n_planted);
    assert_eq!(report.accepted, n_good);
    assert_eq!(report.records, n_planted + n_good);
    assert_eq!(
        report.transitions,
        good.iter()
            .chain(&good_b)
            .map(|&i| decisions_of(i))
            .sum::<u64>()
    );

    // Exactly the planted entries, by file and line.
    let (an, bn) = (a.display().to_string(), b.display().to_string());
    let mut want_q: Vec<(String, u64, String)> = planted_a
        .iter()
        .map(|p| (an.clone(), p.line, p.reason.to_string()))
        .chain(
            planted_b
                .iter()
                .map(|p| (bn.clone(), p.line, p.reason.to_string())),
        )
        .collect();
    want_q.sort();
    let mut got_q = where_why(&quarantine(&ds, &report));
    got_q.sort();
    assert_eq!(got_q, want_q);

    // Per file.
    let f = &report.files;
    assert_eq!(
        (f[0].records, f[0].accepted, f[0].quarantined),
        (
            (planted_a.len() + good.len()) as u64,
            good.len() as u64,
            planted_a.len() as u64
        )
    );
    assert_eq!((f[1].records, f[1].accepted, f[1].quarantined), (6, 3, 3));
    assert!(f[1].compressed);
    assert_eq!((f[2].records, f[2].accepted, f[2].quarantined), (0, 0, 0));
    let err = f[2].error.as_deref().expect("the missing file is reported");
    assert!(err.contains("No such file"), "{err}");

    // The accepted battles, from where they were read.
    let mut kept: Vec<String> = battle_rows(&ds).into_iter().map(|r| r.id).collect();
    kept.sort();
    let mut want_kept: Vec<String> = good.iter().chain(&good_b).map(|&i| id(i)).collect();
    want_kept.sort();
    assert_eq!(kept, want_kept);
    Dataset::open(&ds).unwrap().verify().unwrap();

    // Again: everything accepted before is now a duplicate; the defects are found again.
    let again = run(&ds, &logs, &opts).unwrap();
    check_reconciles(&ds, &again);
    assert_eq!(again.accepted, 0);
    let mut want_again = want_reasons.clone();
    *want_again.entry("duplicate_battle".into()).or_default() += n_good;
    assert_eq!(again.by_reason, want_again);
    assert_eq!(battle_rows(&ds).len() as u64, n_good);
}
