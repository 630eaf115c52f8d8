//! The Lambda binary.

fn main() {}
