//! Turning parsed chunks into Arrow record batches.

use crate::ingest::chunk::ChunkResult;
use arrow_array::builder::StringBuilder;
use arrow_array::{
    ArrayRef, BooleanArray, FixedSizeBinaryArray, Float32Array, Float64Array, Int32Array,
    RecordBatch, UInt8Array, UInt16Array, UInt32Array, UInt64Array,
};
use arrow_schema::{ArrowError, DataType, SchemaRef};
use std::sync::Arc;

/// The transitions of `chunk` as a record batch of `schema` (see [`super::schema`]).
///
/// Takes the feature buffer out of `chunk` (the rest is left in place).
pub fn transitions(chunk: &mut ChunkResult, schema: &SchemaRef) -> Result<RecordBatch, ArrowError> {
    let mut features = std::mem::take(&mut chunk.rows.features);
    let chunk = &*chunk;
    let rows = &chunk.rows;
    let n = rows.len();
    let nf = match schema.field_with_name("features").map(|f| f.data_type()) {
        Ok(DataType::FixedSizeBinary(w)) => *w as usize / 4,
        _ => 0,
    };
    let na = rows.legal.len().checked_div(n).unwrap_or(0);
    let battle = |r: usize| &chunk.battles[rows.battle[r] as usize];

    let mut ids = StringBuilder::with_capacity(n, n * 16);
    let mut players = StringBuilder::with_capacity(n, n * 8);
    for r in 0..n {
        let b = battle(r);
        ids.append_value(&b.battle_id);
        players.append_value(&b.player[rows.side[r] as usize]);
    }
    let human: BooleanArray = (0..n)
        .map(|r| Some(battle(r).human[rows.side[r] as usize]))
        .collect();
    let outcome: Float32Array = (0..n)
        .map(|r| match battle(r).winner {
            None => 0.0,
            Some(w) if w == rows.side[r] => 1.0,
            Some(_) => -1.0,
        })
        .collect::<Vec<f32>>()
        .into();
    let next_turn = next_turns(chunk);
    // Features as little-endian f32 bytes, one fixed-size value per row: the parsed floats'
    // buffer is handed over as it is (no copy) on little-endian machines.
    let features = FixedSizeBinaryArray::try_new(
        4 * nf as i32,
        le_bytes(std::mem::take(&mut features)),
        None,
    )?;
    let mut legal = StringBuilder::with_capacity(n, n * na);
    let mut legal_count = Vec::with_capacity(n);
    let mut text = String::with_capacity(na);
    for m in rows.legal.chunks(na.max(1)).take(n) {
        text.clear();
        text.extend(m.iter().map(|&b| if b == 1 { '1' } else { '0' }));
        legal.append_value(&text);
        legal_count.push(m.iter().map(|&b| u16::from(b)).sum::<u16>());
    }
    let legal_count = UInt16Array::from(legal_count);
    let fx = |f: &dyn Fn(&crate::ingest::columns::Effects) -> i64| -> Vec<Option<i64>> {
        rows.effects.iter().map(|e| e.as_ref().map(f)).collect()
    };
    let i32col = |v: Vec<Option<i64>>| -> ArrayRef {
        Arc::new(
            v.into_iter()
                .map(|x| x.map(|x| x as i32))
                .collect::<Int32Array>(),
        )
    };
    let u16col = |v: Vec<Option<i64>>| -> ArrayRef {
        Arc::new(
            v.into_iter()
                .map(|x| x.map(|x| x as u16))
                .collect::<UInt16Array>(),
        )
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(ids.finish()),
        Arc::new(UInt32Array::from(rows.turn.clone())),
        Arc::new(rows.round.iter().copied().collect::<UInt32Array>()),
        Arc::new(UInt8Array::from(rows.side.clone())),
        Arc::new(UInt32Array::from(rows.actor.clone())),
        Arc::new(players.finish()),
        Arc::new(human),
        Arc::new(features),
        Arc::new(legal.finish()),
        Arc::new(legal_count),
        Arc::new(UInt32Array::from(rows.action.clone())),
        Arc::new(rows.decision_us.iter().copied().collect::<Float64Array>()),
        Arc::new(Float32Array::from(rows.reward.clone())),
        Arc::new(BooleanArray::from(rows.done.clone())),
        Arc::new(next_turn.into_iter().collect::<UInt32Array>()),
        Arc::new(outcome),
        Arc::new(material(rows, 0)),
        Arc::new(material(rows, 1)),
        i32col(fx(&|e| i64::from(e.damage))),
        i32col(fx(&|e| i64::from(e.healing))),
        u16col(fx(&|e| i64::from(e.applied))),
        u16col(fx(&|e| i64::from(e.resisted))),
        u16col(fx(&|e| i64::from(e.knockouts))),
        u16col(fx(&|e| i64::from(e.items))),
        i32col(fx(&|e| i64::from(e.energy))),
    ];
    RecordBatch::try_new(schema.clone(), columns)
}

/// The material of the acting side (`which = 0`) or its enemy (`which = 1`); logs give it per
/// side.
fn material(rows: &crate::ingest::columns::Transitions, which: usize) -> Float32Array {
    rows.material
        .iter()
        .zip(&rows.side)
        .map(|(m, &side)| m.map(|m| m[(side as usize + which) & 1]))
        .collect()
}

/// The bytes of `values` in little-endian order, without copying where that is the native order.
fn le_bytes(values: Vec<f32>) -> arrow_buffer::Buffer {
    if cfg!(target_endian = "little") {
        arrow_buffer::Buffer::from_vec(values)
    } else {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        arrow_buffer::Buffer::from_vec(bytes)
    }
}

/// For each row, the turn of the same side's next decision in the same battle.
fn next_turns(chunk: &ChunkResult) -> Vec<Option<u32>> {
    let rows = &chunk.rows;
    let mut out = vec![None; rows.len()];
    let mut next: [Option<u32>; 2] = [None, None];
    let mut battle = u32::MAX;
    for r in (0..rows.len()).rev() {
        if rows.battle[r] != battle {
            battle = rows.battle[r];
            next = [None, None];
        }
        let side = rows.side[r] as usize & 1;
        out[r] = next[side];
        next[side] = Some(rows.turn[r]);
    }
    out
}

/// The battles of `chunk` as a record batch, tagged with the ingest number and the source
/// file names.
pub fn battles(
    chunk: &ChunkResult,
    schema: &SchemaRef,
    ingest: u32,
    files: &[String],
) -> Result<RecordBatch, ArrowError> {
    let b = &chunk.battles;
    let strings = |f: &dyn Fn(usize) -> String| {
        let mut s = StringBuilder::new();
        for i in 0..b.len() {
            s.append_value(f(i));
        }
        Arc::new(s.finish()) as ArrayRef
    };
    let columns: Vec<ArrayRef> = vec![
        strings(&|i| b[i].battle_id.clone()),
        Arc::new(b.iter().map(|x| x.seed).collect::<UInt64Array>()),
        strings(&|i| b[i].game.clone()),
        strings(&|i| b[i].game_version.clone()),
        strings(&|i| b[i].encoder.clone()),
        Arc::new(b.iter().map(|x| Some(x.human[0])).collect::<BooleanArray>()),
        strings(&|i| b[i].player[0].clone()),
        Arc::new(b.iter().map(|x| Some(x.human[1])).collect::<BooleanArray>()),
        strings(&|i| b[i].player[1].clone()),
        Arc::new(b.iter().map(|x| x.winner).collect::<UInt8Array>()),
        strings(&|i| b[i].victory.clone()),
        Arc::new(
            b.iter()
                .map(|x| x.turns)
                .collect::<Vec<_>>()
                .into_iter()
                .collect::<UInt32Array>(),
        ),
        Arc::new(b.iter().map(|x| x.rounds).collect::<UInt32Array>()),
        Arc::new(b.iter().map(|x| x.wall_ms).collect::<Float64Array>()),
        Arc::new(b.iter().map(|x| x.started_unix_ms).collect::<UInt64Array>()),
        strings(&|i| {
            files
                .get(b[i].source_file as usize)
                .cloned()
                .unwrap_or_default()
        }),
        Arc::new(b.iter().map(|x| Some(x.line)).collect::<UInt64Array>()),
        Arc::new(UInt32Array::from(vec![ingest; b.len()])),
    ];
    RecordBatch::try_new(schema.clone(), columns)
}
