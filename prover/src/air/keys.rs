//! Key-derived constraints of [`BatchAir`]: the key tag of generic updates, the row markers,
//! job leaves (status lifecycle, attestation, settle) and the `Totals` leaf (home slot, and the
//! public `queueCount` / `feesBurned` as its change). See `docs/prover.md`, rules 10–18.

use ctm_core::hash::Felt;
use p3_air::AirBuilder;
use p3_field::PrimeCharacteristicRing;

use super::BatchAir;
use crate::layout::*;

impl BatchAir {
    /// The home slot of the `Totals` key, as the path bits of every `Totals` update must spell.
    pub fn totals_slot(&self) -> u64 {
        self.totals_slot.iter().rev().fold(0, |acc, c| (acc << 16) | u64::from(*c))
    }

    /// `Totals` updates sit at the key's home slot: the path bits, least significant first, are
    /// matched against 16-bit chunks of the constant slot (a chunk halves on each path row and
    /// the next one moves up every 16 levels), so there is only ever one `Totals` leaf.
    pub(super) fn eval_totals_slot<AB: AirBuilder<F = Felt>>(
        &self,
        b: &mut AB,
        lo: &[AB::Var],
        nx: &[AB::Var],
    ) {
        let l = |i: usize| -> AB::Expr { lo[i].into() };
        let n = |i: usize| -> AB::Expr { nx[i].into() };
        let one = || AB::Expr::ONE;
        let tot = || l(IS_TOT);
        b.assert_bool(l(W16));
        b.assert_zero((l(CNT) - AB::Expr::from_u32(15)) * l(W16));
        b.assert_zero(tot() * ((l(CNT) - AB::Expr::from_u32(15)) * l(W16_INV) + l(W16) - one()));
        b.assert_eq(l(TG), tot() * (l(PATH) - l(LAST)));
        b.assert_zero(tot() * l(SP) * l(CNT));
        for (k, c) in self.totals_slot.into_iter().enumerate() {
            b.assert_zero(l(TF) * (l(SLOTQ + k) - AB::Expr::from_u32(c)));
        }
        b.assert_zero(l(TG) * l(W16) * (l(SLOTQ) - l(BIT)));
        b.assert_zero(tot() * l(LAST) * (l(SLOTQ) - l(BIT)));
        for k in 1..4 {
            b.assert_zero(tot() * l(LAST) * l(SLOTQ + k));
        }
        let mut t = b.when_transition();
        t.assert_zero(tot() * l(SP) * n(CNT));
        for k in 0..4 {
            t.assert_zero(tot() * l(SP) * (n(SLOTQ + k) - l(SLOTQ + k)));
        }
        let keep = || l(TG) * (one() - l(W16));
        t.assert_zero(keep() * (l(SLOTQ) - n(SLOTQ).double() - l(BIT)));
        for k in 1..4 {
            t.assert_zero(keep() * (n(SLOTQ + k) - l(SLOTQ + k)));
        }
        t.assert_zero(keep() * (n(CNT) - l(CNT) - one()));
        let wrap = || l(TG) * l(W16);
        t.assert_zero(wrap() * n(CNT));
        for k in 0..3 {
            t.assert_zero(wrap() * (n(SLOTQ + k) - l(SLOTQ + k + 1)));
        }
        t.assert_zero(wrap() * n(SLOTQ + 3));
    }
}

/// `Totals` updates: both lanes are full `Totals` values (so no second `Totals` leaf can ever be
/// created, and the batch's `Totals` updates form one chain), the new leaf's consumed-deposit,
/// burned and locked limbs are 16-bit, the telescoped sums of `new − old` equal the public
/// `queueCount` and `feesBurned`, and those of `locked` are public limb by limb.
pub(super) fn eval_totals<AB: AirBuilder<F = Felt>>(b: &mut AB, lo: &[AB::Var], nx: &[AB::Var]) {
    let l = |i: usize| -> AB::Expr { lo[i].into() };
    let n = |i: usize| -> AB::Expr { nx[i].into() };
    let one = || AB::Expr::ONE;
    let q = |i: usize| l(RQ + i);
    let nf = || l(FIRST) - l(AF);
    b.assert_zero(nf() * l(KEY) * l(IS_TOT));
    b.assert_zero(nf() * (l(KEY) * l(TOTINV) + l(IS_TOT) - one()));
    b.assert_zero(l(ACCT) * l(IS_TOT));
    b.assert_zero((one() - l(IS_UPD)) * l(IS_TOT));
    b.assert_eq(l(TF), l(IS_TOT) * l(FIRST));
    let m = |k: usize| l(IS_TOT) * l(MARK + k);
    let (m3, m4) = (|| m(mark::TOTALS_BURNED), || m(mark::TOTALS_BURNED_NEXT));
    let (m6, m7) = (|| m(mark::TOTALS_LOCKED), || m(mark::TOTALS_LOCKED_NEXT));
    // Lane B is a full value (active through row 7, so on every row before it); lane A too, or
    // an empty slot (`ZA`) whose inputs on the rows read below are zero.
    b.assert_bool(l(ZA));
    b.assert_zero(l(ZA) * (one() - l(IS_TOT)));
    b.assert_zero(l(ZA) * l(ACT_A));
    for (lane, act, absent) in [(LANE_A, ACT_A, l(ZA)), (LANE_B, ACT_B, AB::Expr::ZERO)] {
        b.assert_zero(l(TF) * (one() - l(act) - absent.clone()));
        b.assert_zero(l(TF) * l(act) * (l(lane + 9) - AB::Expr::from_u32(totals::LEAF_LIMBS)));
        b.assert_zero(m7() * (one() - l(act) - absent));
    }
    let read = [
        mark::TOTALS_BURNED,
        mark::TOTALS_BURNED_NEXT,
        mark::TOTALS_LOCKED,
        mark::TOTALS_LOCKED_NEXT,
    ];
    let read_rows = l(FIRST) + read.into_iter().fold(AB::Expr::ZERO, |a, k| a + l(MARK + k));
    for j in 0..8 {
        b.assert_zero(l(ZA) * read_rows.clone() * l(LANE_A + j));
    }
    // Range checks of the new limbs through the queue (entry i is at q(i − 2r) on row r).
    for j in 0..4 {
        b.assert_zero(l(TF) * (q(totals::RQ_CONSUMED + j) - l(LANE_B + 1 + j)));
    }
    for j in 0..7 {
        b.assert_zero(m3() * (q(totals::RQ_BURNED - 6 + j) - l(LANE_B + 1 + j)));
    }
    b.assert_zero(m4() * (q(totals::RQ_BURNED + 7 - 8) - l(LANE_B)));
    for j in 0..3 {
        b.assert_zero(m6() * (q(totals::RQ_LOCKED - 12 + j) - l(LANE_B + 5 + j)));
    }
    for j in 0..5 {
        b.assert_zero(m7() * (q(totals::RQ_LOCKED + 3 - 14 + j) - l(LANE_B + j)));
    }
    // Running sums of new − old.
    let diff = |j: usize| l(LANE_B + j) - l(LANE_A + j);
    let mut t = b.when_transition();
    for k in 0..DELTA_LIMBS {
        let step = match k {
            0..4 => l(TF) * diff(1 + k),
            4..11 => m3() * diff(1 + k - 4),
            11 => m4() * diff(0),
            12..15 => m6() * diff(5 + k - 12),
            _ => m7() * diff(k - 15),
        };
        t.assert_zero(n(DELTA + k) - l(DELTA + k) - step);
    }
    let pv = b.public_values().to_vec();
    let p = |i: usize| -> AB::Expr { pv[i].into() };
    let mut f = b.when_first_row();
    for k in 0..DELTA_LIMBS {
        f.assert_zero(l(DELTA + k));
    }
    // end − start = public value, limb by limb with boolean carries and none out of the top.
    let mut last = b.when_last_row();
    // Locked: the signed limb differences themselves are public (the verifier reads them).
    for j in 0..8 {
        last.assert_eq(l(DELTA + DELTA_LOCKED + j), p(crate::public::PV_LOCKED + j));
    }
    let sums = [(0, 4, QCARRY, totals::PV_QUEUE_COUNT), (4, 8, BCARRY, totals::PV_FEES_BURNED)];
    for (at, limbs, carries, word) in sums {
        let c = |j: usize| if j == 0 || j == limbs { AB::Expr::ZERO } else { l(carries + j - 1) };
        for j in 1..limbs {
            last.assert_bool(l(carries + j - 1));
        }
        for i in 0..16 - limbs {
            last.assert_zero(p(word + i));
        }
        for j in 0..limbs {
            let rhs = p(word + 16 - limbs + j) + c(j + 1) - c(j) * AB::Expr::from_u32(1 << 16);
            last.assert_eq(l(DELTA + at + j), rhs);
        }
    }
}

/// Every update: both lanes' first limb is the carried `KEY[0]`; a non-account update decodes
/// it as `256·t + u` (bytes) with `t ≠ 1`, so only account updates touch account leaves, and
/// `IS_JOB` is exactly `t = 3`.
pub(super) fn eval_key_tag<AB: AirBuilder<F = Felt>>(b: &mut AB, lo: &[AB::Var]) {
    let l = |i: usize| -> AB::Expr { lo[i].into() };
    let one = || AB::Expr::ONE;
    let c = |v: u32| AB::Expr::from_u32(v);
    let q = |i: usize| l(RQ + i);
    let nf = || l(FIRST) - l(AF);
    for (lane, act) in [(LANE_A, ACT_A), (LANE_B, ACT_B)] {
        b.assert_zero(nf() * l(act) * (l(lane) - l(KEY)));
    }
    let (t, u) = (q(rq::KEY_BYTES), q(rq::KEY_BYTES + 2));
    b.assert_zero(nf() * (q(rq::KEY_BYTES + 1) - t.clone() * c(256)));
    b.assert_zero(nf() * (q(rq::KEY_BYTES + 3) - u.clone() * c(256)));
    b.assert_zero(nf() * (l(KEY) - t.clone() * c(256) - u));
    b.assert_zero(nf() * ((t.clone() - one()) * l(TINV) - one()));
    b.assert_zero(nf() * (t.clone() - c(job::TAG)) * l(IS_JOB));
    b.assert_zero(nf() * ((t - c(job::TAG)) * l(JINV) + l(IS_JOB) - one()));
    b.assert_zero(l(ACCT) * l(IS_JOB));
    b.assert_zero((one() - l(IS_UPD)) * l(IS_JOB));
}

/// The row counter `SC` and the markers of [`MARKED_ROWS`].
pub(super) fn eval_rows<AB: AirBuilder<F = Felt>>(b: &mut AB, lo: &[AB::Var], nx: &[AB::Var]) {
    let l = |i: usize| -> AB::Expr { lo[i].into() };
    let n = |i: usize| -> AB::Expr { nx[i].into() };
    let one = || AB::Expr::ONE;
    b.assert_zero(l(FIRST) * l(SC));
    for (k, row) in MARKED_ROWS.into_iter().enumerate() {
        let d = l(SC) - AB::Expr::from_usize(row);
        b.assert_zero(l(MARK + k) * d.clone());
        b.assert_zero(l(IS_UPD) * (d * l(MARK_INV + k) + l(MARK + k) - one()));
    }
    let same = l(IS_UPD) - l(LAST);
    b.when_transition().assert_zero(same * (n(SC) - l(SC) - one()));
}

/// Job leaves: the status decoded from the status limb of each lane, an allowed transition,
/// a settle that changes nothing but the status, and an attest with a nonzero attestation.
pub(super) fn eval_job<AB: AirBuilder<F = Felt>>(b: &mut AB, lo: &[AB::Var], nx: &[AB::Var]) {
    let l = |i: usize| -> AB::Expr { lo[i].into() };
    let n = |i: usize| -> AB::Expr { nx[i].into() };
    let one = || AB::Expr::ONE;
    let c = |v: u32| AB::Expr::from_u32(v);
    let q = |i: usize| l(RQ + i);
    b.assert_eq(l(JM9), l(IS_JOB) * l(MARK + mark::JOB_STATUS));
    b.assert_eq(l(JF), l(IS_JOB) * l(FIRST));
    let lanes = [(LANE_A, ACT_A, JV_A, ST_A, 0), (LANE_B, ACT_B, JV_B, ST_B, 4)];
    for (lane, act, jv, st, o) in lanes {
        // On the status row the queue holds `h, 256h, s, 256s` and the limb is `256h + s`.
        b.assert_zero(l(JM9) * (q(o + 1) - q(o) * c(256)));
        b.assert_zero(l(JM9) * (q(o + 3) - q(o + 2) * c(256)));
        b.assert_zero(l(JM9) * l(act) * (l(lane) - q(o) * c(256) - q(o + 2)));
        b.assert_zero(l(JM9) * l(act) * (q(o + 2) - l(st)));
        b.assert_zero(l(JM9) * (l(act) - l(jv)));
        b.assert_zero(l(IS_JOB) * l(MARK + mark::JOB_LAST) * (l(act) - l(jv)));
        b.assert_zero(l(IS_JOB) * (one() - l(jv)) * (l(st) - c(NO_STATUS)));
        b.assert_zero(l(JF) * l(jv) * (l(lane + 9) - c(job::LEAF_LIMBS)));
    }
    // Exactly one allowed transition.
    let sel = |f: fn(&(u32, u32)) -> u32| {
        JOB_TRANSITIONS
            .iter()
            .enumerate()
            .fold(AB::Expr::ZERO, |acc, (k, t)| acc + l(JT + k) * c(f(t)))
    };
    let count = (0..JOB_TRANSITIONS.len()).fold(AB::Expr::ZERO, |acc, k| acc + l(JT + k));
    b.assert_eq(count, l(IS_JOB));
    b.assert_zero(l(IS_JOB) * (l(ST_A) - sel(|t| t.0)));
    b.assert_zero(l(IS_JOB) * (l(ST_B) - sel(|t| t.1)));
    // Settle: every absorbed limb but the status byte is unchanged.
    let settle = || l(JT + JT_SETTLE);
    b.assert_eq(l(NS), settle() * l(SP) * (one() - l(MARK + mark::JOB_STATUS)));
    b.assert_zero(l(NS) * (l(LANE_A) - l(LANE_B)));
    for j in 1..8 {
        b.assert_zero(settle() * l(SP) * (l(LANE_A + j) - l(LANE_B + j)));
    }
    b.assert_zero(l(JM9) * settle() * (q(0) - q(4)));
    // Attest: the sum of the 16 attestation limbs (each < 2^16 in an honest leaf) is nonzero.
    let att = job::ATTESTATION_LIMB % 8;
    let tail = job::ATTESTATION_LIMBS - (8 - att) - 8;
    let m13 = || l(IS_JOB) * l(MARK + mark::JOB_ATTESTATION);
    let first: AB::Expr = (att..8).fold(AB::Expr::ZERO, |acc, j| acc + l(LANE_B + j));
    b.assert_zero(m13() * (l(ASUM) - first));
    b.assert_eq(l(PA), l(JT + JT_ATTEST) * l(MARK + mark::JOB_ATTESTATION_NEXT));
    let mut t = b.when_transition();
    let mid: AB::Expr = (0..8).fold(AB::Expr::ZERO, |acc, j| acc + n(LANE_B + j));
    t.assert_zero(m13() * (n(ASUM) - l(ASUM) - mid));
    let total: AB::Expr = (0..tail).fold(l(ASUM), |acc, j| acc + n(LANE_B + j));
    t.assert_zero(l(PA) * (total * l(AINV) - one()));
}
