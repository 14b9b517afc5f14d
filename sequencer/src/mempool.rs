//! The mempool: per-sender nonce queues, replacement by fee bump, limits and eviction.
//!
//! Admission checks everything that does not depend on other pending transactions (done by the
//! RPC layer: decoding, chain id, signature, type, size, fee floor, nonce against the state,
//! balance); the pool enforces ordering, replacement and limits. Block building takes, per
//! sender, the run of consecutive nonces from the sender's state nonce, best tip first.

use std::collections::{BTreeMap, BinaryHeap, HashMap};

use alloy::consensus::Transaction;
use alloy::primitives::{Address, B256};

use crate::types::PooledTx;

/// Pool limits.
#[derive(Clone, Debug)]
pub struct PoolLimits {
    /// Most transactions in the pool.
    pub max_total: usize,
    /// Most transactions per sender.
    pub max_per_sender: usize,
    /// Largest nonce gap accepted above the sender's next nonce.
    pub max_nonce_gap: u64,
    /// Minimum fee bump for a replacement, in percent.
    pub replace_bump_percent: u128,
}

impl Default for PoolLimits {
    fn default() -> Self {
        Self {
            max_total: 200_000,
            max_per_sender: 4_096,
            max_nonce_gap: 64,
            replace_bump_percent: 10,
        }
    }
}

/// Why the pool refused a transaction (messages follow geth's, which wallets classify).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// Same hash already pending.
    #[error("already known")]
    AlreadyKnown,
    /// Replacement without enough fee bump.
    #[error("replacement transaction underpriced")]
    ReplacementUnderpriced,
    /// Too far ahead of the sender's nonce.
    #[error("nonce too high: next nonce {next}, tx nonce {got} (max gap {gap})")]
    NonceGap {
        /// Sender's next nonce.
        next: u64,
        /// The transaction's nonce.
        got: u64,
        /// The allowed gap.
        gap: u64,
    },
    /// The sender has too many pending transactions.
    #[error("sender has too many pending transactions ({0})")]
    SenderFull(usize),
    /// The pool is full and the transaction pays too little to evict another.
    #[error("txpool is full")]
    PoolFull,
}

fn tip(tx: &PooledTx) -> u128 {
    tx.tx.max_priority_fee_per_gas().unwrap_or_else(|| tx.tx.max_fee_per_gas())
}

/// The transaction pool.
#[derive(Debug, Default)]
pub struct Mempool {
    limits: PoolLimits,
    by_sender: HashMap<Address, BTreeMap<u64, PooledTx>>,
    by_hash: HashMap<B256, (Address, u64)>,
}

impl Mempool {
    /// An empty pool.
    pub fn new(limits: PoolLimits) -> Self {
        Self { limits, ..Default::default() }
    }

    /// Number of pending transactions.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// A pending transaction by hash.
    pub fn get(&self, hash: &B256) -> Option<&PooledTx> {
        let (s, n) = self.by_hash.get(hash)?;
        self.by_sender.get(s)?.get(n)
    }

    /// The sender's next nonce counting pending transactions contiguous with `state_nonce`.
    pub fn pending_nonce(&self, sender: &Address, state_nonce: u64) -> u64 {
        let mut next = state_nonce;
        if let Some(q) = self.by_sender.get(sender) {
            for n in q.range(state_nonce..).map(|(n, _)| *n) {
                if n != next {
                    break;
                }
                next += 1;
            }
        }
        next
    }

    /// Adds a transaction whose sender's state nonce is `state_nonce`; returns the hash of a
    /// transaction it replaced or evicted, if any.
    pub fn insert(&mut self, tx: PooledTx, state_nonce: u64) -> Result<Option<B256>, PoolError> {
        if self.by_hash.contains_key(&tx.hash) {
            return Err(PoolError::AlreadyKnown);
        }
        let nonce = tx.tx.nonce();
        let next = self.pending_nonce(&tx.sender, state_nonce);
        if nonce > next + self.limits.max_nonce_gap {
            return Err(PoolError::NonceGap { next, got: nonce, gap: self.limits.max_nonce_gap });
        }
        let queue_len = self.by_sender.get(&tx.sender).map_or(0, BTreeMap::len);
        if let Some(old) = self.by_sender.get(&tx.sender).and_then(|q| q.get(&nonce)) {
            let bump =
                |old: u128, new: u128| new * 100 >= old * (100 + self.limits.replace_bump_percent);
            if !(bump(old.tx.max_fee_per_gas(), tx.tx.max_fee_per_gas())
                && bump(tip(old), tip(&tx)))
            {
                return Err(PoolError::ReplacementUnderpriced);
            }
            let old_hash = old.hash;
            self.by_hash.remove(&old_hash);
            self.by_hash.insert(tx.hash, (tx.sender, nonce));
            self.by_sender.entry(tx.sender).or_default().insert(nonce, tx);
            return Ok(Some(old_hash));
        }
        if queue_len >= self.limits.max_per_sender {
            return Err(PoolError::SenderFull(queue_len));
        }
        let mut evicted = None;
        if self.len() >= self.limits.max_total {
            evicted = Some(self.evict_for(tip(&tx))?);
        }
        self.by_hash.insert(tx.hash, (tx.sender, nonce));
        self.by_sender.entry(tx.sender).or_default().insert(nonce, tx);
        Ok(evicted)
    }

    /// Evicts the last queued transaction of the sender whose last transaction tips least,
    /// if that tip is below `incoming_tip`.
    fn evict_for(&mut self, incoming_tip: u128) -> Result<B256, PoolError> {
        let victim = self
            .by_sender
            .iter()
            .filter_map(|(s, q)| q.iter().next_back().map(|(n, t)| (tip(t), *s, *n)))
            .min();
        match victim {
            Some((t, sender, nonce)) if t < incoming_tip => {
                Ok(self.remove_one(&sender, nonce).map(|t| t.hash).unwrap_or_default())
            }
            _ => Err(PoolError::PoolFull),
        }
    }

    fn remove_one(&mut self, sender: &Address, nonce: u64) -> Option<PooledTx> {
        let q = self.by_sender.get_mut(sender)?;
        let tx = q.remove(&nonce)?;
        if q.is_empty() {
            self.by_sender.remove(sender);
        }
        self.by_hash.remove(&tx.hash);
        Some(tx)
    }

    /// Picks up to `max` executable transactions, highest tip first, each sender's in nonce
    /// order starting at its state nonce (`state_nonce` is called once per sender).
    pub fn select(
        &self,
        max: usize,
        mut state_nonce: impl FnMut(&Address) -> u64,
    ) -> Vec<PooledTx> {
        let mut heads = BinaryHeap::new();
        let mut cursors: HashMap<Address, u64> = HashMap::new();
        for (sender, q) in &self.by_sender {
            let n = state_nonce(sender);
            if let Some(tx) = q.get(&n) {
                heads.push((tip(tx), std::cmp::Reverse(*sender), n));
                cursors.insert(*sender, n);
            }
        }
        let mut out = Vec::new();
        while let Some((_, std::cmp::Reverse(sender), n)) = heads.pop() {
            if out.len() >= max {
                break;
            }
            let q = &self.by_sender[&sender];
            out.push(q[&n].clone());
            if let Some(next) = q.get(&(n + 1)) {
                heads.push((tip(next), std::cmp::Reverse(sender), n + 1));
            }
        }
        out
    }

    /// Drops every transaction of `sender` below its new state nonce.
    pub fn prune(&mut self, sender: &Address, state_nonce: u64) {
        let Some(q) = self.by_sender.get_mut(sender) else { return };
        let keep = q.split_off(&state_nonce);
        for tx in q.values() {
            self.by_hash.remove(&tx.hash);
        }
        if keep.is_empty() {
            self.by_sender.remove(sender);
        } else {
            *q = keep;
        }
    }

    /// Removes one transaction (dropped at execution).
    pub fn remove(&mut self, hash: &B256) -> Option<PooledTx> {
        let (s, n) = *self.by_hash.get(hash)?;
        self.remove_one(&s, n)
    }

    /// Every pending transaction hash.
    pub fn hashes(&self) -> Vec<B256> {
        self.by_hash.keys().copied().collect()
    }
}
