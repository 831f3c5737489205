//! The model's consistency checks: every index in range, constant data of the right size,
//! quantization parameters well-formed, operator arities and types sound. The reader runs
//! them on every file it parses and the writer on every model it writes.

use super::types::{Model, Operator, Options, Quantization, SCHEMA_VERSION, Subgraph, Tensor};
use crate::schema::{BuiltinOperator, TensorType};

impl Model {
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
