// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "./base/Fixture.sol";
import {Treasury} from "../src/Treasury.sol";
import {CtmToken} from "../src/Token.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

contract TreasuryTest is Fixture {
    function setUp() public {
        _deployPreset("computronium");
    }

    function testDepositFees() public {
        _fund(alice, 50 * E18);
        vm.startPrank(alice);
        token.approve(address(treasury), 50 * E18);
        vm.expectEmit();
        emit Treasury.FeesReceived(alice, 50 * E18);
        treasury.depositFees(50 * E18);
        vm.stopPrank();
        assertEq(treasury.totalFeesReceived(), 50 * E18, "fees");
        vm.expectRevert(Treasury.ZeroAmount.selector);
        treasury.depositFees(0);
    }

    function testBuybackAndBurnLowersSupply() public {
        uint256 supply = token.totalSupply();
        vm.expectEmit();
        emit Treasury.Burned(1_000_000 * E18, supply - 1_000_000 * E18);
        vm.prank(tl);
        treasury.burn(1_000_000 * E18);
        assertEq(token.totalSupply(), supply - 1_000_000 * E18, "supply fell");
        assertEq(treasury.totalBurned(), 1_000_000 * E18, "counter");
    }

    function testTransferByTimelock() public {
        vm.prank(tl);
        treasury.transfer(IERC20(address(token)), alice, 5 * E18);
        assertEq(token.balanceOf(alice), 5 * E18, "paid");
    }

    function testOnlyTimelock() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Treasury.NotTimelock.selector, alice));
        treasury.burn(1);
        vm.prank(g1);
        vm.expectRevert(abi.encodeWithSelector(Treasury.NotTimelock.selector, g1));
        treasury.transfer(IERC20(address(token)), g1, 1);
    }

    function testErrors() public {
        uint256 bal = token.balanceOf(address(treasury));
        vm.startPrank(tl);
        vm.expectRevert(Treasury.ZeroAmount.selector);
        treasury.burn(0);
        vm.expectRevert(abi.encodeWithSelector(Treasury.InsufficientBalance.selector, bal, bal + 1));
        treasury.burn(bal + 1);
        vm.expectRevert(Treasury.ZeroAddress.selector);
        treasury.transfer(IERC20(address(token)), address(0), 1);
        vm.expectRevert(Treasury.ZeroAmount.selector);
        treasury.transfer(IERC20(address(token)), alice, 0);
        vm.expectRevert(abi.encodeWithSelector(Treasury.InsufficientBalance.selector, bal, bal + 1));
        treasury.transfer(IERC20(address(token)), alice, bal + 1);
        vm.stopPrank();
        vm.expectRevert(Treasury.ZeroAddress.selector);
        new Treasury(CtmToken(address(0)), tl);
    }

    function testRejectsEth() public {
        (bool ok,) = address(treasury).call{value: 1}("");
        assertFalse(ok, "no ETH");
    }
}
