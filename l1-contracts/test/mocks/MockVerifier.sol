// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IVerifier} from "../../src/interfaces/IVerifier.sol";

/// @title MockVerifier — TEST CODE ONLY, NEVER DEPLOY.
/// @notice Accepts any proof whose first byte is 0x01 (and rejects everything else) without
///         checking anything about the public inputs. It exists only so the tests can drive the
///         Rollup; production uses the STARK verifier set by governance. It also records the last
///         public inputs seen so tests can check their encoding, and can be told to revert.
contract MockVerifier is IVerifier {
    error MockVerifierRevert();

    bool public shouldRevert;

    function setShouldRevert(bool v) external {
        shouldRevert = v;
    }

    /// @inheritdoc IVerifier
    function verify(bytes calldata publicInputs, bytes calldata proof) external view returns (bool) {
        if (shouldRevert) revert MockVerifierRevert();
        // Touch the inputs so a wrong length is at least visible in traces.
        return publicInputs.length == 13 * 32 && proof.length > 0 && proof[0] == 0x01;
    }
}
