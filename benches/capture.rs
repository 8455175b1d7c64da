//! Placeholder until the capture benchmark lands.
fn main() {}
