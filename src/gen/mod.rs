//! Seeded generators of realistic inputs: kube-proxy-shaped rulesets today, traffic later.
//! Same parameters and seed ⇒ byte-identical output, on every machine.

pub mod kube;
mod rng;

pub use rng::Rng;
