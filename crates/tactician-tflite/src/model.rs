//! The in-memory model: what [`Model::parse`] returns and what [`Model::to_bytes`] writes.

use crate::error::{ReadError, WriteError};
use crate::fb::{self, Budget, Buf, Builder, Off, Table, TableBuilder};
use crate::schema::{
    Activation, BuiltinOperator, TensorType, WeightsFormat, field, operator_name, options_type,
};

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
    /// Parses and fully validates a `.tflite` file.
    pub fn parse(bytes: &[u8]) -> Result<Model, ReadError> {
        let budget = Budget::for_len(bytes.len());
        let buf = Buf::new(bytes, &budget);
        let root = fb::root(buf, FILE_IDENTIFIER)?;
        let model = read_model(&root, bytes)?;
        model.validate().map_err(ReadError::Invalid)?;
        Ok(model)
    }

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

    /// Checks the model's internal consistency: every index in range, constant data of the
    /// right size, quantization parameters well-formed, operator arities and types sound.
    pub fn validate(&self) -> Result<(), String> {
        if self.version != SCHEMA_VERSION {
            return Err(format!(
                "schema version {} (expected {SCHEMA_VERSION})",
                self.version
            ));
        }
        if self.subgraphs.is_empty() {
            return Err("the model has no subgraph".into());
        }
        for (i, c) in self.operator_codes.iter().enumerate() {
            if c.version < 1 {
                return Err(format!("operator code {i} has version {}", c.version));
            }
        }
        let nbuf = self.buffers.len();
        for m in &self.metadata {
            if m.buffer as usize >= nbuf {
                return Err(format!(
                    "metadata {:?} refers to buffer {} of {nbuf}",
                    m.name, m.buffer
                ));
            }
        }
        for (si, sg) in self.subgraphs.iter().enumerate() {
            validate_subgraph(self, si, sg)?;
        }
        for s in &self.signature_defs {
            let sg = self
                .subgraphs
                .get(s.subgraph_index as usize)
                .ok_or_else(|| {
                    format!(
                        "signature {:?} refers to subgraph {}",
                        s.key, s.subgraph_index
                    )
                })?;
            for (name, t) in s.inputs.iter().chain(&s.outputs) {
                if *t as usize >= sg.tensors.len() {
                    return Err(format!(
                        "signature {:?} maps {name:?} to tensor {t} of {}",
                        s.key,
                        sg.tensors.len()
                    ));
                }
            }
        }
        Ok(())
    }
}

fn validate_subgraph(model: &Model, si: usize, sg: &Subgraph) -> Result<(), String> {
    let nt = sg.tensors.len();
    for (ti, t) in sg.tensors.iter().enumerate() {
        let at = || format!("subgraph {si} tensor {ti} ({:?})", t.name);
        if let Some(d) = t.shape.iter().find(|&&d| d < 0) {
            return Err(format!("{}: negative dimension {d} in shape", at()));
        }
        if let Some(sig) = &t.shape_signature {
            if sig.len() != t.shape.len() {
                return Err(format!(
                    "{}: shape signature {sig:?} does not match shape {:?}",
                    at(),
                    t.shape
                ));
            }
            for (&s, &d) in sig.iter().zip(&t.shape) {
                if s != d && s != -1 {
                    return Err(format!(
                        "{}: shape signature {sig:?} does not match shape {:?}",
                        at(),
                        t.shape
                    ));
                }
            }
        }
        let data = model
            .buffers
            .get(t.buffer as usize)
            .ok_or_else(|| format!("{}: buffer {} of {}", at(), t.buffer, model.buffers.len()))?;
        if !data.is_empty() {
            let want = t
                .shape
                .iter()
                .try_fold(t.dtype.size(), |acc, &d| acc.checked_mul(d as usize))
                .ok_or_else(|| format!("{}: shape {:?} overflows", at(), t.shape))?;
            if data.len() != want {
                return Err(format!(
                    "{}: constant data is {} bytes, shape {:?} of {} needs {want}",
                    at(),
                    data.len(),
                    t.shape,
                    t.dtype.name()
                ));
            }
        }
        if let Some(q) = &t.quantization {
            validate_quant(t, q).map_err(|e| format!("{}: {e}", at()))?;
        }
    }
    let check = |what: &str, idx: &[i32], optional: bool| -> Result<(), String> {
        for &i in idx {
            if (optional && i == -1) || (i >= 0 && (i as usize) < nt) {
                continue;
            }
            return Err(format!(
                "subgraph {si}: {what} refers to tensor {i} of {nt}"
            ));
        }
        Ok(())
    };
    check("inputs", &sg.inputs, false)?;
    check("outputs", &sg.outputs, false)?;
    for (oi, op) in sg.operators.iter().enumerate() {
        let what = format!("operator {oi} ({})", op.builtin.name());
        let code = model
            .operator_codes
            .get(op.opcode_index as usize)
            .ok_or_else(|| {
                format!(
                    "subgraph {si} {what}: opcode index {} of {}",
                    op.opcode_index,
                    model.operator_codes.len()
                )
            })?;
        if code.builtin != op.builtin {
            return Err(format!(
                "subgraph {si} {what}: opcode index {} is {}",
                op.opcode_index,
                code.builtin.name()
            ));
        }
        check(&format!("{what} inputs"), &op.inputs, true)?;
        check(&format!("{what} outputs"), &op.outputs, false)?;
        validate_operator(sg, op).map_err(|e| format!("subgraph {si} {what}: {e}"))?;
    }
    Ok(())
}

fn validate_quant(t: &Tensor, q: &Quantization) -> Result<(), String> {
    if q.scale.is_empty() && q.zero_point.is_empty() {
        return Ok(());
    }
    if q.scale.len() != q.zero_point.len() {
        return Err(format!(
            "{} scales but {} zero points",
            q.scale.len(),
            q.zero_point.len()
        ));
    }
    if let Some(s) = q.scale.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
        return Err(format!(
            "quantization scale {s} is not a positive finite number"
        ));
    }
    if q.scale.len() > 1 {
        let qd = q.quantized_dimension;
        let dim = usize::try_from(qd)
            .ok()
            .and_then(|d| t.shape.get(d))
            .ok_or_else(|| format!("quantized dimension {qd} outside shape {:?}", t.shape))?;
        if *dim as usize != q.scale.len() {
            return Err(format!(
                "{} per-channel scales for dimension {qd} of size {dim}",
                q.scale.len()
            ));
        }
    } else if q.quantized_dimension < 0 {
        return Err(format!("quantized dimension {}", q.quantized_dimension));
    }
    let range = match t.dtype {
        TensorType::Int8 => Some((-128, 127)),
        TensorType::UInt8 => Some((0, 255)),
        TensorType::Int16 => Some((-32768, 32767)),
        TensorType::Int32 | TensorType::Int64 => None,
        TensorType::Float32 | TensorType::Float16 | TensorType::Float64 | TensorType::Bool => {
            // Float tensors carry scales only in float16/weight-only schemes we do not read.
            return Err(format!(
                "{} tensor with quantization scales",
                t.dtype.name()
            ));
        }
    };
    if let Some((lo, hi)) = range
        && let Some(z) = q.zero_point.iter().find(|z| **z < lo || **z > hi)
    {
        return Err(format!(
            "zero point {z} outside the {} range",
            t.dtype.name()
        ));
    }
    Ok(())
}

fn validate_operator(sg: &Subgraph, op: &Operator) -> Result<(), String> {
    use BuiltinOperator as B;
    let tensor =
        |i: i32| -> Option<&Tensor> { usize::try_from(i).ok().and_then(|i| sg.tensors.get(i)) };
    let n_in = op.inputs.len();
    let (min_in, max_in) = match op.builtin {
        B::FullyConnected => (2, 3),
        B::Add | B::Mul => (2, 2),
        B::Reshape => (1, 2),
        _ => (1, 1),
    };
    if n_in < min_in || n_in > max_in {
        return Err(format!("{n_in} inputs (expected {min_in} to {max_in})"));
    }
    if op.outputs.len() != 1 {
        return Err(format!("{} outputs (expected 1)", op.outputs.len()));
    }
    for (k, &i) in op.inputs.iter().enumerate() {
        let optional = op.builtin == B::FullyConnected && k == 2;
        if i == -1 && !optional {
            return Err(format!("required input {k} is omitted"));
        }
    }
    let options_ok = matches!(
        (op.builtin, &op.options),
        (_, Options::None)
            | (B::FullyConnected, Options::FullyConnected(_))
            | (B::Softmax, Options::Softmax { .. })
            | (B::Add, Options::Add { .. })
            | (B::Mul, Options::Mul { .. })
            | (B::Reshape, Options::Reshape { .. })
            | (B::Quantize, Options::Quantize)
            | (B::Dequantize, Options::Dequantize)
    );
    if !options_ok {
        return Err(format!(
            "options {:?} do not belong to this operator",
            op.options
        ));
    }
    let input = tensor(op.inputs[0]).ok_or("input 0 missing")?;
    let output = tensor(op.outputs[0]).ok_or("output missing")?;
    match op.builtin {
        B::FullyConnected => {
            let w = tensor(op.inputs[1]).ok_or("weights missing")?;
            if w.shape.len() != 2 {
                return Err(format!("weights have shape {:?}, expected rank 2", w.shape));
            }
            let (units, depth) = (w.shape[0], w.shape[1]);
            if input.shape.last() != Some(&depth) {
                return Err(format!(
                    "input shape {:?} does not end in the weights' depth {depth}",
                    input.shape
                ));
            }
            if output.shape.last() != Some(&units) {
                return Err(format!(
                    "output shape {:?} does not end in the weights' {units} units",
                    output.shape
                ));
            }
            if let Some(b) = op.inputs.get(2).and_then(|&i| tensor(i))
                && b.num_elements() != units as usize
            {
                return Err(format!(
                    "bias has shape {:?}, expected {units} elements",
                    b.shape
                ));
            }
            let types = (input.dtype, w.dtype, output.dtype);
            let ok = matches!(
                types,
                (
                    TensorType::Float32,
                    TensorType::Float32,
                    TensorType::Float32
                ) | (TensorType::Float32, TensorType::Int8, TensorType::Float32)
                    | (TensorType::Int8, TensorType::Int8, TensorType::Int8)
            );
            if !ok {
                return Err(format!(
                    "unsupported type combination input {} / weights {} / output {}",
                    types.0.name(),
                    types.1.name(),
                    types.2.name()
                ));
            }
            if w.dtype == TensorType::Int8 && w.quant().is_none() {
                return Err("int8 weights without quantization parameters".into());
            }
            if input.dtype == TensorType::Int8 {
                if input.quant().is_none() || output.quant().is_none() {
                    return Err("int8 input or output without quantization parameters".into());
                }
                if let Some(b) = op.inputs.get(2).and_then(|&i| tensor(i))
                    && b.dtype != TensorType::Int32
                {
                    return Err(format!("int8 operator with {} bias", b.dtype.name()));
                }
            }
        }
        B::Quantize => {
            if output.quant().is_none() {
                return Err("QUANTIZE output without quantization parameters".into());
            }
        }
        B::Dequantize => {
            if input.quant().is_none() {
                return Err("DEQUANTIZE input without quantization parameters".into());
            }
        }
        B::Reshape => {
            if input.num_elements() != output.num_elements() {
                return Err(format!(
                    "reshape from {:?} to {:?} changes the element count",
                    input.shape, output.shape
                ));
            }
        }
        _ => {
            if input.dtype != output.dtype {
                return Err(format!(
                    "input is {} but output is {}",
                    input.dtype.name(),
                    output.dtype.name()
                ));
            }
        }
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Reading
// ------------------------------------------------------------------------------------------

fn read_model(root: &Table<'_>, bytes: &[u8]) -> Result<Model, ReadError> {
    use field::model as f;
    let version = root.u32(f::VERSION, 0)?;
    if version != SCHEMA_VERSION {
        return Err(ReadError::unsupported(format!(
            "schema version {version} (this reader reads version {SCHEMA_VERSION})"
        )));
    }
    if root.has(f::EXTERNAL_BUFFER_GROUPS)? || root.has(f::EXTERNAL_BUFFERS)? {
        return Err(ReadError::unsupported("external buffers"));
    }
    let mut operator_codes = Vec::new();
    for (i, t) in root
        .tables(f::OPERATOR_CODES, "operator code")?
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        operator_codes.push(read_opcode(i, t)?);
    }
    let mut buffers = Vec::new();
    for (i, t) in root
        .tables(f::BUFFERS, "buffer")?
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        buffers.push(read_buffer(i, t, bytes)?);
    }
    let mut subgraphs = Vec::new();
    for t in root.tables(f::SUBGRAPHS, "subgraph")?.unwrap_or_default() {
        subgraphs.push(read_subgraph(&t, &operator_codes)?);
    }
    let mut metadata = Vec::new();
    for t in root.tables(f::METADATA, "metadata")?.unwrap_or_default() {
        use field::metadata as m;
        metadata.push(Metadata {
            name: t
                .string(m::NAME, "metadata name")?
                .ok_or_else(|| ReadError::invalid("a metadata entry has no name"))?,
            buffer: t.u32(m::BUFFER, 0)?,
        });
    }
    // Deprecated, but must still be well-formed.
    if let Some(mb) = root.i32s(f::METADATA_BUFFER, "metadata buffer list")? {
        if let Some(b) = mb.iter().find(|&&b| b < 0 || b as usize >= buffers.len()) {
            return Err(ReadError::invalid(format!(
                "metadata_buffer refers to buffer {b} of {}",
                buffers.len()
            )));
        }
    }
    let mut signature_defs = Vec::new();
    for t in root
        .tables(f::SIGNATURE_DEFS, "signature")?
        .unwrap_or_default()
    {
        use field::signature as s;
        let maps = |id| -> Result<Vec<(String, u32)>, ReadError> {
            let mut out = Vec::new();
            for m in t.tables(id, "tensor map")?.unwrap_or_default() {
                out.push((
                    m.string(field::tensor_map::NAME, "tensor map name")?
                        .unwrap_or_default(),
                    m.u32(field::tensor_map::TENSOR_INDEX, 0)?,
                ));
            }
            Ok(out)
        };
        signature_defs.push(SignatureDef {
            key: t.string(s::KEY, "signature key")?.unwrap_or_default(),
            subgraph_index: t.u32(s::SUBGRAPH_INDEX, 0)?,
            inputs: maps(s::INPUTS)?,
            outputs: maps(s::OUTPUTS)?,
        });
    }
    Ok(Model {
        version,
        description: root.string(f::DESCRIPTION, "description")?,
        operator_codes,
        subgraphs,
        buffers,
        metadata,
        signature_defs,
    })
}

fn read_opcode(i: usize, t: &Table<'_>) -> Result<OperatorCode, ReadError> {
    use field::opcode as f;
    let deprecated = t.i8(f::DEPRECATED_BUILTIN_CODE, 0)? as i32;
    let builtin = t.i32(f::BUILTIN_CODE, 0)?;
    // Files from before the 32-bit code field carry only the deprecated byte; newer files
    // put 127 (the placeholder) there for codes above it. The larger one is the code.
    let code = deprecated.max(builtin);
    if code == 32 {
        let name = t.string(f::CUSTOM_CODE, "custom code")?.unwrap_or_default();
        return Err(ReadError::unsupported(format!(
            "custom operator {name:?} (operator code {i})"
        )));
    }
    let Some(builtin) = BuiltinOperator::from_code(code) else {
        return Err(ReadError::unsupported(match operator_name(code) {
            Some(n) => format!("operator {n} (builtin code {code}, operator code {i})"),
            None => format!("unknown builtin operator code {code} (operator code {i})"),
        }));
    };
    Ok(OperatorCode {
        builtin,
        version: t.i32(f::VERSION, 1)?,
    })
}

fn read_buffer(i: usize, t: &Table<'_>, bytes: &[u8]) -> Result<Vec<u8>, ReadError> {
    use field::buffer as f;
    let data = t.bytes(f::DATA, "buffer data")?;
    let offset = t.u64(f::OFFSET, 0)?;
    let size = t.u64(f::SIZE, 0)?;
    if offset == 0 && size == 0 {
        return Ok(data.map(<[u8]>::to_vec).unwrap_or_default());
    }
    if data.is_some_and(|d| !d.is_empty()) {
        return Err(ReadError::invalid(format!(
            "buffer {i} has both inline data and an offset"
        )));
    }
    // Data appended after the FlatBuffer (large models): offset from the start of the file.
    let end = offset.checked_add(size);
    match end {
        Some(end) if offset > 1 && end <= bytes.len() as u64 => {
            Ok(bytes[offset as usize..end as usize].to_vec())
        }
        _ => Err(ReadError::malformed(format!(
            "buffer {i}: {size} bytes at offset {offset} lie outside the {}-byte file",
            bytes.len()
        ))),
    }
}

fn read_subgraph(t: &Table<'_>, codes: &[OperatorCode]) -> Result<Subgraph, ReadError> {
    use field::subgraph as f;
    let mut tensors = Vec::new();
    for tt in t.tables(f::TENSORS, "tensor")?.unwrap_or_default() {
        tensors.push(read_tensor(&tt)?);
    }
    let mut operators = Vec::new();
    for (oi, ot) in t
        .tables(f::OPERATORS, "operator")?
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        operators.push(read_operator(oi, ot, codes)?);
    }
    Ok(Subgraph {
        name: t.string(f::NAME, "subgraph name")?,
        tensors,
        inputs: t.i32s(f::INPUTS, "subgraph inputs")?.unwrap_or_default(),
        outputs: t.i32s(f::OUTPUTS, "subgraph outputs")?.unwrap_or_default(),
        operators,
    })
}

fn read_tensor(t: &Table<'_>) -> Result<Tensor, ReadError> {
    use field::tensor as f;
    let name = t.string(f::NAME, "tensor name")?.unwrap_or_default();
    let code = t.i8(f::TYPE, 0)?;
    let dtype = TensorType::from_code(code)
        .map_err(|n| ReadError::unsupported(format!("tensor {name:?} has element type {n}")))?;
    if t.has(f::SPARSITY)? {
        return Err(ReadError::unsupported(format!("sparse tensor {name:?}")));
    }
    if t.has(f::VARIANT_TENSORS)? || t.has(f::EXTERNAL_BUFFER)? {
        return Err(ReadError::unsupported(format!(
            "tensor {name:?} uses variant or external buffers"
        )));
    }
    let quantization = match t.table(f::QUANTIZATION, "quantization")? {
        None => None,
        Some(q) => {
            use field::quant as fq;
            let details = q.u8(fq::DETAILS_TYPE, 0)?;
            if details != 0 {
                return Err(ReadError::unsupported(format!(
                    "tensor {name:?} uses custom quantization details (type {details})"
                )));
            }
            Some(Quantization {
                min: q.f32s(fq::MIN, "quantization min")?.unwrap_or_default(),
                max: q.f32s(fq::MAX, "quantization max")?.unwrap_or_default(),
                scale: q.f32s(fq::SCALE, "quantization scale")?.unwrap_or_default(),
                zero_point: q
                    .i64s(fq::ZERO_POINT, "quantization zero point")?
                    .unwrap_or_default(),
                quantized_dimension: q.i32(fq::QUANTIZED_DIMENSION, 0)?,
            })
        }
    };
    let _ = t.bool(f::HAS_RANK, false)?;
    Ok(Tensor {
        shape: t.i32s(f::SHAPE, "tensor shape")?.unwrap_or_default(),
        shape_signature: t.i32s(f::SHAPE_SIGNATURE, "tensor shape signature")?,
        dtype,
        buffer: t.u32(f::BUFFER, 0)?,
        quantization,
        is_variable: t.bool(f::IS_VARIABLE, false)?,
        name,
    })
}

fn read_operator(oi: usize, t: &Table<'_>, codes: &[OperatorCode]) -> Result<Operator, ReadError> {
    use field::operator as f;
    let opcode_index = t.u32(f::OPCODE_INDEX, 0)?;
    let builtin = codes
        .get(opcode_index as usize)
        .ok_or_else(|| {
            ReadError::invalid(format!(
                "operator {oi} has opcode index {opcode_index} of {}",
                codes.len()
            ))
        })?
        .builtin;
    if t.has(f::CUSTOM_OPTIONS)? || t.u64(f::LARGE_CUSTOM_OPTIONS_SIZE, 0)? != 0 {
        return Err(ReadError::unsupported(format!(
            "operator {oi} ({}) has custom options",
            builtin.name()
        )));
    }
    if t.u8(f::OPTIONS_2_TYPE, 0)? != 0 {
        return Err(ReadError::unsupported(format!(
            "operator {oi} ({}) has builtin_options_2",
            builtin.name()
        )));
    }
    if let Some(v) = t.bytes(f::MUTATING_VARIABLE_INPUTS, "mutating variable inputs")?
        && v.iter().any(|&b| b != 0)
    {
        return Err(ReadError::unsupported(format!(
            "operator {oi} ({}) mutates variables",
            builtin.name()
        )));
    }
    let _ = t.i32s(f::INTERMEDIATES, "operator intermediates")?;
    let ty = t.u8(f::OPTIONS_TYPE, options_type::NONE)?;
    let table = t.table(f::OPTIONS, "builtin options")?;
    let options = match (ty, table) {
        (options_type::NONE, None) => Options::None,
        (options_type::NONE, Some(_)) => {
            return Err(ReadError::malformed(format!(
                "operator {oi}: options table without a type"
            )));
        }
        (ty, None) => {
            return Err(ReadError::malformed(format!(
                "operator {oi}: options type {ty} without a table"
            )));
        }
        (ty, Some(o)) => read_options(oi, ty, &o)?,
    };
    Ok(Operator {
        opcode_index,
        builtin,
        inputs: t.i32s(f::INPUTS, "operator inputs")?.unwrap_or_default(),
        outputs: t.i32s(f::OUTPUTS, "operator outputs")?.unwrap_or_default(),
        options,
    })
}

fn activation(oi: usize, code: u8) -> Result<Activation, ReadError> {
    Activation::from_code(code).ok_or_else(|| {
        ReadError::invalid(format!("operator {oi}: unknown fused activation {code}"))
    })
}

fn read_options(oi: usize, ty: u8, o: &Table<'_>) -> Result<Options, ReadError> {
    Ok(match ty {
        options_type::FULLY_CONNECTED => {
            use field::fc as f;
            let weights_format = match o.u8(f::WEIGHTS_FORMAT, 0)? {
                0 => WeightsFormat::Default,
                1 => WeightsFormat::Shuffled4x16Int8,
                w => {
                    return Err(ReadError::invalid(format!(
                        "operator {oi}: unknown weights format {w}"
                    )));
                }
            };
            let bias_type = o.i8(f::QUANTIZED_BIAS_TYPE, 0)?;
            if bias_type != 0 && bias_type != TensorType::Int32.code() {
                return Err(ReadError::unsupported(format!(
                    "operator {oi}: quantized bias type {bias_type}"
                )));
            }
            Options::FullyConnected(FullyConnectedOptions {
                activation: activation(oi, o.u8(f::ACTIVATION, 0)?)?,
                weights_format,
                keep_num_dims: o.bool(f::KEEP_NUM_DIMS, false)?,
                asymmetric_quantize_inputs: o.bool(f::ASYMMETRIC_QUANTIZE_INPUTS, false)?,
            })
        }
        options_type::SOFTMAX => Options::Softmax {
            beta: o.f32(field::softmax::BETA, 0.0)?,
        },
        options_type::ADD => Options::Add {
            activation: activation(oi, o.u8(field::add::ACTIVATION, 0)?)?,
            pot_scale_int16: o.bool(field::add::POT_SCALE_INT16, true)?,
        },
        options_type::MUL => Options::Mul {
            activation: activation(oi, o.u8(field::mul::ACTIVATION, 0)?)?,
        },
        options_type::RESHAPE => Options::Reshape {
            new_shape: o.i32s(field::reshape::NEW_SHAPE, "reshape new shape")?,
        },
        options_type::QUANTIZE => Options::Quantize,
        options_type::DEQUANTIZE => Options::Dequantize,
        other => {
            return Err(ReadError::unsupported(format!(
                "operator {oi}: builtin options type {other}"
            )));
        }
    })
}

// ------------------------------------------------------------------------------------------
// Writing
// ------------------------------------------------------------------------------------------

/// The largest file a FlatBuffer can address with 32-bit offsets.
pub const MAX_FLATBUFFER_SIZE: u64 = (1 << 31) - 1;

impl Model {
    /// Serializes the model (validated first). Same model, same bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, WriteError> {
        self.validate().map_err(WriteError::Invalid)?;
        self.to_bytes_unchecked()
    }

    /// Serializes without validating (tests use it to produce invalid files).
    pub(crate) fn to_bytes_unchecked(&self) -> Result<Vec<u8>, WriteError> {
        let estimate: u64 = self
            .buffers
            .iter()
            .map(|b| b.len() as u64 + 32)
            .sum::<u64>()
            + self
                .subgraphs
                .iter()
                .map(|s| 256 * (s.tensors.len() + s.operators.len()) as u64)
                .sum::<u64>();
        if estimate > MAX_FLATBUFFER_SIZE {
            return Err(WriteError::TooLarge {
                size: estimate,
                limit: MAX_FLATBUFFER_SIZE,
            });
        }
        let mut b = Builder::new();
        // Buffers are written first so that they end up at the end of the file.
        let mut buffer_offs = Vec::with_capacity(self.buffers.len());
        for data in self.buffers.iter().rev() {
            let mut tb = TableBuilder::new();
            if !data.is_empty() {
                let d = b.bytes(data, 16);
                tb.offset(field::buffer::DATA, d);
            }
            buffer_offs.push(b.table(tb));
        }
        buffer_offs.reverse();
        let buffers = b.offsets(&buffer_offs);
        let mut sg_offs = Vec::new();
        for sg in &self.subgraphs {
            sg_offs.push(write_subgraph(&mut b, sg));
        }
        let subgraphs = b.offsets(&sg_offs);
        let mut oc_offs = Vec::new();
        for c in &self.operator_codes {
            use field::opcode as f;
            let code = c.builtin.code();
            let mut tb = TableBuilder::new();
            tb.u8(f::DEPRECATED_BUILTIN_CODE, code.min(127) as u8)
                .i32(f::VERSION, c.version)
                .i32(f::BUILTIN_CODE, code);
            oc_offs.push(b.table(tb));
        }
        let opcodes = b.offsets(&oc_offs);
        let description = self.description.as_deref().map(|d| b.string(d));
        let mut md_offs = Vec::new();
        for m in &self.metadata {
            let name = b.string(&m.name);
            let mut tb = TableBuilder::new();
            tb.offset(field::metadata::NAME, name)
                .u32(field::metadata::BUFFER, m.buffer);
            md_offs.push(b.table(tb));
        }
        let metadata = (!md_offs.is_empty()).then(|| b.offsets(&md_offs));
        let mut sig_offs = Vec::new();
        for s in &self.signature_defs {
            let maps = |items: &[(String, u32)], b: &mut Builder| -> Off {
                let mut offs = Vec::new();
                for (name, idx) in items {
                    let n = b.string(name);
                    let mut tb = TableBuilder::new();
                    tb.offset(field::tensor_map::NAME, n)
                        .u32(field::tensor_map::TENSOR_INDEX, *idx);
                    offs.push(b.table(tb));
                }
                b.offsets(&offs)
            };
            let inputs = maps(&s.inputs, &mut b);
            let outputs = maps(&s.outputs, &mut b);
            let key = b.string(&s.key);
            let mut tb = TableBuilder::new();
            use field::signature as f;
            tb.offset(f::INPUTS, inputs)
                .offset(f::OUTPUTS, outputs)
                .offset(f::KEY, key)
                .u32(f::SUBGRAPH_INDEX, s.subgraph_index);
            sig_offs.push(b.table(tb));
        }
        let signatures = (!sig_offs.is_empty()).then(|| b.offsets(&sig_offs));
        let mut tb = TableBuilder::new();
        {
            use field::model as f;
            tb.u32(f::VERSION, self.version)
                .offset(f::OPERATOR_CODES, opcodes)
                .offset(f::SUBGRAPHS, subgraphs)
                .offset(f::BUFFERS, buffers);
            if let Some(d) = description {
                tb.offset(f::DESCRIPTION, d);
            }
            if let Some(m) = metadata {
                tb.offset(f::METADATA, m);
            }
            if let Some(s) = signatures {
                tb.offset(f::SIGNATURE_DEFS, s);
            }
        }
        let root = b.table(tb);
        if b.written() as u64 > MAX_FLATBUFFER_SIZE {
            return Err(WriteError::TooLarge {
                size: b.written() as u64,
                limit: MAX_FLATBUFFER_SIZE,
            });
        }
        Ok(b.finish(root, FILE_IDENTIFIER))
    }
}

fn write_subgraph(b: &mut Builder, sg: &Subgraph) -> Off {
    let mut t_offs = Vec::new();
    for t in &sg.tensors {
        use field::tensor as f;
        let shape = b.i32s(&t.shape);
        let sig = t.shape_signature.as_ref().map(|s| b.i32s(s));
        let name = b.string(&t.name);
        let quant = t.quantization.as_ref().map(|q| {
            use field::quant as fq;
            let min = (!q.min.is_empty()).then(|| b.f32s(&q.min));
            let max = (!q.max.is_empty()).then(|| b.f32s(&q.max));
            let scale = (!q.scale.is_empty()).then(|| b.f32s(&q.scale));
            let zp = (!q.zero_point.is_empty()).then(|| b.i64s(&q.zero_point));
            let mut tb = TableBuilder::new();
            for (id, o) in [
                (fq::MIN, min),
                (fq::MAX, max),
                (fq::SCALE, scale),
                (fq::ZERO_POINT, zp),
            ] {
                if let Some(o) = o {
                    tb.offset(id, o);
                }
            }
            if q.quantized_dimension != 0 {
                tb.i32(fq::QUANTIZED_DIMENSION, q.quantized_dimension);
            }
            b.table(tb)
        });
        let mut tb = TableBuilder::new();
        tb.offset(f::SHAPE, shape)
            .u8(f::TYPE, t.dtype.code() as u8)
            .u32(f::BUFFER, t.buffer)
            .offset(f::NAME, name);
        if let Some(q) = quant {
            tb.offset(f::QUANTIZATION, q);
        }
        if t.is_variable {
            tb.bool(f::IS_VARIABLE, true);
        }
        if let Some(s) = sig {
            tb.offset(f::SHAPE_SIGNATURE, s);
        }
        t_offs.push(b.table(tb));
    }
    let tensors = b.offsets(&t_offs);
    let inputs = b.i32s(&sg.inputs);
    let outputs = b.i32s(&sg.outputs);
    let mut op_offs = Vec::new();
    for op in &sg.operators {
        use field::operator as f;
        let ins = b.i32s(&op.inputs);
        let outs = b.i32s(&op.outputs);
        let opts = write_options(b, &op.options);
        let mut tb = TableBuilder::new();
        tb.u32(f::OPCODE_INDEX, op.opcode_index)
            .offset(f::INPUTS, ins)
            .offset(f::OUTPUTS, outs);
        if let Some((ty, o)) = opts {
            tb.u8(f::OPTIONS_TYPE, ty).offset(f::OPTIONS, o);
        }
        op_offs.push(b.table(tb));
    }
    let operators = b.offsets(&op_offs);
    let name = sg.name.as_deref().map(|n| b.string(n));
    let mut tb = TableBuilder::new();
    use field::subgraph as f;
    tb.offset(f::TENSORS, tensors)
        .offset(f::INPUTS, inputs)
        .offset(f::OUTPUTS, outputs)
        .offset(f::OPERATORS, operators);
    if let Some(n) = name {
        tb.offset(f::NAME, n);
    }
    b.table(tb)
}

fn write_options(b: &mut Builder, o: &Options) -> Option<(u8, Off)> {
    let mut tb = TableBuilder::new();
    let ty = match o {
        Options::None => return None,
        Options::FullyConnected(fc) => {
            use field::fc as f;
            tb.u8(f::ACTIVATION, fc.activation.code())
                .u8(
                    f::WEIGHTS_FORMAT,
                    match fc.weights_format {
                        WeightsFormat::Default => 0,
                        WeightsFormat::Shuffled4x16Int8 => 1,
                    },
                )
                .bool(f::KEEP_NUM_DIMS, fc.keep_num_dims)
                .bool(f::ASYMMETRIC_QUANTIZE_INPUTS, fc.asymmetric_quantize_inputs);
            options_type::FULLY_CONNECTED
        }
        Options::Softmax { beta } => {
            tb.f32(field::softmax::BETA, *beta);
            options_type::SOFTMAX
        }
        Options::Add {
            activation,
            pot_scale_int16,
        } => {
            tb.u8(field::add::ACTIVATION, activation.code())
                .bool(field::add::POT_SCALE_INT16, *pot_scale_int16);
            options_type::ADD
        }
        Options::Mul { activation } => {
            tb.u8(field::mul::ACTIVATION, activation.code());
            options_type::MUL
        }
        Options::Reshape { new_shape } => {
            if let Some(s) = new_shape {
                let v = b.i32s(s);
                tb.offset(field::reshape::NEW_SHAPE, v);
            }
            options_type::RESHAPE
        }
        Options::Quantize => options_type::QUANTIZE,
        Options::Dequantize => options_type::DEQUANTIZE,
    };
    Some((ty, b.table(tb)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tactician_export::{ExportOptions, Precision, export};
    use tactician_formats::model::{Activation as Hidden, Mlp, ModelJson};

    /// A small exported network (through its bytes: the exporter links the library itself).
    fn sample(precision: Precision) -> Model {
        let meta = ModelJson::new(6, vec![5], Hidden::Relu, 4, true, "random");
        let mlp = Mlp::random(meta, 1);
        let calib: Vec<f32> = (0..60).map(|i| (i as f32 * 0.37).sin() * 3.0).collect();
        let bytes = export(
            &mlp,
            &ExportOptions::new(precision).with_calibration(&calib),
        )
        .unwrap();
        Model::parse(&bytes).unwrap()
    }

    fn reparse(m: &Model) -> Result<Model, ReadError> {
        Model::parse(&m.to_bytes_unchecked().unwrap())
    }

    #[test]
    fn round_trip_all_precisions() {
        for p in [Precision::Float32, Precision::Dynamic, Precision::Int8] {
            let m = sample(p);
            assert_eq!(reparse(&m).unwrap(), m);
        }
    }

    #[test]
    fn unsupported_operator_is_named() {
        let mut b = Builder::new();
        let mut tb = TableBuilder::new();
        tb.u8(field::opcode::DEPRECATED_BUILTIN_CODE, 3)
            .i32(field::opcode::BUILTIN_CODE, 3);
        let oc = b.table(tb);
        let ocs = b.offsets(&[oc]);
        let sg = b.table(TableBuilder::new());
        let sgs = b.offsets(&[sg]);
        let mut tb = TableBuilder::new();
        tb.u32(field::model::VERSION, 3)
            .offset(field::model::OPERATOR_CODES, ocs)
            .offset(field::model::SUBGRAPHS, sgs);
        let root = b.table(tb);
        let bytes = b.finish(root, FILE_IDENTIFIER);
        let err = Model::parse(&bytes).unwrap_err();
        assert!(
            matches!(&err, ReadError::Unsupported(m) if m.contains("CONV_2D")),
            "{err}"
        );
    }

    #[test]
    fn wrong_identifier_and_version() {
        let mut bytes = sample(Precision::Float32).to_bytes().unwrap();
        bytes[4..8].copy_from_slice(b"TFL2");
        assert!(matches!(
            Model::parse(&bytes),
            Err(ReadError::NotTflite { .. })
        ));
        let mut m = sample(Precision::Float32);
        m.version = 2;
        assert!(matches!(reparse(&m), Err(ReadError::Unsupported(_))));
    }

    #[test]
    fn invalid_models_are_rejected_with_reasons() {
        let base = sample(Precision::Int8);
        fn weights(m: &mut Model) -> &mut Tensor {
            m.subgraphs[0]
                .tensors
                .iter_mut()
                .find(|t| t.name == "dense.0/weight")
                .unwrap()
        }
        type Mutation = Box<dyn Fn(&mut Model)>;
        let cases: Vec<(&str, Mutation)> = vec![
            (
                "zero scale",
                Box::new(|m| weights(m).quantization.as_mut().unwrap().scale[0] = 0.0),
            ),
            (
                "per-channel count",
                Box::new(|m| {
                    weights(m).quantization.as_mut().unwrap().scale.pop();
                    weights(m).quantization.as_mut().unwrap().zero_point.pop();
                }),
            ),
            (
                "zero point range",
                Box::new(|m| {
                    m.subgraphs[0].tensors[1].quantization = Some(Quantization {
                        scale: vec![0.5],
                        zero_point: vec![300],
                        ..Default::default()
                    })
                }),
            ),
            (
                "data size",
                Box::new(|m| {
                    let b = weights(m).buffer as usize;
                    m.buffers[b].pop();
                }),
            ),
            ("buffer index", Box::new(|m| weights(m).buffer = 999)),
            (
                "tensor index",
                Box::new(|m| m.subgraphs[0].operators[0].inputs[0] = 77),
            ),
            (
                "opcode index",
                Box::new(|m| m.subgraphs[0].operators[0].opcode_index = 50),
            ),
            (
                "negative dim",
                Box::new(|m| m.subgraphs[0].tensors[0].shape[0] = -1),
            ),
            ("metadata buffer", Box::new(|m| m.metadata[0].buffer = 1000)),
            (
                "options mismatch",
                Box::new(|m| m.subgraphs[0].operators[1].options = Options::Softmax { beta: 1.0 }),
            ),
            (
                "fc depth",
                Box::new(|m| {
                    let w = weights(m);
                    w.shape[1] += 1;
                }),
            ),
            (
                "subgraph output",
                Box::new(|m| m.subgraphs[0].outputs.push(-1)),
            ),
        ];
        for (what, mutate) in cases {
            let mut m = base.clone();
            mutate(&mut m);
            assert!(m.to_bytes().is_err(), "{what}: the writer accepted it");
            let err = reparse(&m).expect_err(what);
            assert!(
                matches!(err, ReadError::Invalid(_) | ReadError::Malformed(_)),
                "{what}: {err}"
            );
        }
    }
}
