// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;
import {Test} from "./base/Test.sol";
import {KoalaBear as K} from "../src/verifier/KoalaBear.sol";
contract ScratchTest is Test {
    function test_scratch() public {
        uint256 a = 5 | (7 << 64) | (11 << 128) | (13 << 192);
        uint256 t = gasleft();
        uint256[] memory pw = K.powers(a, 611);
        emit log_named_uint("powers 611", t - gasleft());
        t = gasleft();
        uint256 s = K.dot(pw, 0, pw, 0, 603);
        emit log_named_uint("dot 603", t - gasleft());
        t = gasleft();
        for (uint256 i = 0; i < 603; ++i) s = K.mul(s, a);
        emit log_named_uint("603 mul", t - gasleft());
        t = gasleft();
        uint256 e = K.einv(s);
        emit log_named_uint("einv", t - gasleft());
        assertTrue(e != 1);
    }
}
