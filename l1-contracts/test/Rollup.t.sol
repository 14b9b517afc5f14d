// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "./base/Fixture.sol";
import {Rollup} from "../src/Rollup.sol";
import {Staking} from "../src/Staking.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {CommitInput, Slash, PublicInputs, Batch, QueueEntry} from "../src/RollupTypes.sol";

contract RollupTest is Fixture {
    function setUp() public {
        _deployPreset("computronium");
        _fundProverPool(1000 * E18);
    }

    // ------------------------------------------------------------ queue

    function testQueueRollingHashAndEntries() public {
        uint256 i0 = _deposit(alice, bob, 5 * E18);
        vm.prank(carol);
        uint256 i1 = rollup.sendMessage(bob, hex"c0ffee");
        assertEq(i0, 0, "first index");
        assertEq(i1, 1, "second index");
        assertEq(rollup.queueLength(), 2, "len");
        QueueEntry memory e0 = rollup.queueEntry(0);
        bytes32 h0 = keccak256(
            abi.encode(uint64(0), uint8(0), alice, bob, uint256(5 * E18), bytes32(0), uint64(block.timestamp))
        );
        bytes32 r0 = keccak256(abi.encode(bytes32(0), h0));
        assertEq(e0.rollingHash, r0, "rolling 0");
        bytes32 h1 = keccak256(
            abi.encode(uint64(1), uint8(1), carol, bob, uint256(0), keccak256(hex"c0ffee"), uint64(block.timestamp))
        );
        assertEq(rollup.queueHashAt(2), keccak256(abi.encode(r0, h1)), "rolling 1");
        assertEq(rollup.queueHashAt(0), bytes32(0), "empty");
        assertEq(rollup.queueAmount(0), 5 * E18, "amount 0");
        assertEq(rollup.queueAmount(1), 0, "message has no amount");
        assertTrue(rollup.isDeposit(0), "deposit");
        assertFalse(rollup.isDeposit(1), "message");
        vm.expectRevert(abi.encodeWithSelector(Rollup.UnknownQueueIndex.selector, 2));
        rollup.queueEntry(2);
        vm.expectRevert(abi.encodeWithSelector(Rollup.UnknownQueueIndex.selector, 3));
        rollup.queueHashAt(3);
        vm.expectRevert(abi.encodeWithSelector(Rollup.UnknownQueueIndex.selector, 2));
        rollup.queueAmount(2);
    }

    function testEnqueueRules() public {
        vm.expectRevert(abi.encodeWithSelector(Rollup.NotBridge.selector, address(this)));
        rollup.enqueueDeposit(alice, alice, 1);
        vm.prank(address(bridge));
        vm.expectRevert(Rollup.ZeroAmount.selector);
        rollup.enqueueDeposit(alice, alice, 0);
        vm.expectRevert(Rollup.ZeroAddress.selector);
        rollup.sendMessage(address(0), "");
    }

    // ------------------------------------------------------------ happy path

    function testCommitProveFinalize() public {
        _deposit(alice, alice, 100 * E18);
        CommitInput memory c = _commitInput(1, 1);
        c.feesBurned = 2 * E18;
        _commit(c);
        assertEq(uint256(rollup.lastCommittedBatch()), 1, "committed");
        assertEq(rollup.committedQueueHead(), 1, "queue head");

        PublicInputs memory pi = rollup.publicInputs(1);
        assertEq(uint256(pi.l2ChainId), 71117, "chain");
        assertEq(uint256(pi.batchIndex), 1, "index");
        assertEq(pi.prevStateRoot, keccak256("genesis"), "prev root");
        assertEq(pi.newStateRoot, c.newStateRoot, "new root");
        assertEq(pi.batchDataHash, keccak256(c.batchData), "data hash");
        assertEq(uint256(pi.queueStart), 0, "start");
        assertEq(uint256(pi.queueCount), 1, "count");
        assertEq(pi.queueHashStart, bytes32(0), "hash start");
        assertEq(pi.queueHashEnd, rollup.queueHashAt(1), "hash end");
        assertEq(pi.feesBurned, 2 * E18, "fees");
        assertEq(pi.rejectedDepositsHash, keccak256(""), "no rejected");
        assertEq(pi.slashesHash, keccak256(""), "no slashes");
        bytes memory enc = rollup.encodedPublicInputs(1);
        assertEq(enc.length, 416, "13 words");
        assertEq(enc, abi.encode(pi), "abi.encode");

        uint256 supply = token.totalSupply();
        vm.expectEmit();
        emit Rollup.BatchProven(1, prover, 10 * E18);
        vm.prank(prover);
        rollup.proveBatch(1, GOOD_PROOF);
        assertEq(token.balanceOf(prover), 10 * E18, "prover reward");
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Rollup.AlreadyProven.selector, 1));
        rollup.proveBatch(1, GOOD_PROOF);

        rollup.finalizeBatch(1);
        assertEq(uint256(rollup.lastFinalizedBatch()), 1, "finalized");
        assertEq(rollup.finalizedStateRoot(), c.newStateRoot, "root");
        assertEq(rollup.finalizedQueueHead(), 1, "finalized head");
        assertEq(bridge.totalCredited(), 100 * E18, "credited");
        assertEq(bridge.totalFeesBurned(), 2 * E18, "fees burned");
        assertEq(token.totalSupply(), supply - 2 * E18, "L1 supply fell by L2 fees");
        assertEq(bridge.l2Supply(), 98 * E18, "l2 supply");
        assertTrue(rollup.batch(1).finalized, "flag");
    }

    function testPublicInputsEncodingVector() public pure {
        // Fixed vector for the Rust side: every field distinct.
        PublicInputs memory pi = PublicInputs({
            l2ChainId: 71117,
            batchIndex: 7,
            prevStateRoot: bytes32(uint256(1)),
            newStateRoot: bytes32(uint256(2)),
            batchDataHash: bytes32(uint256(3)),
            queueStart: 4,
            queueCount: 5,
            queueHashStart: bytes32(uint256(6)),
            queueHashEnd: bytes32(uint256(7)),
            withdrawalRoot: bytes32(uint256(8)),
            feesBurned: 9,
            rejectedDepositsHash: bytes32(uint256(10)),
            slashesHash: bytes32(uint256(11))
        });
        bytes memory enc = abi.encode(pi);
        assertEq(enc.length, 416, "len");
        bytes memory manual = abi.encodePacked(
            uint256(71117), uint256(7), uint256(1), uint256(2), uint256(3), uint256(4), uint256(5)
        );
        manual = bytes.concat(
            manual, abi.encodePacked(uint256(6), uint256(7), uint256(8), uint256(9), uint256(10), uint256(11))
        );
        assertEq(enc, manual, "13 big-endian words in field order");
    }

    function testProverRewardLimitedByPool() public {
        vm.prank(tl);
        rollup.withdrawProverPool(carol, 995 * E18);
        _commit(_commitInput(1, 0));
        vm.prank(prover);
        rollup.proveBatch(1, GOOD_PROOF);
        assertEq(token.balanceOf(prover), 5 * E18, "what was left");
        assertEq(rollup.proverPool(), 0, "empty");
        _commit(_commitInput(2, 0));
        vm.prank(prover);
        rollup.proveBatch(2, GOOD_PROOF);
        assertEq(token.balanceOf(prover), 5 * E18, "no reward, still proven");
    }

    // ------------------------------------------------------------ commit errors

    function testCommitErrors() public {
        vm.expectRevert(abi.encodeWithSelector(Rollup.NotSequencer.selector, address(this)));
        rollup.commitBatch(_commitInput(1, 0));
        vm.prank(seq);
        vm.expectRevert(abi.encodeWithSelector(Rollup.WrongBatchIndex.selector, 1, 2));
        rollup.commitBatch(_commitInput(2, 0));
        vm.prank(seq);
        vm.expectRevert(abi.encodeWithSelector(Rollup.QueueOverrun.selector, 1, 0));
        rollup.commitBatch(_commitInput(1, 1));
        CommitInput memory c = _commitInput(1, 0);
        c.feesBurned = uint256(type(uint128).max) + 1;
        vm.prank(seq);
        vm.expectRevert(abi.encodeWithSelector(Rollup.FeesTooLarge.selector, c.feesBurned));
        rollup.commitBatch(c);
    }

    function testForcedInclusion() public {
        _deposit(alice, alice, E18);
        uint256 t = block.timestamp;
        vm.warp(t + 3599);
        _commit(_commitInput(1, 0)); // not yet overdue: skipping is allowed
        vm.warp(t + 3600);
        vm.prank(seq);
        vm.expectRevert(abi.encodeWithSelector(Rollup.QueueEntryOverdue.selector, 0, t));
        rollup.commitBatch(_commitInput(2, 0));
        _commit(_commitInput(2, 1)); // consuming it is accepted
    }

    /// A backlog of overdue entries drains 16 per batch: a full batch is accepted while later
    /// entries are overdue, a shorter one is not, and no batch consumes more than 16.
    function testForcedInclusionOfABacklog() public {
        uint256 t = block.timestamp;
        for (uint256 i = 0; i < 18; i++) {
            _deposit(alice, alice, 1);
        }
        vm.warp(t + 3600);
        uint256 max = rollup.MAX_QUEUE_ENTRIES_PER_BATCH();
        assertEq(max, 16);
        vm.prank(seq);
        vm.expectRevert(abi.encodeWithSelector(Rollup.TooManyQueueEntries.selector, 17, 16));
        rollup.commitBatch(_commitInput(1, 17));
        vm.prank(seq);
        vm.expectRevert(abi.encodeWithSelector(Rollup.QueueEntryOverdue.selector, 15, t));
        rollup.commitBatch(_commitInput(1, 15));
        _commit(_commitInput(1, 16)); // full: accepted though entries 16 and 17 are overdue
        vm.prank(seq);
        vm.expectRevert(abi.encodeWithSelector(Rollup.QueueEntryOverdue.selector, 17, t));
        rollup.commitBatch(_commitInput(2, 1));
        _commit(_commitInput(2, 2));
        assertEq(rollup.committedQueueHead(), 18);
    }

    function testRejectedDepositValidation() public {
        _deposit(alice, alice, E18);
        rollup.sendMessage(alice, "");
        _deposit(bob, bob, E18);
        CommitInput memory c = _commitInput(1, 2);
        c.rejectedDeposits = new uint64[](1);
        c.rejectedDeposits[0] = 1; // a message
        vm.prank(seq);
        vm.expectRevert(abi.encodeWithSelector(Rollup.InvalidRejectedDeposit.selector, 1));
        rollup.commitBatch(c);
        c.rejectedDeposits[0] = 2; // outside the consumed range
        vm.prank(seq);
        vm.expectRevert(abi.encodeWithSelector(Rollup.InvalidRejectedDeposit.selector, 2));
        rollup.commitBatch(c);
        c.queueCount = 3;
        c.rejectedDeposits = new uint64[](2);
        c.rejectedDeposits[0] = 2;
        c.rejectedDeposits[1] = 0; // not increasing
        vm.prank(seq);
        vm.expectRevert(abi.encodeWithSelector(Rollup.InvalidRejectedDeposit.selector, 0));
        rollup.commitBatch(c);
        c.rejectedDeposits[0] = 0;
        c.rejectedDeposits[1] = 2;
        _commit(c);
        assertEq(
            rollup.publicInputs(1).rejectedDepositsHash,
            keccak256(abi.encodePacked(uint256(0), uint256(2))),
            "packed 32-byte words"
        );
    }

    function testSlashValidationAndApplication() public {
        _fund(alice, 2000 * E18);
        vm.startPrank(alice);
        token.approve(address(staking), 2000 * E18);
        staking.stake(Staking.Role.Provider, 2000 * E18);
        vm.stopPrank();
        CommitInput memory c = _commitInput(1, 0);
        c.slashes = new Slash[](1);
        c.slashes[0] = Slash({account: alice, role: 3, amount: 1, reporter: carol});
        vm.prank(seq);
        vm.expectRevert(abi.encodeWithSelector(Rollup.InvalidSlashRole.selector, 3));
        rollup.commitBatch(c);
        c.slashes = new Slash[](65);
        vm.prank(seq);
        vm.expectRevert(abi.encodeWithSelector(Rollup.TooManySlashes.selector, 65));
        rollup.commitBatch(c);
        c.slashes = new Slash[](1);
        c.slashes[0] = Slash({account: alice, role: 0, amount: 1000 * E18, reporter: carol});
        _commit(c);
        assertEq(
            rollup.publicInputs(1).slashesHash,
            keccak256(abi.encode(alice, uint8(0), 1000 * E18, carol)),
            "slashes hash"
        );
        vm.prank(prover);
        rollup.proveBatch(1, GOOD_PROOF);
        vm.expectEmit();
        emit Rollup.SlashApplied(1, alice, 0, 1000 * E18);
        rollup.finalizeBatch(1);
        assertEq(staking.activeStake(alice, Staking.Role.Provider), 1000 * E18, "slashed");
        assertEq(token.balanceOf(carol), 500 * E18, "reporter share");
    }

    function testSequencerMinStake() public {
        vm.prank(tl);
        rollup.setMinSequencerStake(100);
        vm.prank(seq);
        vm.expectRevert(abi.encodeWithSelector(Rollup.SequencerStakeTooLow.selector, 0, 100));
        rollup.commitBatch(_commitInput(1, 0));
        _fund(seq, 100);
        vm.startPrank(seq);
        token.approve(address(staking), 100);
        staking.stake(Staking.Role.Sequencer, 100);
        rollup.commitBatch(_commitInput(1, 0));
        vm.stopPrank();
    }

    // ------------------------------------------------------------ prove / finalize errors

    function testProveErrors() public {
        vm.expectRevert(abi.encodeWithSelector(Rollup.UnknownBatch.selector, 1));
        rollup.proveBatch(1, GOOD_PROOF);
        _commit(_commitInput(1, 0));
        vm.expectRevert(abi.encodeWithSelector(Rollup.InvalidProof.selector, 1));
        rollup.proveBatch(1, hex"02");
        verifier.setShouldRevert(true);
        vm.expectRevert(abi.encodeWithSelector(Rollup.InvalidProof.selector, 1));
        rollup.proveBatch(1, GOOD_PROOF);
        vm.prank(tl);
        rollup.setVerifier(address(0));
        vm.expectRevert(Rollup.VerifierNotSet.selector);
        rollup.proveBatch(1, GOOD_PROOF);
        vm.expectRevert(abi.encodeWithSelector(Rollup.UnknownBatch.selector, 0));
        rollup.publicInputs(0);
    }

    function testFinalizeErrors() public {
        vm.expectRevert(abi.encodeWithSelector(Rollup.NotNextBatch.selector, 1, 2));
        rollup.finalizeBatch(2);
        vm.expectRevert(abi.encodeWithSelector(Rollup.UnknownBatch.selector, 1));
        rollup.finalizeBatch(1);
        _commit(_commitInput(1, 0));
        _commit(_commitInput(2, 0));
        vm.expectRevert(abi.encodeWithSelector(Rollup.NotProven.selector, 1));
        rollup.finalizeBatch(1);
        vm.prank(prover);
        rollup.proveBatch(2, GOOD_PROOF); // out-of-order proof is fine
        vm.expectRevert(abi.encodeWithSelector(Rollup.NotNextBatch.selector, 1, 2));
        rollup.finalizeBatch(2);
        vm.prank(prover);
        rollup.proveBatch(1, GOOD_PROOF);
        rollup.finalizeBatch(1);
        rollup.finalizeBatch(2);
        vm.expectRevert(abi.encodeWithSelector(Rollup.NotFinalized.selector, 3));
        rollup.finalizedWithdrawalRoot(3);
        vm.expectRevert(abi.encodeWithSelector(Rollup.UnknownBatch.selector, 2));
        rollup.proveBatch(2, GOOD_PROOF);
    }

    // ------------------------------------------------------------ revert

    function testRevertUnprovenBatchAndLater() public {
        _deposit(alice, alice, E18);
        _commit(_commitInput(1, 1));
        _commit(_commitInput(2, 0));
        vm.prank(prover);
        rollup.proveBatch(2, GOOD_PROOF);
        vm.expectRevert(abi.encodeWithSelector(Rollup.CannotRevert.selector, 1));
        rollup.revertBatches(1);
        vm.warp(block.timestamp + 1 days + 1);
        vm.expectRevert(abi.encodeWithSelector(Rollup.CannotRevert.selector, 2));
        rollup.revertBatches(2); // proven
        vm.expectEmit();
        emit Rollup.BatchesReverted(1, 2);
        rollup.revertBatches(1);
        assertEq(uint256(rollup.lastCommittedBatch()), 0, "all dropped");
        assertEq(rollup.committedQueueHead(), 0, "queue head back");
        vm.expectRevert(abi.encodeWithSelector(Rollup.UnknownBatch.selector, 1));
        rollup.revertBatches(1);
        // re-commit index 1 with different content; old proof state is cleared
        CommitInput memory c = _commitInput(1, 1);
        c.newStateRoot = keccak256("other");
        c.rejectedDeposits = new uint64[](1);
        _commit(c);
        assertEq(rollup.batch(1).prover, address(0), "unproven");
        vm.prank(prover);
        rollup.proveBatch(1, GOOD_PROOF);
        rollup.finalizeBatch(1);
        assertTrue(rollup.isDepositRejected(0), "rejected");
    }

    // ------------------------------------------------------------ escape hatch

    function testEscapeModeAfterWindow() public {
        _commitProveFinalize(_commitInput(1, 0));
        uint256 t = block.timestamp;
        vm.expectRevert(abi.encodeWithSelector(Rollup.EscapeModeNotReady.selector, t + 604_800 + 1));
        rollup.activateEscapeMode();
        _commit(_commitInput(2, 0));
        vm.warp(t + 604_800 + 1);
        assertTrue(rollup.isEscapeMode(), "window passed");
        vm.prank(prover);
        vm.expectRevert(Rollup.EscapeModeActive.selector);
        rollup.proveBatch(2, GOOD_PROOF);
        vm.prank(seq);
        vm.expectRevert(Rollup.EscapeModeActive.selector);
        rollup.commitBatch(_commitInput(3, 0));
        vm.expectRevert(Rollup.EscapeModeActive.selector);
        rollup.finalizeBatch(2);
        vm.expectRevert(Rollup.EscapeModeActive.selector);
        rollup.revertBatches(2);
        vm.expectRevert(Rollup.EscapeModeActive.selector);
        rollup.sendMessage(alice, "");
        vm.expectEmit();
        emit Rollup.EscapeModeActivated(1, keccak256(abi.encode("state", uint64(1))));
        rollup.activateEscapeMode();
        assertTrue(rollup.escapeMode(), "latched");
        rollup.activateEscapeMode(); // idempotent
        vm.prank(tl);
        vm.expectRevert(Rollup.EscapeModeActive.selector);
        rollup.setEscapeWindow(10 days);
    }

    // ------------------------------------------------------------ governance

    function testOnlyTimelockSetsParameters() public {
        bytes[] memory calls = new bytes[](9);
        calls[0] = abi.encodeCall(Rollup.setVerifier, (alice));
        calls[1] = abi.encodeCall(Rollup.setSequencer, (alice));
        calls[2] = abi.encodeCall(Rollup.setGuardian, (alice));
        calls[3] = abi.encodeCall(Rollup.setForceInclusionDeadline, (1));
        calls[4] = abi.encodeCall(Rollup.setProofTimeout, (1));
        calls[5] = abi.encodeCall(Rollup.setEscapeWindow, (1));
        calls[6] = abi.encodeCall(Rollup.setProverReward, (1));
        calls[7] = abi.encodeCall(Rollup.setMinSequencerStake, (1));
        calls[8] = abi.encodeCall(Rollup.withdrawProverPool, (alice, 1));
        address[3] memory who = [alice, g1, seq];
        for (uint256 w = 0; w < 3; w++) {
            for (uint256 i = 0; i < calls.length; i++) {
                vm.prank(who[w]);
                (bool ok, bytes memory ret) = address(rollup).call(calls[i]);
                assertFalse(ok, "not timelock");
                assertEq(ret, abi.encodeWithSelector(Rollup.NotTimelock.selector, who[w]), "error");
            }
        }
    }

    function testTimelockSetters() public {
        vm.startPrank(tl);
        rollup.setVerifier(alice);
        rollup.setSequencer(bob);
        rollup.setGuardian(carol);
        rollup.setForceInclusionDeadline(60);
        rollup.setProofTimeout(2 days);
        rollup.setEscapeWindow(3 days);
        rollup.setProverReward(1);
        rollup.setMinSequencerStake(2);
        vm.expectRevert(Rollup.ZeroAddress.selector);
        rollup.setSequencer(address(0));
        vm.expectRevert(Rollup.ZeroAddress.selector);
        rollup.setGuardian(address(0));
        vm.expectRevert(abi.encodeWithSelector(Rollup.InvalidWindows.selector, 0, 3 days));
        rollup.setProofTimeout(0);
        vm.expectRevert(abi.encodeWithSelector(Rollup.InvalidWindows.selector, 3 days, 3 days));
        rollup.setProofTimeout(3 days);
        vm.expectRevert(abi.encodeWithSelector(Rollup.InvalidWindows.selector, 2 days, 2 days));
        rollup.setEscapeWindow(2 days);
        vm.expectRevert(Rollup.ZeroAddress.selector);
        rollup.withdrawProverPool(address(0), 1);
        vm.expectRevert(Rollup.ZeroAmount.selector);
        rollup.withdrawProverPool(alice, 0);
        uint256 pool = rollup.proverPool();
        vm.expectRevert(abi.encodeWithSelector(Rollup.InsufficientPool.selector, pool, pool + 1));
        rollup.withdrawProverPool(alice, pool + 1);
        vm.stopPrank();
        assertEq(rollup.verifier(), alice, "verifier");
        assertEq(rollup.sequencer(), bob, "sequencer");
        assertEq(rollup.guardian(), carol, "guardian");
        assertEq(uint256(rollup.forceInclusionDeadline()), 60, "deadline");
        assertEq(uint256(rollup.proofTimeout()), 2 days, "timeout");
        assertEq(uint256(rollup.escapeWindow()), 3 days, "window");
        assertEq(rollup.proverReward(), 1, "reward");
        assertEq(rollup.minSequencerStake(), 2, "min");
        vm.expectRevert(Rollup.ZeroAmount.selector);
        rollup.fundProverPool(0);
    }

    function testConstructorErrors() public {
        Rollup.Config memory c = Rollup.Config({
            token: IERC20(address(token)),
            bridge: address(bridge),
            staking: staking,
            timelock: tl,
            guardian: address(guardian),
            verifier: address(0),
            sequencer: seq,
            l2ChainId: 1,
            genesisStateRoot: 0,
            forceInclusionDeadline: 1,
            proofTimeout: 10,
            escapeWindow: 10,
            proverReward: 0
        });
        vm.expectRevert(abi.encodeWithSelector(Rollup.InvalidWindows.selector, 10, 10));
        new Rollup(c);
        c.sequencer = address(0);
        vm.expectRevert(Rollup.ZeroAddress.selector);
        new Rollup(c);
    }

    function testFuzzForcedInclusionDeadline(uint256 wait, uint256 consume) public {
        wait = bound(wait, 0, 3 hours);
        _deposit(alice, alice, E18);
        _deposit(bob, bob, E18);
        consume = bound(consume, 0, 2);
        uint256 t = block.timestamp;
        vm.warp(t + wait);
        vm.prank(seq);
        if (consume < 2 && wait >= 3600) {
            vm.expectRevert(abi.encodeWithSelector(Rollup.QueueEntryOverdue.selector, consume, t));
        }
        rollup.commitBatch(_commitInput(1, uint64(consume)));
    }
}
