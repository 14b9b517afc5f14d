// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Statement proven for one batch. The verifier receives `abi.encode(PublicInputs)`: 13
///         32-byte big-endian words in this order (416 bytes; uint64 fields are left-padded).
///         See docs/contracts.md "Public inputs".
struct PublicInputs {
    uint64 l2ChainId; //           0  L2 chain id (domain separation)
    uint64 batchIndex; //          1  batch number, 1-based
    bytes32 prevStateRoot; //      2  state root before the batch (previous batch's new root)
    bytes32 newStateRoot; //       3  state root after the batch
    bytes32 batchDataHash; //      4  keccak256(batchData) as posted in commitBatch calldata
    uint64 queueStart; //          5  first L1 queue index consumed
    uint64 queueCount; //          6  number of queue entries consumed
    bytes32 queueHashStart; //     7  rolling queue hash after `queueStart` entries (0 for 0)
    bytes32 queueHashEnd; //       8  rolling queue hash after `queueStart + queueCount` entries
    bytes32 withdrawalRoot; //     9  keccak Merkle root of the batch's L2→L1 withdrawals (0 if none)
    uint256 feesBurned; //        10  L2 fees burned in the batch (base units)
    bytes32 rejectedDepositsHash; // 11 keccak256(abi.encodePacked(uint64[] rejected queue indices))
    bytes32 slashesHash; //       12  keccak256(concat of abi.encode(account, role, amount, reporter))
}

/// @notice A stake slash proven by a batch, applied by the Rollup at finalization.
struct Slash {
    address account;
    uint8 role; // Staking.Role: 0 provider, 1 prover, 2 sequencer
    uint256 amount;
    address reporter;
}

/// @notice `commitBatch` argument.
struct CommitInput {
    uint64 batchIndex; //             must equal Rollup.lastCommittedBatch() + 1
    bytes32 newStateRoot;
    bytes32 withdrawalRoot;
    uint64 queueCount; //             queue entries consumed, starting at the committed queue head
    uint256 feesBurned;
    bytes batchData; //               data availability: the batch's transactions
    uint64[] rejectedDeposits; //     strictly increasing deposit queue indices L2 refused
    Slash[] slashes; //               stake slashes for faults proven in this batch
}

/// @notice Stored batch.
struct Batch {
    bytes32 newStateRoot;
    bytes32 withdrawalRoot;
    bytes32 batchDataHash;
    bytes32 rejectedDepositsHash;
    bytes32 slashesHash;
    uint128 feesBurned;
    uint64 queueEnd; //     queue index after the batch (its start is the previous batch's queueEnd)
    uint64 committedAt;
    address prover; //      first valid prover, zero while unproven
    bool finalized;
}

// L1→L2 queue entry kinds.
uint8 constant QUEUE_KIND_DEPOSIT = 0;
uint8 constant QUEUE_KIND_MESSAGE = 1;

/// @notice Stored L1→L2 queue entry.
struct QueueEntry {
    bytes32 rollingHash; //       rolling hash including this entry
    uint128 cumulativeDeposits; // sum of deposit amounts of entries 0..=this
    uint64 timestamp; //          enqueue time (forced-inclusion clock)
    uint8 kind; //                QUEUE_KIND_*
}
