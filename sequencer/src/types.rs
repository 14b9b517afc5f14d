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
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BlockOps {
    /// Block timestamp the ops were applied at.
    pub timestamp: u64,
    /// State root before the block.
    pub pre_root: B256,
    /// State root after the block.
    pub post_root: B256,
    /// The ops in order.
    pub ops: Vec<Op>,
    /// L1 queue entries consumed by this block (in order).
    #[serde(default)]
    pub queue: Vec<u64>,
    /// Of those, the deposits the L2 refused (refundable on L1).
    #[serde(default)]
    pub rejected: Vec<u64>,
    /// Total burned on L2 after this block (`Totals::burned`).
    #[serde(default)]
    pub burned_total: u128,
    /// Withdrawals initiated in this block, in order.
    #[serde(default)]
    pub withdrawals: Vec<ctm_core::l1::Withdrawal>,
}

/// An L1 → L2 queue entry seen on L1.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct QueueItem {
    /// Queue index.
    pub index: u64,
    /// 0 deposit, 1 message.
    pub kind: u8,
    /// Sender on L1.
    pub l1_sender: Address,
    /// Recipient / target on L2.
    pub l2_target: Address,
    /// Deposit amount.
    pub amount: alloy::primitives::U256,
}

/// Lifecycle of a batch on L1.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    /// Sealed and committed to the Rollup.
    Committed,
    /// A valid proof was accepted.
    Proven,
    /// Final on L1.
    Finalized,
    /// Reverted on L1 (unproven past the timeout).
    Reverted,
}

/// A batch of consecutive blocks committed to L1.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchRecord {
    /// 1-based batch index.
    pub index: u64,
    /// First block.
    pub from_block: u64,
    /// Last block.
    pub to_block: u64,
    /// Status on L1.
    pub status: BatchStatus,
    /// State root before the batch.
    pub prev_state_root: B256,
    /// State root after the batch.
    pub new_state_root: B256,
    /// keccak256 of the batch data.
    pub batch_data_hash: B256,
    /// First queue index consumed.
    pub queue_start: u64,
    /// Queue entries consumed.
    pub queue_count: u64,
    /// Refused deposits.
    pub rejected: Vec<u64>,
    /// Withdrawal root.
    pub withdrawal_root: B256,
    /// The withdrawals, in leaf order.
    pub withdrawals: Vec<ctm_core::l1::Withdrawal>,
    /// Fees burned on L2 in the batch.
    pub fees_burned: u128,
    /// The L1 transaction that committed it.
    pub commit_tx: Option<B256>,
}

/// What a prover needs of one batch, as `ctm_getBatchWitness` serves it: the record, every
/// block's ops and roots, and the batch data posted to L1.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchWitness {
    /// The batch record.
    pub batch: BatchRecord,
    /// The ops of blocks `from_block..=to_block`, in order.
    pub blocks: Vec<BlockOps>,
    /// The batch data posted to L1.
    pub batch_data: Bytes,
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
