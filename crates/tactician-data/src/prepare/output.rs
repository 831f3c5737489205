//! Writing a prepared folder: tensor files, scenarios and manifest into a temporary folder,
//! renamed into place only when everything is written.

use super::PrepareError;
use super::manifest::FileInfo;
use super::rows::Rows;
use safetensors::Dtype;
use safetensors::tensor::{Metadata, TensorInfo};
use std::borrow::Cow;
use std::collections::HashMap;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

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

/// Writes `rows` as a safetensors file at `path`: `features` F32 [N,F], `legal` U8 [N,A],
/// `action` I32 [N], `weight` F32 [N], `value` F32 [N]; metadata `format`.
///
/// The header is the `safetensors` crate's own (its `Metadata`, tensors in its order: by
/// descending dtype, then name), so the bytes are exactly what `serialize_to_file` writes; the
/// tensors are written straight from `rows`, by two threads, while a third task hashes the
/// same bytes, so the file is never read back.
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
    let metadata = HashMap::from([("format".to_string(), super::manifest::FORMAT.to_string())]);
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

/// Size and BLAKE3 hash of a written file.
pub fn file_info(path: &Path) -> Result<FileInfo, PrepareError> {
    let mut hasher = blake3::Hasher::new();
    let file = std::fs::File::open(path).map_err(|e| PrepareError::io("open", path, e))?;
    hasher
        .update_reader(std::io::BufReader::with_capacity(1 << 20, file))
        .map_err(|e| PrepareError::io("read", path, e))?;
    let bytes = std::fs::metadata(path)
        .map_err(|e| PrepareError::io("read", path, e))?
        .len();
    Ok(FileInfo {
        bytes,
        blake3: hasher.finalize().to_hex().to_string(),
    })
}

/// Writes `bytes` to `path`.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<FileInfo, PrepareError> {
    std::fs::write(path, bytes).map_err(|e| PrepareError::io("write", path, e))?;
    Ok(FileInfo {
        bytes: bytes.len() as u64,
        blake3: blake3::hash(bytes).to_hex().to_string(),
    })
}

/// A temporary folder beside the output, removed on drop unless committed.
pub struct Staging {
    tmp: PathBuf,
    out: PathBuf,
    done: bool,
}

impl Staging {
    /// Creates `.<name>.tmp-<pid>` beside `out` (replacing a stale one).
    pub fn new(out: &Path) -> Result<Self, PrepareError> {
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "prepared".into());
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(|e| PrepareError::io("create", &parent, e))?;
        let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(|e| PrepareError::io("remove", &tmp, e))?;
        }
        std::fs::create_dir(&tmp).map_err(|e| PrepareError::io("create", &tmp, e))?;
        Ok(Self {
            tmp,
            out: out.to_path_buf(),
            done: false,
        })
    }

    /// The temporary folder.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Moves the temporary folder to the output path, replacing what is there.
    pub fn commit(mut self) -> Result<(), PrepareError> {
        let old = self.tmp.with_file_name(format!(
            "{}.old",
            self.tmp.file_name().unwrap_or_default().to_string_lossy()
        ));
        let replaced = self.out.exists();
        if replaced {
            std::fs::rename(&self.out, &old).map_err(|e| PrepareError::io("move", &self.out, e))?;
        }
        std::fs::rename(&self.tmp, &self.out)
            .map_err(|e| PrepareError::io("rename", &self.tmp, e))?;
        self.done = true;
        if replaced {
            std::fs::remove_dir_all(&old).map_err(|e| PrepareError::io("remove", &old, e))?;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use safetensors::View;

    struct Reference<'a>(Dtype, Vec<usize>, &'a [u8]);

    impl View for &Reference<'_> {
        fn dtype(&self) -> Dtype {
            self.0
        }
        fn shape(&self) -> &[usize] {
            &self.1
        }
        fn data(&self) -> Cow<'_, [u8]> {
            Cow::Borrowed(self.2)
        }
        fn data_len(&self) -> usize {
            self.2.len()
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// The hand-assembled file is byte for byte what the crate's own writer makes of the
        /// same tensors, and the size and hash returned are the file's.
        #[test]
        fn writes_what_the_safetensors_crate_writes(
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
            let bytes = |v: &[u8]| v.to_vec();
            let le32 = |v: Vec<[u8; 4]>| v.concat();
            let action = le32(rows.action.iter().map(|x| x.to_le_bytes()).collect());
            let weight = le32(rows.weight.iter().map(|x| x.to_le_bytes()).collect());
            let value = le32(rows.value.iter().map(|x| x.to_le_bytes()).collect());
            let features = bytes(&rows.features);
            let reference = [
                ("value", Reference(Dtype::F32, vec![n], &value)),
                ("legal", Reference(Dtype::U8, vec![n, na], &rows.legal)),
                ("features", Reference(Dtype::F32, vec![n, nf], &features)),
                ("action", Reference(Dtype::I32, vec![n], &action)),
                ("weight", Reference(Dtype::F32, vec![n], &weight)),
            ];
            let theirs = dir.path().join("theirs.safetensors");
            let metadata =
                HashMap::from([("format".to_string(), super::super::manifest::FORMAT.to_string())]);
            safetensors::serialize_to_file(
                reference.iter().map(|(name, t)| (*name, t)),
                Some(metadata),
                &theirs,
            )
            .unwrap();
            let written = std::fs::read(&ours).unwrap();
            prop_assert_eq!(&written, &std::fs::read(&theirs).unwrap());
            prop_assert_eq!(info.bytes, written.len() as u64);
            prop_assert_eq!(info.blake3, blake3::hash(&written).to_hex().to_string());
        }
    }
}
