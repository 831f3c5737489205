//! The network: dense layers with one flat parameter buffer, and a workspace holding every
//! activation and gradient buffer for one batch size, allocated once.
//!
//! Parameters live in one `Vec<f32>` so the optimizer is one fused loop. The policy and value
//! heads share one matrix (`policy.weight` rows, then the `value.weight` row), so both heads
//! are one matrix product.
//!
//! The network's shape and parameter layout are in `spec`; the forward pass, the loss and the
//! gradients of one batch on one [`Workspace`] are in `pass`; the data-parallel steps that cut
//! a batch into shards are in `sharded`.

mod pass;
mod sharded;
mod spec;

#[cfg(test)]
mod tests;

pub use pass::{BatchStats, Targets, Workspace, forward, loss, train_step_grad};
pub use sharded::{
    Batch, SHARD_ROWS, Sharded, eval_sharded, gather_normalized, train_step_sharded,
};
pub use spec::{Dense, NetSpec, Tensor};
