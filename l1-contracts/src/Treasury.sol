// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";

/// @title Treasury
/// @notice The DAO treasury. Holds the treasury genesis allocation, receives protocol fees and
///         revoked vesting tokens, and moves or burns tokens only when the governance timelock says
///         so. `burn` is the buyback-and-burn step: tokens bought back (or held) are destroyed and
///         the token's total supply falls by exactly `amount`. It accepts no ETH.
contract Treasury {
    using SafeERC20 for IERC20;

    /// @notice The caller is not the timelock.
    error NotTimelock(address caller);
    /// @notice A zero address where an address is required.
    error ZeroAddress();
    /// @notice A zero amount.
    error ZeroAmount();
    /// @notice The treasury holds less than requested.
    error InsufficientBalance(uint256 balance, uint256 requested);

    /// @notice Protocol fees of `amount` were paid in by `from`.
    event FeesReceived(address indexed from, uint256 amount);
    /// @notice The timelock moved `amount` of `asset` to `to`.
    event Transferred(address indexed asset, address indexed to, uint256 amount);
    /// @notice `amount` project tokens were burned (buyback-and-burn).
    event Burned(uint256 amount, uint256 totalSupplyAfter);

    /// @notice The project token.
    ERC20Burnable public immutable token;
    /// @notice Governance timelock, the only mover of funds.
    address public immutable timelock;
    /// @notice Total protocol fees received through `depositFees`.
    uint256 public totalFeesReceived;
    /// @notice Total tokens burned by this treasury.
    uint256 public totalBurned;

    /// @param token_ The project token.
    /// @param timelock_ The governance timelock.
    constructor(ERC20Burnable token_, address timelock_) {
        if (address(token_) == address(0) || timelock_ == address(0)) revert ZeroAddress();
        token = token_;
        timelock = timelock_;
    }

    modifier onlyTimelock() {
        if (msg.sender != timelock) revert NotTimelock(msg.sender);
        _;
    }

    /// @notice Pays protocol fees (project tokens) into the treasury; the caller must approve first.
    /// @param amount Amount in base units.
    function depositFees(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        totalFeesReceived += amount;
        emit FeesReceived(msg.sender, amount);
        IERC20(address(token)).safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Transfers `amount` of `asset` to `to` (timelock only).
    /// @param asset ERC20 to move (the project token or any token sent here).
    /// @param to Recipient.
    /// @param amount Amount in base units.
    function transfer(IERC20 asset, address to, uint256 amount) external onlyTimelock {
        if (to == address(0) || address(asset) == address(0)) revert ZeroAddress();
        if (amount == 0) revert ZeroAmount();
        uint256 bal = asset.balanceOf(address(this));
        if (bal < amount) revert InsufficientBalance(bal, amount);
        emit Transferred(address(asset), to, amount);
        asset.safeTransfer(to, amount);
    }

    /// @notice Burns `amount` treasury-held project tokens (timelock only): buyback-and-burn.
    /// @param amount Amount in base units.
    function burn(uint256 amount) external onlyTimelock {
        if (amount == 0) revert ZeroAmount();
        uint256 bal = token.balanceOf(address(this));
        if (bal < amount) revert InsufficientBalance(bal, amount);
        totalBurned += amount;
        token.burn(amount);
        emit Burned(amount, token.totalSupply());
    }
}
