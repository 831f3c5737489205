//! Hand-built graphs for tests.
#![allow(dead_code)]

use tactician_runtime::graph::{Activation, DType, Graph, Op, OpKind, Tensor};

pub fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn act(name: &str, shape: Vec<i32>) -> Tensor {
    Tensor {
        name: name.into(),
        dtype: DType::F32,
        shape,
        quant: None,
        data: None,
    }
}

fn constant(name: &str, shape: Vec<i32>, v: &[f32]) -> Tensor {
    Tensor {
        name: name.into(),
        dtype: DType::F32,
        shape,
        quant: None,
        data: Some(f32_bytes(v)),
    }
}

/// features [1,f] -> FC(w1, relu) [1,h] -> FC(w2) "logits" [1,a] (+ FC(wv) -> TANH "value" [1,1]).
pub fn mlp(f: usize, h: usize, a: usize, seed: u64, value: bool) -> Graph {
    let mut s = seed | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        ((s >> 40) as f32 / (1u64 << 24) as f32) - 0.5
    };
    let w1: Vec<f32> = (0..h * f).map(|_| next()).collect();
    let b1: Vec<f32> = (0..h).map(|_| next() * 0.1).collect();
    let w2: Vec<f32> = (0..a * h).map(|_| next()).collect();
    let b2: Vec<f32> = (0..a).map(|_| next() * 0.1).collect();
    let (f, h, a) = (f as i32, h as i32, a as i32);
    let mut tensors = vec![
        act("features", vec![1, f]),
        constant("w1", vec![h, f], &w1),
        constant("b1", vec![h], &b1),
        act("hidden", vec![1, h]),
        constant("w2", vec![a, h], &w2),
        constant("b2", vec![a], &b2),
        act("logits", vec![1, a]),
    ];
    let fc = |activation| OpKind::FullyConnected {
        activation,
        keep_num_dims: false,
        asymmetric_quantize_inputs: false,
    };
    let mut ops = vec![
        Op {
            kind: fc(Activation::Relu),
            inputs: vec![0, 1, 2],
            outputs: vec![3],
        },
        Op {
            kind: fc(Activation::None),
            inputs: vec![3, 4, 5],
            outputs: vec![6],
        },
    ];
    let mut outputs = vec![6];
    if value {
        let wv: Vec<f32> = (0..h).map(|_| next()).collect();
        tensors.push(constant("wv", vec![1, h], &wv));
        tensors.push(act("value.linear", vec![1, 1]));
        tensors.push(act("value", vec![1, 1]));
        ops.push(Op {
            kind: fc(Activation::None),
            inputs: vec![3, 7, -1],
            outputs: vec![8],
        });
        ops.push(Op {
            kind: OpKind::Tanh,
            inputs: vec![8],
            outputs: vec![9],
        });
        outputs.push(9);
    }
    Graph {
        tensors,
        ops,
        inputs: vec![0],
        outputs,
        metadata: Vec::new(),
    }
}

pub fn with_metadata(mut g: Graph, hash: &str, actions: usize, features: usize) -> Graph {
    let names: Vec<String> = (0..actions).map(|i| format!("action{i}")).collect();
    let meta = serde_json::json!({
        "model_version": "test-1",
        "encoder_hash": hash,
        "features": features,
        "action_names": names,
        "value_head": true,
    });
    g.metadata
        .push(("tactician".into(), serde_json::to_vec(&meta).unwrap()));
    g
}
