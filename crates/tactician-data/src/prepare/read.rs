//! Reading a dataset's tables: the battles (small, whole) and the transitions (streamed one
//! row group at a time, filtered and assigned to splits as they are decoded).

use super::PrepareConfig;
use super::PrepareError;
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
use rayon::prelude::*;
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
    batch_rows: usize,
) -> Result<ParquetRecordBatchReader, PrepareError> {
    let file = File::open(path).map_err(|e| PrepareError::io("open", path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(file, meta.clone());
    for c in columns {
        if builder.schema().field_with_name(c).is_err() {
            return Err(PrepareError::column(path, c, "is missing"));
        }
    }
    let mask = ProjectionMask::columns(builder.parquet_schema(), columns.iter().copied());
    let mut builder = builder.with_projection(mask).with_batch_size(batch_rows);
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
            1 << 16,
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
    /// The unit's first row in the row group.
    pub first_row: u64,
    /// Rows in the unit.
    pub rows: u64,
}

/// Rows per unit of work at most: row groups are cut into pieces of this size, so that two
/// threads share the work evenly even when a dataset has few row groups (ingest writes 65,536
/// rows per group, so 250,000 decisions make four, one of them small).
pub const UNIT_ROWS: u64 = 16_384;

impl Unit {
    /// The selection of the unit's rows within its row group, followed by `then`.
    fn selection(&self, then: &[RowSelector]) -> RowSelection {
        let mut s = Vec::with_capacity(then.len() + 1);
        if self.first_row > 0 {
            s.push(RowSelector::skip(self.first_row as usize));
        }
        s.extend_from_slice(then);
        RowSelection::from(s)
    }
}

/// Every row group of the transitions table, in order.
pub fn units(ds: &Dataset) -> Result<Vec<Unit>, PrepareError> {
    let mut out = Vec::new();
    for f in ds.manifest().table("transitions") {
        let path = ds.root().join(&f.path);
        let meta = metadata(&path)?;
        let mut rows = 0;
        for (g, rg) in meta.metadata().row_groups().iter().enumerate() {
            let n = rg.num_rows() as u64;
            rows += n;
            let mut first_row = 0;
            while first_row < n {
                let len = UNIT_ROWS.min(n - first_row);
                out.push(Unit {
                    path: path.clone(),
                    meta: meta.clone(),
                    row_group: g,
                    first_row,
                    rows: len,
                });
                first_row += len;
            }
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

/// The transitions read, filtered and sorted into splits.
#[derive(Debug)]
pub struct Scanned {
    /// Kept rows per split, in dataset order. The training split's features tensor is
    /// followed by room (zeros) for the `train_copies` asked of [`scan`], for
    /// [`super::augment::augment`] to fill in place.
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

/// Rows per batch of the features pass: small enough that its buffers (about 1 MB) are reused
/// from the heap rather than mapped fresh from the kernel and faulted in page by page for
/// every batch, which a batch of 65,536 rows (68 MB) was.
const FEATURE_BATCH_ROWS: usize = 1024;

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
#[derive(Default)]
struct FirstPass {
    pending: Vec<Pending>,
    legal: Vec<u8>,
    selectors: Vec<RowSelector>,
    /// Kept decisions per split.
    per_split: [usize; 3],
    removed: [u64; RULES.len()],
    read: u64,
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

/// Reads every unit in two passes. The first reads the small columns of every unit, to filter
/// its decisions and sort the kept ones into splits; that fixes where each unit's kept rows go
/// in the splits' feature tensors, which are then allocated once at their final size. The
/// second pass reads the features of the kept rows only (a removed row's features are never
/// copied, and pages with none kept are skipped unread) straight to their final place, all
/// units in parallel. `progress` is called with the decisions read so far.
///
/// The training split's features tensor gets room for `train_copies` augmented copies of
/// every row after the rows, so that augmentation neither copies the rows again nor faults in
/// a second tensor of their size.
pub fn scan(
    units: &[Unit],
    battles: &Battles,
    allowed: &[bool],
    config: &PrepareConfig,
    (nf, na): (usize, usize),
    train_copies: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Scanned, PrepareError> {
    let firsts: Vec<FirstPass> = units
        .par_iter()
        .map(|u| first_pass(u, battles, allowed, config, na))
        .collect::<Result<_, _>>()?;
    let fw = 4 * nf;
    let totals: [usize; 3] = std::array::from_fn(|k| firsts.iter().map(|f| f.per_split[k]).sum());
    // Zeroed allocations: the kernel maps zero pages that the second pass faults in as it
    // writes, on both threads, instead of one thread clearing them first.
    let room = [1 + train_copies, 1, 1];
    let mut features: [Vec<u8>; 3] = std::array::from_fn(|k| vec![0u8; totals[k] * room[k] * fw]);
    let mut slices: Vec<[&mut [u8]; 3]> = Vec::with_capacity(units.len());
    {
        let mut rest: [&mut [u8]; 3] = {
            let [a, b, c] = &mut features;
            [a.as_mut_slice(), b.as_mut_slice(), c.as_mut_slice()]
        };
        for f in &firsts {
            slices.push(std::array::from_fn(|k| {
                let (head, tail) = std::mem::take(&mut rest[k]).split_at_mut(f.per_split[k] * fw);
                rest[k] = tail;
                head
            }));
        }
    }
    let done = std::sync::atomic::AtomicU64::new(0);
    let invalid: Vec<Vec<usize>> = units
        .par_iter()
        .zip(&firsts)
        .zip(slices)
        .map(|((u, first), out)| {
            let invalid = second_pass(u, first, nf, out)?;
            let read = done.fetch_add(u.rows, std::sync::atomic::Ordering::Relaxed) + u.rows;
            progress(read);
            Ok(invalid)
        })
        .collect::<Result<_, PrepareError>>()?;

    let mut out = Scanned {
        rows: std::array::from_fn(|_| Rows::new(nf, na)),
        battles: Default::default(),
        removed: [0; RULES.len()],
        read: 0,
    };
    for (k, rows) in out.rows.iter_mut().enumerate() {
        rows.legal.reserve_exact(totals[k] * na);
        rows.action.reserve_exact(totals[k]);
        rows.value.reserve_exact(totals[k]);
        rows.weight.reserve_exact(totals[k]);
        rows.group.reserve_exact(totals[k]);
    }
    // Rows whose features are not finite leave the feature tensors by compaction (a rare
    // case: the tensors are only moved when there is one).
    let mut position = [0usize; 3];
    let mut write = [0usize; 3];
    for (first, bad) in firsts.iter().zip(invalid) {
        let mut bad = bad.into_iter().peekable();
        for (i, p) in first.pending.iter().enumerate() {
            let k = usize::from(p.split);
            let at = position[k];
            position[k] += 1;
            if bad.next_if_eq(&i).is_some() {
                out.removed[4] += 1;
                continue;
            }
            if write[k] != at {
                features[k].copy_within(at * fw..(at + 1) * fw, write[k] * fw);
            }
            write[k] += 1;
            let rows = &mut out.rows[k];
            rows.legal
                .extend_from_slice(&first.legal[i * na..(i + 1) * na]);
            rows.action.push(p.action);
            rows.value.push(p.value);
            rows.weight.push(1.0);
            rows.group.push(p.player);
            let bl = &mut out.battles[k];
            if bl.last() != Some(&p.battle) {
                bl.push(p.battle);
            }
        }
        for (r, n) in out.removed.iter_mut().zip(first.removed) {
            *r += n;
        }
        out.read += first.read;
    }
    for (((rows, mut f), n), room) in out.rows.iter_mut().zip(features).zip(write).zip(room) {
        f.truncate(n * room * fw);
        rows.features = f;
    }
    Ok(out)
}

/// The first pass over one unit: its small columns, filtered.
fn first_pass(
    unit: &Unit,
    battles: &Battles,
    allowed: &[bool],
    config: &PrepareConfig,
    na: usize,
) -> Result<FirstPass, PrepareError> {
    let path = &unit.path;
    let mut first = FirstPass::default();
    let whole = unit.selection(&[RowSelector::select(unit.rows as usize)]);
    let reader = open_reader(
        path,
        &unit.meta,
        &COLUMNS,
        Some(unit.row_group),
        Some(whole),
        1 << 16,
    )?;
    for batch in reader {
        let batch = batch.map_err(|e| PrepareError::parquet(path, e))?;
        filter_batch(&batch, path, battles, allowed, config, na, &mut first)?;
    }
    if first.read != unit.rows {
        return Err(PrepareError::Corrupt(format!(
            "{}: rows {}.. of row group {} gave {} rows where the footer says {}",
            path.display(),
            unit.first_row,
            unit.row_group,
            first.read,
            unit.rows
        )));
    }
    Ok(first)
}

/// The second pass over one unit: the features of its kept rows, written in order to each
/// split's slice `out[split]` (which holds exactly that many rows). Returns the positions (in
/// `first.pending`) of the rows whose features are not all finite.
fn second_pass(
    unit: &Unit,
    first: &FirstPass,
    nf: usize,
    out: [&mut [u8]; 3],
) -> Result<Vec<usize>, PrepareError> {
    let path = &unit.path;
    let mut invalid = Vec::new();
    if first.pending.is_empty() {
        return Ok(invalid);
    }
    let fw = 4 * nf;
    let selection = unit.selection(&first.selectors);
    let reader = open_reader(
        path,
        &unit.meta,
        &["features"],
        Some(unit.row_group),
        Some(selection),
        FEATURE_BATCH_ROWS,
    )?;
    let mut next = 0usize;
    let mut cursor = [0usize; 3];
    for batch in reader {
        let batch = batch.map_err(|e| PrepareError::parquet(path, e))?;
        let features = col::<FixedSizeBinaryArray>(&batch, "features", path)?;
        if features.value_length() as usize != fw {
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
            let f = features.value(r);
            if !f
                .chunks_exact(4)
                .all(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]) & 0x7f80_0000 != 0x7f80_0000)
            {
                invalid.push(next);
            }
            let k = usize::from(p.split);
            out[k][cursor[k] * fw..(cursor[k] + 1) * fw].copy_from_slice(f);
            cursor[k] += 1;
            next += 1;
        }
    }
    if next != first.pending.len() {
        return Err(PrepareError::Corrupt(format!(
            "{}: {} rows selected but {next} read",
            path.display(),
            first.pending.len()
        )));
    }
    Ok(invalid)
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
) -> Result<(), PrepareError> {
    let ids = col::<StringArray>(batch, "battle_id", path)?;
    let side = col::<UInt8Array>(batch, "side", path)?;
    let legal = col::<StringArray>(batch, "legal", path)?;
    let action = col::<UInt32Array>(batch, "action", path)?;
    let outcome = col::<Float32Array>(batch, "outcome", path)?;
    let n = batch.num_rows();
    first.read += n as u64;
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
            first.removed[rule] += 1;
            first.mark(false);
            continue;
        }
        first.mark(true);
        first.legal.extend(mask.iter().map(|&b| b - b'0'));
        first.per_split[info.split as usize] += 1;
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
