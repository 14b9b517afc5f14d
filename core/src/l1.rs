//! What the L2 shares with the L1 contracts: `sol!` bindings of the Rollup and Bridge (the one
//! place Rust services take them from), the keccak withdrawal tree, the deposit-queue rolling
//! hash and the batch public inputs — all byte-for-byte as `l1-contracts/` defines them
//! (docs/contracts.md).

#![allow(missing_docs, clippy::too_many_arguments)] // `sol!` items: the Solidity names are the documentation

use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_sol_types::{SolValue, sol};

sol! {
    #[derive(Debug, PartialEq, Eq)]
    struct Slash { address account; uint8 role; uint256 amount; address reporter; }

    #[derive(Debug, PartialEq, Eq)]
    struct CommitInput {
        uint64 batchIndex;
        bytes32 newStateRoot;
        bytes32 withdrawalRoot;
        uint64 queueCount;
        uint256 feesBurned;
        bytes batchData;
        uint64[] rejectedDeposits;
        Slash[] slashes;
    }

    #[derive(Debug, PartialEq, Eq)]
    struct PublicInputs {
        uint64 l2ChainId;
        uint64 batchIndex;
        bytes32 prevStateRoot;
        bytes32 newStateRoot;
        bytes32 batchDataHash;
        uint64 queueStart;
        uint64 queueCount;
        bytes32 queueHashStart;
        bytes32 queueHashEnd;
        bytes32 withdrawalRoot;
        uint256 feesBurned;
        bytes32 rejectedDepositsHash;
        bytes32 slashesHash;
    }

    #[derive(Debug, PartialEq, Eq)]
    struct BatchInfo {
        bytes32 newStateRoot;
        bytes32 withdrawalRoot;
        bytes32 batchDataHash;
        bytes32 rejectedDepositsHash;
        bytes32 slashesHash;
        uint128 feesBurned;
        uint64 queueEnd;
        uint64 committedAt;
        address prover;
        bool finalized;
    }

    interface IRollup {
        event QueueEntryAdded(uint256 indexed index, uint8 kind, address indexed l1Sender, address indexed l2Target, uint256 amount, bytes32 dataHash, uint64 timestamp, bytes32 rollingHash, bytes data);
        event BatchCommitted(uint256 indexed batchIndex, bytes32 newStateRoot, bytes32 withdrawalRoot, bytes32 batchDataHash, uint64 queueStart, uint64 queueCount, uint256 feesBurned, uint64[] rejectedDeposits, Slash[] slashes);
        event BatchProven(uint256 indexed batchIndex, address indexed prover, uint256 reward);
        event BatchFinalized(uint256 indexed batchIndex, bytes32 stateRoot, bytes32 withdrawalRoot);
        event BatchesReverted(uint256 indexed fromIndex, uint256 toIndex);
        function commitBatch(CommitInput c) external;
        function proveBatch(uint256 batchIndex, bytes proof) external;
        function finalizeBatch(uint256 batchIndex) external;
        function lastCommittedBatch() external view returns (uint64);
        function lastFinalizedBatch() external view returns (uint64);
        function queueLength() external view returns (uint256);
        function queueHashAt(uint256 n) external view returns (bytes32);
        function encodedPublicInputs(uint256 batchIndex) external view returns (bytes);
        function batch(uint256 batchIndex) external view returns (BatchInfo);
    }

    interface IBridge {
        event DepositInitiated(uint256 indexed queueIndex, address indexed from, address indexed l2Recipient, uint256 amount);
        function deposit(address l2Recipient, uint256 amount) external returns (uint256 queueIndex);
        function claimWithdrawal(uint256 batchIndex, uint256 index, address recipient, uint256 amount, bytes32[] proof) external;
    }

    interface IERC20 {
        function approve(address spender, uint256 amount) external returns (bool);
        function balanceOf(address who) external view returns (uint256);
        function transfer(address to, uint256 amount) external returns (bool);
    }
}

/// The gas limit to send an L1 transaction with, given its `eth_estimateGas`: a quarter more.
/// An estimate is exact for the pending block only, and some calls cost more a second later:
/// CTM's votes clock is the block timestamp, so a mint, burn or delegated transfer (fee burns
/// in `finalizeBatch`, the prover reward in `proveBatch`) that the estimate saw update a supply
/// or votes checkpoint in place writes a new storage slot when its block lands in the next
/// second (+20,000 gas), and an exact limit runs out.
pub fn gas_limit_with_margin(estimate: u64) -> u64 {
    estimate.saturating_add(estimate / 4)
}

/// Queue entry kind of a token deposit.
pub const QUEUE_KIND_DEPOSIT: u8 = 0;
/// Queue entry kind of an L1 → L2 message.
pub const QUEUE_KIND_MESSAGE: u8 = 1;

/// The hash of one queue entry: `keccak256(abi.encode(uint64 index, uint8 kind, l1Sender,
/// l2Target, uint256 amount, bytes32 dataHash, uint64 timestamp))`.
#[allow(clippy::too_many_arguments)]
pub fn queue_entry_hash(
    index: u64,
    kind: u8,
    l1_sender: Address,
    l2_target: Address,
    amount: U256,
    data_hash: B256,
    timestamp: u64,
) -> B256 {
    // uint64 / uint8 words encode exactly as uint256 words.
    keccak256(
        (
            U256::from(index),
            U256::from(kind),
            l1_sender,
            l2_target,
            amount,
            data_hash,
            U256::from(timestamp),
        )
            .abi_encode(),
    )
}

/// The rolling queue hash: `H_{i+1} = keccak256(abi.encode(H_i, entryHash_i))`, `H_0 = 0`.
pub fn queue_rolling_hash(prev: B256, entry: B256) -> B256 {
    keccak256((prev, entry).abi_encode())
}

/// The most withdrawals one batch may carry: the batch proof binds each of them to an account
/// debit through a fixed-size list of public values (docs/prover.md), so the sequencer cuts
/// batches (and blocks) so that none exceeds it.
pub const MAX_WITHDRAWALS_PER_BATCH: usize = 16;

/// The most L1 queue entries (deposits and messages) one batch may consume: the batch proof
/// carries them, rebuilds the queue hash and binds each credited deposit to an account credit
/// through a fixed-size list of public values (docs/prover.md), so the sequencer applies at most
/// this many per block and cuts batches so that none consumes more.
pub const MAX_QUEUE_ENTRIES_PER_BATCH: usize = 16;

/// One L2 → L1 withdrawal of a batch.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Withdrawal {
    /// Recipient on L1.
    pub recipient: Address,
    /// Amount in base units.
    pub amount: U256,
}

/// Leaf `i` of a batch's withdrawal tree.
pub fn withdrawal_leaf(i: u64, w: &Withdrawal) -> B256 {
    keccak256((U256::from(i), w.recipient, w.amount).abi_encode())
}

fn withdrawal_levels(ws: &[Withdrawal]) -> Vec<Vec<B256>> {
    if ws.is_empty() {
        return vec![];
    }
    let mut level: Vec<B256> =
        ws.iter().enumerate().map(|(i, w)| withdrawal_leaf(i as u64, w)).collect();
    level.resize(ws.len().next_power_of_two(), B256::ZERO);
    let mut levels = vec![level];
    while levels.last().is_some_and(|l| l.len() > 1) {
        let prev = levels.last().map(Vec::as_slice).unwrap_or_default();
        let next = prev
            .chunks(2)
            .map(|p| keccak256([p[0].as_slice(), p[1].as_slice()].concat()))
            .collect();
        levels.push(next);
    }
    levels
}

/// The withdrawal root of a batch (zero without withdrawals).
pub fn withdrawal_root(ws: &[Withdrawal]) -> B256 {
    withdrawal_levels(ws).last().and_then(|l| l.first().copied()).unwrap_or(B256::ZERO)
}

/// The proof of withdrawal `i`: siblings from the leaf level up.
pub fn withdrawal_proof(ws: &[Withdrawal], i: usize) -> Option<Vec<B256>> {
    if i >= ws.len() {
        return None;
    }
    let levels = withdrawal_levels(ws);
    Some(levels[..levels.len() - 1].iter().enumerate().map(|(k, l)| l[(i >> k) ^ 1]).collect())
}

/// Checks a withdrawal proof against a root.
pub fn verify_withdrawal(root: B256, i: u64, w: &Withdrawal, proof: &[B256]) -> bool {
    let mut acc = withdrawal_leaf(i, w);
    for (k, sib) in proof.iter().enumerate() {
        acc = if (i >> k) & 1 == 0 {
            keccak256([acc.as_slice(), sib.as_slice()].concat())
        } else {
            keccak256([sib.as_slice(), acc.as_slice()].concat())
        };
    }
    acc == root
}

/// `keccak256(abi.encodePacked(uint64[] rejected))`: each index as a 32-byte word.
pub fn rejected_deposits_hash(rejected: &[u64]) -> B256 {
    let words: Vec<u8> = rejected.iter().flat_map(|r| U256::from(*r).to_be_bytes::<32>()).collect();
    keccak256(words)
}

/// keccak256 of the concatenated `abi.encode(account, role, amount, reporter)` of each slash.
pub fn slashes_hash(slashes: &[Slash]) -> B256 {
    let bytes: Vec<u8> = slashes
        .iter()
        .flat_map(|s| (s.account, U256::from(s.role), s.amount, s.reporter).abi_encode())
        .collect();
    keccak256(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(i: u8) -> Withdrawal {
        Withdrawal { recipient: Address::repeat_byte(i), amount: U256::from(u64::from(i) * 1000) }
    }

    #[test]
    fn withdrawal_proofs_verify_and_tampering_fails() {
        for n in 1..=9u8 {
            let ws: Vec<Withdrawal> = (1..=n).map(w).collect();
            let root = withdrawal_root(&ws);
            for i in 0..ws.len() {
                let proof = withdrawal_proof(&ws, i).unwrap();
                assert!(verify_withdrawal(root, i as u64, &ws[i], &proof));
                let mut bad = ws[i].clone();
                bad.amount += U256::from(1);
                assert!(!verify_withdrawal(root, i as u64, &bad, &proof));
                assert!(!verify_withdrawal(root, i as u64 + 1, &ws[i], &proof));
            }
        }
        assert_eq!(withdrawal_root(&[]), B256::ZERO);
        assert_eq!(withdrawal_root(&[w(1)]), withdrawal_leaf(0, &w(1)));
    }

    #[test]
    fn empty_lists_hash_to_keccak_of_nothing() {
        assert_eq!(rejected_deposits_hash(&[]), keccak256([]));
        assert_eq!(slashes_hash(&[]), keccak256([]));
    }
}
