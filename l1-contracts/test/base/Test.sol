// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Vm} from "./Vm.sol";

/// @title Test
/// @notice The project's minimal test base (forge-std is unavailable offline): the cheatcode
///         handle, assertions that revert with a descriptive custom error, a `bound` helper and
///         the invariant-target hooks forge calls (`targetContracts`, `targetSelectors`,
///         `targetSenders`, `excludeContracts`).
abstract contract Test {
    /// @notice Fuzz selector set for invariant testing (same layout forge expects).
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    error AssertionFailed(string message);
    error AssertEqUint(uint256 left, uint256 right, string message);
    error AssertEqBytes32(bytes32 left, bytes32 right, string message);
    error AssertEqAddress(address left, address right, string message);
    error AssertLe(uint256 left, uint256 right, string message);
    error AssertGe(uint256 left, uint256 right, string message);

    event log(string message);
    event log_named_uint(string key, uint256 value);

    address[] internal _targetContracts;
    address[] internal _targetSenders;
    address[] internal _excludeContracts;
    FuzzSelector[] internal _targetSelectors;

    /// @notice Forge's marker for test contracts.
    function IS_TEST() external pure returns (bool) {
        return true;
    }

    function targetContracts() public view returns (address[] memory) {
        return _targetContracts;
    }

    function targetSenders() public view returns (address[] memory) {
        return _targetSenders;
    }

    function excludeContracts() public view returns (address[] memory) {
        return _excludeContracts;
    }

    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return _targetSelectors;
    }

    function targetContract(address a) internal {
        _targetContracts.push(a);
    }

    function targetSender(address a) internal {
        _targetSenders.push(a);
    }

    function excludeContract(address a) internal {
        _excludeContracts.push(a);
    }

    function targetSelector(FuzzSelector memory s) internal {
        _targetSelectors.push(s);
    }

    // ------------------------------------------------------------ assertions

    function assertTrue(bool c, string memory m) internal pure {
        if (!c) revert AssertionFailed(m);
    }

    function assertTrue(bool c) internal pure {
        assertTrue(c, "assertTrue");
    }

    function assertFalse(bool c, string memory m) internal pure {
        if (c) revert AssertionFailed(m);
    }

    function assertEq(uint256 a, uint256 b, string memory m) internal pure {
        if (a != b) revert AssertEqUint(a, b, m);
    }

    function assertEq(uint256 a, uint256 b) internal pure {
        assertEq(a, b, "assertEq(uint)");
    }

    function assertEq(bytes32 a, bytes32 b, string memory m) internal pure {
        if (a != b) revert AssertEqBytes32(a, b, m);
    }

    function assertEq(bytes32 a, bytes32 b) internal pure {
        assertEq(a, b, "assertEq(bytes32)");
    }

    function assertEq(address a, address b, string memory m) internal pure {
        if (a != b) revert AssertEqAddress(a, b, m);
    }

    function assertEq(address a, address b) internal pure {
        assertEq(a, b, "assertEq(address)");
    }

    function assertEq(bool a, bool b, string memory m) internal pure {
        if (a != b) revert AssertionFailed(m);
    }

    function assertEq(string memory a, string memory b, string memory m) internal pure {
        if (keccak256(bytes(a)) != keccak256(bytes(b))) revert AssertionFailed(m);
    }

    function assertEq(bytes memory a, bytes memory b, string memory m) internal pure {
        if (keccak256(a) != keccak256(b)) revert AssertionFailed(m);
    }

    function assertLe(uint256 a, uint256 b, string memory m) internal pure {
        if (a > b) revert AssertLe(a, b, m);
    }

    function assertGe(uint256 a, uint256 b, string memory m) internal pure {
        if (a < b) revert AssertGe(a, b, m);
    }

    /// @notice Maps `x` into [lo, hi] (inclusive) without discarding fuzz runs.
    function bound(uint256 x, uint256 lo, uint256 hi) internal pure returns (uint256) {
        if (lo > hi) revert AssertionFailed("bound: lo > hi");
        if (lo == 0 && hi == type(uint256).max) return x;
        return lo + (x % (hi - lo + 1));
    }
}
