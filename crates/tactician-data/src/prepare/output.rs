//! Writing a prepared folder's files (into the staging folder of an output): the split
//! tensors, written straight from the rows in the format's exact bytes, and small files.

use super::PrepareError;
use super::rows::Rows;
use safetensors::Dtype;
use safetensors::tensor::{Metadata, TensorInfo};
use std::borrow::Cow;
use std::collections::HashMap;
use std::os::unix::fs::FileExt;
use std::path::Path;
use tactician_formats::prepared::{FileInfo, PREPARED_FORMAT};

/// One tensor to write.
struct Tensor<'a> {
    name: &'static str,
    dtype: Dtype,
    shape: Vec<usize>,
    data: Cow<'a, [u8]>,
}

fn le<T: Copy, const N: usize>(v: &[T], f: fn(T) -> [u8; N]) -> Cow<'static, [u8]> {
    Cow::Owned(v.iter().flat_map(|&x| f(x)).collect())
}

/// Writes `rows` as a split file at `path`: `features` F32 [N,F], `legal` U8 [N,A],
/// `action` I32 [N], `weight` F32 [N], `value` F32 [N]; metadata `format`.
///
/// The bytes are exactly those of the format's reference writer
/// ([`Split::to_bytes`](tactician_formats::prepared::Split::to_bytes), the `safetensors`
/// crate's layout: tensors by descending dtype, then name), but the tensors are written
/// straight from `rows`, by two threads, while a third task hashes the same bytes, so the file
/// is never copied whole or read back.
pub fn write_split(path: &Path, rows: &Rows) -> Result<FileInfo, PrepareError> {
    let n = rows.len();
    let mut tensors = [
        Tensor {
            name: "features",
            dtype: Dtype::F32,
            shape: vec![n, rows.nf],
            data: Cow::Borrowed(&rows.features),
        },
        Tensor {
            name: "legal",
            dtype: Dtype::U8,
            shape: vec![n, rows.na],
            data: Cow::Borrowed(&rows.legal),
        },
        Tensor {
            name: "action",
            dtype: Dtype::I32,
            shape: vec![n],
            data: le(&rows.action, i32::to_le_bytes),
        },
        Tensor {
            name: "weight",
            dtype: Dtype::F32,
            shape: vec![n],
            data: le(&rows.weight, f32::to_le_bytes),
        },
        Tensor {
            name: "value",
            dtype: Dtype::F32,
            shape: vec![n],
            data: le(&rows.value, f32::to_le_bytes),
        },
    ];
    let failed = |e: String| PrepareError::Safetensors {
        path: path.to_path_buf(),
        message: e,
    };
    tensors.sort_by(|a, b| b.dtype.cmp(&a.dtype).then(a.name.cmp(b.name)));
    let mut offset = 0;
    let infos = tensors
        .iter()
        .map(|t| {
            let info = TensorInfo {
                dtype: t.dtype,
                shape: t.shape.clone(),
                data_offsets: (offset, offset + t.data.len()),
            };
            offset += t.data.len();
            (t.name.to_string(), info)
        })
        .collect();
    // One metadata key only: the crate keeps metadata in a hash map, whose order (and so the
    // file's bytes) would otherwise vary from run to run.
    let metadata = HashMap::from([("format".to_string(), PREPARED_FORMAT.to_string())]);
    let metadata = Metadata::new(Some(metadata), infos).map_err(|e| failed(e.to_string()))?;
    let mut header = serde_json::to_vec(&metadata).map_err(|e| failed(e.to_string()))?;
    header.resize(header.len().next_multiple_of(8), b' ');
    let size = (header.len() as u64).to_le_bytes();
    let pieces: Vec<&[u8]> = [&size[..], &header[..]]
        .into_iter()
        .chain(tensors.iter().map(|t| &*t.data))
        .collect();
    let file = std::fs::File::create(path).map_err(|e| PrepareError::io("create", path, e))?;
    let total: usize = pieces.iter().map(|p| p.len()).sum();
    // Copying the bytes into the page cache is most of the cost: two threads write one half
    // each at its offset while a third task hashes the whole, so the pool's two threads share
    // three jobs instead of one waiting on the other.
    let write_range = |range: std::ops::Range<usize>| -> Result<(), PrepareError> {
        let mut at = 0;
        for piece in &pieces {
            let (start, end) = (at.max(range.start), (at + piece.len()).min(range.end));
            if start < end {
                file.write_all_at(&piece[start - at..end - at], start as u64)
                    .map_err(|e| PrepareError::io("write", path, e))?;
            }
            at += piece.len();
        }
        Ok(())
    };
    let ((first, second), hash) = rayon::join(
        || {
            rayon::join(
                || write_range(0..total / 2),
                || write_range(total / 2..total),
            )
        },
        || {
            let mut hasher = blake3::Hasher::new();
            for piece in &pieces {
                hasher.update(piece);
            }
            hasher.finalize()
        },
    );
    first.and(second)?;
    Ok(FileInfo {
        bytes: total as u64,
        blake3: hash.to_hex().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use tactician_formats::prepared::Split;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// The hand-assembled file is byte for byte what the format's reference writer makes of
        /// the same rows, and the size and hash returned are the file's.
        #[test]
        fn writes_what_the_format_writes(
            n in 0usize..40,
            nf in 1usize..9,
            na in 1usize..7,
            seed in any::<u64>(),
        ) {
            let mut rng = tactician_game::SplitMix64::new(seed);
            let mut rows = Rows::new(nf, na);
            for _ in 0..n {
                for _ in 0..nf {
                    let x = rng.next_u64() as u32 as f32 / 7.0 - 1e8;
                    rows.features.extend_from_slice(&x.to_le_bytes());
                }
                rows.legal.extend((0..na).map(|_| (rng.next_u64() & 1) as u8));
                rows.action.push(rng.next_u64() as i32);
                rows.weight.push(rng.next_u64() as f32);
                rows.value.push(-(rng.next_u64() as f32));
                rows.group.push(0);
            }
            let dir = tempfile::tempdir().unwrap();
            let ours = dir.path().join("ours.safetensors");
            let info = write_split(&ours, &rows).unwrap();
            let reference = Split {
                rows: n,
                features: nf,
                actions: na,
                x: tactician_formats::tensors::f32s_from_le(&rows.features),
                legal: rows.legal.clone(),
                action: rows.action.iter().map(|&a| a as u32).collect(),
                weight: rows.weight.clone(),
                value: rows.value.clone(),
            };
            let written = std::fs::read(&ours).unwrap();
            prop_assert_eq!(&written, &reference.to_bytes().unwrap());
            prop_assert_eq!(info.bytes, written.len() as u64);
            prop_assert_eq!(info.blake3, blake3::hash(&written).to_hex().to_string());
        }
    }
}
