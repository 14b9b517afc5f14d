//! The Computronium batch prover: Plonky3 AIRs over the `Op`s of a batch, witness generation,
//! prove/verify, proof encoding for L1 and the `prover-node` binary.
//!
//! Status: not implemented yet (issue 7). This crate is an empty, documented placeholder so that the
//! workspace layout of DESIGN.md exists; it exports nothing and nothing depends on it working.
