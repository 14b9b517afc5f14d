// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "./base/Test.sol";
import {BatchStarkVerifier, IConstraintEvaluator} from "../src/verifier/BatchStarkVerifier.sol";
import {BatchVerifierSeeds} from "../src/verifier/BatchVerifierSeeds.sol";
import {BatchAirConstraints} from "../src/verifier/BatchAirConstraints.sol";

/// Runs the verifier phase by phase and reports each phase's gas (docs/benchmarks.md).
contract PhaseHarness is BatchStarkVerifier {
    constructor(IConstraintEvaluator c, BatchVerifierSeeds s) BatchStarkVerifier(c, s) {}

    function phases(bytes calldata pi, bytes calldata proof) external view returns (uint256[9] memory g) {
        uint256 t = gasleft();
        Ctx memory c = _layout(proof);
        (uint256[] memory pv, bytes memory pvMont) = _publicValues(pi, c);
        g[0] = t - gasleft();
        t = gasleft();
        _transcript(c, pvMont);
        g[1] = t - gasleft();
        t = gasleft();
        _checkConstraints(c, pv);
        g[2] = t - gasleft();
        t = gasleft();
        Fri memory f = _prepare(c);
        g[3] = t - gasleft();
        t = gasleft();
        bytes32[] memory traceLeaves = new bytes32[](QUERIES);
        bytes32[] memory quotLeaves = new bytes32[](QUERIES);
        for (uint256 q = 0; q < QUERIES; ++q) {
            (traceLeaves[q], quotLeaves[q]) = _openQuery(c, f, q);
        }
        g[4] = t - gasleft();
        t = gasleft();
        _merkle(c, traceLeaves, 0, c.h, _root(c.base + 2), 0);
        _merkle(c, quotLeaves, 0, c.h, _root(c.base + 34), 1);
        g[5] = t - gasleft();
        t = gasleft();
        uint256 shift = 0;
        for (uint256 r = 0; r < c.ks.length; ++r) {
            (uint256 fold, uint256 merkle) = _round(c, f, r, shift);
            g[6] += fold;
            g[7] += merkle;
            shift += c.ks[r];
        }
        t = gasleft();
        _checkFinal(c, f, shift);
        g[8] = t - gasleft();
    }

    function _round(Ctx memory c, Fri memory f, uint256 r, uint256 shift)
        internal
        view
        returns (uint256 fold, uint256 merkle)
    {
        uint256 t = gasleft();
        bytes32[] memory leaves = _foldLayer(c, f, r, shift);
        fold = t - gasleft();
        t = gasleft();
        uint256 k = c.ks[r];
        _merkle(c, leaves, shift + k, c.h - shift - k, _root(c.offRoots + 32 * r), 2 + r);
        merkle = t - gasleft();
    }
}

contract BatchStarkVerifierProfileTest is Test {
    function test_gas_by_phase() public {
        PhaseHarness h = new PhaseHarness(IConstraintEvaluator(address(new BatchAirConstraints())), new BatchVerifierSeeds());
        string[3] memory fixtures = ["batch-1.json", "batch-8.json", "batch-60.json"];
        string[9] memory names = [
            "decode + public values + withdrawal root",
            "transcript",
            "constraints at zeta",
            "FRI batching powers",
            "query openings",
            "trace + quotient Merkle",
            "FRI folds (rows, leaf hashes)",
            "FRI round Merkle multiproofs",
            "final polynomial"
        ];
        for (uint256 i = 0; i < fixtures.length; ++i) {
            string memory json = vm.readFile(string.concat(vm.projectRoot(), "/test/fixtures/", fixtures[i]));
            uint256[9] memory g = h.phases(vm.parseJsonBytes(json, ".publicInputs"), vm.parseJsonBytes(json, ".proof"));
            emit log(fixtures[i]);
            for (uint256 k = 0; k < 9; ++k) {
                assertTrue(g[k] > 0, names[k]);
                emit log_named_uint(names[k], g[k]);
            }
        }
    }
}
