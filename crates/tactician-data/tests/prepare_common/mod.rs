//! Synthetic datasets for the prepare tests and benchmark: Parquet tables written with the
//! dataset's own schema and writer, with seeded features, masks, actions and outcomes. Battle
//! `b` is the same in every dataset made with the same seed, so datasets that share battles
//! can be compared.

#![allow(dead_code)]

use arrow_array::builder::{FixedSizeBinaryBuilder, StringBuilder};
use arrow_array::{
    ArrayRef, BooleanArray, Float32Array, RecordBatch, UInt8Array, UInt16Array, UInt32Array,
    UInt64Array, new_null_array,
};
use std::path::Path;
use std::sync::Arc;
use tactician_battle::FeatureSpec;
use tactician_data::dataset::Dataset;
use tactician_data::dataset::schema;
use tactician_data::dataset::table::{FeatureCodec, TableWriter};
use tactician_game::SplitMix64;

/// Feature 1 of every row is its battle's number divided by this.
pub const BATTLE_SCALE: f32 = 1_048_576.0;

/// The strategies synthetic battles are played by.
pub const PLAYERS: [&str; 3] = ["aggressive", "search", "support"];

/// One synthetic battle.
pub struct Battle {
    pub id: String,
    pub players: [&'static str; 2],
    pub winner: Option<u8>,
    pub turns: u32,
}

/// Battle `b` of a synthetic dataset with `seed`, of about `rows` decisions.
pub fn battle(seed: u64, b: u64, rows: u32) -> Battle {
    let mut rng = SplitMix64::derive(seed, b);
    let p0 = PLAYERS[(b % 3) as usize];
    let p1 = PLAYERS[((b / 3) % 3) as usize];
    let winner = match rng.below(3) {
        0 => Some(0),
        1 => Some(1),
        _ => None,
    };
    Battle {
        id: format!("synthetic-{b:08}"),
        players: [p0, p1],
        winner,
        turns: rows / 2 + rng.below(rows.max(1)),
    }
}

/// Writes a dataset of battles `first..first + count` into the empty folder `dir`.
pub fn write(
    dir: &Path,
    spec: &FeatureSpec,
    seed: u64,
    first: u64,
    count: u64,
    rows: u32,
) -> Dataset {
    write_poisoned(dir, spec, seed, first, count, rows, None)
}

/// Feature 2 of a decision that [`write_poisoned`] poisons.
pub fn poisoned(t: u32, every: Option<u32>) -> bool {
    every.is_some_and(|e| t % e == e - 1)
}

/// [`write`], with feature 2 of every decision whose turn `t` is [`poisoned`] set to NaN
/// (a defect ingest would have refused, so prepare must drop such decisions as `invalid`).
pub fn write_poisoned(
    dir: &Path,
    spec: &FeatureSpec,
    seed: u64,
    first: u64,
    count: u64,
    rows: u32,
    every: Option<u32>,
) -> Dataset {
    write_with(
        dir,
        spec,
        (seed, first, count, rows),
        every,
        FeatureCodec::default(),
    )
}

/// [`write_poisoned`] of `(seed, first, count, rows)`, compressing the features with `codec`.
pub fn write_with(
    dir: &Path,
    spec: &FeatureSpec,
    (seed, first, count, rows): (u64, u64, u64, u32),
    every: Option<u32>,
    codec: FeatureCodec,
) -> Dataset {
    let mut ds = Dataset::open_or_create(dir, spec).expect("create dataset");
    let t_schema = schema::transitions(spec);
    let b_schema = schema::battles();
    let mut tw = TableWriter::new(dir, "transitions", t_schema.clone(), 1, 1 << 21, 1 << 16)
        .with_feature_codec(codec);
    let mut bw = TableWriter::new(dir, "battles", b_schema.clone(), 1, 1 << 21, 1 << 16);
    let (nf, na) = (spec.num_features(), spec.num_actions());
    let mut total = 0u64;
    let per_batch = 200;
    let mut b = first;
    while b < first + count {
        let end = (b + per_batch).min(first + count);
        let battles: Vec<Battle> = (b..end).map(|i| battle(seed, i, rows)).collect();
        let n: usize = battles.iter().map(|x| x.turns as usize).sum();
        total += n as u64;
        let mut ids = StringBuilder::new();
        let mut players = StringBuilder::new();
        let mut features = FixedSizeBinaryBuilder::with_capacity(n, 4 * nf as i32);
        let mut legal = StringBuilder::new();
        let (mut turn, mut side, mut count_legal, mut action, mut outcome) =
            (vec![], vec![], vec![], vec![], vec![]);
        let mut done = vec![];
        let mut row = vec![0u8; 4 * nf];
        let mut mask = String::with_capacity(na);
        for (k, bt) in battles.iter().enumerate() {
            let mut rng = SplitMix64::derive(seed ^ 0xfeed, b + k as u64);
            for t in 0..bt.turns {
                let s = (t % 2) as u8;
                ids.append_value(&bt.id);
                players.append_value(bt.players[s as usize]);
                for j in 0..nf {
                    let v = if rng.below(5) < 3 {
                        0.0
                    } else {
                        rng.below(9) as f32 / 8.0
                    };
                    // Feature 0 is constant; feature 1 names the battle (exactly, below
                    // 2^20 battles), so tests can map output rows back to battles.
                    let v = match j {
                        0 => 0.25,
                        1 => (b + k as u64) as f32 / BATTLE_SCALE,
                        2 if poisoned(t, every) => f32::NAN,
                        _ => v,
                    };
                    row[4 * j..4 * j + 4].copy_from_slice(&v.to_le_bytes());
                }
                features.append_value(&row).expect("row width");
                mask.clear();
                let only_wait = rng.below(10) == 0;
                let mut legal_actions = vec![0u32];
                mask.push('1');
                for a in 1..na {
                    let l = !only_wait && rng.below(2) == 0;
                    mask.push(if l { '1' } else { '0' });
                    if l {
                        legal_actions.push(a as u32);
                    }
                }
                legal.append_value(&mask);
                count_legal.push(legal_actions.len() as u16);
                action.push(legal_actions[rng.below(legal_actions.len() as u32) as usize]);
                turn.push(t);
                side.push(s);
                done.push(t + 1 == bt.turns);
                outcome.push(match bt.winner {
                    None => 0.0f32,
                    Some(w) if w == s => 1.0,
                    Some(_) => -1.0,
                });
            }
        }
        let nulls = |i: usize| new_null_array(t_schema.field(i).data_type(), n);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(ids.finish()),
            Arc::new(UInt32Array::from(turn.clone())),
            nulls(2),
            Arc::new(UInt8Array::from(side.clone())),
            Arc::new(UInt32Array::from(
                side.iter().map(|&s| u32::from(s)).collect::<Vec<_>>(),
            )),
            Arc::new(players.finish()),
            Arc::new(BooleanArray::from(vec![false; n])),
            Arc::new(features.finish()),
            Arc::new(legal.finish()),
            Arc::new(UInt16Array::from(count_legal)),
            Arc::new(UInt32Array::from(action)),
            nulls(11),
            Arc::new(Float32Array::from(vec![0f32; n])),
            Arc::new(BooleanArray::from(done)),
            nulls(14),
            Arc::new(Float32Array::from(outcome)),
            nulls(16),
            nulls(17),
            nulls(18),
            nulls(19),
            nulls(20),
            nulls(21),
            nulls(22),
            nulls(23),
            nulls(24),
        ];
        tw.write(&RecordBatch::try_new(t_schema.clone(), columns).expect("transitions batch"))
            .expect("write transitions");
        let m = battles.len();
        let strings = |f: &dyn Fn(&Battle) -> String| {
            let mut s = StringBuilder::new();
            for x in &battles {
                s.append_value(f(x));
            }
            Arc::new(s.finish()) as ArrayRef
        };
        let bnull = |i: usize| new_null_array(b_schema.field(i).data_type(), m);
        let columns: Vec<ArrayRef> = vec![
            strings(&|x| x.id.clone()),
            bnull(1),
            strings(&|_| "tactician-skirmish".into()),
            strings(&|_| "1.0.0".into()),
            strings(&|_| spec.hash().to_string()),
            Arc::new(BooleanArray::from(vec![false; m])),
            strings(&|x| x.players[0].to_string()),
            Arc::new(BooleanArray::from(vec![false; m])),
            strings(&|x| x.players[1].to_string()),
            Arc::new(battles.iter().map(|x| x.winner).collect::<UInt8Array>()),
            strings(&|_| "elimination".into()),
            Arc::new(UInt32Array::from(
                battles.iter().map(|x| x.turns).collect::<Vec<_>>(),
            )),
            bnull(12),
            bnull(13),
            bnull(14),
            strings(&|_| "synthetic.jsonl".into()),
            Arc::new(UInt64Array::from(vec![1u64; m])),
            Arc::new(UInt32Array::from(vec![1u32; m])),
        ];
        bw.write(&RecordBatch::try_new(b_schema.clone(), columns).expect("battles batch"))
            .expect("write battles");
        b = end;
    }
    let mut manifest = ds.manifest().clone();
    manifest
        .files
        .extend(tw.finish().expect("finish transitions"));
    manifest.files.extend(bw.finish().expect("finish battles"));
    manifest.battles += count;
    manifest.transitions += total;
    ds.commit(manifest).expect("commit");
    ds
}
