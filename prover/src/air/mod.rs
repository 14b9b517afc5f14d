//! `BatchAir`: the state-transition AIR of a batch (see [`crate::layout`] for the columns and
//! `docs/prover.md` for the full constraint list and what is and is not constrained).

use ctm_core::codec::Codec;
use ctm_core::hash::Felt;
use p3_air::{Air, AirBuilder, BaseAir, WindowAccess};
use p3_field::PrimeCharacteristicRing;

use crate::layout::*;

mod flows;
mod keys;
mod lists;
use crate::poseidon2::{self, OUT};
use crate::public::{NUM_PUBLIC_VALUES, PV_NEW_ROOT, PV_PREV_ROOT};
use keys::{eval_job, eval_key_tag, eval_rows, eval_totals};

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
            .chain([VAL_A, TOMB_A, VAL_B, TOMB_B])
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
        b.assert_zero(l(BUMP) * (one() - l(ACCT)));
        b.assert_eq(l(AF), l(ACCT) * l(FIRST));

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
            let carried = [ACCT, VAL_A, TOMB_A, VAL_B, TOMB_B, SIGN, BUMP]
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
        lists::eval_lists(b, lo, nx);
        flows::eval_flows(b, lo, nx);
    }
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
        // Nonce: new = old + step, 4 limbs, the step a 16-bit queue entry.
        b.assert_zero(af() * (l(BUMP) - q(rq::NONCE_STEP)));
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
