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
/// The nonce increases by one.
pub const BUMP: usize = C + 17;
/// This debit's amount is credited by the next update (a transfer).
pub const LINK: usize = C + 18;
/// `ACCT · FIRST`, committed to keep the arithmetic constraints at degree 3.
pub const AF: usize = C + 19;
/// Lane A digest register (8).
pub const D_A: usize = C + 20;
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
pub const RQ_LEN: usize = 34;
/// Bits of `RQ[0]` and `RQ[1]` (16 each, little-endian).
pub const BITS: usize = RQ + RQ_LEN;
/// Balance carries `c1..c7` (c0 = c8 = 0).
pub const CARRY: usize = BITS + 32;
/// Nonce carries `k1..k3` (k0 = 0, k4 = BUMP).
pub const NCARRY: usize = CARRY + 7;
/// Total width.
pub const WIDTH: usize = NCARRY + 3;

/// Positions inside the range-check queue as seen on an update's first row.
pub mod rq {
    /// Amount limbs 0..8.
    pub const AMT: usize = 0;
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
}

/// Rows of an account update before its path rows.
pub const ACCOUNT_SPONGE_ROWS: usize = 3;
/// Limbs of an account leaf value (`u128 ‖ u64`).
pub const ACCOUNT_LEAF_LIMBS: u32 = 23;
/// Limbs of an account tombstone (the key alone).
pub const TOMBSTONE_LIMBS: u32 = 11;
/// Smallest supported depth: the range-check queue needs `RQ_LEN / 2` rows per update.
pub const MIN_DEPTH: usize = RQ_LEN / 2 - ACCOUNT_SPONGE_ROWS;
