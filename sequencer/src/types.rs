//! What the sequencer stores per block and transaction.

use alloy::consensus::{Header, TxEnvelope};
use alloy::primitives::{Address, B256, Bytes, Log};
use ctm_core::Op;
use serde::{Deserialize, Serialize};

/// A sealed block: its header (whose `state_root` is the Poseidon2 state root packed into 32
/// bytes) and the hashes of its transactions in order.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredBlock {
    /// The header.
    pub header: Header,
    /// `keccak(rlp(header))`.
    pub hash: B256,
    /// Transaction hashes in execution order.
    pub tx_hashes: Vec<B256>,
}

/// A transaction as included: where, who sent it, and its EIP-2718 bytes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredTx {
    /// Block number.
    pub block: u64,
    /// Position in the block.
    pub index: u32,
    /// Recovered sender.
    pub sender: Address,
    /// EIP-2718 encoding of the signed transaction.
    pub raw: Bytes,
}

/// The outcome of one transaction.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredReceipt {
    /// EIP-2718 type.
    pub tx_type: u8,
    /// Whether it succeeded.
    pub success: bool,
    /// Gas used by this transaction.
    pub gas_used: u64,
    /// Gas used in the block up to and including this transaction.
    pub cumulative_gas_used: u64,
    /// Price per gas paid.
    pub effective_gas_price: u128,
    /// Sender.
    pub from: Address,
    /// Recipient.
    pub to: Option<Address>,
    /// Emitted logs.
    pub logs: Vec<Log>,
    /// Index of this transaction's first log in the block.
    pub first_log_index: u64,
    /// Revert data, if it reverted.
    pub revert: Option<Bytes>,
}

/// The ops of a block and the state root they lead to: what the prover needs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BlockOps {
    /// Block timestamp the ops were applied at.
    pub timestamp: u64,
    /// State root before the block.
    pub pre_root: B256,
    /// State root after the block.
    pub post_root: B256,
    /// The ops in order.
    pub ops: Vec<Op>,
}

/// A transaction waiting in the mempool, already decoded and with its sender recovered.
#[derive(Clone, Debug)]
pub struct PooledTx {
    /// Hash.
    pub hash: B256,
    /// Recovered sender.
    pub sender: Address,
    /// The decoded transaction.
    pub tx: TxEnvelope,
    /// Its EIP-2718 bytes.
    pub raw: Bytes,
}
