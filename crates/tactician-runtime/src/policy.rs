//! The policy API: features and a legal-action mask in, a chosen action, masked probabilities
//! and a value out.

use std::collections::HashMap;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::kernels::Kernels;

/// The model's "tactician" metadata entry (defined by the `.tflite` format crate).
pub use tactician_tflite::{METADATA_NAME, TacticianMetadata as Metadata};

/// Reads the "tactician" entry of a graph, `Ok(None)` when it has none.
pub fn graph_metadata(graph: &Graph) -> Result<Option<Metadata>> {
    let Some((_, bytes)) = graph.metadata.iter().find(|(n, _)| n == METADATA_NAME) else {
        return Ok(None);
    };
    Metadata::from_bytes(bytes)
        .map(Some)
        .map_err(|e| Error::Metadata(e.to_string()))
}

/// How a [`Policy`] is set up.
#[derive(Debug, Clone, Default)]
pub struct PolicyOptions {
    /// Largest batch for [`Policy::act_batch`] (at least 1).
    pub max_batch: usize,
    /// Capacity of the LRU cache of recent decisions (0: no cache).
    pub cache_capacity: usize,
    /// The device's encoder hash: a model built for another encoder is refused.
    pub device_encoder_hash: Option<String>,
    /// Sample actions from the masked probabilities with this seed instead of taking the
    /// most probable one.
    pub sample_seed: Option<u64>,
}

/// One decision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision<'a> {
    /// The chosen action index.
    pub action: usize,
    /// Probabilities over all actions, 0 for illegal ones, summing to 1 over the legal ones.
    pub probabilities: &'a [f32],
    /// The value head's estimate, when the model has one.
    pub value: Option<f32>,
    /// Whether the decision came from the cache.
    pub cached: bool,
}

/// Decisions for a batch of rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchDecisions<'a> {
    /// Chosen action per row.
    pub actions: &'a [usize],
    /// `rows × actions` masked probabilities.
    pub probabilities: &'a [f32],
    /// Value per row, when the model has a value head.
    pub values: Option<&'a [f32]>,
}

/// Cache hit and miss counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Decisions answered from the cache.
    pub hits: u64,
    /// Decisions computed by the model.
    pub misses: u64,
    /// Entries held.
    pub len: usize,
    /// Maximum entries.
    pub capacity: usize,
}

const NIL: usize = usize::MAX;

/// A bounded LRU cache whose memory is all allocated up front.
#[derive(Debug, Clone)]
struct Cache {
    cap: usize,
    f: usize,
    a: usize,
    map: HashMap<u64, usize>,
    hashes: Vec<u64>,
    keys: Vec<u32>,
    masks: Vec<bool>,
    probs: Vec<f32>,
    values: Vec<f32>,
    prev: Vec<usize>,
    next: Vec<usize>,
    head: usize,
    tail: usize,
    len: usize,
    hits: u64,
    misses: u64,
}

fn hash_key(features: &[f32], legal: &[bool]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = 0x2545_F491_4F6C_DD1Du64 ^ features.len() as u64;
    for f in features {
        h = (h ^ u64::from(f.to_bits())).wrapping_mul(K).rotate_left(29);
    }
    for (i, &l) in legal.iter().enumerate() {
        if l {
            h = (h ^ (i as u64 + 1)).wrapping_mul(K).rotate_left(31);
        }
    }
    h ^ (h >> 32)
}

impl Cache {
    fn new(cap: usize, f: usize, a: usize) -> Cache {
        Cache {
            cap,
            f,
            a,
            map: HashMap::with_capacity(cap * 2),
            hashes: vec![0; cap],
            keys: vec![0; cap * f],
            masks: vec![false; cap * a],
            probs: vec![0.0; cap * a],
            values: vec![0.0; cap],
            prev: vec![NIL; cap],
            next: vec![NIL; cap],
            head: NIL,
            tail: NIL,
            len: 0,
            hits: 0,
            misses: 0,
        }
    }

    fn unlink(&mut self, s: usize) {
        let (p, n) = (self.prev[s], self.next[s]);
        if p != NIL {
            self.next[p] = n;
        } else {
            self.head = n;
        }
        if n != NIL {
            self.prev[n] = p;
        } else {
            self.tail = p;
        }
    }

    fn push_front(&mut self, s: usize) {
        self.prev[s] = NIL;
        self.next[s] = self.head;
        if self.head != NIL {
            self.prev[self.head] = s;
        }
        self.head = s;
        if self.tail == NIL {
            self.tail = s;
        }
    }

    /// The slot holding this key, moved to the front.
    fn lookup(&mut self, h: u64, features: &[f32], legal: &[bool]) -> Option<usize> {
        let &s = self.map.get(&h)?;
        let key = &self.keys[s * self.f..(s + 1) * self.f];
        let same = key.iter().zip(features).all(|(k, f)| *k == f.to_bits())
            && self.masks[s * self.a..(s + 1) * self.a] == *legal;
        if !same {
            return None;
        }
        self.unlink(s);
        self.push_front(s);
        Some(s)
    }

    /// A slot for a new key (evicting the least recently used), at the front.
    fn insert(&mut self, h: u64, features: &[f32], legal: &[bool]) -> usize {
        if let Some(&old) = self.map.get(&h) {
            // A hash collision with a different key: replace that entry.
            self.unlink(old);
            self.map.remove(&h);
            self.len -= 1;
            self.fill(old, h, features, legal);
            return old;
        }
        let s = if self.len < self.cap {
            self.len
        } else {
            let t = self.tail;
            self.unlink(t);
            self.map.remove(&self.hashes[t]);
            self.len -= 1;
            t
        };
        self.fill(s, h, features, legal);
        s
    }

    fn fill(&mut self, s: usize, h: u64, features: &[f32], legal: &[bool]) {
        for (k, f) in self.keys[s * self.f..(s + 1) * self.f]
            .iter_mut()
            .zip(features)
        {
            *k = f.to_bits();
        }
        self.masks[s * self.a..(s + 1) * self.a].copy_from_slice(legal);
        self.hashes[s] = h;
        self.map.insert(h, s);
        self.push_front(s);
        self.len += 1;
    }
}

/// A policy served by the engine.
#[derive(Debug, Clone)]
pub struct Policy {
    engine: Engine,
    meta: Option<Metadata>,
    features: usize,
    actions: usize,
    logits: usize,
    value: Option<usize>,
    probabilities_out: bool,
    probs: Vec<f32>,
    values: Vec<f32>,
    chosen: Vec<usize>,
    cache: Option<Cache>,
    rng: Option<u64>,
}

/// SplitMix64: a tiny seeded generator for sampling.
fn next_u64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Masked probabilities of one row into `out`; returns the most probable legal action
/// (lowest index on ties).
fn masked(row: &[f32], legal: &[bool], probabilities: bool, out: &mut [f32]) -> Result<usize> {
    // One pass for the finiteness check and the largest legal value.
    let mut max = f32::NEG_INFINITY;
    let mut finite = true;
    for (&v, &l) in row.iter().zip(legal) {
        finite &= v.is_finite();
        if l && v > max {
            max = v;
        }
    }
    if !finite {
        return Err(Error::NonFiniteOutput);
    }
    let mut sum = 0.0f32;
    for ((o, &v), &l) in out.iter_mut().zip(row).zip(legal) {
        *o = if !l {
            0.0
        } else if probabilities {
            v.max(0.0)
        } else {
            (v - max).exp()
        };
        sum += *o;
    }
    if sum > 0.0 {
        let inv = 1.0 / sum;
        out.iter_mut().for_each(|o| *o *= inv);
    } else {
        // All legal probabilities are zero in a softmax output: spread evenly.
        let legal_count = legal.iter().filter(|l| **l).count().max(1);
        for (o, &l) in out.iter_mut().zip(legal) {
            *o = if l { 1.0 / legal_count as f32 } else { 0.0 };
        }
    }
    Ok(first_max(out, legal))
}

/// Refuses a model whose metadata names another encoder than `device`'s, or no metadata at
/// all (its encoder cannot be checked then).
pub(crate) fn require_encoder(meta: Option<&Metadata>, device: &str) -> Result<()> {
    match meta {
        Some(m) if m.encoder_hash == device => Ok(()),
        Some(m) => Err(Error::EncoderMismatch {
            model: m.encoder_hash.clone(),
            device: device.to_string(),
        }),
        None => Err(Error::Metadata(format!(
            "the model has no \"{METADATA_NAME}\" metadata, so its encoder cannot be checked \
             against this device's ({device})"
        ))),
    }
}

impl Policy {
    /// Builds a policy from a graph: reads its metadata, checks the encoder hash and plans the
    /// engine.
    pub fn from_graph(graph: &Graph, opts: &PolicyOptions) -> Result<Policy> {
        Policy::from_graph_with_kernels(graph, opts, Kernels::default())
    }

    /// As [`Policy::from_graph`] with the given kernels (e.g. the scalar reference).
    pub fn from_graph_with_kernels(
        graph: &Graph,
        opts: &PolicyOptions,
        kernels: Kernels,
    ) -> Result<Policy> {
        let meta = graph_metadata(graph)?;
        if let Some(device) = &opts.device_encoder_hash {
            require_encoder(meta.as_ref(), device)?;
        }
        let engine = Engine::with_kernels(graph, opts.max_batch.max(1), kernels)?;
        Policy::from_engine(engine, meta, opts)
    }

    /// Loads a `.tflite` file's bytes (see [`crate::load`]) into a policy.
    pub fn load(bytes: &[u8], opts: &PolicyOptions) -> Result<Policy> {
        Policy::from_graph(&crate::load::graph_from_bytes(bytes)?, opts)
    }

    fn from_engine(engine: Engine, meta: Option<Metadata>, opts: &PolicyOptions) -> Result<Policy> {
        let inputs = engine.inputs();
        if inputs.len() != 1 {
            return Err(Error::Unsupported(format!(
                "a policy model has one input (features), this one has {}",
                inputs.len()
            )));
        }
        let features = inputs[0].row;
        if let Some(m) = &meta
            && m.features != features
        {
            return Err(Error::Metadata(format!(
                "metadata says {} features, the model's input has {features}",
                m.features
            )));
        }
        let outs = engine.outputs();
        let want_actions = meta.as_ref().map(|m| m.action_names.len());
        let value = outs
            .iter()
            .position(|o| o.row == 1 && o.name.to_ascii_lowercase().contains("value"))
            .or_else(|| {
                (outs.len() == 2)
                    .then(|| outs.iter().position(|o| o.row == 1))
                    .flatten()
            });
        let logits = outs
            .iter()
            .enumerate()
            .position(|(i, o)| Some(i) != value && want_actions.is_none_or(|a| o.row == a))
            .ok_or_else(|| {
                Error::Unsupported(format!(
                    "no output matches the metadata's {} actions",
                    want_actions.unwrap_or(0)
                ))
            })?;
        let actions = outs[logits].row;
        let probabilities_out = outs[logits].probabilities;
        let max_batch = engine.max_batch();
        Ok(Policy {
            meta,
            features,
            actions,
            logits,
            value,
            probabilities_out,
            probs: vec![0.0; max_batch * actions],
            values: vec![0.0; max_batch],
            chosen: vec![0; max_batch],
            cache: (opts.cache_capacity > 0)
                .then(|| Cache::new(opts.cache_capacity, features, actions)),
            rng: opts.sample_seed,
            engine,
        })
    }

    /// The model's metadata, when it has a "tactician" entry.
    pub fn metadata(&self) -> Option<&Metadata> {
        self.meta.as_ref()
    }

    /// Number of input features.
    pub fn features(&self) -> usize {
        self.features
    }

    /// Number of actions.
    pub fn actions(&self) -> usize {
        self.actions
    }

    /// Whether the model has a value output.
    pub fn has_value(&self) -> bool {
        self.value.is_some()
    }

    /// The engine (for statistics).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Cache counters (all zero without a cache).
    pub fn cache_stats(&self) -> CacheStats {
        self.cache
            .as_ref()
            .map(|c| CacheStats {
                hits: c.hits,
                misses: c.misses,
                len: c.len,
                capacity: c.cap,
            })
            .unwrap_or_default()
    }

    fn check(&self, features: &[f32], legal: &[bool], n: usize) -> Result<()> {
        if n == 0 || n > self.engine.max_batch() {
            return Err(Error::Batch {
                got: n,
                max: self.engine.max_batch(),
            });
        }
        if features.len() != n * self.features {
            return Err(Error::InputLength {
                what: "features",
                expected: n * self.features,
                got: features.len(),
            });
        }
        if legal.len() != n * self.actions {
            return Err(Error::InputLength {
                what: "legal-action mask",
                expected: n * self.actions,
                got: legal.len(),
            });
        }
        if let Some(i) = features.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite {
                index: i,
                value: features[i],
            });
        }
        if let Some(row) = legal
            .chunks_exact(self.actions)
            .position(|r| !r.contains(&true))
        {
            return Err(Error::NoLegalAction { row });
        }
        Ok(())
    }

    fn pick(&mut self, row: usize, greedy: usize) -> usize {
        let Some(state) = self.rng.as_mut() else {
            return greedy;
        };
        let p = &self.probs[row * self.actions..(row + 1) * self.actions];
        let u = (next_u64(state) >> 40) as f32 / (1u64 << 24) as f32;
        let mut acc = 0.0f32;
        let mut last = greedy;
        for (i, &pi) in p.iter().enumerate() {
            if pi > 0.0 {
                acc += pi;
                last = i;
                if u < acc {
                    return i;
                }
            }
        }
        last
    }

    /// Decides one position: `features` (the model's input length) and `legal` (one flag per
    /// action). Allocates nothing.
    pub fn act(&mut self, features: &[f32], legal: &[bool]) -> Result<Decision<'_>> {
        self.check(features, legal, 1)?;
        let a = self.actions;
        let mut cached = false;
        let mut greedy = NIL;
        if let Some(cache) = self.cache.as_mut() {
            let h = hash_key(features, legal);
            if let Some(s) = cache.lookup(h, features, legal) {
                cache.hits += 1;
                self.probs[..a].copy_from_slice(&cache.probs[s * a..(s + 1) * a]);
                self.values[0] = cache.values[s];
                cached = true;
                greedy = first_max(&self.probs[..a], legal);
            }
        }
        if !cached {
            self.engine.input_mut(0, 1)?.copy_from_slice(features);
            self.engine.run(1)?;
            let row = self.engine.output(self.logits, 1)?;
            greedy = masked(row, legal, self.probabilities_out, &mut self.probs[..a])?;
            if let Some(v) = self.value {
                self.values[0] = self.engine.output(v, 1)?[0];
            }
            if let Some(cache) = self.cache.as_mut() {
                cache.misses += 1;
                let h = hash_key(features, legal);
                let s = cache.insert(h, features, legal);
                cache.probs[s * a..(s + 1) * a].copy_from_slice(&self.probs[..a]);
                cache.values[s] = self.values[0];
            }
        }
        let action = self.pick(0, greedy);
        Ok(Decision {
            action,
            probabilities: &self.probs[..a],
            value: self.value.map(|_| self.values[0]),
            cached,
        })
    }

    /// Decides `n` positions at once (`features` holds `n` rows, `legal` `n` masks), up to the
    /// `max_batch` given at load. Bypasses the cache.
    pub fn act_batch(
        &mut self,
        features: &[f32],
        legal: &[bool],
        n: usize,
    ) -> Result<BatchDecisions<'_>> {
        self.check(features, legal, n)?;
        let a = self.actions;
        self.engine.input_mut(0, n)?.copy_from_slice(features);
        self.engine.run(n)?;
        for r in 0..n {
            let row = &self.engine.output(self.logits, n)?[r * a..(r + 1) * a];
            let greedy = masked(
                row,
                &legal[r * a..(r + 1) * a],
                self.probabilities_out,
                &mut self.probs[r * a..(r + 1) * a],
            )?;
            self.chosen[r] = greedy;
        }
        if let Some(v) = self.value {
            self.values[..n].copy_from_slice(self.engine.output(v, n)?);
        }
        for r in 0..n {
            self.chosen[r] = self.pick(r, self.chosen[r]);
        }
        Ok(BatchDecisions {
            actions: &self.chosen[..n],
            probabilities: &self.probs[..n * a],
            values: self.value.map(|_| &self.values[..n]),
        })
    }
}

fn first_max(p: &[f32], legal: &[bool]) -> usize {
    let mut best = NIL;
    for (i, (&v, &l)) in p.iter().zip(legal).enumerate() {
        if l && (best == NIL || v > p[best]) {
            best = i;
        }
    }
    best
}
