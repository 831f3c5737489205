//! Tests of the statistics: known answers on small hand-built datasets, and an end-to-end run
//! of collect → ingest → stats checked against the collection's own summary.

mod end_to_end;
mod known;
mod units;

use crate::dataset::table::TableWriter;
use crate::dataset::{Dataset, schema};
use arrow_array::builder::StringBuilder;
use arrow_array::{
    ArrayRef, BooleanArray, FixedSizeBinaryArray, Float32Array, Float64Array, Int32Array,
    RecordBatch, UInt8Array, UInt16Array, UInt32Array, UInt64Array,
};
use std::path::Path;
use std::sync::Arc;
use tactician_battle::FeatureSpec;

/// What a decision caused, as the log's events would sum up.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fx {
    pub damage: i32,
    pub healing: i32,
    pub applied: u16,
    pub resisted: u16,
    pub knockouts: u16,
    pub items: u16,
    pub energy: i32,
}

/// One decision of a hand-built battle.
#[derive(Debug, Clone)]
pub struct D {
    pub side: u8,
    pub action: &'static str,
    pub us: Option<f64>,
    /// Material of side 0 and side 1 before the decision (as logs write it).
    pub material: Option<[f32; 2]>,
    pub fx: Option<Fx>,
}

/// A decision of `side` choosing `action`, with no timing, material or effects.
pub fn d(side: u8, action: &'static str) -> D {
    D {
        side,
        action,
        us: None,
        material: None,
        fx: None,
    }
}

/// A hand-built battle.
#[derive(Debug, Clone)]
pub struct B {
    pub id: &'static str,
    pub players: [&'static str; 2],
    pub winner: Option<u8>,
    pub victory: &'static str,
    pub wall_ms: Option<f64>,
    pub decisions: Vec<D>,
}

/// A battle between `players` with these decisions.
pub fn b(id: &'static str, players: [&'static str; 2], winner: Option<u8>, decisions: Vec<D>) -> B {
    B {
        id,
        players,
        winner,
        victory: if winner.is_some() {
            "elimination"
        } else {
            "timeout"
        },
        wall_ms: Some(2.0),
        decisions,
    }
}

/// The built-in game's encoder spec (its action names are the ones used here).
pub fn spec() -> FeatureSpec {
    tactician_game::SkirmishEncoder::feature_spec().clone()
}

/// The transitions rows of `battles`, as one record batch.
fn transitions(battles: &[B], spec: &FeatureSpec) -> RecordBatch {
    let rows: Vec<(&B, usize, &D)> = battles
        .iter()
        .flat_map(|b| b.decisions.iter().enumerate().map(move |(t, d)| (b, t, d)))
        .collect();
    let n = rows.len();
    let nf = spec.num_features();
    let strings = |f: &dyn Fn(&(&B, usize, &D)) -> String| {
        let mut s = StringBuilder::new();
        for r in &rows {
            s.append_value(f(r));
        }
        Arc::new(s.finish()) as ArrayRef
    };
    let outcome = |b: &B, side: u8| match b.winner {
        None => 0.0,
        Some(w) if w == side => 1.0,
        Some(_) => -1.0,
    };
    let fx = |f: fn(&Fx) -> i64| rows.iter().map(move |r| r.2.fx.as_ref().map(f));
    let action = |name: &str| spec.action_index(name).expect("a known action") as u32;
    let columns: Vec<ArrayRef> = vec![
        strings(&|r| r.0.id.to_string()),
        Arc::new(
            rows.iter()
                .map(|r| r.1 as u32)
                .collect::<Vec<_>>()
                .into_iter()
                .collect::<UInt32Array>(),
        ),
        Arc::new(rows.iter().map(|_| Some(0u32)).collect::<UInt32Array>()),
        Arc::new(
            rows.iter()
                .map(|r| r.2.side)
                .collect::<Vec<_>>()
                .into_iter()
                .collect::<UInt8Array>(),
        ),
        Arc::new(UInt32Array::from(vec![0; n])),
        strings(&|r| r.0.players[r.2.side as usize].to_string()),
        Arc::new(BooleanArray::from(vec![false; n])),
        Arc::new(
            FixedSizeBinaryArray::try_new(4 * nf as i32, vec![0u8; 4 * nf * n].into(), None)
                .expect("feature bytes"),
        ),
        strings(&|_| "1".repeat(spec.num_actions())),
        Arc::new(UInt16Array::from(vec![spec.num_actions() as u16; n])),
        Arc::new(UInt32Array::from(
            rows.iter().map(|r| action(r.2.action)).collect::<Vec<_>>(),
        )),
        Arc::new(rows.iter().map(|r| r.2.us).collect::<Float64Array>()),
        Arc::new(Float32Array::from(vec![0.0; n])),
        Arc::new(BooleanArray::from(
            rows.iter()
                .map(|r| r.1 + 1 == r.0.decisions.len())
                .collect::<Vec<_>>(),
        )),
        Arc::new(rows.iter().map(|_| None::<u32>).collect::<UInt32Array>()),
        Arc::new(Float32Array::from(
            rows.iter()
                .map(|r| outcome(r.0, r.2.side))
                .collect::<Vec<f32>>(),
        )),
        Arc::new(
            rows.iter()
                .map(|r| r.2.material.map(|m| m[r.2.side as usize]))
                .collect::<Float32Array>(),
        ),
        Arc::new(
            rows.iter()
                .map(|r| r.2.material.map(|m| m[1 - r.2.side as usize]))
                .collect::<Float32Array>(),
        ),
        Arc::new(
            fx(|f| f.damage.into())
                .map(|x| x.map(|x| x as i32))
                .collect::<Int32Array>(),
        ),
        Arc::new(
            fx(|f| f.healing.into())
                .map(|x| x.map(|x| x as i32))
                .collect::<Int32Array>(),
        ),
        Arc::new(
            fx(|f| f.applied.into())
                .map(|x| x.map(|x| x as u16))
                .collect::<UInt16Array>(),
        ),
        Arc::new(
            fx(|f| f.resisted.into())
                .map(|x| x.map(|x| x as u16))
                .collect::<UInt16Array>(),
        ),
        Arc::new(
            fx(|f| f.knockouts.into())
                .map(|x| x.map(|x| x as u16))
                .collect::<UInt16Array>(),
        ),
        Arc::new(
            fx(|f| f.items.into())
                .map(|x| x.map(|x| x as u16))
                .collect::<UInt16Array>(),
        ),
        Arc::new(
            fx(|f| f.energy.into())
                .map(|x| x.map(|x| x as i32))
                .collect::<Int32Array>(),
        ),
    ];
    RecordBatch::try_new(schema::transitions(spec), columns).expect("a valid transitions batch")
}

/// The battles rows of `battles`, as one record batch.
fn battles_batch(battles: &[B], first_line: u64) -> RecordBatch {
    let strings = |f: &dyn Fn(&B) -> String| {
        let mut s = StringBuilder::new();
        for b in battles {
            s.append_value(f(b));
        }
        Arc::new(s.finish()) as ArrayRef
    };
    let n = battles.len();
    let columns: Vec<ArrayRef> = vec![
        strings(&|b| b.id.to_string()),
        Arc::new(battles.iter().map(|_| Some(1u64)).collect::<UInt64Array>()),
        strings(&|_| "tactician-skirmish".into()),
        strings(&|_| "1.0.0".into()),
        strings(&|_| spec().hash().to_string()),
        Arc::new(BooleanArray::from(vec![false; n])),
        strings(&|b| b.players[0].to_string()),
        Arc::new(BooleanArray::from(vec![false; n])),
        strings(&|b| b.players[1].to_string()),
        Arc::new(battles.iter().map(|b| b.winner).collect::<UInt8Array>()),
        strings(&|b| b.victory.to_string()),
        Arc::new(UInt32Array::from(
            battles
                .iter()
                .map(|b| b.decisions.len() as u32)
                .collect::<Vec<_>>(),
        )),
        Arc::new(battles.iter().map(|_| Some(1u32)).collect::<UInt32Array>()),
        Arc::new(battles.iter().map(|b| b.wall_ms).collect::<Float64Array>()),
        Arc::new(battles.iter().map(|_| None::<u64>).collect::<UInt64Array>()),
        strings(&|_| "logs/part-00000.jsonl".into()),
        Arc::new(UInt64Array::from(
            (first_line..first_line + n as u64).collect::<Vec<_>>(),
        )),
        Arc::new(UInt32Array::from(vec![1; n])),
    ];
    RecordBatch::try_new(schema::battles(), columns).expect("a valid battles batch")
}

/// Writes `battles` as a dataset at `root`: the transitions of each group of `per_batch`
/// battles as one batch, in part files of at least `rows_per_file` rows and row groups of
/// `row_group_rows`. Battle `i` gets source line `i + 1`.
pub fn write(
    root: &Path,
    battles: &[B],
    per_batch: usize,
    rows_per_file: u64,
    row_group_rows: usize,
) -> Dataset {
    let spec = spec();
    let mut ds = Dataset::open_or_create(root, &spec).expect("a new dataset");
    let mut t = TableWriter::new(
        root,
        "transitions",
        schema::transitions(&spec),
        1,
        rows_per_file,
        row_group_rows,
    );
    let mut bw = TableWriter::new(
        root,
        "battles",
        schema::battles(),
        1,
        u64::MAX,
        row_group_rows,
    );
    for (k, group) in battles.chunks(per_batch.max(1)).enumerate() {
        t.write(&transitions(group, &spec))
            .expect("transitions written");
        bw.write(&battles_batch(group, (k * per_batch.max(1)) as u64 + 1))
            .expect("battles written");
    }
    let mut manifest = ds.manifest().clone();
    manifest
        .files
        .extend(t.finish().expect("transitions closed"));
    manifest.files.extend(bw.finish().expect("battles closed"));
    manifest.battles = battles.len() as u64;
    manifest.transitions = battles.iter().map(|b| b.decisions.len() as u64).sum();
    ds.commit(manifest).expect("manifest written");
    ds
}

/// Writes `battles` as a one-file dataset in a fresh temporary folder.
pub fn dataset(battles: &[B]) -> (tempfile::TempDir, Dataset) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let ds = write(
        &dir.path().join("ds"),
        battles,
        battles.len(),
        u64::MAX,
        1 << 16,
    );
    (dir, ds)
}
