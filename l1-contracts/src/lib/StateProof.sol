// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Poseidon2} from "./Poseidon2.sol";

/// @title StateProof
/// @notice Verifies an account's membership in the L2 state tree (a depth-32 Poseidon2 sparse
///         Merkle tree over KoalaBear), for the escape hatch. Encoding (ctm-core, see
///         test/vectors/poseidon2.json "spec"):
///         - bytes enter the field as big-endian 16-bit limbs, an odd length padded with a 0 byte;
///         - account key = 0x01 ‖ address (21 bytes → 11 limbs);
///         - account value = uint128 balance ‖ uint64 nonce (24 bytes → 12 limbs);
///         - leaf = sponge(1, limbs(key) ‖ limbs(value)); an empty slot is 8 zeros;
///         - parent = compress(left, right); bit l of the slot (LSB first) says whether the level-l
///           node is a right child; siblings are listed from the leaf level up;
///         - a bytes32 node packs its 8 elements as big-endian uint32s, element 0 first.
library StateProof {
    /// @notice Depth of the L2 state tree (`tree_depth` in every preset).
    uint256 internal constant DEPTH = 32;
    /// @notice Sponge domain of leaves.
    uint256 internal constant DOMAIN_LEAF = 1;

    /// @notice The proof does not have DEPTH siblings.
    error BadProofLength(uint256 length);
    /// @notice The slot does not fit the tree.
    error SlotOutOfRange(uint256 slot);
    /// @notice A sibling holds an element ≥ p.
    error NonCanonicalSibling(uint256 level);

    /// @notice Field-element input of an account leaf: 11 key limbs then 12 value limbs.
    function accountLeafInput(address account, uint128 balance, uint64 nonce)
        internal
        pure
        returns (uint256[] memory input)
    {
        input = new uint256[](23);
        // key = 0x01 ‖ address (21 bytes) padded to 22 bytes: 0x01 a0 | a1 a2 | ... | a19 00
        uint256 a = uint160(account);
        input[0] = (0x01 << 8) | (a >> 152);
        for (uint256 i = 1; i < 10; i++) {
            // bytes a[2i-1], a[2i] of the 20-byte address (a[0] is the most significant)
            input[i] = (a >> (8 * (20 - 2 * i - 1))) & 0xffff;
        }
        input[10] = (a & 0xff) << 8;
        // value = balance (16 bytes) ‖ nonce (8 bytes) = 24 bytes = 12 limbs
        uint256 v = (uint256(balance) << 64) | uint256(nonce);
        for (uint256 i = 0; i < 12; i++) {
            input[11 + i] = (v >> (16 * (11 - i))) & 0xffff;
        }
    }

    /// @notice Leaf digest of an account.
    function accountLeaf(address account, uint128 balance, uint64 nonce) internal pure returns (uint256[8] memory) {
        return Poseidon2.sponge(DOMAIN_LEAF, accountLeafInput(account, balance, nonce));
    }

    /// @notice Root reached from a leaf digest at `slot` with `siblings` (leaf level first).
    function rootFrom(uint256[8] memory leaf, uint256 slot, bytes32[] calldata siblings)
        internal
        pure
        returns (bytes32)
    {
        if (siblings.length != DEPTH) revert BadProofLength(siblings.length);
        if (slot >> DEPTH != 0) revert SlotOutOfRange(slot);
        uint256[8] memory node = leaf;
        for (uint256 l = 0; l < DEPTH; l++) {
            uint256[8] memory sib = Poseidon2.unpack(siblings[l]);
            for (uint256 i = 0; i < 8; i++) {
                if (sib[i] >= Poseidon2.P) revert NonCanonicalSibling(l);
            }
            node = (slot >> l) & 1 == 0 ? Poseidon2.compress(node, sib) : Poseidon2.compress(sib, node);
        }
        return Poseidon2.pack(node);
    }

    /// @notice Whether (account, balance, nonce) sits at `slot` under `root`.
    function verifyAccount(
        bytes32 root,
        address account,
        uint128 balance,
        uint64 nonce,
        uint256 slot,
        bytes32[] calldata siblings
    ) internal pure returns (bool) {
        return rootFrom(accountLeaf(account, balance, nonce), slot, siblings) == root;
    }
}
