//! The lists L1 checks by hash (rules 19 and 20 of docs/prover.md), matched in order against
//! flagged account updates:
//!
//! - the **withdrawal list**, which L1 pays out and hashes into `withdrawalRoot` itself: each
//!   entry is one account debit (not a transfer's) of exactly its amount;
//! - the **credited deposits**, which the verifier derives from the consumed queue entries after
//!   rebuilding `queueHashEnd` and `rejectedDepositsHash`: each is one account credit (not a
//!   transfer's) of exactly its amount to exactly its recipient's key.
//!
//! For each list a one-hot register `SEL[0..=MAX]` holds how many entries have been matched. It
//! starts at 0, moves one step on each row with the list's flag set (the first row of a matched
//! update), never past `MAX`, and on the last row stands at the public count. On a flagged row
//! the update's columns equal the current entry's public limbs `Σ_k SEL[k] · entry_k`.

use ctm_core::hash::Felt;
use p3_air::AirBuilder;
use p3_field::PrimeCharacteristicRing;

use crate::layout::{AF, AMT, DF, DSEL, KEY, KEY_LIMBS, SIGN, WF, WSEL};
use crate::public::{
    DEP_WIDTH, DMAX, PV_DEP_COUNT, PV_DEP_ENTRIES, PV_WD_AMOUNTS, PV_WD_COUNT, WMAX,
};

/// A list of public entries matched by flagged updates.
struct List {
    /// The flag column.
    flag: usize,
    /// First of the `max + 1` one-hot position columns.
    sel: usize,
    /// Entries at most.
    max: usize,
    /// Public value of the count.
    pv_count: usize,
    /// Public value of entry 0; entry `k` starts `width · k` later.
    pv_entries: usize,
    /// Public values per entry.
    width: usize,
    /// The trace columns an entry's limbs must equal, in entry order.
    columns: &'static [(usize, usize)],
}

const WITHDRAWALS: List = List {
    flag: WF,
    sel: WSEL,
    max: WMAX,
    pv_count: PV_WD_COUNT,
    pv_entries: PV_WD_AMOUNTS,
    width: 8,
    columns: &[(AMT, 8)],
};

const DEPOSITS: List = List {
    flag: DF,
    sel: DSEL,
    max: DMAX,
    pv_count: PV_DEP_COUNT,
    pv_entries: PV_DEP_ENTRIES,
    width: DEP_WIDTH,
    columns: &[(KEY, KEY_LIMBS), (AMT, 8)],
};

/// Constrains [`WF`], [`WSEL`], [`DF`] and [`DSEL`] against the public lists.
pub(super) fn eval_lists<AB: AirBuilder<F = Felt>>(b: &mut AB, lo: &[AB::Var], nx: &[AB::Var]) {
    let l = |i: usize| -> AB::Expr { lo[i].into() };
    let one = || AB::Expr::ONE;
    for flag in [WF, DF] {
        b.assert_bool(l(flag));
        b.assert_zero(l(flag) * (one() - l(AF)));
    }
    // A withdrawal is an account debit, a deposit an account credit.
    b.assert_zero(l(WF) * (l(SIGN) + one()));
    b.assert_zero(l(DF) * (l(SIGN) - one()));
    eval_list(b, lo, nx, &WITHDRAWALS);
    eval_list(b, lo, nx, &DEPOSITS);
}

fn eval_list<AB: AirBuilder<F = Felt>>(b: &mut AB, lo: &[AB::Var], nx: &[AB::Var], list: &List) {
    let l = |i: usize| -> AB::Expr { lo[i].into() };
    let n = |i: usize| -> AB::Expr { nx[i].into() };
    let pv = b.public_values().to_vec();
    let p = |i: usize| -> AB::Expr { pv[i].into() };
    let (flag, sel) = (list.flag, list.sel);

    // Never a step past the end of the list.
    b.assert_zero(l(flag) * l(sel + list.max));
    // The update's columns are the current entry's.
    let mut offset = 0;
    for &(col, limbs) in list.columns {
        for j in 0..limbs {
            let at = |k: usize| list.pv_entries + list.width * k + offset + j;
            let entry = (0..list.max).fold(AB::Expr::ZERO, |acc, k| acc + l(sel + k) * p(at(k)));
            b.assert_zero(l(flag) * (l(col + j) - entry));
        }
        offset += limbs;
    }
    {
        let mut f = b.when_first_row();
        f.assert_one(l(sel));
        for k in 1..=list.max {
            f.assert_zero(l(sel + k));
        }
    }
    {
        let mut t = b.when_transition();
        t.assert_eq(n(sel), l(sel) - l(flag) * l(sel));
        for k in 1..=list.max {
            let step = l(flag) * (l(sel + k - 1) - l(sel + k));
            t.assert_eq(n(sel + k), l(sel + k) + step);
        }
    }
    let at =
        (1..=list.max).fold(AB::Expr::ZERO, |acc, k| acc + l(sel + k) * AB::Expr::from_usize(k));
    b.when_last_row().assert_eq(at, p(list.pv_count));
}
