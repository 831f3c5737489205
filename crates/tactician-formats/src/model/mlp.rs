//! The network a model folder holds, and its forward pass in plain float arithmetic.

use super::{Activation, ModelJson};

/// One fully connected layer: `y = W x + b`, `W` row-major `[outputs][inputs]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dense {
    /// Input width.
    pub inputs: usize,
    /// Output width.
    pub outputs: usize,
    /// Weights, row-major `[outputs][inputs]`.
    pub weight: Vec<f32>,
    /// Biases, `[outputs]`.
    pub bias: Vec<f32>,
}

impl Dense {
    /// A layer of zeros.
    pub fn zeros(inputs: usize, outputs: usize) -> Self {
        Self {
            inputs,
            outputs,
            weight: vec![0.0; inputs * outputs],
            bias: vec![0.0; outputs],
        }
    }

    /// `W x + b` into `out` (cleared first), each output accumulated in `f64` and rounded
    /// once: the reference the exported files are compared with.
    pub fn apply_exact(&self, x: &[f32], out: &mut Vec<f32>) {
        out.clear();
        for (row, b) in self.weight.chunks_exact(self.inputs).zip(&self.bias) {
            let acc: f64 = row
                .iter()
                .zip(x)
                .map(|(w, v)| f64::from(*w) * f64::from(*v))
                .sum();
            out.push((acc + f64::from(*b)) as f32);
        }
    }

    /// `W x + b` into `out` (cleared first) in `f32`, over eight independent partial sums
    /// (so the compiler vectorizes it) added in a fixed order: the same inputs give the same
    /// bits on every machine. Used where speed matters more than the last bit: evaluation and
    /// int8 calibration.
    pub fn apply(&self, x: &[f32], out: &mut Vec<f32>) {
        out.clear();
        for (row, b) in self.weight.chunks_exact(self.inputs).zip(&self.bias) {
            let mut acc = [0f32; 8];
            let mut wc = row.chunks_exact(8);
            let mut xc = x.chunks_exact(8);
            for (w8, x8) in (&mut wc).zip(&mut xc) {
                for k in 0..8 {
                    acc[k] += w8[k] * x8[k];
                }
            }
            let mut sum: f32 = acc.iter().sum();
            for (w, v) in wc.remainder().iter().zip(xc.remainder()) {
                sum += w * v;
            }
            out.push(sum + b);
        }
    }

    /// Checks the layer's sizes and that every parameter is finite.
    fn check(&self, name: &str) -> Result<(), String> {
        if self.inputs == 0 || self.outputs == 0 {
            return Err(format!("layer {name} has a zero dimension"));
        }
        if self.weight.len() != self.inputs * self.outputs || self.bias.len() != self.outputs {
            return Err(format!(
                "layer {name}: weight has {} values and bias {}, expected {}x{} and {}",
                self.weight.len(),
                self.bias.len(),
                self.outputs,
                self.inputs,
                self.outputs
            ));
        }
        if let Some(i) = self
            .weight
            .iter()
            .chain(&self.bias)
            .position(|v| !v.is_finite())
        {
            return Err(format!(
                "layer {name} holds a non-finite parameter at index {i}"
            ));
        }
        Ok(())
    }
}

/// A policy network: hidden layers, a policy head (logits) and an optional value head.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    /// The description (`model.json`).
    pub meta: ModelJson,
    /// The hidden layers, first to last (the input normalization folded into the first).
    pub hidden: Vec<Dense>,
    /// The policy head: one logit per action.
    pub policy: Dense,
    /// The value head: one output, then `tanh`.
    pub value: Option<Dense>,
}

/// What the network says about one row.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// One logit per action.
    pub logits: Vec<f32>,
    /// The value estimate in `[-1, 1]` for the acting side, with a value head.
    pub value: Option<f32>,
}

/// What the network says about a batch of rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Outputs {
    /// Logits, row-major `[rows][actions]`.
    pub logits: Vec<f32>,
    /// Values `[rows]`, with a value head.
    pub value: Option<Vec<f32>>,
}

/// SplitMix64 (the generator of random test networks).
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Mlp {
    /// A network from its layers, checked against `meta`: the layers chain from
    /// `meta.inputs` through `meta.hidden` to `meta.actions` logits (and one value with a
    /// value head), and every parameter is finite.
    pub fn new(
        meta: ModelJson,
        hidden: Vec<Dense>,
        policy: Dense,
        value: Option<Dense>,
    ) -> Result<Self, String> {
        let mlp = Self {
            meta,
            hidden,
            policy,
            value,
        };
        mlp.validate()?;
        Ok(mlp)
    }

    /// Checks what [`Mlp::new`] checks (the fields are public, so a network can be changed
    /// after it was built).
    pub fn validate(&self) -> Result<(), String> {
        let meta = &self.meta;
        meta.check()?;
        if self.hidden.len() != meta.hidden.len() {
            return Err(format!(
                "{} hidden layers, the description has {}",
                self.hidden.len(),
                meta.hidden.len()
            ));
        }
        let mut width = meta.inputs;
        for (i, (d, &h)) in self.hidden.iter().zip(&meta.hidden).enumerate() {
            let name = format!("dense.{i}");
            d.check(&name)?;
            if d.inputs != width || d.outputs != h {
                return Err(format!(
                    "layer {name} is {}x{}, expected {h}x{width}",
                    d.outputs, d.inputs
                ));
            }
            width = h;
        }
        self.policy.check("policy")?;
        if self.policy.inputs != width || self.policy.outputs != meta.actions {
            return Err(format!(
                "layer policy is {}x{}, expected {}x{width}",
                self.policy.outputs, self.policy.inputs, meta.actions
            ));
        }
        match (&self.value, meta.value_head) {
            (Some(v), true) => {
                v.check("value")?;
                if v.inputs != width || v.outputs != 1 {
                    return Err(format!(
                        "layer value is {}x{}, expected 1x{width}",
                        v.outputs, v.inputs
                    ));
                }
            }
            (None, false) => {}
            (Some(_), false) => return Err("a value head the description does not have".into()),
            (None, true) => {
                return Err("the description has a value head, the layers do not".into());
            }
        }
        Ok(())
    }

    /// A network for `meta` with weights drawn uniformly from `±sqrt(6 / inputs)` and biases
    /// from `±0.1`, from `seed`: the same description and seed give the same weights. For
    /// tests, benchmarks and demonstrations.
    pub fn random(meta: ModelJson, seed: u64) -> Self {
        let mut state = seed;
        let mut uniform = || (splitmix(&mut state) >> 11) as f64 / (1u64 << 53) as f64;
        let mut dense = |i: usize, o: usize| {
            let lim = (6.0 / i as f64).sqrt();
            Dense {
                inputs: i,
                outputs: o,
                weight: (0..i * o)
                    .map(|_| (uniform() * 2.0 - 1.0) as f32 * lim as f32)
                    .collect(),
                bias: (0..o).map(|_| (uniform() * 0.2 - 0.1) as f32).collect(),
            }
        };
        let mut width = meta.inputs;
        let mut hidden = Vec::with_capacity(meta.hidden.len());
        for &h in &meta.hidden {
            hidden.push(dense(width, h));
            width = h;
        }
        let policy = dense(width, meta.actions);
        let value = meta.value_head.then(|| dense(width, 1));
        Self {
            meta,
            hidden,
            policy,
            value,
        }
    }

    /// Number of input features.
    pub fn inputs(&self) -> usize {
        self.meta.inputs
    }

    /// Number of actions (logits).
    pub fn actions(&self) -> usize {
        self.meta.actions
    }

    /// The hidden layers' activation.
    pub fn activation(&self) -> Activation {
        self.meta.activation
    }

    /// The number of weights and biases, over every layer.
    pub fn parameters(&self) -> usize {
        self.hidden
            .iter()
            .chain(std::iter::once(&self.policy))
            .chain(self.value.iter())
            .map(|d| d.weight.len() + d.bias.len())
            .sum()
    }

    /// Every layer with its tensor name prefix, in file order: `dense.{i}`, `policy`, `value`.
    pub fn layers(&self) -> Vec<(String, &Dense)> {
        let mut out: Vec<(String, &Dense)> = self
            .hidden
            .iter()
            .enumerate()
            .map(|(i, d)| (format!("dense.{i}"), d))
            .collect();
        out.push(("policy".into(), &self.policy));
        if let Some(v) = &self.value {
            out.push(("value".into(), v));
        }
        out
    }

    /// One row through the network with `apply` as the layer product: (logits, value,
    /// the value head's output before `tanh`). Calls `visit(layer, pre, post)` on each hidden
    /// layer with its output before and after the activation.
    fn run(
        &self,
        x: &[f32],
        apply: fn(&Dense, &[f32], &mut Vec<f32>),
        mut visit: impl FnMut(usize, &[f32], &[f32]),
    ) -> (Vec<f32>, Option<f32>, Option<f32>) {
        let act = self.meta.activation;
        let mut h = x.to_vec();
        let mut pre = Vec::new();
        for (i, d) in self.hidden.iter().enumerate() {
            apply(d, &h, &mut pre);
            h.clear();
            h.extend(pre.iter().map(|&v| act.apply(v)));
            visit(i, &pre, &h);
        }
        let mut logits = Vec::new();
        apply(&self.policy, &h, &mut logits);
        match &self.value {
            Some(v) => {
                let mut o = Vec::new();
                apply(v, &h, &mut o);
                (logits, Some(o[0].tanh()), Some(o[0]))
            }
            None => (logits, None, None),
        }
    }

    /// One row of raw features (length `inputs`) through the network, in `f32`
    /// ([`Dense::apply`]).
    pub fn forward(&self, x: &[f32]) -> Output {
        let (logits, value, _) = self.run(x, Dense::apply, |_, _, _| {});
        Output { logits, value }
    }

    /// [`Mlp::forward`] that also calls `visit(layer, pre, post)` on each hidden layer's output
    /// before and after its activation, and returns the value head's output before `tanh`.
    pub fn forward_visit(
        &self,
        x: &[f32],
        visit: impl FnMut(usize, &[f32], &[f32]),
    ) -> (Output, Option<f32>) {
        let (logits, value, linear) = self.run(x, Dense::apply, visit);
        (Output { logits, value }, linear)
    }

    /// `rows` rows of raw features (row-major) through the network, every product
    /// accumulated in `f64` ([`Dense::apply_exact`]): the float reference.
    pub fn forward_exact(&self, features: &[f32], rows: usize) -> Outputs {
        let mut logits = Vec::with_capacity(rows * self.actions());
        let mut value = self.value.as_ref().map(|_| Vec::with_capacity(rows));
        for row in features.chunks_exact(self.inputs()).take(rows) {
            let (l, v, _) = self.run(row, Dense::apply_exact, |_, _, _| {});
            logits.extend(l);
            if let (Some(vs), Some(v)) = (value.as_mut(), v) {
                vs.push(v);
            }
        }
        Outputs { logits, value }
    }
}
