//! Trace generation: lays a [`Witness`] out as rows of the [`crate::air::BatchAir`].
//!
//! Updates are filled in parallel (each owns a disjoint block of rows); the running-root columns
//! are then set in one sequential pass, which also checks that the intermediate roots chain from
//! the public previous root to the public new root. A witness that does not fit the AIR (wrong
//! path length, inconsistent account delta, broken root chain) is a typed [`TraceError`].

use ctm_core::codec::Codec;
use ctm_core::hash::{DIGEST_ELEMS, Digest, Felt, WIDTH as PW, bytes_to_limbs};
use ctm_core::state::{Account, StateKey};
use ctm_core::tree::Leaf;
use p3_field::{Field, PrimeCharacteristicRing, PrimeField32};
use p3_matrix::dense::RowMajorMatrix;
use p3_maybe_rayon::prelude::*;

use crate::layout::*;
use crate::poseidon2::{self, OUT};
use crate::witness::{LeafUpdate, Witness};

/// Why a witness cannot be laid out.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TraceError {
    /// Depth outside what the AIR supports.
    #[error("unsupported tree depth {0}")]
    Depth(u8),
    /// A path of the wrong length.
    #[error("update {0}: wrong number of siblings")]
    PathLength(usize),
    /// An account update whose leaves or delta are inconsistent.
    #[error("update {0}: inconsistent account update ({1})")]
    Account(usize, &'static str),
    /// A transfer link not followed by a matching credit.
    #[error("update {0}: linked debit not followed by its credit")]
    Link(usize),
    /// The intermediate roots do not chain.
    #[error("update {0}: old root does not match the previous root")]
    RootChain(usize),
    /// A non-account update of an account leaf, or a key without a tag byte.
    #[error("update {0}: an account leaf or a malformed key outside an account update")]
    Key(usize),
    /// A job update the AIR refuses (status transition, attestation, settle).
    #[error("update {0}: job leaf update not allowed ({1})")]
    Job(usize, &'static str),
    /// A `Totals` update that does not rewrite a full `Totals` value, or a batch whose `Totals`
    /// changes disagree with the public `queueCount` / `feesBurned`.
    #[error("update {0}: totals ({1})")]
    Totals(usize, &'static str),
    /// A root in the public inputs is not 8 canonical field elements.
    #[error("public state root is not canonical")]
    BadPublicRoot,
}

struct Lane {
    limbs: Vec<Felt>,
    chunks: usize,
    val: bool,
    tomb: bool,
    account: Account,
}

fn lane(leaf: &Option<Leaf>) -> Lane {
    let mut limbs = Vec::new();
    if let Some(l) = leaf {
        bytes_to_limbs(&l.key, &mut limbs);
        bytes_to_limbs(&l.value, &mut limbs);
    }
    let tomb = leaf.as_ref().is_some_and(|l| l.value.is_empty());
    let account =
        leaf.as_ref().and_then(|l| Account::from_bytes(&l.value).ok()).unwrap_or_default();
    Lane { chunks: limbs.len().div_ceil(8), limbs, val: leaf.is_some() && !tomb, tomb, account }
}

fn limbs_be(v: u128, n: usize) -> Vec<u32> {
    (0..n).map(|j| ((v >> (16 * (n - 1 - j))) & 0xffff) as u32).collect()
}

/// Account-specific values of an update's first row.
struct AcctRow {
    key: Vec<Felt>,
    rq: Vec<u32>,
    carries: Vec<u32>,
    ncarries: Vec<u32>,
    sign: Felt,
    bump: bool,
    link: bool,
}

fn account_row(
    i: usize,
    u: &LeafUpdate,
    a: &Lane,
    b: &Lane,
    strict: bool,
) -> Result<Option<AcctRow>, TraceError> {
    let Some(delta) = u.account else { return Ok(None) };
    let bad = |why| TraceError::Account(i, why);
    let key = u.old.as_ref().or(u.new.as_ref()).map(|l| l.key.clone()).ok_or(bad("no leaf"))?;
    let is_account = matches!(StateKey::from_bytes(&key), Ok(StateKey::Account(_)));
    let same_key = [&u.old, &u.new].iter().all(|l| l.as_ref().is_none_or(|l| l.key == key));
    let well_formed = [(&u.old, a), (&u.new, b)]
        .iter()
        .all(|(l, ln)| l.as_ref().is_none_or(|l| ln.tomb || Account::from_bytes(&l.value).is_ok()));
    if !is_account || !same_key || !well_formed {
        return Err(bad("not the same account key in both leaves"));
    }
    let (old, new) = (a.account.clone(), b.account.clone());
    let expect = if delta.credit {
        old.balance.checked_add(delta.amount)
    } else {
        old.balance.checked_sub(delta.amount)
    };
    let nonce_ok = Some(new.nonce) == old.nonce.checked_add(u64::from(delta.bump));
    if strict && (expect != Some(new.balance) || !nonce_ok) {
        return Err(bad("balance or nonce change does not match the delta"));
    }
    let (ob, nb, am) =
        (limbs_be(old.balance, 8), limbs_be(new.balance, 8), limbs_be(delta.amount, 8));
    let mut carries = [0u32; 9];
    for j in (0..8).rev() {
        let c = carries[j + 1];
        carries[j] =
            if delta.credit { (ob[j] + am[j] + c) >> 16 } else { u32::from(ob[j] < am[j] + c) };
        carries[j] &= 1;
    }
    let (on, nn) = (limbs_be(u128::from(old.nonce), 4), limbs_be(u128::from(new.nonce), 4));
    let mut ncarries = [0u32; 5];
    ncarries[4] = u32::from(delta.bump);
    for j in (0..4).rev() {
        ncarries[j] = (on[j] + ncarries[j + 1]) >> 16;
    }
    let mut kl = Vec::new();
    bytes_to_limbs(&key, &mut kl);
    let tag = kl[0].as_canonical_u32().wrapping_sub(256);
    let mut rq = am.clone();
    rq.extend([tag * 256, tag]);
    rq.extend(ob.iter().chain(&nb).chain(&on).chain(&nn));
    Ok(Some(AcctRow {
        key: kl,
        rq,
        carries: carries[1..8].to_vec(),
        ncarries: ncarries[1..4].to_vec(),
        sign: if delta.credit { Felt::ONE } else { Felt::NEG_ONE },
        bump: delta.bump,
        link: delta.link,
    }))
}

/// Key-tag and job values of a non-account update.
struct KeyRow {
    key0: u32,
    /// A `Totals` update: the new leaf's consumed and burned limbs.
    totals: Option<Vec<u32>>,
    tinv: Felt,
    jinv: Felt,
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

fn inverse_or_zero(x: Felt) -> Felt {
    x.try_inverse().unwrap_or(Felt::ZERO)
}

/// `1 / (r − at)` (0 when `r = at`) for the marker columns, from a table for short updates.
fn marker_inverse(r: usize, at: usize) -> Felt {
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

fn key_row(
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
            let c = totals::CONSUMED_LIMB;
            let b = totals::BURNED_LIMB;
            (c..c + 4).chain(b..b + 8).map(totals_new).collect()
        }),
        tinv: inverse_or_zero(t - Felt::ONE),
        jinv: inverse_or_zero(t - Felt::from_u32(job::TAG)),
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
fn fill_key_row(row: &mut [Felt], r: usize, is_path: bool, k: &KeyRow, b: &Lane) {
    row[KEY] = Felt::from_u32(k.key0);
    row[TINV] = k.tinv;
    row[JINV] = k.jinv;
    row[TOTINV] = inverse_or_zero(Felt::from_u32(k.key0));
    if k.totals.is_some() {
        set_bool(row, IS_TOT, true);
        set_bool(row, TF, r == 0);
    }
    let Some(j) = &k.job else { return };
    set_bool(row, IS_JOB, true);
    set_bool(row, JF, r == 0);
    set_bool(row, JM9, r == MARKED_ROWS[0]);
    set_bool(row, JV_A, j.jv[0]);
    set_bool(row, JV_B, j.jv[1]);
    for (col, k) in [(ST_A, 0), (ST_B, 1)] {
        row[col] = Felt::from_u32(if j.jv[k] { j.limb[k] & 0xff } else { NO_STATUS });
    }
    if let Some(sel) = j.fill_sel {
        row[JT + sel] = Felt::ONE;
        set_bool(row, NS, sel == JT_SETTLE && !is_path && r != MARKED_ROWS[0]);
        set_bool(row, PA, sel == JT_ATTEST && r == MARKED_ROWS[2]);
    }
    let limbs = |from: usize, to: usize| -> Felt {
        b.limbs.get(from..to).map_or(Felt::ZERO, |x| x.iter().copied().sum())
    };
    let a0 = job::ATTESTATION_LIMB;
    let row13 = limbs(a0, 8 * MARKED_ROWS[1] + 8);
    if r == MARKED_ROWS[1] {
        row[ASUM] = row13;
    } else if r == MARKED_ROWS[2] {
        row[ASUM] = row13 + limbs(8 * MARKED_ROWS[2], 8 * MARKED_ROWS[2] + 8);
        row[AINV] = inverse_or_zero(j.att_sum);
    }
}

/// The home-slot columns of a `Totals` update's row (`level`: the path level, `None` on sponge
/// rows): the counter, its wrap marker and the chunks of the slot still to be matched.
fn fill_totals_slot(row: &mut [Felt], level: Option<usize>, created: bool, slot: u64) {
    set_bool(row, ZA, created);
    let lvl = level.unwrap_or(0);
    let cnt = if level.is_some() { lvl % 16 } else { 0 };
    row[CNT] = Felt::from_usize(cnt);
    set_bool(row, W16, cnt == 15);
    row[W16_INV] = inverse_or_zero(Felt::from_usize(cnt) - Felt::from_u32(15));
    row[TG] = Felt::from_bool(level.is_some() && row[LAST] != Felt::ONE);
    let chunk = lvl / 16;
    for k in 0..4 {
        let c = (slot >> (16 * (chunk + k)).min(63)) & 0xffff;
        let c = if 16 * (chunk + k) >= 64 { 0 } else { c };
        row[SLOTQ + k] = Felt::from_u64(if k == 0 { c >> (lvl % 16) } else { c });
    }
}

/// The queue entries of a non-account update: key bytes, and a job's status decomposition.
fn key_queue(k: &KeyRow) -> Vec<u32> {
    let mut rq = vec![0; RQ_LEN];
    let (t, u) = (k.key0 >> 8, k.key0 & 0xff);
    rq[rq::KEY_BYTES..rq::KEY_BYTES + 4].copy_from_slice(&[t, 256 * t, u, 256 * u]);
    if let Some(t) = &k.totals {
        rq[totals::RQ_CONSUMED..totals::RQ_CONSUMED + 4].copy_from_slice(&t[..4]);
        rq[totals::RQ_BURNED..totals::RQ_BURNED + 8].copy_from_slice(&t[4..]);
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

fn set_bool(row: &mut [Felt], col: usize, v: bool) {
    row[col] = Felt::from_bool(v);
}

/// Fills the rows of one update; returns nothing but the rows.
fn fill_update(
    i: usize,
    u: &LeafUpdate,
    (depth, totals_slot): (usize, u64),
    rows: &mut [Felt],
    strict: bool,
) -> Result<(), TraceError> {
    if u.siblings.len() != depth {
        return Err(TraceError::PathLength(i));
    }
    let (a, b) = (lane(&u.old), lane(&u.new));
    let acct = account_row(i, u, &a, &b, strict)?;
    let keyed = match acct {
        Some(_) => None,
        None => Some(key_row(i, [&a, &b], (u.slot, totals_slot), strict)?),
    };
    let sponge = if acct.is_some() { ACCOUNT_SPONGE_ROWS } else { a.chunks.max(b.chunks).max(1) };
    let mut prev = [[Felt::ZERO; PW]; 2];
    let mut dig = [[Felt::ZERO; DIGEST_ELEMS]; 2];
    let mut rq: Vec<u32> = match (&acct, &keyed) {
        (Some(r), _) => r.rq.clone(),
        (None, Some(k)) => key_queue(k),
        (None, None) => vec![0; RQ_LEN],
    };
    for (r, row) in rows.chunks_exact_mut(WIDTH).enumerate() {
        let is_path = r >= sponge;
        let level = r.wrapping_sub(sponge);
        let bit = is_path && (u.slot >> level) & 1 == 1;
        for (k, (ln, base, act_col, dcol)) in
            [(&a, LANE_A, ACT_A, D_A), (&b, LANE_B, ACT_B, D_B)].into_iter().enumerate()
        {
            let mut input = [Felt::ZERO; PW];
            let active = !is_path && r < ln.chunks;
            if active {
                let chunk = &ln.limbs[8 * r..ln.limbs.len().min(8 * r + 8)];
                input[..chunk.len()].copy_from_slice(chunk);
                if r == 0 {
                    input[8] = Felt::ONE;
                    input[9] = Felt::from_usize(ln.limbs.len());
                } else {
                    input[8..].copy_from_slice(&prev[k][8..]);
                }
            } else if is_path {
                let sib = &u.siblings[level].0;
                let (l, rr) = if bit { (sib, &dig[k]) } else { (&dig[k], sib) };
                input[..8].copy_from_slice(l);
                input[8..].copy_from_slice(rr);
            }
            let out = poseidon2::fill(&mut row[base..base + poseidon2::PERM_COLS], input);
            if is_path || (active && r + 1 == ln.chunks) {
                dig[k].copy_from_slice(&out[..8]);
            }
            row[dcol..dcol + 8].copy_from_slice(&dig[k]);
            set_bool(row, act_col, active);
            prev[k] = out;
        }
        set_bool(row, IS_UPD, true);
        set_bool(row, FIRST, r == 0);
        set_bool(row, SP, !is_path);
        set_bool(row, PATH, is_path);
        set_bool(row, LAST, r + 1 == sponge + depth);
        set_bool(row, R1, r == 1);
        set_bool(row, R2, r == 2);
        set_bool(row, BIT, bit);
        row[LEVEL] = if is_path { Felt::from_usize(level) } else { Felt::ZERO };
        row[SIGN] = Felt::ONE;
        row[SC] = Felt::from_usize(r);
        for (k, at) in MARKED_ROWS.into_iter().enumerate() {
            set_bool(row, MARK + k, r == at);
            row[MARK_INV + k] = marker_inverse(r, at);
        }
        if let Some(k) = &keyed {
            fill_key_row(row, r, is_path, k, &b);
            if k.totals.is_some() {
                fill_totals_slot(row, is_path.then_some(level), a.limbs.is_empty(), totals_slot);
            }
        }
        if let Some(ar) = &acct {
            set_bool(row, ACCT, true);
            set_bool(row, AF, r == 0);
            set_bool(row, VAL_A, a.val);
            set_bool(row, TOMB_A, a.tomb);
            set_bool(row, VAL_B, b.val);
            set_bool(row, TOMB_B, b.tomb);
            row[SIGN] = ar.sign;
            set_bool(row, BUMP, ar.bump);
            set_bool(row, LINK, ar.link);
            row[KEY..KEY + KEY_LIMBS].copy_from_slice(&ar.key);
            for j in 0..8 {
                row[AMT + j] = Felt::from_u32(ar.rq[j]);
            }
            if r == 0 {
                for (j, c) in ar.carries.iter().enumerate() {
                    row[CARRY + j] = Felt::from_u32(*c);
                }
                for (j, c) in ar.ncarries.iter().enumerate() {
                    row[NCARRY + j] = Felt::from_u32(*c);
                }
            }
        }
        for (j, v) in rq.iter().enumerate() {
            row[RQ + j] = Felt::from_u32(*v);
        }
        for k in 0..2 {
            for bit in 0..16 {
                row[BITS + 16 * k + bit] = Felt::from_u32((rq[k] >> bit) & 1);
            }
        }
        rq.drain(..2);
        rq.extend([0, 0]);
    }
    Ok(())
}

/// Rows an update occupies.
fn update_rows(u: &LeafUpdate, depth: usize) -> usize {
    let n = |l: &Option<Leaf>| {
        l.as_ref().map_or(0, |l| (l.key.len().div_ceil(2) + l.value.len().div_ceil(2)).div_ceil(8))
    };
    let sponge =
        if u.account.is_some() { ACCOUNT_SPONGE_ROWS } else { n(&u.old).max(n(&u.new)).max(1) };
    sponge + depth
}

/// Number of trace rows (a power of two, at least one padding row) for a witness.
pub fn trace_height(w: &Witness) -> usize {
    let used: usize = w.updates.iter().map(|u| update_rows(u, usize::from(w.depth))).sum();
    (used + 1).next_power_of_two().max(16)
}

/// Builds the trace of a witness, refusing account updates whose delta does not match their
/// leaves and broken transfer links or root chains.
pub fn generate_trace(w: &Witness) -> Result<RowMajorMatrix<Felt>, TraceError> {
    build(w, true)
}

/// Like [`generate_trace`] but lays out inconsistent account deltas and links as they are: for
/// tests that show the AIR itself rejects them.
#[doc(hidden)]
pub fn generate_trace_unchecked(w: &Witness) -> Result<RowMajorMatrix<Felt>, TraceError> {
    build(w, false)
}

fn build(w: &Witness, strict: bool) -> Result<RowMajorMatrix<Felt>, TraceError> {
    let depth = usize::from(w.depth);
    if crate::air::BatchAir::new(w.depth).is_none() {
        return Err(TraceError::Depth(w.depth));
    }
    let prev = Digest::from_bytes32(&w.public.prev_state_root).ok_or(TraceError::BadPublicRoot)?;
    let new = Digest::from_bytes32(&w.public.new_state_root).ok_or(TraceError::BadPublicRoot)?;
    let height = trace_height(w);
    let mut values = Felt::zero_vec(height * WIDTH);
    let mut blocks: Vec<(usize, &LeafUpdate, &mut [Felt])> = Vec::with_capacity(w.updates.len());
    let mut rest: &mut [Felt] = &mut values;
    for (i, u) in w.updates.iter().enumerate() {
        let (head, tail) = rest.split_at_mut(update_rows(u, depth) * WIDTH);
        blocks.push((i, u, head));
        rest = tail;
    }
    let pad_start = height * WIDTH - rest.len();
    let totals_slot = crate::air::BatchAir::new(w.depth).map_or(0, |a| a.totals_slot());
    blocks
        .into_par_iter()
        .try_for_each(|(i, u, rows)| fill_update(i, u, (depth, totals_slot), rows, strict))?;
    // Padding: valid permutations of zero, sign 1.
    let mut pad = Felt::zero_vec(WIDTH);
    let _ = poseidon2::fill(&mut pad[LANE_A..LANE_A + poseidon2::PERM_COLS], [Felt::ZERO; PW]);
    let _ = poseidon2::fill(&mut pad[LANE_B..LANE_B + poseidon2::PERM_COLS], [Felt::ZERO; PW]);
    pad[SIGN] = Felt::ONE;
    for row in values[pad_start..].chunks_exact_mut(WIDTH) {
        row.copy_from_slice(&pad);
    }
    // Running roots and links, sequentially.
    let mut root = prev.0;
    let mut start = 0;
    for (i, u) in w.updates.iter().enumerate() {
        let n = update_rows(u, depth);
        let last = (start + n - 1) * WIDTH;
        if strict && values[last + LANE_A + OUT..last + LANE_A + OUT + 8] != root {
            return Err(TraceError::RootChain(i));
        }
        if let Some(d) = u.account.filter(|d| d.link && strict) {
            let next = w.updates.get(i + 1).and_then(|n| n.account);
            if next.is_none_or(|n| !n.credit || n.amount != d.amount) {
                return Err(TraceError::Link(i));
            }
        }
        for row in values[start * WIDTH..(start + n) * WIDTH].chunks_exact_mut(WIDTH) {
            row[ROOT..ROOT + 8].copy_from_slice(&root);
        }
        root.copy_from_slice(&values[last + LANE_B + OUT..last + LANE_B + OUT + 8]);
        start += n;
    }
    if strict && root != new.0 {
        return Err(TraceError::RootChain(w.updates.len()));
    }
    for row in values[pad_start..].chunks_exact_mut(WIDTH) {
        row[ROOT..ROOT + 8].copy_from_slice(&root);
    }
    fill_totals_sums(&mut values, w, strict)?;
    Ok(RowMajorMatrix::new(values, WIDTH))
}

/// The running `Totals` sums (as the AIR adds them, row by row) and the last row's carries
/// against the public `queueCount` and `feesBurned`.
fn fill_totals_sums(values: &mut [Felt], w: &Witness, strict: bool) -> Result<(), TraceError> {
    let mut sums = [Felt::ZERO; DELTA_LIMBS];
    let one = Felt::ONE;
    for row in values.chunks_exact_mut(WIDTH) {
        row[DELTA..DELTA + DELTA_LIMBS].copy_from_slice(&sums);
        if row[IS_TOT] != one {
            continue;
        }
        let diff = |j: usize| row[LANE_B + j] - row[LANE_A + j];
        if row[FIRST] == one {
            (0..4).for_each(|k| sums[k] += diff(1 + k));
        }
        if row[MARK + 3] == one {
            (0..7).for_each(|k| sums[4 + k] += diff(1 + k));
        }
        if row[MARK + 4] == one {
            sums[11] += diff(0);
        }
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
