//! Parsing a chunk of lines (run in parallel, one chunk per task).

use super::columns::{BattleMeta, Transitions};
use super::reason::Reject;
use super::record::{DatasetEncoder, Source, parse_battle};

/// What a chunk of lines held.
#[derive(Debug, Default)]
pub struct ChunkResult {
    /// Decisions of the accepted battles.
    pub rows: Transitions,
    /// Accepted battles, in line order (`rows.battle` indexes this list).
    pub battles: Vec<BattleMeta>,
    /// Rejected records with their line numbers, in line order.
    pub rejects: Vec<(u64, Reject)>,
    /// Records read (non-blank lines).
    pub records: u64,
    /// Newlines in the chunk's bytes (counted while cutting it into lines).
    pub newlines: u64,
}

/// Parses every non-blank line of `data` (lines numbered from `first_line`).
pub fn parse_chunk(
    file: u32,
    first_line: u64,
    data: &[u8],
    encoder: &DatasetEncoder,
) -> ChunkResult {
    let mut out = ChunkResult::default();
    out.rows
        .reserve(data.len(), encoder.num_features, encoder.num_actions);
    let mut this = first_line;
    let mut start = 0;
    loop {
        let end = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |i| start + i);
        let line = &data[start..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if !line.iter().all(|b| b.is_ascii_whitespace()) {
            out.records += 1;
            let source = Source { file, line: this };
            let index = out.battles.len() as u32;
            match parse_battle(line, encoder, source, index, &mut out.rows) {
                Ok(meta) => out.battles.push(meta),
                Err(reject) => out.rejects.push((this, reject)),
            }
        }
        if end == data.len() {
            out.newlines = this - first_line;
            return out;
        }
        start = end + 1;
        this += 1;
    }
}

/// Keeps only the battles (and their rows) for which `keep` is true.
pub fn retain(result: &mut ChunkResult, keep: &[bool]) {
    if keep.iter().all(|&k| k) {
        return;
    }
    let nf = if result.rows.is_empty() {
        0
    } else {
        result.rows.features.len() / result.rows.len()
    };
    let na = if result.rows.is_empty() {
        0
    } else {
        result.rows.legal.len() / result.rows.len()
    };
    let old = std::mem::take(&mut result.rows);
    let mut new_index = vec![u32::MAX; keep.len()];
    let mut battles = Vec::new();
    for (i, b) in std::mem::take(&mut result.battles).into_iter().enumerate() {
        if keep[i] {
            new_index[i] = battles.len() as u32;
            battles.push(b);
        }
    }
    let rows = &mut result.rows;
    for r in 0..old.len() {
        let b = old.battle[r] as usize;
        if !keep[b] {
            continue;
        }
        rows.battle.push(new_index[b]);
        rows.turn.push(old.turn[r]);
        rows.round.push(old.round[r]);
        rows.side.push(old.side[r]);
        rows.actor.push(old.actor[r]);
        rows.features
            .extend_from_slice(&old.features[r * nf..(r + 1) * nf]);
        rows.legal
            .extend_from_slice(&old.legal[r * na..(r + 1) * na]);
        rows.action.push(old.action[r]);
        rows.decision_us.push(old.decision_us[r]);
        rows.reward.push(old.reward[r]);
        rows.done.push(old.done[r]);
        rows.material.push(old.material[r]);
        rows.effects.push(old.effects[r]);
    }
    result.battles = battles;
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The newline count kept while cutting lines is the number of newlines, whatever the
        /// lines hold (blank, `\r\n`, a last line without a newline).
        #[test]
        fn newlines_are_counted(text in "(\\{\\}|x|\r|\n| ){0,40}") {
            let encoder = DatasetEncoder {
                hash: "h".into(),
                num_features: 1,
                num_actions: 1,
                ranges: vec![(0.0, 1.0)],
                feature_names: vec!["f".into()],
                outcomes: Default::default(),
            };
            let result = parse_chunk(0, 7, text.as_bytes(), &encoder);
            prop_assert_eq!(result.newlines, text.matches('\n').count() as u64);
            let blank = text.split('\n').filter(|l| l.trim().is_empty()).count() as u64;
            prop_assert_eq!(result.records, text.split('\n').count() as u64 - blank);
        }
    }
}
