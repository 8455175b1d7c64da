//! Rulesets: `iptables-save` / `iptables-restore` text in, a typed model out, and the model
//! printed back byte for byte as iptables 1.8.9 prints it (`iptables -L`, `iptables-save`).
//!
//! - [`lex`] splits a line into arguments as iptables-restore does;
//! - [`parse`] reads a whole file (tables, chains, commands) and [`rule`] one rule's arguments;
//! - [`ext`] holds every match and target extension as a typed value;
//! - [`validate`] checks what iptables-restore and the kernel would refuse;
//! - [`save`] and [`list`] print the model;
//! - [`ipset`] reads, prints and tests IP sets (`ipset save` files).

pub mod addr;
pub mod diag;
pub mod ext;
pub mod ipset;
pub mod lex;
pub mod list;
pub mod model;
pub mod names;
pub mod num;
pub mod parse;
pub mod rule;
pub mod save;
pub mod validate;

pub use diag::{Diagnostic, Diagnostics};
pub use model::*;
