// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IGuardianPausable
/// @notice The pause switches the Guardian may flip on the Rollup. None of them moves funds.
interface IGuardianPausable {
    /// @notice Pauses or unpauses new deposits and L1→L2 messages.
    /// @param paused The new state.
    function setDepositsPaused(bool paused) external;

    /// @notice Pauses or unpauses batch acceptance (commit, prove, finalize).
    /// @param paused The new state.
    function setBatchesPaused(bool paused) external;
}
