//! Errors of the prover node.

use alloy::primitives::B256;

use crate::ProverError;
use crate::evm::CodecError;

/// Why a prover-node step failed.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// Bad configuration (flags, deployment file, preset): the node cannot run.
    #[error("config: {0}")]
    Config(String),
    /// The L1 node failed or answered something unusable (retried).
    #[error("L1: {0}")]
    L1(String),
    /// The sequencer RPC failed or answered something unusable (retried).
    #[error("sequencer RPC: {0}")]
    Sequencer(String),
    /// The sequencer's batch does not match what L1 committed (retried).
    #[error("batch {batch}: {reason}")]
    BadBatch {
        /// Batch index.
        batch: u64,
        /// What differs.
        reason: String,
    },
    /// Replaying a batch on the replica did not give the root L1 committed.
    #[error("batch {batch}: replica root {got} != committed newStateRoot {expected}")]
    RootMismatch {
        /// Batch index.
        batch: u64,
        /// L1's `newStateRoot`.
        expected: B256,
        /// The replica's root.
        got: B256,
    },
    /// Witness generation or proving failed.
    #[error("batch {batch}: {source}")]
    Prove {
        /// Batch index.
        batch: u64,
        /// Why.
        source: ProverError,
    },
    /// The proof does not fit the L1 encoding.
    #[error("batch {batch}: L1 proof encoding: {source}")]
    Codec {
        /// Batch index.
        batch: u64,
        /// Why.
        source: CodecError,
    },
    /// `proveBatch` or `finalizeBatch` was mined but reverted.
    #[error("{call}({batch}) reverted in {tx}")]
    Reverted {
        /// The Rollup function.
        call: &'static str,
        /// Batch index.
        batch: u64,
        /// The transaction.
        tx: B256,
    },
    /// A blocking task (replay or proving) died.
    #[error("worker task: {0}")]
    Task(String),
}

impl NodeError {
    /// Whether retrying cannot help (the node stops).
    pub fn is_fatal(&self) -> bool {
        matches!(self, NodeError::Config(_))
    }

    /// Metric label of the error's kind.
    pub fn kind(&self) -> &'static str {
        match self {
            NodeError::Config(_) => "config",
            NodeError::L1(_) => "l1",
            NodeError::Sequencer(_) | NodeError::BadBatch { .. } => "sequencer",
            NodeError::RootMismatch { .. } => "replay",
            NodeError::Prove { .. } | NodeError::Codec { .. } | NodeError::Task(_) => "prove",
            NodeError::Reverted { .. } => "submit",
        }
    }
}

/// Result alias of the node.
pub type Result<T, E = NodeError> = std::result::Result<T, E>;
