//! The Computronium devnet: one command that runs anvil, the contracts and every service, with a
//! demo scenario, a load generator and benchmarks.
//!
//! Status: not implemented yet. This crate is an empty, documented placeholder so that the
//! workspace layout of DESIGN.md exists; it exports nothing and nothing depends on it working.
