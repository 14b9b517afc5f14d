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
use p3_field::{PrimeCharacteristicRing, PrimeField32};
use p3_matrix::dense::RowMajorMatrix;
use p3_maybe_rayon::prelude::*;
use tracing::debug_span;

use crate::layout::*;

mod keys;
use crate::poseidon2::{self, OUT};
use crate::witness::{LeafUpdate, Witness};
use keys::{fill_key_row, fill_running_sums, fill_totals_slot, key_queue, key_row, marker_inverse};

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
    /// Withdrawal debits that do not match the batch's withdrawal list (count or amount).
    #[error("update {0}: withdrawal debits do not match the withdrawal list ({1})")]
    Withdrawal(usize, &'static str),
    /// Deposit credits that do not match the batch's credited deposits (count, key or amount).
    #[error("update {0}: deposit credits do not match the credited deposits ({1})")]
    Deposit(usize, &'static str),
    /// The token flows the witness claims are not what its updates sum to.
    #[error("the token flows do not match the updates")]
    Flows,
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
    nonce_step: u16,
    withdrawal: bool,
    deposit: bool,
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
    let nonce_ok = Some(new.nonce) == old.nonce.checked_add(u64::from(delta.nonce_step));
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
    ncarries[4] = u32::from(delta.nonce_step);
    for j in (0..4).rev() {
        ncarries[j] = (on[j] + ncarries[j + 1]) >> 16;
    }
    let mut kl = Vec::new();
    bytes_to_limbs(&key, &mut kl);
    let tag = kl[0].as_canonical_u32().wrapping_sub(256);
    let mut rq = am.clone();
    rq.extend([tag * 256, tag]);
    rq.extend(ob.iter().chain(&nb).chain(&on).chain(&nn));
    rq.extend([u32::from(delta.nonce_step), 0]);
    Ok(Some(AcctRow {
        key: kl,
        rq,
        carries: carries[1..8].to_vec(),
        ncarries: ncarries[1..4].to_vec(),
        sign: if delta.credit { Felt::ONE } else { Felt::NEG_ONE },
        nonce_step: delta.nonce_step,
        withdrawal: delta.withdrawal,
        deposit: delta.deposit,
    }))
}

fn set_bool(row: &mut [Felt], col: usize, v: bool) {
    row[col] = Felt::from_bool(v);
}

/// A rewrite of one update's new-leaf limbs before its rows are filled (tests only).
type Tamper<'a> = Option<(usize, &'a (dyn Fn(&mut [Felt]) + Sync))>;

/// Fills the rows of one update; returns nothing but the rows.
fn fill_update(
    i: usize,
    u: &LeafUpdate,
    (depth, totals_slot): (usize, u64),
    rows: &mut [Felt],
    (strict, tamper): (bool, Tamper<'_>),
) -> Result<(), TraceError> {
    if u.siblings.len() != depth {
        return Err(TraceError::PathLength(i));
    }
    let (a, mut b) = (lane(&u.old), lane(&u.new));
    if let Some((_, rewrite)) = tamper.filter(|(at, _)| *at == i) {
        rewrite(&mut b.limbs);
    }
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
            row[ASG] = ar.sign;
            row[BUMP] = Felt::from_u32(u32::from(ar.nonce_step));
            set_bool(row, WF, r == 0 && ar.withdrawal);
            set_bool(row, DF, r == 0 && ar.deposit);
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

/// The one-hot withdrawal- and deposit-list positions of a row (none past the list's end: only
/// an unchecked trace gets there, and the AIR refuses it).
fn set_list_positions(row: &mut [Felt], (wd, dep): (usize, usize)) {
    if wd <= crate::public::WMAX {
        row[WSEL + wd] = Felt::ONE;
    }
    if dep <= crate::public::DMAX {
        row[DSEL + dep] = Felt::ONE;
    }
}

/// A flagged update must be the next entry of its list: a debit of the withdrawal's amount, a
/// credit of the deposit's amount to the deposit's recipient.
fn check_list_entries(
    i: usize,
    u: &LeafUpdate,
    (wd, dep): (bool, bool),
    (wm, dm): (usize, usize),
    withdrawals: &[crate::public::Withdrawal],
    credits: &[crate::public::Credit],
) -> Result<(), TraceError> {
    let Some(d) = u.account else { return Ok(()) };
    if wd {
        let e = withdrawals.get(wm).ok_or(TraceError::Withdrawal(i, "more debits than entries"))?;
        if d.amount != e.amount || d.credit {
            return Err(TraceError::Withdrawal(i, "not a debit of the entry's amount"));
        }
    }
    if dep {
        let e = credits.get(dm).ok_or(TraceError::Deposit(i, "more credits than deposits"))?;
        let key = ctm_core::state::StateKey::Account(e.to).to_bytes();
        let to_it = u.new.as_ref().is_some_and(|l| l.key == key);
        if d.amount != e.amount || !d.credit || !to_it {
            return Err(TraceError::Deposit(
                i,
                "not a credit of the deposit's amount to its recipient",
            ));
        }
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
/// leaves, list flags that do not match the lists, and broken root chains.
pub fn generate_trace(w: &Witness) -> Result<RowMajorMatrix<Felt>, TraceError> {
    build(w, true, None)
}

/// Like [`generate_trace`] but lays out inconsistent account deltas and flags as they are: for
/// tests that show the AIR itself rejects them.
#[doc(hidden)]
pub fn generate_trace_unchecked(w: &Witness) -> Result<RowMajorMatrix<Felt>, TraceError> {
    build(w, false, None)
}

/// Like [`generate_trace_unchecked`], with update `i`'s new-leaf limbs (key then value) rewritten
/// by `tamper` first: for tests that need limbs no byte string encodes, as a cheating prover may
/// write any field element into the sponge. The rewritten leaf is hashed as written, so its
/// digest (and the roots after it) are the trace's, not the witness's.
#[doc(hidden)]
pub fn generate_trace_tampered(
    w: &Witness,
    i: usize,
    tamper: &(dyn Fn(&mut [Felt]) + Sync),
) -> Result<RowMajorMatrix<Felt>, TraceError> {
    build(w, false, Some((i, tamper)))
}

fn build(
    w: &Witness,
    strict: bool,
    tamper: Tamper<'_>,
) -> Result<RowMajorMatrix<Felt>, TraceError> {
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
    debug_span!("fill updates").in_scope(|| {
        blocks.into_par_iter().try_for_each(|(i, u, rows)| {
            fill_update(i, u, (depth, totals_slot), rows, (strict, tamper))
        })
    })?;
    let _roots = debug_span!("padding, roots and lists").entered();
    // The running root before each update: a sequential read of each update's last row.
    let mut roots = Vec::with_capacity(w.updates.len());
    let mut root = prev.0;
    let mut start = 0;
    let credits = match w.public.credited_deposits(&w.lists.queue, &w.lists.rejected) {
        Ok(c) => c,
        Err(_) if !strict => Vec::new(),
        Err(_) => return Err(TraceError::Deposit(0, "the queue lists do not match L1's hashes")),
    };
    // List entries matched before the update: withdrawals, credited deposits.
    let mut matched = (0, 0);
    for (i, u) in w.updates.iter().enumerate() {
        let n = update_rows(u, depth);
        let last = (start + n - 1) * WIDTH;
        if strict && values[last + LANE_A + OUT..last + LANE_A + OUT + 8] != root {
            return Err(TraceError::RootChain(i));
        }
        let flags = match u.account {
            Some(d) => (d.withdrawal, d.deposit),
            None => (false, false),
        };
        if strict {
            check_list_entries(i, u, flags, matched, &w.lists.withdrawals, &credits)?;
        }
        roots.push((root, matched, flags));
        root.copy_from_slice(&values[last + LANE_B + OUT..last + LANE_B + OUT + 8]);
        matched.0 += usize::from(flags.0);
        matched.1 += usize::from(flags.1);
        start += n;
    }
    if strict && root != new.0 {
        return Err(TraceError::RootChain(w.updates.len()));
    }
    if strict && matched.0 != w.lists.withdrawals.len() {
        return Err(TraceError::Withdrawal(w.updates.len(), "fewer debits than entries"));
    }
    if strict && matched.1 != credits.len() {
        return Err(TraceError::Deposit(w.updates.len(), "fewer credits than deposits"));
    }
    // In parallel: every row of an update carries its running root; padding rows are valid
    // permutations of zero with sign 1 and the final root.
    let (used, padding) = values.split_at_mut(pad_start);
    let mut spans = Vec::with_capacity(w.updates.len());
    let mut rest = used;
    for (u, r) in w.updates.iter().zip(roots) {
        let (head, tail) = rest.split_at_mut(update_rows(u, depth) * WIDTH);
        spans.push((head, r));
        rest = tail;
    }
    spans.into_par_iter().for_each(|(rows, (r, (wm, dm), (wd, dep)))| {
        for (k, row) in rows.chunks_exact_mut(WIDTH).enumerate() {
            row[ROOT..ROOT + 8].copy_from_slice(&r);
            let moved = |flag: bool| usize::from(flag && k > 0);
            set_list_positions(row, (wm + moved(wd), dm + moved(dep)));
        }
    });
    let mut pad = Felt::zero_vec(WIDTH);
    let _ = poseidon2::fill(&mut pad[LANE_A..LANE_A + poseidon2::PERM_COLS], [Felt::ZERO; PW]);
    let _ = poseidon2::fill(&mut pad[LANE_B..LANE_B + poseidon2::PERM_COLS], [Felt::ZERO; PW]);
    pad[SIGN] = Felt::ONE;
    pad[ROOT..ROOT + 8].copy_from_slice(&root);
    set_list_positions(&mut pad, matched);
    padding.par_chunks_exact_mut(WIDTH).for_each(|row| row.copy_from_slice(&pad));
    drop(_roots);
    debug_span!("running sums").in_scope(|| fill_running_sums(&mut values, w, strict))?;
    Ok(RowMajorMatrix::new(values, WIDTH))
}
