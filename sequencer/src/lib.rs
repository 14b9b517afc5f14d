//! The Computronium sequencer: mempool, revm execution with the marketplace as native system
//! contracts, block production, redb storage, Ethereum JSON-RPC, the L1 batcher and metrics.
//!
//! Status: not implemented yet (issue 4). This crate is an empty, documented placeholder so that the
//! workspace layout of DESIGN.md exists; it exports nothing and nothing depends on it working.
