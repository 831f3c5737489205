//! The model's types: [`Model`], its subgraphs, tensors, operators, options, quantization
//! parameters, metadata and signatures, the file identifier and schema version, and the
//! read-only accessors on a model.

use crate::schema::{Activation, BuiltinOperator, TensorType, WeightsFormat};

/// The FlatBuffers file identifier of TFLite files.
pub const FILE_IDENTIFIER: &[u8; 4] = b"TFL3";
/// The schema version this crate reads and writes.
pub const SCHEMA_VERSION: u32 = 3;

/// A whole `.tflite` model.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Model {
    /// Schema version (always 3 after a successful parse).
    pub version: u32,
    /// Free-form description (the converter writes "MLIR Converted.").
    pub description: Option<String>,
    /// The operator codes that operators refer to by index.
    pub operator_codes: Vec<OperatorCode>,
    /// The subgraphs; subgraph 0 is the main graph.
    pub subgraphs: Vec<Subgraph>,
    /// Buffers; tensors and metadata refer to them by index. Buffer 0 is empty by convention.
    pub buffers: Vec<Vec<u8>>,
    /// Metadata entries (name → buffer index).
    pub metadata: Vec<Metadata>,
    /// Signature definitions (named inputs and outputs).
    pub signature_defs: Vec<SignatureDef>,
}

/// One operator code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OperatorCode {
    /// The builtin operator.
    pub builtin: BuiltinOperator,
    /// The operator version (≥ 1): which kernel variant the interpreter must provide.
    pub version: i32,
}

/// A subgraph: tensors, operators in execution order, inputs and outputs.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Subgraph {
    /// Optional name.
    pub name: Option<String>,
    /// All tensors.
    pub tensors: Vec<Tensor>,
    /// Indices of the input tensors.
    pub inputs: Vec<i32>,
    /// Indices of the output tensors.
    pub outputs: Vec<i32>,
    /// Operators, in execution order.
    pub operators: Vec<Operator>,
}

/// A tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// Name ("" when the file has none).
    pub name: String,
    /// Shape (all dimensions ≥ 0).
    pub shape: Vec<i32>,
    /// Shape with -1 for dynamic dimensions (e.g. the batch), when given.
    pub shape_signature: Option<Vec<i32>>,
    /// Element type.
    pub dtype: TensorType,
    /// Index into [`Model::buffers`]; a non-empty buffer makes the tensor a constant.
    pub buffer: u32,
    /// Quantization parameters, when present (may be empty for float tensors).
    pub quantization: Option<Quantization>,
    /// Whether the tensor is a variable.
    pub is_variable: bool,
}

impl Tensor {
    /// The number of elements (product of the shape; saturates instead of overflowing).
    pub fn num_elements(&self) -> usize {
        self.shape
            .iter()
            .fold(1usize, |a, &d| a.saturating_mul(d.max(0) as usize))
    }

    /// The quantization parameters when the tensor is actually quantized (non-empty scales).
    pub fn quant(&self) -> Option<&Quantization> {
        self.quantization.as_ref().filter(|q| !q.scale.is_empty())
    }
}

/// Affine quantization: `real = scale * (q - zero_point)`, per tensor or per channel.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Quantization {
    /// Calibration minima (informational).
    pub min: Vec<f32>,
    /// Calibration maxima (informational).
    pub max: Vec<f32>,
    /// Scales: one (per tensor) or one per channel along `quantized_dimension`.
    pub scale: Vec<f32>,
    /// Zero points, as many as scales.
    pub zero_point: Vec<i64>,
    /// The channel dimension of per-channel quantization.
    pub quantized_dimension: i32,
}

/// An operator.
#[derive(Clone, Debug, PartialEq)]
pub struct Operator {
    /// Index into [`Model::operator_codes`].
    pub opcode_index: u32,
    /// The operator (resolved from `opcode_index`; checked to match by the reader and writer).
    pub builtin: BuiltinOperator,
    /// Input tensor indices; -1 marks an omitted optional input (e.g. FULLY_CONNECTED bias).
    pub inputs: Vec<i32>,
    /// Output tensor indices.
    pub outputs: Vec<i32>,
    /// Builtin options.
    pub options: Options,
}

/// Builtin options of an operator.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Options {
    /// No options table.
    #[default]
    None,
    /// FullyConnectedOptions.
    FullyConnected(FullyConnectedOptions),
    /// SoftmaxOptions.
    Softmax {
        /// The softmax beta (inverse temperature).
        beta: f32,
    },
    /// AddOptions.
    Add {
        /// Fused activation.
        activation: Activation,
        /// Power-of-two scales for int16 (default true).
        pot_scale_int16: bool,
    },
    /// MulOptions.
    Mul {
        /// Fused activation.
        activation: Activation,
    },
    /// ReshapeOptions.
    Reshape {
        /// The target shape, when given as an option.
        new_shape: Option<Vec<i32>>,
    },
    /// QuantizeOptions (empty).
    Quantize,
    /// DequantizeOptions (empty).
    Dequantize,
}

/// FullyConnectedOptions.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct FullyConnectedOptions {
    /// Fused activation.
    pub activation: Activation,
    /// Weights layout.
    pub weights_format: WeightsFormat,
    /// Keep the input's leading dimensions in the output.
    pub keep_num_dims: bool,
    /// Hybrid (dynamic-range) kernels: quantize inputs asymmetrically per batch row.
    pub asymmetric_quantize_inputs: bool,
}

/// A metadata entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    /// Entry name.
    pub name: String,
    /// Index into [`Model::buffers`].
    pub buffer: u32,
}

/// A signature definition: named views on a subgraph's inputs and outputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureDef {
    /// Signature key (e.g. "serving_default").
    pub key: String,
    /// The subgraph it describes.
    pub subgraph_index: u32,
    /// (name, tensor index) of each input.
    pub inputs: Vec<(String, u32)>,
    /// (name, tensor index) of each output.
    pub outputs: Vec<(String, u32)>,
}

impl Model {
    /// The main subgraph (subgraph 0). `None` only for a model that was never validated.
    pub fn main_subgraph(&self) -> Option<&Subgraph> {
        self.subgraphs.first()
    }

    /// The constant data of `tensor` (empty for non-constant tensors).
    pub fn tensor_data(&self, tensor: &Tensor) -> &[u8] {
        self.buffers
            .get(tensor.buffer as usize)
            .map_or(&[][..], Vec::as_slice)
    }

    /// The bytes of the metadata entry named `name`.
    pub fn metadata_bytes(&self, name: &str) -> Option<&[u8]> {
        self.metadata
            .iter()
            .find(|m| m.name == name)
            .and_then(|m| self.buffers.get(m.buffer as usize))
            .map(Vec::as_slice)
    }

    /// The distinct operators of the main subgraph, in order of first use.
    pub fn operator_list(&self) -> Vec<BuiltinOperator> {
        let mut out = Vec::new();
        for op in self.subgraphs.iter().flat_map(|s| &s.operators) {
            if !out.contains(&op.builtin) {
                out.push(op.builtin);
            }
        }
        out
    }
}
