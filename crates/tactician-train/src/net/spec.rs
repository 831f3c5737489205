//! The network's shape ([`NetSpec`]) and the layout of its one flat parameter buffer: where
//! each dense layer's weight and bias sit ([`Dense`]), the named tensors ([`Tensor`]), counts
//! and the initial parameters.

use crate::config::Activation;
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

/// The shape of a network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetSpec {
    /// Input features.
    pub inputs: usize,
    /// Hidden widths.
    pub hidden: Vec<usize>,
    /// Hidden activation.
    pub activation: Activation,
    /// Actions (policy logits).
    pub actions: usize,
    /// Whether there is a value head.
    pub value_head: bool,
}

/// Where one dense layer's weight `[out, in]` and bias `[out]` sit in the parameter buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dense {
    /// Inputs.
    pub inp: usize,
    /// Outputs.
    pub out: usize,
    /// Offset of the weight.
    pub w: usize,
    /// Offset of the bias.
    pub b: usize,
}

/// A named tensor of the parameter buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tensor {
    /// Name in model.safetensors.
    pub name: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// Offset in the parameter buffer.
    pub offset: usize,
}

impl Tensor {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether it has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl NetSpec {
    /// Outputs of the head: the logits, plus one for the value.
    pub fn head_out(&self) -> usize {
        self.actions + usize::from(self.value_head)
    }

    /// The dense layers, hidden ones first, the head last.
    pub fn layers(&self) -> Vec<Dense> {
        let mut layers = Vec::with_capacity(self.hidden.len() + 1);
        let mut inp = self.inputs;
        let mut at = 0;
        for &out in self.hidden.iter().chain(std::iter::once(&self.head_out())) {
            layers.push(Dense {
                inp,
                out,
                w: at,
                b: at + inp * out,
            });
            at += inp * out + out;
            inp = out;
        }
        layers
    }

    /// Total parameters.
    pub fn param_count(&self) -> usize {
        self.layers().last().map_or(0, |l| l.b + l.out)
    }

    /// Multiply-adds of one example's forward pass.
    pub fn macs_per_example(&self) -> usize {
        self.layers().iter().map(|l| l.inp * l.out).sum()
    }

    /// The named tensors (model.safetensors names) in buffer order.
    pub fn tensors(&self) -> Vec<Tensor> {
        let layers = self.layers();
        let mut out = Vec::new();
        let (head, hidden) = layers.split_last().expect("a network has a head");
        for (i, l) in hidden.iter().enumerate() {
            out.push(Tensor {
                name: format!("dense.{i}.weight"),
                shape: vec![l.out, l.inp],
                offset: l.w,
            });
            out.push(Tensor {
                name: format!("dense.{i}.bias"),
                shape: vec![l.out],
                offset: l.b,
            });
        }
        let a = self.actions;
        out.push(Tensor {
            name: "policy.weight".into(),
            shape: vec![a, head.inp],
            offset: head.w,
        });
        if self.value_head {
            out.push(Tensor {
                name: "value.weight".into(),
                shape: vec![1, head.inp],
                offset: head.w + a * head.inp,
            });
        }
        out.push(Tensor {
            name: "policy.bias".into(),
            shape: vec![a],
            offset: head.b,
        });
        if self.value_head {
            out.push(Tensor {
                name: "value.bias".into(),
                shape: vec![1],
                offset: head.b + a,
            });
        }
        out
    }

    /// Glorot-uniform weights and zero biases (Keras's defaults), from `rng`.
    pub fn init(&self, rng: &mut Rng) -> Vec<f32> {
        let mut p = vec![0f32; self.param_count()];
        let layers = self.layers();
        for (i, l) in layers.iter().enumerate() {
            let is_head = i + 1 == layers.len();
            if is_head {
                // Policy rows and the value row are separate Keras layers: separate limits.
                let lim_p = (6.0 / (l.inp + self.actions) as f64).sqrt() as f32;
                for x in &mut p[l.w..l.w + self.actions * l.inp] {
                    *x = rng.uniform(-lim_p, lim_p);
                }
                let lim_v = (6.0 / (l.inp + 1) as f64).sqrt() as f32;
                for x in &mut p[l.w + self.actions * l.inp..l.w + l.out * l.inp] {
                    *x = rng.uniform(-lim_v, lim_v);
                }
            } else {
                let lim = (6.0 / (l.inp + l.out) as f64).sqrt() as f32;
                for x in &mut p[l.w..l.w + l.out * l.inp] {
                    *x = rng.uniform(-lim, lim);
                }
            }
        }
        p
    }
}
