// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "./base/Test.sol";
import {BatchStarkVerifier, IConstraintEvaluator} from "../src/verifier/BatchStarkVerifier.sol";
import {BatchVerifierSeeds} from "../src/verifier/BatchVerifierSeeds.sol";
import {BatchAirConstraints} from "../src/verifier/BatchAirConstraints.sol";
import {WithdrawalTree} from "../src/lib/WithdrawalTree.sol";

/// Parameters of a seeds contract whose public-value count does not match its withdrawal list
/// (only for the constructor check).
contract MismatchedSeeds {
    function WIDTH() external pure returns (uint256) {
        return 555;
    }

    function NUM_QUERIES() external pure returns (uint256) {
        return 33;
    }

    function LOG_BLOWUP() external pure returns (uint256) {
        return 3;
    }

    function POW_BITS() external pure returns (uint256) {
        return 16;
    }

    function LOG_ARITY() external pure returns (uint256) {
        return 3;
    }

    function LOG_FINAL_POLY_LEN() external pure returns (uint256) {
        return 3;
    }

    function MIN_DEGREE_BITS() external pure returns (uint256) {
        return 7;
    }

    function MAX_DEGREE_BITS() external pure returns (uint256) {
        return 22;
    }

    function NUM_PUBLIC_VALUES() external pure returns (uint256) {
        return 208;
    }

    function MAX_WITHDRAWALS() external pure returns (uint256) {
        return 16;
    }

    function MAX_QUEUE_ENTRIES() external pure returns (uint256) {
        return 16;
    }
}

/// The STARK verifier against real proofs made by ctm-prover (fixtures written by
/// `cargo run --release -p ctm-prover --example export-verifier`; prover/tests/evm.rs fails when
/// the generated seeds are stale and this suite fails when a fixture no longer verifies).
contract BatchStarkVerifierTest is Test {
    BatchStarkVerifier internal v;

    string[3] internal FIXTURES = ["batch-1.json", "batch-8.json", "batch-60.json"];

    function setUp() public {
        v = new BatchStarkVerifier(IConstraintEvaluator(address(new BatchAirConstraints())), new BatchVerifierSeeds());
    }

    function _json(string memory name) internal view returns (string memory) {
        return vm.readFile(string.concat(vm.projectRoot(), "/test/fixtures/", name));
    }

    function _load(string memory name) internal view returns (bytes memory pi, bytes memory proof) {
        string memory json = _json(name);
        pi = vm.parseJsonBytes(json, ".publicInputs");
        proof = vm.parseJsonBytes(json, ".proof");
    }

    /// True iff `verify` returns true; reverts count as rejection.
    function _accepts(bytes memory pi, bytes memory proof) internal view returns (bool) {
        try v.verify(pi, proof) returns (bool ok) {
            return ok;
        } catch {
            return false;
        }
    }

    function _revertData(bytes memory pi, bytes memory proof) internal view returns (bytes memory) {
        try v.verify(pi, proof) returns (bool) {
            return "";
        } catch (bytes memory err) {
            return err;
        }
    }

    /// Also the measurement of scripts/verifier-gas, which sets GAS_FIXTURES.
    function test_verifies_real_proofs_and_reports_gas() public {
        string[] memory names = new string[](FIXTURES.length);
        for (uint256 i = 0; i < FIXTURES.length; ++i) {
            names[i] = FIXTURES[i];
        }
        names = vm.envOr("GAS_FIXTURES", ",", names);
        for (uint256 i = 0; i < names.length; ++i) {
            (bytes memory pi, bytes memory proof) = _load(names[i]);
            uint256 g = gasleft();
            bool ok = v.verify(pi, proof);
            uint256 used = g - gasleft();
            assertTrue(ok, names[i]);
            uint256 nonzero;
            for (uint256 k = 0; k < proof.length; ++k) {
                if (proof[k] != 0) ++nonzero;
            }
            uint256 calldataGas = 16 * nonzero + 4 * (proof.length - nonzero);
            emit log(names[i]);
            emit log_named_uint("  degree bits", uint8(proof[1]));
            emit log_named_uint("  proof bytes", proof.length);
            emit log_named_uint("  verify execution gas", used);
            emit log_named_uint("  proof calldata gas", calldataGas);
        }
    }

    /// Differential test: every mutation in the corpus (single-byte changes spread over the whole
    /// proof, one change per public-input word) gets the Rust verifier's verdict from Solidity.
    function test_mutation_corpus_matches_rust_verdicts() public {
        uint256 proofPositions;
        for (uint256 f = 0; f < FIXTURES.length; ++f) {
            string memory json = _json(FIXTURES[f]);
            bytes memory pi = vm.parseJsonBytes(json, ".publicInputs");
            bytes memory proof = vm.parseJsonBytes(json, ".proof");
            uint256 n = 0;
            while (vm.keyExistsJson(json, string.concat(".mutations[", vm.toString(n), "]"))) ++n;
            for (uint256 i = 0; i < n; ++i) {
                if (_checkMutation(json, string.concat(".mutations[", vm.toString(i), "]"), pi, proof)) {
                    ++proofPositions;
                }
            }
        }
        assertGe(proofPositions, 200, "corpus size");
        emit log_named_uint("proof mutations rejected", proofPositions);
    }

    /// Applies one corpus entry and checks Solidity's verdict against Rust's; true for a proof
    /// mutation.
    function _checkMutation(string memory json, string memory key, bytes memory pi, bytes memory proof)
        internal
        view
        returns (bool isProof)
    {
        uint256 freeMem;
        assembly {
            freeMem := mload(0x40)
        }
        uint256 pos = vm.parseJsonUint(json, string.concat(key, ".pos"));
        uint8 value = uint8(vm.parseJsonUint(json, string.concat(key, ".value")));
        bool rust = vm.parseJsonBool(json, string.concat(key, ".accept"));
        isProof = keccak256(bytes(vm.parseJsonString(json, string.concat(key, ".target")))) == keccak256("proof");
        bytes memory target = isProof ? proof : pi;
        bytes1 old = target[pos];
        target[pos] = bytes1(value);
        bool sol = _accepts(pi, proof);
        target[pos] = old;
        assertEq(sol, rust, key);
        assertFalse(rust, "the Rust verifier accepted a mutated proof");
        // Each external call copies ~100 KB of arguments into memory that is never reused.
        assembly {
            mstore(0x40, freeMem)
        }
    }

    function _with(bytes memory b, uint256 pos, uint8 value) internal pure returns (bytes memory c) {
        c = bytes.concat(b);
        c[pos] = bytes1(value);
    }

    function test_truncated_and_oversized_proofs_revert_with_named_errors() public {
        (bytes memory pi, bytes memory proof) = _load(FIXTURES[0]);
        bytes memory shorter = new bytes(proof.length - 1);
        for (uint256 i = 0; i < shorter.length; ++i) {
            shorter[i] = proof[i];
        }
        assertEq(bytes32(bytes4(_revertData(pi, shorter))), bytes32(BatchStarkVerifier.ProofTooShort.selector));
        bytes memory head = new bytes(100);
        for (uint256 i = 0; i < head.length; ++i) {
            head[i] = proof[i];
        }
        assertEq(bytes32(bytes4(_revertData(pi, head))), bytes32(BatchStarkVerifier.ProofTooShort.selector));
        assertEq(bytes32(bytes4(_revertData(pi, new bytes(1)))), bytes32(BatchStarkVerifier.ProofTooShort.selector));
        assertEq(bytes32(bytes4(_revertData(pi, bytes.concat(proof, hex"00")))), bytes32(BatchStarkVerifier.ProofTooLong.selector));
        assertEq(bytes32(bytes4(_revertData(pi, bytes.concat(proof, new bytes(4096))))), bytes32(BatchStarkVerifier.ProofTooLong.selector));
    }

    function test_bad_header_and_inputs_revert_with_named_errors() public {
        (bytes memory pi, bytes memory proof) = _load(FIXTURES[0]);
        assertEq(bytes32(bytes4(_revertData(pi, _with(proof, 0, 1)))), bytes32(BatchStarkVerifier.BadVersion.selector));
        assertEq(bytes32(bytes4(_revertData(pi, _with(proof, 0, 2)))), bytes32(BatchStarkVerifier.BadVersion.selector));
        assertEq(bytes32(bytes4(_revertData(pi, _with(proof, 0, 4)))), bytes32(BatchStarkVerifier.BadVersion.selector));
        assertEq(bytes32(bytes4(_revertData(pi, _with(proof, 0, 6)))), bytes32(BatchStarkVerifier.BadVersion.selector));
        assertEq(bytes32(bytes4(_revertData(pi, _with(proof, 1, 6)))), bytes32(BatchStarkVerifier.DegreeBitsOutOfRange.selector));
        assertEq(bytes32(bytes4(_revertData(pi, _with(proof, 1, 23)))), bytes32(BatchStarkVerifier.DegreeBitsOutOfRange.selector));
        bytes memory shortPi = new bytes(415);
        assertEq(bytes32(bytes4(_revertData(shortPi, proof))), bytes32(BatchStarkVerifier.BadPublicInputsLength.selector));
        // A claimed evaluation that is not a canonical field element.
        bytes memory bad = bytes.concat(proof);
        for (uint256 i = 66; i < 70; ++i) {
            bad[i] = 0xff;
        }
        assertEq(bytes32(bytes4(_revertData(pi, bad))), bytes32(BatchStarkVerifier.NonCanonicalElement.selector));
        // p in any lane of the first four claimed values (both halves of a calldata word, the
        // top and bottom lanes) is refused as non-canonical; p − 1 there is a valid element
        // (the proof then fails elsewhere).
        for (uint256 e = 0; e < 4; ++e) {
            for (uint256 lane = 0; lane < 4; ++lane) {
                uint256 at = 66 + 16 * e + 4 * lane;
                bytes memory edge = bytes.concat(proof);
                (edge[at], edge[at + 1], edge[at + 2], edge[at + 3]) = (0x01, 0x00, 0x00, 0x7f);
                bytes4 sel = bytes4(_revertData(pi, edge));
                assertEq(bytes32(sel), bytes32(BatchStarkVerifier.NonCanonicalElement.selector));
                edge[at] = 0x00;
                sel = bytes4(_revertData(pi, edge));
                assertTrue(sel != BatchStarkVerifier.NonCanonicalElement.selector, "p - 1 is canonical");
            }
        }
    }

    function test_every_public_input_word_is_bound() public {
        (bytes memory pi, bytes memory proof) = _load(FIXTURES[1]);
        for (uint256 w = 0; w < 13; ++w) {
            for (uint256 b = 0; b < 32; b += 11) {
                bytes memory p2 = _with(pi, 32 * w + b, uint8(pi[32 * w + b]) ^ 0x80);
                assertFalse(_accepts(p2, proof), "public input change accepted");
            }
        }
    }

    function _selector(bytes memory err) internal pure returns (bytes32) {
        return bytes32(bytes4(err));
    }

    /// The root of the withdrawal list at `list` in `proof` (`count` entries).
    function _listRoot(bytes memory proof, uint256 list, uint256 count) internal pure returns (bytes32) {
        bytes32[] memory leaves = new bytes32[](count);
        for (uint256 k = 0; k < count; ++k) {
            uint256 at = list + 1 + 36 * k;
            bytes20 recipient;
            bytes16 amount;
            for (uint256 i = 0; i < 20; ++i) {
                recipient |= bytes20(proof[at + i]) >> (8 * i);
            }
            for (uint256 i = 0; i < 16; ++i) {
                amount |= bytes16(proof[at + 20 + i]) >> (8 * i);
            }
            leaves[k] = WithdrawalTree.leaf(k, address(recipient), uint128(amount));
        }
        return WithdrawalTree.rootOfLeaves(leaves);
    }

    /// Where the lists start in batch-8's proof: 3 withdrawals, 5 queue entries (entry 3 a
    /// message, entry 4 a rejected deposit), 1 rejected deposit, then the 24 token flows.
    function _lists(bytes memory proof) internal pure returns (uint256 wl, uint256 ql, uint256 rl) {
        rl = proof.length - 96 - 1 - 8;
        ql = rl - 1 - 105 * 5;
        wl = ql - 1 - 36 * 3;
    }

    function _reverts(bytes memory pi, bytes memory proof, bytes4[3] memory named) internal view returns (bool) {
        bytes32 sel = _selector(_revertData(pi, proof));
        return sel == bytes32(named[0]) || sel == bytes32(named[1]) || sel == bytes32(named[2]);
    }

    /// The proof's withdrawal list (3 entries in batch-8) must hash to `withdrawalRoot`, and its
    /// amounts are public values of the proof: a list that hashes to a new root still fails.
    function test_withdrawal_list_is_checked_against_the_root_and_the_proof() public {
        (bytes memory pi, bytes memory proof) = _load(FIXTURES[1]);
        (uint256 list,,) = _lists(proof);
        assertEq(uint8(proof[list]), 3);
        assertEq(_listRoot(proof, list, 3), bytes32(vm.parseJsonBytes32(_json(FIXTURES[1]), ".withdrawalRoot")));
        assertTrue(_accepts(pi, proof));
        bytes32 tooMany = bytes32(BatchStarkVerifier.TooManyWithdrawals.selector);
        assertEq(_selector(_revertData(pi, _with(proof, list, 17))), tooMany);
        // Another count shifts the lists after it: a named length error either way.
        bytes4[3] memory lengthErrors = [
            BatchStarkVerifier.ProofTooLong.selector,
            BatchStarkVerifier.ProofTooShort.selector,
            BatchStarkVerifier.TooManyQueueEntries.selector
        ];
        assertTrue(_reverts(pi, _with(proof, list, 2), lengthErrors));
        assertTrue(_reverts(pi, _with(proof, list, 4), lengthErrors));
        bytes32 mismatch = bytes32(BatchStarkVerifier.WithdrawalRootMismatch.selector);
        for (uint256 k = 0; k < 3; ++k) {
            for (uint256 off = 1; off <= 36; off += 35) {
                uint256 pos = list + 36 * k + off; // first recipient byte, last amount byte
                bytes memory forged = _with(proof, pos, uint8(proof[pos]) ^ 1);
                assertEq(_selector(_revertData(pi, forged)), mismatch);
                // With the root the forged list hashes to, the transcript or the AIR refuses it.
                bytes memory pi2 = bytes.concat(pi);
                bytes32 root = _listRoot(forged, list, 3);
                for (uint256 i = 0; i < 32; ++i) {
                    pi2[288 + i] = root[i];
                }
                assertFalse(_accepts(pi2, forged), "forged withdrawal list accepted");
            }
        }
    }

    /// The rolling queue hash of `n` entries at `ql + 1` of `proof`, from `h` (the Rollup's).
    function _queueHash(bytes memory proof, uint256 ql, uint256 n, bytes32 h) internal pure returns (bytes32) {
        for (uint256 k = 0; k < n; ++k) {
            uint256 at = ql + 1 + 105 * k;
            bytes32 w0;
            bytes32 w65;
            assembly {
                w0 := mload(add(add(proof, 32), at))
                w65 := mload(add(add(proof, 32), add(at, 65)))
            }
            bytes32 w8;
            bytes32 w29;
            bytes32 w49;
            bytes32 w97;
            assembly {
                w8 := mload(add(add(proof, 32), add(at, 8)))
                w29 := mload(add(add(proof, 32), add(at, 29)))
                w49 := mload(add(add(proof, 32), add(at, 49)))
                w97 := mload(add(add(proof, 32), add(at, 97)))
            }
            bytes32 e = keccak256(
                abi.encode(
                    uint64(bytes8(w0)),
                    uint8(bytes1(w8)),
                    address(bytes20(bytes32(uint256(w8) << 8))),
                    address(bytes20(w29)),
                    uint256(w49) >> 128,
                    w65,
                    uint64(bytes8(w97))
                )
            );
            h = keccak256(abi.encode(h, e));
        }
        return h;
    }

    function _setWord(bytes memory pi, uint256 word, bytes32 v) internal pure returns (bytes memory p2) {
        p2 = bytes.concat(pi);
        for (uint256 i = 0; i < 32; ++i) {
            p2[32 * word + i] = v[i];
        }
    }

    /// The proof's queue entries (5 in batch-8) must be the public inputs' range and rebuild
    /// `queueHashEnd`; its rejected list must hash to `rejectedDepositsHash` and name consumed
    /// deposits; and the credited deposits they give are public values of the proof: lists that
    /// match new hashes still fail.
    function test_queue_entries_and_rejected_deposits_are_checked_against_l1_and_the_proof() public {
        (bytes memory pi, bytes memory proof) = _load(FIXTURES[1]);
        (, uint256 ql, uint256 rl) = _lists(proof);
        assertEq(uint8(proof[ql]), 5);
        assertEq(uint8(proof[rl]), 1);
        bytes32 start = bytes32(uint256(0));
        assertEq(_queueHash(proof, ql, 5, start), bytes32(vm.parseJsonBytes32(_json(FIXTURES[1]), ".queueHashEnd")));
        assertTrue(_accepts(pi, proof));
        bytes32 tooMany = bytes32(BatchStarkVerifier.TooManyQueueEntries.selector);
        assertEq(_selector(_revertData(pi, _with(proof, ql, 17))), tooMany);
        assertEq(_selector(_revertData(pi, _with(proof, rl, 17))), tooMany);
        // index (low byte), kind, l1Sender, l2Target, amount (low byte), dataHash, timestamp.
        uint8[7] memory fields = [7, 8, 9, 29, 64, 65, 104];
        for (uint256 k = 0; k < 5; ++k) {
            for (uint256 f = 0; f < 7; ++f) {
                uint256 pos = ql + 1 + 105 * k + fields[f];
                bytes memory forged = _with(proof, pos, uint8(proof[pos]) ^ 1);
                bytes32 want = f == 0
                    ? bytes32(BatchStarkVerifier.QueueEntryMismatch.selector)
                    : bytes32(BatchStarkVerifier.QueueHashMismatch.selector);
                assertEq(_selector(_revertData(pi, forged)), want);
                if (f == 0) continue;
                // With the queue hash the forged list rebuilds, the transcript or the AIR refuses.
                bytes memory pi2 = _setWord(pi, 8, _queueHash(forged, ql, 5, start));
                assertFalse(_accepts(pi2, forged), "forged queue entry accepted");
            }
        }
        // The rejected index (4) moved to a message (3), past the range (5), or to deposit 2
        // with the hash L1 would hold for it: refused by the checks, then by the AIR.
        bytes32 bad = bytes32(BatchStarkVerifier.BadRejectedDeposit.selector);
        assertEq(_selector(_revertData(pi, _with(proof, rl + 8, 3))), bad);
        assertEq(_selector(_revertData(pi, _with(proof, rl + 8, 5))), bad);
        bytes memory moved = _with(proof, rl + 8, 2);
        bytes32 mismatch = bytes32(BatchStarkVerifier.RejectedDepositsMismatch.selector);
        assertEq(_selector(_revertData(pi, moved)), mismatch);
        uint256[] memory two = new uint256[](1);
        two[0] = 2;
        bytes memory pi2 = _setWord(pi, 11, keccak256(abi.encodePacked(two)));
        assertFalse(_accepts(pi2, moved), "credits of another rejected list accepted");
    }

    function _int32(bytes memory b, uint256 at) internal pure returns (int256 x) {
        uint32 u = uint32(uint8(b[at])) << 24 | uint32(uint8(b[at + 1])) << 16 | uint32(uint8(b[at + 2])) << 8
            | uint32(uint8(b[at + 3]));
        x = int32(u);
    }

    function _setInt32(bytes memory b, uint256 at, int256 x) internal pure returns (bytes memory c) {
        c = bytes.concat(b);
        uint32 u = uint32(int32(x));
        for (uint256 i = 0; i < 4; ++i) {
            c[at + i] = bytes1(uint8(u >> (24 - 8 * i)));
        }
    }

    /// Rule 21: the proof's token flows (16 account byte sums, 8 `locked` limb differences) must
    /// conserve tokens and be in range; flows that conserve but are not the trace's are refused
    /// by the transcript and the AIR.
    function test_token_flows_are_checked_for_conservation_and_by_the_proof() public {
        (bytes memory pi, bytes memory proof) = _load(FIXTURES[1]);
        uint256 f = proof.length - 96;
        assertTrue(_accepts(pi, proof));
        bytes32 notConserved = bytes32(BatchStarkVerifier.TokensNotConserved.selector);
        bytes32 range = bytes32(BatchStarkVerifier.FlowOutOfRange.selector);
        for (uint256 i = 0; i < 24; ++i) {
            bytes memory more = _setInt32(proof, f + 4 * i, _int32(proof, f + 4 * i) + 1);
            assertEq(_selector(_revertData(pi, more)), notConserved);
        }
        assertEq(_selector(_revertData(pi, _setInt32(proof, f, 1 << 29))), range);
        assertEq(_selector(_revertData(pi, _setInt32(proof, f + 4 * 15, -(1 << 29)))), range);
        assertEq(_selector(_revertData(pi, _setInt32(proof, f + 4 * 16, 1 << 16))), range);
        assertEq(_selector(_revertData(pi, _setInt32(proof, f + 4 * 23, -(1 << 16)))), range);
        // One token moved from the balances to `locked`, 256 tokens between byte sums: conserved,
        // but not what the trace sums.
        bytes memory moved = _setInt32(proof, f + 4 * 15, _int32(proof, f + 4 * 15) - 1);
        moved = _setInt32(moved, f + 4 * 23, _int32(moved, f + 4 * 23) + 1);
        bytes memory shifted = _setInt32(proof, f + 4 * 14, _int32(proof, f + 4 * 14) + 1);
        shifted = _setInt32(shifted, f + 4 * 15, _int32(shifted, f + 4 * 15) - 256);
        for (uint256 k = 0; k < 2; ++k) {
            bytes memory forged = k == 0 ? moved : shifted;
            bytes32 sel = _selector(_revertData(pi, forged));
            assertTrue(sel != notConserved && sel != range, "conserving flows refused as not conserved");
            assertFalse(_accepts(pi, forged), "flows that are not the trace's accepted");
        }
    }

    function test_seeds_with_another_public_value_layout_are_refused() public {
        IConstraintEvaluator c = v.constraints();
        BatchVerifierSeeds odd = BatchVerifierSeeds(address(new MismatchedSeeds()));
        vm.expectRevert(abi.encodeWithSelector(BatchStarkVerifier.PublicValueLayout.selector, 208, 16, 16));
        new BatchStarkVerifier(c, odd);
    }

    function test_proofs_are_not_interchangeable() public {
        (bytes memory pi1,) = _load(FIXTURES[0]);
        (, bytes memory proof8) = _load(FIXTURES[1]);
        assertFalse(_accepts(pi1, proof8), "proof of another batch accepted");
    }
}
