//! Token flows (rule 21 of docs/prover.md): what the batch does to the sum of all account
//! balances, as public values the verifier checks for conservation.
//!
//! `ASG = ACCT · SIGN` is +1 on the rows of an account credit, −1 on a debit's, 0 elsewhere. On
//! rows 0..3 of an account update the range-check queue's head holds the amount limbs
//! (`RQ[0], RQ[1]` = limbs `2r, 2r + 1` on row `r`) with their bits, so each limb's high and low
//! byte is a linear sum of bits. Sixteen running sums `BSUM[k]` add `ASG · byte_k` of every
//! account update; on the last row they are public. Every balance change is an account update
//! (rules 5–10), so `Σ_k BSUM[k] · 2^(8·(15−k))` is the batch's net change of all balances.
//! Each step is below 2^8 and a KoalaBear trace has at most 2^23 rows (two-adicity 24, blowup
//! ≥ 2), so `|BSUM[k]| < 2^23 / 35 · 2^8 < 2^26`: the verifier reads them as integers.

use ctm_core::hash::Felt;
use p3_air::AirBuilder;
use p3_field::PrimeCharacteristicRing;

use crate::layout::{ACCT, ASG, BITS, BSUM, FIRST, R1, R2, SIGN};
use crate::public::PV_ACCOUNT_BYTES;

/// The high (`hi`) or low byte of queue head entry `q` (0 or 1) from its bits.
fn byte<AB: AirBuilder>(bits: &[AB::Var], q: usize, hi: bool) -> AB::Expr {
    let at = BITS + 16 * q + if hi { 8 } else { 0 };
    (0..8).rev().fold(AB::Expr::ZERO, |acc, i| acc.double() + bits[at + i].into())
}

pub(super) fn eval_flows<AB: AirBuilder<F = Felt>>(b: &mut AB, lo: &[AB::Var], nx: &[AB::Var]) {
    let l = |i: usize| -> AB::Expr { lo[i].into() };
    let n = |i: usize| -> AB::Expr { nx[i].into() };
    b.assert_eq(l(ASG), l(ACCT) * l(SIGN));
    let pv = b.public_values().to_vec();
    let mut t = b.when_transition();
    for j in 0..8 {
        let (row, q) = (j / 2, j % 2);
        for (k, hi) in [(2 * j, true), (2 * j + 1, false)] {
            // Rows 0..2 read their own head; row 3's head is read from row 2 as the next row.
            let step = match row {
                0 => l(FIRST) * byte::<AB>(lo, q, hi),
                1 => l(R1) * byte::<AB>(lo, q, hi),
                2 => l(R2) * byte::<AB>(lo, q, hi),
                _ => l(R2) * byte::<AB>(nx, q, hi),
            };
            t.assert_zero(n(BSUM + k) - l(BSUM + k) - l(ASG) * step);
        }
    }
    let mut f = b.when_first_row();
    for k in 0..16 {
        f.assert_zero(l(BSUM + k));
    }
    let mut last = b.when_last_row();
    for k in 0..16 {
        last.assert_eq(l(BSUM + k), pv[PV_ACCOUNT_BYTES + k].into());
    }
}
