//! The validation set published with a model: rows of features with their legal actions and
//! the workstation's float model's logits (and values), on which the device checks the model
//! it received before activating it.
//!
//! Layout (little-endian): the 8-byte magic `TACVAL01`, a `u32` header length, the header
//! (compact JSON: [`ValidationHeader`]), then `features` as `f32` (`rows × features`), `legal`
//! as `u8` 0/1 (`rows × actions`), `logits` as `f32` (`rows × actions`), and `values` as `f32`
//! (`rows`) when the header says so. Nothing may follow.

use serde::{Deserialize, Serialize};
use tactician_runtime::Reference;

/// The file's first bytes.
pub const MAGIC: &[u8; 8] = b"TACVAL01";
/// The most rows a validation set may hold (a bound for untrusted input).
pub const MAX_ROWS: u64 = 1 << 20;
/// The most features or actions per row.
pub const MAX_WIDTH: u64 = 1 << 16;

/// The header of a validation set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidationHeader {
    /// Rows.
    pub rows: u64,
    /// Features per row.
    pub features: u64,
    /// Actions per row.
    pub actions: u64,
    /// Whether reference values follow the logits.
    pub values: bool,
    /// The encoder the features were made with.
    pub encoder_hash: String,
}

/// A validation set in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationSet {
    /// The encoder the features were made with.
    pub encoder_hash: String,
    /// Features per row.
    pub features: usize,
    /// Actions per row.
    pub actions: usize,
    /// `[rows, features]`.
    pub x: Vec<f32>,
    /// `[rows, actions]`, 0 or 1.
    pub legal: Vec<u8>,
    /// The reference logits, `[rows, actions]`.
    pub logits: Vec<f32>,
    /// The reference values, `[rows]`.
    pub values: Option<Vec<f32>>,
}

/// Why bytes are not a validation set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationSetError {
    /// The magic is missing.
    #[error("not a validation set (the file does not start with {:?})", "TACVAL01")]
    Magic,
    /// The header is not valid.
    #[error("the validation set's header is not valid: {0}")]
    Header(String),
    /// The length does not match the header.
    #[error(
        "the validation set holds {got} bytes after its header, its header declares {expected}"
    )]
    Length {
        /// Bytes the header declares.
        expected: u64,
        /// Bytes present.
        got: u64,
    },
    /// A value is out of its range.
    #[error("the validation set is not valid: {0}")]
    Invalid(String),
}

impl ValidationSet {
    /// Rows.
    pub fn rows(&self) -> usize {
        self.legal.len().checked_div(self.actions).unwrap_or(0)
    }

    /// The set as the runtime's [`Reference`].
    pub fn reference(&self) -> Reference<'_> {
        Reference {
            actions: self.actions,
            features: &self.x,
            legal: &self.legal,
            logits: &self.logits,
            values: self.values.as_deref(),
        }
    }

    /// The set's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let header = ValidationHeader {
            rows: self.rows() as u64,
            features: self.features as u64,
            actions: self.actions as u64,
            values: self.values.is_some(),
            encoder_hash: self.encoder_hash.clone(),
        };
        let json = serde_json::to_vec(&header).unwrap_or_default();
        let mut out = Vec::with_capacity(
            12 + json.len() + 4 * (self.x.len() + self.logits.len()) + self.legal.len(),
        );
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(json.len() as u32).to_le_bytes());
        out.extend_from_slice(&json);
        out.extend(self.x.iter().flat_map(|v| v.to_le_bytes()));
        out.extend_from_slice(&self.legal);
        out.extend(self.logits.iter().flat_map(|v| v.to_le_bytes()));
        if let Some(values) = &self.values {
            out.extend(values.iter().flat_map(|v| v.to_le_bytes()));
        }
        out
    }

    /// Parses a validation set, checking every length against the header.
    pub fn from_bytes(bytes: &[u8]) -> Result<ValidationSet, ValidationSetError> {
        let rest = bytes.strip_prefix(MAGIC).ok_or(ValidationSetError::Magic)?;
        let (len, rest) = rest
            .split_first_chunk::<4>()
            .ok_or_else(|| ValidationSetError::Header("truncated before the header".into()))?;
        let len = u32::from_le_bytes(*len) as usize;
        if rest.len() < len {
            return Err(ValidationSetError::Header("truncated header".into()));
        }
        let (json, body) = rest.split_at(len);
        let h: ValidationHeader =
            serde_json::from_slice(json).map_err(|e| ValidationSetError::Header(e.to_string()))?;
        if h.rows > MAX_ROWS || h.features > MAX_WIDTH || h.actions > MAX_WIDTH {
            return Err(ValidationSetError::Invalid(format!(
                "{} rows of {} features and {} actions exceed the limits ({MAX_ROWS} rows, \
                 {MAX_WIDTH} per row)",
                h.rows, h.features, h.actions
            )));
        }
        if h.actions == 0 || h.features == 0 {
            return Err(ValidationSetError::Invalid(
                "a row needs at least one feature and one action".into(),
            ));
        }
        // Within the limits these products cannot overflow a u64.
        let x_len = h.rows * h.features;
        let a_len = h.rows * h.actions;
        let v_len = if h.values { h.rows } else { 0 };
        let expected = 4 * x_len + a_len + 4 * a_len + 4 * v_len;
        if body.len() as u64 != expected {
            return Err(ValidationSetError::Length {
                expected,
                got: body.len() as u64,
            });
        }
        let (x, body) = body.split_at(4 * x_len as usize);
        let (legal, body) = body.split_at(a_len as usize);
        let (logits, values) = body.split_at(4 * a_len as usize);
        if let Some(b) = legal.iter().find(|&&b| b > 1) {
            return Err(ValidationSetError::Invalid(format!(
                "a legal-action flag is {b}, expected 0 or 1"
            )));
        }
        let floats = |b: &[u8]| -> Vec<f32> {
            b.chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect()
        };
        Ok(ValidationSet {
            encoder_hash: h.encoder_hash,
            features: h.features as usize,
            actions: h.actions as usize,
            x: floats(x),
            legal: legal.to_vec(),
            logits: floats(logits),
            values: h.values.then(|| floats(values)),
        })
    }
}
