//! The parts of the TFLite schema (`schema.fbs`, version 3) this crate reads and writes:
//! enum values and field ids, as defined by the official schema.

/// Element type of a tensor (`TensorType`). Only the types the reader accepts are listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TensorType {
    /// 32-bit float (code 0).
    Float32,
    /// 16-bit float (code 1).
    Float16,
    /// 32-bit signed integer (code 2).
    Int32,
    /// 8-bit unsigned integer (code 3).
    UInt8,
    /// 64-bit signed integer (code 4).
    Int64,
    /// Boolean, one byte (code 6).
    Bool,
    /// 16-bit signed integer (code 7).
    Int16,
    /// 8-bit signed integer (code 9).
    Int8,
    /// 64-bit float (code 10).
    Float64,
}

const TENSOR_TYPE_NAMES: [&str; 23] = [
    "FLOAT32",
    "FLOAT16",
    "INT32",
    "UINT8",
    "INT64",
    "STRING",
    "BOOL",
    "INT16",
    "COMPLEX64",
    "INT8",
    "FLOAT64",
    "COMPLEX128",
    "UINT64",
    "RESOURCE",
    "VARIANT",
    "UINT32",
    "UINT16",
    "INT4",
    "BFLOAT16",
    "INT2",
    "UINT4",
    "FLOAT8_E4M3FN",
    "FLOAT8_E5M2",
];

impl TensorType {
    /// The schema code.
    pub fn code(self) -> i8 {
        match self {
            TensorType::Float32 => 0,
            TensorType::Float16 => 1,
            TensorType::Int32 => 2,
            TensorType::UInt8 => 3,
            TensorType::Int64 => 4,
            TensorType::Bool => 6,
            TensorType::Int16 => 7,
            TensorType::Int8 => 9,
            TensorType::Float64 => 10,
        }
    }

    /// The type with schema code `code`, or `Err(name)` for a known but unsupported type,
    /// `Err("code N")` for an unknown one.
    pub fn from_code(code: i8) -> Result<Self, String> {
        Ok(match code {
            0 => TensorType::Float32,
            1 => TensorType::Float16,
            2 => TensorType::Int32,
            3 => TensorType::UInt8,
            4 => TensorType::Int64,
            6 => TensorType::Bool,
            7 => TensorType::Int16,
            9 => TensorType::Int8,
            10 => TensorType::Float64,
            c => {
                return Err(usize::try_from(c)
                    .ok()
                    .and_then(|i| TENSOR_TYPE_NAMES.get(i))
                    .map_or_else(|| format!("code {c}"), |n| (*n).to_owned()));
            }
        })
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            TensorType::Bool | TensorType::Int8 | TensorType::UInt8 => 1,
            TensorType::Float16 | TensorType::Int16 => 2,
            TensorType::Float32 | TensorType::Int32 => 4,
            TensorType::Int64 | TensorType::Float64 => 8,
        }
    }

    /// The schema name (`FLOAT32`, `INT8`, ...).
    pub fn name(self) -> &'static str {
        TENSOR_TYPE_NAMES[self.code() as usize]
    }
}

/// The builtin operators this crate supports (`BuiltinOperator`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BuiltinOperator {
    /// ADD (0).
    Add,
    /// DEQUANTIZE (6).
    Dequantize,
    /// FULLY_CONNECTED (9).
    FullyConnected,
    /// LOGISTIC (14).
    Logistic,
    /// MUL (18).
    Mul,
    /// RELU (19).
    Relu,
    /// RELU6 (21).
    Relu6,
    /// RESHAPE (22).
    Reshape,
    /// SOFTMAX (25).
    Softmax,
    /// TANH (28).
    Tanh,
    /// QUANTIZE (114).
    Quantize,
}

impl BuiltinOperator {
    /// All supported operators.
    pub const ALL: [BuiltinOperator; 11] = [
        BuiltinOperator::Add,
        BuiltinOperator::Dequantize,
        BuiltinOperator::FullyConnected,
        BuiltinOperator::Logistic,
        BuiltinOperator::Mul,
        BuiltinOperator::Relu,
        BuiltinOperator::Relu6,
        BuiltinOperator::Reshape,
        BuiltinOperator::Softmax,
        BuiltinOperator::Tanh,
        BuiltinOperator::Quantize,
    ];

    /// The schema code.
    pub fn code(self) -> i32 {
        match self {
            BuiltinOperator::Add => 0,
            BuiltinOperator::Dequantize => 6,
            BuiltinOperator::FullyConnected => 9,
            BuiltinOperator::Logistic => 14,
            BuiltinOperator::Mul => 18,
            BuiltinOperator::Relu => 19,
            BuiltinOperator::Relu6 => 21,
            BuiltinOperator::Reshape => 22,
            BuiltinOperator::Softmax => 25,
            BuiltinOperator::Tanh => 28,
            BuiltinOperator::Quantize => 114,
        }
    }

    /// The supported operator with schema code `code`.
    pub fn from_code(code: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.code() == code)
    }

    /// The schema name (`FULLY_CONNECTED`, ...).
    pub fn name(self) -> &'static str {
        operator_name(self.code()).unwrap_or("?")
    }
}

/// The schema name of builtin operator code `code`, for error messages.
pub fn operator_name(code: i32) -> Option<&'static str> {
    usize::try_from(code)
        .ok()
        .and_then(|i| OPERATOR_NAMES.get(i))
        .copied()
}

/// Builtin operator names by code, from the official schema.
const OPERATOR_NAMES: &[&str] = &[
    "ADD",
    "AVERAGE_POOL_2D",
    "CONCATENATION",
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "DEPTH_TO_SPACE",
    "DEQUANTIZE",
    "EMBEDDING_LOOKUP",
    "FLOOR",
    "FULLY_CONNECTED",
    "HASHTABLE_LOOKUP",
    "L2_NORMALIZATION",
    "L2_POOL_2D",
    "LOCAL_RESPONSE_NORMALIZATION",
    "LOGISTIC",
    "LSH_PROJECTION",
    "LSTM",
    "MAX_POOL_2D",
    "MUL",
    "RELU",
    "RELU_N1_TO_1",
    "RELU6",
    "RESHAPE",
    "RESIZE_BILINEAR",
    "RNN",
    "SOFTMAX",
    "SPACE_TO_DEPTH",
    "SVDF",
    "TANH",
    "CONCAT_EMBEDDINGS",
    "SKIP_GRAM",
    "CALL",
    "CUSTOM",
    "EMBEDDING_LOOKUP_SPARSE",
    "PAD",
    "UNIDIRECTIONAL_SEQUENCE_RNN",
    "GATHER",
    "BATCH_TO_SPACE_ND",
    "SPACE_TO_BATCH_ND",
    "TRANSPOSE",
    "MEAN",
    "SUB",
    "DIV",
    "SQUEEZE",
    "UNIDIRECTIONAL_SEQUENCE_LSTM",
    "STRIDED_SLICE",
    "BIDIRECTIONAL_SEQUENCE_RNN",
    "EXP",
    "TOPK_V2",
    "SPLIT",
    "LOG_SOFTMAX",
    "DELEGATE",
    "BIDIRECTIONAL_SEQUENCE_LSTM",
    "CAST",
    "PRELU",
    "MAXIMUM",
    "ARG_MAX",
    "MINIMUM",
    "LESS",
    "NEG",
    "PADV2",
    "GREATER",
    "GREATER_EQUAL",
    "LESS_EQUAL",
    "SELECT",
    "SLICE",
    "SIN",
    "TRANSPOSE_CONV",
    "SPARSE_TO_DENSE",
    "TILE",
    "EXPAND_DIMS",
    "EQUAL",
    "NOT_EQUAL",
    "LOG",
    "SUM",
    "SQRT",
    "RSQRT",
    "SHAPE",
    "POW",
    "ARG_MIN",
    "FAKE_QUANT",
    "REDUCE_PROD",
    "REDUCE_MAX",
    "PACK",
    "LOGICAL_OR",
    "ONE_HOT",
    "LOGICAL_AND",
    "LOGICAL_NOT",
    "UNPACK",
    "REDUCE_MIN",
    "FLOOR_DIV",
    "REDUCE_ANY",
    "SQUARE",
    "ZEROS_LIKE",
    "FILL",
    "FLOOR_MOD",
    "RANGE",
    "RESIZE_NEAREST_NEIGHBOR",
    "LEAKY_RELU",
    "SQUARED_DIFFERENCE",
    "MIRROR_PAD",
    "ABS",
    "SPLIT_V",
    "UNIQUE",
    "CEIL",
    "REVERSE_V2",
    "ADD_N",
    "GATHER_ND",
    "COS",
    "WHERE",
    "RANK",
    "ELU",
    "REVERSE_SEQUENCE",
    "MATRIX_DIAG",
    "QUANTIZE",
    "MATRIX_SET_DIAG",
    "ROUND",
    "HARD_SWISH",
    "IF",
    "WHILE",
    "NON_MAX_SUPPRESSION_V4",
    "NON_MAX_SUPPRESSION_V5",
    "SCATTER_ND",
    "SELECT_V2",
    "DENSIFY",
    "SEGMENT_SUM",
    "BATCH_MATMUL",
    "PLACEHOLDER_FOR_GREATER_OP_CODES",
    "CUMSUM",
    "CALL_ONCE",
    "BROADCAST_TO",
    "RFFT2D",
    "CONV_3D",
    "IMAG",
    "REAL",
    "COMPLEX_ABS",
    "HASHTABLE",
    "HASHTABLE_FIND",
    "HASHTABLE_IMPORT",
    "HASHTABLE_SIZE",
    "REDUCE_ALL",
    "CONV_3D_TRANSPOSE",
    "VAR_HANDLE",
    "READ_VARIABLE",
    "ASSIGN_VARIABLE",
    "BROADCAST_ARGS",
    "RANDOM_STANDARD_NORMAL",
    "BUCKETIZE",
    "RANDOM_UNIFORM",
    "MULTINOMIAL",
    "GELU",
    "DYNAMIC_UPDATE_SLICE",
    "RELU_0_TO_1",
    "UNSORTED_SEGMENT_PROD",
    "UNSORTED_SEGMENT_MAX",
    "UNSORTED_SEGMENT_SUM",
    "ATAN2",
    "UNSORTED_SEGMENT_MIN",
    "SIGN",
    "BITCAST",
    "BITWISE_XOR",
    "RIGHT_SHIFT",
];

/// Fused activation (`ActivationFunctionType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Activation {
    /// No activation (0).
    #[default]
    None,
    /// max(x, 0) (1).
    Relu,
    /// clamp(x, -1, 1) (2).
    ReluN1To1,
    /// clamp(x, 0, 6) (3).
    Relu6,
    /// tanh (4). Note: the official float FULLY_CONNECTED kernel ignores a fused TANH; the
    /// writer never emits it and emits a separate TANH operator instead.
    Tanh,
    /// sign bit (5).
    SignBit,
}

impl Activation {
    /// The schema code.
    pub fn code(self) -> u8 {
        match self {
            Activation::None => 0,
            Activation::Relu => 1,
            Activation::ReluN1To1 => 2,
            Activation::Relu6 => 3,
            Activation::Tanh => 4,
            Activation::SignBit => 5,
        }
    }
    /// The activation with schema code `code`.
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => Activation::None,
            1 => Activation::Relu,
            2 => Activation::ReluN1To1,
            3 => Activation::Relu6,
            4 => Activation::Tanh,
            5 => Activation::SignBit,
            _ => return None,
        })
    }
}

/// `FullyConnectedOptionsWeightsFormat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum WeightsFormat {
    /// DEFAULT (0).
    #[default]
    Default,
    /// SHUFFLED4x16INT8 (1).
    Shuffled4x16Int8,
}

/// `BuiltinOptions` union type codes used here.
pub(crate) mod options_type {
    pub const NONE: u8 = 0;
    pub const FULLY_CONNECTED: u8 = 8;
    pub const SOFTMAX: u8 = 9;
    pub const ADD: u8 = 11;
    pub const RESHAPE: u8 = 17;
    pub const MUL: u8 = 21;
    pub const DEQUANTIZE: u8 = 38;
    pub const QUANTIZE: u8 = 89;
}

/// Field ids (vtable slots) of the schema's tables.
pub(crate) mod field {
    pub mod model {
        pub const VERSION: usize = 0;
        pub const OPERATOR_CODES: usize = 1;
        pub const SUBGRAPHS: usize = 2;
        pub const DESCRIPTION: usize = 3;
        pub const BUFFERS: usize = 4;
        pub const METADATA_BUFFER: usize = 5;
        pub const METADATA: usize = 6;
        pub const SIGNATURE_DEFS: usize = 7;
        pub const EXTERNAL_BUFFER_GROUPS: usize = 8;
        pub const EXTERNAL_BUFFERS: usize = 9;
    }
    pub mod subgraph {
        pub const TENSORS: usize = 0;
        pub const INPUTS: usize = 1;
        pub const OUTPUTS: usize = 2;
        pub const OPERATORS: usize = 3;
        pub const NAME: usize = 4;
    }
    pub mod tensor {
        pub const SHAPE: usize = 0;
        pub const TYPE: usize = 1;
        pub const BUFFER: usize = 2;
        pub const NAME: usize = 3;
        pub const QUANTIZATION: usize = 4;
        pub const IS_VARIABLE: usize = 5;
        pub const SPARSITY: usize = 6;
        pub const SHAPE_SIGNATURE: usize = 7;
        pub const HAS_RANK: usize = 8;
        pub const VARIANT_TENSORS: usize = 9;
        pub const EXTERNAL_BUFFER: usize = 10;
    }
    pub mod quant {
        pub const MIN: usize = 0;
        pub const MAX: usize = 1;
        pub const SCALE: usize = 2;
        pub const ZERO_POINT: usize = 3;
        pub const DETAILS_TYPE: usize = 4;
        pub const QUANTIZED_DIMENSION: usize = 6;
    }
    pub mod operator {
        pub const OPCODE_INDEX: usize = 0;
        pub const INPUTS: usize = 1;
        pub const OUTPUTS: usize = 2;
        pub const OPTIONS_TYPE: usize = 3;
        pub const OPTIONS: usize = 4;
        pub const CUSTOM_OPTIONS: usize = 5;
        pub const MUTATING_VARIABLE_INPUTS: usize = 7;
        pub const INTERMEDIATES: usize = 8;
        pub const LARGE_CUSTOM_OPTIONS_SIZE: usize = 10;
        pub const OPTIONS_2_TYPE: usize = 11;
    }
    pub mod opcode {
        pub const DEPRECATED_BUILTIN_CODE: usize = 0;
        pub const CUSTOM_CODE: usize = 1;
        pub const VERSION: usize = 2;
        pub const BUILTIN_CODE: usize = 3;
    }
    pub mod buffer {
        pub const DATA: usize = 0;
        pub const OFFSET: usize = 1;
        pub const SIZE: usize = 2;
    }
    pub mod metadata {
        pub const NAME: usize = 0;
        pub const BUFFER: usize = 1;
    }
    pub mod signature {
        pub const INPUTS: usize = 0;
        pub const OUTPUTS: usize = 1;
        pub const KEY: usize = 2;
        pub const SUBGRAPH_INDEX: usize = 4;
    }
    pub mod tensor_map {
        pub const NAME: usize = 0;
        pub const TENSOR_INDEX: usize = 1;
    }
    pub mod fc {
        pub const ACTIVATION: usize = 0;
        pub const WEIGHTS_FORMAT: usize = 1;
        pub const KEEP_NUM_DIMS: usize = 2;
        pub const ASYMMETRIC_QUANTIZE_INPUTS: usize = 3;
        pub const QUANTIZED_BIAS_TYPE: usize = 4;
    }
    pub mod softmax {
        pub const BETA: usize = 0;
    }
    pub mod add {
        pub const ACTIVATION: usize = 0;
        pub const POT_SCALE_INT16: usize = 1;
    }
    pub mod mul {
        pub const ACTIVATION: usize = 0;
    }
    pub mod reshape {
        pub const NEW_SHAPE: usize = 0;
    }
}
