//! The exporter: an [`Mlp`] → a TFLite [`Model`] in float32, dynamic-range or int8.
//!
//! - **float32**: `features` → FULLY_CONNECTED (fused RELU/RELU6; tanh as a separate TANH op,
//!   since the official float kernel ignores a fused TANH) → … → `logits`; the value head is
//!   FULLY_CONNECTED → TANH → `value`.
//! - **dynamic**: the same graph with int8 per-channel symmetric weights and float biases and
//!   activations; FULLY_CONNECTED runs its hybrid kernel with `asymmetric_quantize_inputs`, as
//!   the converter's default optimization emits.
//! - **int8**: QUANTIZE at the input, int8 FULLY_CONNECTED (per-channel symmetric weights,
//!   int32 biases at scale `s_in·s_w[c]`), per-tensor activation scales calibrated on a
//!   representative sample, TANH with the fixed output scale 1/128 and zero point 0, and
//!   DEQUANTIZE before each output.
//!
//! A metadata entry named `tactician` carries [`TacticianMetadata`] as UTF-8 JSON.

use crate::error::{ReadError, WriteError};
use crate::mlp::{Dense, HiddenActivation, Mlp};
use crate::model::{
    FullyConnectedOptions, Metadata, Model, Operator, OperatorCode, Options, Quantization,
    SCHEMA_VERSION, SignatureDef, Subgraph, Tensor,
};
use crate::quant;
use crate::schema::{Activation, BuiltinOperator, TensorType};
use serde::{Deserialize, Serialize};

/// The name of the metadata entry the exporter writes.
pub const METADATA_NAME: &str = "tactician";

/// What the `tactician` metadata entry holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TacticianMetadata {
    /// The trained model's version string.
    pub model_version: String,
    /// The encoder hash the model was trained with.
    pub encoder_hash: String,
    /// Feature count.
    pub features: usize,
    /// Action names, one per logit.
    pub action_names: Vec<String>,
    /// Whether a `value` output exists.
    pub value_head: bool,
}

impl TacticianMetadata {
    /// The metadata of `model`, `None` when it has no `tactician` entry.
    pub fn from_model(model: &Model) -> Result<Option<Self>, ReadError> {
        match model.metadata_bytes(METADATA_NAME) {
            None => Ok(None),
            Some(b) => serde_json::from_slice(b).map(Some).map_err(|e| {
                ReadError::Invalid(format!(
                    "metadata entry {METADATA_NAME:?} is not valid: {e}"
                ))
            }),
        }
    }
}

/// The numeric format of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Precision {
    /// Everything float32.
    Float32,
    /// int8 weights, float activations (hybrid kernels).
    Dynamic,
    /// Full int8 with float input and outputs.
    Int8,
}

impl Precision {
    /// The file name the CLI writes for this precision.
    pub fn file_name(self) -> &'static str {
        match self {
            Precision::Float32 => "model-f32.tflite",
            Precision::Dynamic => "model-dynamic.tflite",
            Precision::Int8 => "model-int8.tflite",
        }
    }

    /// A short name (`f32`, `dynamic`, `int8`).
    pub fn name(self) -> &'static str {
        match self {
            Precision::Float32 => "f32",
            Precision::Dynamic => "dynamic",
            Precision::Int8 => "int8",
        }
    }
}

/// Export settings.
#[derive(Clone, Copy, Debug)]
pub struct ExportOptions<'a> {
    /// The numeric format.
    pub precision: Precision,
    /// Representative input rows (row-major `[n][inputs]`, raw features), required for int8.
    pub calibration: Option<&'a [f32]>,
    /// The largest file to write, in bytes.
    pub max_bytes: u64,
}

impl<'a> ExportOptions<'a> {
    /// Options for `precision` with no calibration data and the FlatBuffer size limit.
    pub fn new(precision: Precision) -> Self {
        ExportOptions {
            precision,
            calibration: None,
            max_bytes: crate::model::MAX_FLATBUFFER_SIZE,
        }
    }

    /// Sets the calibration sample.
    pub fn with_calibration(mut self, rows: &'a [f32]) -> Self {
        self.calibration = Some(rows);
        self
    }
}

/// Exports `mlp` to `.tflite` bytes. Deterministic: same network and sample, same bytes.
pub fn export(mlp: &Mlp, opts: &ExportOptions<'_>) -> Result<Vec<u8>, WriteError> {
    let model = build(mlp, opts)?;
    let bytes = model.to_bytes()?;
    if bytes.len() as u64 > opts.max_bytes {
        return Err(WriteError::TooLarge {
            size: bytes.len() as u64,
            limit: opts.max_bytes,
        });
    }
    Ok(bytes)
}

/// Builds the TFLite model of `mlp` without serializing it.
pub fn build(mlp: &Mlp, opts: &ExportOptions<'_>) -> Result<Model, WriteError> {
    mlp.validate()?;
    // A cheap bound before doing any work: parameter bytes alone.
    let params: u64 = mlp
        .hidden
        .iter()
        .chain(std::iter::once(&mlp.policy))
        .chain(mlp.value.iter())
        .map(|d| (d.weight.len() + d.bias.len()) as u64)
        .sum();
    let per_param = if opts.precision == Precision::Float32 {
        4
    } else {
        1
    };
    if params * per_param > opts.max_bytes {
        return Err(WriteError::TooLarge {
            size: params * per_param,
            limit: opts.max_bytes,
        });
    }
    let mut g = Graph::new();
    let input = g.activation("features", mlp.inputs, TensorType::Float32, None);
    g.sg.inputs.push(input);
    match opts.precision {
        Precision::Float32 | Precision::Dynamic => build_float(&mut g, mlp, input, opts.precision),
        Precision::Int8 => {
            let rows = opts.calibration.ok_or_else(|| {
                WriteError::Calibration("int8 export needs a representative sample".into())
            })?;
            let ranges = calibrate(mlp, rows)?;
            build_int8(&mut g, mlp, input, &ranges)?;
        }
    }
    let meta = TacticianMetadata {
        model_version: mlp.model_version.clone(),
        encoder_hash: mlp.encoder_hash.clone(),
        features: mlp.inputs,
        action_names: mlp.action_names.clone(),
        value_head: mlp.value.is_some(),
    };
    let json = serde_json::to_vec(&meta).map_err(|e| WriteError::Invalid(e.to_string()))?;
    let buffer = g.buffer(json);
    g.model.metadata.push(Metadata {
        name: METADATA_NAME.into(),
        buffer,
    });
    let named = |sg: &Subgraph, idx: &[i32]| -> Vec<(String, u32)> {
        idx.iter()
            .map(|&i| (sg.tensors[i as usize].name.clone(), i as u32))
            .collect()
    };
    g.model.signature_defs.push(SignatureDef {
        key: "serving_default".into(),
        subgraph_index: 0,
        inputs: named(&g.sg, &g.sg.inputs),
        outputs: named(&g.sg, &g.sg.outputs),
    });
    let Graph { mut model, sg } = g;
    model.subgraphs.push(sg);
    Ok(model)
}

/// The model and its single subgraph under construction.
struct Graph {
    model: Model,
    sg: Subgraph,
}

impl Graph {
    fn new() -> Self {
        Graph {
            model: Model {
                version: SCHEMA_VERSION,
                description: Some("Tactician exporter".into()),
                // Buffer 0 is the conventional empty buffer.
                buffers: vec![Vec::new()],
                ..Model::default()
            },
            sg: Subgraph {
                name: Some("main".into()),
                ..Subgraph::default()
            },
        }
    }

    fn buffer(&mut self, data: Vec<u8>) -> u32 {
        self.model.buffers.push(data);
        (self.model.buffers.len() - 1) as u32
    }

    fn push(&mut self, t: Tensor) -> i32 {
        self.sg.tensors.push(t);
        (self.sg.tensors.len() - 1) as i32
    }

    /// A `[batch, width]` activation tensor (batch 1, dynamic in the signature).
    fn activation(
        &mut self,
        name: &str,
        width: usize,
        dtype: TensorType,
        quant: Option<(f32, i32)>,
    ) -> i32 {
        self.push(Tensor {
            name: name.into(),
            shape: vec![1, width as i32],
            shape_signature: Some(vec![-1, width as i32]),
            dtype,
            buffer: 0,
            quantization: quant.map(|(s, z)| Quantization {
                scale: vec![s],
                zero_point: vec![i64::from(z)],
                ..Quantization::default()
            }),
            is_variable: false,
        })
    }

    fn constant(
        &mut self,
        name: &str,
        shape: Vec<i32>,
        dtype: TensorType,
        data: Vec<u8>,
        quantization: Option<Quantization>,
    ) -> i32 {
        let buffer = self.buffer(data);
        self.push(Tensor {
            name: name.into(),
            shape,
            shape_signature: None,
            dtype,
            buffer,
            quantization,
            is_variable: false,
        })
    }

    fn op(
        &mut self,
        builtin: BuiltinOperator,
        version: i32,
        inputs: Vec<i32>,
        output: i32,
        options: Options,
    ) {
        let code = OperatorCode { builtin, version };
        let idx = match self.model.operator_codes.iter().position(|c| *c == code) {
            Some(i) => i,
            None => {
                self.model.operator_codes.push(code);
                self.model.operator_codes.len() - 1
            }
        };
        self.sg.operators.push(Operator {
            opcode_index: idx as u32,
            builtin,
            inputs,
            outputs: vec![output],
            options,
        });
    }
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn fc_options(activation: Activation, asymmetric: bool) -> Options {
    Options::FullyConnected(FullyConnectedOptions {
        activation,
        asymmetric_quantize_inputs: asymmetric,
        ..FullyConnectedOptions::default()
    })
}

fn fused(act: HiddenActivation) -> Activation {
    match act {
        HiddenActivation::Relu => Activation::Relu,
        HiddenActivation::Relu6 => Activation::Relu6,
        HiddenActivation::Tanh => Activation::None,
    }
}

/// Per-channel symmetric int8 weights of `d`: (bytes, scales).
fn quantize_weights(d: &Dense) -> (Vec<u8>, Vec<f32>) {
    let mut data = Vec::with_capacity(d.weight.len());
    let mut scales = Vec::with_capacity(d.outputs);
    for row in d.weight.chunks_exact(d.inputs) {
        let s = quant::symmetric_scale(row);
        scales.push(s);
        data.extend(row.iter().map(|&w| quant::quantize_symmetric(w, s) as u8));
    }
    (data, scales)
}

fn per_channel(scales: Vec<f32>) -> Quantization {
    Quantization {
        zero_point: vec![0; scales.len()],
        scale: scales,
        quantized_dimension: 0,
        ..Quantization::default()
    }
}

/// One float (or hybrid) FULLY_CONNECTED layer; returns its output tensor.
fn float_layer(
    g: &mut Graph,
    name: &str,
    out_name: &str,
    d: &Dense,
    input: i32,
    act: Activation,
    precision: Precision,
) -> i32 {
    let shape = vec![d.outputs as i32, d.inputs as i32];
    let w = if precision == Precision::Dynamic {
        let (data, scales) = quantize_weights(d);
        g.constant(
            &format!("{name}/weight"),
            shape,
            TensorType::Int8,
            data,
            Some(per_channel(scales)),
        )
    } else {
        g.constant(
            &format!("{name}/weight"),
            shape,
            TensorType::Float32,
            f32_bytes(&d.weight),
            None,
        )
    };
    let b = g.constant(
        &format!("{name}/bias"),
        vec![d.outputs as i32],
        TensorType::Float32,
        f32_bytes(&d.bias),
        None,
    );
    let out = g.activation(out_name, d.outputs, TensorType::Float32, None);
    let (version, asym) = match precision {
        Precision::Dynamic => (FC_VERSION_HYBRID, true),
        _ => (FC_VERSION_FLOAT, false),
    };
    g.op(
        BuiltinOperator::FullyConnected,
        version,
        vec![input, w, b],
        out,
        fc_options(act, asym),
    );
    out
}

// Operator versions, as the official converter assigns them for these kernels.
const FC_VERSION_FLOAT: i32 = 1;
const FC_VERSION_HYBRID: i32 = 12;
const FC_VERSION_INT8: i32 = 4;
const TANH_VERSION_FLOAT: i32 = 1;
const TANH_VERSION_INT8: i32 = 2;
const QUANTIZE_VERSION_INT8: i32 = 1;
const DEQUANTIZE_VERSION_INT8: i32 = 2;

fn build_float(g: &mut Graph, mlp: &Mlp, input: i32, precision: Precision) {
    let mut h = input;
    for (i, d) in mlp.hidden.iter().enumerate() {
        let name = format!("dense.{i}");
        if mlp.activation == HiddenActivation::Tanh {
            let lin = float_layer(
                g,
                &name,
                &format!("{name}.linear"),
                d,
                h,
                Activation::None,
                precision,
            );
            let out = g.activation(&name, d.outputs, TensorType::Float32, None);
            g.op(
                BuiltinOperator::Tanh,
                TANH_VERSION_FLOAT,
                vec![lin],
                out,
                Options::None,
            );
            h = out;
        } else {
            h = float_layer(g, &name, &name, d, h, fused(mlp.activation), precision);
        }
    }
    let logits = float_layer(
        g,
        "policy",
        "logits",
        &mlp.policy,
        h,
        Activation::None,
        precision,
    );
    g.sg.outputs.push(logits);
    if let Some(v) = &mlp.value {
        let lin = float_layer(
            g,
            "value",
            "value.linear",
            v,
            h,
            Activation::None,
            precision,
        );
        let out = g.activation("value", 1, TensorType::Float32, None);
        g.op(
            BuiltinOperator::Tanh,
            TANH_VERSION_FLOAT,
            vec![lin],
            out,
            Options::None,
        );
        g.sg.outputs.push(out);
    }
}

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
pub fn calibrate(mlp: &Mlp, rows: &[f32]) -> Result<Ranges, WriteError> {
    let n = rows.len() / mlp.inputs;
    if n == 0 {
        return Err(WriteError::Calibration(
            "the representative sample is empty".into(),
        ));
    }
    if rows.len() % mlp.inputs != 0 {
        return Err(WriteError::Calibration(format!(
            "the representative sample has {} values, not a multiple of {} features",
            rows.len(),
            mlp.inputs
        )));
    }
    if let Some(x) = rows.iter().find(|x| !x.is_finite()) {
        return Err(WriteError::Calibration(format!(
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
        return Err(WriteError::Calibration(format!(
            "the representative sample is constant (every feature is {}): it cannot calibrate activation ranges",
            r.input.0
        )));
    }
    let tanh = mlp.activation == HiddenActivation::Tanh;
    for row in rows.chunks_exact(mlp.inputs) {
        let (logits, _, lin) = mlp.forward_visit_fast(row, |i, pre, post| {
            widen(&mut r.hidden[i], if tanh { pre } else { post });
        });
        widen(&mut r.logits, &logits);
        if let (Some(vr), Some(l)) = (r.value_linear.as_mut(), lin) {
            widen(vr, &[l]);
        }
    }
    Ok(r)
}

fn params(name: &str, r: (f32, f32)) -> Result<(f32, i32), WriteError> {
    quant::choose_int8_params(r.0, r.1).ok_or_else(|| {
        WriteError::Calibration(format!(
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

fn build_int8(g: &mut Graph, mlp: &Mlp, input: i32, r: &Ranges) -> Result<(), WriteError> {
    let in_q = params("features", r.input)?;
    let q_in = g.activation("features.int8", mlp.inputs, TensorType::Int8, Some(in_q));
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
        if mlp.activation == HiddenActivation::Tanh {
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
            let out = int8_layer(g, &name, &name, d, h, q, fused(mlp.activation));
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
