// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "./base/Fixture.sol";
import {CtmToken} from "../src/Token.sol";

contract TokenTest is Fixture {
    function setUp() public {
        _deployPreset("computronium");
    }

    function testGenesisSupplyAndMetadata() public view {
        assertEq(token.totalSupply(), 1_000_000_000 * E18, "supply");
        assertEq(token.decimals(), 18, "decimals");
        assertEq(token.symbol(), "CTM", "symbol");
        assertEq(token.name(), "Computronium", "name");
        assertEq(token.CLOCK_MODE(), "mode=timestamp", "clock mode");
        assertEq(uint256(token.clock()), block.timestamp, "clock");
    }

    function testNoMintFunction() public {
        // No public mint: a call to mint(address,uint256) hits no function and reverts.
        (bool ok,) = address(token).call(abi.encodeWithSignature("mint(address,uint256)", alice, 1));
        assertFalse(ok, "mint must not exist");
    }

    /// Why L1 senders give a gas margin (`ctm_core::l1::gas_limit_with_margin`): a burn in the
    /// same second as the last supply checkpoint updates it in place; a second later it writes
    /// a new checkpoint slot, so an estimate taken in the first second runs out in the second.
    function testBurnInALaterSecondCostsANewCheckpointSlot() public {
        _fund(alice, 100 * E18);
        vm.startPrank(alice);
        token.burn(1);
        uint256 g = gasleft();
        token.burn(1);
        uint256 sameSecond = g - gasleft();
        vm.warp(block.timestamp + 1);
        g = gasleft();
        token.burn(1);
        uint256 nextSecond = g - gasleft();
        vm.stopPrank();
        assertGe(nextSecond, sameSecond + 15_000, "a new checkpoint slot");
    }

    function testBurnReducesSupply() public {
        _fund(alice, 100 * E18);
        uint256 before = token.totalSupply();
        vm.prank(alice);
        token.burn(40 * E18);
        assertEq(token.totalSupply(), before - 40 * E18, "supply fell");
        assertEq(token.balanceOf(alice), 60 * E18, "balance");
    }

    function testBurnFromNeedsAllowance() public {
        _fund(alice, 10 * E18);
        vm.prank(alice);
        token.approve(bob, 5 * E18);
        vm.prank(bob);
        token.burnFrom(alice, 5 * E18);
        assertEq(token.balanceOf(alice), 5 * E18, "burned");
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSignature("ERC20InsufficientAllowance(address,uint256,uint256)", bob, 0, 1));
        token.burnFrom(alice, 1);
    }

    function testVotesFollowDelegation() public {
        _fund(alice, 100 * E18);
        vm.prank(alice);
        token.delegate(alice);
        assertEq(token.getVotes(alice), 100 * E18, "votes");
        vm.prank(alice);
        token.transfer(bob, 30 * E18);
        assertEq(token.getVotes(alice), 70 * E18, "votes after transfer");
        vm.warp(block.timestamp + 10);
        assertEq(token.getPastVotes(alice, block.timestamp - 5), 70 * E18, "past votes");
    }

    function testPermit() public {
        uint256 pk = 0xA11CE5;
        address owner = vm.addr(pk);
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"),
                owner,
                bob,
                7 * E18,
                token.nonces(owner),
                deadline
            )
        );
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, digest);
        token.permit(owner, bob, 7 * E18, deadline, v, r, s);
        assertEq(token.allowance(owner, bob), 7 * E18, "allowance");
        assertEq(token.nonces(owner), 1, "nonce");
    }

    function testConstructorRejectsLengthMismatch() public {
        address[] memory h = new address[](2);
        uint256[] memory a = new uint256[](1);
        vm.expectRevert(abi.encodeWithSelector(CtmToken.LengthMismatch.selector, 2, 1));
        new CtmToken("T", "T", 18, h, a);
    }

    function testConstructorRejectsZeroHolder() public {
        address[] memory h = new address[](1);
        uint256[] memory a = new uint256[](1);
        a[0] = 1;
        vm.expectRevert(abi.encodeWithSelector(CtmToken.ZeroHolder.selector, 0));
        new CtmToken("T", "T", 18, h, a);
    }

    function testConstructorRejectsEmptyGenesis() public {
        address[] memory h = new address[](1);
        uint256[] memory a = new uint256[](1);
        h[0] = alice;
        vm.expectRevert(CtmToken.EmptyGenesis.selector);
        new CtmToken("T", "T", 18, h, a);
    }

    function testConstructorSkipsZeroRowsAndCustomDecimals() public {
        address[] memory h = new address[](2);
        uint256[] memory a = new uint256[](2);
        h[0] = address(0);
        h[1] = alice;
        a[1] = 5;
        vm.expectEmit();
        emit CtmToken.GenesisAllocation(alice, 5);
        CtmToken t = new CtmToken("T", "T", 6, h, a);
        assertEq(t.totalSupply(), 5, "supply");
        assertEq(t.decimals(), 6, "decimals");
    }

    function testFuzzTransfersAndBurnsNeverRaiseSupply(uint256 amount, uint256 burnAmt) public {
        amount = bound(amount, 0, 1_000_000 * E18);
        burnAmt = bound(burnAmt, 0, amount);
        uint256 supply = token.totalSupply();
        _fund(alice, amount);
        vm.prank(alice);
        token.transfer(bob, amount);
        vm.prank(bob);
        token.burn(burnAmt);
        assertEq(token.totalSupply(), supply - burnAmt, "supply");
    }
}
