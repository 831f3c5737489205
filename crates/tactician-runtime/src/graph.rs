//! The runtime's view of a TFLite model: the subset of the schema the engine executes, decoded
//! from `tactician-tflite`'s reader (see [`crate::load`]) or built by hand in tests.

pub use crate::quant::Activation;

/// A tensor element type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DType {
    /// float32.
    F32,
    /// int8.
    I8,
    /// int32 (biases of int8 layers).
    I32,
    /// Any other type, by its schema name; the engine refuses it with that name.
    Other(String),
}

impl DType {
    /// The schema name of the type.
    pub fn name(&self) -> &str {
        match self {
            DType::F32 => "FLOAT32",
            DType::I8 => "INT8",
            DType::I32 => "INT32",
            DType::Other(n) => n,
        }
    }
}

/// Affine quantization parameters (`real = scale · (q - zero_point)`).
#[derive(Debug, Clone, PartialEq)]
pub struct Quantization {
    /// One scale per tensor, or one per slice along `axis`.
    pub scale: Vec<f32>,
    /// Zero points, as many as scales.
    pub zero_point: Vec<i64>,
    /// The quantized dimension of per-channel parameters.
    pub axis: usize,
}

/// One tensor of the graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Name in the file.
    pub name: String,
    /// Element type.
    pub dtype: DType,
    /// Shape (the first dimension is the batch of an activation tensor).
    pub shape: Vec<i32>,
    /// Quantization parameters, when present.
    pub quant: Option<Quantization>,
    /// Constant contents (little-endian bytes), `None` for activations.
    pub data: Option<Vec<u8>>,
}

/// An operator and the options the engine needs.
#[derive(Debug, Clone, PartialEq)]
pub enum OpKind {
    /// FULLY_CONNECTED.
    FullyConnected {
        /// Fused activation.
        activation: Activation,
        /// Keep the input's leading dimensions in the output.
        keep_num_dims: bool,
        /// Hybrid kernels quantize inputs asymmetrically (with a zero point).
        asymmetric_quantize_inputs: bool,
    },
    /// RELU.
    Relu,
    /// RELU6.
    Relu6,
    /// TANH.
    Tanh,
    /// LOGISTIC.
    Logistic,
    /// SOFTMAX over the last dimension.
    Softmax {
        /// Multiplier of the logits.
        beta: f32,
    },
    /// QUANTIZE (float → int8).
    Quantize,
    /// DEQUANTIZE (int8 → float).
    Dequantize,
    /// RESHAPE.
    Reshape,
    /// ADD with broadcasting of a constant or scalar operand.
    Add {
        /// Fused activation.
        activation: Activation,
    },
    /// MUL with broadcasting of a constant or scalar operand.
    Mul {
        /// Fused activation.
        activation: Activation,
    },
    /// Anything else, by its schema name (refused by the engine with that name).
    Unsupported {
        /// The operator's name, e.g. `CONV_2D` or `CUSTOM:Foo`.
        name: String,
    },
}

impl OpKind {
    /// The operator's schema name.
    pub fn name(&self) -> &str {
        match self {
            OpKind::FullyConnected { .. } => "FULLY_CONNECTED",
            OpKind::Relu => "RELU",
            OpKind::Relu6 => "RELU6",
            OpKind::Tanh => "TANH",
            OpKind::Logistic => "LOGISTIC",
            OpKind::Softmax { .. } => "SOFTMAX",
            OpKind::Quantize => "QUANTIZE",
            OpKind::Dequantize => "DEQUANTIZE",
            OpKind::Reshape => "RESHAPE",
            OpKind::Add { .. } => "ADD",
            OpKind::Mul { .. } => "MUL",
            OpKind::Unsupported { name } => name,
        }
    }
}

/// One operator: its kind and tensor indices (`-1` marks an absent optional input).
#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    /// What it computes.
    pub kind: OpKind,
    /// Input tensor indices.
    pub inputs: Vec<i32>,
    /// Output tensor indices.
    pub outputs: Vec<i32>,
}

/// A single-subgraph model.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Graph {
    /// All tensors.
    pub tensors: Vec<Tensor>,
    /// Operators in execution order.
    pub ops: Vec<Op>,
    /// Graph input tensor indices.
    pub inputs: Vec<i32>,
    /// Graph output tensor indices.
    pub outputs: Vec<i32>,
    /// Model metadata entries: name and buffer bytes.
    pub metadata: Vec<(String, Vec<u8>)>,
}
