//! The `.tflite` reader: [`Model::parse`] and the readers of each FlatBuffer table (model,
//! operator codes, buffers, subgraphs, tensors, operators and their builtin options).

use super::types::{
    FILE_IDENTIFIER, FullyConnectedOptions, Metadata, Model, Operator, OperatorCode, Options,
    Quantization, SCHEMA_VERSION, SignatureDef, Subgraph, Tensor,
};
use crate::error::ReadError;
use crate::fb::{self, Budget, Buf, Table};
use crate::schema::{
    Activation, BuiltinOperator, TensorType, WeightsFormat, field, operator_name, options_type,
};

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
}

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
