//! The tactician command.
fn main() {}
