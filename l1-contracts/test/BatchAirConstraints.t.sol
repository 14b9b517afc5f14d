// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "./base/Test.sol";
import {BatchAirConstraints} from "../src/verifier/BatchAirConstraints.sol";
import {BatchAirProgram} from "../src/verifier/BatchAirProgram.sol";

/// @notice The cheatcode base/Vm.sol does not declare.
interface VmJsonBytes {
    function parseJsonBytes(string calldata json, string calldata key) external pure returns (bytes memory);
}

/// Checks BatchAirConstraints against test/vectors/constraints.json, whose expected accumulators
/// come from Plonky3's VerifierConstraintFolder (written by
/// `cargo run --release -p ctm-prover --example export-constraints`).
contract BatchAirConstraintsTest is Test {
    uint256 internal constant P = 0x7f000001;
    /// @notice Gas budget of one evaluate() call at depth 32.
    uint256 internal constant GAS_BUDGET = 2_200_000;

    VmJsonBytes internal constant vmJson = VmJsonBytes(address(vm));
    BatchAirConstraints internal evaluator;
    string internal json;

    function setUp() public {
        evaluator = new BatchAirConstraints();
        json = vm.readFile(string.concat(vm.projectRoot(), "/test/vectors/constraints.json"));
    }

    function _input(uint256 v) internal view returns (bytes memory) {
        return vmJson.parseJsonBytes(json, string.concat(".vectors[", vm.toString(v), "].input"));
    }

    function _expected(uint256 v) internal view returns (uint256) {
        return uint256(vm.parseJsonBytes32(json, string.concat(".vectors[", vm.toString(v), "].expected")));
    }

    function _numVectors() internal view returns (uint256 n) {
        while (vm.keyExistsJson(json, string.concat(".vectors[", vm.toString(n), "]"))) n++;
    }

    function _word(bytes memory b, uint256 i) internal pure returns (uint256 w) {
        assembly {
            w := mload(add(add(b, 32), mul(i, 32)))
        }
    }

    function _setWord(bytes memory b, uint256 i, uint256 w) internal pure {
        assembly {
            mstore(add(add(b, 32), mul(i, 32)), w)
        }
    }

    /// @dev Adds 1 (mod p) to lane 0 of word `i`: a different canonical value, public or extension.
    function _bumped(bytes memory input, uint256 i) internal pure returns (bytes memory out) {
        out = bytes.concat(input);
        uint256 w = _word(out, i);
        uint256 lane0 = w & 0xffffffffffffffff;
        _setWord(out, i, (w - lane0) | ((lane0 + 1) % P));
    }

    function testLayoutMatchesTheVectors() public view {
        assertEq(vm.parseJsonUint(json, ".depth"), BatchAirProgram.DEPTH, "depth");
        assertEq(vm.parseJsonUint(json, ".width"), BatchAirProgram.WIDTH, "width");
        assertEq(vm.parseJsonUint(json, ".numPublicValues"), BatchAirProgram.NUM_PUBLIC_VALUES, "publics");
        assertEq(vm.parseJsonUint(json, ".inputWords"), BatchAirProgram.INPUT_WORDS, "input words");
        assertEq(vm.parseJsonUint(json, ".numConstraints"), BatchAirProgram.NUM_CONSTRAINTS, "constraints");
    }

    function testMalformedProgramSelector() public pure {
        // The interpreter reverts with this selector as a literal (no stack slot to spare).
        assertEq(bytes32(BatchAirConstraints.MalformedProgram.selector), bytes32(bytes4(0x774c01ee)), "selector");
    }

    function testDataContractsHoldTheProgram() public view {
        // Two chunks since the deposit list (rule 20) took the program past 24,575 bytes.
        assertEq(BatchAirProgram.NUM_CHUNKS, 2, "two data contracts");
        address[2] memory data = [evaluator.PROGRAM0(), evaluator.PROGRAM1()];
        bytes memory program;
        for (uint256 i = 0; i < 2; ++i) {
            bytes memory code = data[i].code;
            assertEq(uint8(code[0]), 0, "a STOP first");
            assertLe(code.length, 24_576, "EIP-170");
            bytes memory chunk = new bytes(code.length - 1);
            for (uint256 j = 0; j < chunk.length; ++j) {
                chunk[j] = code[j + 1];
            }
            assertEq(keccak256(chunk), keccak256(BatchAirProgram.chunk(i)), "runtime = 0x00 || chunk");
            program = bytes.concat(program, chunk);
        }
        assertEq(program.length, BatchAirProgram.CODE_LENGTH, "the chunks hold the program");
        assertEq(keccak256(program), BatchAirProgram.CODE_HASH, "the whole program: its hash");
        assertLe(address(evaluator).code.length, 24_576, "EIP-170");
    }

    function testMatchesPlonky3Vectors() public {
        uint256 n = _numVectors();
        assertGe(n, 3, "vectors");
        for (uint256 v = 0; v < n; v++) {
            bytes memory call = abi.encodeCall(BatchAirConstraints.evaluate, (_input(v)));
            uint256 gasBefore = gasleft();
            (bool ok, bytes memory ret) = address(evaluator).call(call);
            uint256 used = gasBefore - gasleft();
            assertTrue(ok, "evaluate reverted");
            string memory name = vm.parseJsonString(json, string.concat(".vectors[", vm.toString(v), "].name"));
            assertEq(abi.decode(ret, (uint256)), _expected(v), name);
            // The external call with its calldata prepared: cold account access, call and the
            // evaluator's execution (a transaction would add 21,000 and the calldata cost).
            emit log_named_uint("evaluate() gas", used);
            assertLe(used, GAS_BUDGET, "gas budget");
        }
    }

    /// @dev Every sampled input word the program reads changes the result; sampled unread words
    ///      (public values the AIR ignores) do not.
    function testEachReadWordChangesTheResult() public {
        bytes memory input = _input(0);
        uint256 acc = _expected(0);
        uint256[] memory reads = vm.parseJsonUintArray(json, ".reads");
        uint256 tested;
        for (uint256 j = 0; j < reads.length; j += 23) {
            assertTrue(evaluator.evaluate(_bumped(input, reads[j])) != acc, "read word ignored");
            tested++;
        }
        // The three selectors and alpha.
        uint256 firstPublic = 2 * BatchAirProgram.WIDTH;
        uint256 firstSelector = firstPublic + BatchAirProgram.NUM_PUBLIC_VALUES;
        for (uint256 w = firstSelector; w < BatchAirProgram.INPUT_WORDS; w++) {
            assertTrue(evaluator.evaluate(_bumped(input, w)) != acc, "selector or alpha ignored");
        }
        // The first and last public value read (the last withdrawal amount limb is the last public
        // value), and unread public values: l2ChainId's first limb and batchDataHash's.
        uint256 r;
        while (reads[r] < firstPublic) r++;
        uint256 last = r;
        while (reads[last + 1] < firstSelector) last++;
        assertTrue(evaluator.evaluate(_bumped(input, reads[r])) != acc, "public value ignored");
        assertTrue(evaluator.evaluate(_bumped(input, reads[last])) != acc, "public value ignored");
        assertTrue(reads[r] > firstPublic && reads[last] + 1 == firstSelector, "unread public values");
        assertEq(evaluator.evaluate(_bumped(input, firstPublic)), acc, "unread word changed the result");
        assertEq(evaluator.evaluate(_bumped(input, firstPublic + 4 * 16)), acc, "unread word changed the result");
        emit log_named_uint("read words sampled", tested + 6);
    }

    function testRejectsWrongLength() public {
        bytes memory input = _input(0);
        bytes memory short = new bytes(input.length - 32);
        vm.expectRevert(
            abi.encodeWithSelector(BatchAirConstraints.BadInputLength.selector, short.length, input.length)
        );
        evaluator.evaluate(short);
    }

    function testRejectsNonCanonicalWords() public {
        bytes memory input = _input(0);
        uint256 firstPublic = 2 * BatchAirProgram.WIDTH;
        uint256 alpha = BatchAirProgram.INPUT_WORDS - 1;
        uint256 lastRow = firstPublic - 1;
        uint256[7] memory at =
            [uint256(0), BatchAirProgram.WIDTH + 7, lastRow, lastRow, alpha, firstPublic + 40, firstPublic];
        uint256[7] memory value = [
            P, // lane 0 = p
            _word(input, BatchAirProgram.WIDTH + 7) | (uint256(1) << 255), // lane 3 high bit
            P << 128, // lane 2 = p (a word the unrolled check handles last)
            uint256(P - 1) << 192 | (P << 64), // lane 1 = p
            _word(input, alpha) | (uint256(1) << 100), // lane 1 ≥ 2^32
            P, // public value = p
            uint256(1) << 64 // a public value with an extension lane
        ];
        for (uint256 i = 0; i < at.length; i++) {
            bytes memory bad = bytes.concat(input);
            _setWord(bad, at[i], value[i]);
            vm.expectRevert(BatchAirConstraints.NonCanonicalInput.selector);
            evaluator.evaluate(bad);
        }
        // p − 1 everywhere is canonical (the all-(p − 1) vector also passes).
        _setWord(input, 0, (P - 1) * (1 + (1 << 64) + (1 << 128) + (1 << 192)));
        evaluator.evaluate(input);
    }
}
