//! `ctm-core`: the consensus-critical core of Computronium, with no I/O.
//!
//! Data flows through it like this: a [`config::GenesisConfig`] (a TOML preset) fixes the token,
//! the chain and the marketplace parameters; the sequencer turns each transaction into typed
//! [`op::Op`]s; an [`op::Executor`] checks them against the [`op::Rules`] and the current
//! [`state`] read from the [`tree::StateTree`] (a Poseidon2 sparse Merkle tree over KoalaBear,
//! see [`hash`] for why that field), and commits a block's writes in one batched update that yields
//! the new state root. The prover later proves exactly that step: old root + ops = new root.
//!
//! Every state key and value has one canonical encoding ([`codec`]) that becomes a tree leaf.

pub mod abi;
pub mod attestation;
pub mod audit;
pub mod codec;
pub mod config;
pub mod hash;
pub mod l1;
pub mod market;
pub mod op;
pub mod state;
pub mod system;
pub mod tree;
pub mod vectors;

pub use config::{ConfigError, GenesisConfig};
pub use hash::Digest;
pub use op::{ApplyError, BlockWrites, Executor, Op, OpError, Rules, apply, write_block};
pub use state::{Amount, StateKey, Timestamp};
pub use tree::{MemoryStore, StateTree, TreeError, TreeStore};
