// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title WithdrawalTree
/// @notice The L2→L1 withdrawal Merkle tree of one batch: an indexed (positional) binary keccak tree.
///         leaf_i = keccak256(abi.encode(uint256 i, address recipient, uint256 amount)); the n leaves
///         are padded with bytes32(0) to the next power of two (a single leaf is its own root);
///         parent = keccak256(abi.encodePacked(left, right)); an empty batch has root bytes32(0).
///         A proof lists the siblings from the leaf up; bit k of the index says whether the node
///         at level k is a right child (1) or a left child (0).
library WithdrawalTree {
    /// @notice The proof is longer than 64 levels.
    error ProofTooLong(uint256 length);
    /// @notice The index does not fit the proof's depth.
    error IndexOutOfRange(uint256 index, uint256 depth);

    /// @notice The leaf hash of a withdrawal.
    /// @param index Position of the withdrawal in the batch's list.
    /// @param recipient L1 recipient.
    /// @param amount Amount in base units.
    /// @return The leaf.
    function leaf(uint256 index, address recipient, uint256 amount) internal pure returns (bytes32) {
        return keccak256(abi.encode(index, recipient, amount));
    }

    /// @notice The root of a whole list of leaves: padded with bytes32(0) to a power of two, a
    ///         single leaf is its own root, no leaf gives bytes32(0).
    /// @param leaves The leaves in order.
    /// @return The root.
    function rootOfLeaves(bytes32[] memory leaves) internal pure returns (bytes32) {
        uint256 n = leaves.length;
        if (n == 0) return bytes32(0);
        uint256 size = 1;
        while (size < n) size <<= 1;
        bytes32[] memory level = new bytes32[](size);
        for (uint256 i = 0; i < n; i++) {
            level[i] = leaves[i];
        }
        for (; size > 1; size >>= 1) {
            for (uint256 i = 0; i < size / 2; i++) {
                level[i] = keccak256(abi.encodePacked(level[2 * i], level[2 * i + 1]));
            }
        }
        return level[0];
    }

    /// @notice Recomputes the root from a leaf, its index and its siblings.
    /// @param leafHash The leaf.
    /// @param index The leaf index.
    /// @param proof Siblings from the leaf level up.
    /// @return node The root.
    function rootFrom(bytes32 leafHash, uint256 index, bytes32[] calldata proof) internal pure returns (bytes32 node) {
        uint256 depth = proof.length;
        if (depth > 64) revert ProofTooLong(depth);
        if ((index >> depth) != 0) revert IndexOutOfRange(index, depth);
        node = leafHash;
        for (uint256 i = 0; i < depth; i++) {
            node = (index >> i) & 1 == 0
                ? keccak256(abi.encodePacked(node, proof[i]))
                : keccak256(abi.encodePacked(proof[i], node));
        }
    }
}
