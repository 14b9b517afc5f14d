// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/// @title CtmToken
/// @notice The project token of a genesis preset (Computronium, TSPMO or DPIN). The whole supply is
///         minted once, in the constructor, to the allocation holders; there is no mint function, so
///         the total supply can only fall (burns by holders, the treasury's buyback-and-burn, slashing
///         and L2 fee burns through the bridge).
/// @dev ERC20 + ERC20Permit + ERC20Votes + ERC20Burnable (OpenZeppelin 5.7). The votes clock is the
///      block timestamp (EIP-6372 `mode=timestamp`), so governance delays are in seconds.
contract CtmToken is ERC20, ERC20Burnable, ERC20Permit, ERC20Votes {
    /// @notice The holders and amounts arrays differ in length.
    error LengthMismatch(uint256 holders, uint256 amounts);
    /// @notice The genesis allocation list is empty or sums to zero.
    error EmptyGenesis();
    /// @notice A genesis holder is the zero address.
    error ZeroHolder(uint256 index);

    /// @notice Emitted once per genesis allocation row, next to the ERC20 mint `Transfer`.
    event GenesisAllocation(address indexed holder, uint256 amount);

    uint8 private immutable _decimals;

    /// @param name_ ERC20 name (also the EIP-712 domain name used by permit).
    /// @param symbol_ ERC20 symbol.
    /// @param decimals_ Token decimals (18 in every preset).
    /// @param holders Genesis holders (the same address may appear several times).
    /// @param amounts Base-unit amounts minted to `holders[i]`; zero rows are skipped.
    constructor(
        string memory name_,
        string memory symbol_,
        uint8 decimals_,
        address[] memory holders,
        uint256[] memory amounts
    ) ERC20(name_, symbol_) ERC20Permit(name_) {
        if (holders.length != amounts.length) revert LengthMismatch(holders.length, amounts.length);
        _decimals = decimals_;
        uint256 total;
        for (uint256 i = 0; i < holders.length; i++) {
            if (amounts[i] == 0) continue;
            if (holders[i] == address(0)) revert ZeroHolder(i);
            _mint(holders[i], amounts[i]);
            total += amounts[i];
            emit GenesisAllocation(holders[i], amounts[i]);
        }
        if (total == 0) revert EmptyGenesis();
    }

    /// @notice Token decimals, fixed at deployment.
    /// @return The number of decimals.
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// @notice EIP-6372 clock: the block timestamp.
    /// @return The current timestamp as uint48.
    function clock() public view override returns (uint48) {
        return uint48(block.timestamp);
    }

    /// @notice EIP-6372 clock mode.
    /// @return The machine-readable clock description.
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override returns (string memory) {
        return "mode=timestamp";
    }

    /// @notice Current EIP-2612 / delegation nonce of `owner`.
    /// @param owner The account.
    /// @return The next nonce.
    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        super._update(from, to, value);
    }
}
