//! `ctm-devnet`: run the Computronium system locally, and measure it.
//!
//! - [`up`]: the rollup on one machine — anvil as L1 with the contracts and the batch STARK
//!   verifier, the sequencer linked to them, and a prover node that proves and finalizes every
//!   batch. The executor agent, indexer and explorer are not part of it yet.
//! - [`bench`], the load generator: it starts the `sequencer` and `anvil` as child processes
//!   with the same block time and gas limit, funds many senders, pre-signs EIP-1559 transfers,
//!   sends them over JSON-RPC in batch requests, watches blocks for their inclusion, and reports
//!   sustained included tx/s and time-to-receipt percentiles for both, with the ratio.

pub mod bench;
pub mod procs;
pub mod up;
