//! Views of the arena's planned regions while a batch runs: disjoint mutable borrows of several
//! regions at once and their reinterpretation as float32, int32 or int8 values, with any
//! mismatch reported as an internal error rather than a panic.

use std::ops::Range;

use crate::error::{Error, Result};

/// An engine invariant that does not hold (a bug, never a property of the model).
pub(super) fn internal(what: impl std::fmt::Display) -> Error {
    Error::Internal(what.to_string())
}

/// The `N` regions `ranges` of the arena, borrowed mutably at once (they must not overlap).
#[inline]
pub(super) fn disjoint<const N: usize>(
    arena: &mut [u8],
    ranges: [Range<usize>; N],
) -> Result<[&mut [u8]; N]> {
    arena.get_disjoint_mut(ranges).map_err(internal)
}

/// A region as float32 values.
#[inline]
pub(super) fn as_f32(b: &[u8]) -> Result<&[f32]> {
    bytemuck::try_cast_slice(b).map_err(internal)
}

/// A region as mutable float32 values.
#[inline]
pub(super) fn as_f32_mut(b: &mut [u8]) -> Result<&mut [f32]> {
    bytemuck::try_cast_slice_mut(b).map_err(internal)
}

/// A region as mutable int32 values.
#[inline]
pub(super) fn as_i32_mut(b: &mut [u8]) -> Result<&mut [i32]> {
    bytemuck::try_cast_slice_mut(b).map_err(internal)
}

/// A region as int8 values.
#[inline]
pub(super) fn as_i8(b: &[u8]) -> &[i8] {
    bytemuck::cast_slice(b)
}

/// A region as mutable int8 values.
#[inline]
pub(super) fn as_i8_mut(b: &mut [u8]) -> &mut [i8] {
    bytemuck::cast_slice_mut(b)
}
