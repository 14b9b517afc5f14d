// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "./base/Fixture.sol";
import {CommitInput, Slash} from "../src/RollupTypes.sol";
import {Rollup} from "../src/Rollup.sol";
import {IVerifier} from "../src/interfaces/IVerifier.sol";

/// The Rollup settles a batch with a real ctm-prover proof checked by the real STARK verifier,
/// installed through the timelock (the governance path to upgrade the verifier).
contract RollupStarkProofTest is Fixture {
    bytes internal pi;
    bytes internal proof;
    address internal stark;

    function setUp() public {
        string memory json = vm.readFile(string.concat(vm.projectRoot(), "/test/fixtures/batch-8.json"));
        pi = vm.parseJsonBytes(json, ".publicInputs");
        proof = vm.parseJsonBytes(json, ".proof");
        bytes memory data = vm.parseJsonBytes(json, ".batchData");
        _deployPresetAt("computronium", _word(2));
        stark = _deployStarkVerifier();
        vm.prank(tl);
        rollup.setVerifier(stark);
        _enqueueBenchQueue();
        CommitInput memory c;
        c.batchIndex = 1;
        c.newStateRoot = _word(3);
        c.withdrawalRoot = _word(9);
        c.queueCount = 5;
        c.feesBurned = uint256(_word(10));
        c.batchData = data;
        c.rejectedDeposits = new uint64[](1);
        c.rejectedDeposits[0] = 4;
        c.slashes = new Slash[](0);
        _commit(c);
    }

    /// `prover/src/bench.rs::account(i)`.
    function _benchAccount(uint64 i) internal pure returns (address) {
        uint64 hi;
        unchecked {
            hi = (i * 0x9e3779b97f4a7c15) | 1;
        }
        return address(uint160((uint256(hi) << 96) | uint256(i)));
    }

    /// The 5 queue entries of batch-8 (`Workload::with_deposits(5)`), enqueued through the real
    /// Rollup at the timestamps the workload gives them: deposits 0, 1, 2 and 4 (4 is rejected by
    /// the batch) from the bridge, the message 3 from its sender.
    function _enqueueBenchQueue() internal {
        address sender = address(bytes20(bytes32(type(uint256).max / 255 * 0xd0)));
        for (uint64 k = 0; k < 5; ++k) {
            vm.warp(1_700_000_000 + k);
            address to = k % 2 == 0 ? _benchAccount(k) : address(bytes20(bytes32(type(uint256).max / 255 * (0x40 + k))));
            if (k == 3) {
                vm.prank(sender);
                rollup.sendMessage(to, abi.encodePacked(k));
            } else {
                vm.prank(address(bridge));
                rollup.enqueueDeposit(sender, to, 5000 + k);
            }
        }
    }

    function _word(uint256 i) internal view returns (bytes32 w) {
        bytes memory b = pi;
        assembly {
            w := mload(add(add(b, 32), mul(i, 32)))
        }
    }

    function test_committed_public_inputs_are_the_proven_ones() public view {
        assertEq(keccak256(rollup.encodedPublicInputs(1)), keccak256(pi));
    }

    function test_real_proof_proves_and_finalizes_the_batch() public {
        bytes memory p = proof; // out of storage before measuring
        vm.prank(prover);
        uint256 g = gasleft();
        rollup.proveBatch(1, p);
        emit log_named_uint("proveBatch gas (execution)", g - gasleft());
        rollup.finalizeBatch(1);
        assertEq(rollup.lastFinalizedBatch(), 1);
    }

    function test_direct_verify_gas() public {
        (bytes memory i, bytes memory p) = (pi, proof); // out of storage before measuring
        uint256 g = gasleft();
        assertTrue(IVerifier(stark).verify(i, p), "verify");
        emit log_named_uint("direct verify gas", g - gasleft());
    }

    function test_tampered_proof_is_refused() public {
        bytes memory bad = bytes.concat(proof);
        bad[bad.length / 2] = bytes1(uint8(bad[bad.length / 2]) ^ 1);
        vm.prank(prover);
        vm.expectRevert(abi.encodeWithSelector(Rollup.InvalidProof.selector, 1));
        rollup.proveBatch(1, bad);
    }

    function test_only_the_timelock_changes_the_verifier() public {
        vm.expectRevert();
        rollup.setVerifier(address(0xdead));
        assertEq(rollup.verifier(), stark);
    }
}
