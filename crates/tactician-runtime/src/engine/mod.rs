//! The execution engine: validates a [`Graph`], turns it into a list of steps with weights in
//! kernel-ready form, plans every activation and scratch buffer once into one arena, and runs
//! without touching the heap.
//!
//! This module owns [`Engine`] and its public API. The arena's plan lives in `plan`, the
//! translation state shared by all operators in `builder`, the typed views of arena regions in
//! `arena`, and each operator family (its validation, translation and execution) in `ops`.

mod arena;
mod builder;
mod ops;
mod plan;

use crate::error::{Error, Result};
use crate::graph::{DType, Graph};
use crate::kernels::{Isa, Kernels};

use arena::internal;
use builder::Builder;
use ops::{Step, translate};
use plan::{Reg, plan};

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
            step.exec(&self.kernels, &self.regs, arena, n)?;
        }
        Ok(())
    }
}
