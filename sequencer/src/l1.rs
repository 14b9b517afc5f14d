//! The L1 link: deposit ingestion (the Rollup's queue, in order, after a confirmation depth)
//! and the batcher (seal consecutive blocks into a batch, commit it to the Rollup with its data,
//! follow it to proven / finalized / reverted). Both survive L1 errors with retries and
//! exponential backoff, counted in `ctm_l1_errors_total`.

use std::sync::Arc;
use std::time::Duration;

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{Filter, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent};
use ctm_core::l1::{
    CommitInput, IRollup, MAX_QUEUE_ENTRIES_PER_BATCH, MAX_WITHDRAWALS_PER_BATCH, Withdrawal,
    withdrawal_root,
};
use serde::Deserialize;
use tokio::sync::watch;

use crate::error::{Result, SequencerError};
use crate::node::Node;
use crate::types::{BatchRecord, BatchStatus, QueueItem};

/// The deployment JSON written by `l1-contracts/script/Deploy.s.sol` (the keys the node uses).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// Preset deployed.
    pub preset: String,
    /// L1 chain id.
    pub chain_id: u64,
    /// L2 chain id the contracts expect.
    pub l2_chain_id: u64,
    /// Block to scan logs from.
    pub deploy_block: u64,
    /// Rollup contract.
    pub rollup: Address,
    /// Bridge contract.
    pub bridge: Address,
    /// Token contract.
    pub token: Address,
    /// The sequencer allowed to commit.
    pub sequencer: Address,
    /// Genesis state root.
    pub genesis_state_root: B256,
}

impl Deployment {
    /// Reads a deployment file.
    pub fn load(path: &std::path::Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SequencerError::Config(format!("{}: {e}", path.display())))?;
        serde_json::from_str(&text)
            .map_err(|e| SequencerError::Config(format!("{}: {e}", path.display())))
    }
}

/// L1 settings.
#[derive(Clone, Debug)]
pub struct L1Config {
    /// L1 JSON-RPC URL.
    pub rpc: String,
    /// The contracts.
    pub deployment: Deployment,
    /// Key of the sequencer account on L1.
    pub key: PrivateKeySigner,
    /// Blocks to wait before trusting an L1 log.
    pub confirmations: u64,
    /// How often to seal and commit a batch.
    pub batch_interval: Duration,
    /// How often to poll L1.
    pub poll: Duration,
}

fn l1_err(e: impl std::fmt::Display) -> SequencerError {
    metrics::counter!("ctm_l1_errors_total").increment(1);
    SequencerError::Execution(format!("L1: {e}"))
}

/// Runs `step` forever with backoff on errors until `stop`.
/// The most batches the batcher commits in one step (each waits for its L1 receipt).
pub const MAX_COMMITS_PER_STEP: usize = 16;

async fn run_loop<F, Fut>(
    name: &'static str,
    every: Duration,
    mut stop: watch::Receiver<bool>,
    mut step: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let mut backoff = every;
    loop {
        let wait = match step().await {
            Ok(()) => {
                backoff = every;
                every
            }
            Err(e) => {
                tracing::warn!(task = name, error = %e, retry_in = ?backoff, "L1 step failed");
                let w = backoff;
                backoff = (backoff * 2).min(Duration::from_secs(30));
                w
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Starts the deposit watcher and the batcher.
pub fn spawn(
    node: Arc<Node>,
    cfg: L1Config,
    stop: watch::Receiver<bool>,
) -> Result<Vec<tokio::task::JoinHandle<()>>> {
    let url = cfg.rpc.parse().map_err(|e| SequencerError::Config(format!("l1 rpc url: {e}")))?;
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(cfg.key.clone()))
        .connect_http(url)
        .erased();
    let cursor = cfg.deployment.deploy_block;
    let watcher = Arc::new(tokio::sync::Mutex::new(Watcher {
        node: node.clone(),
        provider: provider.clone(),
        cfg: cfg.clone(),
        cursor,
    }));
    let batcher = Arc::new(Batcher { node, provider, cfg: cfg.clone() });
    let w = tokio::spawn(run_loop("deposits", cfg.poll, stop.clone(), move || {
        let w = watcher.clone();
        async move { w.lock().await.step().await }
    }));
    let b = tokio::spawn(run_loop("batcher", cfg.batch_interval, stop, move || {
        let b = batcher.clone();
        async move { b.step().await }
    }));
    Ok(vec![w, b])
}

struct Watcher {
    node: Arc<Node>,
    provider: DynProvider,
    cfg: L1Config,
    cursor: u64,
}

impl Watcher {
    /// Reads confirmed queue entries after the cursor and hands them to the node in order.
    async fn step(&mut self) -> Result<()> {
        let head = self.provider.get_block_number().await.map_err(l1_err)?;
        let safe = head.saturating_sub(self.cfg.confirmations);
        if safe < self.cursor {
            return Ok(());
        }
        let to = safe.min(self.cursor + 5_000);
        let filter = Filter::new()
            .address(self.cfg.deployment.rollup)
            .event_signature(IRollup::QueueEntryAdded::SIGNATURE_HASH)
            .from_block(self.cursor)
            .to_block(to);
        let logs = self.provider.get_logs(&filter).await.map_err(l1_err)?;
        let mut items = Vec::with_capacity(logs.len());
        for log in logs {
            let e = IRollup::QueueEntryAdded::decode_log_data(&log.inner.data).map_err(l1_err)?;
            items.push(QueueItem {
                index: e.index.saturating_to(),
                kind: e.kind,
                l1_sender: e.l1Sender,
                l2_target: e.l2Target,
                amount: e.amount,
            });
        }
        items.sort_by_key(|i| i.index);
        if !items.is_empty() {
            let mut q = self.node.deposits.lock().map_err(|_| l1_err("deposit queue poisoned"))?;
            for it in items {
                if q.back().is_none_or(|b| b.index < it.index) {
                    q.push_back(it);
                }
            }
            metrics::gauge!("ctm_l1_queue_pending").set(q.len() as f64);
        }
        self.cursor = to + 1;
        Ok(())
    }
}

struct Batcher {
    node: Arc<Node>,
    provider: DynProvider,
    cfg: L1Config,
}

/// Batch data posted to L1 (data availability): version byte 1, then per block: number u64,
/// timestamp u64, queue entries consumed u32, transactions u32, the queue indices (u64 each), and
/// each transaction as u32 length ‖ EIP-2718 bytes. All integers big-endian.
pub fn encode_batch_data(node: &Node, from: u64, to: u64) -> Result<Bytes> {
    let mut out = vec![1u8];
    for n in from..=to {
        let block = node
            .storage
            .block(n)?
            .ok_or_else(|| SequencerError::Corrupt(format!("block {n} missing")))?;
        let ops = node.storage.ops(n)?.unwrap_or_default();
        out.extend_from_slice(&n.to_be_bytes());
        out.extend_from_slice(&block.header.timestamp.to_be_bytes());
        out.extend_from_slice(&(ops.queue.len() as u32).to_be_bytes());
        out.extend_from_slice(&(block.tx_hashes.len() as u32).to_be_bytes());
        for q in &ops.queue {
            out.extend_from_slice(&q.to_be_bytes());
        }
        for h in &block.tx_hashes {
            let tx = node
                .storage
                .tx(h)?
                .ok_or_else(|| SequencerError::Corrupt(format!("tx {h} missing")))?;
            out.extend_from_slice(&(tx.raw.len() as u32).to_be_bytes());
            out.extend_from_slice(&tx.raw);
        }
    }
    Ok(out.into())
}

/// What one block adds to its batch's fixed-size lists in the batch proof.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockLoad {
    /// Withdrawals the block initiates (at most [`MAX_WITHDRAWALS_PER_BATCH`] per batch).
    pub withdrawals: usize,
    /// L1 queue entries the block consumes (at most [`MAX_QUEUE_ENTRIES_PER_BATCH`] per batch).
    pub queue: usize,
}

impl BlockLoad {
    /// Whether a batch carrying this much fits both caps.
    pub fn fits(&self) -> bool {
        self.withdrawals <= MAX_WITHDRAWALS_PER_BATCH && self.queue <= MAX_QUEUE_ENTRIES_PER_BATCH
    }
}

/// How many blocks the next batch takes, given the loads of the blocks from its first one on:
/// whole blocks, at most `max_blocks` of them, while the batch's withdrawals stay within
/// [`MAX_WITHDRAWALS_PER_BATCH`] and its consumed queue entries within
/// [`MAX_QUEUE_ENTRIES_PER_BATCH`] (the batch proof's fixed-size lists); always the first block
/// (block production keeps each block within both caps). 0 only when there are no blocks.
pub fn batch_len(blocks: &[BlockLoad], max_blocks: usize) -> usize {
    let mut total = BlockLoad::default();
    let mut len = 0;
    for block in blocks.iter().take(max_blocks.max(1)) {
        total.withdrawals = total.withdrawals.saturating_add(block.withdrawals);
        total.queue = total.queue.saturating_add(block.queue);
        if len > 0 && !total.fits() {
            break;
        }
        len += 1;
    }
    len
}

/// The last block of the batch that starts at block `from` (`from <= head`): at most the chain's
/// `batch_max_blocks` blocks, [`MAX_WITHDRAWALS_PER_BATCH`] withdrawals and
/// [`MAX_QUEUE_ENTRIES_PER_BATCH`] queue entries ([`batch_len`]), from the blocks' stored ops.
pub fn batch_end(node: &Node, from: u64, head: u64) -> Result<u64> {
    let max = u64::from(node.config.genesis.chain.batch_max_blocks).max(1);
    let last = head.min(from + max - 1);
    let mut loads = Vec::with_capacity((last + 1).saturating_sub(from) as usize);
    for n in from..=last {
        let ops = node
            .storage
            .ops(n)?
            .ok_or_else(|| SequencerError::Corrupt(format!("ops of block {n} missing")))?;
        loads.push(BlockLoad { withdrawals: ops.withdrawals.len(), queue: ops.queue.len() });
    }
    if let Some(first) = loads.first()
        && !first.fits()
    {
        tracing::warn!(
            block = from,
            withdrawals = first.withdrawals,
            queue_entries = first.queue,
            withdrawal_cap = MAX_WITHDRAWALS_PER_BATCH,
            queue_cap = MAX_QUEUE_ENTRIES_PER_BATCH,
            "block exceeds what a batch may carry; its batch cannot be proven"
        );
    }
    Ok(from + batch_len(&loads, loads.len()).max(1) as u64 - 1)
}

/// Builds the record of the batch of blocks `from..=to` (not yet committed).
pub fn build_batch(node: &Node, index: u64, from: u64, to: u64) -> Result<(BatchRecord, Bytes)> {
    let data = encode_batch_data(node, from, to)?;
    let mut queue = Vec::new();
    let mut rejected = Vec::new();
    let mut withdrawals: Vec<Withdrawal> = Vec::new();
    let prev = node.storage.ops(from.saturating_sub(1))?.unwrap_or_default();
    let mut last = prev.clone();
    let mut prev_root = None;
    for n in from..=to {
        let ops = node
            .storage
            .ops(n)?
            .ok_or_else(|| SequencerError::Corrupt(format!("ops of block {n} missing")))?;
        prev_root.get_or_insert(ops.pre_root);
        queue.extend(ops.queue.iter().copied());
        rejected.extend(ops.rejected.iter().copied());
        withdrawals.extend(ops.withdrawals.iter().cloned());
        last = ops;
    }
    let record = BatchRecord {
        index,
        from_block: from,
        to_block: to,
        status: BatchStatus::Committed,
        prev_state_root: prev_root.unwrap_or(prev.post_root),
        new_state_root: last.post_root,
        batch_data_hash: keccak256(&data),
        queue_start: queue.first().copied().unwrap_or(0),
        queue_count: queue.len() as u64,
        rejected,
        withdrawal_root: withdrawal_root(&withdrawals),
        withdrawals,
        fees_burned: last.burned_total - prev.burned_total.min(last.burned_total),
        commit_tx: None,
    };
    Ok((record, data))
}

impl Batcher {
    async fn call<C: SolCall>(&self, call: C) -> Result<C::Return> {
        let req = TransactionRequest::default()
            .with_to(self.cfg.deployment.rollup)
            .with_input(call.abi_encode());
        let out = self.provider.call(req).await.map_err(l1_err)?;
        C::abi_decode_returns(&out).map_err(l1_err)
    }

    /// Follows L1, then commits every batch that is ready (at most [`MAX_COMMITS_PER_STEP`]):
    /// the per-batch caps can cut a backlog of blocks into several batches, and committing one
    /// per interval would let the L1 queue fall behind its forced-inclusion deadline.
    async fn step(&self) -> Result<()> {
        self.follow().await?;
        for _ in 0..MAX_COMMITS_PER_STEP {
            if !self.commit_next().await? {
                break;
            }
        }
        self.follow().await
    }

    /// Commits the next batch, if there is a block past the last committed one. Returns whether
    /// it committed.
    async fn commit_next(&self) -> Result<bool> {
        let committed = self.call(IRollup::lastCommittedBatchCall {}).await?;
        let from = match committed {
            0 => 1,
            n => match self.node.storage.batch(n)? {
                Some(b) => b.to_block + 1,
                None => {
                    return Err(SequencerError::Execution(format!(
                        "L1 has batch {n}, this node does not: wrong datadir?"
                    )));
                }
            },
        };
        let head = self.node.head().block.header.number;
        if from > head {
            return Ok(false);
        }
        let to = batch_end(&self.node, from, head)?;
        let index = committed + 1;
        let (mut record, data) = build_batch(&self.node, index, from, to)?;
        let input = CommitInput {
            batchIndex: index,
            newStateRoot: record.new_state_root,
            withdrawalRoot: record.withdrawal_root,
            queueCount: record.queue_count,
            feesBurned: U256::from(record.fees_burned),
            batchData: data,
            rejectedDeposits: record.rejected.clone(),
            slashes: vec![],
        };
        let req = TransactionRequest::default()
            .with_to(self.cfg.deployment.rollup)
            .with_input(IRollup::commitBatchCall { c: input }.abi_encode());
        let estimate = self.provider.estimate_gas(req.clone()).await.map_err(l1_err)?;
        let req = req.with_gas_limit(ctm_core::l1::gas_limit_with_margin(estimate));
        let pending = self.provider.send_transaction(req).await.map_err(l1_err)?;
        let receipt = pending.get_receipt().await.map_err(l1_err)?;
        if !receipt.status() {
            return Err(l1_err(format!(
                "commitBatch {index} reverted in {}",
                receipt.transaction_hash
            )));
        }
        record.commit_tx = Some(receipt.transaction_hash);
        self.node.storage.put_batch(&record)?;
        metrics::counter!("ctm_batches_committed_total").increment(1);
        tracing::info!(batch = index, from, to, tx = %receipt.transaction_hash, "batch committed");
        Ok(true)
    }

    /// Updates the status of stored batches from L1 and the safe / finalized heads.
    async fn follow(&self) -> Result<()> {
        let committed = self.call(IRollup::lastCommittedBatchCall {}).await?;
        let finalized = self.call(IRollup::lastFinalizedBatchCall {}).await?;
        let mut safe = 0;
        let mut fin = 0;
        let mut i = self.node.storage.last_batch()?.map_or(0, |b| b.index);
        while i >= 1 {
            let Some(mut b) = self.node.storage.batch(i)? else { break };
            let status = if i > committed {
                BatchStatus::Reverted
            } else if i <= finalized {
                BatchStatus::Finalized
            } else if self.call(IRollup::batchCall { batchIndex: U256::from(i) }).await?.prover
                != Address::ZERO
            {
                BatchStatus::Proven
            } else {
                BatchStatus::Committed
            };
            if status != b.status {
                b.status = status;
                self.node.storage.put_batch(&b)?;
            }
            if status != BatchStatus::Reverted {
                safe = safe.max(b.to_block);
            }
            if status == BatchStatus::Finalized {
                fin = fin.max(b.to_block);
                break;
            }
            i -= 1;
        }
        self.node.set_l1_heads(safe, fin);
        let head = self.node.head().block.header.number;
        metrics::gauge!("ctm_batch_lag_blocks").set(head.saturating_sub(safe) as f64);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(withdrawals: usize, queue: usize) -> BlockLoad {
        BlockLoad { withdrawals, queue }
    }

    /// The batches `batch_len` cuts `blocks` into, as lists of loads.
    fn cut_loads(blocks: &[BlockLoad], max_blocks: usize) -> Vec<Vec<BlockLoad>> {
        let mut out = Vec::new();
        let mut rest = blocks;
        while !rest.is_empty() {
            let n = batch_len(rest, max_blocks);
            assert!(n >= 1, "a batch takes at least one block");
            out.push(rest[..n].to_vec());
            rest = &rest[n..];
        }
        out
    }

    /// The batches `batch_len` cuts blocks with `withdrawals` (and no queue entries) into, as
    /// lists of withdrawal counts.
    fn cut(withdrawals: &[usize], max_blocks: usize) -> Vec<Vec<usize>> {
        let blocks: Vec<BlockLoad> = withdrawals.iter().map(|&w| load(w, 0)).collect();
        cut_loads(&blocks, max_blocks)
            .into_iter()
            .map(|b| b.iter().map(|l| l.withdrawals).collect())
            .collect()
    }

    /// The same for blocks with `queue` entries (and no withdrawals), as lists of entry counts.
    fn cut_queue(queue: &[usize], max_blocks: usize) -> Vec<Vec<usize>> {
        let blocks: Vec<BlockLoad> = queue.iter().map(|&q| load(0, q)).collect();
        cut_loads(&blocks, max_blocks)
            .into_iter()
            .map(|b| b.iter().map(|l| l.queue).collect())
            .collect()
    }

    fn wq(blocks: &[(usize, usize)]) -> Vec<BlockLoad> {
        blocks.iter().map(|&(w, q)| load(w, q)).collect()
    }

    #[test]
    fn batches_stay_within_the_withdrawal_cap() {
        assert_eq!(MAX_WITHDRAWALS_PER_BATCH, 16, "the CLI help and docs/operations.md say 16");
        assert_eq!(cut(&[10, 10, 3], 64), vec![vec![10], vec![10, 3]]);
        assert_eq!(cut(&[16, 1], 64), vec![vec![16], vec![1]]);
        assert_eq!(cut(&[8, 8, 1], 64), vec![vec![8, 8], vec![1]]);
        assert_eq!(cut(&[5, 5, 5, 1, 1], 64), vec![vec![5, 5, 5, 1], vec![1]]);
    }

    #[test]
    fn blocks_without_withdrawals_mix_freely() {
        assert_eq!(cut(&[0, 16, 0, 0, 1, 0], 64), vec![vec![0, 16, 0, 0], vec![1, 0]]);
        assert_eq!(cut(&[0; 5], 64), vec![vec![0; 5]]);
        assert_eq!(batch_len(&[load(0, 0); 3], 64), 3);
    }

    #[test]
    fn batches_respect_batch_max_blocks() {
        assert_eq!(cut(&[0; 7], 3), vec![vec![0; 3], vec![0; 3], vec![0]]);
        assert_eq!(cut(&[1, 1, 1, 20, 1], 2), vec![vec![1, 1], vec![1], vec![20], vec![1]]);
        assert_eq!(batch_len(&[load(4, 4), load(4, 4)], 1), 1);
        assert_eq!(cut_queue(&[1, 1, 1], 2), vec![vec![1, 1], vec![1]]);
    }

    #[test]
    fn a_lone_block_is_always_taken() {
        // Never produced by this node (blocks are capped), but the batcher must not stall.
        assert_eq!(batch_len(&[load(17, 0), load(0, 0)], 64), 1);
        assert_eq!(batch_len(&[load(0, 17), load(0, 0)], 64), 1);
        assert_eq!(batch_len(&[load(3, 3)], 0), 1, "max_blocks 0 is treated as 1");
        assert_eq!(batch_len(&[], 64), 0);
    }

    #[test]
    fn batches_stay_within_the_queue_entry_cap() {
        assert_eq!(MAX_QUEUE_ENTRIES_PER_BATCH, 16, "docs/operations.md says 16");
        assert_eq!(cut_queue(&[16, 16, 16, 4], 64), vec![vec![16], vec![16], vec![16], vec![4]]);
        assert_eq!(cut_queue(&[10, 10, 3], 64), vec![vec![10], vec![10, 3]]);
        assert_eq!(cut_queue(&[8, 8, 1], 64), vec![vec![8, 8], vec![1]]);
        assert_eq!(cut_queue(&[0, 16, 0, 0, 1, 0], 64), vec![vec![0, 16, 0, 0], vec![1, 0]]);
        assert_eq!(cut_queue(&[1; 20], 64), vec![vec![1; 16], vec![1; 4]]);
        // Every batch of a long run consumes at most 16 and together they consume all.
        let blocks: Vec<usize> = (0..50).map(|i| (i * 7) % 17).collect();
        let batches = cut_queue(&blocks, 64);
        assert!(batches.iter().all(|b| b.iter().sum::<usize>() <= MAX_QUEUE_ENTRIES_PER_BATCH));
        assert_eq!(batches.concat(), blocks, "whole blocks, in order");
    }

    #[test]
    fn both_caps_hold_at_once() {
        // (withdrawals, queue entries) per block.
        let b = wq(&[(10, 2), (2, 10), (4, 4), (0, 1)]);
        // 10+2+4 = 16 withdrawals fits, but 2+10+4 = 16 queue entries too: then (0, 1) is 17.
        assert_eq!(cut_loads(&b, 64), vec![b[..3].to_vec(), b[3..].to_vec()]);
        // The queue cap cuts where withdrawals would fit, and the other way round.
        let b = wq(&[(1, 9), (1, 8), (9, 0), (8, 1)]);
        assert_eq!(cut_loads(&b, 64), vec![b[..1].to_vec(), b[1..3].to_vec(), b[3..].to_vec()]);
        // A block full on one list takes later blocks only while they add nothing to it.
        let b = wq(&[(16, 0), (0, 16), (0, 0), (1, 0), (0, 1)]);
        assert_eq!(cut_loads(&b, 64), vec![b[..3].to_vec(), b[3..].to_vec()]);
        let b = wq(&[(16, 16), (0, 0), (1, 1)]);
        assert_eq!(cut_loads(&b, 64), vec![b[..2].to_vec(), b[2..].to_vec()]);
        for batch in cut_loads(&wq(&[(7, 9), (9, 7), (3, 3), (6, 6), (16, 16), (1, 0)]), 64) {
            let w: usize = batch.iter().map(|l| l.withdrawals).sum();
            let q: usize = batch.iter().map(|l| l.queue).sum();
            assert!(w <= MAX_WITHDRAWALS_PER_BATCH && q <= MAX_QUEUE_ENTRIES_PER_BATCH);
        }
    }
}
