//! Column layout of the batch trace (one row = two Poseidon2 permutations plus control columns).
//!
//! Lane A hashes the *old* leaf and its path, lane B the *new* leaf and the same path. An update
//! is a block of rows: `S ≥ 1` sponge rows (both leaves absorbed in parallel) then `depth` path
//! rows (one tree level per row). See `docs/prover.md` for the constraint list.

use crate::poseidon2::PERM_COLS;

/// Lane A (old leaf, old path) permutation block.
pub const LANE_A: usize = 0;
/// Lane B (new leaf, new path) permutation block.
pub const LANE_B: usize = PERM_COLS;

const C: usize = 2 * PERM_COLS;
/// 1 on rows of an update, 0 on padding.
pub const IS_UPD: usize = C;
/// First row of an update.
pub const FIRST: usize = C + 1;
/// Sponge row.
pub const SP: usize = C + 2;
/// Merkle-path row.
pub const PATH: usize = C + 3;
/// Last row of an update (the root level).
pub const LAST: usize = C + 4;
/// Second row of an update (= previous row's `FIRST`).
pub const R1: usize = C + 5;
/// Third row of an update.
pub const R2: usize = C + 6;
/// Path bit of this level: 1 if the running node is the right child.
pub const BIT: usize = C + 7;
/// Tree level of a path row.
pub const LEVEL: usize = C + 8;
/// Lane A absorbs a sponge chunk on this row.
pub const ACT_A: usize = C + 9;
/// Lane B absorbs a sponge chunk on this row.
pub const ACT_B: usize = C + 10;
/// The update is an account update (arithmetic constrained).
pub const ACCT: usize = C + 11;
/// Old leaf is an account value (balance ‖ nonce).
pub const VAL_A: usize = C + 12;
/// Old leaf is the account's tombstone.
pub const TOMB_A: usize = C + 13;
/// New leaf is an account value.
pub const VAL_B: usize = C + 14;
/// New leaf is the account's tombstone.
pub const TOMB_B: usize = C + 15;
/// +1: credit, −1: debit.
pub const SIGN: usize = C + 16;
/// The nonce's increase (16-bit: the queue entry [`rq::NONCE_STEP`]).
pub const BUMP: usize = C + 17;
/// `ACCT · FIRST`, committed to keep the arithmetic constraints at degree 3.
pub const AF: usize = C + 18;
/// Lane A digest register (8).
pub const D_A: usize = C + 19;
/// Lane B digest register (8).
pub const D_B: usize = D_A + 8;
/// Running state root (8).
pub const ROOT: usize = D_B + 8;
/// Account key limbs (11): `0x01 ‖ address` as 16-bit limbs.
pub const KEY: usize = ROOT + 8;
/// Number of key limbs.
pub const KEY_LIMBS: usize = 11;
/// Amount limbs (8, big-endian), carried through the update.
pub const AMT: usize = KEY + KEY_LIMBS;
/// Range-check queue: shifts by two entries per row, the first two are range-checked.
pub const RQ: usize = AMT + 8;
/// Entries of the range-check queue.
pub const RQ_LEN: usize = 36;
/// Bits of `RQ[0]` and `RQ[1]` (16 each, little-endian).
pub const BITS: usize = RQ + RQ_LEN;
/// Balance carries `c1..c7` (c0 = c8 = 0).
pub const CARRY: usize = BITS + 32;
/// Nonce carries `k1..k3` (k0 = 0; the step `BUMP` enters at the last limb).
pub const NCARRY: usize = CARRY + 7;
/// Non-account updates: inverse of `tag − 1`, so the key is not an account key.
pub const TINV: usize = NCARRY + 3;
/// Non-account updates: inverse of `tag − 3` (anything on a job update).
pub const JINV: usize = TINV + 1;
/// The update rewrites a job leaf (key tag 3); carried through the update.
pub const IS_JOB: usize = JINV + 1;
/// Row index inside the update (0 on its first row).
pub const SC: usize = IS_JOB + 1;
/// Row markers: `M[k]` is 1 exactly on row [`MARKED_ROWS`]`[k]` of an update.
pub const MARK: usize = SC + 1;
/// Inverses of `SC − MARKED_ROWS[k]` (0 on the marked row).
pub const MARK_INV: usize = MARK + MARKED_ROWS.len();
/// `IS_JOB · MARK[0]` (the job's status row), committed to keep degree 3.
pub const JM9: usize = MARK_INV + MARKED_ROWS.len();
/// `IS_JOB · FIRST`.
pub const JF: usize = JM9 + 1;
/// Lane A holds a job value (it still absorbs on the status row); carried.
pub const JV_A: usize = JF + 1;
/// Lane B holds a job value; carried.
pub const JV_B: usize = JV_A + 1;
/// Old job status byte ([`NO_STATUS`] without a job value); carried.
pub const ST_A: usize = JV_B + 1;
/// New job status byte; carried.
pub const ST_B: usize = ST_A + 1;
/// One selector per allowed job status transition ([`JOB_TRANSITIONS`]).
pub const JT: usize = ST_B + 1;
/// `JT[settle] · SP · (1 − MARK[0])`: sponge inputs that a settle must leave unchanged.
pub const NS: usize = JT + JOB_TRANSITIONS.len();
/// Running sum of the new leaf's attestation limbs (rows 13 and 14 of a job update).
pub const ASUM: usize = NS + 1;
/// Inverse of the attestation limb sum (an attest's row 14).
pub const AINV: usize = ASUM + 1;
/// `JT[attest] · MARK[2]`.
pub const PA: usize = AINV + 1;
/// The update rewrites the `Totals` leaf (`KEY[0] = 0`); carried.
pub const IS_TOT: usize = PA + 1;
/// Non-account updates: inverse of `KEY[0]` (anything on a `Totals` update).
pub const TOTINV: usize = IS_TOT + 1;
/// `IS_TOT · FIRST`.
pub const TF: usize = TOTINV + 1;
/// Running sums over the trace of `new − old` of the `Totals` limbs: deposits consumed (4 limbs),
/// burned (8 limbs), then locked (8 limbs), big-endian. They telescope to `end − start` of the
/// batch.
pub const DELTA: usize = TF + 1;
/// Limbs in [`DELTA`].
pub const DELTA_LIMBS: usize = 20;
/// First of the [`DELTA`] sums of `Totals::locked`.
pub const DELTA_LOCKED: usize = 12;
/// Last row: carries `c1..c7` of `burned_end = burned_start + feesBurned`.
pub const BCARRY: usize = DELTA + DELTA_LIMBS;
/// Last row: carries `c1..c3` of `consumed_end = consumed_start + queueCount`.
pub const QCARRY: usize = BCARRY + 7;
/// `Totals` updates: lane A is an empty slot (the leaf is created); carried.
pub const ZA: usize = QCARRY + 3;
/// `Totals` updates: path level modulo 16 (0 on sponge rows).
pub const CNT: usize = ZA + 1;
/// `Totals` updates: `CNT = 15`.
pub const W16: usize = CNT + 1;
/// Inverse of `CNT − 15`.
pub const W16_INV: usize = W16 + 1;
/// `IS_TOT · (PATH − LAST)`.
pub const TG: usize = W16_INV + 1;
/// `Totals` updates: the bits of the home slot still to be matched, 16 per entry, the current
/// chunk first (it halves on each path row and shifts every 16 levels).
pub const SLOTQ: usize = TG + 1;
/// A withdrawal debit: set only on the first row of an account debit that L1 pays out as the
/// next entry of the batch's withdrawal list (its amount must equal that entry's).
pub const WF: usize = SLOTQ + 4;
/// One-hot position in the withdrawal list (`WMAX + 1` columns): `WSEL[k] = 1` while `k`
/// withdrawals have been matched; it moves one step at each [`WF`] row.
pub const WSEL: usize = WF + 1;
/// A deposit credit: set only on the first row of an account credit that is the next credited
/// deposit of the batch's queue entries (its key and amount must equal that entry's).
pub const DF: usize = WSEL + crate::public::WMAX + 1;
/// One-hot position in the credited-deposit list (`DMAX + 1` columns), like [`WSEL`].
pub const DSEL: usize = DF + 1;
/// `ACCT · SIGN`: +1 on a credit's rows, −1 on a debit's, 0 elsewhere.
pub const ASG: usize = DSEL + crate::public::DMAX + 1;
/// Signed running sums over the account updates of each byte of the amount (16, big-endian):
/// `Σ ±byte_k`, read from the range-check bits of the amount limbs on rows 0..3 of the update.
/// With bytes (< 2^8) they stay far below `p / 2` for any trace the field allows, so the
/// verifier reads them as integers: the batch's net change of all account balances.
pub const BSUM: usize = ASG + 1;
/// Total width.
pub const WIDTH: usize = BSUM + 16;

/// Rows of an update that carry a marker: the job status row, the attestation rows, the
/// `Totals` burned rows, the last row of a job value and the `Totals` locked rows.
pub const MARKED_ROWS: [usize; 8] = [
    job::STATUS_LIMB / 8,
    job::ATTESTATION_LIMB / 8,
    job::ATTESTATION_LIMB / 8 + 1,
    totals::BURNED_LIMB / 8,
    totals::BURNED_LIMB / 8 + 1,
    (job::LEAF_LIMBS as usize).div_ceil(8) - 1,
    totals::LOCKED_LIMB / 8,
    totals::LOCKED_LIMB / 8 + 1,
];

/// Indices into [`MARKED_ROWS`] and the [`MARK`] columns.
pub mod mark {
    /// A job's status row.
    pub const JOB_STATUS: usize = 0;
    /// The first row of a job's attestation.
    pub const JOB_ATTESTATION: usize = 1;
    /// The second row of a job's attestation.
    pub const JOB_ATTESTATION_NEXT: usize = 2;
    /// The `Totals` row holding burned limbs 0..7.
    pub const TOTALS_BURNED: usize = 3;
    /// The `Totals` row holding burned limb 7.
    pub const TOTALS_BURNED_NEXT: usize = 4;
    /// The last row of a job value.
    pub const JOB_LAST: usize = 5;
    /// The `Totals` row holding locked limbs 0..3.
    pub const TOTALS_LOCKED: usize = 6;
    /// The `Totals` row holding locked limbs 3..8.
    pub const TOTALS_LOCKED_NEXT: usize = 7;
}

/// `Totals` leaf positions (limb indices into `limbs(key) ‖ limbs(value)`, key = one limb 0).
pub mod totals {
    /// Limbs of the `Totals` leaf (1 key limb, 60 value limbs).
    pub const LEAF_LIMBS: u32 = 61;
    /// First of the 4 limbs of `deposits_consumed` (row 0, positions 1..5).
    pub const CONSUMED_LIMB: usize = 1;
    /// First of the 8 limbs of `burned` (row 3, positions 1..8, and row 4, position 0).
    pub const BURNED_LIMB: usize = 25;
    /// Queue entries (indices on the first row) range-checking the new leaf's consumed limbs,
    /// burned limbs 0..7 (bound on row 3) and burned limb 7 (bound on row 4).
    pub const RQ_CONSUMED: usize = 4;
    /// See [`RQ_CONSUMED`].
    pub const RQ_BURNED: usize = 8;
    /// First of the 8 limbs of `locked` (row 6, positions 5..8, and row 7, positions 0..5).
    pub const LOCKED_LIMB: usize = 53;
    /// Queue entries range-checking the new leaf's locked limbs 0..3 (bound on row 6) and 3..8
    /// (bound on row 7).
    pub const RQ_LOCKED: usize = 16;
    /// Public word of `queueCount` and of `feesBurned` (16 limbs each).
    pub const PV_QUEUE_COUNT: usize = 6 * 16;
    /// See [`PV_QUEUE_COUNT`].
    pub const PV_FEES_BURNED: usize = 10 * 16;
}

/// Job leaf positions (limb indices into `limbs(key) ‖ limbs(value)` of a `Job` leaf).
pub mod job {
    /// Key tag of job leaves.
    pub const TAG: u32 = 3;
    /// Limbs of a job leaf (5 key limbs, 126 value limbs).
    pub const LEAF_LIMBS: u32 = 131;
    /// The limb whose low byte is the status (its high byte ends the client address).
    pub const STATUS_LIMB: usize = 72;
    /// First of the 16 attestation limbs.
    pub const ATTESTATION_LIMB: usize = 107;
    /// Number of attestation limbs.
    pub const ATTESTATION_LIMBS: usize = 16;
    /// Where the queue holds the status decomposition on the status row (`H, 256H, S, 256S`
    /// for lane A then lane B), as indices on the update's first row.
    pub const RQ_STATUS: usize = 2 * (STATUS_LIMB / 8);
}

/// Status of a lane without a job value (empty slot, tombstone or a short leaf).
pub const NO_STATUS: u32 = 7;
/// The job status transitions a job update may make, `(old, new)`: post, assign, cancel,
/// accept, cancel/time out, stream, attest, time out, settle, slash.
pub const JOB_TRANSITIONS: [(u32, u32); 10] =
    [(NO_STATUS, 0), (0, 1), (0, 5), (1, 2), (1, 5), (2, 2), (2, 3), (2, 5), (3, 4), (3, 5)];
/// Index of `Running → Attested` in [`JOB_TRANSITIONS`].
pub const JT_ATTEST: usize = 6;
/// Index of `Attested → Settled` in [`JOB_TRANSITIONS`].
pub const JT_SETTLE: usize = 8;

/// Positions inside the range-check queue as seen on an update's first row.
pub mod rq {
    /// Amount limbs 0..8.
    pub const AMT: usize = 0;
    /// Non-account updates: the key's tag byte `t`, `256·t`, its next byte `u`, `256·u`.
    pub const KEY_BYTES: usize = 0;
    /// `256 · (key[0] − 256)`: with the next entry, shows the key's tag byte is 1.
    pub const TAG_SCALED: usize = 8;
    /// `key[0] − 256`.
    pub const TAG: usize = 9;
    /// Old balance limbs.
    pub const OLD_BAL: usize = 10;
    /// New balance limbs.
    pub const NEW_BAL: usize = 18;
    /// Old nonce limbs.
    pub const OLD_NONCE: usize = 26;
    /// New nonce limbs.
    pub const NEW_NONCE: usize = 30;
    /// The nonce's increase (then one zero entry).
    pub const NONCE_STEP: usize = 34;
}

/// Rows of an account update before its path rows.
pub const ACCOUNT_SPONGE_ROWS: usize = 3;
/// Limbs of an account leaf value (`u128 ‖ u64`).
pub const ACCOUNT_LEAF_LIMBS: u32 = 23;
/// Limbs of an account tombstone (the key alone).
pub const TOMBSTONE_LIMBS: u32 = 11;
/// Smallest supported depth: the range-check queue needs `RQ_LEN / 2` rows per update.
pub const MIN_DEPTH: usize = RQ_LEN / 2 - ACCOUNT_SPONGE_ROWS;
