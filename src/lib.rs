//! fwbench: replay packet captures through an exact emulation of Linux netfilter.
//!
//! The library holds everything; `src/main.rs` and `src/cmd/` only turn command lines into
//! calls. See `ARCHITECTURE.md` in the shared docs for the intended shape; modules that later
//! issues add (capture, wire, engine, conntrack, replay, ...) slot in below `rules`.

pub mod capture;
pub mod conntrack;
pub mod engine;
pub mod gen;
pub mod host;
pub mod netfilter;
pub mod replay;
pub mod rules;
pub mod verify;
pub mod wire;
