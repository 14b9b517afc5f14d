// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IBridgeHooks
/// @notice What the Rollup tells the Bridge when a batch finalizes.
interface IBridgeHooks {
    /// @notice Credits consumed deposits to L2 and burns the L2 fees the batch reported.
    /// @param consumedDeposits Sum of the deposit amounts the batch consumed.
    /// @param rejectedDeposits Sum of those amounts that L2 rejected (now refundable on L1).
    /// @param feesBurned L2 fees burned in the batch, burned here from the locked tokens.
    function onBatchFinalized(uint256 consumedDeposits, uint256 rejectedDeposits, uint256 feesBurned) external;
}
