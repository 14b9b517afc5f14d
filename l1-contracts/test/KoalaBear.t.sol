// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "./base/Test.sol";
import {KoalaBear as K} from "../src/verifier/KoalaBear.sol";

/// The extension arithmetic that batches one product into a MUL and a MULMOD (`mul`, `powers`,
/// `dot`) against the schoolbook product, on random and extreme canonical elements.
contract KoalaBearTest is Test {
    uint256 private constant M64 = 0xffffffffffffffff;
    /// An element with every lane p − 1 (the largest lane products).
    uint256 private constant TOP = (K.P - 1) | ((K.P - 1) << 64) | ((K.P - 1) << 128) | ((K.P - 1) << 192);

    /// Schoolbook a · b mod (X^4 − 3), one lane product at a time.
    function schoolbook(uint256 a, uint256 b) internal pure returns (uint256 r) {
        uint256[7] memory c;
        for (uint256 i = 0; i < 4; ++i) {
            for (uint256 j = 0; j < 4; ++j) {
                c[i + j] += ((a >> (64 * i)) & M64) * ((b >> (64 * j)) & M64);
            }
        }
        for (uint256 m = 0; m < 4; ++m) {
            uint256 v = m < 3 ? c[m] + 3 * c[m + 4] : c[m];
            r |= (v % K.P) << (64 * m);
        }
    }

    /// A canonical element from 256 random bits.
    function canonical(uint256 seed) internal pure returns (uint256 e) {
        for (uint256 m = 0; m < 4; ++m) {
            e |= (uint256(keccak256(abi.encode(seed, m))) % K.P) << (64 * m);
        }
    }

    function testFuzz_mul_is_the_schoolbook_product(uint256 s, uint256 t) public pure {
        uint256 a = canonical(s);
        uint256 b = canonical(t);
        assertEq(K.mul(a, b), schoolbook(a, b));
        assertEq(K.mul(a, TOP), schoolbook(a, TOP));
    }

    function test_mul_of_extremes() public pure {
        assertEq(K.mul(TOP, TOP), schoolbook(TOP, TOP));
        assertEq(K.mul(TOP, 0), 0);
        assertEq(K.mul(TOP, K.ONE), TOP);
    }

    function testFuzz_powers_and_dot(uint256 s, uint256 t) public pure {
        uint256 a = canonical(s);
        uint256 n = 1 + (t % 700);
        uint256[] memory pw = K.powers(a, n);
        uint256[] memory v = new uint256[](n);
        uint256 x = K.ONE;
        uint256 sum;
        for (uint256 i = 0; i < n; ++i) {
            assertEq(pw[i], x);
            v[i] = i % 3 == 0 ? TOP : canonical(uint256(keccak256(abi.encode(t, i))));
            sum = K.add(sum, schoolbook(x, v[i]));
            x = schoolbook(x, a);
        }
        assertEq(K.dot(pw, 0, v, 0, n), sum);
    }

    function test_dot_of_many_extremes() public pure {
        uint256 n = 4096;
        uint256[] memory v = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            v[i] = TOP;
        }
        uint256 one = schoolbook(TOP, TOP);
        uint256 expected;
        for (uint256 i = 0; i < n; ++i) {
            expected = K.add(expected, one);
        }
        assertEq(K.dot(v, 0, v, 0, n), expected);
        assertEq(K.dot(v, 1, v, 2, n - 2), K.sub(expected, K.add(one, one)));
    }
}
