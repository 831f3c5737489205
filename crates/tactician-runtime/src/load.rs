//! Reading `.tflite` files through `tactician-tflite`'s strict reader into a [`Graph`].

use tactician_tflite as tfl;

use crate::error::{Error, Result};
use crate::graph::{Activation, DType, Graph, Op, OpKind, Quantization, Tensor};

fn dtype(t: tfl::TensorType) -> DType {
    match t {
        tfl::TensorType::Float32 => DType::F32,
        tfl::TensorType::Int8 => DType::I8,
        tfl::TensorType::Int32 => DType::I32,
        other => DType::Other(other.name().to_string()),
    }
}

fn activation(op_index: usize, op: &str, a: tfl::Activation) -> Result<Activation> {
    Ok(match a {
        tfl::Activation::None => Activation::None,
        tfl::Activation::Relu => Activation::Relu,
        tfl::Activation::ReluN1To1 => Activation::ReluN1To1,
        tfl::Activation::Relu6 => Activation::Relu6,
        tfl::Activation::Tanh => Activation::Tanh,
        tfl::Activation::SignBit => {
            return Err(Error::UnsupportedOp {
                op_index,
                op: op.to_string(),
                reason: "fused SIGN_BIT activation".into(),
            });
        }
    })
}

/// Parses and validates a `.tflite` file into the engine's graph.
pub fn graph_from_bytes(bytes: &[u8]) -> Result<Graph> {
    let model = tfl::Model::parse(bytes).map_err(|e| match e {
        tfl::ReadError::Unsupported(m) => Error::Unsupported(m),
        other => Error::Malformed(other.to_string()),
    })?;
    graph_from_model(&model)
}

/// Converts a parsed model's main subgraph into the engine's graph.
pub fn graph_from_model(model: &tfl::Model) -> Result<Graph> {
    if model.subgraphs.len() != 1 {
        return Err(Error::Unsupported(format!(
            "the model has {} subgraphs; only single-subgraph models are supported",
            model.subgraphs.len()
        )));
    }
    let sg = model
        .main_subgraph()
        .ok_or_else(|| Error::Malformed("no subgraph".into()))?;
    let tensors = sg
        .tensors
        .iter()
        .map(|t| {
            let data = model.tensor_data(t);
            Tensor {
                name: t.name.clone(),
                dtype: dtype(t.dtype),
                shape: t.shape.clone(),
                quant: t.quant().map(|q| Quantization {
                    scale: q.scale.clone(),
                    zero_point: q.zero_point.clone(),
                    axis: usize::try_from(q.quantized_dimension).unwrap_or(usize::MAX),
                }),
                data: (!data.is_empty()).then(|| data.to_vec()),
            }
        })
        .collect();
    let mut ops = Vec::with_capacity(sg.operators.len());
    for (i, op) in sg.operators.iter().enumerate() {
        use tfl::BuiltinOperator as B;
        let name = op.builtin.name();
        let kind = match (op.builtin, &op.options) {
            (B::FullyConnected, tfl::Options::FullyConnected(o)) => {
                if o.weights_format != tfl::WeightsFormat::default() {
                    return Err(Error::UnsupportedOp {
                        op_index: i,
                        op: name.into(),
                        reason: "shuffled weights format".into(),
                    });
                }
                OpKind::FullyConnected {
                    activation: activation(i, name, o.activation)?,
                    keep_num_dims: o.keep_num_dims,
                    asymmetric_quantize_inputs: o.asymmetric_quantize_inputs,
                }
            }
            (B::FullyConnected, _) => OpKind::FullyConnected {
                activation: Activation::None,
                keep_num_dims: false,
                asymmetric_quantize_inputs: false,
            },
            (B::Relu, _) => OpKind::Relu,
            (B::Relu6, _) => OpKind::Relu6,
            (B::Tanh, _) => OpKind::Tanh,
            (B::Logistic, _) => OpKind::Logistic,
            (B::Softmax, tfl::Options::Softmax { beta }) => OpKind::Softmax { beta: *beta },
            (B::Softmax, _) => OpKind::Softmax { beta: 1.0 },
            (B::Quantize, _) => OpKind::Quantize,
            (B::Dequantize, _) => OpKind::Dequantize,
            (B::Reshape, _) => OpKind::Reshape,
            (B::Add, tfl::Options::Add { activation: a, .. }) => OpKind::Add {
                activation: activation(i, name, *a)?,
            },
            (B::Add, _) => OpKind::Add {
                activation: Activation::None,
            },
            (B::Mul, tfl::Options::Mul { activation: a }) => OpKind::Mul {
                activation: activation(i, name, *a)?,
            },
            (B::Mul, _) => OpKind::Mul {
                activation: Activation::None,
            },
        };
        // RESHAPE's optional second input (the target shape) is a constant the engine does not
        // need: the output tensor's shape says it all.
        let inputs = if matches!(kind, OpKind::Reshape) {
            op.inputs.iter().take(1).copied().collect()
        } else {
            op.inputs.clone()
        };
        ops.push(Op {
            kind,
            inputs,
            outputs: op.outputs.clone(),
        });
    }
    let metadata = model
        .metadata
        .iter()
        .filter_map(|m| {
            model
                .metadata_bytes(&m.name)
                .map(|b| (m.name.clone(), b.to_vec()))
        })
        .collect();
    Ok(Graph {
        tensors,
        ops,
        inputs: sg.inputs.clone(),
        outputs: sg.outputs.clone(),
        metadata,
    })
}
