// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {IBridgeHooks} from "./interfaces/IBridgeHooks.sol";
import {Rollup} from "./Rollup.sol";
import {WithdrawalTree} from "./lib/WithdrawalTree.sol";
import {StateProof} from "./lib/StateProof.sol";

/// @title Bridge
/// @notice Locks the project token on L1 for the L2, where it is the native currency.
///         - `deposit` takes tokens and enqueues a deposit in the Rollup's L1→L2 queue.
///         - `claimWithdrawal` pays an L2→L1 withdrawal proven by a keccak Merkle proof against a
///           finalized batch's withdrawal root, at most once per (batch, index).
///         - `recoverDeposit` refunds a deposit that a finalized batch reported as rejected by L2,
///           or, in escape mode, one that no finalized batch consumed.
///         - `escapeWithdraw` (escape mode) pays an account's L2 balance once, proven against the
///           last finalized state root (Poseidon2 sparse Merkle proof).
///         - The Rollup calls `onBatchFinalized`: consumed deposits become L2 supply, reported L2
///           fees are burned here, so L1 total supply falls with L2 burns.
/// @dev Accounting: balance == totalDeposited − totalRecovered − totalWithdrawn − totalFeesBurned,
///      l2Supply() == totalCredited − totalWithdrawn − totalFeesBurned.
contract Bridge is IBridgeHooks {
    using SafeERC20 for IERC20;

    /// @notice A zero address where an address is required.
    error ZeroAddress();
    /// @notice A zero amount.
    error ZeroAmount();
    /// @notice The caller is not the rollup.
    error NotRollup(address caller);
    /// @notice The rollup is not in escape mode.
    error NotEscapeMode();
    /// @notice The account already exited through the escape hatch.
    error AlreadyExited(address account);
    /// @notice The state proof does not lead to the last finalized state root.
    error InvalidStateProof(address account);
    /// @notice The amount exceeds 2^96 − 1 base units.
    error AmountTooLarge(uint256 amount);
    /// @notice The withdrawal was already claimed.
    error AlreadyClaimed(uint256 batchIndex, uint256 index);
    /// @notice The Merkle proof does not lead to the batch's withdrawal root.
    error InvalidWithdrawalProof(uint256 batchIndex, uint256 index);
    /// @notice Paying this would take more than the L2 supply the bridge backs.
    error ExceedsL2Supply(uint256 l2Supply, uint256 amount);
    /// @notice No deposit at this queue index (or a message).
    error UnknownDeposit(uint256 queueIndex);
    /// @notice The deposit was already refunded.
    error AlreadyRecovered(uint256 queueIndex);
    /// @notice The deposit is neither rejected by L2 nor stranded by escape mode.
    error NotRecoverable(uint256 queueIndex);

    /// @notice A deposit entered the queue at `queueIndex`.
    event DepositInitiated(uint256 indexed queueIndex, address indexed from, address indexed l2Recipient, uint256 amount);
    /// @notice A withdrawal was paid.
    event WithdrawalClaimed(uint256 indexed batchIndex, uint256 indexed index, address indexed recipient, uint256 amount);
    /// @notice A rejected or stranded deposit was refunded to its depositor.
    event DepositRecovered(uint256 indexed queueIndex, address indexed depositor, uint256 amount);
    /// @notice `account` exited with its L2 balance `amount` through the escape hatch.
    event EscapeWithdrawal(address indexed account, uint256 amount, uint64 nonce);
    /// @notice A finalized batch credited `credited` to L2 and burned `feesBurned`.
    event BatchSettled(uint256 credited, uint256 rejected, uint256 feesBurned);

    /// @notice The project token.
    ERC20Burnable public immutable token;
    /// @notice The rollup.
    Rollup public immutable rollup;

    /// @notice Deposited into the queue, ever.
    uint256 public totalDeposited;
    /// @notice Credited to L2 by finalized batches.
    uint256 public totalCredited;
    /// @notice Rejected by L2 (refundable).
    uint256 public totalRejected;
    /// @notice Refunded to depositors (rejected or stranded).
    uint256 public totalRecovered;
    /// @notice Paid out for L2 withdrawals and escape exits.
    uint256 public totalWithdrawn;
    /// @notice Burned for L2 fees.
    uint256 public totalFeesBurned;

    struct DepositRecord {
        address depositor;
        bool recovered;
    }

    mapping(uint256 => DepositRecord) internal _deposits;
    mapping(uint256 => mapping(uint256 => bool)) internal _claimed;
    /// @notice Whether an account already exited through the escape hatch.
    mapping(address => bool) public exited;

    /// @param token_ The project token.
    /// @param rollup_ The rollup.
    constructor(ERC20Burnable token_, Rollup rollup_) {
        if (address(token_) == address(0) || address(rollup_) == address(0)) revert ZeroAddress();
        token = token_;
        rollup = rollup_;
    }

    /// @notice L2 supply backed by this bridge: credited − withdrawn − burned.
    /// @return The amount.
    function l2Supply() public view returns (uint256) {
        return totalCredited - totalWithdrawn - totalFeesBurned;
    }

    /// @notice Whether withdrawal `index` of batch `batchIndex` was claimed.
    /// @param batchIndex The batch.
    /// @param index Leaf index.
    /// @return True when claimed.
    function isClaimed(uint256 batchIndex, uint256 index) external view returns (bool) {
        return _claimed[batchIndex][index];
    }

    /// @notice Depositor of the deposit at `queueIndex` and whether it was refunded.
    /// @param queueIndex Queue index.
    /// @return depositor The depositor (zero if none).
    /// @return recovered Whether it was refunded.
    function depositOf(uint256 queueIndex) external view returns (address depositor, bool recovered) {
        DepositRecord storage d = _deposits[queueIndex];
        return (d.depositor, d.recovered);
    }

    /// @notice Deposits `amount` tokens to `l2Recipient` on L2 (caller approves first).
    /// @param l2Recipient The L2 account credited.
    /// @param amount Amount in base units (below 2^96).
    /// @return queueIndex The deposit's index in the rollup queue.
    function deposit(address l2Recipient, uint256 amount) external returns (uint256 queueIndex) {
        if (amount == 0) revert ZeroAmount();
        if (l2Recipient == address(0)) revert ZeroAddress();
        if (amount > type(uint96).max) revert AmountTooLarge(amount);
        IERC20(address(token)).safeTransferFrom(msg.sender, address(this), amount);
        queueIndex = rollup.enqueueDeposit(msg.sender, l2Recipient, amount);
        _deposits[queueIndex] = DepositRecord({depositor: msg.sender, recovered: false});
        totalDeposited += amount;
        emit DepositInitiated(queueIndex, msg.sender, l2Recipient, amount);
    }

    /// @notice Pays withdrawal `index` of finalized batch `batchIndex` to `recipient` (anyone may
    ///         submit; the tokens always go to `recipient`).
    /// @param batchIndex The finalized batch whose withdrawal root holds the leaf.
    /// @param index Leaf index in the batch's withdrawal list.
    /// @param recipient L1 recipient in the leaf.
    /// @param amount Amount in the leaf.
    /// @param proof Siblings from the leaf up (see WithdrawalTree).
    function claimWithdrawal(
        uint256 batchIndex,
        uint256 index,
        address recipient,
        uint256 amount,
        bytes32[] calldata proof
    ) external {
        if (_claimed[batchIndex][index]) revert AlreadyClaimed(batchIndex, index);
        if (recipient == address(0)) revert ZeroAddress();
        if (amount == 0) revert ZeroAmount();
        bytes32 root = rollup.finalizedWithdrawalRoot(batchIndex);
        bytes32 computed = WithdrawalTree.rootFrom(WithdrawalTree.leaf(index, recipient, amount), index, proof);
        if (computed != root) revert InvalidWithdrawalProof(batchIndex, index);
        uint256 supply = l2Supply();
        if (amount > supply) revert ExceedsL2Supply(supply, amount);
        _claimed[batchIndex][index] = true;
        totalWithdrawn += amount;
        emit WithdrawalClaimed(batchIndex, index, recipient, amount);
        IERC20(address(token)).safeTransfer(recipient, amount);
    }

    /// @notice Refunds the deposit at `queueIndex` to its depositor when a finalized batch reported
    ///         it rejected, or when the rollup is in escape mode and no finalized batch consumed it.
    /// @param queueIndex Queue index of the deposit.
    function recoverDeposit(uint256 queueIndex) external {
        DepositRecord storage d = _deposits[queueIndex];
        if (d.depositor == address(0)) revert UnknownDeposit(queueIndex);
        if (d.recovered) revert AlreadyRecovered(queueIndex);
        bool rejected = rollup.isDepositRejected(queueIndex);
        if (!rejected) {
            if (!rollup.isEscapeMode() || queueIndex < rollup.finalizedQueueHead()) revert NotRecoverable(queueIndex);
            rollup.activateEscapeMode();
        }
        uint256 amount = rollup.queueAmount(queueIndex);
        d.recovered = true;
        totalRecovered += amount;
        emit DepositRecovered(queueIndex, d.depositor, amount);
        IERC20(address(token)).safeTransfer(d.depositor, amount);
    }

    /// @notice Escape hatch: in escape mode, pays `account` its L2 balance from the last finalized
    ///         state, once per account (anyone may submit; tokens go to `account`, the same address
    ///         on L1 as on L2).
    /// @param account The L2 account (= L1 recipient).
    /// @param balance Its balance in the last finalized state.
    /// @param nonce Its nonce in the last finalized state.
    /// @param slot Its leaf slot in the state tree.
    /// @param siblings 32 sibling nodes from the leaf level up (packed bytes32, see StateProof).
    function escapeWithdraw(
        address account,
        uint128 balance,
        uint64 nonce,
        uint256 slot,
        bytes32[] calldata siblings
    ) external {
        if (!rollup.isEscapeMode()) revert NotEscapeMode();
        rollup.activateEscapeMode();
        if (exited[account]) revert AlreadyExited(account);
        if (balance == 0) revert ZeroAmount();
        bytes32 root = rollup.finalizedStateRoot();
        if (!StateProof.verifyAccount(root, account, balance, nonce, slot, siblings)) {
            revert InvalidStateProof(account);
        }
        uint256 supply = l2Supply();
        if (balance > supply) revert ExceedsL2Supply(supply, balance);
        exited[account] = true;
        totalWithdrawn += balance;
        emit EscapeWithdrawal(account, balance, nonce);
        IERC20(address(token)).safeTransfer(account, balance);
    }

    /// @inheritdoc IBridgeHooks
    function onBatchFinalized(uint256 consumedDeposits, uint256 rejectedDeposits, uint256 feesBurned) external {
        if (msg.sender != address(rollup)) revert NotRollup(msg.sender);
        uint256 credited = consumedDeposits - rejectedDeposits;
        totalCredited += credited;
        totalRejected += rejectedDeposits;
        uint256 supply = l2Supply();
        if (feesBurned > supply) revert ExceedsL2Supply(supply, feesBurned);
        totalFeesBurned += feesBurned;
        emit BatchSettled(credited, rejectedDeposits, feesBurned);
        if (feesBurned > 0) token.burn(feesBurned);
    }
}
