//! The Computronium GPU executor: deterministic fixed-point training (CUDA and a bit-identical
//! CPU reference), checkpoint commitments, signed attestations and the provider agent.
//!
//! Status: not implemented yet (issue 6). This crate is an empty, documented placeholder so that the
//! workspace layout of DESIGN.md exists; it exports nothing and nothing depends on it working.
