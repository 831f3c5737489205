//! Reading and writing safetensors files (f32, u8 and i32 tensors), atomically on write.

use crate::error::TrainError;
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use std::collections::HashMap;
use std::path::Path;

/// A tensor to write.
pub struct Out<'a> {
    /// Its name.
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its f32 values, row-major.
    pub data: &'a [f32],
}

/// The bytes of the safetensors file at `path`.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, TrainError> {
    std::fs::read(path).map_err(|e| TrainError::io(path, e))
}

/// Parses safetensors `bytes` read from `path`.
pub fn parse<'a>(path: &Path, bytes: &'a [u8]) -> Result<SafeTensors<'a>, TrainError> {
    SafeTensors::deserialize(bytes)
        .map_err(|e| TrainError::format(path, format!("not a valid safetensors file: {e}")))
}

/// The string metadata of the file, if any.
pub fn metadata(path: &Path, bytes: &[u8]) -> Result<HashMap<String, String>, TrainError> {
    let (_, meta) = SafeTensors::read_metadata(bytes)
        .map_err(|e| TrainError::format(path, format!("not a valid safetensors file: {e}")))?;
    Ok(meta.metadata().clone().unwrap_or_default())
}

fn view<'a>(
    path: &Path,
    st: &SafeTensors<'a>,
    name: &str,
    dtype: Dtype,
) -> Result<TensorView<'a>, TrainError> {
    let t = st
        .tensor(name)
        .map_err(|_| TrainError::format(path, format!("tensor `{name}` is missing")))?;
    if t.dtype() != dtype {
        return Err(TrainError::format(
            path,
            format!("tensor `{name}` is {:?}, expected {dtype:?}", t.dtype()),
        ));
    }
    Ok(t)
}

/// Tensor `name` as f32 values with its shape.
pub fn f32s(
    path: &Path,
    st: &SafeTensors<'_>,
    name: &str,
) -> Result<(Vec<f32>, Vec<usize>), TrainError> {
    let t = view(path, st, name, Dtype::F32)?;
    let data = t
        .data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Ok((data, t.shape().to_vec()))
}

/// Tensor `name` as i32 values with its shape.
pub fn i32s(
    path: &Path,
    st: &SafeTensors<'_>,
    name: &str,
) -> Result<(Vec<i32>, Vec<usize>), TrainError> {
    let t = view(path, st, name, Dtype::I32)?;
    let data = t
        .data()
        .chunks_exact(4)
        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Ok((data, t.shape().to_vec()))
}

/// Tensor `name` as u8 values with its shape.
pub fn u8s(
    path: &Path,
    st: &SafeTensors<'_>,
    name: &str,
) -> Result<(Vec<u8>, Vec<usize>), TrainError> {
    let t = view(path, st, name, Dtype::U8)?;
    Ok((t.data().to_vec(), t.shape().to_vec()))
}

/// A raw tensor to write (any dtype).
pub struct RawOut {
    /// Its name.
    pub name: String,
    /// Its dtype.
    pub dtype: Dtype,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its little-endian bytes.
    pub bytes: Vec<u8>,
}

/// f32 values as little-endian bytes.
pub fn f32_bytes(data: &[f32]) -> Vec<u8> {
    data.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Serializes `tensors` into safetensors bytes.
pub fn serialize_raw(
    path: &Path,
    tensors: &[RawOut],
    meta: Option<HashMap<String, String>>,
) -> Result<Vec<u8>, TrainError> {
    let views = tensors
        .iter()
        .map(|t| {
            TensorView::new(t.dtype, t.shape.clone(), &t.bytes)
                .map(|v| (t.name.clone(), v))
                .map_err(|e| TrainError::format(path, format!("tensor `{}`: {e}", t.name)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    safetensors::serialize(views, meta)
        .map_err(|e| TrainError::format(path, format!("cannot serialize: {e}")))
}

/// Writes f32 `tensors` to `path` atomically (a temporary file renamed into place).
pub fn write_f32(
    path: &Path,
    tensors: &[Out<'_>],
    meta: Option<HashMap<String, String>>,
) -> Result<(), TrainError> {
    let raw: Vec<RawOut> = tensors
        .iter()
        .map(|t| RawOut {
            name: t.name.clone(),
            dtype: Dtype::F32,
            shape: t.shape.clone(),
            bytes: f32_bytes(t.data),
        })
        .collect();
    let bytes = serialize_raw(path, &raw, meta)?;
    write_atomic(path, &bytes)
}

/// Writes `bytes` to `path` through a temporary file in the same folder, synced and renamed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    use std::io::Write;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    let mut f = std::fs::File::create(&tmp).map_err(|e| TrainError::io(&tmp, e))?;
    f.write_all(bytes).map_err(|e| TrainError::io(&tmp, e))?;
    f.sync_all().map_err(|e| TrainError::io(&tmp, e))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| TrainError::io(path, e))
}
