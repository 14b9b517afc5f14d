// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IVerifier} from "../interfaces/IVerifier.sol";
import {KoalaBear as K} from "./KoalaBear.sol";
import {Transcript} from "./Transcript.sol";
import {BatchVerifierSeeds} from "./BatchVerifierSeeds.sol";
import {WithdrawalTree} from "../lib/WithdrawalTree.sol";

/// @notice The generated out-of-domain constraint evaluator of the batch AIR.
interface IConstraintEvaluator {
    /// @notice Folds every AIR constraint with `alpha` (Horner), as Plonky3's verifier folder.
    /// @param input Words: trace row at ζ (WIDTH), at ζω (WIDTH), public values, isFirstRow,
    ///        isLastRow, isTransition, alpha.
    function evaluate(bytes calldata input) external view returns (uint256 acc);
}

/// @title BatchStarkVerifier
/// @notice Verifies ctm-prover's batch STARK (Plonky3 0.8 uni-STARK, KoalaBear + degree-4
///         extension, keccak-256 Merkle commitments and Fiat–Shamir, FRI folding by up to
///         2^LOG_ARITY per round down to a final polynomial of 2^LOG_FINAL_POLY_LEN
///         coefficients) for the Rollup. It replays Plonky3's transcript byte for
///         byte, checks the AIR's constraints at the out-of-domain point ζ against the quotient,
///         and checks the FRI low-degree test: Merkle multiproofs of the trace, the quotient and
///         every folding round, the reduced openings at every query, the folding and the final
///         polynomial, and the proof of work. Proof encoding: docs/verifier.md.
/// @dev Any failure reverts with a named error; `verify` returns true only for a valid proof.
contract BatchStarkVerifier is IVerifier {
    using Transcript for Transcript.State;

    /// @notice `publicInputs` is not the 416-byte `abi.encode(PublicInputs)`.
    error BadPublicInputsLength(uint256 got);
    /// @notice The proof ends before byte `needed`.
    error ProofTooShort(uint256 needed, uint256 got);
    /// @notice Bytes follow the last field of the proof.
    error ProofTooLong(uint256 expected, uint256 got);
    /// @notice Unknown encoding version.
    error BadVersion(uint256 version);
    /// @notice Trace height outside the supported range.
    error DegreeBitsOutOfRange(uint256 degreeBits);
    /// @notice A field element of the proof is not canonical (Montgomery value ≥ p).
    error NonCanonicalElement(uint256 offset);
    /// @notice The query proof-of-work witness is wrong.
    error ProofOfWorkFailed();
    /// @notice ζ lies in the trace domain.
    error OodPointInDomain();
    /// @notice The AIR constraints at ζ do not match the quotient.
    error ConstraintMismatch();
    /// @notice The constraint evaluator call failed.
    error ConstraintEvaluationFailed();
    /// @notice A query point equals an opening point.
    error QueryPointCollision(uint256 query);
    /// @notice A Merkle multiproof does not lead to its root (tree 0: trace, 1: quotient,
    ///         2 + r: FRI round r).
    error MerkleRootMismatch(uint256 tree);
    /// @notice A Merkle multiproof has the wrong number of digests.
    error MerkleProofSize(uint256 tree);
    /// @notice Two queries of one leaf open different values.
    error DuplicateLeafMismatch(uint256 tree);
    /// @notice A query does not fold to the final polynomial.
    error FinalPolyMismatch(uint256 query);
    /// @notice The seeds' public-value count is not 208 + 1 + 8 · MAX_WITHDRAWALS + 1 +
    ///         19 · MAX_QUEUE_ENTRIES.
    error PublicValueLayout(uint256 numPublicValues, uint256 maxWithdrawals, uint256 maxQueueEntries);
    /// @notice The proof's withdrawal list has more entries than the AIR's public values hold.
    error TooManyWithdrawals(uint256 count, uint256 max);
    /// @notice The proof's withdrawal list does not hash to the public inputs' `withdrawalRoot`.
    error WithdrawalRootMismatch(bytes32 listRoot, bytes32 withdrawalRoot);
    /// @notice The proof carries more queue entries or rejected deposits than a batch may have.
    error TooManyQueueEntries(uint256 count, uint256 max);
    /// @notice The proof's queue entry `entry` (or its count) is not the public inputs' range
    ///         `queueStart .. queueStart + queueCount`.
    error QueueEntryMismatch(uint256 entry);
    /// @notice The proof's queue entries do not extend `queueHashStart` to `queueHashEnd`.
    error QueueHashMismatch(bytes32 listHash, bytes32 queueHashEnd);
    /// @notice A rejected index is not a consumed deposit, or the list is not increasing.
    error BadRejectedDeposit(uint256 index);
    /// @notice The proof's rejected list does not hash to `rejectedDepositsHash`.
    error RejectedDepositsMismatch(bytes32 listHash, bytes32 rejectedDepositsHash);
    /// @notice A token-flow value of the proof is out of range (index 0–15: an account byte sum,
    ///         |x| < 2^29; 16–23: a `locked` limb difference, |x| < 2^16), or `feesBurned` is not
    ///         below 2^128.
    error FlowOutOfRange(uint256 index);
    /// @notice The batch creates or destroys tokens: the change of all balances plus that of
    ///         what the protocol holds is not the credited deposits less withdrawals and burns.
    error TokensNotConserved(int256 balances, int256 locked, int256 net);

    /// @notice Encoding version read from the first byte.
    uint256 public constant VERSION = 5;

    /// @notice The generated constraint evaluator.
    IConstraintEvaluator public immutable constraints;
    /// @notice The generated parameters and transcript seeds.
    BatchVerifierSeeds public immutable seeds;

    uint256 internal immutable WIDTH;
    uint256 internal immutable QUERIES;
    uint256 internal immutable LOG_BLOWUP;
    uint256 internal immutable POW_BITS;
    uint256 internal immutable LOG_ARITY;
    uint256 internal immutable LOG_FINAL;
    uint256 internal immutable MIN_DB;
    uint256 internal immutable MAX_DB;
    uint256 internal immutable NPV;
    uint256 internal immutable WMAX;
    uint256 internal immutable DMAX;
    /// @dev Token-flow public values: 16 account byte sums, 8 `locked` limb differences.
    uint256 internal constant FLOWS = 24;

    /// @dev Offsets are absolute calldata positions.
    struct Ctx {
        uint256 db;
        uint256 h; // db + log blowup: log2 of the LDE height
        uint256 base;
        uint256 end;
        uint256 offClaimed;
        uint256 offRoots;
        uint256 offFinal;
        uint256 offPow;
        uint256 offRows;
        uint256 offWithdrawals; // the withdrawal list: u8 count, then 36-byte entries
        uint256 offQueue; // the consumed queue entries: u8 count, then 105-byte entries
        uint256 offRejected; // the rejected deposits: u8 count, then 8-byte indices
        uint256 offFlows; // the token flows: 24 int32
        uint256 cursor;
        uint256 alpha;
        uint256 zeta;
        uint256 friAlpha;
        uint256[] finalPoly; // coefficients, constant first
        uint256[] ks; // folding schedule: log2 of each round's arity
        uint256[] betas;
        uint256[] idx;
        uint256[] ord;
        uint256[] ov; // claimed evaluations: trace at ζ, at ζω, quotient chunks
    }

    /// @param constraints_ The generated `BatchAirConstraints`.
    /// @param seeds_ The generated `BatchVerifierSeeds`.
    constructor(IConstraintEvaluator constraints_, BatchVerifierSeeds seeds_) {
        constraints = constraints_;
        seeds = seeds_;
        WIDTH = seeds_.WIDTH();
        QUERIES = seeds_.NUM_QUERIES();
        LOG_BLOWUP = seeds_.LOG_BLOWUP();
        POW_BITS = seeds_.POW_BITS();
        LOG_ARITY = seeds_.LOG_ARITY();
        LOG_FINAL = seeds_.LOG_FINAL_POLY_LEN();
        MIN_DB = seeds_.MIN_DEGREE_BITS();
        MAX_DB = seeds_.MAX_DEGREE_BITS();
        NPV = seeds_.NUM_PUBLIC_VALUES();
        WMAX = seeds_.MAX_WITHDRAWALS();
        DMAX = seeds_.MAX_QUEUE_ENTRIES();
        // The public values are the 208 input limbs, the count and WMAX amounts of 8 limbs, the
        // count and DMAX credited deposits of 19 limbs, the 24 token flows: `_publicValues` writes
        // exactly that many.
        if (NPV != 234 + 8 * WMAX + 19 * DMAX) revert PublicValueLayout(NPV, WMAX, DMAX);
    }

    /// @inheritdoc IVerifier
    function verify(bytes calldata publicInputs, bytes calldata proof) external view returns (bool) {
        if (publicInputs.length != 416) revert BadPublicInputsLength(publicInputs.length);
        Ctx memory c = _layout(proof);
        (uint256[] memory pv, bytes memory pvMont) = _publicValues(publicInputs, c);
        _transcript(c, pvMont);
        _checkConstraints(c, pv);
        _checkFri(c);
        return true;
    }

    // ---------------------------------------------------------------- layout and decoding

    function _layout(bytes calldata proof) internal view returns (Ctx memory c) {
        uint256 n = proof.length;
        if (n < 66) revert ProofTooShort(66, n);
        c.base = _offset(proof);
        c.end = c.base + n;
        uint256 version = uint8(proof[0]);
        if (version != VERSION) revert BadVersion(version);
        c.db = uint8(proof[1]);
        if (c.db < MIN_DB || c.db > MAX_DB) revert DegreeBitsOutOfRange(c.db);
        c.h = c.db + LOG_BLOWUP;
        c.offClaimed = c.base + 66;
        c.ks = _schedule(c.h);
        c.offRoots = c.offClaimed + (2 * WIDTH + 8) * 16;
        c.offFinal = c.offRoots + 32 * c.ks.length;
        c.offPow = c.offFinal + (16 << LOG_FINAL);
        c.offRows = c.offPow + 4;
        c.cursor = c.offRows + QUERIES * (4 * WIDTH + 32);
        if (c.cursor > c.end) revert ProofTooShort(c.cursor - c.base, n);
        _checkLength(c);
        c.ov = _decodeExts(c.offClaimed, 2 * WIDTH + 8);
    }

    /// @dev Plonky3's folding schedule for one input of height 2^h: rounds of 2^LOG_ARITY down
    ///      to 2^(LOG_BLOWUP + LOG_FINAL), the last round folding what is left.
    function _schedule(uint256 h) internal view returns (uint256[] memory ks) {
        uint256 lf = LOG_BLOWUP + LOG_FINAL;
        uint256 a = LOG_ARITY;
        ks = new uint256[]((h - lf + a - 1) / a);
        for (uint256 r = 0; r < ks.length; ++r) {
            uint256 left = h - lf - r * a;
            ks[r] = left < a ? left : a;
        }
    }

    /// @dev Walks the variable-length tail (trace and quotient multiproofs, then per round the
    ///      siblings and a multiproof) so a truncated or oversized proof is refused up front.
    function _checkLength(Ctx memory c) internal view {
        uint256 at = c.cursor;
        for (uint256 k = 0; k < 2 + c.ks.length; ++k) {
            if (k >= 2) at += 16 * QUERIES * ((1 << c.ks[k - 2]) - 1);
            if (at + 2 > c.end) revert ProofTooShort(at + 2 - c.base, c.end - c.base);
            uint256 count;
            assembly ("memory-safe") {
                count := shr(240, calldataload(at))
            }
            at += 2 + 32 * count;
        }
        c.offWithdrawals = at;
        uint256 withdrawals = _count(c, at);
        if (withdrawals > WMAX) revert TooManyWithdrawals(withdrawals, WMAX);
        at += 1 + 36 * withdrawals;
        c.offQueue = at;
        uint256 entries = _count(c, at);
        if (entries > DMAX) revert TooManyQueueEntries(entries, DMAX);
        at += 1 + 105 * entries;
        c.offRejected = at;
        uint256 rejected = _count(c, at);
        if (rejected > DMAX) revert TooManyQueueEntries(rejected, DMAX);
        at += 1 + 8 * rejected;
        c.offFlows = at;
        at += 4 * FLOWS;
        if (at > c.end) revert ProofTooShort(at - c.base, c.end - c.base);
        if (at < c.end) revert ProofTooLong(at - c.base, c.end - c.base);
    }

    /// @dev The `u8` count of the list at calldata `at` (refusing a proof that ends before it).
    function _count(Ctx memory c, uint256 at) private pure returns (uint256) {
        if (at + 1 > c.end) revert ProofTooShort(at + 1 - c.base, c.end - c.base);
        return uint8(bytes1(_word(at)));
    }

    function _word(uint256 at) private pure returns (bytes32 w) {
        assembly ("memory-safe") {
            w := calldataload(at)
        }
    }

    function _offset(bytes calldata b) private pure returns (uint256 off) {
        assembly ("memory-safe") {
            off := b.offset
        }
    }

    /// @dev `n` consecutive extension elements from calldata `off`, two per calldata word. A u32
    ///      lane x is ≥ p iff bit 31 of x or of (x mod 2^31) + (2^24 − 1) is set (no carry leaves
    ///      the lane), so one test covers a word's eight lanes.
    function _decodeExts(uint256 off, uint256 n) internal pure returns (uint256[] memory v) {
        v = new uint256[](n);
        uint256 bad = type(uint256).max;
        assembly ("memory-safe") {
            let m8 := 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff
            let m16 := 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff
            let low31 := 0x7fffffff7fffffff7fffffff7fffffff7fffffff7fffffff7fffffff7fffffff
            let top := 0x8000000080000000800000008000000080000000800000008000000080000000
            let m32 := 0xffffffff
            let p := 0x7f000001
            let ri := 1057030144
            let dst := add(v, 32)
            for { let i := 0 } lt(i, n) { i := add(i, 2) } {
                let at := add(off, shl(4, i))
                let w := calldataload(at)
                w := or(shl(8, and(w, m8)), and(shr(8, w), m8))
                w := or(shl(16, and(w, m16)), and(shr(16, w), m16))
                if eq(add(i, 1), n) { w := and(w, not(sub(shl(128, 1), 1))) } // an odd last element
                if and(or(w, add(and(w, low31), 0x00ffffff00ffffff00ffffff00ffffff00ffffff00ffffff00ffffff00ffffff)), top) {
                    if eq(bad, not(0)) { bad := at }
                }
                mstore(
                    add(dst, shl(5, i)),
                    or(
                        or(mulmod(shr(224, w), ri, p), shl(64, mulmod(and(shr(192, w), m32), ri, p))),
                        or(shl(128, mulmod(and(shr(160, w), m32), ri, p)), shl(192, mulmod(and(shr(128, w), m32), ri, p)))
                    )
                )
                if lt(add(i, 1), n) {
                    mstore(
                        add(dst, shl(5, add(i, 1))),
                        or(
                            or(mulmod(and(shr(96, w), m32), ri, p), shl(64, mulmod(and(shr(64, w), m32), ri, p))),
                            or(shl(128, mulmod(and(shr(32, w), m32), ri, p)), shl(192, mulmod(and(w, m32), ri, p)))
                        )
                    )
                }
            }
        }
        if (bad != type(uint256).max) {
            _ext(bad); // reverts naming the element when it is the word's first
            _ext(bad + 16);
        }
    }

    /// @dev The extension element at calldata `off`: four little-endian Montgomery u32.
    function _ext(uint256 off) internal pure returns (uint256 e) {
        bool ok;
        (e, ok) = K.loadExt(off);
        if (!ok) revert NonCanonicalElement(off);
    }

    /// @dev Reads a multiproof header at the cursor: (first digest offset, digest count).
    function _digests(Ctx memory c) internal pure returns (uint256 off, uint256 count) {
        if (c.cursor + 2 > c.end) revert ProofTooShort(c.cursor + 2 - c.base, c.end - c.base);
        uint256 at = c.cursor;
        assembly ("memory-safe") {
            count := shr(240, calldataload(at))
        }
        off = at + 2;
        c.cursor = off + 32 * count;
        if (c.cursor > c.end) revert ProofTooShort(c.cursor - c.base, c.end - c.base);
    }

    /// @dev The public values: the 208 big-endian 16-bit limbs of the 13 words, the number of
    ///      withdrawals and WMAX amounts of 8 limbs each (zero past the count), read from the
    ///      proof's withdrawal list after checking that it hashes to `withdrawalRoot` (word 9),
    ///      then the credited deposits (`_deposits`); with their Montgomery little-endian bytes,
    ///      as the transcript observes them.
    function _publicValues(bytes calldata pi, Ctx memory c)
        internal
        view
        returns (uint256[] memory pv, bytes memory mont)
    {
        uint256 npv = NPV;
        pv = new uint256[](npv);
        mont = new bytes(4 * npv);
        uint256 list = c.offWithdrawals;
        uint256 count = uint8(bytes1(_word(list)));
        bytes32[] memory leaves = new bytes32[](count);
        uint256 withdrawn;
        for (uint256 k = 0; k < count; ++k) {
            uint256 at = list + 1 + 36 * k;
            address recipient = address(bytes20(_word(at)));
            uint256 amount = uint256(_word(at + 20)) >> 128;
            leaves[k] = WithdrawalTree.leaf(k, recipient, amount);
            withdrawn += amount;
        }
        bytes32 root = WithdrawalTree.rootOfLeaves(leaves);
        if (root != bytes32(pi[288:320])) revert WithdrawalRootMismatch(root, bytes32(pi[288:320]));
        assembly ("memory-safe") {
            let base := pi.offset
            let pvs := add(pv, 32)
            for { let i := 0 } lt(i, 208) { i := add(i, 1) } {
                let word := calldataload(add(base, mul(32, div(i, 16))))
                mstore(add(pvs, mul(i, 32)), and(shr(mul(16, sub(15, mod(i, 16))), word), 0xffff))
            }
            mstore(add(pvs, mul(208, 32)), count)
            for { let k := 0 } lt(k, count) { k := add(k, 1) } {
                let amount := shr(128, calldataload(add(list, add(21, mul(36, k)))))
                let at := add(pvs, mul(add(209, mul(8, k)), 32))
                for { let j := 0 } lt(j, 8) { j := add(j, 1) } {
                    mstore(add(at, mul(j, 32)), and(shr(mul(16, sub(7, j)), amount), 0xffff))
                }
            }
        }
        uint256 deposited = _deposits(pi, c, pv);
        _flows(c, pv, int256(deposited) - int256(withdrawn), uint256(bytes32(pi[320:352])));
        assembly ("memory-safe") {
            let pvs := add(pv, 32)
            let m := add(mont, 32)
            for { let i := 0 } lt(i, npv) { i := add(i, 1) } {
                let x := mulmod(mload(add(pvs, mul(i, 32))), 33554430, 0x7f000001)
                let p := add(m, mul(i, 4))
                mstore8(p, and(x, 0xff))
                mstore8(add(p, 1), and(shr(8, x), 0xff))
                mstore8(add(p, 2), and(shr(16, x), 0xff))
                mstore8(add(p, 3), shr(24, x))
            }
        }
    }

    /// @dev Checks the proof's queue entries against `queueStart`, `queueCount`,
    ///      `queueHashStart` and `queueHashEnd` (words 5–8, the Rollup's rolling hash) and its
    ///      rejected list against `rejectedDepositsHash` (word 11), then writes the credited
    ///      deposits — entries of kind deposit, not rejected, of a nonzero amount, in queue
    ///      order — as public values: their count, then per deposit the 11 limbs of the
    ///      recipient's account key `0x01 ‖ address` and 8 amount limbs (zero past the count).
    function _deposits(bytes calldata pi, Ctx memory c, uint256[] memory pv)
        internal
        view
        returns (uint256 total)
    {
        (uint256 start, uint256 n) = _checkQueue(pi, c);
        uint256[] memory rejected = _checkRejected(pi, c, start, n);
        uint256 countAt = 209 + 8 * WMAX;
        uint256 list = c.offQueue + 1;
        uint256 credited;
        uint256 ri;
        for (uint256 k = 0; k < n; ++k) {
            if (ri < rejected.length && rejected[ri] == start + k) {
                ++ri;
                continue;
            }
            uint256 amount = _writeCredit(pv, countAt + 1 + 19 * credited, list + 105 * k);
            if (amount != 0) ++credited;
            total += amount;
        }
        pv[countAt] = credited;
    }

    /// @dev Reads the proof's token flows (AIR rule 21) as integers, refuses them unless
    ///      `Δ balances + Δ locked = deposits − withdrawals − feesBurned` (`net` is the first two
    ///      terms), and writes them as the last public values (a negative `x` as `p + x`).
    function _flows(Ctx memory c, uint256[] memory pv, int256 net, uint256 burned) internal view {
        if (burned >> 128 != 0) revert FlowOutOfRange(FLOWS);
        net -= int256(burned);
        int256 balances;
        int256 locked;
        uint256 o = NPV - FLOWS;
        for (uint256 i = 0; i < FLOWS; ++i) {
            int256 x = int32(uint32(bytes4(_word(c.offFlows + 4 * i))));
            int256 bound = i < 16 ? int256(1 << 29) : int256(1 << 16);
            if (x >= bound || x <= -bound) revert FlowOutOfRange(i);
            if (i < 16) balances += x << (8 * (15 - i));
            else locked += x << (16 * (23 - i));
            pv[o + i] = x < 0 ? uint256(int256(K.P) + x) : uint256(x);
        }
        if (balances + locked != net) revert TokensNotConserved(balances, locked, net);
    }

    /// @dev The queue entries are `queueStart .. queueStart + queueCount` and rebuild
    ///      `queueHashEnd` from `queueHashStart`. Returns (queueStart, queueCount).
    function _checkQueue(bytes calldata pi, Ctx memory c) internal pure returns (uint256 start, uint256 n) {
        uint256 list = c.offQueue + 1;
        n = uint8(bytes1(_word(c.offQueue)));
        start = uint256(bytes32(pi[160:192]));
        if (n != uint256(bytes32(pi[192:224]))) revert QueueEntryMismatch(n);
        bytes32 h = bytes32(pi[224:256]);
        for (uint256 k = 0; k < n; ++k) {
            uint256 at = list + 105 * k;
            uint256 index = uint64(bytes8(_word(at)));
            if (index != start + k) revert QueueEntryMismatch(k);
            bytes32 e = keccak256(
                abi.encode(
                    index,
                    uint8(bytes1(_word(at + 8))),
                    address(bytes20(_word(at + 9))),
                    address(bytes20(_word(at + 29))),
                    uint256(_word(at + 49)) >> 128,
                    _word(at + 65),
                    uint64(bytes8(_word(at + 97)))
                )
            );
            h = keccak256(abi.encode(h, e));
        }
        if (h != bytes32(pi[256:288])) revert QueueHashMismatch(h, bytes32(pi[256:288]));
    }

    /// @dev The rejected indices are increasing consumed deposits and hash to
    ///      `rejectedDepositsHash` (as `abi.encodePacked(uint64[])`).
    function _checkRejected(bytes calldata pi, Ctx memory c, uint256 start, uint256 n)
        internal
        pure
        returns (uint256[] memory rejected)
    {
        rejected = new uint256[](uint8(bytes1(_word(c.offRejected))));
        uint256 list = c.offQueue + 1;
        uint256 next = start;
        for (uint256 i = 0; i < rejected.length; ++i) {
            uint256 r = uint64(bytes8(_word(c.offRejected + 1 + 8 * i)));
            if (r < next || r >= start + n || uint8(bytes1(_word(list + 105 * (r - start) + 8))) != 0) {
                revert BadRejectedDeposit(r);
            }
            next = r + 1;
            rejected[i] = r;
        }
        bytes32 rh = keccak256(abi.encodePacked(rejected));
        if (rh != bytes32(pi[352:384])) revert RejectedDepositsMismatch(rh, bytes32(pi[352:384]));
    }

    /// @dev Writes the queue entry at calldata `at` as a credited deposit at `pv[o..o + 19]` when
    ///      it is a deposit (kind 0) of a nonzero amount: the 11 limbs of `0x01 ‖ l2Target ‖ 0x00`
    ///      and 8 amount limbs, big-endian. Returns the amount it credited (0: none).
    function _writeCredit(uint256[] memory pv, uint256 o, uint256 at) internal pure returns (uint256) {
        uint256 amount = uint256(_word(at + 49)) >> 128;
        if (uint8(bytes1(_word(at + 8))) != 0 || amount == 0) return 0;
        uint256 key = (1 << 168) | (uint256(uint160(bytes20(_word(at + 29)))) << 8);
        for (uint256 j = 0; j < 11; ++j) {
            pv[o + j] = (key >> (16 * (10 - j))) & 0xffff;
        }
        for (uint256 j = 0; j < 8; ++j) {
            pv[o + 11 + j] = (amount >> (16 * (7 - j))) & 0xffff;
        }
        return amount;
    }

    // ---------------------------------------------------------------- Fiat–Shamir

    function _transcript(Ctx memory c, bytes memory pvMont) internal view {
        (bytes memory starkSeed, bytes memory friSeed) = seeds.seeds(c.db);
        bytes memory pcsSeed = seeds.pcsSeed();
        uint256 claimed = (2 * WIDTH + 8) * 16;
        Transcript.State memory t =
            Transcript.init(
            64 + starkSeed.length + pcsSeed.length + friSeed.length + pvMont.length + claimed + (16 << LOG_FINAL)
        );
        t.observeBytes(starkSeed);
        t.observeCalldata(c.base + 2, 32);
        t.observeBytes(pvMont);
        c.alpha = t.sampleExt();
        t.observeCalldata(c.base + 34, 32);
        c.zeta = t.sampleExt();
        t.observeBytes(pcsSeed);
        t.observeCalldata(c.offClaimed, claimed);
        c.friAlpha = t.sampleExt();
        t.observeBytes(friSeed);
        uint256 rounds = c.ks.length;
        c.betas = new uint256[](rounds);
        for (uint256 r = 0; r < rounds; ++r) {
            t.observeCalldata(c.offRoots + 32 * r, 32);
            c.betas[r] = t.sampleExt();
        }
        c.finalPoly = _decodeExts(c.offFinal, 1 << LOG_FINAL);
        t.observeCalldata(c.offFinal, 16 << LOG_FINAL);
        t.popByte();
        uint256 witness;
        uint256 wOff = c.offPow;
        assembly ("memory-safe") {
            witness := shr(224, calldataload(wOff))
        }
        if (K.bswap32(witness) >= K.P) revert NonCanonicalElement(wOff);
        t.observeCalldata(wOff, 4);
        if (t.sampleBits(POW_BITS) != 0) revert ProofOfWorkFailed();
        c.idx = new uint256[](QUERIES);
        for (uint256 q = 0; q < QUERIES; ++q) {
            c.idx[q] = t.sampleBits(c.h);
        }
        c.ord = _sortedOrder(c.idx);
    }

    /// @dev Query numbers ordered by index (insertion sort; 33 entries).
    function _sortedOrder(uint256[] memory idx) internal pure returns (uint256[] memory ord) {
        uint256 n = idx.length;
        ord = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            uint256 j = i;
            while (j > 0 && idx[ord[j - 1]] > idx[i]) {
                ord[j] = ord[j - 1];
                --j;
            }
            ord[j] = i;
        }
    }

    // ---------------------------------------------------------------- constraints at ζ

    function _checkConstraints(Ctx memory c, uint256[] memory pv) internal view {
        uint256 zetaN = K.square(c.zeta, c.db);
        uint256 zh = K.sub(zetaN, K.ONE);
        if (zh == 0) revert OodPointInDomain();
        uint256 omegaInv = K.inv(K.omega(c.db));
        uint256 acc = _evaluate(c, pv, zh, omegaInv);
        if (K.mul(acc, K.einv(zh)) != _quotientAtZeta(c, zetaN)) revert ConstraintMismatch();
    }

    function _evaluate(Ctx memory c, uint256[] memory pv, uint256 zh, uint256 omegaInv)
        internal
        view
        returns (uint256 acc)
    {
        uint256 w2 = 2 * WIDTH;
        uint256 k = w2 + pv.length;
        bytes memory input = new bytes(32 * (k + 4));
        uint256[] memory ov = c.ov;
        assembly ("memory-safe") {
            // The rows at ζ and ζω (the first 2W claimed values), then the public values.
            mcopy(add(input, 32), add(ov, 32), mul(32, w2))
            mcopy(add(input, add(32, mul(32, w2))), add(pv, 32), mul(32, mload(pv)))
        }
        _put(input, k, K.mul(zh, K.einv(K.sub(c.zeta, K.ONE))));
        _put(input, k + 1, K.mul(zh, K.einv(K.sub(c.zeta, omegaInv))));
        _put(input, k + 2, K.sub(c.zeta, omegaInv));
        _put(input, k + 3, c.alpha);
        try constraints.evaluate(input) returns (uint256 r) {
            acc = r;
        } catch {
            revert ConstraintEvaluationFailed();
        }
    }

    function _put(bytes memory b, uint256 i, uint256 v) private pure {
        assembly ("memory-safe") {
            mstore(add(add(b, 32), mul(i, 32)), v)
        }
    }

    /// @dev Q(ζ) from the two chunks: chunk i lives on the coset 3·ω^i·H of the quotient
    ///      domain, and with u = (ζ/3)^n the vanishing ratios are (1+u)/2 and (1-u)/2.
    function _quotientAtZeta(Ctx memory c, uint256 zetaN) internal view returns (uint256) {
        uint256 base = 2 * WIDTH;
        uint256[2] memory chunk;
        for (uint256 i = 0; i < 2; ++i) {
            uint256 o = base + 4 * i;
            // Σ_k q_k · X^k, Horner from the top coefficient.
            uint256 v = c.ov[o + 3];
            for (uint256 k = 3; k > 0; --k) {
                v = K.add(K.mulX(v), c.ov[o + k - 1]);
            }
            chunk[i] = v;
        }
        uint256 u = K.scale(zetaN, K.pow(K.INV3, 1 << c.db));
        uint256 z0 = K.scale(K.add(K.ONE, u), K.INV2);
        uint256 z1 = K.scale(K.sub(K.ONE, u), K.INV2);
        return K.add(K.mul(z0, chunk[0]), K.mul(z1, chunk[1]));
    }

    // ---------------------------------------------------------------- FRI

    struct Fri {
        uint256[] pw; // α^0..α^(W-1) (trace columns), then α^(2W)..α^(2W+7) (quotient columns)
        uint256 sumZ; // Σ α^i·t_i(ζ) + Σ α^(2W+j)·q_j(ζ)
        uint256 sumZN; // Σ α^(W+i)·t_i(ζω)
        uint256 alphaW; // α^W
        uint256 zetaNext;
        uint256[] folded;
        uint256[] invS; // per query: 1/s, s the first point of its row at the current round
        uint256[] tw; // ω_j^-rev(m, j-1) at (2^(j-1) - 1) + m, for j ≤ LOG_ARITY, m < 2^(j-1)
    }

    function _checkFri(Ctx memory c) internal view {
        Fri memory f = _prepare(c);
        bytes32[] memory traceLeaves = new bytes32[](QUERIES);
        bytes32[] memory quotLeaves = new bytes32[](QUERIES);
        for (uint256 q = 0; q < QUERIES; ++q) {
            (traceLeaves[q], quotLeaves[q]) = _openQuery(c, f, q);
        }
        _merkle(c, traceLeaves, 0, c.h, _root(c.base + 2), 0);
        _merkle(c, quotLeaves, 0, c.h, _root(c.base + 34), 1);
        uint256 shift = 0;
        for (uint256 r = 0; r < c.ks.length; ++r) {
            _foldRound(c, f, r, shift);
            shift += c.ks[r];
        }
        _checkFinal(c, f, shift);
        if (c.cursor != c.offWithdrawals) revert ProofTooLong(c.cursor - c.base, c.offWithdrawals - c.base);
    }

    /// @dev Every query's last fold equals the final polynomial at its point of the final
    ///      domain: x = ω_lf^rev(i >> shift), lf = log2 of that domain (Plonky3's `horner`).
    function _checkFinal(Ctx memory c, Fri memory f, uint256 shift) internal view {
        uint256[] memory fp = c.finalPoly;
        uint256 n = fp.length;
        uint256 lf = c.h - shift;
        uint256 w = K.omega(lf);
        for (uint256 q = 0; q < QUERIES; ++q) {
            uint256 v = fp[n - 1];
            if (n > 1) {
                uint256 x = K.pow(w, _reverse(c.idx[q] >> shift, lf));
                for (uint256 j = n - 1; j > 0; --j) {
                    v = K.add(K.scale(v, x), fp[j - 1]);
                }
            }
            if (f.folded[q] != v) revert FinalPolyMismatch(q);
        }
    }

    function _root(uint256 off) internal pure returns (bytes32 r) {
        assembly ("memory-safe") {
            r := calldataload(off)
        }
    }

    /// @dev Powers of the batching challenge and the ζ-side sums of the reduced openings.
    function _prepare(Ctx memory c) internal view returns (Fri memory f) {
        uint256 w = WIDTH;
        f.folded = new uint256[](QUERIES);
        f.invS = new uint256[](QUERIES);
        f.tw = _twiddles();
        f.zetaNext = K.scale(c.zeta, K.omega(c.db));
        uint256[] memory pw = K.powers(c.friAlpha, w + 8);
        f.alphaW = K.mul(pw[w - 1], c.friAlpha);
        uint256 a2w = K.mul(f.alphaW, f.alphaW);
        for (uint256 j = 0; j < 8; ++j) {
            pw[w + j] = K.mul(a2w, pw[j]);
        }
        uint256[] memory ov = c.ov;
        f.sumZ = K.add(K.dot(pw, 0, ov, 0, w), K.dot(pw, w, ov, 2 * w, 8));
        f.sumZN = K.mul(f.alphaW, K.dot(pw, 0, ov, w, w));
        f.pw = pw;
    }

    /// @dev The reduced opening of query `q` and its two leaf hashes.
    function _openQuery(Ctx memory c, Fri memory f, uint256 q) internal view returns (bytes32 tl, bytes32 ql) {
        uint256 x = _queryPoint(c, f, q);
        uint256 row = c.offRows + q * (4 * WIDTH + 32);
        uint256 innerT = _inner(row, WIDTH, f.pw, 0);
        uint256 innerQ = _inner(row + 4 * WIDTH, 8, f.pw, WIDTH);
        f.folded[q] = _reduced(c, f, x, innerT, innerQ, q);
        uint256 tlen = 4 * WIDTH;
        assembly ("memory-safe") {
            let p := mload(0x40)
            calldatacopy(p, row, add(tlen, 32))
            tl := keccak256(p, tlen)
            ql := keccak256(add(p, tlen), 32)
        }
    }

    /// @dev ω_j^-rev(m, j-1) for the pairs of every sub-fold of a row (see `_foldRow`).
    function _twiddles() internal view returns (uint256[] memory tw) {
        tw = new uint256[]((1 << LOG_ARITY) - 1);
        for (uint256 j = 1; j <= LOG_ARITY; ++j) {
            uint256 wInv = K.pow(K.omega(j), (1 << j) - 1);
            for (uint256 m = 0; m < 1 << (j - 1); ++m) {
                tw[(1 << (j - 1)) - 1 + m] = K.pow(wInv, _reverse(m, j - 1));
            }
        }
    }

    /// @dev x = 3·ω_H^rev(i) = 3·s0·ω_k^rev(i mod 2^k, k), with k the first round's log-arity and
    ///      s0 = ω_H^rev(i >> k, H - k) the first point of the query's row; records 1/s0.
    function _queryPoint(Ctx memory c, Fri memory f, uint256 q) internal view returns (uint256 x) {
        uint256 i = c.idx[q];
        uint256 k = c.ks[0];
        uint256 s0 = K.pow(K.omega(c.h), _reverse(i >> k, c.h - k));
        uint256 rot = K.pow(K.omega(k), _reverse(i & ((1 << k) - 1), k));
        x = mulmod(mulmod(K.GENERATOR, s0, K.P), rot, K.P);
        f.invS[q] = K.inv(s0);
    }

    /// @dev (Σ_z − inner)/(ζ − x) + (Σ_zω − α^W·innerT)/(ζω − x).
    function _reduced(Ctx memory c, Fri memory f, uint256 x, uint256 innerT, uint256 innerQ, uint256 q)
        internal
        view
        returns (uint256)
    {
        uint256 d1 = K.sub(c.zeta, x);
        uint256 d2 = K.sub(f.zetaNext, x);
        if (d1 == 0 || d2 == 0) revert QueryPointCollision(q);
        uint256 atZ = K.mul(K.sub(f.sumZ, K.add(innerT, innerQ)), K.einv(d1));
        return K.add(atZ, K.mul(K.sub(f.sumZN, K.mul(f.alphaW, innerT)), K.einv(d2)));
    }

    /// @dev Σ_k α^(start+k) · v_k over `n` little-endian Montgomery u32 at calldata `off`, with
    ///      the Montgomery factor removed once at the end. One multiplication per value: v times
    ///      the packed power gives four 62-bit lane products; four of them are summed in 64-bit
    ///      lanes, then spread into 128-bit accumulators (lanes 0 and 2, lanes 1 and 3).
    function _inner(uint256 off, uint256 n, uint256[] memory pw, uint256 start) internal pure returns (uint256 e) {
        uint256 seen; // OR of every value: bit 31 of a lane set = a value ≥ 2^31 (never canonical)
        assembly ("memory-safe") {
            let accX := 0
            let accY := 0
            let pa := add(add(pw, 32), mul(start, 32))
            let m8 := 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff
            let m16 := 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff
            let m32 := 0xffffffff
            let l02 := 0x0000000000000000ffffffffffffffff0000000000000000ffffffffffffffff
            let full := sub(n, mod(n, 8))
            let i := 0
            for {} lt(i, full) { i := add(i, 8) } {
                let w := calldataload(add(off, mul(i, 4)))
                w := or(shl(8, and(w, m8)), and(shr(8, w), m8))
                w := or(shl(16, and(w, m16)), and(shr(16, w), m16))
                seen := or(seen, w)
                let t := mul(shr(224, w), mload(pa))
                t := add(t, mul(and(shr(192, w), m32), mload(add(pa, 32))))
                t := add(t, mul(and(shr(160, w), m32), mload(add(pa, 64))))
                t := add(t, mul(and(shr(128, w), m32), mload(add(pa, 96))))
                accX := add(accX, and(t, l02))
                accY := add(accY, and(shr(64, t), l02))
                t := mul(and(shr(96, w), m32), mload(add(pa, 128)))
                t := add(t, mul(and(shr(64, w), m32), mload(add(pa, 160))))
                t := add(t, mul(and(shr(32, w), m32), mload(add(pa, 192))))
                t := add(t, mul(and(w, m32), mload(add(pa, 224))))
                accX := add(accX, and(t, l02))
                accY := add(accY, and(shr(64, t), l02))
                pa := add(pa, 256)
            }
            if lt(i, n) {
                let w := calldataload(add(off, mul(i, 4)))
                w := or(shl(8, and(w, m8)), and(shr(8, w), m8))
                w := or(shl(16, and(w, m16)), and(shr(16, w), m16))
                for { let sh := 224 } lt(i, n) {
                    i := add(i, 1)
                    sh := sub(sh, 32)
                } {
                    let v := and(shr(sh, w), m32)
                    seen := or(seen, v)
                    let t := mul(v, mload(pa))
                    accX := add(accX, and(t, l02))
                    accY := add(accY, and(shr(64, t), l02))
                    pa := add(pa, 32)
                }
            }
            let lo := 0xffffffffffffffffffffffffffffffff
            let p := 0x7f000001
            let ri := 1057030144
            let c0 := mulmod(mod(and(accX, lo), p), ri, p)
            let c1 := mulmod(mod(and(accY, lo), p), ri, p)
            let c2 := mulmod(mod(shr(128, accX), p), ri, p)
            let c3 := mulmod(mod(shr(128, accY), p), ri, p)
            e := or(or(c0, shl(64, c1)), or(shl(128, c2), shl(192, c3)))
        }
        // Lane sums assume values < 2^31; a value in [p, 2^31) acts as its residue (linearly),
        // anything larger could carry between lanes and is refused.
        if (seen & 0x8000000080000000800000008000000080000000800000008000000080000000 != 0) {
            revert NonCanonicalElement(off);
        }
    }

    /// @dev Bit reversal of the low `bits` bits.
    function _reverse(uint256 x, uint256 bits) internal pure returns (uint256 r) {
        assembly ("memory-safe") {
            for { let i := 0 } lt(i, bits) { i := add(i, 1) } { r := or(shl(1, r), and(shr(i, x), 1)) }
        }
    }

    /// @dev FRI round `r` (the query indices are `idx >> shift` at its input): rebuild each
    ///      query's row of 2^k values, fold it with β_r, check the round's Merkle multiproof.
    function _foldRound(Ctx memory c, Fri memory f, uint256 r, uint256 shift) internal view {
        bytes32[] memory leaves = _foldLayer(c, f, r, shift);
        uint256 k = c.ks[r];
        _merkle(c, leaves, shift + k, c.h - shift - k, _root(c.offRoots + 32 * r), 2 + r);
    }

    /// @dev The folding half of round `r`: reads the round's siblings, folds every query's row
    ///      and returns the rows' leaf hashes for the round's multiproof.
    function _foldLayer(Ctx memory c, Fri memory f, uint256 r, uint256 shift)
        internal
        view
        returns (bytes32[] memory leaves)
    {
        uint256 k = c.ks[r];
        uint256 sibOff = c.cursor;
        c.cursor += 16 * ((1 << k) - 1) * QUERIES;
        if (c.cursor > c.end) revert ProofTooShort(c.cursor - c.base, c.end - c.base);
        uint256[] memory betas = new uint256[](k);
        betas[0] = c.betas[r];
        for (uint256 l = 1; l < k; ++l) {
            betas[l] = K.mul(betas[l - 1], betas[l - 1]);
        }
        leaves = _foldQueries(c, f, r, shift, sibOff, betas);
    }

    /// @dev Folds every query's row of round `r` and moves 1/s to the next round's row:
    ///      1/s' = (1/s)^(2^k) · ω_k'^rev(g mod 2^k', k'), g = i >> k the row index.
    function _foldQueries(
        Ctx memory c,
        Fri memory f,
        uint256 r,
        uint256 shift,
        uint256 sibOff,
        uint256[] memory betas
    ) internal view returns (bytes32[] memory leaves) {
        uint256 k = c.ks[r];
        uint256 kNext = r + 1 < c.ks.length ? c.ks[r + 1] : 0;
        uint256 wNext = K.omega(kNext);
        leaves = new bytes32[](QUERIES);
        for (uint256 q = 0; q < QUERIES; ++q) {
            uint256 i = c.idx[q] >> shift;
            leaves[q] = _foldRow(f, q, i, k, sibOff + 16 * ((1 << k) - 1) * q, betas);
            if (kNext > 0) {
                uint256 g = (i >> k) & ((1 << kNext) - 1);
                f.invS[q] = mulmod(f.invS[q], K.pow(wNext, _reverse(g, kNext)), K.P);
            }
        }
    }

    /// @dev One query's row at a round of arity 2^k where its index is `i`: the folded value sits
    ///      at i mod 2^k, the 2^k - 1 siblings (calldata `off`) fill the other slots. Returns the
    ///      row's leaf hash. The row holds f at s·ω_k^rev(j) (s = 1/invS); it folds in k halvings
    ///      (lo + hi)/2 + β_l·(lo − hi)/(2x), pair m of level l at x = s^(2^l)·ω_(k−l)^rev(m),
    ///      which is f(β) (Plonky3's Lagrange fold). invS becomes (1/s)^(2^k).
    function _foldRow(Fri memory f, uint256 q, uint256 i, uint256 k, uint256 off, uint256[] memory betas)
        internal
        pure
        returns (bytes32 h)
    {
        uint256 j0 = i & ((1 << k) - 1);
        uint256 cur = f.folded[q];
        h = _rowLeaf(cur, j0, k, off);
        (uint256[] memory v, bool ok) = _rowMont(cur, j0, k, off);
        if (!ok) revert NonCanonicalElement(off);
        (f.folded[q], f.invS[q]) = _foldMont(v, k, f.invS[q], f.tw, betas);
    }

    /// @dev keccak of the row's 2^k elements as Montgomery bytes: the siblings as they are in
    ///      calldata (canonical, checked by `_rowMont`) around `cur`.
    function _rowLeaf(uint256 cur, uint256 j0, uint256 k, uint256 off) internal pure returns (bytes32 h) {
        uint256 mont = K.montBytes(cur);
        assembly ("memory-safe") {
            let n := shl(k, 1)
            let buf := mload(0x40)
            calldatacopy(buf, off, mul(16, j0))
            mstore(add(buf, mul(16, j0)), mont)
            calldatacopy(add(buf, mul(16, add(j0, 1))), add(off, mul(16, j0)), mul(16, sub(sub(n, 1), j0)))
            h := keccak256(buf, mul(16, n))
        }
    }

    /// @dev The row in Montgomery form (each coefficient times 2^32 mod p, packed like any
    ///      extension element): the siblings straight from calldata `off`, `cur` converted, at
    ///      slot j0. Folding is linear, so the row folds in this form and converts back once.
    ///      `ok` is false when a sibling coefficient is not below p.
    function _rowMont(uint256 cur, uint256 j0, uint256 k, uint256 off)
        internal
        pure
        returns (uint256[] memory v, bool ok)
    {
        uint256 curM = K.scale(cur, K.MONT_R);
        assembly ("memory-safe") {
            // One sibling: four little-endian u32 → packed lanes; bad when a lane is ≥ p.
            function load(src) -> e, bad {
                let w := calldataload(src)
                w := or(shl(8, and(w, 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff)),
                    and(shr(8, w), 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff))
                w := or(shl(16, and(w, 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff)),
                    and(shr(16, w), 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff))
                let x0 := shr(224, w)
                let x1 := and(shr(192, w), 0xffffffff)
                let x2 := and(shr(160, w), 0xffffffff)
                let x3 := and(shr(128, w), 0xffffffff)
                let p := 0x7f000001
                bad := iszero(and(and(lt(x0, p), lt(x1, p)), and(lt(x2, p), lt(x3, p))))
                e := or(or(x0, shl(64, x1)), or(shl(128, x2), shl(192, x3)))
            }
            let n := shl(k, 1)
            v := mload(0x40)
            mstore(v, n)
            mstore(0x40, add(v, shl(5, add(n, 1))))
            let anyBad := 0
            let src := off
            for { let j := 0 } lt(j, n) { j := add(j, 1) } {
                let dst := add(add(v, 32), shl(5, j))
                switch eq(j, j0)
                case 1 { mstore(dst, curM) }
                default {
                    let e, bad := load(src)
                    src := add(src, 16)
                    anyBad := or(anyBad, bad)
                    mstore(dst, e)
                }
            }
            ok := iszero(anyBad)
        }
    }

    /// @dev Folds a Montgomery-form row of 2^k values in k halvings (see `_foldRow`) and
    ///      returns f(β) in canonical form and (1/s)^(2^k). One extension multiplication (by
    ///      β^(2^l)) per pair: (lo + hi)/2 + β_l · (lo − hi) · (1/x)/2.
    function _foldMont(uint256[] memory v, uint256 k, uint256 inv, uint256[] memory tw, uint256[] memory betas)
        internal
        pure
        returns (uint256 res, uint256 invOut)
    {
        assembly ("memory-safe") {
            function foldPair(lo, hi, kk, beta) -> r {
                let p := 0x7f000001
                let m := 0xffffffffffffffff
                let d0 := mulmod(add(and(lo, m), sub(p, and(hi, m))), kk, p)
                let d1 := mulmod(add(and(shr(64, lo), m), sub(p, and(shr(64, hi), m))), kk, p)
                let d2 := mulmod(add(and(shr(128, lo), m), sub(p, and(shr(128, hi), m))), kk, p)
                let d3 := mulmod(add(shr(192, lo), sub(p, shr(192, hi))), kk, p)
                let h := mul(add(lo, hi), 1065353217) // lanes (lo + hi)/2 unreduced: < 2^63, no carry
                // d · β with one MUL and one MULMOD (KoalaBear.mul): lane c_m + 3·c_(m+4) is
                // 3·w_m + 2·(p·2^34 − l_m), then + h_m, reduced.
                let d := or(or(d0, shl(64, d1)), or(shl(128, d2), shl(192, d3)))
                let l := mul(d, beta)
                let w := mulmod(d, beta, not(0))
                let big := 0x1fc00000400000000 // p · 2^34
                r := mod(add(add(mul(3, and(w, m)), shl(1, sub(big, and(l, m)))), and(h, m)), p)
                r := or(r, shl(64, mod(add(add(mul(3, and(shr(64, w), m)), shl(1, sub(big, and(shr(64, l), m)))), and(shr(64, h), m)), p)))
                r := or(r, shl(128, mod(add(add(mul(3, and(shr(128, w), m)), shl(1, sub(big, and(shr(128, l), m)))), and(shr(128, h), m)), p)))
                r := or(r, shl(192, mod(add(add(mul(3, shr(192, w)), shl(1, sub(big, shr(192, l)))), shr(192, h)), p)))
            }
            let pv := add(v, 32)
            for { let l := 0 } lt(l, k) { l := add(l, 1) } {
                let pairs := shl(sub(sub(k, l), 1), 1)
                let beta := mload(add(add(betas, 32), shl(5, l)))
                let ptw := add(add(tw, 32), shl(5, sub(pairs, 1)))
                for { let m := 0 } lt(m, pairs) { m := add(m, 1) } {
                    let kk := mulmod(1065353217, mulmod(inv, mload(add(ptw, shl(5, m))), 0x7f000001), 0x7f000001)
                    let at := add(pv, shl(6, m))
                    mstore(add(pv, shl(5, m)), foldPair(mload(at), mload(add(at, 32)), kk, beta))
                }
                inv := mulmod(inv, inv, 0x7f000001)
            }
            res := mload(pv)
            invOut := inv
        }
        res = K.scale(res, K.MONT_R_INV);
    }

    // ---------------------------------------------------------------- Merkle multiproofs

    /// @dev Checks a pruned multiproof (Plonky3 0.8: boundary digests level by level, ascending)
    ///      for the queries' leaves at indices idx >> shift in a tree of `height` levels.
    function _merkle(Ctx memory c, bytes32[] memory leaves, uint256 shift, uint256 height, bytes32 root, uint256 tree)
        internal
        pure
    {
        (uint256 off, uint256 count) = _digests(c);
        uint256 n = leaves.length;
        uint256[] memory ni = new uint256[](n);
        bytes32[] memory nh = new bytes32[](n);
        uint256 m = 0;
        for (uint256 k = 0; k < n; ++k) {
            uint256 q = c.ord[k];
            uint256 ix = c.idx[q] >> shift;
            if (m > 0 && ni[m - 1] == ix) {
                if (nh[m - 1] != leaves[q]) revert DuplicateLeafMismatch(tree);
                continue;
            }
            ni[m] = ix;
            nh[m] = leaves[q];
            ++m;
        }
        (uint256 used, bool overrun) = _climb(ni, nh, m, height, off, count);
        if (overrun || used != count) revert MerkleProofSize(tree);
        if (nh[0] != root) revert MerkleRootMismatch(tree);
    }

    /// @dev Hashes the sorted unique frontier (ni, nh) of m nodes up `height` levels: pairs of
    ///      siblings combine, every other node takes the next proof digest as its sibling.
    function _climb(uint256[] memory ni, bytes32[] memory nh, uint256 m, uint256 height, uint256 off, uint256 count)
        private
        pure
        returns (uint256 used, bool overrun)
    {
        assembly ("memory-safe") {
            let pi := add(ni, 32)
            let ph := add(nh, 32)
            for { let level := 0 } lt(level, height) { level := add(level, 1) } {
                let k := 0
                for { let i := 0 } lt(i, m) {} {
                    let j := mload(add(pi, shl(5, i)))
                    let a := mload(add(ph, shl(5, i)))
                    let b := 0
                    let i1 := add(i, 1)
                    let paired := 0
                    if iszero(and(j, 1)) {
                        if lt(i1, m) { paired := eq(mload(add(pi, shl(5, i1))), add(j, 1)) }
                    }
                    switch paired
                    case 1 {
                        b := mload(add(ph, shl(5, i1)))
                        i := add(i, 2)
                    }
                    default {
                        if eq(used, count) { overrun := 1 }
                        b := calldataload(add(off, shl(5, used)))
                        used := add(used, 1)
                        if and(j, 1) {
                            let t := a
                            a := b
                            b := t
                        }
                        i := i1
                    }
                    mstore(0, a)
                    mstore(32, b)
                    mstore(add(pi, shl(5, k)), shr(1, j))
                    mstore(add(ph, shl(5, k)), keccak256(0, 64))
                    k := add(k, 1)
                }
                m := k
            }
        }
    }
}
