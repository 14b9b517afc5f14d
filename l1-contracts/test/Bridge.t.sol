// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "./base/Fixture.sol";
import {Bridge} from "../src/Bridge.sol";
import {Rollup} from "../src/Rollup.sol";
import {CtmToken} from "../src/Token.sol";
import {WithdrawalTree} from "../src/lib/WithdrawalTree.sol";
import {CommitInput} from "../src/RollupTypes.sol";

contract BridgeTest is Fixture {
    function setUp() public {
        _deployPreset("computronium");
        _fundProverPool(1000 * E18);
    }

    function testDeposit() public {
        _fund(alice, 10 * E18);
        vm.startPrank(alice);
        token.approve(address(bridge), 10 * E18);
        vm.expectEmit();
        emit Bridge.DepositInitiated(0, alice, bob, 10 * E18);
        uint256 idx = bridge.deposit(bob, 10 * E18);
        vm.stopPrank();
        assertEq(idx, 0, "index");
        assertEq(token.balanceOf(address(bridge)), 10 * E18, "locked");
        assertEq(bridge.totalDeposited(), 10 * E18, "counter");
        (address dep, bool rec) = bridge.depositOf(0);
        assertEq(dep, alice, "depositor");
        assertFalse(rec, "not recovered");
    }

    function testDepositErrors() public {
        vm.expectRevert(Bridge.ZeroAmount.selector);
        bridge.deposit(alice, 0);
        vm.expectRevert(Bridge.ZeroAddress.selector);
        bridge.deposit(address(0), 1);
        uint256 big = uint256(type(uint96).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(Bridge.AmountTooLarge.selector, big));
        bridge.deposit(alice, big);
        vm.expectRevert(Bridge.ZeroAddress.selector);
        new Bridge(CtmToken(address(0)), rollup);
    }

    function _finalizeWithWithdrawals(bytes32 root, uint64 queueCount) internal {
        CommitInput memory c = _commitInput(rollup.lastCommittedBatch() + 1, queueCount);
        c.withdrawalRoot = root;
        _commitProveFinalize(c);
    }

    function testClaimWithdrawal() public {
        _deposit(alice, alice, 100 * E18);
        bytes32[] memory leaves = new bytes32[](3);
        leaves[0] = WithdrawalTree.leaf(0, alice, 30 * E18);
        leaves[1] = WithdrawalTree.leaf(1, bob, 20 * E18);
        leaves[2] = WithdrawalTree.leaf(2, carol, 1 * E18);
        (bytes32 root, bytes32[] memory proof1) = _withdrawalTree(leaves, 1);
        _finalizeWithWithdrawals(root, 1);
        vm.expectEmit();
        emit Bridge.WithdrawalClaimed(1, 1, bob, 20 * E18);
        vm.prank(carol); // anyone may submit; bob gets paid
        bridge.claimWithdrawal(1, 1, bob, 20 * E18, proof1);
        assertEq(token.balanceOf(bob), 20 * E18, "bob paid");
        assertTrue(bridge.isClaimed(1, 1), "claimed");
        vm.expectRevert(abi.encodeWithSelector(Bridge.AlreadyClaimed.selector, 1, 1));
        bridge.claimWithdrawal(1, 1, bob, 20 * E18, proof1);
        (, bytes32[] memory proof2) = _withdrawalTree(leaves, 2);
        bridge.claimWithdrawal(1, 2, carol, 1 * E18, proof2);
        // wrong amount / wrong index
        (, bytes32[] memory proof0) = _withdrawalTree(leaves, 0);
        vm.expectRevert(abi.encodeWithSelector(Bridge.InvalidWithdrawalProof.selector, 1, 0));
        bridge.claimWithdrawal(1, 0, alice, 31 * E18, proof0);
        vm.expectRevert(abi.encodeWithSelector(WithdrawalTree.IndexOutOfRange.selector, 4, 2));
        bridge.claimWithdrawal(1, 4, alice, 30 * E18, proof0);
        bridge.claimWithdrawal(1, 0, alice, 30 * E18, proof0);
        assertEq(bridge.l2Supply(), 49 * E18, "l2 supply");
    }

    function testSingleLeafTreeAndErrors() public {
        _deposit(alice, alice, 10 * E18);
        bytes32 leaf = WithdrawalTree.leaf(0, alice, 5 * E18);
        _finalizeWithWithdrawals(leaf, 1);
        bytes32[] memory none = new bytes32[](0);
        vm.expectRevert(abi.encodeWithSelector(Rollup.NotFinalized.selector, 2));
        bridge.claimWithdrawal(2, 0, alice, 5 * E18, none);
        vm.expectRevert(Bridge.ZeroAddress.selector);
        bridge.claimWithdrawal(1, 0, address(0), 5 * E18, none);
        vm.expectRevert(Bridge.ZeroAmount.selector);
        bridge.claimWithdrawal(1, 0, alice, 0, none);
        bytes32[] memory long = new bytes32[](65);
        vm.expectRevert(abi.encodeWithSelector(WithdrawalTree.ProofTooLong.selector, 65));
        bridge.claimWithdrawal(1, 0, alice, 5 * E18, long);
        bridge.claimWithdrawal(1, 0, alice, 5 * E18, none);
        assertEq(token.balanceOf(alice), 5 * E18, "paid");
    }

    function testClaimCannotExceedL2Supply() public {
        bytes32 leaf = WithdrawalTree.leaf(0, alice, 5 * E18);
        _finalizeWithWithdrawals(leaf, 0); // nothing was ever deposited
        vm.expectRevert(abi.encodeWithSelector(Bridge.ExceedsL2Supply.selector, 0, 5 * E18));
        bridge.claimWithdrawal(1, 0, alice, 5 * E18, new bytes32[](0));
    }

    function testRecoverRejectedDeposit() public {
        _deposit(alice, alice, 7 * E18);
        _deposit(bob, bob, 3 * E18);
        vm.expectRevert(abi.encodeWithSelector(Bridge.NotRecoverable.selector, 0));
        bridge.recoverDeposit(0);
        CommitInput memory c = _commitInput(1, 2);
        c.rejectedDeposits = new uint64[](1);
        c.rejectedDeposits[0] = 0;
        _commitProveFinalize(c);
        assertEq(bridge.totalCredited(), 3 * E18, "only bob credited");
        assertEq(bridge.totalRejected(), 7 * E18, "rejected");
        vm.expectEmit();
        emit Bridge.DepositRecovered(0, alice, 7 * E18);
        vm.prank(carol);
        bridge.recoverDeposit(0);
        assertEq(token.balanceOf(alice), 7 * E18, "refunded to depositor");
        vm.expectRevert(abi.encodeWithSelector(Bridge.AlreadyRecovered.selector, 0));
        bridge.recoverDeposit(0);
        vm.expectRevert(abi.encodeWithSelector(Bridge.NotRecoverable.selector, 1));
        bridge.recoverDeposit(1);
        vm.expectRevert(abi.encodeWithSelector(Bridge.UnknownDeposit.selector, 9));
        bridge.recoverDeposit(9);
    }

    function testRecoverStrandedDepositInEscapeMode() public {
        _deposit(alice, alice, 7 * E18); // finalized
        _commitProveFinalize(_commitInput(1, 1));
        _deposit(bob, bob, 3 * E18); // committed, never finalized
        _commit(_commitInput(2, 1));
        _deposit(carol, carol, 2 * E18); // never committed
        vm.expectRevert(abi.encodeWithSelector(Bridge.NotRecoverable.selector, 1));
        bridge.recoverDeposit(1);
        vm.warp(block.timestamp + 604_800 + 1);
        vm.expectRevert(abi.encodeWithSelector(Bridge.NotRecoverable.selector, 0));
        bridge.recoverDeposit(0); // credited on L2: exits via the escape hatch instead
        bridge.recoverDeposit(1);
        bridge.recoverDeposit(2);
        assertTrue(rollup.escapeMode(), "latched by recovery");
        assertEq(token.balanceOf(bob), 3 * E18, "bob");
        assertEq(token.balanceOf(carol), 2 * E18, "carol");
        assertEq(token.balanceOf(address(bridge)), 7 * E18, "only the L2 supply stays");
    }

    function testFeesBurnedCannotExceedL2Supply() public {
        _deposit(alice, alice, 1 * E18);
        CommitInput memory c = _commitInput(1, 1);
        c.feesBurned = 2 * E18;
        _commit(c);
        vm.prank(prover);
        rollup.proveBatch(1, GOOD_PROOF);
        vm.expectRevert(abi.encodeWithSelector(Bridge.ExceedsL2Supply.selector, 1 * E18, 2 * E18));
        rollup.finalizeBatch(1);
    }

    function testOnlyRollupSettles() public {
        vm.expectRevert(abi.encodeWithSelector(Bridge.NotRollup.selector, address(this)));
        bridge.onBatchFinalized(0, 0, 0);
    }

    function testFuzzWithdrawalTree(uint256 n, uint256 idx, uint256 amount) public {
        n = bound(n, 1, 20);
        idx = bound(idx, 0, n - 1);
        amount = bound(amount, 1, 1000 * E18);
        _deposit(alice, alice, 1000 * E18);
        bytes32[] memory leaves = new bytes32[](n);
        for (uint256 i = 0; i < n; i++) {
            leaves[i] = WithdrawalTree.leaf(i, address(uint160(0x1000 + i)), i == idx ? amount : 1);
        }
        (bytes32 root, bytes32[] memory proof) = _withdrawalTree(leaves, idx);
        _finalizeWithWithdrawals(root, 1);
        address rcpt = address(uint160(0x1000 + idx));
        bridge.claimWithdrawal(1, idx, rcpt, amount, proof);
        assertEq(token.balanceOf(rcpt), amount, "paid");
        vm.expectRevert(abi.encodeWithSelector(Bridge.AlreadyClaimed.selector, 1, idx));
        bridge.claimWithdrawal(1, idx, rcpt, amount, proof);
    }
}
