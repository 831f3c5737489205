//! Writing a prepared folder: tensor files, scenarios and manifest into a temporary folder,
//! renamed into place only when everything is written.

use super::PrepareError;
use super::manifest::FileInfo;
use super::rows::Rows;
use safetensors::{Dtype, View};
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One tensor to write.
struct Tensor<'a> {
    dtype: Dtype,
    shape: Vec<usize>,
    data: Cow<'a, [u8]>,
}

impl View for &Tensor<'_> {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

fn le<T: Copy, const N: usize>(v: &[T], f: fn(T) -> [u8; N]) -> Cow<'static, [u8]> {
    Cow::Owned(v.iter().flat_map(|&x| f(x)).collect())
}

/// Writes `rows` as a safetensors file at `path`: `features` F32 [N,F], `legal` U8 [N,A],
/// `action` I32 [N], `weight` F32 [N], `value` F32 [N]; metadata `format`.
pub fn write_split(path: &Path, rows: &Rows) -> Result<FileInfo, PrepareError> {
    let n = rows.len();
    let tensors = [
        (
            "features",
            Tensor {
                dtype: Dtype::F32,
                shape: vec![n, rows.nf],
                data: Cow::Borrowed(&rows.features),
            },
        ),
        (
            "legal",
            Tensor {
                dtype: Dtype::U8,
                shape: vec![n, rows.na],
                data: Cow::Borrowed(&rows.legal),
            },
        ),
        (
            "action",
            Tensor {
                dtype: Dtype::I32,
                shape: vec![n],
                data: le(&rows.action, i32::to_le_bytes),
            },
        ),
        (
            "weight",
            Tensor {
                dtype: Dtype::F32,
                shape: vec![n],
                data: le(&rows.weight, f32::to_le_bytes),
            },
        ),
        (
            "value",
            Tensor {
                dtype: Dtype::F32,
                shape: vec![n],
                data: le(&rows.value, f32::to_le_bytes),
            },
        ),
    ];
    // One metadata key only: the crate keeps metadata in a hash map, whose order (and so the
    // file's bytes) would otherwise vary from run to run.
    let metadata = HashMap::from([("format".to_string(), super::manifest::FORMAT.to_string())]);
    safetensors::serialize_to_file(
        tensors.iter().map(|(name, t)| (*name, t)),
        Some(metadata),
        path,
    )
    .map_err(|e| PrepareError::Safetensors {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    file_info(path)
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
