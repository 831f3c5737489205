//! The network the exporter converts: a dense MLP with a policy head and an optional value
//! head, as the trainer writes it (see `model-format`: `dense.{i}`, `policy`, `value`).

use crate::error::WriteError;

/// The hidden layers' activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HiddenActivation {
    /// max(x, 0).
    Relu,
    /// clamp(x, 0, 6).
    Relu6,
    /// tanh.
    Tanh,
}

impl HiddenActivation {
    /// Parses the name used in `model.json`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "relu" => Some(Self::Relu),
            "relu6" => Some(Self::Relu6),
            "tanh" => Some(Self::Tanh),
            _ => None,
        }
    }

    /// The name used in `model.json`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Relu => "relu",
            Self::Relu6 => "relu6",
            Self::Tanh => "tanh",
        }
    }

    /// Applies the activation.
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Self::Relu => x.max(0.0),
            Self::Relu6 => x.clamp(0.0, 6.0),
            Self::Tanh => x.tanh(),
        }
    }
}

/// A dense layer: `y = W x + b` with `W` row-major `[outputs][inputs]`.
#[derive(Clone, Debug, PartialEq)]
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
    /// `W x + b`, accumulated in f64 and rounded once.
    pub fn apply(&self, x: &[f32], out: &mut Vec<f32>) {
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

    /// `W x + b` in f32 with eight independent partial sums (vectorizable; used where speed
    /// matters more than the last bit, e.g. calibration).
    pub fn apply_fast(&self, x: &[f32], out: &mut Vec<f32>) {
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

    fn check(&self, name: &str) -> Result<(), WriteError> {
        if self.inputs == 0 || self.outputs == 0 {
            return Err(WriteError::Unsupported(format!(
                "layer {name} has a zero dimension"
            )));
        }
        if self.weight.len() != self.inputs * self.outputs || self.bias.len() != self.outputs {
            return Err(WriteError::Unsupported(format!(
                "layer {name}: weight has {} values and bias {}, expected {}x{} and {}",
                self.weight.len(),
                self.bias.len(),
                self.outputs,
                self.inputs,
                self.outputs
            )));
        }
        if let Some(v) = self
            .weight
            .iter()
            .chain(&self.bias)
            .find(|v| !v.is_finite())
        {
            return Err(WriteError::Unsupported(format!(
                "layer {name} holds a non-finite parameter ({v})"
            )));
        }
        if i32::try_from(self.inputs).is_err() || i32::try_from(self.outputs).is_err() {
            return Err(WriteError::Unsupported(format!("layer {name} is too wide")));
        }
        Ok(())
    }
}

/// A trained policy network.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    /// Feature count (input width).
    pub inputs: usize,
    /// Hidden layers (normalization folded into the first).
    pub hidden: Vec<Dense>,
    /// Hidden activation.
    pub activation: HiddenActivation,
    /// Policy head → logits.
    pub policy: Dense,
    /// Value head (one output, then tanh).
    pub value: Option<Dense>,
    /// Model version string.
    pub model_version: String,
    /// Hash of the feature/action encoder the model was trained with.
    pub encoder_hash: String,
    /// Action names, one per logit.
    pub action_names: Vec<String>,
}

/// Outputs of a batch forward pass.
#[derive(Clone, Debug, PartialEq)]
pub struct Outputs {
    /// Logits, row-major `[batch][actions]`.
    pub logits: Vec<f32>,
    /// Values `[batch]`, when the model has a value head.
    pub value: Option<Vec<f32>>,
}

impl Mlp {
    /// The number of actions (logits).
    pub fn actions(&self) -> usize {
        self.policy.outputs
    }

    /// Checks that the layers chain and the parameters are finite.
    pub fn validate(&self) -> Result<(), WriteError> {
        let mut width = self.inputs;
        if width == 0 {
            return Err(WriteError::Unsupported(
                "the model has no input features".into(),
            ));
        }
        let layers = self
            .hidden
            .iter()
            .enumerate()
            .map(|(i, d)| (format!("dense.{i}"), d))
            .chain(std::iter::once(("policy".to_owned(), &self.policy)));
        for (name, d) in layers {
            d.check(&name)?;
            if d.inputs != width {
                return Err(WriteError::Unsupported(format!(
                    "layer {name} takes {} inputs but the previous layer gives {width}",
                    d.inputs
                )));
            }
            if name != "policy" {
                width = d.outputs;
            }
        }
        if let Some(v) = &self.value {
            v.check("value")?;
            if v.inputs != width || v.outputs != 1 {
                return Err(WriteError::Unsupported(format!(
                    "value head is {}x{}, expected 1x{width}",
                    v.outputs, v.inputs
                )));
            }
        }
        if !self.action_names.is_empty() && self.action_names.len() != self.policy.outputs {
            return Err(WriteError::Unsupported(format!(
                "{} action names for {} logits",
                self.action_names.len(),
                self.policy.outputs
            )));
        }
        Ok(())
    }

    /// The float forward pass of one row: (logits, value). Calls `visit(layer, pre, post)`
    /// on each hidden layer (pre- and post-activation), used for calibration.
    pub fn forward_visit(
        &self,
        x: &[f32],
        visit: impl FnMut(usize, &[f32], &[f32]),
    ) -> (Vec<f32>, Option<f32>, Option<f32>) {
        self.forward_with(x, Dense::apply, visit)
    }

    /// [`Mlp::forward_visit`] with f32 arithmetic ([`Dense::apply_fast`]), for calibration.
    pub fn forward_visit_fast(
        &self,
        x: &[f32],
        visit: impl FnMut(usize, &[f32], &[f32]),
    ) -> (Vec<f32>, Option<f32>, Option<f32>) {
        self.forward_with(x, Dense::apply_fast, visit)
    }

    fn forward_with(
        &self,
        x: &[f32],
        apply: fn(&Dense, &[f32], &mut Vec<f32>),
        mut visit: impl FnMut(usize, &[f32], &[f32]),
    ) -> (Vec<f32>, Option<f32>, Option<f32>) {
        let mut h = x.to_vec();
        let mut pre = Vec::new();
        for (i, d) in self.hidden.iter().enumerate() {
            apply(d, &h, &mut pre);
            h.clear();
            h.extend(pre.iter().map(|&v| self.activation.apply(v)));
            visit(i, &pre, &h);
        }
        let mut logits = Vec::new();
        apply(&self.policy, &h, &mut logits);
        let (linear, value) = match &self.value {
            Some(v) => {
                let mut o = Vec::new();
                apply(v, &h, &mut o);
                (Some(o[0]), Some(o[0].tanh()))
            }
            None => (None, None),
        };
        (logits, value, linear)
    }

    /// The float forward pass of `batch` rows of `features` (row-major `[batch][inputs]`).
    pub fn forward(&self, features: &[f32], batch: usize) -> Outputs {
        let mut logits = Vec::with_capacity(batch * self.actions());
        let mut value = self.value.as_ref().map(|_| Vec::with_capacity(batch));
        for row in features.chunks_exact(self.inputs).take(batch) {
            let (l, v, _) = self.forward_visit(row, |_, _, _| {});
            logits.extend(l);
            if let (Some(vs), Some(v)) = (value.as_mut(), v) {
                vs.push(v);
            }
        }
        Outputs { logits, value }
    }

    /// A random network (seeded; same seed, same weights), for tests and benchmarks. Weights
    /// follow a He-style uniform initialization.
    pub fn random(
        seed: u64,
        inputs: usize,
        hidden: &[usize],
        actions: usize,
        activation: HiddenActivation,
        value_head: bool,
    ) -> Mlp {
        let mut rng = SplitMix64(seed);
        let mut dense = |i: usize, o: usize| {
            let lim = (6.0 / i as f64).sqrt();
            Dense {
                inputs: i,
                outputs: o,
                weight: (0..i * o)
                    .map(|_| (rng.uniform() * 2.0 - 1.0) as f32 * lim as f32)
                    .collect(),
                bias: (0..o).map(|_| (rng.uniform() * 0.2 - 0.1) as f32).collect(),
            }
        };
        let mut width = inputs;
        let mut layers = Vec::new();
        for &h in hidden {
            layers.push(dense(width, h));
            width = h;
        }
        let policy = dense(width, actions);
        let value = value_head.then(|| dense(width, 1));
        Mlp {
            inputs,
            hidden: layers,
            activation,
            policy,
            value,
            model_version: format!("random-{seed}"),
            encoder_hash: "random".into(),
            action_names: (0..actions).map(|a| format!("action{a}")).collect(),
        }
    }
}

/// SplitMix64: a tiny seeded generator for test networks and inputs.
#[derive(Clone, Debug)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}
