//! The compact proof encoding the Solidity verifier reads (`docs/verifier.md`).
//!
//! Field elements are written exactly as the keccak challenger and the Merkle leaves hash them:
//! the Montgomery `u32`, little endian. So the contract hashes calldata slices as they are.
//! Every length is fixed by `degree_bits` and the FRI parameters except the Merkle multiproofs,
//! whose digest counts are `u16` big endian and bounded.
//!
//! FRI rounds follow [`FriConfig::fold_schedule`]: round r folds by 2^k_r.
//!
//! ```text
//! u8 version = 5 | u8 degree_bits | trace root (32) | quotient root (32)
//! claimed evaluations: trace at ζ (W ext), trace at ζω (W ext), quotient chunks (2 × 4 ext)
//! FRI commit roots (rounds × 32) | final polynomial (2^log_final_poly_len ext, constant first)
//! query PoW witness (4)
//! per query: trace row (W × 4) ‖ quotient rows (2 × 4 × 4)
//! trace multiproof: u16 n ‖ n × 32 | quotient multiproof: u16 n ‖ n × 32
//! per FRI round r: per query 2^k_r − 1 siblings (ext, row order without the query's own slot)
//!                  ‖ u16 n ‖ n × 32
//! withdrawal list: u8 n (≤ WMAX) ‖ n × (recipient (20) ‖ amount (16, big endian))
//! queue entries: u8 n (≤ DMAX) ‖ n × (index (8) ‖ kind (1) ‖ l1Sender (20) ‖ l2Target (20)
//!                ‖ amount (16) ‖ dataHash (32) ‖ timestamp (8)), integers big endian
//! rejected deposits: u8 n (≤ DMAX) ‖ n × index (8, big endian)
//! token flows: 16 account byte sums ‖ 8 locked limb differences, each int32 big endian
//! ```
//!
//! The lists give public values of the proof: the verifier hashes the withdrawals into the
//! withdrawal root and compares it with `withdrawalRoot`, rebuilds `queueHashEnd` from the queue
//! entries and `rejectedDepositsHash` from the rejected list, and derives the credited deposits.

use ctm_core::hash::Felt;
use p3_field::{BasedVectorSpace, Field, PrimeCharacteristicRing, PrimeField32};
use p3_fri::{BatchMultiOpening, CommitPhaseMultiStep, FriProof};
use p3_merkle_tree::{MerkleCap, PrunedMerklePaths};
use p3_uni_stark::{Commitments, OpenedValues, Proof};

use super::{CodecError, EXT_DEGREE, MAX_DEGREE_BITS, MIN_DEGREE_BITS, QUOTIENT_CHUNKS};
use crate::config::{Challenge, EvmConfig, FriConfig};
use crate::layout::WIDTH;
use crate::public::{BatchLists, DMAX, QueueEntry, WMAX, Withdrawal};

/// Encoding version byte.
pub const VERSION: u8 = 5;
/// Largest digest count of one multiproof (a tree of 2^(22+8) leaves and 255 queries stays below).
pub const MAX_DIGESTS: usize = 8192;

type Cap = MerkleCap<Felt, [u8; 32]>;

/// `x · 2^32 mod p`, the Montgomery form the challenger hashes.
fn mont(x: Felt) -> [u8; 4] {
    x.to_unique_u32().to_le_bytes()
}

struct Writer(Vec<u8>);

impl Writer {
    fn felt(&mut self, x: Felt) {
        self.0.extend_from_slice(&mont(x));
    }
    fn ext(&mut self, x: &Challenge) {
        for &c in x.as_basis_coefficients_slice() {
            self.felt(c);
        }
    }
    fn root(&mut self, cap: &Cap) -> Result<(), CodecError> {
        match cap.roots() {
            [root] => {
                self.0.extend_from_slice(root);
                Ok(())
            }
            _ => Err(CodecError::Shape("Merkle cap height must be 0")),
        }
    }
    fn digests(&mut self, p: &PrunedMerklePaths<u8, 32>) -> Result<(), CodecError> {
        let n = p.sibling_hashes.len();
        if n > MAX_DIGESTS {
            return Err(CodecError::Bound { what: "multiproof digest", got: n, max: MAX_DIGESTS });
        }
        self.0.extend_from_slice(&(n as u16).to_be_bytes());
        for d in &p.sibling_hashes {
            self.0.extend_from_slice(d);
        }
        Ok(())
    }
}

/// Refuses FRI parameters [`FriConfig::validate`] refuses (an arity of 0 would never finish
/// the folding schedule).
fn check_fri(fri: &FriConfig) -> Result<(), CodecError> {
    fri.validate().map_err(|_| CodecError::Shape("FRI parameters out of range"))
}

/// Encodes a proof made with [`crate::evm_config`]`(fri)` and its batch's lists for the L1
/// verifier.
pub fn encode(
    proof: &Proof<EvmConfig>,
    lists: &BatchLists,
    fri: &FriConfig,
) -> Result<Vec<u8>, CodecError> {
    check_fri(fri)?;
    let withdrawals = &lists.withdrawals;
    for (what, got, max) in [
        ("withdrawal", withdrawals.len(), WMAX),
        ("queue entry", lists.queue.len(), DMAX),
        ("rejected deposit", lists.rejected.len(), DMAX),
    ] {
        if got > max {
            return Err(CodecError::Bound { what, got, max });
        }
    }
    let db = proof.degree_bits;
    if !(MIN_DEGREE_BITS..=MAX_DEGREE_BITS).contains(&db) {
        return Err(CodecError::DegreeBits(db));
    }
    let ov = &proof.opened_values;
    let fp = &proof.opening_proof;
    let schedule = fri.fold_schedule(db);
    let rounds = schedule.len();
    let next = ov.trace_next.as_ref().ok_or(CodecError::Shape("trace_next missing"))?;
    if proof.commitments.random.is_some() || ov.random.is_some() || ov.preprocessed.is_some() {
        return Err(CodecError::Shape("zero-knowledge or preprocessed proofs"));
    }
    if ov.trace_local.len() != WIDTH
        || next.len() != WIDTH
        || ov.quotient_chunks.len() != QUOTIENT_CHUNKS
        || ov.quotient_chunks.iter().any(|c| c.len() != EXT_DEGREE)
        || fp.commit_phase_commits.len() != rounds
        || fp.commit_phase_openings.len() != rounds
        || fp.final_poly.len() != 1 << fri.log_final_poly_len
        || fp.input_openings.len() != 2
    {
        return Err(CodecError::Shape("opened values do not match the batch AIR"));
    }
    let zero = |w: &Felt| *w == Felt::ZERO;
    if !zero(&proof.ood_pow_witness)
        || !zero(&fp.batch_pow_witness)
        || !fp.commit_pow_witnesses.iter().all(zero)
    {
        return Err(CodecError::Shape("unexpected proof-of-work witnesses"));
    }
    let mut w = Writer(Vec::with_capacity(200_000));
    w.0.push(VERSION);
    w.0.push(db as u8);
    w.root(&proof.commitments.trace)?;
    w.root(&proof.commitments.quotient_chunks)?;
    for v in ov.trace_local.iter().chain(next).chain(ov.quotient_chunks.iter().flatten()) {
        w.ext(v);
    }
    for c in &fp.commit_phase_commits {
        w.root(c)?;
    }
    for c in &fp.final_poly {
        w.ext(c);
    }
    w.felt(fp.query_pow_witness);
    let (trace, quot) = (&fp.input_openings[0], &fp.input_openings[1]);
    if trace.opened_values.len() != fri.num_queries || quot.opened_values.len() != fri.num_queries {
        return Err(CodecError::Shape("query count differs from the FRI parameters"));
    }
    for (t, q) in trace.opened_values.iter().zip(&quot.opened_values) {
        let ok = t.len() == 1 && t[0].len() == WIDTH && q.len() == QUOTIENT_CHUNKS;
        if !ok || q.iter().any(|r| r.len() != EXT_DEGREE) {
            return Err(CodecError::Shape("opened rows do not match the committed matrices"));
        }
        for &x in t[0].iter().chain(q.iter().flatten()) {
            w.felt(x);
        }
    }
    w.digests(&trace.opening_proof)?;
    w.digests(&quot.opening_proof)?;
    for (step, k) in fp.commit_phase_openings.iter().zip(schedule) {
        if step.sibling_values.len() != fri.num_queries
            || step.sibling_values.iter().any(|s| s.len() != (1 << k) - 1)
        {
            return Err(CodecError::Shape("FRI siblings do not match the folding arity"));
        }
        for s in step.sibling_values.iter().flatten() {
            w.ext(s);
        }
        w.digests(&step.opening_proof)?;
    }
    w.0.push(withdrawals.len() as u8);
    for wd in withdrawals {
        w.0.extend_from_slice(wd.recipient.as_slice());
        w.0.extend_from_slice(&wd.amount.to_be_bytes());
    }
    w.0.push(lists.queue.len() as u8);
    for e in &lists.queue {
        w.0.extend_from_slice(&e.index.to_be_bytes());
        w.0.push(e.kind);
        w.0.extend_from_slice(e.l1_sender.as_slice());
        w.0.extend_from_slice(e.l2_target.as_slice());
        w.0.extend_from_slice(&e.amount.to_be_bytes());
        w.0.extend_from_slice(e.data_hash.as_slice());
        w.0.extend_from_slice(&e.timestamp.to_be_bytes());
    }
    w.0.push(lists.rejected.len() as u8);
    for r in &lists.rejected {
        w.0.extend_from_slice(&r.to_be_bytes());
    }
    let flows = &lists.flows;
    for &x in flows.account_bytes.iter().chain(&flows.locked_limbs) {
        let x = i32::try_from(x).map_err(|_| CodecError::Shape("token flow out of range"))?;
        w.0.extend_from_slice(&x.to_be_bytes());
    }
    Ok(w.0)
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.b.len());
        let end = end.ok_or(CodecError::Truncated(self.b.len()))?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.take(1)?[0])
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], CodecError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn u64(&mut self) -> Result<u64, CodecError> {
        Ok(u64::from_be_bytes(self.array()?))
    }
    fn u128(&mut self) -> Result<u128, CodecError> {
        Ok(u128::from_be_bytes(self.array()?))
    }
    fn address(&mut self) -> Result<alloy_primitives::Address, CodecError> {
        Ok(alloy_primitives::Address::from(self.array::<20>()?))
    }
    /// A `u8` count of at most `max` entries.
    fn count(&mut self, what: &'static str, max: usize) -> Result<usize, CodecError> {
        let n = usize::from(self.u8()?);
        if n > max {
            return Err(CodecError::Bound { what, got: n, max });
        }
        Ok(n)
    }
    fn lists(&mut self) -> Result<BatchLists, CodecError> {
        let n = self.count("withdrawal", WMAX)?;
        let withdrawals = (0..n)
            .map(|_| Ok(Withdrawal { recipient: self.address()?, amount: self.u128()? }))
            .collect::<Result<_, CodecError>>()?;
        let n = self.count("queue entry", DMAX)?;
        let queue = (0..n)
            .map(|_| {
                Ok(QueueEntry {
                    index: self.u64()?,
                    kind: self.u8()?,
                    l1_sender: self.address()?,
                    l2_target: self.address()?,
                    amount: self.u128()?,
                    data_hash: self.array::<32>()?.into(),
                    timestamp: self.u64()?,
                })
            })
            .collect::<Result<_, CodecError>>()?;
        let n = self.count("rejected deposit", DMAX)?;
        let rejected = (0..n).map(|_| self.u64()).collect::<Result<_, _>>()?;
        let mut flows = crate::public::Flows::default();
        for x in flows.account_bytes.iter_mut().chain(&mut flows.locked_limbs) {
            *x = i64::from(i32::from_be_bytes(self.array()?));
        }
        Ok(BatchLists { withdrawals, queue, rejected, flows })
    }
    fn felt(&mut self) -> Result<Felt, CodecError> {
        let at = self.at;
        let b = self.take(4)?;
        let m = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        if m >= Felt::ORDER_U32 {
            return Err(CodecError::NonCanonical(at));
        }
        // m = x · 2^32 mod p  ⇒  x = m · 2^-32.
        Ok(Felt::from_u32(m) * Felt::from_u64(1 << 32).inverse())
    }
    fn ext(&mut self) -> Result<Challenge, CodecError> {
        let c = [self.felt()?, self.felt()?, self.felt()?, self.felt()?];
        Ok(Challenge::from_basis_coefficients_fn(|i| c[i]))
    }
    fn exts(&mut self, n: usize) -> Result<Vec<Challenge>, CodecError> {
        (0..n).map(|_| self.ext()).collect()
    }
    fn felts(&mut self, n: usize) -> Result<Vec<Felt>, CodecError> {
        (0..n).map(|_| self.felt()).collect()
    }
    fn root(&mut self) -> Result<Cap, CodecError> {
        let mut r = [0u8; 32];
        r.copy_from_slice(self.take(32)?);
        Ok(MerkleCap::new(vec![r]))
    }
    fn digests(&mut self) -> Result<PrunedMerklePaths<u8, 32>, CodecError> {
        let n = self.take(2)?;
        let n = usize::from(u16::from_be_bytes([n[0], n[1]]));
        if n > MAX_DIGESTS {
            return Err(CodecError::Bound { what: "multiproof digest", got: n, max: MAX_DIGESTS });
        }
        let raw = self.take(32 * n)?;
        let sibling_hashes =
            raw.chunks_exact(32).map(|c| c.try_into().unwrap_or([0; 32])).collect();
        Ok(PrunedMerklePaths { sibling_hashes })
    }
}

/// Decodes an L1 proof back into Plonky3's proof type and the batch's lists (for the Rust
/// verifier and tests).
pub fn decode(bytes: &[u8], fri: &FriConfig) -> Result<(Proof<EvmConfig>, BatchLists), CodecError> {
    check_fri(fri)?;
    let mut r = Reader { b: bytes, at: 0 };
    let v = r.u8()?;
    if v != VERSION {
        return Err(CodecError::Version(v));
    }
    let db = usize::from(r.u8()?);
    if !(MIN_DEGREE_BITS..=MAX_DEGREE_BITS).contains(&db) {
        return Err(CodecError::DegreeBits(db));
    }
    let commitments = Commitments { trace: r.root()?, quotient_chunks: r.root()?, random: None };
    let trace_local = r.exts(WIDTH)?;
    let trace_next = Some(r.exts(WIDTH)?);
    let quotient_chunks =
        (0..QUOTIENT_CHUNKS).map(|_| r.exts(EXT_DEGREE)).collect::<Result<_, _>>()?;
    let opened_values =
        OpenedValues { trace_local, trace_next, preprocessed: None, quotient_chunks, random: None };
    let schedule = fri.fold_schedule(db);
    let rounds = schedule.len();
    let commit_phase_commits = (0..rounds).map(|_| r.root()).collect::<Result<_, _>>()?;
    let final_poly = r.exts(1 << fri.log_final_poly_len)?;
    let query_pow_witness = r.felt()?;
    let q = fri.num_queries;
    let mut trace_rows = Vec::with_capacity(q);
    let mut quot_rows = Vec::with_capacity(q);
    for _ in 0..q {
        trace_rows.push(vec![r.felts(WIDTH)?]);
        quot_rows
            .push((0..QUOTIENT_CHUNKS).map(|_| r.felts(EXT_DEGREE)).collect::<Result<_, _>>()?);
    }
    let input_openings = vec![
        BatchMultiOpening { opened_values: trace_rows, opening_proof: r.digests()? },
        BatchMultiOpening { opened_values: quot_rows, opening_proof: r.digests()? },
    ];
    let mut commit_phase_openings = Vec::with_capacity(rounds);
    for k in schedule {
        let sibling_values = (0..q).map(|_| r.exts((1 << k) - 1)).collect::<Result<_, _>>()?;
        commit_phase_openings
            .push(CommitPhaseMultiStep { sibling_values, opening_proof: r.digests()? });
    }
    let lists = r.lists()?;
    if r.at != bytes.len() {
        return Err(CodecError::Trailing(bytes.len() - r.at));
    }
    let opening_proof = FriProof {
        batch_pow_witness: Felt::ZERO,
        commit_phase_commits,
        commit_pow_witnesses: vec![Felt::ZERO; rounds],
        input_openings,
        commit_phase_openings,
        final_poly,
        query_pow_witness,
    };
    let proof = Proof {
        commitments,
        opened_values,
        opening_proof,
        degree_bits: db,
        ood_pow_witness: Felt::ZERO,
    };
    Ok((proof, lists))
}
