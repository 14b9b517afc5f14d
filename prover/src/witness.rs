//! Witness generation: replays a batch's blocks with ctm-core's own [`Executor`] and state tree,
//! and records every state-leaf change as a single-leaf Merkle update
//! `(slot, old leaf, new leaf, siblings)` whose intermediate roots chain `prev_root → new_root`.
//!
//! - Each op is run with [`Executor::try_op`]; its effect on each key is one change (so a `Fee`
//!   payer's nonce bump and debit are one change); every account change carries its
//!   [`AccountDelta`].
//! - Within the batch ([`Fold::Batch`]; block by block, [`Fold::Block`], if the batch reuses a
//!   slot), a key's consecutive changes that no rule ties to one op are folded into one update
//!   (`coalesce`): a signed transfer's fee and debit become one update of its sender, and the
//!   producer's tips and the `Totals` counters one update.
//! - Each block is committed with [`write_block`], exactly as the sequencer does; a key's updates
//!   use the slot the committed tree gives it at the end of the folded span, and after the span
//!   the witness root must equal the committed root ([`WitnessError::RootMismatch`]).
//! - The batch context (L1 queue entries, batch data, rejected deposits, slashes) yields the
//!   keccak public inputs; deposits must match the queue and, if given, the expected L1 public
//!   inputs must match.

use std::collections::{HashMap, HashSet};

use alloy_primitives::{B256, keccak256};
use ctm_core::codec::Codec;
use ctm_core::state::{Account, StateKey, Totals};
use ctm_core::tree::Leaf;
use ctm_core::{
    Digest, Executor, MemoryStore, Op, OpError, Rules, StateTree, TreeError, TreeStore, write_block,
};
use serde::{Deserialize, Serialize};

use crate::public::{self, BatchLists, PublicInputs, QueueEntry, Slash, Withdrawal};
use crate::shadow::Shadow;

/// One block of a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    /// Block timestamp.
    pub timestamp: u64,
    /// The block's ops in order.
    pub ops: Vec<Op>,
}

/// What L1 knows about the batch besides its ops.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchContext {
    /// L2 chain id.
    pub l2_chain_id: u64,
    /// 1-based batch index.
    pub batch_index: u64,
    /// The batch data posted to L1 (its keccak is the data commitment).
    #[serde(with = "hex_bytes")]
    pub batch_data: Vec<u8>,
    /// First queue index consumed.
    pub queue_start: u64,
    /// `H_queueStart`.
    pub queue_hash_start: B256,
    /// The consumed queue entries, in order from `queue_start`.
    pub queue: Vec<QueueEntry>,
    /// Queue indices of consumed deposits that L2 refused (strictly increasing).
    pub rejected_deposits: Vec<u64>,
    /// Slashes carried by the batch.
    pub slashes: Vec<Slash>,
    /// The public inputs L1 committed, if known: the witness is refused unless they match.
    pub expected: Option<PublicInputs>,
}

mod hex_bytes {
    pub(super) fn serialize<S: serde::Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("0x{}", hex::encode(b)))
    }
    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s: String = serde::Deserialize::deserialize(d)?;
        hex::decode(s.trim_start_matches("0x")).map_err(serde::de::Error::custom)
    }
}

/// The constrained effect of an update on an account leaf.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountDelta {
    /// Balance increases (`true`) or decreases by `amount`.
    pub credit: bool,
    /// Balance change.
    pub amount: u128,
    /// Nonce increase (one per transaction folded into the update).
    pub nonce_step: u16,
    /// A `Withdraw` debit: L1 pays its amount out as the next entry of the withdrawal list.
    #[serde(default)]
    pub withdrawal: bool,
    /// A `Deposit` credit: the next credited deposit of the batch's queue entries.
    #[serde(default)]
    pub deposit: bool,
}

/// One single-leaf update of the state tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeafUpdate {
    /// Index (in the whole batch) of the first op whose change of this key the update folds.
    pub op: usize,
    /// The slot.
    pub slot: u64,
    /// Leaf before (`None`: empty slot).
    pub old: Option<Leaf>,
    /// Leaf after.
    pub new: Option<Leaf>,
    /// Siblings from the leaf level up, shared by the old and the new path.
    pub siblings: Vec<Digest>,
    /// For account leaves: the balance/nonce change the AIR constrains.
    pub account: Option<AccountDelta>,
}

/// Everything the prover needs for one batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Witness {
    /// Tree depth.
    pub depth: u8,
    /// The L1 public inputs of the batch.
    pub public: PublicInputs,
    /// The leaf updates in order.
    pub updates: Vec<LeafUpdate>,
    /// The batch's withdrawals, consumed queue entries and rejected deposits (they hash to
    /// `public.withdrawal_root`, `queue_hash_end` and `rejected_deposits_hash`).
    pub lists: BatchLists,
}

impl Witness {
    /// The proof's public values ([`PublicInputs::public_values`] with this batch's lists).
    pub fn public_values(&self) -> Result<Vec<ctm_core::hash::Felt>, crate::ProverError> {
        self.public.public_values(&self.lists)
    }

    /// The public values without the conservation check (tests of the AIR alone).
    #[doc(hidden)]
    pub fn public_values_unconserved(
        &self,
    ) -> Result<Vec<ctm_core::hash::Felt>, crate::ProverError> {
        self.public.public_values_unconserved(&self.lists)
    }
}

/// Why a batch has no witness.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    /// An op does not apply (overdraft, bad nonce, …).
    #[error("block {block}, op {op}: {source}")]
    Op {
        /// Block index.
        block: usize,
        /// Op index in the batch.
        op: usize,
        /// Why.
        source: OpError,
    },
    /// The state tree failed.
    #[error("state tree: {0}")]
    Tree(#[from] TreeError),
    /// A nonce fell, or rose by more than 2^16 − 1 in one update (not expressible in the AIR).
    #[error("op {op}: nonce moved from {old} to {new}")]
    NonceJump {
        /// Op index.
        op: usize,
        /// Old nonce.
        old: u64,
        /// New nonce.
        new: u64,
    },
    /// Two keys use the same slot within one folded span (a freed slot reused): not supported
    /// within one block.
    #[error("block {block}: slot {slot} is used by two keys")]
    SlotReuse {
        /// Block index.
        block: usize,
        /// The slot.
        slot: u64,
    },
    /// No free slot in a key's probe window.
    #[error("op {op}: no slot for a key created and removed in one block")]
    NoSlot {
        /// Op index.
        op: usize,
    },
    /// More withdrawals than one batch proof can carry.
    #[error("{got} withdrawals in the batch, at most {max}")]
    TooManyWithdrawals {
        /// Withdrawals in the batch.
        got: usize,
        /// [`public::WMAX`].
        max: usize,
    },
    /// More queue entries than one batch proof can carry.
    #[error("{got} queue entries consumed by the batch, at most {max}")]
    TooManyQueueEntries {
        /// Entries consumed.
        got: usize,
        /// [`public::DMAX`].
        max: usize,
    },
    /// The ops and the L1 queue disagree.
    #[error("deposit queue: {0}")]
    Queue(String),
    /// The batch creates or destroys tokens, or its lists are inconsistent (a bug or a bad
    /// context): the verifiers would refuse its proof.
    #[error("{0}")]
    NotConserved(String),
    /// The computed public inputs differ from L1's.
    #[error("public inputs differ from L1 in {0:?}")]
    PublicInputMismatch(Vec<&'static str>),
    /// The witness does not reproduce the committed root (a prover bug).
    #[error("witness root {got} != committed root {expected} after block {block}")]
    RootMismatch {
        /// Block index.
        block: usize,
        /// The tree's root.
        expected: Digest,
        /// The witness's root.
        got: Digest,
    },
}

struct Change {
    op: usize,
    key: StateKey,
    old: Option<Vec<u8>>,
    new: Option<Vec<u8>>,
    withdrawal: bool,
    deposit: bool,
}

fn account_of(v: &Option<Vec<u8>>) -> Account {
    v.as_deref().and_then(|b| Account::from_bytes(b).ok()).unwrap_or_default()
}

fn totals_of(tree: &StateTree<MemoryStore>) -> Result<Totals, TreeError> {
    Ok(tree.get_value::<Totals>(&StateKey::Totals)?.unwrap_or_default())
}

/// Over which span the witness folds each key's changes into one update (`coalesce`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fold {
    /// The whole batch: one update per key for the batch, up to the nonce and list limits.
    Batch,
    /// Each block on its own, with the witness root checked against the committed root after
    /// every block.
    Block,
}

/// Replays `blocks` on a copy of `tree` and returns the witness and the post-batch tree.
/// Changes are folded over the whole batch ([`Fold::Batch`]); if the batch reuses a slot for
/// another key (a key removed and another placed in its slot by a later block) that cannot be
/// laid out, block by block ([`Fold::Block`]).
pub fn build_witness(
    tree: &StateTree<MemoryStore>,
    rules: &Rules,
    blocks: &[Block],
    ctx: &BatchContext,
) -> Result<(Witness, StateTree<MemoryStore>), WitnessError> {
    match build_witness_folded(tree, rules, blocks, ctx, Fold::Batch) {
        Err(
            WitnessError::SlotReuse { .. }
            | WitnessError::NoSlot { .. }
            | WitnessError::RootMismatch { .. },
        ) => build_witness_folded(tree, rules, blocks, ctx, Fold::Block),
        done => done,
    }
}

/// [`build_witness`] with the folding span chosen by the caller.
pub fn build_witness_folded(
    tree: &StateTree<MemoryStore>,
    rules: &Rules,
    blocks: &[Block],
    ctx: &BatchContext,
    fold: Fold,
) -> Result<(Witness, StateTree<MemoryStore>), WitnessError> {
    let depth = tree.depth();
    let mut real = StateTree::new(tree.store().clone(), depth)?;
    let mut shadow = Shadow::new(tree.store(), depth);
    let prev_root = tree.root();
    let burned_before = totals_of(tree)?.burned;
    let mut updates = Vec::new();
    let mut withdrawals = Vec::new();
    let mut deposits = Vec::new();
    let mut pending: Vec<Change> = Vec::new();
    let mut op_base = 0;
    for (bi, block) in blocks.iter().enumerate() {
        let mut exec = Executor::new(&real, rules.clone(), block.timestamp);
        let mut current: HashMap<StateKey, Option<Vec<u8>>> = HashMap::new();
        let mut changes: Vec<Change> = Vec::new();
        for (oi, op) in block.ops.iter().enumerate() {
            let op_index = op_base + oi;
            exec.try_op(op).map_err(|source| WitnessError::Op {
                block: bi,
                op: op_index,
                source,
            })?;
            match op {
                Op::Withdraw { l1_recipient, amount, .. } => {
                    withdrawals.push(Withdrawal { recipient: *l1_recipient, amount: *amount });
                }
                Op::Deposit { queue_index, to, amount } => {
                    deposits.push((op_index, *queue_index, *to, *amount));
                }
                _ => {}
            }
            let candidates: Vec<StateKey> = match op {
                Op::Transfer { from, to, .. } => {
                    vec![StateKey::Account(*from), StateKey::Account(*to)]
                }
                Op::Fee { payer, beneficiary, .. } => {
                    vec![
                        StateKey::Account(*payer),
                        StateKey::Account(*beneficiary),
                        StateKey::Totals,
                    ]
                }
                Op::Deposit { to, .. } | Op::Mint { to, .. } => {
                    vec![StateKey::Account(*to), StateKey::Totals]
                }
                Op::Withdraw { from, .. } => vec![StateKey::Account(*from), StateKey::Totals],
                // Other ops: every key written so far in the block (O(block writes) per op).
                _ => exec.writes().keys().copied().collect(),
            };
            let mut seen = HashSet::new();
            let first_change = changes.len();
            for key in candidates {
                if !seen.insert(key) {
                    continue;
                }
                let Some(new) = exec.writes().get(&key).cloned() else { continue };
                let old = match current.get(&key) {
                    Some(v) => v.clone(),
                    None => real.get(&key.to_bytes())?,
                };
                if old != new {
                    current.insert(key, new.clone());
                    changes.push(Change {
                        op: op_index,
                        key,
                        old,
                        new,
                        withdrawal: false,
                        deposit: false,
                    });
                }
            }
            // The `from` debit of a withdrawal (its first change; the other is `Totals`).
            if let Op::Withdraw { from, amount, .. } = op
                && let Some(debit) =
                    changes[first_change..].iter_mut().find(|c| c.key == StateKey::Account(*from))
            {
                let (a, b) = (account_of(&debit.old), account_of(&debit.new));
                debit.withdrawal = a.balance.checked_sub(b.balance) == Some(*amount);
            }
            // The credit of a deposit (refused ones and messages credit nothing).
            if let Op::Deposit { to, amount, .. } = op
                && *amount > 0
                && let Some(credit) =
                    changes[first_change..].iter_mut().find(|c| c.key == StateKey::Account(*to))
            {
                let (a, b) = (account_of(&credit.old), account_of(&credit.new));
                credit.deposit = b.balance.checked_sub(a.balance) == Some(*amount);
            }
        }
        op_base += block.ops.len();
        pending.append(&mut changes);
        let writes = exec.into_writes();
        write_block(&mut real, writes)?;
        if fold == Fold::Block || bi + 1 == blocks.len() {
            emit_span(
                bi,
                &real,
                &mut shadow,
                coalesce(std::mem::take(&mut pending)),
                &mut updates,
            )?;
            if shadow.root() != real.root() {
                return Err(WitnessError::RootMismatch {
                    block: bi,
                    expected: real.root(),
                    got: shadow.root(),
                });
            }
        }
    }
    if withdrawals.len() > public::WMAX {
        return Err(WitnessError::TooManyWithdrawals { got: withdrawals.len(), max: public::WMAX });
    }
    let burned = totals_of(&real)?.burned - burned_before;
    let public = PublicInputs {
        l2_chain_id: ctx.l2_chain_id,
        batch_index: ctx.batch_index,
        prev_state_root: prev_root.to_bytes32(),
        new_state_root: real.root().to_bytes32(),
        batch_data_hash: keccak256(&ctx.batch_data),
        queue_start: ctx.queue_start,
        queue_count: ctx.queue.len() as u64,
        queue_hash_start: ctx.queue_hash_start,
        queue_hash_end: public::fold_queue_hash(ctx.queue_hash_start, &ctx.queue),
        withdrawal_root: public::withdrawal_root(&withdrawals),
        fees_burned: burned,
        rejected_deposits_hash: public::rejected_deposits_hash(&ctx.rejected_deposits),
        slashes_hash: public::slashes_hash(&ctx.slashes),
    };
    check_queue(&public, ctx, &deposits)?;
    if let Some(expected) = &ctx.expected {
        let diff = public.diff(expected);
        if !diff.is_empty() {
            return Err(WitnessError::PublicInputMismatch(diff));
        }
    }
    let lists = BatchLists {
        withdrawals,
        queue: ctx.queue.clone(),
        rejected: ctx.rejected_deposits.clone(),
        flows: flows_of(&updates),
    };
    let witness = Witness { depth, public, updates, lists };
    witness.public_values().map_err(|e| WitnessError::NotConserved(e.to_string()))?;
    Ok((witness, real))
}

/// `Totals::locked` of a leaf (0 for an empty slot).
fn locked_of(leaf: &Option<Leaf>) -> u128 {
    leaf.as_ref().and_then(|l| Totals::from_bytes(&l.value).ok()).map_or(0, |t| t.locked)
}

/// The token flows as the AIR sums them: signed amount bytes of every account update, and the
/// limb-wise change of `Totals::locked`.
pub fn flows_of(updates: &[LeafUpdate]) -> public::Flows {
    let mut f = public::Flows::default();
    let totals = StateKey::Totals.to_bytes();
    for u in updates {
        if let Some(d) = &u.account {
            f.add_account(d.credit, d.amount);
        } else if u.new.as_ref().or(u.old.as_ref()).is_some_and(|l| l.key == totals) {
            let (old, new) = (locked_of(&u.old), locked_of(&u.new));
            for j in 0..8 {
                let limb = |v: u128| i64::from((v >> (16 * (7 - j))) as u16);
                f.locked_limbs[j] += limb(new) - limb(old);
            }
        }
    }
    f
}

/// Deposits must credit the consumed, non-rejected deposit entries in order. The lists
/// themselves (indices from `queue_start`, rejected indices increasing consumed deposits) are
/// checked as the verifiers check them, by [`PublicInputs::credited_deposits`].
fn check_queue(
    public: &PublicInputs,
    ctx: &BatchContext,
    deposits: &[(usize, u64, alloy_primitives::Address, u128)],
) -> Result<(), WitnessError> {
    let err = |s: String| Err(WitnessError::Queue(s));
    if ctx.queue.len() > public::DMAX {
        return Err(WitnessError::TooManyQueueEntries { got: ctx.queue.len(), max: public::DMAX });
    }
    public
        .credited_deposits(&ctx.queue, &ctx.rejected_deposits)
        .map_err(|e| WitnessError::Queue(e.to_string()))?;
    // The sequencer consumes every queue entry with one `Deposit` op, in queue order: the
    // entry's amount for a credited deposit, zero for a refused deposit or an L1→L2 message.
    if ctx.queue.len() != deposits.len() {
        return err(format!(
            "{} deposit ops for {} consumed queue entries",
            deposits.len(),
            ctx.queue.len()
        ));
    }
    for (e, (op, index, to, amount)) in ctx.queue.iter().zip(deposits) {
        let credited = e.kind == 0 && ctx.rejected_deposits.binary_search(&e.index).is_err();
        let expected = if credited { e.amount } else { 0 };
        if *index != e.index || e.l2_target != *to || *amount != expected {
            return err(format!("op {op} does not match queue entry {}", e.index));
        }
    }
    Ok(())
}

/// The nonce step an account update from `old` to `new` carries (rule 8: 0 to 2^16 − 1), if
/// it has one.
fn nonce_step(old: &Option<Vec<u8>>, new: &Option<Vec<u8>>) -> Option<u16> {
    let (a, b) = (account_of(old).nonce, account_of(new).nonce);
    b.checked_sub(a).and_then(|s| u16::try_from(s).ok())
}

/// Whether a change may be folded with other changes of its key: an account or `Totals` change
/// that no AIR rule ties to one op (not a flagged withdrawal debit or deposit credit, whose
/// amounts the lists fix). Job changes never are: rule 13 constrains each status transition.
fn plain(c: &Change) -> bool {
    !(c.withdrawal || c.deposit) && matches!(c.key, StateKey::Account(_) | StateKey::Totals)
}

/// Folds each key's runs of plain changes within a span of blocks into one change (the run's
/// first old value to its last new value, at the position of its first change), and drops
/// changes that end where they began. Updates of different keys commute in the Merkle chain, so
/// only the order of each key's own changes matters, and it is kept: a change that is not plain
/// ends its key's run. An account run also ends before its nonce step would pass 2^16 − 1
/// (rule 8's range). So each account a batch changes is one update, however many transactions
/// it sent or received, and so are the producer and `Totals`.
fn coalesce(changes: Vec<Change>) -> Vec<Change> {
    let mut out: Vec<Change> = Vec::with_capacity(changes.len());
    let mut open: HashMap<StateKey, usize> = HashMap::new();
    for c in changes {
        if !plain(&c) {
            open.remove(&c.key);
            out.push(c);
            continue;
        }
        if let Some(&i) = open.get(&c.key) {
            let run = &mut out[i];
            let step_fits = match c.key {
                StateKey::Account(_) => nonce_step(&run.old, &c.new).is_some(),
                _ => true,
            };
            if step_fits {
                run.new = c.new;
                continue;
            }
        }
        open.insert(c.key, out.len());
        out.push(c);
    }
    out.retain(|c| c.old != c.new);
    out
}

fn leaf_at(tree: &StateTree<MemoryStore>, slot: u64) -> Option<Leaf> {
    tree.store().leaf(slot).unwrap_or_else(|never| match never {})
}

/// Places the changes of a span of blocks (ending with `block`; `post` is the tree after it) in
/// their committed slots and records them as updates.
fn emit_span(
    block: usize,
    post: &StateTree<MemoryStore>,
    shadow: &mut Shadow<'_>,
    changes: Vec<Change>,
    out: &mut Vec<LeafUpdate>,
) -> Result<(), WitnessError> {
    let mut slots: HashMap<StateKey, u64> = HashMap::new();
    let mut owner: HashMap<u64, StateKey> = HashMap::new();
    let mut last_change: HashMap<StateKey, usize> = HashMap::new();
    for (i, c) in changes.iter().enumerate() {
        last_change.insert(c.key, i);
        if slots.contains_key(&c.key) {
            continue;
        }
        let kb = c.key.to_bytes();
        let proof = post.prove(&kb)?;
        let at_end = proof.steps.last().filter(|s| s.leaf.as_ref().is_some_and(|l| l.key == kb));
        let slot = match (at_end, shadow.find(&kb)) {
            (Some(step), _) => step.slot,
            (None, Some(slot)) => slot,
            (None, None) => {
                let taken = |s: u64| owner.contains_key(&s) || leaf_at(post, s).is_some();
                shadow.free_slot(&kb, &taken).ok_or(WitnessError::NoSlot { op: c.op })?
            }
        };
        if owner.insert(slot, c.key).is_some_and(|k| k != c.key) {
            return Err(WitnessError::SlotReuse { block, slot });
        }
        slots.insert(c.key, slot);
    }
    for (i, c) in changes.into_iter().enumerate() {
        let slot = slots[&c.key];
        let kb = c.key.to_bytes();
        let new = match &c.new {
            Some(v) => Some(Leaf { key: kb.clone(), value: v.clone() }),
            None if last_change[&c.key] == i => leaf_at(post, slot),
            None => Some(Leaf { key: kb.clone(), value: Vec::new() }),
        };
        let old = shadow.leaf(slot);
        let account = match c.key {
            StateKey::Account(_) => {
                let (a, b) = (account_of(&c.old), account_of(&c.new));
                let nonce_step = nonce_step(&c.old, &c.new).ok_or(WitnessError::NonceJump {
                    op: c.op,
                    old: a.nonce,
                    new: b.nonce,
                })?;
                Some(AccountDelta {
                    credit: b.balance >= a.balance,
                    amount: b.balance.abs_diff(a.balance),
                    nonce_step,
                    withdrawal: c.withdrawal,
                    deposit: c.deposit,
                })
            }
            _ => None,
        };
        let siblings = shadow.set(slot, new.clone());
        out.push(LeafUpdate { op: c.op, slot, old, new, siblings, account });
    }
    Ok(())
}
