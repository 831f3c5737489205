//! Reading a dataset's tables: the battles (small, whole) and the transitions (streamed one
//! row group at a time, filtered and assigned to splits as they are decoded).

use super::PrepareError;
use super::config::PrepareConfig;
use super::rows::Rows;
use super::split::{self, Split};
use crate::dataset::Dataset;
use arrow_array::{
    Array, FixedSizeBinaryArray, Float32Array, RecordBatch, StringArray, UInt8Array, UInt32Array,
};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder, RowSelection, RowSelectionPolicy, RowSelector,
};
use parquet::file::metadata::PageIndexPolicy;
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

/// The filter rules, in the order they are tried; a removed decision is counted under the
/// first rule that removes it.
pub const RULES: [&str; 5] = [
    "players",
    "min_battle_turns",
    "winners_only",
    "single_legal",
    "invalid",
];

/// What the transitions scan needs to know about one battle.
#[derive(Debug, Clone)]
pub struct BattleInfo {
    /// Position in the battles table.
    pub index: u32,
    /// Its split.
    pub split: Split,
    /// Index of each side's player in [`Battles::players`].
    pub player: [u32; 2],
    /// Whether it passes `min_battle_turns`.
    pub long_enough: bool,
}

/// The battles table, as the scan uses it.
#[derive(Debug, Default)]
pub struct Battles {
    /// By battle id.
    pub by_id: HashMap<String, BattleInfo>,
    /// Battle ids in table order.
    pub ids: Vec<String>,
    /// Every player name, sorted.
    pub players: Vec<String>,
}

/// Opens a reader of `columns` of one part file whose metadata is `meta`, optionally of one
/// row group and a selection of its rows.
fn open_reader(
    path: &Path,
    meta: &ArrowReaderMetadata,
    columns: &[&str],
    row_group: Option<usize>,
    selection: Option<RowSelection>,
) -> Result<ParquetRecordBatchReader, PrepareError> {
    let file = File::open(path).map_err(|e| PrepareError::io("open", path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(file, meta.clone());
    for c in columns {
        if builder.schema().field_with_name(c).is_err() {
            return Err(PrepareError::column(path, c, "is missing"));
        }
    }
    let mask = ProjectionMask::columns(builder.parquet_schema(), columns.iter().copied());
    let mut builder = builder.with_projection(mask).with_batch_size(1 << 16);
    if let Some(g) = row_group {
        builder = builder.with_row_groups(vec![g]);
    }
    if let Some(s) = selection {
        // Skip by runs: the mask policy would decode every row and then filter.
        builder = builder
            .with_row_selection(s)
            .with_row_selection_policy(RowSelectionPolicy::Selectors);
    }
    builder.build().map_err(|e| PrepareError::parquet(path, e))
}

/// Reads a part file's footer, with its offset index where it has one (so that a row
/// selection skips whole pages unread).
fn metadata(path: &Path) -> Result<ArrowReaderMetadata, PrepareError> {
    let file = File::open(path).map_err(|e| PrepareError::io("open", path, e))?;
    let options = ArrowReaderOptions::new().with_offset_index_policy(PageIndexPolicy::Optional);
    ArrowReaderMetadata::load(&file, options).map_err(|e| PrepareError::parquet(path, e))
}

fn col<'a, T: Array + 'static>(
    batch: &'a RecordBatch,
    name: &str,
    path: &Path,
) -> Result<&'a T, PrepareError> {
    let a = batch
        .column_by_name(name)
        .ok_or_else(|| PrepareError::column(path, name, "is missing"))?;
    if a.null_count() > 0 {
        return Err(PrepareError::column(path, name, "holds nulls"));
    }
    a.as_any().downcast_ref::<T>().ok_or_else(|| {
        PrepareError::column(
            path,
            name,
            format!("has type {} unlike the dataset format", a.data_type()),
        )
    })
}

/// Reads the battles table and assigns every battle its split.
pub fn battles(ds: &Dataset, config: &PrepareConfig) -> Result<Battles, PrepareError> {
    let mut raw: Vec<(String, [String; 2], u32)> = Vec::new();
    for f in ds.manifest().table("battles") {
        let path = ds.root().join(&f.path);
        let meta = metadata(&path)?;
        let reader = open_reader(
            &path,
            &meta,
            &["battle_id", "side0_player", "side1_player", "turns"],
            None,
            None,
        )?;
        for batch in reader {
            let batch = batch.map_err(|e| PrepareError::parquet(&path, e))?;
            let id = col::<StringArray>(&batch, "battle_id", &path)?;
            let p0 = col::<StringArray>(&batch, "side0_player", &path)?;
            let p1 = col::<StringArray>(&batch, "side1_player", &path)?;
            let turns = col::<UInt32Array>(&batch, "turns", &path)?;
            for r in 0..batch.num_rows() {
                raw.push((
                    id.value(r).to_string(),
                    [p0.value(r).to_string(), p1.value(r).to_string()],
                    turns.value(r),
                ));
            }
        }
    }
    let mut players: Vec<String> = raw.iter().flat_map(|(_, p, _)| p.clone()).collect();
    players.sort();
    players.dedup();
    let index = |p: &str| players.binary_search_by(|x| x.as_str().cmp(p)).unwrap_or(0) as u32;
    let mut by_id = HashMap::with_capacity(raw.len());
    let mut ids = Vec::with_capacity(raw.len());
    for (i, (id, p, turns)) in raw.into_iter().enumerate() {
        let info = BattleInfo {
            index: i as u32,
            split: split::assign(config.seed, &id, config.train, config.val),
            player: [index(&p[0]), index(&p[1])],
            long_enough: turns >= config.min_battle_turns,
        };
        if by_id.insert(id.clone(), info).is_some() {
            return Err(PrepareError::Corrupt(format!(
                "battle {id} appears twice in the battles table"
            )));
        }
        ids.push(id);
    }
    Ok(Battles {
        by_id,
        ids,
        players,
    })
}

/// One row group of one transitions part file: the unit of parallel work.
#[derive(Debug, Clone)]
pub struct Unit {
    /// The part file.
    pub path: PathBuf,
    /// Its footer, read once.
    pub meta: ArrowReaderMetadata,
    /// The row group.
    pub row_group: usize,
    /// Rows in it.
    pub rows: u64,
}

/// Every row group of the transitions table, in order.
pub fn units(ds: &Dataset) -> Result<Vec<Unit>, PrepareError> {
    let mut out = Vec::new();
    for f in ds.manifest().table("transitions") {
        let path = ds.root().join(&f.path);
        let meta = metadata(&path)?;
        let mut rows = 0;
        for (g, rg) in meta.metadata().row_groups().iter().enumerate() {
            rows += rg.num_rows() as u64;
            out.push(Unit {
                path: path.clone(),
                meta: meta.clone(),
                row_group: g,
                rows: rg.num_rows() as u64,
            });
        }
        if rows != f.rows {
            return Err(PrepareError::Corrupt(format!(
                "{} holds {rows} rows but the dataset manifest says {}",
                path.display(),
                f.rows
            )));
        }
    }
    Ok(out)
}

/// What the scan of one unit produced.
#[derive(Debug)]
pub struct Chunk {
    /// Kept rows per split.
    pub rows: [Rows; 3],
    /// Battles (table positions) with kept rows, per split, possibly repeated.
    pub battles: [Vec<u32>; 3],
    /// Rows removed per rule of [`RULES`].
    pub removed: [u64; RULES.len()],
    /// Rows read.
    pub read: u64,
}

/// The columns the scan's first pass reads: everything the filters look at.
const COLUMNS: [&str; 5] = ["battle_id", "side", "legal", "action", "outcome"];

/// A decision that passed the first pass, waiting for its features.
#[derive(Debug, Clone, Copy)]
struct Pending {
    split: u8,
    player: u32,
    battle: u32,
    action: i32,
    value: f32,
}

/// The first pass's verdicts on one unit: the decisions it keeps, their legal masks (as 0/1
/// bytes, `na` per decision) and the selection of their rows.
struct FirstPass {
    pending: Vec<Pending>,
    legal: Vec<u8>,
    selectors: Vec<RowSelector>,
}

impl FirstPass {
    fn mark(&mut self, keep: bool) {
        match self.selectors.last_mut() {
            Some(s) if s.skip != keep => s.row_count += 1,
            _ => self.selectors.push(if keep {
                RowSelector::select(1)
            } else {
                RowSelector::skip(1)
            }),
        }
    }
}

/// Reads one unit in two passes: the small columns first, to filter its decisions and sort
/// the kept ones into splits; then the features of the kept rows only (a removed row's
/// features are never copied, and pages with none kept are skipped unread).
pub fn scan(
    unit: &Unit,
    battles: &Battles,
    allowed: &[bool],
    config: &PrepareConfig,
    nf: usize,
    na: usize,
) -> Result<Chunk, PrepareError> {
    let path = &unit.path;
    let mut chunk = Chunk {
        rows: std::array::from_fn(|_| Rows::new(nf, na)),
        battles: Default::default(),
        removed: [0; RULES.len()],
        read: 0,
    };
    let mut first = FirstPass {
        pending: Vec::new(),
        legal: Vec::new(),
        selectors: Vec::new(),
    };
    let reader = open_reader(path, &unit.meta, &COLUMNS, Some(unit.row_group), None)?;
    for batch in reader {
        let batch = batch.map_err(|e| PrepareError::parquet(path, e))?;
        filter_batch(
            &batch, path, battles, allowed, config, na, &mut first, &mut chunk,
        )?;
    }
    if chunk.read != unit.rows {
        return Err(PrepareError::Corrupt(format!(
            "{}: row group {} gave {} rows where its footer says {}",
            path.display(),
            unit.row_group,
            chunk.read,
            unit.rows
        )));
    }
    if first.pending.is_empty() {
        return Ok(chunk);
    }
    let selection = RowSelection::from(first.selectors);
    let reader = open_reader(
        path,
        &unit.meta,
        &["features"],
        Some(unit.row_group),
        Some(selection),
    )?;
    let mut next = 0usize;
    for batch in reader {
        let batch = batch.map_err(|e| PrepareError::parquet(path, e))?;
        let features = col::<FixedSizeBinaryArray>(&batch, "features", path)?;
        if features.value_length() as usize != 4 * nf {
            return Err(PrepareError::column(
                path,
                "features",
                format!(
                    "holds {} bytes per row where the encoder has {nf} features",
                    features.value_length()
                ),
            ));
        }
        for r in 0..batch.num_rows() {
            let Some(p) = first.pending.get(next) else {
                return Err(PrepareError::Corrupt(format!(
                    "{}: more features than selected rows",
                    path.display()
                )));
            };
            let mask = &first.legal[next * na..(next + 1) * na];
            next += 1;
            let f = features.value(r);
            if !f
                .chunks_exact(4)
                .all(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]) & 0x7f80_0000 != 0x7f80_0000)
            {
                chunk.removed[4] += 1;
                continue;
            }
            let k = usize::from(p.split);
            let out = &mut chunk.rows[k];
            out.features.extend_from_slice(f);
            out.legal.extend_from_slice(mask);
            out.action.push(p.action);
            out.value.push(p.value);
            out.weight.push(1.0);
            out.group.push(p.player);
            let bl = &mut chunk.battles[k];
            if bl.last() != Some(&p.battle) {
                bl.push(p.battle);
            }
        }
    }
    if next != first.pending.len() {
        return Err(PrepareError::Corrupt(format!(
            "{}: {} rows selected but {next} read",
            path.display(),
            first.pending.len()
        )));
    }
    Ok(chunk)
}

#[allow(clippy::too_many_arguments)]
fn filter_batch(
    batch: &RecordBatch,
    path: &Path,
    battles: &Battles,
    allowed: &[bool],
    config: &PrepareConfig,
    na: usize,
    first: &mut FirstPass,
    chunk: &mut Chunk,
) -> Result<(), PrepareError> {
    let ids = col::<StringArray>(batch, "battle_id", path)?;
    let side = col::<UInt8Array>(batch, "side", path)?;
    let legal = col::<StringArray>(batch, "legal", path)?;
    let action = col::<UInt32Array>(batch, "action", path)?;
    let outcome = col::<Float32Array>(batch, "outcome", path)?;
    let n = batch.num_rows();
    chunk.read += n as u64;
    let mut current: Option<(&str, &BattleInfo)> = None;
    for r in 0..n {
        let id = ids.value(r);
        let info = match current {
            Some((cid, info)) if cid == id => info,
            _ => {
                let info = battles.by_id.get(id).ok_or_else(|| {
                    PrepareError::Corrupt(format!(
                        "{}: decision of battle {id}, which the battles table does not list",
                        path.display()
                    ))
                })?;
                current = Some((id, info));
                info
            }
        };
        let s = side.value(r);
        let player = info.player[usize::from(s & 1)];
        let mask = legal.value(r).as_bytes();
        let a = action.value(r) as usize;
        let value = outcome.value(r);
        let rule = if !allowed[player as usize] {
            Some(0)
        } else if !info.long_enough {
            Some(1)
        } else if config.winners_only && value <= 0.0 {
            Some(2)
        } else if config.drop_single_legal && mask.iter().filter(|&&b| b == b'1').count() <= 1 {
            Some(3)
        } else if !(s <= 1
            && mask.len() == na
            && a < na
            && mask[a] == b'1'
            && mask.iter().all(|&b| b == b'0' || b == b'1')
            && value.is_finite())
        {
            Some(4)
        } else {
            None
        };
        if let Some(rule) = rule {
            chunk.removed[rule] += 1;
            first.mark(false);
            continue;
        }
        first.mark(true);
        first.legal.extend(mask.iter().map(|&b| b - b'0'));
        first.pending.push(Pending {
            split: info.split as u8,
            player,
            battle: info.index,
            action: a as i32,
            value,
        });
    }
    Ok(())
}
