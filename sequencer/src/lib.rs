//! `ctm-sequencer`: the Computronium sequencer node.
//!
//! Data flow: a signed transaction arrives over JSON-RPC ([`rpc`]), is decoded, its sender
//! recovered and checked, and enters the [`mempool`]. Every block interval the [`node`] selects
//! executable transactions, runs them with revm ([`exec`]) — the marketplace, staking and bridge
//! are native [`system`] contracts inside revm — and turns each transaction's effects into
//! ctm-core `Op`s. The block's state writes update the Poseidon2 state tree in one batch; the
//! block, receipts, ops and tree changes are persisted in one redb transaction ([`storage`]);
//! subscribers and filters are notified. The ops and roots are what the prover proves.

pub mod config;
pub mod error;
pub mod exec;
pub mod l1;
pub mod mempool;
pub mod node;
pub mod rpc;
pub mod service;
pub mod storage;
pub mod system;
pub mod types;

pub use error::{Result, SequencerError};
pub use node::{Node, NodeConfig};
