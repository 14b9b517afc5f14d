// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Poseidon2
/// @notice Poseidon2 over KoalaBear (p = 2^31 − 2^24 + 1), width 16, x^3 S-box, 4+4 full rounds and
///         20 partial rounds: the permutation of Plonky3 0.8's `default_koalabear_poseidon2_16`, as
///         specified in l1-contracts/test/vectors/poseidon2.json (and ctm-core's reference_permute).
///         Also the sponge and 2-to-1 compression the L2 state tree uses. All elements are canonical
///         (< p) uint256 values.
/// @dev Round constants are packed 4-byte big-endian words: 64 initial external, 20 internal, 64
///      final external (regenerate with tools/poseidon2-constants.py).
library Poseidon2 {
    /// @notice The KoalaBear prime.
    uint256 internal constant P = 0x7f000001;
    /// @notice State width.
    uint256 internal constant WIDTH = 16;
    /// @notice Digest size in field elements.
    uint256 internal constant DIGEST = 8;

    bytes internal constant RC = hex"7ee56a481136704512e419417ebbc12b1970b7d5662b60e83e4990c6679f91f5350813bb00874ad428a0081a18fa58725f25b0715e5d59985e6fd3e75b2e26606f1837bf3fe6182b1edd7ac557470d0043d486d51982c70f0ea53af961d6165b51639c002dec352c2950e5312d2cb94708256cef1a0109f61f51faf35cef1c623d65e50e33d91626133d5a1e0ff49b0d38900cd12c22cc3f28852bb206c65a027b2cf7bc68016e1a15e16bc05248149a6dd212a018d6830a5001be8264dac34e5902b287426583a00c9216323fe028a5245f8e4943bb297e7873dbd93cc987df286bb4ce640a8dcd512a8e3603a4cf55481837a203d6da8473726ac7760e7fdf54dfeb5d7d40afd6722cb316106a457345a7ccdb44061375154077a545744faa4eb5e5ee3794e83f47c7093c5694903c69cb6299373df84c46a0df5846b8758a3241ebcb0b09d2331af423571e66cec243e7dc24259a5d6127e85a3b1b9133fa343e5628485cd4c216e269f5165b60c625f683d9124f81f9174331f977344dc55a821dba5fc4177f54153bf55e3f11943bdbf191088c84a368256c9b3c90bbc66846166a03f4238d463335fb5e3d35516e59ae6f32d06cc0596293f36c87edb208fc60b534bcca8024f007f362731c6f1e1db6c60ca409bb585c1e7856e94edc16d2273418e114677b2c3730770075e435d1b18c22be3db54fb1fbb7477cb3ed7d5311c65b62ae7d559c5fa877f150483211570b490fef6a77ec311f2247171b4e0ac7112edf69c93b5a8850658094215619b4aa362019a76bf9d4ed5b413dff617e181e5e7ab57b33ad78333466c7ca";
bytes internal constant DIAG = hex"7effffff00000001000000023f80000100000003000000043f8000007efffffe7efffffd7e8100016f2000017effff82007f00000fe0000007f000000000007f";

    /// @notice The i-th round constant (0..147: initial external, internal, final external).
    function roundConstant(uint256 i) internal pure returns (uint256 v) {
        bytes memory rc = RC;
        assembly {
            v := shr(224, mload(add(add(rc, 32), mul(i, 4))))
        }
    }

    /// @notice The i-th internal diagonal entry.
    function diag(uint256 i) internal pure returns (uint256 v) {
        bytes memory dg = DIAG;
        assembly {
            v := shr(224, mload(add(add(dg, 32), mul(i, 4))))
        }
    }

    /// @notice Applies the permutation to `s` in place.
    /// @dev Unrolled assembly over the 16 contiguous words of `s` (the internal diagonal is
    ///      inlined as literals, equal to DIAG); intermediate sums stay far below 2^256 and are
    ///      reduced mod p before every multiplication.
    function permute(uint256[16] memory s) internal pure {
        bytes memory rc = RC;
        assembly ("memory-safe") {
            let p := 0x7f000001
            // External layer: M4 on each 4-chunk, then s_i += sum_c s_{4c + (i mod 4)}.
            function ext(st, q) {
                {
                    let a := mload(add(st, 0))
                    let b := mload(add(st, 32))
                    let x := mload(add(st, 64))
                    let d := mload(add(st, 96))
                    mstore(add(st, 0), add(add(add(add(a, a), mul(3, b)), x), d))
                    mstore(add(st, 32), add(add(add(a, add(b, b)), mul(3, x)), d))
                    mstore(add(st, 64), add(add(add(a, b), add(x, x)), mul(3, d)))
                    mstore(add(st, 96), add(add(add(mul(3, a), b), x), add(d, d)))
                }
                {
                    let a := mload(add(st, 128))
                    let b := mload(add(st, 160))
                    let x := mload(add(st, 192))
                    let d := mload(add(st, 224))
                    mstore(add(st, 128), add(add(add(add(a, a), mul(3, b)), x), d))
                    mstore(add(st, 160), add(add(add(a, add(b, b)), mul(3, x)), d))
                    mstore(add(st, 192), add(add(add(a, b), add(x, x)), mul(3, d)))
                    mstore(add(st, 224), add(add(add(mul(3, a), b), x), add(d, d)))
                }
                {
                    let a := mload(add(st, 256))
                    let b := mload(add(st, 288))
                    let x := mload(add(st, 320))
                    let d := mload(add(st, 352))
                    mstore(add(st, 256), add(add(add(add(a, a), mul(3, b)), x), d))
                    mstore(add(st, 288), add(add(add(a, add(b, b)), mul(3, x)), d))
                    mstore(add(st, 320), add(add(add(a, b), add(x, x)), mul(3, d)))
                    mstore(add(st, 352), add(add(add(mul(3, a), b), x), add(d, d)))
                }
                {
                    let a := mload(add(st, 384))
                    let b := mload(add(st, 416))
                    let x := mload(add(st, 448))
                    let d := mload(add(st, 480))
                    mstore(add(st, 384), add(add(add(add(a, a), mul(3, b)), x), d))
                    mstore(add(st, 416), add(add(add(a, add(b, b)), mul(3, x)), d))
                    mstore(add(st, 448), add(add(add(a, b), add(x, x)), mul(3, d)))
                    mstore(add(st, 480), add(add(add(mul(3, a), b), x), add(d, d)))
                }
                {
                    let v0 := mload(add(st, 0))
                    let v1 := mload(add(st, 128))
                    let v2 := mload(add(st, 256))
                    let v3 := mload(add(st, 384))
                    let t := add(add(v0, v1), add(v2, v3))
                    mstore(add(st, 0), mod(add(v0, t), q))
                    mstore(add(st, 128), mod(add(v1, t), q))
                    mstore(add(st, 256), mod(add(v2, t), q))
                    mstore(add(st, 384), mod(add(v3, t), q))
                }
                {
                    let v0 := mload(add(st, 32))
                    let v1 := mload(add(st, 160))
                    let v2 := mload(add(st, 288))
                    let v3 := mload(add(st, 416))
                    let t := add(add(v0, v1), add(v2, v3))
                    mstore(add(st, 32), mod(add(v0, t), q))
                    mstore(add(st, 160), mod(add(v1, t), q))
                    mstore(add(st, 288), mod(add(v2, t), q))
                    mstore(add(st, 416), mod(add(v3, t), q))
                }
                {
                    let v0 := mload(add(st, 64))
                    let v1 := mload(add(st, 192))
                    let v2 := mload(add(st, 320))
                    let v3 := mload(add(st, 448))
                    let t := add(add(v0, v1), add(v2, v3))
                    mstore(add(st, 64), mod(add(v0, t), q))
                    mstore(add(st, 192), mod(add(v1, t), q))
                    mstore(add(st, 320), mod(add(v2, t), q))
                    mstore(add(st, 448), mod(add(v3, t), q))
                }
                {
                    let v0 := mload(add(st, 96))
                    let v1 := mload(add(st, 224))
                    let v2 := mload(add(st, 352))
                    let v3 := mload(add(st, 480))
                    let t := add(add(v0, v1), add(v2, v3))
                    mstore(add(st, 96), mod(add(v0, t), q))
                    mstore(add(st, 224), mod(add(v1, t), q))
                    mstore(add(st, 352), mod(add(v2, t), q))
                    mstore(add(st, 480), mod(add(v3, t), q))
                }
            }
            // Full round: add 16 round constants, cube all, external layer. Returns the next RC pointer.
            function full(st, rcp, q) -> next {
                let w := mload(rcp)
                { let x := addmod(mload(add(st, 0)), and(shr(224, w), 0xffffffff), q) mstore(add(st, 0), mulmod(x, mulmod(x, x, q), q)) }
                { let x := addmod(mload(add(st, 32)), and(shr(192, w), 0xffffffff), q) mstore(add(st, 32), mulmod(x, mulmod(x, x, q), q)) }
                { let x := addmod(mload(add(st, 64)), and(shr(160, w), 0xffffffff), q) mstore(add(st, 64), mulmod(x, mulmod(x, x, q), q)) }
                { let x := addmod(mload(add(st, 96)), and(shr(128, w), 0xffffffff), q) mstore(add(st, 96), mulmod(x, mulmod(x, x, q), q)) }
                { let x := addmod(mload(add(st, 128)), and(shr(96, w), 0xffffffff), q) mstore(add(st, 128), mulmod(x, mulmod(x, x, q), q)) }
                { let x := addmod(mload(add(st, 160)), and(shr(64, w), 0xffffffff), q) mstore(add(st, 160), mulmod(x, mulmod(x, x, q), q)) }
                { let x := addmod(mload(add(st, 192)), and(shr(32, w), 0xffffffff), q) mstore(add(st, 192), mulmod(x, mulmod(x, x, q), q)) }
                { let x := addmod(mload(add(st, 224)), and(shr(0, w), 0xffffffff), q) mstore(add(st, 224), mulmod(x, mulmod(x, x, q), q)) }
                w := mload(add(rcp, 32))
                { let x := addmod(mload(add(st, 256)), and(shr(224, w), 0xffffffff), q) mstore(add(st, 256), mulmod(x, mulmod(x, x, q), q)) }
                { let x := addmod(mload(add(st, 288)), and(shr(192, w), 0xffffffff), q) mstore(add(st, 288), mulmod(x, mulmod(x, x, q), q)) }
                { let x := addmod(mload(add(st, 320)), and(shr(160, w), 0xffffffff), q) mstore(add(st, 320), mulmod(x, mulmod(x, x, q), q)) }
                { let x := addmod(mload(add(st, 352)), and(shr(128, w), 0xffffffff), q) mstore(add(st, 352), mulmod(x, mulmod(x, x, q), q)) }
                { let x := addmod(mload(add(st, 384)), and(shr(96, w), 0xffffffff), q) mstore(add(st, 384), mulmod(x, mulmod(x, x, q), q)) }
                { let x := addmod(mload(add(st, 416)), and(shr(64, w), 0xffffffff), q) mstore(add(st, 416), mulmod(x, mulmod(x, x, q), q)) }
                { let x := addmod(mload(add(st, 448)), and(shr(32, w), 0xffffffff), q) mstore(add(st, 448), mulmod(x, mulmod(x, x, q), q)) }
                { let x := addmod(mload(add(st, 480)), and(shr(0, w), 0xffffffff), q) mstore(add(st, 480), mulmod(x, mulmod(x, x, q), q)) }
                ext(st, q)
                next := add(rcp, 64)
            }
            let rcp := add(rc, 32)
            ext(s, p)
            for { let r := 0 } lt(r, 4) { r := add(r, 1) } { rcp := full(s, rcp, p) }
            // Partial rounds: RC on s0, s0^3, internal layer s_i = sum + V_i * s_i.
            for { let r := 0 } lt(r, 20) { r := add(r, 1) } {
                let x := addmod(mload(s), shr(224, mload(rcp)), p)
                rcp := add(rcp, 4)
                mstore(s, mulmod(x, mulmod(x, x, p), p))
                let sum := mload(s)
                sum := add(sum, mload(add(s, 32)))
                sum := add(sum, mload(add(s, 64)))
                sum := add(sum, mload(add(s, 96)))
                sum := add(sum, mload(add(s, 128)))
                sum := add(sum, mload(add(s, 160)))
                sum := add(sum, mload(add(s, 192)))
                sum := add(sum, mload(add(s, 224)))
                sum := add(sum, mload(add(s, 256)))
                sum := add(sum, mload(add(s, 288)))
                sum := add(sum, mload(add(s, 320)))
                sum := add(sum, mload(add(s, 352)))
                sum := add(sum, mload(add(s, 384)))
                sum := add(sum, mload(add(s, 416)))
                sum := add(sum, mload(add(s, 448)))
                sum := add(sum, mload(add(s, 480)))
                sum := mod(sum, p)
                mstore(add(s, 0), addmod(sum, mulmod(0x7effffff, mload(add(s, 0)), p), p))
                mstore(add(s, 32), addmod(sum, mulmod(0x1, mload(add(s, 32)), p), p))
                mstore(add(s, 64), addmod(sum, mulmod(0x2, mload(add(s, 64)), p), p))
                mstore(add(s, 96), addmod(sum, mulmod(0x3f800001, mload(add(s, 96)), p), p))
                mstore(add(s, 128), addmod(sum, mulmod(0x3, mload(add(s, 128)), p), p))
                mstore(add(s, 160), addmod(sum, mulmod(0x4, mload(add(s, 160)), p), p))
                mstore(add(s, 192), addmod(sum, mulmod(0x3f800000, mload(add(s, 192)), p), p))
                mstore(add(s, 224), addmod(sum, mulmod(0x7efffffe, mload(add(s, 224)), p), p))
                mstore(add(s, 256), addmod(sum, mulmod(0x7efffffd, mload(add(s, 256)), p), p))
                mstore(add(s, 288), addmod(sum, mulmod(0x7e810001, mload(add(s, 288)), p), p))
                mstore(add(s, 320), addmod(sum, mulmod(0x6f200001, mload(add(s, 320)), p), p))
                mstore(add(s, 352), addmod(sum, mulmod(0x7effff82, mload(add(s, 352)), p), p))
                mstore(add(s, 384), addmod(sum, mulmod(0x7f0000, mload(add(s, 384)), p), p))
                mstore(add(s, 416), addmod(sum, mulmod(0xfe00000, mload(add(s, 416)), p), p))
                mstore(add(s, 448), addmod(sum, mulmod(0x7f00000, mload(add(s, 448)), p), p))
                mstore(add(s, 480), addmod(sum, mulmod(0x7f, mload(add(s, 480)), p), p))
            }
            for { let r := 0 } lt(r, 4) { r := add(r, 1) } { rcp := full(s, rcp, p) }
        }
    }

    /// @notice compress(l, r) = first 8 elements of permute(l ‖ r).
    function compress(uint256[8] memory l, uint256[8] memory r) internal pure returns (uint256[8] memory out) {
        uint256[16] memory s;
        for (uint256 i = 0; i < 8; i++) {
            s[i] = l[i];
            s[8 + i] = r[i];
        }
        permute(s);
        for (uint256 i = 0; i < 8; i++) {
            out[i] = s[i];
        }
    }

    /// @notice sponge(domain, input): state = 0, state[8] = domain, state[9] = len(input); each
    ///         8-element chunk (the last zero-padded) overwrites state[0..8] and is permuted; an
    ///         empty input permutes once. Digest = state[0..8].
    function sponge(uint256 domain, uint256[] memory input) internal pure returns (uint256[8] memory out) {
        uint256[16] memory s;
        s[8] = domain;
        s[9] = input.length;
        uint256 n = input.length;
        if (n == 0) {
            permute(s);
        } else {
            for (uint256 off = 0; off < n; off += 8) {
                for (uint256 i = 0; i < 8; i++) {
                    s[i] = off + i < n ? input[off + i] : 0;
                }
                permute(s);
            }
        }
        for (uint256 i = 0; i < 8; i++) {
            out[i] = s[i];
        }
    }

    /// @notice Packs 8 canonical elements as big-endian uint32s, element 0 first.
    function pack(uint256[8] memory e) internal pure returns (bytes32 r) {
        uint256 acc;
        for (uint256 i = 0; i < 8; i++) {
            acc = (acc << 32) | e[i];
        }
        r = bytes32(acc);
    }

    /// @notice Unpacks a bytes32 into 8 uint32 elements (not checked for canonicity).
    function unpack(bytes32 r) internal pure returns (uint256[8] memory e) {
        uint256 acc = uint256(r);
        for (uint256 i = 0; i < 8; i++) {
            e[7 - i] = acc & 0xffffffff;
            acc >>= 32;
        }
    }
}
