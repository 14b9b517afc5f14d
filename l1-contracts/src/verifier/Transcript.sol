// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {KoalaBear} from "./KoalaBear.sol";

/// @title Transcript
/// @notice Plonky3's `SerializingChallenger32<KoalaBear, HashChallenger<u8, Keccak256Hash, 32>>`:
///         observing appends bytes to a buffer; sampling hashes the buffer with keccak-256 when
///         no output is left, replaces the buffer with the digest, and pops digest bytes from its
///         end. Field elements are observed as their Montgomery u32, little endian.
library Transcript {
    /// @notice The challenger state. `buf` points at a memory region of `cap` bytes.
    struct State {
        uint256 buf;
        uint256 len;
        uint256 cap;
        uint256 out;
        uint256 left;
    }

    /// @notice The transcript buffer would overflow (a bug: the capacity is sized from the proof).
    error TranscriptOverflow();

    /// @notice A fresh state with a buffer of `cap` bytes.
    function init(uint256 cap) internal pure returns (State memory s) {
        uint256 p;
        assembly ("memory-safe") {
            p := mload(0x40)
            mstore(0x40, add(p, add(cap, 32)))
        }
        s.buf = p;
        s.cap = cap;
    }

    function _room(State memory s, uint256 n) private pure returns (uint256 dst) {
        if (s.len + n > s.cap) revert TranscriptOverflow();
        dst = s.buf + s.len;
        s.len += n;
        s.left = 0;
    }

    /// @notice Observes `n` calldata bytes at `off`.
    function observeCalldata(State memory s, uint256 off, uint256 n) internal pure {
        uint256 dst = _room(s, n);
        assembly ("memory-safe") {
            calldatacopy(dst, off, n)
        }
    }

    /// @notice Observes a memory byte string.
    function observeBytes(State memory s, bytes memory b) internal pure {
        uint256 n = b.length;
        uint256 dst = _room(s, n);
        assembly ("memory-safe") {
            mcopy(dst, add(b, 32), n)
        }
    }

    /// @notice Pops one output byte, hashing the buffer when none is left.
    function popByte(State memory s) internal pure returns (uint256 b) {
        if (s.left == 0) {
            uint256 p = s.buf;
            uint256 n = s.len;
            uint256 d;
            assembly ("memory-safe") {
                d := keccak256(p, n)
                mstore(p, d)
            }
            s.len = 32;
            s.out = d;
            s.left = 32;
        }
        b = (s.out >> (8 * (32 - s.left))) & 0xff;
        s.left -= 1;
    }

    /// @notice A u32 from four popped bytes, the first the least significant.
    function sampleU32(State memory s) internal pure returns (uint256 v) {
        uint256 left = s.left;
        if (left >= 4) {
            // The next four pops are digest bytes left-1 .. left-4: as a big-endian number
            // they are already in the order the u32 wants.
            s.left = left - 4;
            return (s.out >> (8 * (32 - left))) & 0xffffffff;
        }
        v = popByte(s);
        v |= popByte(s) << 8;
        v |= popByte(s) << 16;
        v |= popByte(s) << 24;
    }

    /// @notice A uniform base element: u32 & (2^31 - 1), redrawn while ≥ p.
    function sampleBase(State memory s) internal pure returns (uint256 v) {
        do {
            v = sampleU32(s) & 0x7fffffff;
        } while (v >= KoalaBear.P);
    }

    /// @notice An extension element, coefficient 0 first.
    function sampleExt(State memory s) internal pure returns (uint256 e) {
        e = sampleBase(s);
        e |= sampleBase(s) << 64;
        e |= sampleBase(s) << 128;
        e |= sampleBase(s) << 192;
    }

    /// @notice The low `bits` bits of a sampled u32 (no rejection).
    function sampleBits(State memory s, uint256 bits) internal pure returns (uint256) {
        return sampleU32(s) & ((1 << bits) - 1);
    }
}
