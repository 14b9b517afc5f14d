//! Key-derived columns of the trace: key tag and inverses of generic updates, job leaves (status
//! decomposition, transition selector, attestation sum), the `Totals` home-slot columns and the
//! running `Totals` sums checked against the public `queueCount` / `feesBurned`.

use ctm_core::hash::Felt;
use p3_field::{Field, PrimeCharacteristicRing, PrimeField32};

use super::{Lane, TraceError, set_bool};
use crate::layout::*;
use crate::witness::Witness;

/// Key-tag and job values of a non-account update.
pub(super) struct KeyRow {
    key0: u32,
    /// A `Totals` update: the new leaf's consumed and burned limbs.
    pub(super) totals: Option<Vec<u32>>,
    tinv: Felt,
    jinv: Felt,
    totinv: Felt,
    job: Option<JobRow>,
}

/// Job values: per lane whether it holds a job value, its status limb, the transition.
struct JobRow {
    jv: [bool; 2],
    limb: [u32; 2],
    sel: Option<usize>,
    fill_sel: Option<usize>,
    att_sum: Felt,
}

pub(super) fn inverse_or_zero(x: Felt) -> Felt {
    x.try_inverse().unwrap_or(Felt::ZERO)
}

/// `1 / (r − at)` (0 when `r = at`) for the marker columns, from a table for short updates.
pub(super) fn marker_inverse(r: usize, at: usize) -> Felt {
    const ROWS: usize = 128;
    static TABLE: std::sync::OnceLock<Vec<Felt>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        (0..2 * ROWS)
            .map(|d| inverse_or_zero(Felt::from_usize(d) - Felt::from_usize(ROWS)))
            .collect()
    });
    table
        .get(r + ROWS - at)
        .copied()
        .unwrap_or_else(|| inverse_or_zero(Felt::from_usize(r) - Felt::from_usize(at)))
}

pub(super) fn key_row(
    i: usize,
    lanes: [&Lane; 2],
    (slot, totals_slot): (u64, u64),
    strict: bool,
) -> Result<KeyRow, TraceError> {
    let key0 = lanes.iter().find_map(|l| l.limbs.first()).map_or(0, |f| f.as_canonical_u32());
    let tag = key0 >> 8;
    if strict
        && (tag == 1
            || key0 > 0xffff
            || lanes.iter().any(|l| l.limbs.first().is_some_and(|f| f.as_canonical_u32() != key0)))
    {
        return Err(TraceError::Key(i));
    }
    let full = |l: &Lane| l.limbs.len() == totals::LEAF_LIMBS as usize;
    let old_ok = full(lanes[0]) || lanes[0].limbs.is_empty();
    if strict && key0 == 0 && (!old_ok || !full(lanes[1])) {
        return Err(TraceError::Totals(i, "a Totals update writes a full value over one or none"));
    }
    if strict && key0 == 0 && slot != totals_slot {
        return Err(TraceError::Totals(i, "Totals is not at its home slot"));
    }
    let t = Felt::from_u32(tag);
    let job = (tag == job::TAG).then(|| job_row(lanes));
    if let Some(j) = job.as_ref().filter(|_| strict) {
        job_checks(i, lanes, j)?;
    }
    let new = &lanes[1].limbs;
    let totals_new = |j: usize| new.get(j).map_or(0, |f| f.as_canonical_u32());
    Ok(KeyRow {
        key0,
        totals: (key0 == 0).then(|| {
            let (c, b, l) = (totals::CONSUMED_LIMB, totals::BURNED_LIMB, totals::LOCKED_LIMB);
            (c..c + 4).chain(b..b + 8).chain(l..l + 8).map(totals_new).collect()
        }),
        tinv: inverse_or_zero(t - Felt::ONE),
        jinv: inverse_or_zero(t - Felt::from_u32(job::TAG)),
        totinv: inverse_or_zero(Felt::from_u32(key0)),
        job,
    })
}

fn job_row(lanes: [&Lane; 2]) -> JobRow {
    let jv = lanes.map(|l| l.chunks > job::STATUS_LIMB / 8);
    let limb = lanes.map(|l| l.limbs.get(job::STATUS_LIMB).map_or(0, |f| f.as_canonical_u32()));
    let st = |k: usize| if jv[k] { limb[k] & 0xff } else { NO_STATUS };
    let sel = JOB_TRANSITIONS.iter().position(|t| *t == (st(0), st(1)));
    // Unchecked traces (tests) pick a transition from the right old status when none fits, as a
    // cheating prover would, so that only the new status can be at fault.
    let fill_sel = sel.or_else(|| JOB_TRANSITIONS.iter().position(|t| t.0 == st(0)));
    let att = job::ATTESTATION_LIMB..job::ATTESTATION_LIMB + job::ATTESTATION_LIMBS;
    let att_sum = lanes[1].limbs.get(att).map_or(Felt::ZERO, |a| a.iter().copied().sum());
    JobRow { jv, limb, sel, fill_sel, att_sum }
}

fn job_checks(i: usize, lanes: [&Lane; 2], j: &JobRow) -> Result<(), TraceError> {
    let bad = |why| Err(TraceError::Job(i, why));
    if j.jv.iter().zip(&lanes).any(|(v, l)| *v && l.limbs.len() != job::LEAF_LIMBS as usize) {
        return bad("not a job value");
    }
    match j.sel {
        None => bad("status transition"),
        Some(JT_ATTEST) if j.att_sum == Felt::ZERO => bad("zero attestation"),
        Some(JT_SETTLE) => {
            let (a, b) = (&lanes[0].limbs, &lanes[1].limbs);
            let same = (0..a.len()).all(|k| k == job::STATUS_LIMB || a[k] == b[k])
                && j.limb[0] >> 8 == j.limb[1] >> 8;
            if same { Ok(()) } else { bad("a settle changes more than the status") }
        }
        Some(_) => Ok(()),
    }
}

/// Writes the key-tag, row-marker and job columns of row `r` of a non-account update.
pub(super) fn fill_key_row(row: &mut [Felt], r: usize, is_path: bool, k: &KeyRow, b: &Lane) {
    row[KEY] = Felt::from_u32(k.key0);
    row[TINV] = k.tinv;
    row[JINV] = k.jinv;
    row[TOTINV] = k.totinv;
    if k.totals.is_some() {
        set_bool(row, IS_TOT, true);
        set_bool(row, TF, r == 0);
    }
    let Some(j) = &k.job else { return };
    set_bool(row, IS_JOB, true);
    set_bool(row, JF, r == 0);
    set_bool(row, JM9, r == MARKED_ROWS[mark::JOB_STATUS]);
    set_bool(row, JV_A, j.jv[0]);
    set_bool(row, JV_B, j.jv[1]);
    for (col, k) in [(ST_A, 0), (ST_B, 1)] {
        row[col] = Felt::from_u32(if j.jv[k] { j.limb[k] & 0xff } else { NO_STATUS });
    }
    if let Some(sel) = j.fill_sel {
        row[JT + sel] = Felt::ONE;
        set_bool(row, NS, sel == JT_SETTLE && !is_path && r != MARKED_ROWS[mark::JOB_STATUS]);
        set_bool(row, PA, sel == JT_ATTEST && r == MARKED_ROWS[mark::JOB_ATTESTATION_NEXT]);
    }
    let limbs = |from: usize, to: usize| -> Felt {
        b.limbs.get(from..to).map_or(Felt::ZERO, |x| x.iter().copied().sum())
    };
    let (first, second) =
        (MARKED_ROWS[mark::JOB_ATTESTATION], MARKED_ROWS[mark::JOB_ATTESTATION_NEXT]);
    let row13 = limbs(job::ATTESTATION_LIMB, 8 * first + 8);
    if r == first {
        row[ASUM] = row13;
    } else if r == second {
        row[ASUM] = row13 + limbs(8 * second, 8 * second + 8);
        row[AINV] = inverse_or_zero(j.att_sum);
    }
}

/// The home-slot columns of a `Totals` update's row (`level`: the path level, `None` on sponge
/// rows): the counter, its wrap marker and the chunks of the slot still to be matched.
pub(super) fn fill_totals_slot(row: &mut [Felt], level: Option<usize>, created: bool, slot: u64) {
    set_bool(row, ZA, created);
    let lvl = level.unwrap_or(0);
    let cnt = if level.is_some() { lvl % 16 } else { 0 };
    row[CNT] = Felt::from_usize(cnt);
    set_bool(row, W16, cnt == 15);
    row[W16_INV] = inverse_or_zero(Felt::from_usize(cnt) - Felt::from_u32(15));
    row[TG] = Felt::from_bool(level.is_some() && row[LAST] != Felt::ONE);
    let chunk = lvl / 16;
    for k in 0..4 {
        let c = slot.checked_shr(16 * (chunk + k) as u32).unwrap_or(0) & 0xffff;
        row[SLOTQ + k] = Felt::from_u64(if k == 0 { c >> (lvl % 16) } else { c });
    }
}

/// The queue entries of a non-account update: key bytes, and a job's status decomposition.
pub(super) fn key_queue(k: &KeyRow) -> Vec<u32> {
    let mut rq = vec![0; RQ_LEN];
    let (t, u) = (k.key0 >> 8, k.key0 & 0xff);
    rq[rq::KEY_BYTES..rq::KEY_BYTES + 4].copy_from_slice(&[t, 256 * t, u, 256 * u]);
    if let Some(t) = &k.totals {
        rq[totals::RQ_CONSUMED..totals::RQ_CONSUMED + 4].copy_from_slice(&t[..4]);
        rq[totals::RQ_BURNED..totals::RQ_BURNED + 8].copy_from_slice(&t[4..12]);
        rq[totals::RQ_LOCKED..totals::RQ_LOCKED + 8].copy_from_slice(&t[12..]);
    }
    if let Some(j) = &k.job {
        for lane in 0..2 {
            let (h, s) = (j.limb[lane] >> 8, j.limb[lane] & 0xff);
            let at = job::RQ_STATUS + 4 * lane;
            rq[at..at + 4].copy_from_slice(&[h, 256 * h, s, 256 * s]);
        }
    }
    rq
}

/// Adds `sign ·` the bytes of a row's two range-check queue heads to the byte sums of amount
/// limbs `2r` and `2r + 1`.
fn add_amount_bytes(sums: &mut [Felt; 16], row: &[Felt], r: usize, sign: Felt) {
    for q in 0..2 {
        let v = row[RQ + q].as_canonical_u32();
        let k = 2 * (2 * r + q);
        sums[k] += sign * Felt::from_u32(v >> 8);
        sums[k + 1] += sign * Felt::from_u32(v & 0xff);
    }
}

/// The running sums (as the AIR adds them, row by row): the `Totals` limb differences with the
/// last row's carries against the public `queueCount` and `feesBurned`, and the account byte
/// sums of the token flows (rule 21), which must equal the witness's [`crate::public::Flows`].
pub(super) fn fill_running_sums(
    values: &mut [Felt],
    w: &Witness,
    strict: bool,
) -> Result<(), TraceError> {
    let mut sums = [Felt::ZERO; DELTA_LIMBS];
    let mut bytes = [Felt::ZERO; 16];
    let one = Felt::ONE;
    let rows = values.len() / WIDTH;
    for i in 0..rows {
        let row = &mut values[i * WIDTH..(i + 1) * WIDTH];
        row[DELTA..DELTA + DELTA_LIMBS].copy_from_slice(&sums);
        row[BSUM..BSUM + 16].copy_from_slice(&bytes);
        let sign = row[ASG];
        if sign != Felt::ZERO {
            let r = [FIRST, R1, R2].iter().position(|&c| row[c] == one);
            if let Some(r) = r {
                add_amount_bytes(&mut bytes, row, r, sign);
            }
            if r == Some(2) && i + 1 < rows {
                add_amount_bytes(&mut bytes, &values[(i + 1) * WIDTH..(i + 2) * WIDTH], 3, sign);
            }
            continue;
        }
        if row[IS_TOT] != one {
            continue;
        }
        let diff = |j: usize| row[LANE_B + j] - row[LANE_A + j];
        if row[FIRST] == one {
            (0..4).for_each(|k| sums[k] += diff(1 + k));
        }
        if row[MARK + mark::TOTALS_BURNED] == one {
            (0..7).for_each(|k| sums[4 + k] += diff(1 + k));
        }
        if row[MARK + mark::TOTALS_BURNED_NEXT] == one {
            sums[11] += diff(0);
        }
        if row[MARK + mark::TOTALS_LOCKED] == one {
            (0..3).for_each(|k| sums[DELTA_LOCKED + k] += diff(5 + k));
        }
        if row[MARK + mark::TOTALS_LOCKED_NEXT] == one {
            (0..5).for_each(|k| sums[DELTA_LOCKED + 3 + k] += diff(k));
        }
    }
    let flows: Vec<Felt> = w.lists.flows.field_elements().collect();
    if strict && (bytes[..] != flows[..16] || sums[DELTA_LOCKED..] != flows[16..]) {
        return Err(TraceError::Flows);
    }
    let public = w.public.to_field_elements();
    let last = values.len() - WIDTH;
    let parts = [(0, 4, QCARRY, totals::PV_QUEUE_COUNT), (4, 8, BCARRY, totals::PV_FEES_BURNED)];
    for (at, limbs, carries, word) in parts {
        // Signed limb differences end − start, then carries from the least significant limb.
        let signed = |f: Felt| {
            let v = i64::from(f.as_canonical_u32());
            if v > i64::from(Felt::ORDER_U32 / 2) { v - i64::from(Felt::ORDER_U32) } else { v }
        };
        let mut carry = 0i64;
        for j in (0..limbs).rev() {
            let f = i64::from(public[word + 16 - limbs + j].as_canonical_u32());
            let next = f + carry - signed(sums[at + j]);
            carry = next >> 16;
            if strict && (next & 0xffff != 0 || !(0..=1).contains(&carry)) {
                return Err(TraceError::Totals(w.updates.len(), "public value mismatch"));
            }
            if j > 0 {
                values[last + carries + j - 1] = Felt::from_u32(carry as u32 & 1);
            }
        }
        let high_zero = public[word..word + 16 - limbs].iter().all(|v| *v == Felt::ZERO);
        if strict && (carry != 0 || !high_zero) {
            return Err(TraceError::Totals(w.updates.len(), "public value mismatch"));
        }
    }
    Ok(())
}
