// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "./base/Fixture.sol";
import {VestingVault} from "../src/VestingVault.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

contract VestingVaultTest is Fixture {
    // computronium: schedule 0 = Resource Provider Rewards (monthly, 0 cliff, 60, not revocable),
    //               schedule 1 = Core Team (monthly, 12 cliff, 36, revocable). Beneficiaries 0xBE00+row.
    address internal ben0 = address(uint160(0xBE00));
    address internal ben1 = address(uint160(0xBE04));
    uint256 internal m;
    uint256 internal t0;

    function setUp() public {
        _deployPreset("computronium");
        m = vault.MONTH();
        t0 = vault.start();
    }

    function testMonthIsThirtyDays() public view {
        assertEq(m, 2_592_000, "month");
    }

    function testMonthlyNoCliff() public {
        uint256 total = 300_000_000 * E18;
        assertEq(vault.vestedAt(0, t0), 0, "t0");
        assertEq(vault.vestedAt(0, t0 + m - 1), 0, "just before month 1");
        assertEq(vault.vestedAt(0, t0 + m), total / 60, "month 1");
        vm.warp(t0 + 10 * m + 5);
        assertEq(vault.vested(0), total / 6, "10 months");
        assertEq(vault.claimable(0), total / 6, "claimable");
        vm.expectEmit();
        emit VestingVault.Claimed(0, ben0, total / 6);
        vm.prank(ben0);
        vault.claim(0);
        assertEq(token.balanceOf(ben0), total / 6, "paid");
        assertEq(vault.claimable(0), 0, "nothing left now");
        vm.prank(ben0);
        vm.expectRevert(abi.encodeWithSelector(VestingVault.NothingToClaim.selector, 0));
        vault.claim(0);
        vm.warp(t0 + 100 * m);
        vm.prank(ben0);
        vault.claim(0);
        assertEq(token.balanceOf(ben0), total, "all");
    }

    function testClaimOnlyBeneficiary() public {
        vm.warp(t0 + 2 * m);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(VestingVault.NotBeneficiary.selector, 0, alice));
        vault.claim(0);
    }

    function testUnknownSchedule() public {
        vm.expectRevert(abi.encodeWithSelector(VestingVault.UnknownSchedule.selector, 9));
        vault.claim(9);
        vm.expectRevert(abi.encodeWithSelector(VestingVault.UnknownSchedule.selector, 9));
        vault.vested(9);
    }

    function testSetBeneficiary() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(VestingVault.NotBeneficiary.selector, 0, alice));
        vault.setBeneficiary(0, alice);
        vm.prank(ben0);
        vm.expectRevert(VestingVault.ZeroAddress.selector);
        vault.setBeneficiary(0, address(0));
        vm.expectEmit();
        emit VestingVault.BeneficiaryChanged(0, ben0, alice);
        vm.prank(ben0);
        vault.setBeneficiary(0, alice);
        vm.warp(t0 + m);
        vm.prank(alice);
        vault.claim(0);
        assertEq(token.balanceOf(alice), (300_000_000 * E18) / 60, "new beneficiary paid");
    }

    function testRevokeSendsUnvestedToTreasury() public {
        uint256 total = 150_000_000 * E18;
        vm.warp(t0 + 24 * m); // 12 of 36 steps vested
        uint256 v = total / 3;
        uint256 treasuryBefore = token.balanceOf(address(treasury));
        vm.expectEmit();
        emit VestingVault.Revoked(1, v, total - v);
        vm.prank(tl);
        vault.revoke(1);
        assertEq(token.balanceOf(address(treasury)) - treasuryBefore, total - v, "treasury got unvested");
        vm.warp(t0 + 100 * m);
        assertEq(vault.vested(1), v, "frozen");
        vm.prank(ben1);
        vault.claim(1);
        assertEq(token.balanceOf(ben1), v, "vested stays claimable");
        vm.prank(tl);
        vm.expectRevert(abi.encodeWithSelector(VestingVault.AlreadyRevoked.selector, 1));
        vault.revoke(1);
    }

    function testRevokeBeforeCliffAndFullyVested() public {
        vm.prank(tl);
        vault.revoke(1);
        assertEq(vault.vested(1), 0, "nothing vested");
        // fully vested revocation moves nothing
        _deployPreset("computronium");
        vm.warp(vault.start() + 48 * m);
        uint256 tb = token.balanceOf(address(treasury));
        vm.prank(tl);
        vault.revoke(1);
        assertEq(token.balanceOf(address(treasury)), tb, "nothing unvested");
    }

    function testRevokeRules() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(VestingVault.NotTimelock.selector, alice));
        vault.revoke(1);
        vm.prank(tl);
        vm.expectRevert(abi.encodeWithSelector(VestingVault.NotRevocable.selector, 0));
        vault.revoke(0);
    }

    function _init(address b, uint256 total, VestingVault.Release r, uint32 c, uint32 v, bool rev)
        internal
        pure
        returns (VestingVault.ScheduleInit[] memory s)
    {
        s = new VestingVault.ScheduleInit[](1);
        s[0] = VestingVault.ScheduleInit(b, total, r, c, v, rev);
    }

    function _vaultWith(VestingVault.ScheduleInit[] memory s, uint256 fund) internal returns (VestingVault) {
        address next = vm.computeCreateAddress(address(this), vm.getNonce(address(this)));
        if (fund > 0) _fund(next, fund);
        return new VestingVault(IERC20(address(token)), address(treasury), tl, uint64(block.timestamp), s);
    }

    function testLinearAndUnlocked() public {
        VestingVault.ScheduleInit[] memory s = new VestingVault.ScheduleInit[](2);
        s[0] = VestingVault.ScheduleInit(alice, 1200, VestingVault.Release.Linear, 2, 10, false);
        s[1] = VestingVault.ScheduleInit(bob, 77, VestingVault.Release.Unlocked, 0, 0, false);
        VestingVault v = _vaultWith(s, 1277);
        uint256 st = v.start();
        assertEq(v.vestedAt(0, st + 2 * m), 0, "cliff end");
        assertEq(v.vestedAt(0, st + 2 * m + m / 2), 60, "half month of 10");
        assertEq(v.vestedAt(0, st + 7 * m), 600, "half");
        assertEq(v.vestedAt(0, st + 12 * m), 1200, "end");
        assertEq(v.vestedAt(1, st), 77, "unlocked at TGE");
        vm.prank(bob);
        v.claim(1);
        assertEq(token.balanceOf(bob), 77, "bob");
    }

    function testConstructorErrors() public {
        vm.expectRevert(abi.encodeWithSelector(VestingVault.Underfunded.selector, 0, 100));
        _vaultWith(_init(alice, 100, VestingVault.Release.Monthly, 0, 1, false), 0);
        vm.expectRevert(VestingVault.ZeroAddress.selector);
        _vaultWith(_init(address(0), 100, VestingVault.Release.Monthly, 0, 1, false), 0);
        vm.expectRevert(VestingVault.ZeroAmount.selector);
        _vaultWith(_init(alice, 0, VestingVault.Release.Monthly, 0, 1, false), 0);
        vm.expectRevert(abi.encodeWithSelector(VestingVault.ZeroVestingMonths.selector, 0));
        _vaultWith(_init(alice, 1, VestingVault.Release.Linear, 0, 0, false), 0);
        uint256 big = uint256(type(uint128).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(VestingVault.AmountTooLarge.selector, big));
        _vaultWith(_init(alice, big, VestingVault.Release.Monthly, 0, 1, false), 0);
        vm.expectRevert(VestingVault.ZeroAddress.selector);
        new VestingVault(IERC20(address(0)), address(treasury), tl, 0, new VestingVault.ScheduleInit[](0));
    }

    function testFuzzVestedMonotonicAndBounded(uint256 ta, uint256 tb, uint256 id) public view {
        id = bound(id, 0, 1);
        ta = bound(ta, t0, t0 + 200 * m);
        tb = bound(tb, ta, t0 + 200 * m);
        uint256 va = vault.vestedAt(id, ta);
        uint256 vb = vault.vestedAt(id, tb);
        assertLe(va, vb, "monotonic");
        assertLe(vb, vault.schedule(id).total, "bounded");
    }
}
