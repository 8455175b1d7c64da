//! Seeded generators of realistic inputs: kube-proxy-shaped rulesets of any size, and the
//! shipped example (a Kubernetes node's ruleset and matching traffic).
//! Same parameters and seed ⇒ byte-identical output, on every machine.

pub mod cluster;
pub mod kube;
pub mod node_rules;
mod packet;
pub mod random;
mod rng;
pub mod script;
pub mod traffic;

pub use rng::Rng;
