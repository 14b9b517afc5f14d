// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IVerifier
/// @notice Validity-proof verifier used by the Rollup. `publicInputs` is `abi.encode(PublicInputs)`
///         (see `RollupTypes.sol` and docs/contracts.md); the real STARK verifier implements this.
interface IVerifier {
    /// @notice Checks `proof` for the batch statement `publicInputs`.
    /// @param publicInputs ABI-encoded `PublicInputs` struct (13 words, 416 bytes).
    /// @param proof The proof bytes, in the prover's encoding.
    /// @return True if and only if the proof is valid for these public inputs.
    function verify(bytes calldata publicInputs, bytes calldata proof) external view returns (bool);
}
