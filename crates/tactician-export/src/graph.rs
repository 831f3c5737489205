//! The graphs of an [`Mlp`] as a TFLite [`Model`], in float32, dynamic-range or int8.
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

use crate::ExportError;
use crate::int8;
use serde::{Deserialize, Serialize};
use tactician_formats::model::{Activation as Hidden, Dense, Mlp};
use tactician_tflite::quant;
use tactician_tflite::{
    Activation, BuiltinOperator, FullyConnectedOptions, METADATA_NAME, Metadata, Model, Operator,
    OperatorCode, Options, Quantization, SCHEMA_VERSION, SignatureDef, Subgraph, TacticianMetadata,
    Tensor, TensorType,
};

/// The numeric format of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Precision {
    /// Everything float32.
    #[serde(rename = "f32")]
    Float32,
    /// int8 weights, float activations (hybrid kernels).
    #[serde(rename = "dynamic")]
    Dynamic,
    /// Full int8 with float input and outputs.
    #[serde(rename = "int8")]
    Int8,
}

impl Precision {
    /// Every precision, in file order.
    pub const ALL: [Precision; 3] = [Precision::Float32, Precision::Dynamic, Precision::Int8];

    /// The file name of this precision in an export folder.
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
            max_bytes: tactician_tflite::MAX_FLATBUFFER_SIZE,
        }
    }

    /// Sets the calibration sample.
    pub fn with_calibration(mut self, rows: &'a [f32]) -> Self {
        self.calibration = Some(rows);
        self
    }
}

/// Exports `mlp` to `.tflite` bytes. Deterministic: same network and sample, same bytes.
pub fn export(mlp: &Mlp, opts: &ExportOptions<'_>) -> Result<Vec<u8>, ExportError> {
    serialize(&build(mlp, opts)?, opts.max_bytes)
}

/// The bytes of a built model, refused above `max_bytes`.
pub(crate) fn serialize(model: &Model, max_bytes: u64) -> Result<Vec<u8>, ExportError> {
    let bytes = model.to_bytes()?;
    if bytes.len() as u64 > max_bytes {
        return Err(ExportError::TooLarge {
            size: bytes.len() as u64,
            limit: max_bytes,
        });
    }
    Ok(bytes)
}

/// Builds the TFLite model of `mlp` without serializing it.
pub fn build(mlp: &Mlp, opts: &ExportOptions<'_>) -> Result<Model, ExportError> {
    mlp.validate().map_err(ExportError::Unsupported)?;
    for (name, d) in mlp.layers() {
        if i32::try_from(d.inputs).is_err() || i32::try_from(d.outputs).is_err() {
            return Err(ExportError::Unsupported(format!(
                "layer {name} is too wide"
            )));
        }
    }
    // A cheap bound before doing any work: parameter bytes alone.
    let params = mlp.parameters() as u64;
    let per_param = if opts.precision == Precision::Float32 {
        4
    } else {
        1
    };
    if params * per_param > opts.max_bytes {
        return Err(ExportError::TooLarge {
            size: params * per_param,
            limit: opts.max_bytes,
        });
    }
    let mut g = Graph::new();
    let input = g.activation("features", mlp.inputs(), TensorType::Float32, None);
    g.sg.inputs.push(input);
    match opts.precision {
        Precision::Float32 | Precision::Dynamic => build_float(&mut g, mlp, input, opts.precision),
        Precision::Int8 => {
            let rows = opts.calibration.ok_or_else(|| {
                ExportError::Calibration("int8 export needs a representative sample".into())
            })?;
            let ranges = int8::calibrate(mlp, rows)?;
            int8::build(&mut g, mlp, input, &ranges)?;
        }
    }
    let meta = TacticianMetadata {
        model_version: mlp.meta.model_version.clone(),
        encoder_hash: mlp.meta.encoder_hash.clone(),
        features: mlp.inputs(),
        action_names: mlp.meta.action_names.clone(),
        value_head: mlp.value.is_some(),
    };
    let buffer = g.buffer(meta.to_bytes());
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
pub(crate) struct Graph {
    pub(crate) model: Model,
    pub(crate) sg: Subgraph,
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

    pub(crate) fn buffer(&mut self, data: Vec<u8>) -> u32 {
        self.model.buffers.push(data);
        (self.model.buffers.len() - 1) as u32
    }

    fn push(&mut self, t: Tensor) -> i32 {
        self.sg.tensors.push(t);
        (self.sg.tensors.len() - 1) as i32
    }

    /// A `[batch, width]` activation tensor (batch 1, dynamic in the signature).
    pub(crate) fn activation(
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

    pub(crate) fn constant(
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

    pub(crate) fn op(
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

pub(crate) fn fc_options(activation: Activation, asymmetric: bool) -> Options {
    Options::FullyConnected(FullyConnectedOptions {
        activation,
        asymmetric_quantize_inputs: asymmetric,
        ..FullyConnectedOptions::default()
    })
}

pub(crate) fn fused(act: Hidden) -> Activation {
    match act {
        Hidden::Relu => Activation::Relu,
        Hidden::Relu6 => Activation::Relu6,
        Hidden::Tanh => Activation::None,
    }
}

/// Per-channel symmetric int8 weights of `d`: (bytes, scales).
pub(crate) fn quantize_weights(d: &Dense) -> (Vec<u8>, Vec<f32>) {
    let mut data = Vec::with_capacity(d.weight.len());
    let mut scales = Vec::with_capacity(d.outputs);
    for row in d.weight.chunks_exact(d.inputs) {
        let s = quant::symmetric_scale(row);
        scales.push(s);
        data.extend(row.iter().map(|&w| quant::quantize_symmetric(w, s) as u8));
    }
    (data, scales)
}

pub(crate) fn per_channel(scales: Vec<f32>) -> Quantization {
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
pub(crate) const FC_VERSION_INT8: i32 = 4;
const TANH_VERSION_FLOAT: i32 = 1;
pub(crate) const TANH_VERSION_INT8: i32 = 2;
pub(crate) const QUANTIZE_VERSION_INT8: i32 = 1;
pub(crate) const DEQUANTIZE_VERSION_INT8: i32 = 2;

fn build_float(g: &mut Graph, mlp: &Mlp, input: i32, precision: Precision) {
    let mut h = input;
    for (i, d) in mlp.hidden.iter().enumerate() {
        let name = format!("dense.{i}");
        if mlp.activation() == Hidden::Tanh {
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
            h = float_layer(g, &name, &name, d, h, fused(mlp.activation()), precision);
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
