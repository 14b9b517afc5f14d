// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IGuardianPausable} from "./interfaces/IPausable.sol";

/// @title Guardian
/// @notice An m-of-n multisig that can pause and unpause deposits and batch acceptance on the
///         Rollup, and nothing else: it holds no funds, calls no token and has no generic call.
///         Any signer proposes one of four fixed actions; the action runs when `threshold` signers
///         have confirmed it. The signer set is fixed; governance replaces the Guardian by pointing
///         the Rollup at a new one (`Rollup.setGuardian`, timelock only).
contract Guardian {
    /// @notice The four things a Guardian can do.
    enum Action {
        PauseDeposits,
        UnpauseDeposits,
        PauseBatches,
        UnpauseBatches
    }

    /// @notice A proposal.
    struct Proposal {
        Action action;
        uint32 confirmations;
        bool executed;
    }

    /// @notice Threshold is zero or above the number of signers.
    error InvalidThreshold(uint256 threshold, uint256 signers);
    /// @notice A signer is zero or listed twice.
    error InvalidSigner(address signer);
    /// @notice A zero address where an address is required.
    error ZeroAddress();
    /// @notice The caller is not a signer.
    error NotSigner(address caller);
    /// @notice No such proposal.
    error UnknownProposal(uint256 id);
    /// @notice The proposal already ran.
    error AlreadyExecuted(uint256 id);
    /// @notice The caller already confirmed the proposal.
    error AlreadyConfirmed(uint256 id, address signer);
    /// @notice The caller has not confirmed the proposal.
    error NotConfirmed(uint256 id, address signer);

    /// @notice Signer `signer` proposed `action` as proposal `id`.
    event Proposed(uint256 indexed id, address indexed signer, Action action);
    /// @notice Signer `signer` confirmed proposal `id`.
    event Confirmed(uint256 indexed id, address indexed signer, uint256 confirmations);
    /// @notice Signer `signer` withdrew its confirmation of proposal `id`.
    event ConfirmationRevoked(uint256 indexed id, address indexed signer, uint256 confirmations);
    /// @notice Proposal `id` ran.
    event Executed(uint256 indexed id, Action action);

    /// @notice The rollup this guardian protects.
    IGuardianPausable public immutable rollup;
    /// @notice Confirmations needed.
    uint256 public immutable threshold;
    /// @notice Whether an address is a signer.
    mapping(address => bool) public isSigner;
    address[] internal _signers;
    Proposal[] internal _proposals;
    /// @notice Whether `signer` confirmed proposal `id`.
    mapping(uint256 => mapping(address => bool)) public confirmedBy;

    /// @param rollup_ The rollup.
    /// @param signers_ The signers (distinct, non-zero).
    /// @param threshold_ Confirmations needed (1..signers).
    constructor(IGuardianPausable rollup_, address[] memory signers_, uint256 threshold_) {
        if (address(rollup_) == address(0)) revert ZeroAddress();
        if (threshold_ == 0 || threshold_ > signers_.length) revert InvalidThreshold(threshold_, signers_.length);
        for (uint256 i = 0; i < signers_.length; i++) {
            address s = signers_[i];
            if (s == address(0) || isSigner[s]) revert InvalidSigner(s);
            isSigner[s] = true;
            _signers.push(s);
        }
        rollup = rollup_;
        threshold = threshold_;
    }

    modifier onlySigner() {
        if (!isSigner[msg.sender]) revert NotSigner(msg.sender);
        _;
    }

    /// @notice The signers.
    /// @return The signer list.
    function signers() external view returns (address[] memory) {
        return _signers;
    }

    /// @notice Number of proposals so far.
    /// @return The count.
    function proposalCount() external view returns (uint256) {
        return _proposals.length;
    }

    /// @notice A proposal.
    /// @param id Proposal id.
    /// @return The proposal.
    function proposal(uint256 id) external view returns (Proposal memory) {
        if (id >= _proposals.length) revert UnknownProposal(id);
        return _proposals[id];
    }

    /// @notice Proposes `action` and confirms it (runs at once when the threshold is 1).
    /// @param action The action.
    /// @return id The proposal id.
    function propose(Action action) external onlySigner returns (uint256 id) {
        id = _proposals.length;
        _proposals.push(Proposal({action: action, confirmations: 0, executed: false}));
        emit Proposed(id, msg.sender, action);
        _confirm(id);
    }

    /// @notice Confirms proposal `id`; it runs when the threshold is reached.
    /// @param id Proposal id.
    function confirm(uint256 id) external onlySigner {
        _confirm(id);
    }

    /// @notice Withdraws the caller's confirmation of a proposal that has not run.
    /// @param id Proposal id.
    function revokeConfirmation(uint256 id) external onlySigner {
        Proposal storage p = _open(id);
        if (!confirmedBy[id][msg.sender]) revert NotConfirmed(id, msg.sender);
        confirmedBy[id][msg.sender] = false;
        p.confirmations -= 1;
        emit ConfirmationRevoked(id, msg.sender, p.confirmations);
    }

    function _open(uint256 id) internal view returns (Proposal storage p) {
        if (id >= _proposals.length) revert UnknownProposal(id);
        p = _proposals[id];
        if (p.executed) revert AlreadyExecuted(id);
    }

    function _confirm(uint256 id) internal {
        Proposal storage p = _open(id);
        if (confirmedBy[id][msg.sender]) revert AlreadyConfirmed(id, msg.sender);
        confirmedBy[id][msg.sender] = true;
        p.confirmations += 1;
        emit Confirmed(id, msg.sender, p.confirmations);
        if (p.confirmations >= threshold) {
            p.executed = true;
            emit Executed(id, p.action);
            if (p.action == Action.PauseDeposits) rollup.setDepositsPaused(true);
            else if (p.action == Action.UnpauseDeposits) rollup.setDepositsPaused(false);
            else if (p.action == Action.PauseBatches) rollup.setBatchesPaused(true);
            else rollup.setBatchesPaused(false);
        }
    }
}
