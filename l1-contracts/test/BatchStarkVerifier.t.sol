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

    /// The proof's withdrawal list (3 entries in batch-8) must hash to `withdrawalRoot`, and its
    /// amounts are public values of the proof: a list that hashes to a new root still fails.
    function test_withdrawal_list_is_checked_against_the_root_and_the_proof() public {
        (bytes memory pi, bytes memory proof) = _load(FIXTURES[1]);
        uint256 list = proof.length - 1 - 36 * 3;
        assertEq(uint8(proof[list]), 3);
        assertEq(_listRoot(proof, list, 3), bytes32(vm.parseJsonBytes32(_json(FIXTURES[1]), ".withdrawalRoot")));
        assertTrue(_accepts(pi, proof));
        bytes32 tooMany = bytes32(BatchStarkVerifier.TooManyWithdrawals.selector);
        assertEq(_selector(_revertData(pi, _with(proof, list, 17))), tooMany);
        assertEq(_selector(_revertData(pi, _with(proof, list, 2))), bytes32(BatchStarkVerifier.ProofTooLong.selector));
        assertEq(_selector(_revertData(pi, _with(proof, list, 4))), bytes32(BatchStarkVerifier.ProofTooShort.selector));
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

    function test_seeds_with_another_public_value_layout_are_refused() public {
        IConstraintEvaluator c = v.constraints();
        BatchVerifierSeeds odd = BatchVerifierSeeds(address(new MismatchedSeeds()));
        vm.expectRevert(abi.encodeWithSelector(BatchStarkVerifier.PublicValueLayout.selector, 208, 16));
        new BatchStarkVerifier(c, odd);
    }

    function test_proofs_are_not_interchangeable() public {
        (bytes memory pi1,) = _load(FIXTURES[0]);
        (, bytes memory proof8) = _load(FIXTURES[1]);
        assertFalse(_accepts(pi1, proof8), "proof of another batch accepted");
    }
}
