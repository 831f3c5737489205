//! The `.tflite` writer: [`Model::to_bytes`] serializes a validated model deterministically
//! (same model, same bytes), subgraphs and builtin options included.

use super::types::{FILE_IDENTIFIER, Model, Options, Subgraph};
use crate::error::WriteError;
use crate::fb::{Builder, Off, TableBuilder};
use crate::schema::{WeightsFormat, field, options_type};

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
