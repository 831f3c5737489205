//! Parallel self-play collection of battle logs.
