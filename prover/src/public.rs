//! The L1 Rollup's `PublicInputs` (docs/contracts.md: 13 static ABI words) and the keccak
//! commitments the prover computes from a batch: deposit-queue rolling hash, withdrawal root,
//! rejected-deposits hash and slashes hash.
//!
//! The proof's public values are the 416-byte `abi.encode(PublicInputs)` as 208 big-endian
//! 16-bit limbs (each < 2^16 < p), so an EVM verifier derives them from the bytes it already has,
//! then the batch's withdrawal list (count and [`WMAX`] amounts), which the verifier hashes into
//! `withdrawalRoot` itself, then its credited deposits (count and [`DMAX`] entries of recipient
//! key limbs and amount), which the verifier derives from the consumed queue entries after
//! rebuilding `queueHashEnd` and `rejectedDepositsHash` from them ([`BatchLists`]). The AIR
//! constrains the state roots, `queueCount`, `feesBurned`, the withdrawal amounts and the
//! deposit credits against the trace; the other words are bound to the proof only through the
//! Fiat–Shamir transcript (see `docs/prover.md`).

use alloy_primitives::{Address, B256, I256, U256, keccak256};
use ctm_core::codec::Codec;
use ctm_core::hash::Felt;
use p3_field::PrimeCharacteristicRing;
use serde::{Deserialize, Serialize};

use crate::ProverError;

/// Number of 32-byte words of the encoding.
pub const WORDS: usize = 13;
/// Public values of the `abi.encode(PublicInputs)` limbs.
pub const PI_LIMBS: usize = WORDS * 16;
/// Entries of the withdrawal list ([`ctm_core::l1::MAX_WITHDRAWALS_PER_BATCH`]).
pub const WMAX: usize = ctm_core::l1::MAX_WITHDRAWALS_PER_BATCH;
/// Public value holding the number of withdrawals.
pub const PV_WD_COUNT: usize = PI_LIMBS;
/// First public value of the withdrawal amounts: entry `k` is 8 big-endian 16-bit limbs at
/// `PV_WD_AMOUNTS + 8k`; entries past the count are zero.
pub const PV_WD_AMOUNTS: usize = PV_WD_COUNT + 1;
/// Queue entries one batch may consume, hence credited deposits in the deposit list
/// ([`ctm_core::l1::MAX_QUEUE_ENTRIES_PER_BATCH`]).
pub const DMAX: usize = ctm_core::l1::MAX_QUEUE_ENTRIES_PER_BATCH;
/// Public value holding the number of credited deposits.
pub const PV_DEP_COUNT: usize = PV_WD_AMOUNTS + 8 * WMAX;
/// First public value of the credited deposits: entry `k` is at `PV_DEP_ENTRIES + DEP_WIDTH·k`,
/// the recipient's 11 account-key limbs (`0x01 ‖ address`) then 8 big-endian amount limbs;
/// entries past the count are zero.
pub const PV_DEP_ENTRIES: usize = PV_DEP_COUNT + 1;
/// Public values per credited deposit.
pub const DEP_WIDTH: usize = crate::layout::KEY_LIMBS + 8;
/// First public value of the batch's token flows ([`Flows`]): 16 signed byte sums of the
/// account balance changes.
pub const PV_ACCOUNT_BYTES: usize = PV_DEP_ENTRIES + DEP_WIDTH * DMAX;
/// Then 8 signed limb differences `end − start` of `Totals::locked`.
pub const PV_LOCKED: usize = PV_ACCOUNT_BYTES + 16;
/// Number of public values of the proof: the limbs of the encoding, the withdrawal list, the
/// credited deposits, then the token flows.
pub const NUM_PUBLIC_VALUES: usize = PV_LOCKED + 8;
/// First public value of `prevStateRoot` (word 2).
pub const PV_PREV_ROOT: usize = 2 * 16;
/// First public value of `newStateRoot` (word 3).
pub const PV_NEW_ROOT: usize = 3 * 16;

/// The Rollup's public inputs of one batch, in ABI order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)] // Field names mirror docs/contracts.md.
pub struct PublicInputs {
    pub l2_chain_id: u64,
    pub batch_index: u64,
    pub prev_state_root: B256,
    pub new_state_root: B256,
    pub batch_data_hash: B256,
    pub queue_start: u64,
    pub queue_count: u64,
    pub queue_hash_start: B256,
    pub queue_hash_end: B256,
    pub withdrawal_root: B256,
    pub fees_burned: u128,
    pub rejected_deposits_hash: B256,
    pub slashes_hash: B256,
}

fn word_u64(v: u64) -> B256 {
    B256::from(U256::from(v))
}

impl PublicInputs {
    /// Decodes `abi.encode(PublicInputs)` (the bytes `Rollup.encodedPublicInputs` returns).
    pub fn from_abi(bytes: &[u8]) -> Result<Self, crate::ProverError> {
        use alloy_sol_types::SolValue;
        let bad = |why: String| crate::ProverError::Invalid(format!("public inputs: {why}"));
        let pi = ctm_core::l1::PublicInputs::abi_decode(bytes).map_err(|e| bad(e.to_string()))?;
        Ok(Self {
            l2_chain_id: pi.l2ChainId,
            batch_index: pi.batchIndex,
            prev_state_root: pi.prevStateRoot,
            new_state_root: pi.newStateRoot,
            batch_data_hash: pi.batchDataHash,
            queue_start: pi.queueStart,
            queue_count: pi.queueCount,
            queue_hash_start: pi.queueHashStart,
            queue_hash_end: pi.queueHashEnd,
            withdrawal_root: pi.withdrawalRoot,
            fees_burned: u128::try_from(pi.feesBurned)
                .map_err(|_| bad("feesBurned above 2^128".into()))?,
            rejected_deposits_hash: pi.rejectedDepositsHash,
            slashes_hash: pi.slashesHash,
        })
    }

    /// The 13 words of `abi.encode(PublicInputs)`.
    pub fn words(&self) -> [B256; WORDS] {
        [
            word_u64(self.l2_chain_id),
            word_u64(self.batch_index),
            self.prev_state_root,
            self.new_state_root,
            self.batch_data_hash,
            word_u64(self.queue_start),
            word_u64(self.queue_count),
            self.queue_hash_start,
            self.queue_hash_end,
            self.withdrawal_root,
            B256::from(U256::from(self.fees_burned)),
            self.rejected_deposits_hash,
            self.slashes_hash,
        ]
    }

    /// `abi.encode(PublicInputs)`: 416 bytes.
    pub fn abi_encode(&self) -> Vec<u8> {
        self.words().iter().flat_map(|w| w.0).collect()
    }

    /// The encoding as big-endian 16-bit limbs (the first [`PI_LIMBS`] public values).
    pub fn to_field_elements(&self) -> Vec<Felt> {
        self.abi_encode()
            .chunks_exact(2)
            .map(|c| Felt::from_u32(u32::from(u16::from_be_bytes([c[0], c[1]]))))
            .collect()
    }

    /// The proof's public values: [`Self::to_field_elements`], the number of withdrawals and
    /// [`WMAX`] amounts of 8 big-endian 16-bit limbs (zero past the count), then the number of
    /// credited deposits and [`DMAX`] entries of [`DEP_WIDTH`] limbs (zero past the count).
    /// The lists must hash to `withdrawalRoot`, `queueHashEnd` and `rejectedDepositsHash`: that
    /// is what ties the amounts and recipients the AIR checks to L1.
    /// The token flows must conserve tokens ([`Flows::check_conserved`]).
    pub fn public_values(&self, lists: &BatchLists) -> Result<Vec<Felt>, ProverError> {
        let (pv, credits) = self.values_and_credits(lists)?;
        lists.flows.check_conserved(self, &credits, &lists.withdrawals)?;
        Ok(pv)
    }

    /// [`Self::public_values`] without the conservation check: for tests that show what the AIR
    /// alone refuses.
    #[doc(hidden)]
    pub fn public_values_unconserved(&self, lists: &BatchLists) -> Result<Vec<Felt>, ProverError> {
        Ok(self.values_and_credits(lists)?.0)
    }

    /// The public values and the credited deposits they were derived from.
    fn values_and_credits(
        &self,
        lists: &BatchLists,
    ) -> Result<(Vec<Felt>, Vec<Credit>), ProverError> {
        let withdrawals = &lists.withdrawals;
        if withdrawals.len() > WMAX {
            return Err(ProverError::Invalid(format!(
                "{} withdrawals, at most {WMAX} per batch",
                withdrawals.len()
            )));
        }
        if withdrawal_root(withdrawals) != self.withdrawal_root {
            return Err(ProverError::Invalid(
                "the withdrawal list does not hash to withdrawalRoot".into(),
            ));
        }
        let credits = self.credited_deposits(&lists.queue, &lists.rejected)?;
        let mut pv = self.to_field_elements();
        pv.push(Felt::from_usize(withdrawals.len()));
        for k in 0..WMAX {
            pv.extend(amount_limbs(withdrawals.get(k).map_or(0, |w| w.amount)));
        }
        pv.push(Felt::from_usize(credits.len()));
        for k in 0..DMAX {
            match credits.get(k) {
                Some(c) => {
                    pv.extend(account_key_limbs(c.to));
                    pv.extend(amount_limbs(c.amount));
                }
                None => pv.extend([Felt::ZERO; DEP_WIDTH]),
            }
        }
        pv.extend(lists.flows.field_elements());
        Ok((pv, credits))
    }

    /// The deposits the batch must credit, in queue order: the consumed entries of kind
    /// deposit, not rejected, of a nonzero amount. `queue` must be exactly the consumed entries
    /// (indices `queueStart..queueStart + queueCount`, at most [`DMAX`]) and rebuild
    /// `queueHashEnd` from `queueHashStart`; `rejected` must hash to `rejectedDepositsHash` and
    /// be strictly increasing consumed deposits (as the Rollup checks on commit).
    pub fn credited_deposits(
        &self,
        queue: &[QueueEntry],
        rejected: &[u64],
    ) -> Result<Vec<Credit>, ProverError> {
        let bad = |why: String| Err(ProverError::Invalid(format!("deposit queue: {why}")));
        if queue.len() > DMAX {
            return bad(format!("{} entries, at most {DMAX} per batch", queue.len()));
        }
        if queue.len() as u64 != self.queue_count {
            return bad(format!("{} entries for queueCount {}", queue.len(), self.queue_count));
        }
        for (k, e) in queue.iter().enumerate() {
            if self.queue_start.checked_add(k as u64) != Some(e.index) {
                return bad(format!("entry {k} has index {}", e.index));
            }
        }
        if fold_queue_hash(self.queue_hash_start, queue) != self.queue_hash_end {
            return bad("the entries do not hash to queueHashEnd".into());
        }
        if rejected_deposits_hash(rejected) != self.rejected_deposits_hash {
            return bad("the rejected list does not hash to rejectedDepositsHash".into());
        }
        let is_deposit = |i: u64| queue.iter().any(|e| e.index == i && e.kind == 0);
        if !rejected.windows(2).all(|w| w[0] < w[1]) || !rejected.iter().all(|&i| is_deposit(i)) {
            return bad("rejected indices must be increasing consumed deposits".into());
        }
        Ok(queue
            .iter()
            .filter(|e| e.kind == 0 && e.amount > 0 && rejected.binary_search(&e.index).is_err())
            .map(|e| Credit { to: e.l2_target, amount: e.amount })
            .collect())
    }

    /// Names of the fields where `self` and `other` differ.
    pub fn diff(&self, other: &PublicInputs) -> Vec<&'static str> {
        const NAMES: [&str; WORDS] = [
            "l2ChainId",
            "batchIndex",
            "prevStateRoot",
            "newStateRoot",
            "batchDataHash",
            "queueStart",
            "queueCount",
            "queueHashStart",
            "queueHashEnd",
            "withdrawalRoot",
            "feesBurned",
            "rejectedDepositsHash",
            "slashesHash",
        ];
        let (a, b) = (self.words(), other.words());
        (0..WORDS).filter(|&i| a[i] != b[i]).map(|i| NAMES[i]).collect()
    }
}

/// The lists a batch proof carries besides the STARK; the verifier checks each against a hash
/// in the public inputs and derives public values from them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchLists {
    /// The batch's withdrawals in order (they hash to `withdrawalRoot`).
    pub withdrawals: Vec<Withdrawal>,
    /// The consumed queue entries in order (they extend `queueHashStart` to `queueHashEnd`).
    pub queue: Vec<QueueEntry>,
    /// Consumed deposits L2 refused, increasing (they hash to `rejectedDepositsHash`).
    pub rejected: Vec<u64>,
    /// The batch's token flows as the trace sums them (public values, checked for conservation).
    #[serde(default)]
    pub flows: Flows,
}

/// Largest magnitude of an account byte sum a verifier accepts (exclusive): far above any trace
/// KoalaBear allows (< 2^26) and below `p / 2`, so the field element names one integer.
pub const MAX_BYTE_SUM: i64 = 1 << 29;
/// Largest magnitude of a `locked` limb difference (exclusive): both ends are 16-bit.
pub const MAX_LIMB_DIFF: i64 = 1 << 16;

/// The batch's token flows, the last public values: what the trace's running sums hold on its
/// last row (AIR rule 21). The verifier reads them as integers and checks conservation:
/// `Δ balances + Δ locked = credited deposits − withdrawals − feesBurned`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flows {
    /// `Σ ±byte_k` of the amounts of all account updates (credits +, debits −), big-endian
    /// bytes of the 16-byte amount: the net change of all balances is
    /// `Σ_k account_bytes[k] · 2^(8·(15−k))`.
    pub account_bytes: [i64; 16],
    /// `end − start` of each big-endian 16-bit limb of `Totals::locked` over the batch.
    pub locked_limbs: [i64; 8],
}

impl Flows {
    /// The values as public field elements (a negative `x` is `p + x`).
    pub fn field_elements(&self) -> impl Iterator<Item = Felt> + '_ {
        self.account_bytes.iter().chain(&self.locked_limbs).map(|&x| {
            let m = Felt::from_u64(x.unsigned_abs());
            if x < 0 { -m } else { m }
        })
    }

    /// `Σ_k v[k] · 2^(w·(n−1−k))`, exact for values in range (`|v[k]| < 2^31`, `n·w ≤ 128`).
    fn weigh(v: &[i64], w: usize) -> I256 {
        v.iter().fold(I256::ZERO, |acc, &x| (acc << w).wrapping_add(I256::unchecked_from(x)))
    }

    /// The net change of all account balances.
    pub fn account_delta(&self) -> I256 {
        Self::weigh(&self.account_bytes, 8)
    }

    /// The change of `Totals::locked`.
    pub fn locked_delta(&self) -> I256 {
        Self::weigh(&self.locked_limbs, 16)
    }

    /// Refuses flows out of range, or that create or destroy tokens: the balances and what the
    /// protocol holds may only change by the credited deposits, less the withdrawals and the
    /// burns (exactly the Solidity verifier's check, in 256-bit integers).
    pub fn check_conserved(
        &self,
        public: &PublicInputs,
        credits: &[Credit],
        withdrawals: &[Withdrawal],
    ) -> Result<(), ProverError> {
        if self.account_bytes.iter().any(|x| x.abs() >= MAX_BYTE_SUM)
            || self.locked_limbs.iter().any(|x| x.abs() >= MAX_LIMB_DIFF)
        {
            return Err(ProverError::Invalid("token flows: a running sum is out of range".into()));
        }
        let sum = |v: &mut dyn Iterator<Item = u128>| {
            v.fold(I256::ZERO, |a, x| a.wrapping_add(I256::from_raw(U256::from(x))))
        };
        let deposited = sum(&mut credits.iter().map(|c| c.amount));
        let withdrawn = sum(&mut withdrawals.iter().map(|w| w.amount));
        let burned = I256::from_raw(U256::from(public.fees_burned));
        let net = deposited.wrapping_sub(withdrawn).wrapping_sub(burned);
        let (balances, locked) = (self.account_delta(), self.locked_delta());
        if balances.wrapping_add(locked) != net {
            return Err(ProverError::Invalid(format!(
                "token flows: not conserved: balances {balances:+} and locked {locked:+}, \
                 but deposits {deposited} − withdrawals {withdrawn} − burned {burned}"
            )));
        }
        Ok(())
    }

    /// Adds one account update, a credit or a debit of `amount`, as the trace sums it.
    pub fn add_account(&mut self, credit: bool, amount: u128) {
        let sign = if credit { 1 } else { -1 };
        for (k, byte) in amount.to_be_bytes().into_iter().enumerate() {
            self.account_bytes[k] += sign * i64::from(byte);
        }
    }
}

/// A deposit the batch credits: its recipient's account gains `amount`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Credit {
    /// L2 recipient.
    pub to: Address,
    /// Amount.
    pub amount: u128,
}

/// 8 big-endian 16-bit limbs of an amount.
fn amount_limbs(v: u128) -> impl Iterator<Item = Felt> {
    (0..8).rev().map(move |j| Felt::from_u32(((v >> (16 * j)) & 0xffff) as u32))
}

/// The 11 limbs of an account's state key `0x01 ‖ address` (as the AIR's `KEY` columns).
pub fn account_key_limbs(a: Address) -> Vec<Felt> {
    let mut out = Vec::with_capacity(crate::layout::KEY_LIMBS);
    ctm_core::hash::bytes_to_limbs(&ctm_core::state::StateKey::Account(a).to_bytes(), &mut out);
    out
}

/// One entry of the L1→L2 queue, as in the Rollup's `QueueEntryAdded` event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueEntry {
    /// Queue index.
    pub index: u64,
    /// 0 deposit, 1 message.
    pub kind: u8,
    /// L1 sender.
    pub l1_sender: Address,
    /// L2 recipient or target.
    pub l2_target: Address,
    /// Amount (0 for messages).
    pub amount: u128,
    /// `keccak256(data)` for messages, zero for deposits.
    pub data_hash: B256,
    /// L1 block timestamp of the enqueue.
    pub timestamp: u64,
}

impl QueueEntry {
    /// `keccak256(abi.encode(uint64 i, uint8 kind, address, address, uint256, bytes32, uint64))`.
    pub fn hash(&self) -> B256 {
        let mut buf = Vec::with_capacity(7 * 32);
        buf.extend_from_slice(&word_u64(self.index).0);
        buf.extend_from_slice(&word_u64(u64::from(self.kind)).0);
        buf.extend_from_slice(&self.l1_sender.into_word().0);
        buf.extend_from_slice(&self.l2_target.into_word().0);
        buf.extend_from_slice(&B256::from(U256::from(self.amount)).0);
        buf.extend_from_slice(&self.data_hash.0);
        buf.extend_from_slice(&word_u64(self.timestamp).0);
        keccak256(&buf)
    }
}

/// `H_{i+1} = keccak256(abi.encode(H_i, entryHash_i))` folded over `entries`.
pub fn fold_queue_hash(start: B256, entries: &[QueueEntry]) -> B256 {
    entries.iter().fold(start, |h, e| {
        let mut buf = [0u8; 64];
        buf[..32].copy_from_slice(&h.0);
        buf[32..].copy_from_slice(&e.hash().0);
        keccak256(buf)
    })
}

/// One L2→L1 withdrawal of a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withdrawal {
    /// L1 recipient.
    pub recipient: Address,
    /// Amount.
    pub amount: u128,
}

/// `keccak256(abi.encode(uint256 i, address recipient, uint256 amount))`.
pub fn withdrawal_leaf(index: u64, w: &Withdrawal) -> B256 {
    let mut buf = Vec::with_capacity(96);
    buf.extend_from_slice(&word_u64(index).0);
    buf.extend_from_slice(&w.recipient.into_word().0);
    buf.extend_from_slice(&B256::from(U256::from(w.amount)).0);
    keccak256(&buf)
}

/// The batch's withdrawal root: leaves padded with zero words to a power of two, parents
/// `keccak256(left ‖ right)`; one leaf is its own root, none gives `0x0`.
pub fn withdrawal_root(withdrawals: &[Withdrawal]) -> B256 {
    if withdrawals.is_empty() {
        return B256::ZERO;
    }
    let mut level: Vec<B256> =
        withdrawals.iter().enumerate().map(|(i, w)| withdrawal_leaf(i as u64, w)).collect();
    level.resize(level.len().next_power_of_two(), B256::ZERO);
    while level.len() > 1 {
        level = level
            .chunks_exact(2)
            .map(|p| {
                let mut buf = [0u8; 64];
                buf[..32].copy_from_slice(&p[0].0);
                buf[32..].copy_from_slice(&p[1].0);
                keccak256(buf)
            })
            .collect();
    }
    level[0]
}

/// `keccak256(abi.encodePacked(uint64[] rejected))`: each index as a 32-byte word.
pub fn rejected_deposits_hash(rejected: &[u64]) -> B256 {
    let buf: Vec<u8> = rejected.iter().flat_map(|i| word_u64(*i).0).collect();
    keccak256(&buf)
}

/// A stake slash carried by a batch (the Rollup's `Slash`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slash {
    /// Slashed staker.
    pub account: Address,
    /// Stake role.
    pub role: u8,
    /// Amount.
    pub amount: u128,
    /// Reporter (zero: all burned).
    pub reporter: Address,
}

/// keccak256 of the concatenated `abi.encode(account, uint8 role, amount, reporter)`.
pub fn slashes_hash(slashes: &[Slash]) -> B256 {
    let mut buf = Vec::with_capacity(slashes.len() * 128);
    for s in slashes {
        buf.extend_from_slice(&s.account.into_word().0);
        buf.extend_from_slice(&word_u64(u64::from(s.role)).0);
        buf.extend_from_slice(&B256::from(U256::from(s.amount)).0);
        buf.extend_from_slice(&s.reporter.into_word().0);
    }
    keccak256(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_matches_the_solidity_vector() {
        // test/Rollup.t.sol::testPublicInputsEncodingVector: fields 71117, 7, 1, 2, …, 11.
        let w = |v: u64| B256::from(U256::from(v));
        let pi = PublicInputs {
            l2_chain_id: 71117,
            batch_index: 7,
            prev_state_root: w(1),
            new_state_root: w(2),
            batch_data_hash: w(3),
            queue_start: 4,
            queue_count: 5,
            queue_hash_start: w(6),
            queue_hash_end: w(7),
            withdrawal_root: w(8),
            fees_burned: 9,
            rejected_deposits_hash: w(10),
            slashes_hash: w(11),
        };
        let words = pi.words();
        assert_eq!(words[0], w(71117));
        for (i, word) in words.iter().enumerate().skip(1) {
            assert_eq!(*word, w(if i == 1 { 7 } else { i as u64 - 1 }));
        }
        assert_eq!(pi.to_field_elements().len(), PI_LIMBS);
    }

    /// Public inputs of batch 1 with every other word zero (and empty rejected deposits).
    fn blank() -> PublicInputs {
        PublicInputs {
            l2_chain_id: 1,
            batch_index: 1,
            prev_state_root: B256::ZERO,
            new_state_root: B256::ZERO,
            batch_data_hash: B256::ZERO,
            queue_start: 0,
            queue_count: 0,
            queue_hash_start: B256::ZERO,
            queue_hash_end: B256::ZERO,
            withdrawal_root: B256::ZERO,
            fees_burned: 0,
            rejected_deposits_hash: rejected_deposits_hash(&[]),
            slashes_hash: B256::ZERO,
        }
    }

    #[test]
    fn public_values_append_the_withdrawal_list() {
        let list = vec![
            Withdrawal { recipient: Address::repeat_byte(1), amount: 0x0102_0304_0506_0708 },
            Withdrawal { recipient: Address::repeat_byte(2), amount: u128::MAX },
        ];
        let pi = PublicInputs { withdrawal_root: withdrawal_root(&list), ..blank() };
        // What leaves L2 comes out of the balances (two debits: one in each limb's sum).
        let paid = |w: &[Withdrawal]| {
            let mut f = Flows::default();
            w.iter().for_each(|x| f.add_account(false, x.amount));
            f
        };
        let lists = |w: &[Withdrawal]| BatchLists {
            withdrawals: w.to_vec(),
            flows: paid(w),
            ..Default::default()
        };
        let pv = pi.public_values(&lists(&list)).unwrap();
        assert_eq!(pv.len(), NUM_PUBLIC_VALUES);
        assert_eq!(pv[..PI_LIMBS], pi.to_field_elements()[..]);
        assert_eq!(pv[PV_WD_COUNT], Felt::from_u32(2));
        let limbs = |k: usize| -> Vec<u32> {
            pv[PV_WD_AMOUNTS + 8 * k..PV_WD_AMOUNTS + 8 * k + 8]
                .iter()
                .map(p3_field::PrimeField32::as_canonical_u32)
                .collect()
        };
        assert_eq!(limbs(0), [0, 0, 0, 0, 0x0102, 0x0304, 0x0506, 0x0708], "big-endian limbs");
        assert_eq!(limbs(1), [0xffff; 8]);
        assert!((2..WMAX).all(|k| limbs(k) == [0; 8]), "entries past the count are zero");
        // The list must hash to the root, and fit.
        assert!(pi.public_values(&lists(&list[..1])).is_err());
        let long = vec![list[0].clone(); WMAX + 1];
        let pi_long = PublicInputs { withdrawal_root: withdrawal_root(&long), ..pi };
        assert!(pi_long.public_values(&lists(&long)).is_err());
    }

    fn queue_entry(index: u64, kind: u8, to: u8, amount: u128) -> QueueEntry {
        QueueEntry {
            index,
            kind,
            l1_sender: Address::repeat_byte(0xee),
            l2_target: Address::repeat_byte(to),
            amount,
            data_hash: B256::ZERO,
            timestamp: 1_700_000_000 + index,
        }
    }

    #[test]
    fn public_values_append_the_credited_deposits() {
        let start = B256::repeat_byte(7);
        // Entry 5 a deposit, 6 a message, 7 a rejected deposit, 8 a deposit of 0, 9 a deposit.
        let queue = vec![
            queue_entry(5, 0, 0x11, 0x0102_0304),
            queue_entry(6, 1, 0x22, 0),
            queue_entry(7, 0, 0x33, 9),
            queue_entry(8, 0, 0x44, 0),
            queue_entry(9, 0, 0x55, u128::MAX),
        ];
        let rejected = vec![7];
        let pi = PublicInputs {
            queue_start: 5,
            queue_count: 5,
            queue_hash_start: start,
            queue_hash_end: fold_queue_hash(start, &queue),
            rejected_deposits_hash: rejected_deposits_hash(&rejected),
            ..blank()
        };
        let mut flows = Flows::default();
        flows.add_account(true, 0x0102_0304);
        let lists = BatchLists { queue: queue.clone(), rejected, flows, ..Default::default() };
        let credits = pi.credited_deposits(&lists.queue, &lists.rejected).unwrap();
        assert_eq!(
            credits,
            [
                Credit { to: Address::repeat_byte(0x11), amount: 0x0102_0304 },
                Credit { to: Address::repeat_byte(0x55), amount: u128::MAX },
            ]
        );
        // The second credit, as the trace sums its bytes.
        let mut lists = lists;
        lists.flows.add_account(true, u128::MAX);
        assert_eq!(
            lists.flows.account_delta(),
            I256::unchecked_from(0x0102_0304) + I256::from_raw(U256::from(u128::MAX))
        );
        let pv = pi.public_values(&lists).unwrap();
        assert_eq!(pv.len(), NUM_PUBLIC_VALUES);
        let at = |i: usize| p3_field::PrimeField32::as_canonical_u32(&pv[i]);
        assert_eq!(at(PV_DEP_COUNT), 2);
        let entry = |k: usize| -> Vec<u32> {
            (0..DEP_WIDTH).map(|j| at(PV_DEP_ENTRIES + DEP_WIDTH * k + j)).collect()
        };
        let mut first = vec![0x0111];
        first.extend([0x1111; 9]);
        first.push(0x1100);
        first.extend([0, 0, 0, 0, 0, 0, 0x0102, 0x0304]);
        assert_eq!(entry(0), first, "key 0x01 ‖ address, then the amount, big-endian");
        assert_eq!(entry(1)[11..], [0xffff; 8]);
        assert!((2..DMAX).all(|k| entry(k) == [0; DEP_WIDTH]), "entries past the count are zero");

        // Every list must match its hash, the count and the indices.
        let refuse = |l: BatchLists, p: &PublicInputs| assert!(p.public_values(&l).is_err());
        // The flows must conserve tokens, and each must be in range.
        let flows = |f: fn(&mut Flows)| {
            let mut l = lists.clone();
            f(&mut l.flows);
            l
        };
        refuse(flows(|f| f.account_bytes[15] += 1), &pi);
        refuse(flows(|f| f.locked_limbs[0] -= 1), &pi);
        refuse(flows(|f| f.account_bytes[0] = MAX_BYTE_SUM), &pi);
        refuse(flows(|f| f.locked_limbs[7] = -MAX_LIMB_DIFF), &pi);
        let moved = flows(|f| {
            f.account_bytes[14] -= 1;
            f.locked_limbs[7] += 256;
        });
        assert!(pi.public_values(&moved).is_ok(), "balances into locked is conserved");
        let mut other = lists.clone();
        other.queue[0].amount += 1;
        refuse(other, &pi);
        let mut other = lists.clone();
        other.queue[4].l2_target = Address::repeat_byte(0x66);
        refuse(other, &pi);
        refuse(BatchLists { rejected: vec![], ..lists.clone() }, &pi);
        refuse(BatchLists { queue: queue[..4].to_vec(), ..lists.clone() }, &pi);
        // A rejected message, or rejected indices out of order, even with matching hashes.
        for bad in [vec![6], vec![9, 7]] {
            let p =
                PublicInputs { rejected_deposits_hash: rejected_deposits_hash(&bad), ..pi.clone() };
            refuse(BatchLists { rejected: bad, ..lists.clone() }, &p);
        }
        // More entries than a batch may consume.
        let long: Vec<QueueEntry> = (0..=DMAX as u64).map(|i| queue_entry(i, 0, 1, 1)).collect();
        let p = PublicInputs {
            queue_start: 0,
            queue_count: long.len() as u64,
            queue_hash_start: B256::ZERO,
            queue_hash_end: fold_queue_hash(B256::ZERO, &long),
            rejected_deposits_hash: rejected_deposits_hash(&[]),
            ..pi.clone()
        };
        refuse(BatchLists { queue: long, ..Default::default() }, &p);
    }

    #[test]
    fn empty_lists_hash_to_keccak_of_nothing() {
        let empty = keccak256([]);
        assert_eq!(rejected_deposits_hash(&[]), empty);
        assert_eq!(slashes_hash(&[]), empty);
        assert_eq!(withdrawal_root(&[]), B256::ZERO);
        let w = Withdrawal { recipient: Address::repeat_byte(1), amount: 5 };
        assert_eq!(withdrawal_root(std::slice::from_ref(&w)), withdrawal_leaf(0, &w));
    }
}
