// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {BatchAirProgram} from "./BatchAirProgram.sol";

/// @title BatchAirConstraints
/// @notice Out-of-domain evaluation of the batch AIR's constraints: given the trace rows at ζ and
///         ζω, the public values, the Lagrange selectors at ζ and the folding challenge α, returns
///         Plonky3's folded accumulator `acc = Σ α^(n−1−i)·C_i(ζ)` (VerifierConstraintFolder order),
///         which a STARK verifier compares with `Q(ζ)·Z_H(ζ)`.
/// @dev Interprets the register-machine program generated from the Rust AIR (BatchAirProgram.sol,
///      written by `cargo run --release -p ctm-prover --example export-constraints`; format in
///      docs/prover.md "Constraint evaluation on L1"). The program bytes live as the runtime code
///      of data contracts created in the constructor (`0x00 ‖ chunk`, SSTORE2 style) and are read
///      with extcodecopy. Extension elements (degree 4 over KoalaBear, X^4 = 3) are one word
///      `c0 | c1<<64 | c2<<128 | c3<<192`; registers keep lazily reduced lanes below 2^64.
///      Memory: temporaries at [0, 0x800), alpha·X^j at [0x800, 0x880), the input words from
///      FIRST_INPUT·32, a zero register, then the program (the assembly never returns to Solidity
///      code that uses memory).
contract BatchAirConstraints {
    /// @notice Most data contracts this evaluator reads.
    uint256 internal constant MAX_CHUNKS = 2;

    /// @notice `input` is not INPUT_WORDS 32-byte words.
    error BadInputLength(uint256 length, uint256 expected);
    /// @notice An input word is not canonical (an extension lane ≥ p, or a public value ≥ p).
    error NonCanonicalInput();
    /// @notice Creating data contract `chunk` failed.
    error ProgramDeployFailed(uint256 chunk);
    /// @notice The generated program needs more data contracts than this evaluator reads.
    error TooManyChunks(uint256 chunks);
    /// @notice The program holds an unknown control instruction.
    error MalformedProgram();

    /// @notice Data contract holding program bytes [0, CHUNK_SIZE).
    address public immutable PROGRAM0;
    /// @notice Data contract holding the program bytes from CHUNK_SIZE on (or address(0)).
    address public immutable PROGRAM1;

    /// @notice Creates the data contracts holding the generated program.
    constructor() {
        if (BatchAirProgram.NUM_CHUNKS > MAX_CHUNKS) revert TooManyChunks(BatchAirProgram.NUM_CHUNKS);
        PROGRAM0 = _deploy(0);
        PROGRAM1 = BatchAirProgram.NUM_CHUNKS > 1 ? _deploy(1) : address(0);
    }

    /// @notice Evaluates the folded constraints.
    /// @param input WIDTH local-row words, WIDTH next-row words, NUM_PUBLIC_VALUES public values
    ///        (canonical base elements), isFirstRow, isLastRow, isTransition, alpha; every
    ///        extension word with canonical lanes.
    /// @return acc The folded accumulator, canonical lanes.
    function evaluate(bytes calldata input) external view returns (uint256 acc) {
        uint256 expected = BatchAirProgram.INPUT_WORDS * 32;
        if (input.length != expected) revert BadInputLength(input.length, expected);
        _copyInput(input);
        _loadProgram();
        acc = _run();
        assembly {
            mstore(0, acc)
            return(0, 32)
        }
    }

    /// @dev Copies the input to its registers and reverts unless every word is canonical: a
    ///      64-bit lane v is canonical iff v < 2^32 and v + (2^63 − p) < 2^63 (no carry leaves a
    ///      lane then). The words are checked four at a time, ORing the words and the sums and
    ///      testing the bits once at the end.
    function _copyInput(bytes calldata input) private pure {
        uint256 first = BatchAirProgram.FIRST_INPUT * 32;
        uint256 rows = first + 2 * BatchAirProgram.WIDTH * 32;
        uint256 pubEnd = rows + BatchAirProgram.NUM_PUBLIC_VALUES * 32;
        bytes4 err = NonCanonicalInput.selector;
        assembly {
            calldatacopy(first, input.offset, input.length)
            let c := 0x7fffffff80ffffff7fffffff80ffffff7fffffff80ffffff7fffffff80ffffff
            let high := 0 // OR of the words (extension lanes) or of the public values
            let sum := 0 // OR of word + c
            let ptr := first
            for {} lt(add(ptr, 96), rows) { ptr := add(ptr, 128) } {
                let x := mload(ptr)
                let y := mload(add(ptr, 32))
                let z := mload(add(ptr, 64))
                let u := mload(add(ptr, 96))
                high := or(high, or(or(x, y), or(z, u)))
                sum := or(sum, or(or(add(x, c), add(y, c)), or(add(z, c), add(u, c))))
            }
            for {} lt(ptr, rows) { ptr := add(ptr, 32) } {
                let x := mload(ptr)
                high := or(high, x)
                sum := or(sum, add(x, c))
            }
            // Public values: base elements, so every bit above lane 0 must be clear.
            let pubHigh := 0
            let pubSum := 0
            for {} lt(ptr, pubEnd) { ptr := add(ptr, 32) } {
                let x := mload(ptr)
                pubHigh := or(pubHigh, x)
                pubSum := or(pubSum, add(x, 0x7fffffff80ffffff))
            }
            for { let end := add(ptr, 128) } lt(ptr, end) { ptr := add(ptr, 32) } {
                let x := mload(ptr)
                high := or(high, x)
                sum := or(sum, add(x, c))
            }
            let bad := or(
                or(and(high, 0xffffffff00000000ffffffff00000000ffffffff00000000ffffffff00000000), and(sum, 0x8000000000000000800000000000000080000000000000008000000000000000)),
                or(gt(pubHigh, 0xffffffff), and(pubSum, 0x8000000000000000))
            )
            if bad {
                mstore(0, err)
                revert(0, 4)
            }
            mstore(ptr, 0) // the zero register
        }
    }

    /// @dev Copies the program bytes from the data contracts to memory after the registers.
    function _loadProgram() private view {
        uint256 prog = BatchAirProgram.NUM_REGISTERS * 32;
        uint256 len = BatchAirProgram.CODE_LENGTH;
        uint256 chunk = BatchAirProgram.CHUNK_SIZE;
        address data0 = PROGRAM0;
        address data1 = PROGRAM1;
        assembly {
            switch gt(len, chunk)
            case 0 { extcodecopy(data0, prog, 1, len) }
            default {
                extcodecopy(data0, prog, 1, chunk)
                extcodecopy(data1, add(prog, chunk), 1, sub(len, chunk))
            }
        }
    }

    /// @dev Interprets the program; returns the accumulator with canonical lanes.
    ///      Instruction word w (the top 32 bits of an mload): op 255..253, fold flag 252,
    ///      d 251..246, a 245..235, b 234..224; register fields decode straight to byte offsets
    ///      (·32), pool indices to ·4. Products use the rotation form: for canonical a,
    ///      a·b = Σ_j b_j·(a·X^j), where a·X^j is a shifted up j lanes with the wrapped lanes
    ///      times 3, so one 256-bit MUL multiplies four lanes (lane sums < 4p² < 2^64); alpha·X^j
    ///      (j = 0..3) sit in the scratch words at 0x800 for the folds. The loop body dispatches
    ///      two instructions (the same code twice) to save a jump per instruction.
    function _run() private pure returns (uint256 acc) {
        uint256 prog = BatchAirProgram.NUM_REGISTERS * 32;
        uint256 alphaAt = (BatchAirProgram.FIRST_INPUT + BatchAirProgram.INPUT_WORDS - 1) * 32;
        assembly {
            {
                let a := mload(alphaAt)
                let t3 := mod(mul(3, shr(192, a)), 0x7f000001)
                let t2 := mod(mul(3, and(shr(128, a), 0xffffffffffffffff)), 0x7f000001)
                mstore(0x800, a)
                mstore(0x820, or(shl(64, a), t3))
                mstore(0x840, or(shl(128, a), or(shl(64, t3), t2)))
                mstore(0x860, or(shl(192, a), or(shl(128, t3), or(shl(64, t2), mod(mul(3, and(shr(64, a), 0xffffffffffffffff)), 0x7f000001)))))
            }
            let pool := add(prog, 2)
            let m := 0xffffffffffffffff
            for { let at := add(pool, shl(2, shr(240, mload(prog)))) } 1 { at := add(at, 8) } {
                let w := mload(at)
                switch shr(253, w)
                case 6 {
                    // LIN: d = k1·r1 + k2·r2 + r3 + r4 (8 bytes; the next word is its second half)
                    mstore(
                        and(shr(241, w), 0x7e0),
                        add(
                            add(mul(mload(and(shr(220, w), 0xffe0)), and(shr(244, w), 3)), mul(mload(and(shr(209, w), 0xffe0)), and(shr(242, w), 3))),
                            add(mload(and(shr(198, w), 0xffe0)), mload(and(shr(187, w), 0xffe0)))
                        )
                    )
                    at := add(at, 4)
                }
                case 1 {
                    // SUB: a + (p << 8) − b lane-wise
                    let r := sub(add(mload(and(shr(230, w), 0xffe0)), 0x0000007f000001000000007f000001000000007f000001000000007f00000100), mload(and(shr(219, w), 0xffe0)))
                    mstore(and(shr(241, w), 0x7e0), r)
                    if and(w, 0x1000000000000000000000000000000000000000000000000000000000000000) {
                        acc := add(add(add(mul(mload(0x800), mod(and(acc, m), 0x7f000001)), mul(mload(0x820), mod(and(shr(64, acc), m), 0x7f000001))), add(mul(mload(0x840), mod(and(shr(128, acc), m), 0x7f000001)), mul(mload(0x860), mod(shr(192, acc), 0x7f000001)))), r)
                    }
                }
                case 3 {
                    // MULC: a · pool[k] lane-wise, reduced
                    let a := mload(and(shr(230, w), 0xffe0))
                    let c := shr(224, mload(add(pool, and(shr(222, w), 0x1ffc))))
                    let r := mulmod(shr(192, a), c, 0x7f000001)
                    r := or(shl(64, r), mulmod(and(shr(128, a), m), c, 0x7f000001))
                    r := or(shl(64, r), mulmod(and(shr(64, a), m), c, 0x7f000001))
                    r := or(shl(64, r), mulmod(and(a, m), c, 0x7f000001))
                    mstore(and(shr(241, w), 0x7e0), r)
                    if and(w, 0x1000000000000000000000000000000000000000000000000000000000000000) {
                        acc := add(add(add(mul(mload(0x800), mod(and(acc, m), 0x7f000001)), mul(mload(0x820), mod(and(shr(64, acc), m), 0x7f000001))), add(mul(mload(0x840), mod(and(shr(128, acc), m), 0x7f000001)), mul(mload(0x860), mod(shr(192, acc), 0x7f000001)))), r)
                    }
                }
                case 2 {
                    // MUL: a · b, a canonical
                    let a := mload(and(shr(230, w), 0xffe0))
                    let t3 := mod(mul(3, shr(192, a)), 0x7f000001)
                    let t2 := mod(mul(3, and(shr(128, a), m)), 0x7f000001)
                    let b := mload(and(shr(219, w), 0xffe0))
                    let r := add(
                        add(mul(a, mod(and(b, m), 0x7f000001)), mul(or(shl(64, a), t3), mod(and(shr(64, b), m), 0x7f000001))),
                        add(
                            mul(or(shl(128, a), or(shl(64, t3), t2)), mod(and(shr(128, b), m), 0x7f000001)),
                            mul(
                                or(shl(192, a), or(shl(128, t3), or(shl(64, t2), mod(mul(3, and(shr(64, a), m)), 0x7f000001)))),
                                mod(shr(192, b), 0x7f000001)
                            )
                        )
                    )
                    r := or(or(shl(192, mod(shr(192, r), 0x7f000001)), shl(128, mod(and(shr(128, r), m), 0x7f000001))), or(shl(64, mod(and(shr(64, r), m), 0x7f000001)), mod(and(r, m), 0x7f000001)))
                    mstore(and(shr(241, w), 0x7e0), r)
                    if and(w, 0x1000000000000000000000000000000000000000000000000000000000000000) {
                        acc := add(add(add(mul(mload(0x800), mod(and(acc, m), 0x7f000001)), mul(mload(0x820), mod(and(shr(64, acc), m), 0x7f000001))), add(mul(mload(0x840), mod(and(shr(128, acc), m), 0x7f000001)), mul(mload(0x860), mod(shr(192, acc), 0x7f000001)))), r)
                    }
                }
                case 0 {
                    // ADD
                    mstore(and(shr(241, w), 0x7e0), add(mload(and(shr(230, w), 0xffe0)), mload(and(shr(219, w), 0xffe0))))
                }
                case 5 {
                    // CUBE: (a + pool[k])^3; x reduced, then x·x and x²·x against the rotations of x
                    let x := add(mload(and(shr(230, w), 0xffe0)), shr(224, mload(add(pool, and(shr(222, w), 0x1ffc)))))
                    x := or(or(shl(192, mod(shr(192, x), 0x7f000001)), shl(128, mod(and(shr(128, x), m), 0x7f000001))), or(shl(64, mod(and(shr(64, x), m), 0x7f000001)), mod(and(x, m), 0x7f000001)))
                    let x1, x2, x3
                    {
                        let t3 := mod(mul(3, shr(192, x)), 0x7f000001)
                        let t2 := mod(mul(3, and(shr(128, x), m)), 0x7f000001)
                        x1 := or(shl(64, x), t3)
                        x2 := or(shl(128, x), or(shl(64, t3), t2))
                        x3 := or(shl(192, x), or(shl(128, t3), or(shl(64, t2), mod(mul(3, and(shr(64, x), m)), 0x7f000001))))
                    }
                    let s := add(add(mul(x, and(x, m)), mul(x1, and(shr(64, x), m))), add(mul(x2, and(shr(128, x), m)), mul(x3, shr(192, x))))
                    let r := add(
                        add(mul(x, mod(and(s, m), 0x7f000001)), mul(x1, mod(and(shr(64, s), m), 0x7f000001))),
                        add(mul(x2, mod(and(shr(128, s), m), 0x7f000001)), mul(x3, mod(shr(192, s), 0x7f000001)))
                    )
                    r := or(or(shl(192, mod(shr(192, r), 0x7f000001)), shl(128, mod(and(shr(128, r), m), 0x7f000001))), or(shl(64, mod(and(shr(64, r), m), 0x7f000001)), mod(and(r, m), 0x7f000001)))
                    mstore(and(shr(241, w), 0x7e0), r)
                    if and(w, 0x1000000000000000000000000000000000000000000000000000000000000000) {
                        acc := add(add(add(mul(mload(0x800), mod(and(acc, m), 0x7f000001)), mul(mload(0x820), mod(and(shr(64, acc), m), 0x7f000001))), add(mul(mload(0x840), mod(and(shr(128, acc), m), 0x7f000001)), mul(mload(0x860), mod(shr(192, acc), 0x7f000001)))), r)
                    }
                }
                case 4 {
                    // ADDC: a + pool[k] (lane 0)
                    let r := add(mload(and(shr(230, w), 0xffe0)), shr(224, mload(add(pool, and(shr(222, w), 0x1ffc)))))
                    mstore(and(shr(241, w), 0x7e0), r)
                    if and(w, 0x1000000000000000000000000000000000000000000000000000000000000000) {
                        acc := add(add(add(mul(mload(0x800), mod(and(acc, m), 0x7f000001)), mul(mload(0x820), mod(and(shr(64, acc), m), 0x7f000001))), add(mul(mload(0x840), mod(and(shr(128, acc), m), 0x7f000001)), mul(mload(0x860), mod(shr(192, acc), 0x7f000001)))), r)
                    }
                }
                default {
                    // CTRL, the sub-operation in the destination field
                    switch and(shr(246, w), 0x3f)
                    case 1 {
                        // STASH a: a = acc, acc = 0 (a group of constraints with a common factor begins)
                        mstore(and(shr(230, w), 0xffe0), acc)
                        acc := 0
                    }
                    case 2 {
                        // MERGE a b: acc = b·acc + a, b canonical (the group ends)
                        let f := mload(and(shr(219, w), 0xffe0))
                        let t3 := mod(mul(3, shr(192, f)), 0x7f000001)
                        let t2 := mod(mul(3, and(shr(128, f), m)), 0x7f000001)
                        let r := add(
                            add(mul(f, mod(and(acc, m), 0x7f000001)), mul(or(shl(64, f), t3), mod(and(shr(64, acc), m), 0x7f000001))),
                            add(
                                mul(or(shl(128, f), or(shl(64, t3), t2)), mod(and(shr(128, acc), m), 0x7f000001)),
                                mul(
                                    or(shl(192, f), or(shl(128, t3), or(shl(64, t2), mod(mul(3, and(shr(64, f), m)), 0x7f000001)))),
                                    mod(shr(192, acc), 0x7f000001)
                                )
                            )
                        )
                        acc := add(r, mload(and(shr(230, w), 0xffe0)))
                    }
                    case 0 {
                        // STOP
                        break
                    }
                    default {
                        mstore(0, shl(224, 0x774c01ee)) // MalformedProgram()
                        revert(0, 4)
                    }
                }
                w := mload(add(at, 4))
                switch shr(253, w)
                case 6 {
                    // LIN: d = k1·r1 + k2·r2 + r3 + r4 (8 bytes; the next word is its second half)
                    mstore(
                        and(shr(241, w), 0x7e0),
                        add(
                            add(mul(mload(and(shr(220, w), 0xffe0)), and(shr(244, w), 3)), mul(mload(and(shr(209, w), 0xffe0)), and(shr(242, w), 3))),
                            add(mload(and(shr(198, w), 0xffe0)), mload(and(shr(187, w), 0xffe0)))
                        )
                    )
                    at := add(at, 4)
                }
                case 1 {
                    // SUB: a + (p << 8) − b lane-wise
                    let r := sub(add(mload(and(shr(230, w), 0xffe0)), 0x0000007f000001000000007f000001000000007f000001000000007f00000100), mload(and(shr(219, w), 0xffe0)))
                    mstore(and(shr(241, w), 0x7e0), r)
                    if and(w, 0x1000000000000000000000000000000000000000000000000000000000000000) {
                        acc := add(add(add(mul(mload(0x800), mod(and(acc, m), 0x7f000001)), mul(mload(0x820), mod(and(shr(64, acc), m), 0x7f000001))), add(mul(mload(0x840), mod(and(shr(128, acc), m), 0x7f000001)), mul(mload(0x860), mod(shr(192, acc), 0x7f000001)))), r)
                    }
                }
                case 3 {
                    // MULC: a · pool[k] lane-wise, reduced
                    let a := mload(and(shr(230, w), 0xffe0))
                    let c := shr(224, mload(add(pool, and(shr(222, w), 0x1ffc))))
                    let r := mulmod(shr(192, a), c, 0x7f000001)
                    r := or(shl(64, r), mulmod(and(shr(128, a), m), c, 0x7f000001))
                    r := or(shl(64, r), mulmod(and(shr(64, a), m), c, 0x7f000001))
                    r := or(shl(64, r), mulmod(and(a, m), c, 0x7f000001))
                    mstore(and(shr(241, w), 0x7e0), r)
                    if and(w, 0x1000000000000000000000000000000000000000000000000000000000000000) {
                        acc := add(add(add(mul(mload(0x800), mod(and(acc, m), 0x7f000001)), mul(mload(0x820), mod(and(shr(64, acc), m), 0x7f000001))), add(mul(mload(0x840), mod(and(shr(128, acc), m), 0x7f000001)), mul(mload(0x860), mod(shr(192, acc), 0x7f000001)))), r)
                    }
                }
                case 2 {
                    // MUL: a · b, a canonical
                    let a := mload(and(shr(230, w), 0xffe0))
                    let t3 := mod(mul(3, shr(192, a)), 0x7f000001)
                    let t2 := mod(mul(3, and(shr(128, a), m)), 0x7f000001)
                    let b := mload(and(shr(219, w), 0xffe0))
                    let r := add(
                        add(mul(a, mod(and(b, m), 0x7f000001)), mul(or(shl(64, a), t3), mod(and(shr(64, b), m), 0x7f000001))),
                        add(
                            mul(or(shl(128, a), or(shl(64, t3), t2)), mod(and(shr(128, b), m), 0x7f000001)),
                            mul(
                                or(shl(192, a), or(shl(128, t3), or(shl(64, t2), mod(mul(3, and(shr(64, a), m)), 0x7f000001)))),
                                mod(shr(192, b), 0x7f000001)
                            )
                        )
                    )
                    r := or(or(shl(192, mod(shr(192, r), 0x7f000001)), shl(128, mod(and(shr(128, r), m), 0x7f000001))), or(shl(64, mod(and(shr(64, r), m), 0x7f000001)), mod(and(r, m), 0x7f000001)))
                    mstore(and(shr(241, w), 0x7e0), r)
                    if and(w, 0x1000000000000000000000000000000000000000000000000000000000000000) {
                        acc := add(add(add(mul(mload(0x800), mod(and(acc, m), 0x7f000001)), mul(mload(0x820), mod(and(shr(64, acc), m), 0x7f000001))), add(mul(mload(0x840), mod(and(shr(128, acc), m), 0x7f000001)), mul(mload(0x860), mod(shr(192, acc), 0x7f000001)))), r)
                    }
                }
                case 0 {
                    // ADD
                    mstore(and(shr(241, w), 0x7e0), add(mload(and(shr(230, w), 0xffe0)), mload(and(shr(219, w), 0xffe0))))
                }
                case 5 {
                    // CUBE: (a + pool[k])^3; x reduced, then x·x and x²·x against the rotations of x
                    let x := add(mload(and(shr(230, w), 0xffe0)), shr(224, mload(add(pool, and(shr(222, w), 0x1ffc)))))
                    x := or(or(shl(192, mod(shr(192, x), 0x7f000001)), shl(128, mod(and(shr(128, x), m), 0x7f000001))), or(shl(64, mod(and(shr(64, x), m), 0x7f000001)), mod(and(x, m), 0x7f000001)))
                    let x1, x2, x3
                    {
                        let t3 := mod(mul(3, shr(192, x)), 0x7f000001)
                        let t2 := mod(mul(3, and(shr(128, x), m)), 0x7f000001)
                        x1 := or(shl(64, x), t3)
                        x2 := or(shl(128, x), or(shl(64, t3), t2))
                        x3 := or(shl(192, x), or(shl(128, t3), or(shl(64, t2), mod(mul(3, and(shr(64, x), m)), 0x7f000001))))
                    }
                    let s := add(add(mul(x, and(x, m)), mul(x1, and(shr(64, x), m))), add(mul(x2, and(shr(128, x), m)), mul(x3, shr(192, x))))
                    let r := add(
                        add(mul(x, mod(and(s, m), 0x7f000001)), mul(x1, mod(and(shr(64, s), m), 0x7f000001))),
                        add(mul(x2, mod(and(shr(128, s), m), 0x7f000001)), mul(x3, mod(shr(192, s), 0x7f000001)))
                    )
                    r := or(or(shl(192, mod(shr(192, r), 0x7f000001)), shl(128, mod(and(shr(128, r), m), 0x7f000001))), or(shl(64, mod(and(shr(64, r), m), 0x7f000001)), mod(and(r, m), 0x7f000001)))
                    mstore(and(shr(241, w), 0x7e0), r)
                    if and(w, 0x1000000000000000000000000000000000000000000000000000000000000000) {
                        acc := add(add(add(mul(mload(0x800), mod(and(acc, m), 0x7f000001)), mul(mload(0x820), mod(and(shr(64, acc), m), 0x7f000001))), add(mul(mload(0x840), mod(and(shr(128, acc), m), 0x7f000001)), mul(mload(0x860), mod(shr(192, acc), 0x7f000001)))), r)
                    }
                }
                case 4 {
                    // ADDC: a + pool[k] (lane 0)
                    let r := add(mload(and(shr(230, w), 0xffe0)), shr(224, mload(add(pool, and(shr(222, w), 0x1ffc)))))
                    mstore(and(shr(241, w), 0x7e0), r)
                    if and(w, 0x1000000000000000000000000000000000000000000000000000000000000000) {
                        acc := add(add(add(mul(mload(0x800), mod(and(acc, m), 0x7f000001)), mul(mload(0x820), mod(and(shr(64, acc), m), 0x7f000001))), add(mul(mload(0x840), mod(and(shr(128, acc), m), 0x7f000001)), mul(mload(0x860), mod(shr(192, acc), 0x7f000001)))), r)
                    }
                }
                default {
                    // CTRL, the sub-operation in the destination field
                    switch and(shr(246, w), 0x3f)
                    case 1 {
                        // STASH a: a = acc, acc = 0 (a group of constraints with a common factor begins)
                        mstore(and(shr(230, w), 0xffe0), acc)
                        acc := 0
                    }
                    case 2 {
                        // MERGE a b: acc = b·acc + a, b canonical (the group ends)
                        let f := mload(and(shr(219, w), 0xffe0))
                        let t3 := mod(mul(3, shr(192, f)), 0x7f000001)
                        let t2 := mod(mul(3, and(shr(128, f), m)), 0x7f000001)
                        let r := add(
                            add(mul(f, mod(and(acc, m), 0x7f000001)), mul(or(shl(64, f), t3), mod(and(shr(64, acc), m), 0x7f000001))),
                            add(
                                mul(or(shl(128, f), or(shl(64, t3), t2)), mod(and(shr(128, acc), m), 0x7f000001)),
                                mul(
                                    or(shl(192, f), or(shl(128, t3), or(shl(64, t2), mod(mul(3, and(shr(64, f), m)), 0x7f000001)))),
                                    mod(shr(192, acc), 0x7f000001)
                                )
                            )
                        )
                        acc := add(r, mload(and(shr(230, w), 0xffe0)))
                    }
                    case 0 {
                        // STOP
                        break
                    }
                    default {
                        mstore(0, shl(224, 0x774c01ee)) // MalformedProgram()
                        revert(0, 4)
                    }
                }
            }
            acc := or(or(shl(192, mod(shr(192, acc), 0x7f000001)), shl(128, mod(and(shr(128, acc), m), 0x7f000001))), or(shl(64, mod(and(shr(64, acc), m), 0x7f000001)), mod(and(acc, m), 0x7f000001)))
        }
    }

    /// @dev Creates the data contract of program chunk `i`: runtime code `0x00 ‖ chunk`.
    function _deploy(uint256 i) private returns (address data) {
        bytes memory chunk = BatchAirProgram.chunk(i);
        // PUSH2 len, DUP1, PUSH1 10, RETURNDATASIZE, CODECOPY, RETURNDATASIZE, RETURN; then 0x00.
        bytes memory init = abi.encodePacked(hex"61", uint16(chunk.length + 1), hex"80600a3d393df300", chunk);
        assembly {
            data := create(0, add(init, 32), mload(init))
        }
        if (data == address(0)) revert ProgramDeployFailed(i);
    }
}
