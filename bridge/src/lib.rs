//! The Computronium bridge: deposit / withdraw / claim library, CLI and relayer with Merkle proofs.
//!
//! Status: not implemented yet. This crate is an empty, documented placeholder so that the
//! workspace layout of DESIGN.md exists; it exports nothing and nothing depends on it working.
