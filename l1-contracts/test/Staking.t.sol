// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "./base/Fixture.sol";
import {Staking} from "../src/Staking.sol";
import {CtmToken} from "../src/Token.sol";

contract StakingTest is Fixture {
    uint256 internal minP;

    function setUp() public {
        _deployPreset("computronium");
        minP = staking.minStake(Staking.Role.Provider); // 1000 tokens
    }

    function _stake(address who, Staking.Role role, uint256 amount) internal {
        _fund(who, amount);
        vm.startPrank(who);
        token.approve(address(staking), amount);
        staking.stake(role, amount);
        vm.stopPrank();
    }

    function testStakeUnstakeWithdraw() public {
        _fund(alice, 2000 * E18);
        vm.startPrank(alice);
        token.approve(address(staking), 2000 * E18);
        vm.expectEmit();
        emit Staking.Staked(alice, Staking.Role.Provider, 2000 * E18);
        staking.stake(Staking.Role.Provider, 2000 * E18);
        vm.stopPrank();
        assertEq(staking.activeStake(alice, Staking.Role.Provider), 2000 * E18, "active");
        assertEq(staking.totalActive(), 2000 * E18, "total");
        vm.prank(alice);
        staking.requestUnstake(Staking.Role.Provider, 2000 * E18);
        assertEq(staking.totalUnbonding(), 2000 * E18, "unbonding");
        uint256 rel = block.timestamp + staking.unbondingPeriod();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Staking.StillUnbonding.selector, rel));
        staking.withdraw(Staking.Role.Provider);
        vm.warp(rel);
        vm.prank(alice);
        staking.withdraw(Staking.Role.Provider);
        assertEq(token.balanceOf(alice), 2000 * E18, "back");
        vm.prank(alice);
        vm.expectRevert(Staking.NothingUnbonding.selector);
        staking.withdraw(Staking.Role.Provider);
    }

    function testStakeErrors() public {
        vm.expectRevert(Staking.ZeroAmount.selector);
        staking.stake(Staking.Role.Provider, 0);
        _fund(alice, minP);
        vm.startPrank(alice);
        token.approve(address(staking), minP);
        vm.expectRevert(abi.encodeWithSelector(Staking.BelowMinimumStake.selector, minP - 1, minP));
        staking.stake(Staking.Role.Provider, minP - 1);
        staking.stake(Staking.Role.Provider, minP);
        vm.expectRevert(Staking.ZeroAmount.selector);
        staking.requestUnstake(Staking.Role.Provider, 0);
        vm.expectRevert(abi.encodeWithSelector(Staking.InsufficientStake.selector, minP, minP + 1));
        staking.requestUnstake(Staking.Role.Provider, minP + 1);
        vm.expectRevert(abi.encodeWithSelector(Staking.BelowMinimumStake.selector, minP - 1, minP));
        staking.requestUnstake(Staking.Role.Provider, 1);
        vm.expectRevert(Staking.NothingToClaim.selector);
        staking.claimRewards();
        vm.stopPrank();
    }

    function testRolesAreIndependentNoMinimumForProver() public {
        _stake(alice, Staking.Role.Prover, 1);
        _stake(alice, Staking.Role.Sequencer, 5);
        assertEq(staking.weightOf(alice), 6, "weight sums roles");
        assertEq(staking.position(alice, Staking.Role.Sequencer).active, 5, "position");
    }

    function testRewardsProRataStakeTimesTime() public {
        vm.prank(tl);
        staking.setRewardRate(1e18); // 1 token per second
        _stake(alice, Staking.Role.Provider, 1000 * E18);
        vm.warp(block.timestamp + 100);
        _stake(bob, Staking.Role.Provider, 3000 * E18);
        vm.warp(block.timestamp + 100);
        // alice: 100 s alone + 100 s at 1/4; bob: 100 s at 3/4
        assertEq(staking.earned(alice), 125 * E18, "alice");
        assertEq(staking.earned(bob), 75 * E18, "bob");
        vm.prank(alice);
        staking.claimRewards();
        assertEq(token.balanceOf(alice), 125 * E18, "paid");
        assertEq(staking.earned(alice), 0, "reset");
    }

    function testRewardsStopWhenReserveEmpty() public {
        uint256 r = staking.rewardReserve();
        vm.prank(tl);
        staking.withdrawReserve(carol, r - 10 * E18);
        vm.prank(tl);
        staking.setRewardRate(1e18);
        _stake(alice, Staking.Role.Provider, 1000 * E18);
        vm.warp(block.timestamp + 1000);
        assertEq(staking.earned(alice), 10 * E18, "capped by reserve");
        vm.prank(alice);
        staking.claimRewards();
        assertEq(staking.rewardReserve(), 0, "empty");
    }

    function testFundAndSyncReserve() public {
        uint256 r = staking.rewardReserve();
        _fund(alice, 10);
        vm.startPrank(alice);
        token.approve(address(staking), 10);
        staking.fundRewards(10);
        vm.expectRevert(Staking.ZeroAmount.selector);
        staking.fundRewards(0);
        token.transfer(address(staking), 0);
        vm.stopPrank();
        vm.expectRevert(Staking.ZeroAmount.selector);
        staking.syncReserve();
        _fund(address(staking), 7);
        staking.syncReserve();
        assertEq(staking.rewardReserve(), r + 17, "reserve");
    }

    function testSlashOnlyRollup() public {
        _stake(alice, Staking.Role.Provider, 2000 * E18);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Staking.NotRollup.selector, alice));
        staking.slash(alice, Staking.Role.Provider, 1, alice);
        vm.prank(tl);
        vm.expectRevert(abi.encodeWithSelector(Staking.NotRollup.selector, tl));
        staking.slash(alice, Staking.Role.Provider, 1, alice);
    }

    function testSlashBurnsShareAndRewardsReporter() public {
        _stake(alice, Staking.Role.Provider, 2000 * E18);
        vm.prank(alice);
        staking.requestUnstake(Staking.Role.Provider, 1000 * E18);
        uint256 supply = token.totalSupply();
        vm.prank(address(rollup));
        uint256 s = staking.slash(alice, Staking.Role.Provider, 1500 * E18, carol);
        assertEq(s, 1500 * E18, "slashed active then unbonding");
        assertEq(staking.activeStake(alice, Staking.Role.Provider), 0, "active gone");
        assertEq(staking.position(alice, Staking.Role.Provider).unbonding, 500 * E18, "unbonding left");
        assertEq(token.totalSupply(), supply - 750 * E18, "half burned");
        assertEq(token.balanceOf(carol), 750 * E18, "half to reporter");
        // more than there is: slashes what is left, all burned without reporter
        vm.prank(address(rollup));
        s = staking.slash(alice, Staking.Role.Provider, 1e30, address(0));
        assertEq(s, 500 * E18, "rest");
        assertEq(token.totalSupply(), supply - 1250 * E18, "burned");
    }

    function testGovernanceSetters() public {
        vm.startPrank(tl);
        staking.setMinStake(Staking.Role.Sequencer, 5);
        staking.setUnbondingPeriod(7);
        staking.setSlashBurnBps(10_000);
        vm.expectRevert(abi.encodeWithSelector(Staking.InvalidBps.selector, 10_001));
        staking.setSlashBurnBps(10_001);
        staking.setRewardRate(3);
        vm.expectRevert(Staking.ZeroAddress.selector);
        staking.withdrawReserve(address(0), 1);
        vm.expectRevert(Staking.ZeroAmount.selector);
        staking.withdrawReserve(alice, 0);
        uint256 r = staking.rewardReserve();
        vm.expectRevert(abi.encodeWithSelector(Staking.InsufficientReserve.selector, r, r + 1));
        staking.withdrawReserve(alice, r + 1);
        vm.stopPrank();
        assertEq(staking.minStake(Staking.Role.Sequencer), 5, "min");
        assertEq(staking.unbondingPeriod(), 7, "unbond");
        assertEq(staking.slashBurnBps(), 10_000, "bps");
        assertEq(staking.rewardRate(), 3, "rate");
    }

    function testOnlyTimelockSetsParameters() public {
        bytes[] memory calls = new bytes[](5);
        calls[0] = abi.encodeCall(Staking.setMinStake, (Staking.Role.Provider, 1));
        calls[1] = abi.encodeCall(Staking.setUnbondingPeriod, (1));
        calls[2] = abi.encodeCall(Staking.setSlashBurnBps, (1));
        calls[3] = abi.encodeCall(Staking.setRewardRate, (1));
        calls[4] = abi.encodeCall(Staking.withdrawReserve, (alice, 1));
        for (uint256 i = 0; i < calls.length; i++) {
            vm.prank(g1);
            (bool ok, bytes memory ret) = address(staking).call(calls[i]);
            assertFalse(ok, "guardian cannot");
            assertEq(ret, abi.encodeWithSelector(Staking.NotTimelock.selector, g1), "error");
        }
    }

    function testConstructorErrors() public {
        vm.expectRevert(Staking.ZeroAddress.selector);
        new Staking(CtmToken(address(0)), tl, address(rollup), 1, 1, 1, 1);
        vm.expectRevert(abi.encodeWithSelector(Staking.InvalidBps.selector, 10_001));
        new Staking(token, tl, address(rollup), 1, 10_001, 1, 1);
    }

    function testStakeOverflowGuard() public {
        vm.expectRevert(abi.encodeWithSelector(Staking.AmountTooLarge.selector, uint256(type(uint128).max) + 1));
        staking.stake(Staking.Role.Prover, uint256(type(uint128).max) + 1);
    }

    function testFuzzRewardsNeverExceedEmission(uint256 a, uint256 b, uint256 dt) public {
        a = bound(a, minP, 1_000_000 * E18);
        b = bound(b, minP, 1_000_000 * E18);
        dt = bound(dt, 1, 365 days);
        vm.prank(tl);
        staking.setRewardRate(1e15);
        _stake(alice, Staking.Role.Provider, a);
        _stake(bob, Staking.Role.Provider, b);
        vm.warp(block.timestamp + dt);
        uint256 emitted = dt * 1e15;
        assertLe(staking.earned(alice) + staking.earned(bob), emitted, "no over-emission");
        // truncation dust: under (a + b) / 1e18 + 2 base units
        assertGe(staking.earned(alice) + staking.earned(bob) + (a + b) / 1e18 + 2, emitted, "dust only");
    }
}
