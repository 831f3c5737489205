//! A slow, straightforward evaluator of the graphs this crate writes, following the official
//! TFLite reference kernels' arithmetic (integer FULLY_CONNECTED with fixed-point requantization,
//! lookup-table TANH/LOGISTIC, hybrid FULLY_CONNECTED with per-row asymmetric input
//! quantization). It is the oracle the tests hold the official interpreter and our runtime to;
//! it is not meant to be fast.
//!
//! Activations are treated as `[batch, width]` matrices (width = last dimension).

use crate::model::{Model, Options, Tensor};
use crate::quant;
use crate::schema::{Activation, BuiltinOperator as B, TensorType};

/// Why evaluation failed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EvalError {
    /// The graph uses something the reference evaluator does not implement.
    #[error("reference evaluator: {0}")]
    Unsupported(String),
    /// Inputs do not match the graph.
    #[error("reference evaluator: {0}")]
    BadInput(String),
}

#[derive(Clone, Debug)]
enum Values {
    F32(Vec<f32>),
    I8(Vec<i8>),
    I32(Vec<i32>),
}

fn unsupported(msg: impl Into<String>) -> EvalError {
    EvalError::Unsupported(msg.into())
}

fn width(t: &Tensor) -> usize {
    t.shape.last().map_or(1, |&d| d.max(0) as usize)
}

fn qparams(t: &Tensor) -> Result<(f32, i32), EvalError> {
    let q = t
        .quant()
        .ok_or_else(|| unsupported(format!("tensor {:?} has no quantization", t.name)))?;
    Ok((q.scale[0], q.zero_point[0] as i32))
}

fn constant(model: &Model, t: &Tensor) -> Option<Values> {
    let data = model.tensor_data(t);
    if data.is_empty() {
        return None;
    }
    Some(match t.dtype {
        TensorType::Float32 => Values::F32(
            data.chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        ),
        TensorType::Int8 => Values::I8(data.iter().map(|&b| b as i8).collect()),
        TensorType::Int32 => Values::I32(
            data.chunks_exact(4)
                .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        ),
        _ => return None,
    })
}

/// Evaluates the main subgraph on `batch` rows. `inputs[k]` is the row-major data of the
/// subgraph's k-th input (float32). Returns each output as f32 (int8 outputs are returned as
/// their raw integer values).
pub fn evaluate(
    model: &Model,
    inputs: &[&[f32]],
    batch: usize,
) -> Result<Vec<Vec<f32>>, EvalError> {
    let sg = model
        .main_subgraph()
        .ok_or_else(|| EvalError::BadInput("the model has no subgraph".into()))?;
    let mut vals: Vec<Option<Values>> = sg.tensors.iter().map(|t| constant(model, t)).collect();
    if inputs.len() != sg.inputs.len() {
        return Err(EvalError::BadInput(format!(
            "{} inputs given, the model has {}",
            inputs.len(),
            sg.inputs.len()
        )));
    }
    for (&i, data) in sg.inputs.iter().zip(inputs) {
        let t = &sg.tensors[i as usize];
        if t.dtype != TensorType::Float32 || data.len() != batch * width(t) {
            return Err(EvalError::BadInput(format!(
                "input {:?} needs {} float32 values, got {}",
                t.name,
                batch * width(t),
                data.len()
            )));
        }
        vals[i as usize] = Some(Values::F32(data.to_vec()));
    }
    for (oi, op) in sg.operators.iter().enumerate() {
        let get = |k: usize| -> Result<&Values, EvalError> {
            let i = op.inputs[k];
            vals.get(i as usize)
                .and_then(Option::as_ref)
                .ok_or_else(|| unsupported(format!("operator {oi}: input {k} has no value")))
        };
        let tin = &sg.tensors[op.inputs[0] as usize];
        let tout = &sg.tensors[op.outputs[0] as usize];
        let out = match (op.builtin, get(0)?) {
            (B::FullyConnected, x) => {
                let opts = match &op.options {
                    Options::FullyConnected(o) => *o,
                    _ => Default::default(),
                };
                let tw = &sg.tensors[op.inputs[1] as usize];
                let bias = match op.inputs.get(2) {
                    Some(&b) if b >= 0 => Some(get(2)?),
                    _ => None,
                };
                fully_connected(x, get(1)?, bias, tin, tw, tout, opts.activation, batch)?
            }
            (B::Quantize, Values::F32(x)) => {
                let (s, z) = qparams(tout)?;
                Values::I8(x.iter().map(|&v| quant::quantize_f32(v, s, z)).collect())
            }
            (B::Dequantize, Values::I8(x)) => {
                let (s, z) = qparams(tin)?;
                Values::F32(
                    x.iter()
                        .map(|&q| quant::dequantize(q as i32, s, z))
                        .collect(),
                )
            }
            (B::Tanh | B::Logistic, Values::I8(x)) => {
                let (si, zi) = qparams(tin)?;
                let (so, zo) = qparams(tout)?;
                let lut = if op.builtin == B::Tanh {
                    quant::int8_lut(f32::tanh, si, zi, so, zo)
                } else {
                    quant::int8_lut(|v| 1.0 / (1.0 + (-v).exp()), si, zi, so, zo)
                };
                Values::I8(x.iter().map(|&q| lut[(q as i32 + 128) as usize]).collect())
            }
            (B::Tanh, Values::F32(x)) => Values::F32(x.iter().map(|v| v.tanh()).collect()),
            (B::Logistic, Values::F32(x)) => {
                Values::F32(x.iter().map(|v| 1.0 / (1.0 + (-v).exp())).collect())
            }
            (B::Relu, Values::F32(x)) => Values::F32(x.iter().map(|v| v.max(0.0)).collect()),
            (B::Relu6, Values::F32(x)) => {
                Values::F32(x.iter().map(|v| v.clamp(0.0, 6.0)).collect())
            }
            (B::Reshape, x) => x.clone(),
            (B::Softmax, Values::F32(x)) => {
                let beta = match op.options {
                    Options::Softmax { beta } => beta,
                    _ => 1.0,
                };
                let w = width(tin);
                let mut out = Vec::with_capacity(x.len());
                for row in x.chunks_exact(w.max(1)) {
                    let m = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
                    let e: Vec<f32> = row.iter().map(|&v| ((v - m) * beta).exp()).collect();
                    let s: f32 = e.iter().sum();
                    out.extend(e.iter().map(|v| v / s));
                }
                Values::F32(out)
            }
            (b, _) => {
                return Err(unsupported(format!(
                    "operator {oi} ({}) on {} input",
                    b.name(),
                    tin.dtype.name()
                )));
            }
        };
        vals[op.outputs[0] as usize] = Some(out);
    }
    sg.outputs
        .iter()
        .map(|&o| match vals[o as usize].take() {
            Some(Values::F32(v)) => Ok(v),
            Some(Values::I8(v)) => Ok(v.into_iter().map(f32::from).collect()),
            Some(Values::I32(v)) => Ok(v.into_iter().map(|x| x as f32).collect()),
            None => Err(unsupported(format!("output {o} was never computed"))),
        })
        .collect()
}

fn float_activation(act: Activation, v: f32) -> Result<f32, EvalError> {
    Ok(match act {
        Activation::None => v,
        Activation::Relu => v.max(0.0),
        Activation::Relu6 => v.clamp(0.0, 6.0),
        Activation::ReluN1To1 => v.clamp(-1.0, 1.0),
        other => return Err(unsupported(format!("fused activation {other:?}"))),
    })
}

/// The per-row asymmetric int8 quantization the hybrid kernels apply to float inputs:
/// returns (quantized, scale, zero point / offset).
pub fn asymmetric_quantize_row(row: &[f32]) -> (Vec<i8>, f32, i32) {
    let rmin = row.iter().fold(0f32, |a, &b| a.min(b));
    let rmax = row.iter().fold(0f32, |a, &b| a.max(b));
    if rmin == rmax {
        return (vec![0; row.len()], 1.0, 0);
    }
    let (qmin, qmax) = (-128.0f64, 127.0f64);
    let scale = (f64::from(rmax) - f64::from(rmin)) / (qmax - qmin);
    let zp_from_min = qmin - f64::from(rmin) / scale;
    let zp_from_max = qmax - f64::from(rmax) / scale;
    let err_min = qmin.abs() + (f64::from(rmin) / scale).abs();
    let err_max = qmax.abs() + (f64::from(rmax) / scale).abs();
    let zp = if err_min < err_max {
        zp_from_min
    } else {
        zp_from_max
    };
    let zp = zp.round().clamp(qmin, qmax) as i32;
    let inv = (1.0 / scale) as f32;
    let q = row
        .iter()
        .map(|&v| (zp + (inv * v).round() as i32).clamp(-128, 127) as i8)
        .collect();
    (q, scale as f32, zp)
}

#[allow(clippy::too_many_arguments)]
fn fully_connected(
    x: &Values,
    w: &Values,
    bias: Option<&Values>,
    tin: &Tensor,
    tw: &Tensor,
    tout: &Tensor,
    act: Activation,
    batch: usize,
) -> Result<Values, EvalError> {
    let depth = tw.shape[1] as usize;
    let units = tw.shape[0] as usize;
    let w_scales = |n: usize| -> Result<Vec<f32>, EvalError> {
        let q = tw
            .quant()
            .ok_or_else(|| unsupported(format!("weights {:?} unquantized", tw.name)))?;
        Ok(if q.scale.len() == 1 {
            vec![q.scale[0]; n]
        } else {
            q.scale.clone()
        })
    };
    match (x, w) {
        (Values::F32(x), Values::F32(w)) => {
            let b = match bias {
                Some(Values::F32(b)) => Some(b),
                None => None,
                _ => return Err(unsupported("float FC with non-float bias")),
            };
            let mut out = Vec::with_capacity(batch * units);
            for row in x.chunks_exact(depth).take(batch) {
                for c in 0..units {
                    let wr = &w[c * depth..(c + 1) * depth];
                    let mut acc = 0f32;
                    for (a, v) in wr.iter().zip(row) {
                        acc += a * v;
                    }
                    acc += b.map_or(0.0, |b| b[c]);
                    out.push(float_activation(act, acc)?);
                }
            }
            Ok(Values::F32(out))
        }
        (Values::F32(x), Values::I8(w)) => {
            // Hybrid: per-row asymmetric input quantization, int32 dot product, float rescale.
            let b = match bias {
                Some(Values::F32(b)) => Some(b),
                None => None,
                _ => return Err(unsupported("hybrid FC with non-float bias")),
            };
            let ws = w_scales(units)?;
            let row_sums: Vec<i32> = (0..units)
                .map(|c| {
                    w[c * depth..(c + 1) * depth]
                        .iter()
                        .map(|&v| v as i32)
                        .sum()
                })
                .collect();
            let mut out = Vec::with_capacity(batch * units);
            for row in x.chunks_exact(depth).take(batch) {
                let (q, s, zp) = asymmetric_quantize_row(row);
                for c in 0..units {
                    let wr = &w[c * depth..(c + 1) * depth];
                    let acc: i32 = wr.iter().zip(&q).map(|(&a, &v)| a as i32 * v as i32).sum();
                    let acc = acc - zp * row_sums[c];
                    let v = acc as f32 * (s * ws[c]) + b.map_or(0.0, |b| b[c]);
                    out.push(float_activation(act, v)?);
                }
            }
            Ok(Values::F32(out))
        }
        (Values::I8(x), Values::I8(w)) => {
            let b = match bias {
                Some(Values::I32(b)) => Some(b),
                None => None,
                _ => return Err(unsupported("int8 FC with non-int32 bias")),
            };
            let (si, zi) = qparams(tin)?;
            let (so, zo) = qparams(tout)?;
            let ws = w_scales(units)?;
            let mults: Vec<(i32, i32)> = ws
                .iter()
                .map(|&s| quant::quantize_multiplier(f64::from(si) * f64::from(s) / f64::from(so)))
                .collect();
            let (lo, hi) = quant::activation_range(act, so, zo);
            let mut out = Vec::with_capacity(batch * units);
            for row in x.chunks_exact(depth).take(batch) {
                for c in 0..units {
                    let wr = &w[c * depth..(c + 1) * depth];
                    let mut acc: i32 = wr
                        .iter()
                        .zip(row)
                        .map(|(&a, &v)| a as i32 * (v as i32 - zi))
                        .sum();
                    acc += b.map_or(0, |b| b[c]);
                    let (m, sh) = mults[c];
                    let v = quant::multiply_by_quantized_multiplier(acc, m, sh) + zo;
                    out.push(v.clamp(lo, hi) as i8);
                }
            }
            Ok(Values::I8(out))
        }
        _ => Err(unsupported(format!(
            "FULLY_CONNECTED with {} input and {} weights",
            tin.dtype.name(),
            tw.dtype.name()
        ))),
    }
}
