// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title KoalaBear
/// @notice Arithmetic of the KoalaBear field (p = 2^31 - 2^24 + 1) and of its degree-4 binomial
///         extension F[X]/(X^4 - 3), the challenge field of the batch STARK.
/// @dev An extension element is one word: c0 | c1 << 64 | c2 << 128 | c3 << 192, every ci < p.
///      Every function expects canonical inputs and returns canonical outputs.
library KoalaBear {
    /// @notice The prime.
    uint256 internal constant P = 0x7f000001;
    /// @notice 2^32 mod p: Montgomery form is x · 2^32 mod p.
    uint256 internal constant MONT_R = 33554430;
    /// @notice 2^-32 mod p.
    uint256 internal constant MONT_R_INV = 1057030144;
    /// @notice 1/2 mod p.
    uint256 internal constant INV2 = 1065353217;
    /// @notice 1/3 mod p.
    uint256 internal constant INV3 = 710235478;
    /// @notice Multiplicative generator (the coset shift of FRI's domains).
    uint256 internal constant GENERATOR = 3;
    /// @notice Generator of the subgroup of order 2^24.
    uint256 internal constant OMEGA_24 = 0x6ac49f88;
    /// @notice The extension's 1.
    uint256 internal constant ONE = 1;

    uint256 private constant M64 = 0xffffffffffffffff;

    /// @notice x^e mod p.
    function pow(uint256 x, uint256 e) internal pure returns (uint256 r) {
        assembly ("memory-safe") {
            r := 1
            for {} e {} {
                if and(e, 1) { r := mulmod(r, x, P) }
                x := mulmod(x, x, P)
                e := shr(1, e)
            }
        }
    }

    /// @notice 1/x mod p (0 for 0): x^(p-2) with the modexp precompile.
    function inv(uint256 x) internal view returns (uint256 r) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, 32)
            mstore(add(m, 32), 32)
            mstore(add(m, 64), 32)
            mstore(add(m, 96), x)
            mstore(add(m, 128), sub(P, 2))
            mstore(add(m, 160), P)
            if iszero(staticcall(gas(), 0x05, m, 192, m, 32)) { revert(0, 0) }
            r := mload(m)
        }
    }

    /// @notice A generator of the subgroup of order 2^bits (bits ≤ 24).
    function omega(uint256 bits) internal pure returns (uint256 w) {
        assembly ("memory-safe") {
            w := OMEGA_24
            for { let i := bits } lt(i, 24) { i := add(i, 1) } { w := mulmod(w, w, P) }
        }
    }

    /// @notice a + b.
    function add(uint256 a, uint256 b) internal pure returns (uint256 r) {
        assembly ("memory-safe") {
            let s := add(a, b) // lanes < 2^32: no carry between lanes
            r := or(
                or(mod(and(s, M64), P), shl(64, mod(and(shr(64, s), M64), P))),
                or(shl(128, mod(and(shr(128, s), M64), P)), shl(192, mod(shr(192, s), P)))
            )
        }
    }

    /// @notice a - b.
    function sub(uint256 a, uint256 b) internal pure returns (uint256 r) {
        // Add p to every lane of a before subtracting: no lane borrows.
        uint256 pp = P | (P << 64) | (P << 128) | (P << 192);
        assembly ("memory-safe") {
            let s := sub(add(a, pp), b)
            r := or(
                or(mod(and(s, M64), P), shl(64, mod(and(shr(64, s), M64), P))),
                or(shl(128, mod(and(shr(128, s), M64), P)), shl(192, mod(shr(192, s), P)))
            )
        }
    }

    /// @notice a · s for a base element s.
    function scale(uint256 a, uint256 s) internal pure returns (uint256 r) {
        assembly ("memory-safe") {
            r := or(
                or(mulmod(and(a, M64), s, P), shl(64, mulmod(and(shr(64, a), M64), s, P))),
                or(shl(128, mulmod(and(shr(128, a), M64), s, P)), shl(192, mulmod(shr(192, a), s, P)))
            )
        }
    }

    /// @notice a · b in F[X]/(X^4 - 3).
    /// @dev One MUL and one MULMOD (see `dot`): lane m of `mul(a, b)` is c_m and lane m of
    ///      `mulmod(a, b, 2^256 − 1)` is c_m + c_(m+4), so the product's lane m is
    ///      3·(c_m + c_(m+4)) − 2·c_m = c_m + 3·c_(m+4).
    function mul(uint256 a, uint256 b) internal pure returns (uint256 r) {
        assembly ("memory-safe") {
            r := _reduceProduct(mul(a, b), mulmod(a, b, not(0)))
            function _reduceProduct(lo, wr) -> res {
                // 2·(p·2^34 − c_m) keeps the lane positive (c_m < 2^64 < p·2^34).
                let big := shl(34, P)
                let c0 := mod(add(mul(3, and(wr, M64)), shl(1, sub(big, and(lo, M64)))), P)
                let c1 := mod(add(mul(3, and(shr(64, wr), M64)), shl(1, sub(big, and(shr(64, lo), M64)))), P)
                let c2 := mod(add(mul(3, and(shr(128, wr), M64)), shl(1, sub(big, and(shr(128, lo), M64)))), P)
                let c3 := mod(add(mul(3, shr(192, wr)), shl(1, sub(big, shr(192, lo)))), P)
                res := or(or(c0, shl(64, c1)), or(shl(128, c2), shl(192, c3)))
            }
        }
    }

    /// @notice Σ_k a[aStart+k] · b[bStart+k] for k < n; every lane of both canonical.
    /// @dev One MUL and one MULMOD per term instead of sixteen lane products. With lanes below
    ///      2^31, the 512-bit product of two words is Σ_m c_m·2^(64m), m = 0..6, where c_m is
    ///      the m-th coefficient of the unreduced polynomial product and every c_m < 4p^2 < 2^64
    ///      (no carries). So `mul` gives lanes c_0..c_3 and `mulmod(·, ·, 2^256 − 1)` (2^256 ≡ 1)
    ///      gives lanes c_m + c_(m+4), each at most four lane products, again below 2^64. Both are
    ///      summed in 128-bit lanes (even and odd lanes apart); at the end c_m + 3·c_(m+4) =
    ///      3·(c_m + c_(m+4)) − 2·c_m is reduced. Sums stay below 2^(64 + log2 n), under the
    ///      p·2^70 subtracted from, for any n < 2^36.
    function dot(uint256[] memory a, uint256 aStart, uint256[] memory b, uint256 bStart, uint256 n)
        internal
        pure
        returns (uint256 r)
    {
        assembly ("memory-safe") {
            let pa := add(add(a, 32), mul(aStart, 32))
            let pb := add(add(b, 32), mul(bStart, 32))
            let l02 := 0x0000000000000000ffffffffffffffff0000000000000000ffffffffffffffff
            let lowE := 0
            let lowO := 0
            let sumE := 0
            let sumO := 0
            for { let end := add(pa, mul(n, 32)) } lt(pa, end) {
                pa := add(pa, 32)
                pb := add(pb, 32)
            } {
                let x := mload(pa)
                let y := mload(pb)
                let lo := mul(x, y)
                let wr := mulmod(x, y, not(0))
                lowE := add(lowE, and(lo, l02))
                lowO := add(lowO, and(shr(64, lo), l02))
                sumE := add(sumE, and(wr, l02))
                sumO := add(sumO, and(shr(64, wr), l02))
            }
            let m := 0xffffffffffffffffffffffffffffffff
            // Lane m: 3·(c_m + c_(m+4)) − 2·c_m, as 3·sum + 2·(p·2^70 − low) to stay positive.
            let big := shl(70, P)
            let r0 := mod(add(mul(3, and(sumE, m)), mul(2, sub(big, and(lowE, m)))), P)
            let r1 := mod(add(mul(3, and(sumO, m)), mul(2, sub(big, and(lowO, m)))), P)
            let r2 := mod(add(mul(3, shr(128, sumE)), mul(2, sub(big, shr(128, lowE)))), P)
            let r3 := mod(add(mul(3, shr(128, sumO)), mul(2, sub(big, shr(128, lowO)))), P)
            r := or(or(r0, shl(64, r1)), or(shl(128, r2), shl(192, r3)))
        }
    }

    /// @notice One arity-2 FRI fold: (lo + hi)/2 + β·(lo − hi)·sInv/2.
    function fold(uint256 lo, uint256 hi, uint256 beta, uint256 sInv) internal pure returns (uint256 r) {
        uint256 d; // (lo - hi) · sInv / 2
        uint256 h; // (lo + hi) / 2
        assembly ("memory-safe") {
            let k := mulmod(INV2, sInv, P)
            d := or(
                or(
                    mulmod(add(and(lo, M64), sub(P, and(hi, M64))), k, P),
                    shl(64, mulmod(add(and(shr(64, lo), M64), sub(P, and(shr(64, hi), M64))), k, P))
                ),
                or(
                    shl(128, mulmod(add(and(shr(128, lo), M64), sub(P, and(shr(128, hi), M64))), k, P)),
                    shl(192, mulmod(add(shr(192, lo), sub(P, shr(192, hi))), k, P))
                )
            )
            h := mul(add(lo, hi), INV2) // lanes < 2^63: no carries; reduced below
        }
        assembly ("memory-safe") {
            let d0 := and(d, M64)
            let d1 := and(shr(64, d), M64)
            let d2 := and(shr(128, d), M64)
            let d3 := shr(192, d)
            let b0 := and(beta, M64)
            let b1 := and(shr(64, beta), M64)
            let b2 := and(shr(128, beta), M64)
            let b3 := shr(192, beta)
            let c0 := add(add(mul(d0, b0), mul(3, add(add(mul(d1, b3), mul(d2, b2)), mul(d3, b1)))), and(h, M64))
            let c1 := add(add(add(mul(d0, b1), mul(d1, b0)), mul(3, add(mul(d2, b3), mul(d3, b2)))), and(shr(64, h), M64))
            let c2 := add(add(add(add(mul(d0, b2), mul(d1, b1)), mul(d2, b0)), mul(3, mul(d3, b3))), and(shr(128, h), M64))
            let c3 := add(add(add(add(mul(d0, b3), mul(d1, b2)), mul(d2, b1)), mul(d3, b0)), shr(192, h))
            r := or(or(mod(c0, P), shl(64, mod(c1, P))), or(shl(128, mod(c2, P)), shl(192, mod(c3, P))))
        }
    }

    /// @notice [1, a, a^2, …, a^(n-1)] (each step a `mul`).
    function powers(uint256 a, uint256 n) internal pure returns (uint256[] memory v) {
        v = new uint256[](n);
        assembly ("memory-safe") {
            let big := shl(34, P)
            let x := 1
            let p := add(v, 32)
            for { let end := add(p, shl(5, n)) } lt(p, end) { p := add(p, 32) } {
                mstore(p, x)
                let lo := mul(x, a)
                let wr := mulmod(x, a, not(0))
                x := or(
                    or(
                        mod(add(mul(3, and(wr, M64)), shl(1, sub(big, and(lo, M64)))), P),
                        shl(64, mod(add(mul(3, and(shr(64, wr), M64)), shl(1, sub(big, and(shr(64, lo), M64)))), P))
                    ),
                    or(
                        shl(128, mod(add(mul(3, and(shr(128, wr), M64)), shl(1, sub(big, and(shr(128, lo), M64)))), P)),
                        shl(192, mod(add(mul(3, shr(192, wr)), shl(1, sub(big, shr(192, lo)))), P))
                    )
                )
            }
        }
    }

    /// @notice a · X (multiplication by the extension's generator).
    function mulX(uint256 a) internal pure returns (uint256) {
        uint256 top = mulmod(a >> 192, 3, P);
        return ((a << 64) & ~M64) | top;
    }

    /// @notice a^(2^k).
    function square(uint256 a, uint256 k) internal pure returns (uint256) {
        for (uint256 i = 0; i < k; ++i) {
            a = mul(a, a);
        }
        return a;
    }

    /// @notice 1/a (0 for 0), through the norm to the quadratic subfield F[X^2].
    function einv(uint256 a) internal view returns (uint256 r) {
        uint256 c0;
        uint256 c1;
        assembly ("memory-safe") {
            let a0 := and(a, M64)
            let a1 := and(shr(64, a), M64)
            let a2 := and(shr(128, a), M64)
            let a3 := shr(192, a)
            // a(X) · a(-X) = c0 + c1·Y with Y = X^2.
            c0 := addmod(add(mulmod(a0, a0, P), mulmod(3, mulmod(a2, a2, P), P)), sub(P, mulmod(6, mulmod(a1, a3, P), P)), P)
            c1 := addmod(mulmod(2, mulmod(a0, a2, P), P), sub(P, addmod(mulmod(a1, a1, P), mulmod(3, mulmod(a3, a3, P), P), P)), P)
        }
        // (c0 + c1·Y)^-1 = (c0 - c1·Y) / (c0^2 - 3·c1^2).
        uint256 n = inv(addmod(mulmod(c0, c0, P), P - mulmod(3, mulmod(c1, c1, P), P), P));
        assembly ("memory-safe") {
            let a0 := and(a, M64)
            let a1 := and(shr(64, a), M64)
            let a2 := and(shr(128, a), M64)
            let a3 := shr(192, a)
            let d0 := mulmod(c0, n, P)
            let d1 := mulmod(sub(P, c1), n, P)
            // a^-1 = a(-X) · (d0 + d1·X^2).
            let r0 := addmod(mulmod(a0, d0, P), mulmod(3, mulmod(a2, d1, P), P), P)
            let r1 := mod(sub(P, addmod(mulmod(a1, d0, P), mulmod(3, mulmod(a3, d1, P), P), P)), P)
            let r2 := addmod(mulmod(a2, d0, P), mulmod(a0, d1, P), P)
            let r3 := mod(sub(P, addmod(mulmod(a3, d0, P), mulmod(a1, d1, P), P)), P)
            r := or(or(r0, shl(64, r1)), or(shl(128, r2), shl(192, r3)))
        }
    }

    /// @notice Montgomery form (x · 2^32 mod p) of every lane, each as a little-endian u32, in
    ///         lane order: the 16 bytes Plonky3 hashes for an extension element, left-aligned.
    function montBytes(uint256 a) internal pure returns (uint256 w) {
        assembly ("memory-safe") {
            let m0 := mulmod(and(a, M64), MONT_R, P)
            let m1 := mulmod(and(shr(64, a), M64), MONT_R, P)
            let m2 := mulmod(and(shr(128, a), M64), MONT_R, P)
            let m3 := mulmod(shr(192, a), MONT_R, P)
            w := or(or(shl(224, m0), shl(192, m1)), or(shl(160, m2), shl(128, m3)))
            // Byte-reverse every 32-bit lane.
            let m8 := 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff
            let m16 := 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff
            w := or(shl(8, and(w, m8)), and(shr(8, w), m8))
            w := or(shl(16, and(w, m16)), and(shr(16, w), m16))
        }
    }

    /// @notice Decodes 16 bytes at calldata `off` (four little-endian Montgomery u32) into a
    ///         canonical extension element; `ok` is false if a value is not below p.
    function loadExt(uint256 off) internal pure returns (uint256 e, bool ok) {
        assembly ("memory-safe") {
            let w := calldataload(off)
            let m8 := 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff
            let m16 := 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff
            w := or(shl(8, and(w, m8)), and(shr(8, w), m8))
            w := or(shl(16, and(w, m16)), and(shr(16, w), m16))
            let x0 := shr(224, w)
            let x1 := and(shr(192, w), 0xffffffff)
            let x2 := and(shr(160, w), 0xffffffff)
            let x3 := and(shr(128, w), 0xffffffff)
            ok := and(and(lt(x0, P), lt(x1, P)), and(lt(x2, P), lt(x3, P)))
            let ri := MONT_R_INV
            e := or(
                or(mulmod(x0, ri, P), shl(64, mulmod(x1, ri, P))),
                or(shl(128, mulmod(x2, ri, P)), shl(192, mulmod(x3, ri, P)))
            )
        }
    }

    /// @notice Byte-reverses a 32-bit value.
    function bswap32(uint256 x) internal pure returns (uint256) {
        return ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >> 8) & 0xff00) | (x >> 24);
    }
}
