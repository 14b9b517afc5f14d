// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "./base/Fixture.sol";
import {Treasury} from "../src/Treasury.sol";
import {Rollup} from "../src/Rollup.sol";
import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";

/// Full DAO flow: delegate, propose, vote, queue in the timelock, execute.
contract GovernanceTest is Fixture {
    function setUp() public {
        _deployPreset("computronium");
        _fund(alice, 100_000_000 * E18); // 10 % of supply > 4 % quorum
        vm.prank(alice);
        token.delegate(alice);
        vm.warp(block.timestamp + 1);
    }

    function _proposal()
        internal
        view
        returns (address[] memory targets, uint256[] memory values, bytes[] memory calls, string memory desc)
    {
        targets = new address[](2);
        values = new uint256[](2);
        calls = new bytes[](2);
        targets[0] = address(treasury);
        calls[0] = abi.encodeCall(Treasury.burn, (1_000_000 * E18));
        targets[1] = address(rollup);
        calls[1] = abi.encodeCall(Rollup.setVerifier, (address(0xBEEF)));
        desc = "Buyback-and-burn 1M and set the verifier";
    }

    function testProposeVoteQueueExecute() public {
        (address[] memory t, uint256[] memory v, bytes[] memory c, string memory desc) = _proposal();
        vm.prank(alice);
        uint256 id = governor.propose(t, v, c, desc);
        vm.warp(block.timestamp + governor.votingDelay() + 1);
        vm.prank(alice);
        governor.castVote(id, 1);
        vm.warp(block.timestamp + governor.votingPeriod());
        assertEq(uint256(governor.state(id)), uint256(IGovernor.ProposalState.Succeeded), "succeeded");
        governor.queue(t, v, c, keccak256(bytes(desc)));
        vm.warp(block.timestamp + timelock.getMinDelay());
        uint256 supply = token.totalSupply();
        governor.execute(t, v, c, keccak256(bytes(desc)));
        assertEq(token.totalSupply(), supply - 1_000_000 * E18, "burned by DAO");
        assertEq(rollup.verifier(), address(0xBEEF), "verifier upgraded by DAO");
    }

    function testDefeatedWithoutQuorum() public {
        (address[] memory t, uint256[] memory v, bytes[] memory c, string memory desc) = _proposal();
        _fund(bob, 1000 * E18);
        vm.prank(bob);
        token.delegate(bob);
        vm.warp(block.timestamp + 1);
        vm.prank(bob);
        uint256 id = governor.propose(t, v, c, desc);
        vm.warp(block.timestamp + governor.votingDelay() + 1);
        vm.prank(bob);
        governor.castVote(id, 1);
        vm.warp(block.timestamp + governor.votingPeriod());
        assertEq(uint256(governor.state(id)), uint256(IGovernor.ProposalState.Defeated), "no quorum");
    }

    function testTimelockHasNoAdminAndGovernorProposes() public view {
        assertTrue(timelock.hasRole(timelock.PROPOSER_ROLE(), address(governor)), "governor proposes");
        assertTrue(timelock.hasRole(timelock.EXECUTOR_ROLE(), address(0)), "open execution");
        assertFalse(timelock.hasRole(timelock.DEFAULT_ADMIN_ROLE(), address(this)), "no deployer admin");
        assertEq(address(governor.timelock()), tl, "governor timelock");
        assertEq(governor.quorumNumerator(), 4, "quorum 4%");
    }
}
