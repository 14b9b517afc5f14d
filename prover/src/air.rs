//! `BatchAir`: the state-transition AIR of a batch (see [`crate::layout`] for the columns and
//! `docs/prover.md` for the full constraint list and what is and is not constrained).

use ctm_core::codec::Codec;
use ctm_core::hash::Felt;
use p3_air::{Air, AirBuilder, BaseAir, WindowAccess};
use p3_field::PrimeCharacteristicRing;

use crate::layout::*;
use crate::poseidon2::{self, OUT};
use crate::public::{NUM_PUBLIC_VALUES, PV_NEW_ROOT, PV_PREV_ROOT};

/// The batch AIR for a state tree of `depth` levels.
#[derive(Clone, Copy, Debug)]
pub struct BatchAir {
    depth: usize,
    /// The `Totals` key's home slot in 16-bit chunks, least significant first.
    totals_slot: [u32; 4],
}

impl BatchAir {
    /// The AIR for a tree of `depth` levels; `None` if the depth is below [`MIN_DEPTH`] or above 62.
    pub fn new(depth: u8) -> Option<Self> {
        let d = usize::from(depth);
        let slot = ctm_core::tree::slot_of(&ctm_core::StateKey::Totals.to_bytes(), depth);
        let totals_slot = std::array::from_fn(|k| ((slot >> (16 * k)) & 0xffff) as u32);
        (MIN_DEPTH..=62).contains(&d).then_some(Self { depth: d, totals_slot })
    }

    /// The tree depth.
    pub fn depth(&self) -> usize {
        self.depth
    }
}

impl<F> BaseAir<F> for BatchAir {
    fn width(&self) -> usize {
        WIDTH
    }

    fn num_public_values(&self) -> usize {
        NUM_PUBLIC_VALUES
    }

    fn max_constraint_degree(&self) -> Option<usize> {
        Some(3)
    }
}

/// The field element encoded by two big-endian 16-bit public limbs.
fn root_elem<AB: AirBuilder>(pv: &[AB::PublicVar], at: usize, i: usize) -> AB::Expr {
    let hi: AB::Expr = pv[at + 2 * i].into();
    let lo: AB::Expr = pv[at + 2 * i + 1].into();
    hi * AB::Expr::from_u32(1 << 16) + lo
}

impl<AB: AirBuilder<F = Felt>> Air<AB> for BatchAir {
    fn eval(&self, b: &mut AB) {
        let main = b.main();
        let (lo, nx) = (main.current_slice(), main.next_slice());
        let l = |i: usize| -> AB::Expr { lo[i].into() };
        let n = |i: usize| -> AB::Expr { nx[i].into() };
        let one = || AB::Expr::ONE;

        poseidon2::eval(b, &lo[LANE_A..LANE_A + poseidon2::PERM_COLS]);
        poseidon2::eval(b, &lo[LANE_B..LANE_B + poseidon2::PERM_COLS]);

        // Flags.
        for c in [IS_UPD, FIRST, SP, PATH, LAST, R1, R2, BIT, ACT_A, ACT_B, ACCT]
            .into_iter()
            .chain([VAL_A, TOMB_A, VAL_B, TOMB_B, BUMP, LINK])
            .chain(CARRY..CARRY + 7)
            .chain(NCARRY..NCARRY + 3)
            .chain(BITS..BITS + 32)
            .chain([IS_JOB, JV_A, JV_B, IS_TOT])
            .chain(MARK..MARK + MARKED_ROWS.len())
            .chain(JT..JT + JOB_TRANSITIONS.len())
        {
            b.assert_bool(l(c));
        }
        b.assert_zero((l(SIGN) - one()) * (l(SIGN) + one()));

        // Row structure.
        b.assert_eq(l(SP) + l(PATH), l(IS_UPD));
        b.assert_zero(l(FIRST) * (one() - l(SP)));
        b.assert_zero(l(LAST) * (one() - l(PATH)));
        b.assert_zero(l(LAST) * (l(LEVEL) - AB::Expr::from_usize(self.depth - 1)));
        for (act, val, tomb) in [(ACT_A, VAL_A, TOMB_A), (ACT_B, VAL_B, TOMB_B)] {
            b.assert_zero(l(act) * (one() - l(SP)));
            b.assert_zero(l(val) * (one() - l(ACCT)));
            b.assert_zero(l(tomb) * (one() - l(ACCT)));
            b.assert_zero(l(val) * l(tomb));
        }
        b.assert_zero(l(LINK) * (one() - l(ACCT)));
        b.assert_zero(l(BUMP) * (one() - l(ACCT)));
        b.assert_eq(l(AF), l(ACCT) * l(FIRST));
        b.assert_zero(l(LINK) * (l(SIGN) + one()));

        let pv = b.public_values().to_vec();
        {
            let mut f = b.when_first_row();
            f.assert_eq(l(FIRST), l(IS_UPD));
            f.assert_zero(l(R1));
            f.assert_zero(l(R2));
            for i in 0..8 {
                f.assert_eq(l(ROOT + i), root_elem::<AB>(&pv, PV_PREV_ROOT, i));
            }
        }
        {
            let mut f = b.when_last_row();
            f.assert_zero(l(IS_UPD));
            for i in 0..8 {
                f.assert_eq(l(ROOT + i), root_elem::<AB>(&pv, PV_NEW_ROOT, i));
            }
        }

        let same = l(IS_UPD) - l(LAST);
        {
            let mut t = b.when_transition();
            t.assert_zero(same.clone() * (one() - n(IS_UPD)));
            t.assert_zero(same.clone() * n(FIRST));
            t.assert_zero((l(LAST) + one() - l(IS_UPD)) * (n(IS_UPD) - n(FIRST)));
            t.assert_zero((one() - l(IS_UPD)) * n(IS_UPD));
            t.assert_zero(same.clone() * l(PATH) * n(SP));
            t.assert_eq(n(R1), l(FIRST));
            t.assert_eq(n(R2), l(R1));
            t.assert_zero(l(SP) * n(PATH) * n(LEVEL));
            t.assert_zero(l(PATH) * (one() - l(LAST)) * (n(LEVEL) - l(LEVEL) - one()));
            let carried = [ACCT, VAL_A, TOMB_A, VAL_B, TOMB_B, SIGN, BUMP, LINK]
                .into_iter()
                .chain([IS_JOB, JV_A, JV_B, ST_A, ST_B, IS_TOT, ZA]);
            for c in carried.into_iter().chain(KEY..KEY + KEY_LIMBS).chain(AMT..AMT + 8) {
                t.assert_zero(same.clone() * (n(c) - l(c)));
            }
            for i in 0..8 {
                let r = ROOT + i;
                t.assert_zero(same.clone() * (n(r) - l(r)));
                t.assert_zero(l(LAST) * (n(r) - l(LANE_B + OUT + i)));
                t.assert_zero((one() - l(IS_UPD)) * (n(r) - l(r)));
            }
            // Transfer link: the next update credits exactly this debit's amount.
            t.assert_zero(l(LAST) * l(LINK) * (n(SIGN) - one()));
            t.assert_zero(l(LAST) * l(LINK) * (one() - n(ACCT)));
            for i in 0..8 {
                t.assert_zero(l(LINK) * (n(AMT + i) - l(AMT + i)));
            }
            // Range-check queue shifts by two per row inside an update.
            for i in 0..RQ_LEN - 2 {
                t.assert_zero(same.clone() * (n(RQ + i) - l(RQ + i + 2)));
            }
            t.assert_zero(same.clone() * n(RQ + RQ_LEN - 2));
            t.assert_zero(same.clone() * n(RQ + RQ_LEN - 1));
            // Account updates: exactly three sponge rows.
            t.assert_zero(l(ACCT) * l(R2) * (one() - n(PATH)));
        }
        for i in 0..8 {
            b.assert_zero(l(LAST) * (l(LANE_A + OUT + i) - l(ROOT + i)));
        }

        self.eval_lanes(b, lo, nx);
        self.eval_account(b, lo);
        eval_key_tag(b, lo);
        eval_rows(b, lo, nx);
        eval_job(b, lo, nx);
        eval_totals(b, lo, nx);
        self.eval_totals_slot(b, lo, nx);
    }
}

impl BatchAir {
    /// The home slot of the `Totals` key, as the path bits of every `Totals` update must spell.
    pub fn totals_slot(&self) -> u64 {
        self.totals_slot.iter().rev().fold(0, |acc, c| (acc << 16) | u64::from(*c))
    }

    /// `Totals` updates sit at the key's home slot: the path bits, least significant first, are
    /// matched against 16-bit chunks of the constant slot (a chunk halves on each path row and
    /// the next one moves up every 16 levels), so there is only ever one `Totals` leaf.
    fn eval_totals_slot<AB: AirBuilder<F = Felt>>(
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
/// created, and the batch's `Totals` updates form one chain), the new leaf's consumed-deposit
/// and burned limbs are 16-bit, and the telescoped sums of `new − old` equal the public
/// `queueCount` and `feesBurned`.
fn eval_totals<AB: AirBuilder<F = Felt>>(b: &mut AB, lo: &[AB::Var], nx: &[AB::Var]) {
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
    let (m3, m4) = (|| l(IS_TOT) * l(MARK + 3), || l(IS_TOT) * l(MARK + 4));
    // Lane B is a full value (active through row 4); lane A too, or an empty slot (`ZA`) whose
    // inputs on the rows read below are zero.
    b.assert_bool(l(ZA));
    b.assert_zero(l(ZA) * (one() - l(IS_TOT)));
    b.assert_zero(l(ZA) * l(ACT_A));
    for (lane, act, absent) in [(LANE_A, ACT_A, l(ZA)), (LANE_B, ACT_B, AB::Expr::ZERO)] {
        b.assert_zero(l(TF) * (one() - l(act) - absent.clone()));
        b.assert_zero(l(TF) * l(act) * (l(lane + 9) - AB::Expr::from_u32(totals::LEAF_LIMBS)));
        b.assert_zero(m4() * (one() - l(act) - absent));
    }
    for j in 0..8 {
        b.assert_zero(l(ZA) * (l(FIRST) + l(MARK + 3) + l(MARK + 4)) * l(LANE_A + j));
    }
    // Range checks of the new limbs through the queue (entry i is at q(i − 2r) on row r).
    for j in 0..4 {
        b.assert_zero(l(TF) * (q(totals::RQ_CONSUMED + j) - l(LANE_B + 1 + j)));
    }
    for j in 0..7 {
        b.assert_zero(m3() * (q(totals::RQ_BURNED - 6 + j) - l(LANE_B + 1 + j)));
    }
    b.assert_zero(m4() * (q(totals::RQ_BURNED + 7 - 8) - l(LANE_B)));
    // Running sums of new − old.
    let diff = |j: usize| l(LANE_B + j) - l(LANE_A + j);
    let mut t = b.when_transition();
    for k in 0..DELTA_LIMBS {
        let step = match k {
            0..4 => l(TF) * diff(1 + k),
            4..11 => m3() * diff(1 + k - 4),
            _ => m4() * diff(0),
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
fn eval_key_tag<AB: AirBuilder<F = Felt>>(b: &mut AB, lo: &[AB::Var]) {
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
fn eval_rows<AB: AirBuilder<F = Felt>>(b: &mut AB, lo: &[AB::Var], nx: &[AB::Var]) {
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
fn eval_job<AB: AirBuilder<F = Felt>>(b: &mut AB, lo: &[AB::Var], nx: &[AB::Var]) {
    let l = |i: usize| -> AB::Expr { lo[i].into() };
    let n = |i: usize| -> AB::Expr { nx[i].into() };
    let one = || AB::Expr::ONE;
    let c = |v: u32| AB::Expr::from_u32(v);
    let q = |i: usize| l(RQ + i);
    b.assert_eq(l(JM9), l(IS_JOB) * l(MARK));
    b.assert_eq(l(JF), l(IS_JOB) * l(FIRST));
    let lanes = [(LANE_A, ACT_A, JV_A, ST_A, 0), (LANE_B, ACT_B, JV_B, ST_B, 4)];
    for (lane, act, jv, st, o) in lanes {
        // On the status row the queue holds `h, 256h, s, 256s` and the limb is `256h + s`.
        b.assert_zero(l(JM9) * (q(o + 1) - q(o) * c(256)));
        b.assert_zero(l(JM9) * (q(o + 3) - q(o + 2) * c(256)));
        b.assert_zero(l(JM9) * l(act) * (l(lane) - q(o) * c(256) - q(o + 2)));
        b.assert_zero(l(JM9) * l(act) * (q(o + 2) - l(st)));
        b.assert_zero(l(JM9) * (l(act) - l(jv)));
        b.assert_zero(l(IS_JOB) * l(MARK + 5) * (l(act) - l(jv)));
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
    b.assert_eq(l(NS), settle() * l(SP) * (one() - l(MARK)));
    b.assert_zero(l(NS) * (l(LANE_A) - l(LANE_B)));
    for j in 1..8 {
        b.assert_zero(settle() * l(SP) * (l(LANE_A + j) - l(LANE_B + j)));
    }
    b.assert_zero(l(JM9) * settle() * (q(0) - q(4)));
    // Attest: the sum of the 16 attestation limbs (each < 2^16 in an honest leaf) is nonzero.
    let att = job::ATTESTATION_LIMB % 8;
    let tail = job::ATTESTATION_LIMBS - (8 - att) - 8;
    let m13 = || l(IS_JOB) * l(MARK + 1);
    let first: AB::Expr = (att..8).fold(AB::Expr::ZERO, |acc, j| acc + l(LANE_B + j));
    b.assert_zero(m13() * (l(ASUM) - first));
    b.assert_eq(l(PA), l(JT + JT_ATTEST) * l(MARK + 2));
    let mut t = b.when_transition();
    let mid: AB::Expr = (0..8).fold(AB::Expr::ZERO, |acc, j| acc + n(LANE_B + j));
    t.assert_zero(m13() * (n(ASUM) - l(ASUM) - mid));
    let total: AB::Expr = (0..tail).fold(l(ASUM), |acc, j| acc + n(LANE_B + j));
    t.assert_zero(l(PA) * (total * l(AINV) - one()));
}

impl BatchAir {
    /// Sponge absorption, digest registers and Merkle-path hashing of both lanes.
    fn eval_lanes<AB: AirBuilder<F = Felt>>(&self, b: &mut AB, lo: &[AB::Var], nx: &[AB::Var]) {
        let l = |i: usize| -> AB::Expr { lo[i].into() };
        let n = |i: usize| -> AB::Expr { nx[i].into() };
        let one = || AB::Expr::ONE;
        for (lane, act, d) in [(LANE_A, ACT_A, D_A), (LANE_B, ACT_B, D_B)] {
            // Sponge start: capacity = (domain 1, length, 0…); an idle lane's digest is zero.
            b.assert_zero(l(FIRST) * l(act) * (l(lane + 8) - one()));
            for j in 10..16 {
                b.assert_zero(l(FIRST) * l(act) * l(lane + j));
            }
            for j in 0..8 {
                b.assert_zero(l(FIRST) * (one() - l(act)) * l(d + j));
                b.assert_zero(l(PATH) * (l(d + j) - l(lane + OUT + j)));
            }
            let mut t = b.when_transition();
            let cont = n(act) * (one() - n(FIRST));
            t.assert_zero(cont.clone() * (one() - l(act)));
            for j in 8..16 {
                t.assert_zero(cont.clone() * (n(lane + j) - l(lane + OUT + j)));
            }
            for j in 0..8 {
                // The lane's last chunk sets the digest; idle sponge rows hold it.
                t.assert_zero((l(act) - n(act)) * (l(d + j) - l(lane + OUT + j)));
                t.assert_zero((n(SP) - n(FIRST)) * (one() - n(act)) * (n(d + j) - l(d + j)));
                // Path: the running node enters on the side the bit says.
                t.assert_zero(n(PATH) * (one() - n(BIT)) * (n(lane + j) - l(d + j)));
                t.assert_zero(n(PATH) * n(BIT) * (n(lane + 8 + j) - l(d + j)));
            }
        }
        // Both lanes use the same sibling.
        for j in 0..8 {
            let (a, bb) = (LANE_A, LANE_B);
            b.assert_zero(l(PATH) * (one() - l(BIT)) * (l(a + 8 + j) - l(bb + 8 + j)));
            b.assert_zero(l(PATH) * l(BIT) * (l(a + j) - l(bb + j)));
        }
    }

    /// Account leaves: layout of the limbs in the sponge, range checks and arithmetic.
    fn eval_account<AB: AirBuilder<F = Felt>>(&self, b: &mut AB, lo: &[AB::Var]) {
        let l = |i: usize| -> AB::Expr { lo[i].into() };
        let one = || AB::Expr::ONE;
        let c16 = || AB::Expr::from_u32(1 << 16);
        let q = |i: usize| l(RQ + i);

        // RQ[0], RQ[1] are 16-bit.
        for k in 0..2 {
            let sum =
                (0..16).rev().fold(AB::Expr::ZERO, |acc, i| acc.double() + l(BITS + 16 * k + i));
            b.assert_eq(q(k), sum);
        }
        b.assert_zero(l(ACCT) * l(R1) * (one() - l(SP)));
        b.assert_zero(l(ACCT) * l(R2) * (one() - l(SP)));

        let af = || l(AF);
        let lanes = [
            (LANE_A, ACT_A, VAL_A, TOMB_A, rq::OLD_BAL, rq::OLD_NONCE),
            (LANE_B, ACT_B, VAL_B, TOMB_B, rq::NEW_BAL, rq::NEW_NONCE),
        ];
        for (lane, act, val, tomb, bal, nonce) in lanes {
            let keyed = l(val) + l(tomb);
            b.assert_zero(af() * (l(act) - keyed.clone()));
            b.assert_zero(l(ACCT) * l(R1) * (l(act) - keyed.clone()));
            b.assert_zero(l(ACCT) * l(R2) * (l(act) - l(val)));
            let len = l(val) * AB::Expr::from_u32(ACCOUNT_LEAF_LIMBS)
                + l(tomb) * AB::Expr::from_u32(TOMBSTONE_LIMBS);
            b.assert_zero(af() * (l(lane + 9) - len));
            for j in 0..8 {
                b.assert_zero(l(FIRST) * keyed.clone() * (l(lane + j) - l(KEY + j)));
            }
            for j in 0..3 {
                b.assert_zero(l(R1) * keyed.clone() * (l(lane + j) - l(KEY + 8 + j)));
            }
            // Row 1 (queue shifted by 2): balance limbs 0..5, or zero padding for a tombstone.
            for j in 0..5 {
                b.assert_zero(l(R1) * l(val) * (l(lane + 3 + j) - q(bal - 2 + j)));
                b.assert_zero(l(R1) * l(tomb) * l(lane + 3 + j));
            }
            // Row 2 (shifted by 4): balance limbs 5..8, nonce limbs, one zero pad.
            for j in 0..3 {
                b.assert_zero(l(R2) * l(val) * (l(lane + j) - q(bal + 5 - 4 + j)));
            }
            for j in 0..4 {
                b.assert_zero(l(R2) * l(val) * (l(lane + 3 + j) - q(nonce - 4 + j)));
            }
            b.assert_zero(l(R2) * l(val) * l(lane + 7));
            // A tombstone or empty slot is balance 0, nonce 0.
            for j in (bal..bal + 8).chain(nonce..nonce + 4) {
                b.assert_zero((l(ACCT) - l(val)) * l(FIRST) * q(j));
            }
        }
        // The key is `0x01 ‖ address`: key[0] − 256 is a byte.
        let tag = l(KEY) - AB::Expr::from_u32(256);
        b.assert_zero(af() * (q(rq::TAG_SCALED) - tag.clone() * AB::Expr::from_u32(256)));
        b.assert_zero(af() * (q(rq::TAG) - tag));
        // Balance: new = old ± amount with boolean carries, no carry out of the top limb.
        let carry = |j: usize| if j == 0 || j == 8 { AB::Expr::ZERO } else { l(CARRY + j - 1) };
        for j in 0..8 {
            let step = q(rq::AMT + j) + carry(j + 1) - carry(j) * c16();
            let eq = q(rq::OLD_BAL + j) - q(rq::NEW_BAL + j) + l(SIGN) * step;
            b.assert_zero(af() * eq);
            b.assert_zero(af() * (l(AMT + j) - q(rq::AMT + j)));
        }
        // Nonce: new = old + bump, 4 limbs.
        let ncarry = |j: usize| match j {
            0 => AB::Expr::ZERO,
            4 => l(BUMP),
            _ => l(NCARRY + j - 1),
        };
        for j in 0..4 {
            let eq =
                q(rq::OLD_NONCE + j) + ncarry(j + 1) - q(rq::NEW_NONCE + j) - ncarry(j) * c16();
            b.assert_zero(af() * eq);
        }
    }
}
