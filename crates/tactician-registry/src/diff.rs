//! Field-by-field differences of two version records.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::VersionRecord;

/// One difference between two versions' records.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// The dotted path of the value, such as `metrics.verify.int8.top1`, `notes`,
    /// `lineage.dataset.hash` or `encoder_hash`.
    pub path: String,
    /// The value in the first record, `None` when it has no such path.
    pub before: Option<Value>,
    /// The value in the second record, `None` when it has no such path.
    pub after: Option<Value>,
}

/// Field-by-field differences of two records, sorted by path.
///
/// The compared fields are `encoder_hash`, `min_runtime`, `model_sha256`, `precision`,
/// `targets`, `metrics`, `lineage` and `notes` (not `group`, `version` nor `published`, which
/// differ between any two versions). JSON objects are flattened to dotted paths
/// (`metrics.verify.int8.top1`); an empty object is a value of its own (`{}`), so that it
/// differs from a missing one; arrays, `targets` included, are compared whole. Paths whose
/// values are equal are left out. A key holding a `.` reads like a nested key.
///
/// ```
/// use serde_json::json;
/// use tactician_registry::{VersionRecord, diff};
///
/// let a = VersionRecord {
///     group: "arena".into(),
///     version: "1".into(),
///     published: "2025-01-31T12:00:00Z".into(),
///     encoder_hash: "e1".into(),
///     min_runtime: "0.1.0".into(),
///     model_sha256: "aa".into(),
///     precision: "int8".into(),
///     targets: vec!["arena/1/model.tflite".into()],
///     metrics: json!({"verify": {"int8": {"top1": 0.91}}}),
///     lineage: json!({}),
///     notes: String::new(),
/// };
/// let mut b = a.clone();
/// b.version = "2".into();
/// b.metrics["verify"]["int8"]["top1"] = json!(0.93);
/// let changes = diff(&a, &b);
/// assert_eq!(changes.len(), 1);
/// assert_eq!(changes[0].path, "metrics.verify.int8.top1");
/// assert_eq!(changes[0].before, Some(json!(0.91)));
/// assert_eq!(changes[0].after, Some(json!(0.93)));
/// ```
pub fn diff(a: &VersionRecord, b: &VersionRecord) -> Vec<Change> {
    let before = flatten_record(a);
    let after = flatten_record(b);
    let paths: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    paths
        .into_iter()
        .filter_map(|path| {
            let (x, y) = (before.get(path), after.get(path));
            (x != y).then(|| Change {
                path: path.clone(),
                before: x.cloned(),
                after: y.cloned(),
            })
        })
        .collect()
}

/// The compared fields of a record as dotted paths and their values.
fn flatten_record(r: &VersionRecord) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let text = |s: &String| Value::String(s.clone());
    out.insert("encoder_hash".to_owned(), text(&r.encoder_hash));
    out.insert("min_runtime".to_owned(), text(&r.min_runtime));
    out.insert("model_sha256".to_owned(), text(&r.model_sha256));
    out.insert("precision".to_owned(), text(&r.precision));
    out.insert("targets".to_owned(), Value::from(r.targets.clone()));
    out.insert("notes".to_owned(), text(&r.notes));
    flatten("metrics".to_owned(), &r.metrics, &mut out);
    flatten("lineage".to_owned(), &r.lineage, &mut out);
    out
}

/// Puts `value` under `path` in `out`, a non-empty object as its members under `path.key`.
fn flatten(path: String, value: &Value, out: &mut BTreeMap<String, Value>) {
    match value {
        Value::Object(members) if !members.is_empty() => {
            for (key, member) in members {
                flatten(format!("{path}.{key}"), member, out);
            }
        }
        _ => {
            out.insert(path, value.clone());
        }
    }
}
