//! Round-robin tournaments between strategies.
