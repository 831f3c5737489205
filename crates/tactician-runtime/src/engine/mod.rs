//! The execution engine: validates a [`Graph`], turns it into a list of steps with weights in
//! kernel-ready form, plans every activation and scratch buffer once into one arena, and runs
//! without touching the heap.

mod arena;
mod builder;
mod plan;

use crate::error::{Error, Result};
use crate::graph::{DType, Graph, OpKind, Quantization, Tensor};
use crate::kernels::{Isa, Kernels, PackedF32, PackedI8};
use crate::quant::{self, Activation};

use arena::{as_f32, as_f32_mut, as_i8, as_i8_mut, as_i32_mut, disjoint, internal};
use builder::{Builder, act_q, const_f32, const_i8, const_i32, unsupported};
use plan::{Reg, plan};

/// A binary operand: another activation (per-row length 1 or the output's) or a constant.
#[derive(Debug, Clone)]
enum Operand {
    Act {
        v: usize,
        row: usize,
        scale: f32,
        zp: i32,
    },
    Const(Vec<f32>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unary {
    Relu,
    Relu6,
    Tanh,
    Logistic,
}

impl Unary {
    fn f(self, x: f32) -> f32 {
        match self {
            Unary::Relu => x.max(0.0),
            Unary::Relu6 => x.clamp(0.0, 6.0),
            Unary::Tanh => x.tanh(),
            Unary::Logistic => 1.0 / (1.0 + (-x).exp()),
        }
    }
}

#[derive(Debug, Clone)]
enum Step {
    FcF32 {
        x: usize,
        y: usize,
        k: usize,
        w: PackedF32,
        bias: Vec<f32>,
        rows: usize,
        act: Activation,
    },
    FcHybrid {
        x: usize,
        y: usize,
        xq: usize,
        acc: usize,
        sc: usize,
        k: usize,
        w: PackedI8,
        row_sums: Vec<i32>,
        chan_scale: Vec<f32>,
        bias: Vec<f32>,
        rows: usize,
        cols: usize,
        act: Activation,
        asym: bool,
    },
    FcI8 {
        x: usize,
        y: usize,
        acc: usize,
        k: usize,
        w: PackedI8,
        /// `bias - x_zp · Σw + cols · w_zp · x_zp`, added to every accumulator.
        bias_adj: Vec<i32>,
        mult: Vec<i32>,
        shift: Vec<i32>,
        wzp: i32,
        yzp: i32,
        lo: i32,
        hi: i32,
        rows: usize,
        cols: usize,
    },
    Quantize {
        x: usize,
        y: usize,
        row: usize,
        scale: f32,
        zp: i32,
    },
    Dequantize {
        x: usize,
        y: usize,
        row: usize,
        scale: f32,
        zp: i32,
    },
    UnaryF32 {
        x: usize,
        y: usize,
        row: usize,
        f: Unary,
    },
    Lut {
        x: usize,
        y: usize,
        row: usize,
        lut: Box<[i8; 256]>,
    },
    SoftmaxF32 {
        x: usize,
        y: usize,
        row: usize,
        depth: usize,
        beta: f32,
    },
    SoftmaxI8 {
        x: usize,
        y: usize,
        row: usize,
        depth: usize,
        beta: f32,
        xs: f32,
        ys: f32,
        yzp: i32,
    },
    Copy {
        x: usize,
        y: usize,
    },
    Binary {
        a: Operand,
        b: Operand,
        y: usize,
        row: usize,
        mul: bool,
        act: Activation,
        /// Output quantization for an int8 result, `None` for float32.
        yq: Option<(f32, i32)>,
    },
}

/// A graph input or output: float32, `row` values per batch row.
#[derive(Debug, Clone)]
pub struct Port {
    /// Tensor name in the file.
    pub name: String,
    /// Values per batch row.
    pub row: usize,
    /// Whether the values are probabilities (produced by SOFTMAX).
    pub probabilities: bool,
    value: usize,
}

/// Figures about the planned model, for benchmarks and reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Bytes of fully-connected weights the kernels stream per inference (any batch), in
    /// their packed form (AVX2 reads int8 weights widened to int16).
    pub weight_bytes: usize,
    /// Whether the multiply-accumulates are int8 (hybrid or int8 layers) rather than float32.
    pub int8_macs: bool,
    /// Multiply-accumulates per batch row.
    pub macs_per_row: usize,
    /// Arena bytes (all activations and scratch, at the maximum batch).
    pub arena_bytes: usize,
    /// Operators executed.
    pub steps: usize,
}

/// A loaded, planned model ready to run.
#[derive(Debug, Clone)]
pub struct Engine {
    kernels: Kernels,
    arena: Vec<u64>,
    regs: Vec<Reg>,
    steps: Vec<Step>,
    inputs: Vec<Port>,
    outputs: Vec<Port>,
    max_batch: usize,
    stats: Stats,
}

/// Per-output-channel scales of a weight tensor `[rows, cols]` (one scale broadcast to all
/// rows for per-tensor quantization) and its zero point.
fn channel_scales(t: &Tensor, rows: usize) -> std::result::Result<(Vec<f32>, i32), String> {
    let q: &Quantization = t
        .quant
        .as_ref()
        .ok_or_else(|| format!("int8 weights '{}' have no quantization parameters", t.name))?;
    let scales = if q.scale.len() == 1 {
        vec![q.scale[0]; rows]
    } else if q.scale.len() == rows && q.axis == 0 {
        q.scale.clone()
    } else {
        return Err(format!(
            "weights '{}': {} scales on axis {} for {rows} output channels",
            t.name,
            q.scale.len(),
            q.axis
        ));
    };
    if scales.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
        return Err(format!("weights '{}' have a non-positive scale", t.name));
    }
    let zp = match q.zero_point.as_slice() {
        [] => 0,
        [z, rest @ ..] if rest.iter().all(|r| r == z) => *z,
        _ => return Err(format!("weights '{}' have differing zero points", t.name)),
    };
    if !(-128..=127).contains(&zp) || (q.scale.len() > 1 && zp != 0) {
        return Err(format!("weights '{}' have zero point {zp}", t.name));
    }
    Ok((scales, zp as i32))
}
impl Engine {
    /// Validates and plans `graph` for batches of up to `max_batch` rows, with the fastest
    /// kernels this CPU supports.
    pub fn new(graph: &Graph, max_batch: usize) -> Result<Engine> {
        Engine::with_kernels(graph, max_batch, Kernels::default())
    }

    /// As [`Engine::new`] with the given kernels (e.g. the scalar reference).
    pub fn with_kernels(graph: &Graph, max_batch: usize, kernels: Kernels) -> Result<Engine> {
        let g = graph;
        if g.inputs.is_empty() || g.outputs.is_empty() {
            return Err(Error::Unsupported(
                "the graph has no inputs or no outputs".into(),
            ));
        }
        // Batching: every activation tensor must lead with a batch dimension of 1.
        let batched = g
            .tensors
            .iter()
            .filter(|t| t.data.is_none())
            .all(|t| t.shape.len() >= 2 && t.shape[0] == 1);
        let max_batch = if batched { max_batch.max(1) } else { 1 };
        let mut b = Builder {
            g,
            kernels,
            batched,
            value_of: vec![None; g.tensors.len()],
            values: Vec::new(),
            probabilities: Vec::new(),
        };
        let mut inputs = Vec::new();
        for &i in &g.inputs {
            let t = b.tensor(0, "graph input", i)?;
            if t.dtype != DType::F32 {
                return Err(Error::Unsupported(format!(
                    "graph input '{}' is {}; only float32 inputs are supported (the converter's \
                     default)",
                    t.name,
                    t.dtype.name()
                )));
            }
            let v = b.write(0, "graph input", i, 0)?;
            let row = b.values[v].row_bytes / 4;
            inputs.push(Port {
                name: t.name.clone(),
                row,
                probabilities: false,
                value: v,
            });
        }
        let mut steps = Vec::with_capacity(g.ops.len());
        let mut stats = Stats::default();
        for (oi, op) in g.ops.iter().enumerate() {
            let step = translate(&mut b, oi, op, &mut stats)?;
            steps.push(step);
        }
        let end = steps.len();
        let mut outputs = Vec::new();
        for &o in &g.outputs {
            let t = b.tensor(0, "graph output", o)?;
            if t.dtype != DType::F32 {
                return Err(Error::Unsupported(format!(
                    "graph output '{}' is {}; only float32 outputs are supported",
                    t.name,
                    t.dtype.name()
                )));
            }
            let v = b.read(0, "graph output", o, end).map_err(|_| {
                Error::Unsupported(format!("graph output '{}' is never computed", t.name))
            })?;
            outputs.push(Port {
                name: t.name.clone(),
                row: b.values[v].row_bytes / 4,
                probabilities: b.probabilities[v],
                value: v,
            });
        }
        // Graph inputs stay live until their last reader, outputs until the end.
        let (regs, arena_bytes) = plan(&b.values, max_batch)?;
        stats.arena_bytes = arena_bytes;
        stats.steps = steps.len();
        Ok(Engine {
            kernels,
            arena: vec![0u64; arena_bytes.div_ceil(8)],
            regs,
            steps,
            inputs,
            outputs,
            max_batch,
            stats,
        })
    }

    /// The graph inputs.
    pub fn inputs(&self) -> &[Port] {
        &self.inputs
    }

    /// The graph outputs.
    pub fn outputs(&self) -> &[Port] {
        &self.outputs
    }

    /// The largest batch this engine runs.
    pub fn max_batch(&self) -> usize {
        self.max_batch
    }

    /// Planning figures.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The instruction set of the matrix kernels.
    pub fn isa(&self) -> Isa {
        self.kernels.isa()
    }

    fn check_batch(&self, n: usize) -> Result<()> {
        if n == 0 || n > self.max_batch {
            return Err(Error::Batch {
                got: n,
                max: self.max_batch,
            });
        }
        Ok(())
    }

    /// The buffer of input `i` for a batch of `n` rows (`n · row` values) to fill before
    /// [`Engine::run`].
    pub fn input_mut(&mut self, i: usize, n: usize) -> Result<&mut [f32]> {
        self.check_batch(n)?;
        let port = self
            .inputs
            .get(i)
            .ok_or_else(|| internal(format!("no input {i}")))?;
        let r = self.regs[port.value].range(n);
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut self.arena);
        let bytes = bytes
            .get_mut(r)
            .ok_or_else(|| internal("input outside the arena"))?;
        bytemuck::try_cast_slice_mut(bytes).map_err(internal)
    }

    /// The values of output `i` after running a batch of `n` rows.
    pub fn output(&self, i: usize, n: usize) -> Result<&[f32]> {
        self.check_batch(n)?;
        let port = self
            .outputs
            .get(i)
            .ok_or_else(|| internal(format!("no output {i}")))?;
        let r = self.regs[port.value].range(n);
        let bytes: &[u8] = bytemuck::cast_slice(&self.arena);
        let bytes = bytes
            .get(r)
            .ok_or_else(|| internal("output outside the arena"))?;
        bytemuck::try_cast_slice(bytes).map_err(internal)
    }

    /// Runs the graph on the first `n` rows of the inputs. Allocates nothing.
    pub fn run(&mut self, n: usize) -> Result<()> {
        self.check_batch(n)?;
        let arena: &mut [u8] = bytemuck::cast_slice_mut(&mut self.arena);
        for step in &self.steps {
            exec(step, &self.kernels, &self.regs, arena, n)?;
        }
        Ok(())
    }
}

fn lut(xq: (f32, i32), yq: (f32, i32), f: impl Fn(f32) -> f32) -> Box<[i8; 256]> {
    let mut t = Box::new([0i8; 256]);
    for (i, slot) in t.iter_mut().enumerate() {
        let q = i as i32 - 128;
        let x = quant::dequantize_i8(q as i8, xq.0, xq.1);
        *slot = quant::quantize_i8(f(x), yq.0, yq.1);
    }
    t
}

fn translate(
    b: &mut Builder<'_>,
    oi: usize,
    op: &crate::graph::Op,
    stats: &mut Stats,
) -> Result<Step> {
    let name = op.kind.name().to_string();
    let name = name.as_str();
    let step = oi;
    let arity = |n_in: usize, n_out: usize| -> Result<()> {
        if op.inputs.len() < n_in || op.outputs.len() != n_out {
            return Err(unsupported(
                oi,
                name,
                format!("expected {n_in} inputs and {n_out} outputs"),
            ));
        }
        Ok(())
    };
    match &op.kind {
        OpKind::Unsupported { name } => Err(unsupported(
            oi,
            name,
            "this operator is not implemented by tactician-runtime (supported: FULLY_CONNECTED, \
             RELU, RELU6, TANH, LOGISTIC, SOFTMAX, QUANTIZE, DEQUANTIZE, RESHAPE, ADD, MUL)",
        )),
        OpKind::FullyConnected {
            activation,
            asymmetric_quantize_inputs,
            ..
        } => {
            arity(2, 1)?;
            let xt = b.tensor(oi, name, op.inputs[0])?;
            let wt = b.tensor(oi, name, op.inputs[1])?;
            let bt = match op.inputs.get(2) {
                Some(&i) if i >= 0 => Some(b.tensor(oi, name, i)?),
                _ => None,
            };
            let yt = b.tensor(oi, name, op.outputs[0])?;
            if wt.data.is_none() || wt.shape.len() != 2 {
                return Err(unsupported(
                    oi,
                    name,
                    "weights must be a constant 2-D tensor",
                ));
            }
            if bt.is_some_and(|t| t.data.is_none()) {
                return Err(unsupported(oi, name, "bias must be constant"));
            }
            let rows = usize::try_from(wt.shape[0]).unwrap_or(0);
            let cols = usize::try_from(wt.shape[1]).unwrap_or(0);
            if rows == 0 || cols == 0 {
                return Err(unsupported(
                    oi,
                    name,
                    format!("weights of shape {:?}", wt.shape),
                ));
            }
            let x = b.read(oi, name, op.inputs[0], step)?;
            let xrow = b.values[x].row_bytes / if xt.dtype == DType::I8 { 1 } else { 4 };
            if xrow % cols != 0 {
                return Err(unsupported(
                    oi,
                    name,
                    format!("input rows of {xrow} values do not split into {cols} columns"),
                ));
            }
            let k = xrow / cols;
            let y = b.write(oi, name, op.outputs[0], step)?;
            let yrow = b.values[y].row_bytes / if yt.dtype == DType::I8 { 1 } else { 4 };
            if yrow != k * rows {
                return Err(unsupported(
                    oi,
                    name,
                    format!("output holds {yrow} values per row, expected {}", k * rows),
                ));
            }
            let bias_len_ok = |n: usize| n == rows;
            match (&xt.dtype, &wt.dtype, &yt.dtype) {
                (DType::F32, DType::F32, DType::F32) => {
                    let w = const_f32(wt).filter(|w| w.len() == rows * cols);
                    let w = w.ok_or_else(|| {
                        unsupported(oi, name, "weights buffer has the wrong size")
                    })?;
                    let bias = match bt {
                        Some(t) if t.dtype == DType::F32 => const_f32(t).unwrap_or_default(),
                        Some(t) => {
                            return Err(unsupported(oi, name, format!("{} bias", t.dtype.name())));
                        }
                        None => vec![0.0; rows],
                    };
                    if !bias_len_ok(bias.len()) {
                        return Err(unsupported(oi, name, "bias has the wrong size"));
                    }
                    let w = b
                        .kernels
                        .pack_f32(&w, rows, cols)
                        .map_err(|e| unsupported(oi, name, e.to_string()))?;
                    stats.weight_bytes += w.bytes();
                    stats.macs_per_row += k * rows * cols;
                    // The official float kernel clamps to the activation's range, and a fused
                    // TANH has no range: it is ignored there, so it is here.
                    let act = if *activation == Activation::Tanh {
                        Activation::None
                    } else {
                        *activation
                    };
                    Ok(Step::FcF32 {
                        x,
                        y,
                        k,
                        w,
                        bias,
                        rows,
                        act,
                    })
                }
                (DType::F32, DType::I8, DType::F32) => {
                    let w = const_i8(wt).filter(|w| w.len() == rows * cols);
                    let w = w.ok_or_else(|| {
                        unsupported(oi, name, "weights buffer has the wrong size")
                    })?;
                    let (chan_scale, wzp) =
                        channel_scales(wt, rows).map_err(|e| unsupported(oi, name, e))?;
                    if wzp != 0 {
                        return Err(unsupported(oi, name, "hybrid weights must be symmetric"));
                    }
                    let bias = match bt {
                        Some(t) if t.dtype == DType::F32 => const_f32(t).unwrap_or_default(),
                        Some(t) => {
                            return Err(unsupported(oi, name, format!("{} bias", t.dtype.name())));
                        }
                        None => vec![0.0; rows],
                    };
                    if !bias_len_ok(bias.len()) {
                        return Err(unsupported(oi, name, "bias has the wrong size"));
                    }
                    let row_sums = w
                        .chunks_exact(cols)
                        .map(|r| r.iter().map(|&v| i32::from(v)).sum())
                        .collect();
                    let xq = b.scratch(k * cols, step);
                    let w = b
                        .kernels
                        .pack_i8(&w, rows, cols)
                        .map_err(|e| unsupported(oi, name, e.to_string()))?;
                    let acc = b.scratch(k * rows * 4, step);
                    let sc = b.scratch(k * 8, step);
                    stats.weight_bytes += w.bytes();
                    stats.int8_macs = true;
                    stats.macs_per_row += k * rows * cols;
                    Ok(Step::FcHybrid {
                        x,
                        y,
                        xq,
                        acc,
                        sc,
                        k,
                        w,
                        row_sums,
                        chan_scale,
                        bias,
                        rows,
                        cols,
                        act: *activation,
                        asym: *asymmetric_quantize_inputs,
                    })
                }
                (DType::I8, DType::I8, DType::I8) => {
                    let w = const_i8(wt).filter(|w| w.len() == rows * cols);
                    let w = w.ok_or_else(|| {
                        unsupported(oi, name, "weights buffer has the wrong size")
                    })?;
                    let (xs, xzp) = act_q(oi, name, xt)?;
                    let (ys, yzp) = act_q(oi, name, yt)?;
                    let (ws, wzp) =
                        channel_scales(wt, rows).map_err(|e| unsupported(oi, name, e))?;
                    let bias = match bt {
                        Some(t) if t.dtype == DType::I32 => const_i32(t).unwrap_or_default(),
                        Some(t) => {
                            return Err(unsupported(
                                oi,
                                name,
                                format!("{} bias on int8", t.dtype.name()),
                            ));
                        }
                        None => vec![0; rows],
                    };
                    if !bias_len_ok(bias.len()) {
                        return Err(unsupported(oi, name, "bias has the wrong size"));
                    }
                    let (lo, hi) = activation
                        .range_i8(ys, yzp)
                        .ok_or_else(|| unsupported(oi, name, "fused TANH on int8"))?;
                    let (mult, shift) = ws
                        .iter()
                        .map(|&s| {
                            quant::quantize_multiplier(f64::from(xs) * f64::from(s) / f64::from(ys))
                        })
                        .unzip();
                    let cross = (cols as i32).wrapping_mul(wzp.wrapping_mul(xzp));
                    let bias_adj = w
                        .chunks_exact(cols)
                        .zip(&bias)
                        .map(|(r, &b)| {
                            let sum: i32 = r.iter().map(|&v| i32::from(v)).sum();
                            b.wrapping_sub(xzp.wrapping_mul(sum)).wrapping_add(cross)
                        })
                        .collect();
                    let acc = b.scratch(k * rows * 4, step);
                    let w = b
                        .kernels
                        .pack_i8(&w, rows, cols)
                        .map_err(|e| unsupported(oi, name, e.to_string()))?;
                    stats.weight_bytes += w.bytes();
                    stats.int8_macs = true;
                    stats.macs_per_row += k * rows * cols;
                    Ok(Step::FcI8 {
                        x,
                        y,
                        acc,
                        k,
                        w,
                        bias_adj,
                        mult,
                        shift,
                        wzp,
                        yzp,
                        lo,
                        hi,
                        rows,
                        cols,
                    })
                }
                (a, w, o) => Err(unsupported(
                    oi,
                    name,
                    format!(
                        "input {}, weights {}, output {}: supported are float32, hybrid \
                         (float32 with int8 weights) and int8",
                        a.name(),
                        w.name(),
                        o.name()
                    ),
                )),
            }
        }
        OpKind::Relu | OpKind::Relu6 | OpKind::Tanh | OpKind::Logistic => {
            arity(1, 1)?;
            let f = match op.kind {
                OpKind::Relu => Unary::Relu,
                OpKind::Relu6 => Unary::Relu6,
                OpKind::Tanh => Unary::Tanh,
                _ => Unary::Logistic,
            };
            let xt = b.tensor(oi, name, op.inputs[0])?;
            let yt = b.tensor(oi, name, op.outputs[0])?;
            let x = b.read(oi, name, op.inputs[0], step)?;
            let y = b.write(oi, name, op.outputs[0], step)?;
            if b.values[x].row_bytes != b.values[y].row_bytes || xt.dtype != yt.dtype {
                return Err(unsupported(
                    oi,
                    name,
                    "input and output differ in size or type",
                ));
            }
            match xt.dtype {
                DType::F32 => Ok(Step::UnaryF32 {
                    x,
                    y,
                    row: b.values[x].row_bytes / 4,
                    f,
                }),
                DType::I8 => {
                    let xq = act_q(oi, name, xt)?;
                    let yq = act_q(oi, name, yt)?;
                    Ok(Step::Lut {
                        x,
                        y,
                        row: b.values[x].row_bytes,
                        lut: lut(xq, yq, |v| f.f(v)),
                    })
                }
                ref t => Err(unsupported(oi, name, format!("{} tensors", t.name()))),
            }
        }
        OpKind::Softmax { beta } => {
            arity(1, 1)?;
            let xt = b.tensor(oi, name, op.inputs[0])?;
            let yt = b.tensor(oi, name, op.outputs[0])?;
            let depth = xt
                .shape
                .last()
                .and_then(|&d| usize::try_from(d).ok())
                .filter(|&d| d > 0)
                .ok_or_else(|| unsupported(oi, name, "input without a last dimension"))?;
            let x = b.read(oi, name, op.inputs[0], step)?;
            let y = b.write(oi, name, op.outputs[0], step)?;
            b.probabilities[y] = true;
            if b.values[x].row_bytes != b.values[y].row_bytes || xt.dtype != yt.dtype {
                return Err(unsupported(
                    oi,
                    name,
                    "input and output differ in size or type",
                ));
            }
            let beta = *beta;
            match xt.dtype {
                DType::F32 => {
                    let row = b.values[x].row_bytes / 4;
                    if row % depth != 0 {
                        return Err(unsupported(
                            oi,
                            name,
                            "rows do not split by the last dimension",
                        ));
                    }
                    Ok(Step::SoftmaxF32 {
                        x,
                        y,
                        row,
                        depth,
                        beta,
                    })
                }
                DType::I8 => {
                    let (xs, _) = act_q(oi, name, xt)?;
                    let (ys, yzp) = act_q(oi, name, yt)?;
                    let row = b.values[x].row_bytes;
                    if row % depth != 0 {
                        return Err(unsupported(
                            oi,
                            name,
                            "rows do not split by the last dimension",
                        ));
                    }
                    Ok(Step::SoftmaxI8 {
                        x,
                        y,
                        row,
                        depth,
                        beta,
                        xs,
                        ys,
                        yzp,
                    })
                }
                ref t => Err(unsupported(oi, name, format!("{} tensors", t.name()))),
            }
        }
        OpKind::Quantize | OpKind::Dequantize => {
            arity(1, 1)?;
            let xt = b.tensor(oi, name, op.inputs[0])?;
            let yt = b.tensor(oi, name, op.outputs[0])?;
            let x = b.read(oi, name, op.inputs[0], step)?;
            let y = b.write(oi, name, op.outputs[0], step)?;
            let quantize = op.kind == OpKind::Quantize;
            let (from, to, qt) = if quantize {
                (DType::F32, DType::I8, yt)
            } else {
                (DType::I8, DType::F32, xt)
            };
            if xt.dtype != from || yt.dtype != to {
                return Err(unsupported(
                    oi,
                    name,
                    format!(
                        "{} to {} (supported: {} to {})",
                        xt.dtype.name(),
                        yt.dtype.name(),
                        from.name(),
                        to.name()
                    ),
                ));
            }
            let (scale, zp) = act_q(oi, name, qt)?;
            let row = b.values[if quantize { y } else { x }].row_bytes;
            if b.values[if quantize { x } else { y }].row_bytes != row * 4 {
                return Err(unsupported(oi, name, "input and output differ in size"));
            }
            b.probabilities[y] = b.probabilities[x];
            Ok(if quantize {
                Step::Quantize {
                    x,
                    y,
                    row,
                    scale,
                    zp,
                }
            } else {
                Step::Dequantize {
                    x,
                    y,
                    row,
                    scale,
                    zp,
                }
            })
        }
        OpKind::Reshape => {
            arity(1, 1)?;
            let xt = b.tensor(oi, name, op.inputs[0])?;
            let yt = b.tensor(oi, name, op.outputs[0])?;
            let x = b.read(oi, name, op.inputs[0], step)?;
            let y = b.write(oi, name, op.outputs[0], step)?;
            if b.values[x].row_bytes != b.values[y].row_bytes || xt.dtype != yt.dtype {
                return Err(unsupported(
                    oi,
                    name,
                    "reshape changes the size per batch row or the type",
                ));
            }
            if xt.dtype == DType::I8 {
                let (q1, q2) = (act_q(oi, name, xt)?, act_q(oi, name, yt)?);
                if q1 != q2 {
                    return Err(unsupported(oi, name, "reshape changes quantization"));
                }
            }
            b.probabilities[y] = b.probabilities[x];
            Ok(Step::Copy { x, y })
        }
        OpKind::Add { activation } | OpKind::Mul { activation } => {
            arity(2, 1)?;
            let yt = b.tensor(oi, name, op.outputs[0])?;
            let is_i8 = match yt.dtype {
                DType::F32 => false,
                DType::I8 => true,
                ref t => return Err(unsupported(oi, name, format!("{} tensors", t.name()))),
            };
            let mut operand = |idx: i32| -> Result<Operand> {
                let t = b.tensor(oi, name, idx)?;
                if t.dtype != yt.dtype {
                    return Err(unsupported(oi, name, "operands of different types"));
                }
                let (scale, zp) = if is_i8 { act_q(oi, name, t)? } else { (1.0, 0) };
                if t.data.is_some() {
                    let vals = if is_i8 {
                        const_i8(t)
                            .unwrap_or_default()
                            .into_iter()
                            .map(|q| quant::dequantize_i8(q, scale, zp))
                            .collect()
                    } else {
                        const_f32(t).unwrap_or_default()
                    };
                    Ok(Operand::Const(vals))
                } else {
                    let v = b.read(oi, name, idx, step)?;
                    let row = b.values[v].row_bytes / if is_i8 { 1 } else { 4 };
                    Ok(Operand::Act { v, row, scale, zp })
                }
            };
            let a = operand(op.inputs[0])?;
            let c = operand(op.inputs[1])?;
            let y = b.write(oi, name, op.outputs[0], step)?;
            let row = b.values[y].row_bytes / if is_i8 { 1 } else { 4 };
            for o in [&a, &c] {
                let n = match o {
                    Operand::Act { row, .. } => *row,
                    Operand::Const(v) => v.len(),
                };
                if n != row && n != 1 {
                    return Err(unsupported(
                        oi,
                        name,
                        format!("broadcasting {n} values per row onto {row} is not supported"),
                    ));
                }
            }
            let yq = if is_i8 {
                Some(act_q(oi, name, yt)?)
            } else {
                None
            };
            Ok(Step::Binary {
                a,
                b: c,
                y,
                row,
                mul: matches!(op.kind, OpKind::Mul { .. }),
                act: *activation,
                yq,
            })
        }
    }
}

fn exec(step: &Step, kernels: &Kernels, regs: &[Reg], arena: &mut [u8], n: usize) -> Result<()> {
    let r = |v: usize| regs[v].range(n);
    match step {
        Step::FcF32 {
            x,
            y,
            k,
            w,
            bias,
            rows,
            act,
        } => {
            let [xb, yb] = disjoint(arena, [r(*x), r(*y)])?;
            let (xs, ys) = (as_f32(xb)?, as_f32_mut(yb)?);
            let nb = n * k;
            kernels.fc_packed(w, xs, nb, ys).map_err(internal)?;
            for out in ys.chunks_exact_mut(*rows) {
                for (o, bv) in out.iter_mut().zip(bias) {
                    *o += bv;
                }
                act.apply_f32(out);
            }
        }
        Step::FcHybrid {
            x,
            y,
            xq,
            acc,
            sc,
            k,
            w,
            row_sums,
            chan_scale,
            bias,
            rows,
            cols,
            act,
            asym,
        } => {
            let [xb, yb, qb, ab, sb] = disjoint(arena, [r(*x), r(*y), r(*xq), r(*acc), r(*sc)])?;
            let (xs, ys, qs, accs) = (as_f32(xb)?, as_f32_mut(yb)?, as_i8_mut(qb), as_i32_mut(ab)?);
            let scs = as_f32_mut(sb)?;
            let nb = n * k;
            for bi in 0..nb {
                let xr = &xs[bi * cols..(bi + 1) * cols];
                let qr = &mut qs[bi * cols..(bi + 1) * cols];
                let (s, zp) = if *asym {
                    kernels.asymmetric_quantize(xr, qr)
                } else {
                    (kernels.symmetric_quantize(xr, qr), 0)
                };
                scs[2 * bi] = s;
                scs[2 * bi + 1] = f32::from_bits(zp as u32);
            }
            kernels.matmul_packed(w, qs, nb, accs).map_err(internal)?;
            for bi in 0..nb {
                let s = scs[2 * bi];
                let zp = scs[2 * bi + 1].to_bits() as i32;
                let out = &mut ys[bi * rows..(bi + 1) * rows];
                let a = &accs[bi * rows..(bi + 1) * rows];
                for r in 0..*rows {
                    let dot = a[r].wrapping_sub(zp.wrapping_mul(row_sums[r]));
                    out[r] = bias[r] + dot as f32 * (s * chan_scale[r]);
                }
                act.apply_f32(out);
            }
        }
        Step::FcI8 {
            x,
            y,
            acc,
            k,
            w,
            bias_adj,
            mult,
            shift,
            wzp,
            yzp,
            lo,
            hi,
            rows,
            cols,
        } => {
            let [xb, yb, ab] = disjoint(arena, [r(*x), r(*y), r(*acc)])?;
            let (xs, ys, accs) = (as_i8(xb), as_i8_mut(yb), as_i32_mut(ab)?);
            let nb = n * k;
            kernels.matmul_packed(w, xs, nb, accs).map_err(internal)?;
            for bi in 0..nb {
                // Σx is only needed for weights with a zero point (never per-channel ones).
                let sum_x: i32 = if *wzp != 0 {
                    xs[bi * cols..(bi + 1) * cols]
                        .iter()
                        .map(|&v| i32::from(v))
                        .sum()
                } else {
                    0
                };
                let base = wzp.wrapping_mul(sum_x);
                let a = &mut accs[bi * rows..(bi + 1) * rows];
                for (v, &adj) in a.iter_mut().zip(bias_adj) {
                    *v = v.wrapping_add(adj).wrapping_sub(base);
                }
                let out = &mut ys[bi * rows..(bi + 1) * rows];
                kernels
                    .requantize(a, mult, shift, *yzp, *lo, *hi, out)
                    .map_err(internal)?;
            }
        }
        Step::Quantize {
            x,
            y,
            row,
            scale,
            zp,
        } => {
            let [xb, yb] = disjoint(arena, [r(*x), r(*y)])?;
            let (xs, ys) = (as_f32(xb)?, as_i8_mut(yb));
            kernels.quantize_i8(xs, *scale, *zp, &mut ys[..row * n]);
        }
        Step::Dequantize {
            x,
            y,
            row,
            scale,
            zp,
        } => {
            let [xb, yb] = disjoint(arena, [r(*x), r(*y)])?;
            let (xs, ys) = (as_i8(xb), as_f32_mut(yb)?);
            for (v, &q) in ys.iter_mut().zip(&xs[..row * n]) {
                *v = quant::dequantize_i8(q, *scale, *zp);
            }
        }
        Step::UnaryF32 { x, y, row, f } => {
            let [xb, yb] = disjoint(arena, [r(*x), r(*y)])?;
            let (xs, ys) = (as_f32(xb)?, as_f32_mut(yb)?);
            for (o, &v) in ys[..row * n].iter_mut().zip(xs) {
                *o = f.f(v);
            }
        }
        Step::Lut { x, y, row, lut } => {
            let [xb, yb] = disjoint(arena, [r(*x), r(*y)])?;
            let (xs, ys) = (as_i8(xb), as_i8_mut(yb));
            for (o, &q) in ys[..row * n].iter_mut().zip(xs) {
                *o = lut[(i32::from(q) + 128) as usize];
            }
        }
        Step::SoftmaxF32 {
            x,
            y,
            row,
            depth,
            beta,
        } => {
            let [xb, yb] = disjoint(arena, [r(*x), r(*y)])?;
            let (xs, ys) = (as_f32(xb)?, as_f32_mut(yb)?);
            for (xr, yr) in xs[..row * n]
                .chunks_exact(*depth)
                .zip(ys.chunks_exact_mut(*depth))
            {
                softmax(xr.iter().copied(), *beta, yr);
            }
        }
        Step::SoftmaxI8 {
            x,
            y,
            row,
            depth,
            beta,
            xs: xscale,
            ys: yscale,
            yzp,
        } => {
            let [xb, yb] = disjoint(arena, [r(*x), r(*y)])?;
            let (xs, ys) = (as_i8(xb), as_i8_mut(yb));
            for (xr, yr) in xs[..row * n]
                .chunks_exact(*depth)
                .zip(ys.chunks_exact_mut(*depth))
            {
                let max = i32::from(xr.iter().copied().max().unwrap_or(0));
                let mut total = 0.0f32;
                for &q in xr {
                    total += (beta * xscale * (i32::from(q) - max) as f32).exp();
                }
                for (o, &q) in yr.iter_mut().zip(xr) {
                    let p = (beta * xscale * (i32::from(q) - max) as f32).exp() / total;
                    *o = quant::quantize_i8(p, *yscale, *yzp);
                }
            }
        }
        Step::Copy { x, y } => {
            let [xb, yb] = disjoint(arena, [r(*x), r(*y)])?;
            yb.copy_from_slice(xb);
        }
        Step::Binary {
            a,
            b,
            y,
            row,
            mul,
            act,
            yq,
        } => {
            let act_of = |o: &Operand| match o {
                Operand::Act { v, .. } => Some(*v),
                Operand::Const(_) => None,
            };
            let ry = r(*y);
            let empty: &[u8] = &[];
            let (ab, bb, yb): (&[u8], &[u8], &mut [u8]) = match (act_of(a), act_of(b)) {
                (Some(va), Some(vb)) if va == vb => {
                    // The same activation feeds both operands: borrow it once.
                    let [abuf, ybuf] = disjoint(arena, [r(va), ry])?;
                    (&*abuf, &*abuf, ybuf)
                }
                (Some(va), Some(vb)) => {
                    let [abuf, bbuf, ybuf] = disjoint(arena, [r(va), r(vb), ry])?;
                    (&*abuf, &*bbuf, ybuf)
                }
                (Some(va), None) => {
                    let [abuf, ybuf] = disjoint(arena, [r(va), ry])?;
                    (&*abuf, empty, ybuf)
                }
                (None, Some(vb)) => {
                    let [bbuf, ybuf] = disjoint(arena, [r(vb), ry])?;
                    (empty, &*bbuf, ybuf)
                }
                (None, None) => {
                    let ybuf = arena
                        .get_mut(ry)
                        .ok_or_else(|| internal("output outside the arena"))?;
                    (empty, empty, ybuf)
                }
            };
            let get = |o: &Operand, buf: &[u8], bi: usize, i: usize| -> f32 {
                match o {
                    Operand::Const(c) => {
                        if c.len() == 1 {
                            c[0]
                        } else {
                            c[i]
                        }
                    }
                    Operand::Act {
                        row: orow,
                        scale,
                        zp,
                        ..
                    } => {
                        let j = bi * orow + if *orow == 1 { 0 } else { i };
                        if yq.is_some() {
                            quant::dequantize_i8(buf[j] as i8, *scale, *zp)
                        } else {
                            let o = j * 4;
                            f32::from_le_bytes([buf[o], buf[o + 1], buf[o + 2], buf[o + 3]])
                        }
                    }
                }
            };
            for bi in 0..n {
                for i in 0..*row {
                    let (va, vb) = (get(a, ab, bi, i), get(b, bb, bi, i));
                    let mut v = if *mul { va * vb } else { va + vb };
                    act.apply_f32(std::slice::from_mut(&mut v));
                    let j = bi * row + i;
                    match yq {
                        Some((s, zp)) => yb[j] = quant::quantize_i8(v, *s, *zp) as u8,
                        None => yb[j * 4..j * 4 + 4].copy_from_slice(&v.to_le_bytes()),
                    }
                }
            }
        }
    }
    Ok(())
}

/// `out = softmax(beta · x)` in float32.
pub(crate) fn softmax(x: impl Iterator<Item = f32> + Clone, beta: f32, out: &mut [f32]) {
    let max = x.clone().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0f32;
    for (o, v) in out.iter_mut().zip(x) {
        *o = ((v - max) * beta).exp();
        sum += *o;
    }
    for o in out.iter_mut() {
        *o /= sum;
    }
}
