// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "./base/Fixture.sol";
import {Guardian} from "../src/Guardian.sol";
import {Rollup} from "../src/Rollup.sol";
import {IGuardianPausable} from "../src/interfaces/IPausable.sol";

contract GuardianTest is Fixture {
    function setUp() public {
        _deployPreset("computronium");
    }

    function testTwoOfThreePausesDeposits() public {
        vm.prank(g1);
        uint256 id = guardian.propose(Guardian.Action.PauseDeposits);
        assertFalse(rollup.depositsPaused(), "one signature is not enough");
        vm.expectEmit();
        emit Guardian.Executed(id, Guardian.Action.PauseDeposits);
        vm.prank(g2);
        guardian.confirm(id);
        assertTrue(rollup.depositsPaused(), "paused");
        assertTrue(guardian.proposal(id).executed, "executed");
        _fund(alice, E18);
        vm.startPrank(alice);
        token.approve(address(bridge), E18);
        vm.expectRevert(Rollup.DepositsPaused.selector);
        bridge.deposit(alice, E18);
        vm.stopPrank();
        vm.expectRevert(Rollup.DepositsPaused.selector);
        rollup.sendMessage(alice, "");
        // unpause
        vm.prank(g3);
        uint256 id2 = guardian.propose(Guardian.Action.UnpauseDeposits);
        vm.prank(g1);
        guardian.confirm(id2);
        assertFalse(rollup.depositsPaused(), "unpaused");
    }

    function testPauseBatches() public {
        vm.prank(g1);
        uint256 id = guardian.propose(Guardian.Action.PauseBatches);
        vm.prank(g3);
        guardian.confirm(id);
        assertTrue(rollup.batchesPaused(), "paused");
        vm.prank(seq);
        vm.expectRevert(Rollup.BatchesPaused.selector);
        rollup.commitBatch(_commitInput(1, 0));
        vm.prank(g1);
        id = guardian.propose(Guardian.Action.UnpauseBatches);
        vm.prank(g2);
        guardian.confirm(id);
        assertFalse(rollup.batchesPaused(), "unpaused");
        _commit(_commitInput(1, 0));
    }

    function testRevokeConfirmation() public {
        vm.prank(g1);
        uint256 id = guardian.propose(Guardian.Action.PauseDeposits);
        vm.prank(g1);
        guardian.revokeConfirmation(id);
        assertEq(uint256(guardian.proposal(id).confirmations), 0, "revoked");
        vm.prank(g1);
        vm.expectRevert(abi.encodeWithSelector(Guardian.NotConfirmed.selector, id, g1));
        guardian.revokeConfirmation(id);
        vm.prank(g2);
        guardian.confirm(id);
        vm.prank(g2);
        vm.expectRevert(abi.encodeWithSelector(Guardian.AlreadyConfirmed.selector, id, g2));
        guardian.confirm(id);
        vm.prank(g3);
        guardian.confirm(id);
        vm.prank(g1);
        vm.expectRevert(abi.encodeWithSelector(Guardian.AlreadyExecuted.selector, id));
        guardian.confirm(id);
    }

    function testErrors() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Guardian.NotSigner.selector, alice));
        guardian.propose(Guardian.Action.PauseDeposits);
        vm.prank(g1);
        vm.expectRevert(abi.encodeWithSelector(Guardian.UnknownProposal.selector, 5));
        guardian.confirm(5);
        vm.expectRevert(abi.encodeWithSelector(Guardian.UnknownProposal.selector, 5));
        guardian.proposal(5);
        address[] memory s = new address[](2);
        s[0] = g1;
        s[1] = g1;
        vm.expectRevert(abi.encodeWithSelector(Guardian.InvalidSigner.selector, g1));
        new Guardian(IGuardianPausable(address(rollup)), s, 1);
        vm.expectRevert(abi.encodeWithSelector(Guardian.InvalidThreshold.selector, 3, 2));
        new Guardian(IGuardianPausable(address(rollup)), s, 3);
        vm.expectRevert(Guardian.ZeroAddress.selector);
        new Guardian(IGuardianPausable(address(0)), s, 1);
        assertEq(guardian.signers().length, 3, "signers");
        assertEq(guardian.proposalCount(), 0, "count");
    }

    function testOnlyGuardianOrTimelockPauses() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Rollup.NotGuardian.selector, alice));
        rollup.setDepositsPaused(true);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Rollup.NotGuardian.selector, alice));
        rollup.setBatchesPaused(true);
        vm.prank(tl);
        rollup.setBatchesPaused(true);
        assertTrue(rollup.batchesPaused(), "timelock can pause");
    }

    /// The guardian holds nothing and every action leaves all balances unchanged.
    function testGuardianMovesNoFunds() public {
        uint256 b1 = token.balanceOf(address(bridge));
        uint256 b2 = token.balanceOf(address(treasury));
        uint256 b3 = token.balanceOf(address(staking));
        for (uint256 a = 0; a < 4; a++) {
            vm.prank(g1);
            uint256 id = guardian.propose(Guardian.Action(a));
            vm.prank(g2);
            guardian.confirm(id);
        }
        assertEq(token.balanceOf(address(bridge)), b1, "bridge");
        assertEq(token.balanceOf(address(treasury)), b2, "treasury");
        assertEq(token.balanceOf(address(staking)), b3, "staking");
        assertEq(token.balanceOf(address(guardian)), 0, "guardian holds nothing");
    }
}
