// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "./base/Fixture.sol";
import {Staking} from "../src/Staking.sol";
import {Treasury} from "../src/Treasury.sol";
import {WithdrawalTree} from "../src/lib/WithdrawalTree.sol";
import {CommitInput} from "../src/RollupTypes.sol";

/// One pass through every main path, so that
///   tools/forge-test --gas-report --mc GasScenarioTest
/// reports each function with a known workload (docs/gas.md). proveBatch uses the MOCK verifier
/// (test only): its figure excludes the real STARK verification.
contract GasScenarioTest is Fixture {
    function setUp() public {
        _deployPreset("computronium");
        _fundProverPool(1000 * E18);
    }

    function testGasScenario() public {
        // deposits: alice twice (first deposit ever, then a warm one)
        _deposit(alice, alice, 100 * E18);
        _deposit(alice, alice, 50 * E18);
        // commit: 2 deposits consumed, 1 KiB of batch data, 3 withdrawals, fees
        bytes32[] memory leaves = new bytes32[](3);
        leaves[0] = WithdrawalTree.leaf(0, alice, 10 * E18);
        leaves[1] = WithdrawalTree.leaf(1, bob, 20 * E18);
        leaves[2] = WithdrawalTree.leaf(2, carol, 30 * E18);
        (bytes32 root, bytes32[] memory proof1) = _withdrawalTree(leaves, 1);
        CommitInput memory c = _commitInput(1, 2);
        c.withdrawalRoot = root;
        c.feesBurned = 1 * E18;
        c.batchData = new bytes(1024);
        _commit(c);
        vm.prank(prover);
        rollup.proveBatch(1, GOOD_PROOF);
        rollup.finalizeBatch(1);
        bridge.claimWithdrawal(1, 1, bob, 20 * E18, proof1);
        // staking
        _fund(bob, 5000 * E18);
        vm.startPrank(bob);
        token.approve(address(staking), 5000 * E18);
        staking.stake(Staking.Role.Provider, 5000 * E18);
        vm.warp(block.timestamp + 1 days);
        staking.claimRewards();
        staking.requestUnstake(Staking.Role.Provider, 5000 * E18);
        vm.warp(block.timestamp + 1 days);
        staking.withdraw(Staking.Role.Provider);
        vm.stopPrank();
        // vesting claim after 3 months
        vm.warp(vault.start() + 90 days);
        vm.prank(address(uint160(0xBE00)));
        vault.claim(0);
        // governance: propose, vote, queue, execute a treasury burn
        _fund(carol, 100_000_000 * E18);
        vm.prank(carol);
        token.delegate(carol);
        vm.warp(block.timestamp + 1);
        address[] memory t = new address[](1);
        uint256[] memory v = new uint256[](1);
        bytes[] memory cd = new bytes[](1);
        t[0] = address(treasury);
        cd[0] = abi.encodeCall(Treasury.burn, (1000 * E18));
        vm.prank(carol);
        uint256 id = governor.propose(t, v, cd, "burn");
        vm.warp(block.timestamp + governor.votingDelay() + 1);
        vm.prank(carol);
        governor.castVote(id, 1);
        vm.warp(block.timestamp + governor.votingPeriod());
        governor.queue(t, v, cd, keccak256("burn"));
        vm.warp(block.timestamp + timelock.getMinDelay());
        governor.execute(t, v, cd, keccak256("burn"));
    }
}
