//! x86-64 AVX2 + FMA kernels, selected at run time by [`super::Isa::detect`].
//!
//! Every function here is `unsafe` only because it is compiled with `#[target_feature]`; the
//! callers in `super` check the CPU features once and check every slice length before calling.
//!
//! One file per job: `float` (float32 products), `int8` (int8 products on row-major weights),
//! `int8_blocks` (int8 products on block panels), `requantize` (the int8 output stage),
//! `quantize` (input quantization) and `probes` (the benchmarks' probes of peak rates).

mod float;
mod int8;
mod int8_blocks;
mod probes;
mod quantize;
mod requantize;

pub use float::{fc_f32, fc_panels};
pub use int8::{matmul_i8, matmul_w16};
pub use int8_blocks::matmul_blocks;
pub use probes::{fma_peak, i8_peak, read_sum};
pub use quantize::{asymmetric_quantize, quantize_i8, symmetric_quantize};
pub use requantize::requantize;
