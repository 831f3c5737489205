//! int8 export: calibration of the activation ranges on a representative sample, and the
//! integer graph (QUANTIZE at the input, int8 FULLY_CONNECTED with per-channel weights and
//! int32 biases, TANH with its fixed output scale, DEQUANTIZE before each output).

use crate::ExportError;
use crate::graph::{
    DEQUANTIZE_VERSION_INT8, FC_VERSION_INT8, Graph, QUANTIZE_VERSION_INT8, TANH_VERSION_INT8,
    fc_options, fused, per_channel, quantize_weights,
};
use tactician_formats::model::{Activation as Hidden, Dense, Mlp};
use tactician_tflite::quant;
use tactician_tflite::{Activation, BuiltinOperator, Options, TensorType};

/// Calibrated real ranges of every int8 activation.
#[derive(Clone, Debug, PartialEq)]
pub struct Ranges {
    /// The raw input features (over all features).
    pub input: (f32, f32),
    /// Each hidden layer's output as quantized: post-activation for RELU/RELU6 (fused),
    /// pre-activation for tanh (the TANH input).
    pub hidden: Vec<(f32, f32)>,
    /// The logits.
    pub logits: (f32, f32),
    /// The value head's pre-tanh output.
    pub value_linear: Option<(f32, f32)>,
}

fn widen(r: &mut (f32, f32), v: &[f32]) {
    for &x in v {
        r.0 = r.0.min(x);
        r.1 = r.1.max(x);
    }
}

/// Runs the float network over the representative sample and records min/max of every
/// activation that the int8 graph quantizes.
pub fn calibrate(mlp: &Mlp, rows: &[f32]) -> Result<Ranges, ExportError> {
    let inputs = mlp.inputs();
    let n = rows.len() / inputs;
    if n == 0 {
        return Err(ExportError::Calibration(
            "the representative sample is empty".into(),
        ));
    }
    if rows.len() % inputs != 0 {
        return Err(ExportError::Calibration(format!(
            "the representative sample has {} values, not a multiple of {} features",
            rows.len(),
            inputs
        )));
    }
    if let Some(x) = rows.iter().find(|x| !x.is_finite()) {
        return Err(ExportError::Calibration(format!(
            "the representative sample holds a non-finite value ({x})"
        )));
    }
    let empty = (f32::INFINITY, f32::NEG_INFINITY);
    let mut r = Ranges {
        input: empty,
        hidden: vec![empty; mlp.hidden.len()],
        logits: empty,
        value_linear: mlp.value.as_ref().map(|_| empty),
    };
    widen(&mut r.input, rows);
    if r.input.0 == r.input.1 {
        return Err(ExportError::Calibration(format!(
            "the representative sample is constant (every feature is {}): it cannot calibrate activation ranges",
            r.input.0
        )));
    }
    let tanh = mlp.activation() == Hidden::Tanh;
    for row in rows.chunks_exact(inputs) {
        let (out, lin) = mlp.forward_visit(row, |i, pre, post| {
            widen(&mut r.hidden[i], if tanh { pre } else { post });
        });
        widen(&mut r.logits, &out.logits);
        if let (Some(vr), Some(l)) = (r.value_linear.as_mut(), lin) {
            widen(vr, &[l]);
        }
    }
    Ok(r)
}

fn params(name: &str, r: (f32, f32)) -> Result<(f32, i32), ExportError> {
    quant::choose_int8_params(r.0, r.1).ok_or_else(|| {
        ExportError::Calibration(format!(
            "activation {name:?} has range [{}, {}] on the representative sample: it cannot be quantized",
            r.0, r.1
        ))
    })
}

/// One int8 FULLY_CONNECTED layer from an int8 input with scale `in_scale`.
fn int8_layer(
    g: &mut Graph,
    name: &str,
    out_name: &str,
    d: &Dense,
    input: (i32, f32),
    out_q: (f32, i32),
    act: Activation,
) -> i32 {
    let (data, scales) = quantize_weights(d);
    let bias: Vec<u8> = d
        .bias
        .iter()
        .zip(&scales)
        .flat_map(|(&b, &s)| quant::quantize_bias(b, input.1, s).to_le_bytes())
        .collect();
    let bias_scales: Vec<f32> = scales
        .iter()
        .map(|&s| (f64::from(input.1) * f64::from(s)) as f32)
        .collect();
    let w = g.constant(
        &format!("{name}/weight"),
        vec![d.outputs as i32, d.inputs as i32],
        TensorType::Int8,
        data,
        Some(per_channel(scales)),
    );
    let b = g.constant(
        &format!("{name}/bias"),
        vec![d.outputs as i32],
        TensorType::Int32,
        bias,
        Some(per_channel(bias_scales)),
    );
    let out = g.activation(out_name, d.outputs, TensorType::Int8, Some(out_q));
    g.op(
        BuiltinOperator::FullyConnected,
        FC_VERSION_INT8,
        vec![input.0, w, b],
        out,
        fc_options(act, false),
    );
    out
}

/// TANH in int8 has a fixed output scale 1/128 and zero point 0 (the official kernels' rule).
pub const TANH_OUTPUT: (f32, i32) = (1.0 / 128.0, 0);

pub(crate) fn build(g: &mut Graph, mlp: &Mlp, input: i32, r: &Ranges) -> Result<(), ExportError> {
    let in_q = params("features", r.input)?;
    let q_in = g.activation("features.int8", mlp.inputs(), TensorType::Int8, Some(in_q));
    g.op(
        BuiltinOperator::Quantize,
        QUANTIZE_VERSION_INT8,
        vec![input],
        q_in,
        Options::None,
    );
    let mut h = (q_in, in_q.0);
    for (i, d) in mlp.hidden.iter().enumerate() {
        let name = format!("dense.{i}");
        let q = params(&name, r.hidden[i])?;
        if mlp.activation() == Hidden::Tanh {
            let lin = int8_layer(
                g,
                &name,
                &format!("{name}.linear"),
                d,
                h,
                q,
                Activation::None,
            );
            let out = g.activation(&name, d.outputs, TensorType::Int8, Some(TANH_OUTPUT));
            g.op(
                BuiltinOperator::Tanh,
                TANH_VERSION_INT8,
                vec![lin],
                out,
                Options::None,
            );
            h = (out, TANH_OUTPUT.0);
        } else {
            let out = int8_layer(g, &name, &name, d, h, q, fused(mlp.activation()));
            h = (out, q.0);
        }
    }
    let lq = params("logits", r.logits)?;
    let logits_q = int8_layer(
        g,
        "policy",
        "logits.int8",
        &mlp.policy,
        h,
        lq,
        Activation::None,
    );
    let logits = g.activation("logits", mlp.actions(), TensorType::Float32, None);
    g.op(
        BuiltinOperator::Dequantize,
        DEQUANTIZE_VERSION_INT8,
        vec![logits_q],
        logits,
        Options::None,
    );
    g.sg.outputs.push(logits);
    if let (Some(v), Some(vr)) = (&mlp.value, r.value_linear) {
        let vq = params("value.linear", vr)?;
        let lin = int8_layer(g, "value", "value.linear", v, h, vq, Activation::None);
        let t = g.activation("value.int8", 1, TensorType::Int8, Some(TANH_OUTPUT));
        g.op(
            BuiltinOperator::Tanh,
            TANH_VERSION_INT8,
            vec![lin],
            t,
            Options::None,
        );
        let out = g.activation("value", 1, TensorType::Float32, None);
        g.op(
            BuiltinOperator::Dequantize,
            DEQUANTIZE_VERSION_INT8,
            vec![t],
            out,
            Options::None,
        );
        g.sg.outputs.push(out);
    }
    Ok(())
}
