//! The withdrawal list (rule 19 of docs/prover.md): every entry of the batch's withdrawal list,
//! which L1 pays out and hashes into `withdrawalRoot` itself, is matched in order by one account
//! debit of exactly its amount, and there are exactly as many such debits as entries.
//!
//! A one-hot register `WSEL[0..=WMAX]` holds how many entries have been matched. It starts at 0,
//! moves one step on each row with `WF` set (the first row of a withdrawal debit), never past
//! `WMAX`, and on the last row stands at the public count. On a `WF` row the update's amount
//! limbs equal the current entry's public limbs `Σ_k WSEL[k] · amount_k`.

use ctm_core::hash::Felt;
use p3_air::AirBuilder;
use p3_field::PrimeCharacteristicRing;

use crate::layout::{AF, AMT, LINK, SIGN, WF, WSEL};
use crate::public::{PV_WD_AMOUNTS, PV_WD_COUNT, WMAX};

/// Constrains [`WF`] and [`WSEL`] against the public withdrawal list.
pub(super) fn eval_withdrawals<AB: AirBuilder<F = Felt>>(
    b: &mut AB,
    lo: &[AB::Var],
    nx: &[AB::Var],
) {
    let l = |i: usize| -> AB::Expr { lo[i].into() };
    let n = |i: usize| -> AB::Expr { nx[i].into() };
    let one = || AB::Expr::ONE;
    let pv = b.public_values().to_vec();
    let p = |i: usize| -> AB::Expr { pv[i].into() };

    // A withdrawal step is the first row of an account debit that no transfer credits.
    b.assert_bool(l(WF));
    b.assert_zero(l(WF) * (one() - l(AF)));
    b.assert_zero(l(WF) * (l(SIGN) + one()));
    b.assert_zero(l(WF) * l(LINK));
    // Never a step past the end of the list.
    b.assert_zero(l(WF) * l(WSEL + WMAX));
    // The debited amount is the current entry's.
    for j in 0..8 {
        let entry = (0..WMAX)
            .fold(AB::Expr::ZERO, |acc, k| acc + l(WSEL + k) * p(PV_WD_AMOUNTS + 8 * k + j));
        b.assert_zero(l(WF) * (l(AMT + j) - entry));
    }
    {
        let mut f = b.when_first_row();
        f.assert_one(l(WSEL));
        for k in 1..=WMAX {
            f.assert_zero(l(WSEL + k));
        }
    }
    {
        let mut t = b.when_transition();
        t.assert_eq(n(WSEL), l(WSEL) - l(WF) * l(WSEL));
        for k in 1..=WMAX {
            let step = l(WF) * (l(WSEL + k - 1) - l(WSEL + k));
            t.assert_eq(n(WSEL + k), l(WSEL + k) + step);
        }
    }
    let at = (1..=WMAX).fold(AB::Expr::ZERO, |acc, k| acc + l(WSEL + k) * AB::Expr::from_usize(k));
    b.when_last_row().assert_eq(at, p(PV_WD_COUNT));
}
