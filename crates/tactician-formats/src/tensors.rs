//! Reading and writing safetensors files: typed, shape-checked views of named tensors, and
//! deterministic serialization (the same tensors always give the same bytes).

use crate::FormatError;
pub use safetensors::Dtype;
use safetensors::SafeTensors;
use safetensors::tensor::TensorView;
use std::collections::HashMap;
use std::path::Path;

/// A parsed safetensors file and the path it came from (for error messages).
pub struct File<'a> {
    path: &'a Path,
    st: SafeTensors<'a>,
}

/// Reads the whole file at `path`.
pub fn read(path: &Path) -> Result<Vec<u8>, FormatError> {
    std::fs::read(path).map_err(|e| FormatError::read(path, e))
}

/// The string metadata of the safetensors `bytes` read from `path`.
pub fn metadata(path: &Path, bytes: &[u8]) -> Result<HashMap<String, String>, FormatError> {
    let (_, meta) =
        SafeTensors::read_metadata(bytes).map_err(|source| FormatError::Safetensors {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(meta.metadata().clone().unwrap_or_default())
}

impl<'a> File<'a> {
    /// Parses `bytes`, read from `path`.
    pub fn parse(path: &'a Path, bytes: &'a [u8]) -> Result<Self, FormatError> {
        let st = SafeTensors::deserialize(bytes).map_err(|source| FormatError::Safetensors {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self { path, st })
    }

    /// The number of tensors.
    pub fn len(&self) -> usize {
        self.st.len()
    }

    /// Whether the file holds no tensor.
    pub fn is_empty(&self) -> bool {
        self.st.is_empty()
    }

    /// The tensor names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.st.names().into_iter().map(str::to_string).collect();
        names.sort();
        names
    }

    /// Tensor `name`, which must have type `dtype`: (its little-endian bytes, its shape).
    pub fn raw(&self, name: &str, dtype: Dtype) -> Result<(&'a [u8], Vec<usize>), FormatError> {
        let t = self
            .st
            .tensor(name)
            .map_err(|_| FormatError::invalid(self.path, format!("tensor {name:?} is missing")))?;
        if t.dtype() != dtype {
            return Err(FormatError::invalid(
                self.path,
                format!("tensor {name:?} is {:?}, expected {dtype:?}", t.dtype()),
            ));
        }
        Ok((t.data(), t.shape().to_vec()))
    }

    /// Tensor `name` as `f32` values with its shape.
    pub fn f32s(&self, name: &str) -> Result<(Vec<f32>, Vec<usize>), FormatError> {
        let (data, shape) = self.raw(name, Dtype::F32)?;
        Ok((f32s_from_le(data), shape))
    }

    /// Tensor `name` as `i32` values with its shape.
    pub fn i32s(&self, name: &str) -> Result<(Vec<i32>, Vec<usize>), FormatError> {
        let (data, shape) = self.raw(name, Dtype::I32)?;
        let values = data
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Ok((values, shape))
    }

    /// Tensor `name` as `u8` values with its shape.
    pub fn u8s(&self, name: &str) -> Result<(Vec<u8>, Vec<usize>), FormatError> {
        let (data, shape) = self.raw(name, Dtype::U8)?;
        Ok((data.to_vec(), shape))
    }
}

/// Little-endian `f32`s from bytes (a multiple of 4 long).
pub fn f32s_from_le(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// `values` as little-endian bytes.
pub fn f32s_to_le(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// One tensor to write.
#[derive(Debug, Clone)]
pub struct Tensor {
    /// Its name.
    pub name: String,
    /// Its element type.
    pub dtype: Dtype,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its little-endian bytes, row-major.
    pub bytes: Vec<u8>,
}

impl Tensor {
    /// An `f32` tensor.
    pub fn f32(name: impl Into<String>, shape: Vec<usize>, values: &[f32]) -> Self {
        Self {
            name: name.into(),
            dtype: Dtype::F32,
            shape,
            bytes: f32s_to_le(values),
        }
    }
}

/// The safetensors bytes of `tensors` with string `metadata` (at most one key: the crate keeps
/// metadata in a hash map, so several keys would be written in a different order each run).
/// Tensors are laid out by the crate's own rule (by type, then name), whatever their order
/// here. `path` is named in errors.
pub fn serialize(
    path: &Path,
    tensors: &[Tensor],
    metadata: Option<(&str, &str)>,
) -> Result<Vec<u8>, FormatError> {
    let views = tensors
        .iter()
        .map(|t| {
            TensorView::new(t.dtype, t.shape.clone(), &t.bytes)
                .map(|v| (t.name.clone(), v))
                .map_err(|source| FormatError::Safetensors {
                    path: path.to_path_buf(),
                    source,
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let meta = metadata.map(|(k, v)| HashMap::from([(k.to_string(), v.to_string())]));
    safetensors::serialize(views, meta).map_err(|source| FormatError::Safetensors {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_checks_types() {
        let path = Path::new("t.safetensors");
        let tensors = [
            Tensor::f32("b", vec![2], &[1.5, -2.0]),
            Tensor {
                name: "a".into(),
                dtype: Dtype::U8,
                shape: vec![3],
                bytes: vec![0, 1, 1],
            },
        ];
        let bytes = serialize(path, &tensors, Some(("format", "x"))).unwrap();
        let mut reversed = tensors.clone();
        reversed.reverse();
        assert_eq!(
            bytes,
            serialize(path, &reversed, Some(("format", "x"))).unwrap()
        );
        let f = File::parse(path, &bytes).unwrap();
        assert_eq!(f.names(), ["a", "b"]);
        assert_eq!(f.f32s("b").unwrap(), (vec![1.5, -2.0], vec![2]));
        assert_eq!(f.u8s("a").unwrap(), (vec![0, 1, 1], vec![3]));
        let e = f.f32s("a").unwrap_err().to_string();
        assert!(e.contains("tensor \"a\" is U8, expected F32"), "{e}");
        let e = f.f32s("c").unwrap_err().to_string();
        assert!(e.contains("tensor \"c\" is missing"), "{e}");
        assert_eq!(metadata(path, &bytes).unwrap()["format"], "x");
        assert!(File::parse(path, b"not safetensors").is_err());
    }
}
