//! `ctm-devnet`: run the Computronium system locally, and measure it.
//!
//! Today it holds the load generator ([`bench`]): it starts the `sequencer` and `anvil` as
//! child processes with the same block time and gas limit, funds many senders, pre-signs
//! EIP-1559 transfers, sends them over JSON-RPC in batch requests, watches blocks for their
//! inclusion, and reports sustained included tx/s and time-to-receipt percentiles for both,
//! with the ratio. The one-command devnet (contracts, prover, executor, bridge, indexer,
//! explorer) is not built yet.

pub mod bench;
pub mod procs;
