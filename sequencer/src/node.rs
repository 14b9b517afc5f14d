//! The node: chain state, mempool, block production and the events RPC subscribers follow.
//!
//! Block production: select executable transactions from the pool, execute them with revm over
//! a read view of the state (RPC reads continue meanwhile), write the block's state changes to
//! the tree in one batched update, persist block + receipts + ops + tree changes in one redb
//! transaction, then publish the new head. A block initiates at most
//! [`MAX_WITHDRAWALS_PER_BATCH`] withdrawals (so that every block fits in a provable batch): a
//! transaction whose withdrawals would exceed that, or whose gas limit no longer fits, stays in
//! the pool, with its sender's later transactions, for the next block. Likewise a block consumes
//! at most [`MAX_QUEUE_ENTRIES_PER_BATCH`] L1 queue entries (deposits and messages), the oldest
//! pending ones in queue order; the rest stay pending, in order, for the next blocks.

use std::cell::RefCell;

use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use alloy::consensus::proofs::{calculate_receipt_root, calculate_transaction_root};
use alloy::consensus::{
    EMPTY_OMMER_ROOT_HASH, Header, Receipt, ReceiptEnvelope, ReceiptWithBloom, Transaction,
    TxEnvelope, TxType,
};
use alloy::eips::Typed2718;
use alloy::eips::eip1559::BaseFeeParams;
use alloy::primitives::{Address, B256, Bloom, Bytes};
use ctm_core::codec::Codec;
use ctm_core::config::GenesisConfig;
use ctm_core::l1::{MAX_QUEUE_ENTRIES_PER_BATCH, MAX_WITHDRAWALS_PER_BATCH};
use ctm_core::op::{Executor, Op, Rules, write_block};
use ctm_core::state::{Account, StateKey, Totals};
use ctm_core::tree::StateTree;
use tokio::sync::broadcast;

use crate::error::{Result, SequencerError};
use crate::exec::{BlockContext, ExcludeReason, execute_tx, withdrawal_count};
use crate::mempool::{Mempool, PoolLimits};
use crate::storage::{BlockWrite, PersistentStore, Storage};
use crate::types::{BlockOps, PooledTx, QueueItem, StoredBlock, StoredReceipt, StoredTx};

/// Node settings (derived from the service config).
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Genesis preset.
    pub genesis: GenesisConfig,
    /// Data directory (holds `chain.redb`).
    pub datadir: PathBuf,
    /// Dev mode: fund the dev accounts at genesis.
    pub dev_accounts: Vec<(Address, u128)>,
    /// Block interval.
    pub block_time: Duration,
    /// Receives priority fees.
    pub beneficiary: Address,
    /// Mempool limits.
    pub pool: PoolLimits,
    /// Most transactions in one block.
    pub max_block_txs: usize,
    /// Produce blocks even when the pool is empty.
    pub empty_blocks: bool,
}

/// The chain head as RPC sees it.
#[derive(Clone, Debug)]
pub struct Head {
    /// Latest block.
    pub block: Arc<StoredBlock>,
    /// Latest block whose batch is committed on L1 (`safe`).
    pub safe: u64,
    /// Latest block whose batch is finalized on L1 (`finalized`).
    pub finalized: u64,
}

/// One included transaction, for subscribers.
#[derive(Clone, Debug)]
pub struct IncludedTx {
    /// Hash.
    pub hash: B256,
    /// Where and from whom.
    pub tx: StoredTx,
    /// Outcome.
    pub receipt: StoredReceipt,
}

/// What subscribers are told.
#[derive(Clone, Debug)]
pub enum ChainEvent {
    /// A new block with its transactions.
    Block(Arc<StoredBlock>, Arc<Vec<IncludedTx>>),
    /// A transaction entered the pool.
    PendingTx(B256),
}

/// State shared by the block producer and the RPC server.
#[derive(Debug)]
pub struct Node {
    /// Settings.
    pub config: NodeConfig,
    /// Rules of the chain.
    pub rules: Rules,
    /// Database.
    pub storage: Storage,
    /// The state tree (in memory, persisted block by block).
    pub state: RwLock<StateTree<PersistentStore>>,
    /// The head.
    pub head: RwLock<Head>,
    /// Pending transactions.
    pub pool: Mutex<Mempool>,
    /// Chain events.
    pub events: broadcast::Sender<ChainEvent>,
    /// L1 queue entries seen on L1 and not yet applied, in queue order. Block production reads
    /// at most [`MAX_QUEUE_ENTRIES_PER_BATCH`] from the front and removes them once a persisted
    /// block has consumed them (and any stale entries below the state's queue head).
    pub deposits: Mutex<std::collections::VecDeque<QueueItem>>,
    /// Registered providers (derived from the state; the matching engine's candidates).
    providers: RwLock<Arc<Vec<Address>>>,
    shutdown: AtomicBool,
}

/// Seconds since the Unix epoch (block timestamps).
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn chain_id_of(cfg: &GenesisConfig) -> String {
    format!("{}:{}", cfg.name, cfg.chain.chain_id)
}

impl Node {
    /// Opens the chain in `config.datadir`, creating genesis if it is empty.
    pub fn open(config: NodeConfig) -> Result<Arc<Self>> {
        std::fs::create_dir_all(&config.datadir)?;
        let storage = Storage::open(&config.datadir.join("chain.redb"))?;
        let mut rules = Rules::from_config(&config.genesis);
        let expected = chain_id_of(&config.genesis);
        if let Some(found) = storage.chain_meta()? {
            let found = String::from_utf8_lossy(&found).into_owned();
            if found != expected {
                return Err(SequencerError::ChainMismatch { expected, found });
            }
        }
        let store = storage.load_tree()?;
        let providers = store.provider_index();
        let tree = StateTree::new(store, config.genesis.chain.tree_depth)?;
        let (events, _) = broadcast::channel(4096);
        let placeholder = Head {
            block: Arc::new(StoredBlock {
                header: Header::default(),
                hash: B256::ZERO,
                tx_hashes: vec![],
            }),
            safe: 0,
            finalized: 0,
        };
        rules.allow_mint = false;
        let node = Arc::new(Node {
            pool: Mutex::new(Mempool::new(config.pool.clone())),
            config,
            rules,
            storage,
            state: RwLock::new(tree),
            head: RwLock::new(placeholder),
            events,
            providers: RwLock::new(Arc::new(providers)),
            deposits: Mutex::new(Default::default()),
            shutdown: AtomicBool::new(false),
        });
        match node.storage.head()? {
            Some(n) => {
                let block = node
                    .storage
                    .block(n)?
                    .ok_or_else(|| SequencerError::Corrupt(format!("head block {n} missing")))?;
                if block.header.state_root != node.state_root() {
                    return Err(SequencerError::Corrupt(
                        "state root differs from the head block's".into(),
                    ));
                }
                node.head.write().map_err(poison)?.block = Arc::new(block);
            }
            None => node.genesis()?,
        }
        Ok(node)
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.config.genesis.chain.chain_id
    }

    /// The current state root as 32 bytes.
    pub fn state_root(&self) -> B256 {
        self.state.read().map(|t| t.root().to_bytes32()).unwrap_or_default()
    }

    /// A snapshot of the head.
    pub fn head(&self) -> Head {
        self.head.read().map(|h| h.clone()).unwrap_or_else(|p| p.into_inner().clone())
    }

    /// The latest account state.
    pub fn account(&self, addr: &Address) -> Result<Account> {
        let tree = self.state.read().map_err(poison)?;
        Ok(tree.get_value::<Account>(&StateKey::Account(*addr))?.unwrap_or_default())
    }

    /// Records the L1 status: `safe` = last block of the newest committed batch, `finalized` =
    /// last block of the newest finalized batch (the `safe` / `finalized` block tags).
    pub fn set_l1_heads(&self, safe: u64, finalized: u64) {
        if let Ok(mut h) = self.head.write() {
            h.safe = safe;
            h.finalized = finalized;
        }
    }

    /// The registered providers as of the latest block.
    pub fn providers(&self) -> Arc<Vec<Address>> {
        self.providers.read().map(|p| p.clone()).unwrap_or_default()
    }

    fn update_providers(&self, writes: &ctm_core::BlockWrites) -> Result<()> {
        let changed: Vec<(Address, bool)> = writes
            .iter()
            .filter_map(|(k, v)| match k {
                StateKey::Provider(a) => Some((*a, v.is_some())),
                _ => None,
            })
            .collect();
        if changed.is_empty() {
            return Ok(());
        }
        let mut guard = self.providers.write().map_err(poison)?;
        let mut set: std::collections::BTreeSet<Address> = guard.iter().copied().collect();
        for (a, present) in changed {
            if present {
                set.insert(a);
            } else {
                set.remove(&a);
            }
        }
        *guard = Arc::new(set.into_iter().collect());
        Ok(())
    }

    /// Asks the producer loop to stop.
    pub fn shutdown(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
    }

    fn genesis(&self) -> Result<()> {
        let ts = unix_now();
        let mut tree = self.state.write().map_err(poison)?;
        let pre_root = tree.root().to_bytes32();
        let (ops, writes) = genesis_block(&tree, &self.rules, &self.config.dev_accounts, ts)?;
        let accounts = changed_accounts(&writes)?;
        let root = write_block(&mut tree, writes)?.to_bytes32();
        let unsaved = tree.store_mut().take_unsaved();
        drop(tree);
        let chain = self.config.genesis.chain.clone();
        let header = Header {
            parent_hash: B256::ZERO,
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            beneficiary: Address::ZERO,
            state_root: root,
            transactions_root: calculate_transaction_root::<TxEnvelope>(&[]),
            receipts_root: calculate_receipt_root::<ReceiptEnvelope>(&[]),
            number: 0,
            gas_limit: chain.block_gas_limit,
            timestamp: ts,
            base_fee_per_gas: Some(chain.initial_base_fee),
            ..Default::default()
        };
        let block = StoredBlock { hash: header.hash_slow(), header, tx_hashes: vec![] };
        let ops = BlockOps { timestamp: ts, pre_root, post_root: root, ops, ..Default::default() };
        let meta = chain_id_of(&self.config.genesis);
        self.storage.write_block(
            BlockWrite {
                block: &block,
                txs: &[],
                receipts: &[],
                ops: &ops,
                accounts: &accounts,
                tree: unsaved,
            },
            Some(meta.as_bytes()),
        )?;
        self.head.write().map_err(poison)?.block = Arc::new(block);
        Ok(())
    }

    /// The base fee of the next block.
    pub fn next_base_fee(&self) -> u64 {
        let h = self.head().block;
        let parent =
            h.header.base_fee_per_gas.unwrap_or(self.config.genesis.chain.initial_base_fee);
        let next = BaseFeeParams::ethereum().next_block_base_fee(
            h.header.gas_used,
            h.header.gas_limit,
            parent,
        );
        next.max(self.config.genesis.chain.min_base_fee)
    }

    /// Builds, persists and publishes one block from the pool. `None` if there was nothing to do.
    pub fn produce_block(&self) -> Result<Option<u64>> {
        let started = Instant::now();
        let head = self.head().block;
        let chain = &self.config.genesis.chain;
        let ctx = BlockContext {
            chain_id: chain.chain_id,
            number: head.header.number + 1,
            timestamp: unix_now().max(head.header.timestamp),
            base_fee: self.next_base_fee(),
            gas_limit: chain.block_gas_limit,
            beneficiary: self.config.beneficiary,
            providers: self.providers(),
        };
        let candidates;
        let queue;
        {
            let tree = self.state.read().map_err(poison)?;
            let totals = tree.get_value::<Totals>(&StateKey::Totals)?.unwrap_or_default();
            queue = self.pending_queue(totals.deposits_consumed)?;
            let pool = self.pool.lock().map_err(poison)?;
            if pool.is_empty() && queue.is_empty() && !self.config.empty_blocks {
                return Ok(None);
            }
            candidates = pool.select(self.config.max_block_txs, |a| {
                tree.get_value::<Account>(&StateKey::Account(*a))
                    .ok()
                    .flatten()
                    .unwrap_or_default()
                    .nonce
            });
        }
        let (deposits, included, dropped, writes) = self.execute(&ctx, &queue, &candidates)?;
        if included.is_empty() && deposits.ops.is_empty() && !self.config.empty_blocks {
            self.forget(&dropped)?;
            return Ok(None);
        }
        let accounts = changed_accounts(&writes)?;
        self.update_providers(&writes)?;
        let mut tree = self.state.write().map_err(poison)?;
        let pre_root = tree.root().to_bytes32();
        let root = write_block(&mut tree, writes)?.to_bytes32();
        let unsaved = tree.store_mut().take_unsaved();
        let totals = tree.get_value::<Totals>(&StateKey::Totals)?.unwrap_or_default();
        let burned_total = totals.burned;
        drop(tree);
        let (block, txs, receipts, tx_ops) = self.seal(&ctx, &head, root, &included);
        let withdrawals = withdrawals_of(&receipts);
        let mut ops = deposits.ops;
        ops.extend(tx_ops);
        let block_ops = BlockOps {
            timestamp: ctx.timestamp,
            pre_root,
            post_root: root,
            ops,
            queue: deposits.consumed,
            rejected: deposits.rejected,
            burned_total,
            withdrawals,
        };
        self.storage.write_block(
            BlockWrite {
                block: &block,
                txs: &txs,
                receipts: &receipts,
                ops: &block_ops,
                accounts: &accounts,
                tree: unsaved,
            },
            None,
        )?;
        let number = block.header.number;
        let block = Arc::new(block);
        self.head.write().map_err(poison)?.block = block.clone();
        let pending = self.pending_queue_len(totals.deposits_consumed)?;
        if block_ops.queue.len() == MAX_QUEUE_ENTRIES_PER_BATCH && pending > 0 {
            tracing::debug!(number, pending, "block queue-entry cap reached; the rest waits");
        }
        {
            let mut pool = self.pool.lock().map_err(poison)?;
            for (addr, acct) in &accounts {
                pool.prune(addr, acct.nonce);
            }
            for h in &dropped {
                pool.remove(h);
            }
            metrics::gauge!("ctm_mempool_size").set(pool.len() as f64);
        }
        let included: Vec<IncludedTx> = txs
            .into_iter()
            .zip(receipts)
            .map(|((hash, tx), receipt)| IncludedTx { hash, tx, receipt })
            .collect();
        metrics::counter!("ctm_transactions_included_total").increment(included.len() as u64);
        metrics::counter!("ctm_blocks_total").increment(1);
        metrics::histogram!("ctm_block_build_seconds").record(started.elapsed().as_secs_f64());
        metrics::gauge!("ctm_head_block").set(number as f64);
        let _ = self.events.send(ChainEvent::Block(block, Arc::new(included)));
        tracing::debug!(number, txs = block_ops.ops.len(), elapsed = ?started.elapsed(), "block");
        Ok(Some(number))
    }

    /// Drops the pending queue entries below `next` (the state's queue head: applied, or seen
    /// twice) and returns the first [`MAX_QUEUE_ENTRIES_PER_BATCH`] of the rest, in queue order.
    /// Only the producer removes entries (the L1 watcher appends), so they stay in the queue until
    /// a persisted block has consumed them.
    fn pending_queue(&self, next: u64) -> Result<Vec<QueueItem>> {
        let mut q = self.deposits.lock().map_err(poison)?;
        drop_applied(&mut q, next);
        Ok(q.iter().take(MAX_QUEUE_ENTRIES_PER_BATCH).cloned().collect())
    }

    /// Drops the pending queue entries below `next` and reports how many are left
    /// (`ctm_l1_queue_pending`).
    fn pending_queue_len(&self, next: u64) -> Result<usize> {
        let mut q = self.deposits.lock().map_err(poison)?;
        drop_applied(&mut q, next);
        metrics::gauge!("ctm_l1_queue_pending").set(q.len() as f64);
        Ok(q.len())
    }

    fn forget(&self, dropped: &[B256]) -> Result<()> {
        let mut pool = self.pool.lock().map_err(poison)?;
        for h in dropped {
            pool.remove(h);
        }
        Ok(())
    }

    #[allow(clippy::type_complexity)]
    fn execute(
        &self,
        ctx: &BlockContext,
        queue: &[QueueItem],
        candidates: &[PooledTx],
    ) -> Result<(
        AppliedQueue,
        Vec<(PooledTx, crate::exec::TxOutcome)>,
        Vec<B256>,
        ctm_core::BlockWrites,
    )> {
        let tree = self.state.read().map_err(poison)?;
        let exec = Rc::new(RefCell::new(Executor::new(&tree, self.rules.clone(), ctx.timestamp)));
        let deposits = apply_queue(&mut exec.borrow_mut(), queue)?;
        let mut evm = crate::exec::BlockEvm::new(&exec, ctx, true);
        let mut included = Vec::with_capacity(candidates.len());
        let mut dropped = Vec::new();
        let mut gas = 0u64;
        let mut withdrawals = 0usize;
        // Senders whose next transaction waits for a later block: their later nonces wait too.
        let mut deferred = std::collections::HashSet::new();
        for tx in candidates {
            if deferred.contains(&tx.sender) {
                continue;
            }
            if gas + tx.tx.gas_limit() > ctx.gas_limit {
                deferred.insert(tx.sender);
                continue;
            }
            let left = MAX_WITHDRAWALS_PER_BATCH - withdrawals;
            match execute_tx(&mut evm, &exec, ctx, &tx.tx, tx.sender, left) {
                Ok(outcome) => {
                    gas += outcome.gas_used;
                    withdrawals += withdrawal_count(&outcome.ops);
                    included.push((tx.clone(), outcome));
                }
                Err(ExcludeReason::WithdrawalCap { count, .. })
                    if count <= MAX_WITHDRAWALS_PER_BATCH =>
                {
                    tracing::debug!(hash = %tx.hash, "block withdrawal cap reached; deferring");
                    deferred.insert(tx.sender);
                }
                Err(reason) => {
                    tracing::debug!(hash = %tx.hash, %reason, "dropping transaction");
                    dropped.push(tx.hash);
                }
            }
        }
        drop(evm);
        let writes = Rc::try_unwrap(exec)
            .map_err(|_| SequencerError::Execution("executor still borrowed".into()))?
            .into_inner()
            .into_writes();
        Ok((deposits, included, dropped, writes))
    }

    #[allow(clippy::type_complexity)]
    fn seal(
        &self,
        ctx: &BlockContext,
        parent: &StoredBlock,
        state_root: B256,
        included: &[(PooledTx, crate::exec::TxOutcome)],
    ) -> (StoredBlock, Vec<(B256, StoredTx)>, Vec<StoredReceipt>, Vec<Op>) {
        let mut cumulative = 0u64;
        let mut log_index = 0u64;
        let mut envelopes = Vec::with_capacity(included.len());
        let mut receipts = Vec::with_capacity(included.len());
        let mut stored = Vec::with_capacity(included.len());
        let mut ops = Vec::new();
        let mut bloom = Bloom::ZERO;
        for (i, (tx, out)) in included.iter().enumerate() {
            cumulative += out.gas_used;
            let receipt = Receipt {
                status: out.success.into(),
                cumulative_gas_used: cumulative,
                logs: out.logs.clone(),
            };
            let with_bloom = ReceiptWithBloom::from(receipt);
            bloom |= with_bloom.logs_bloom;
            let ty = TxType::try_from(tx.tx.ty()).unwrap_or(TxType::Legacy);
            envelopes.push(ReceiptEnvelope::from_typed(ty, with_bloom));
            receipts.push(StoredReceipt {
                tx_type: tx.tx.ty(),
                success: out.success,
                gas_used: out.gas_used,
                cumulative_gas_used: cumulative,
                effective_gas_price: out.effective_gas_price,
                from: tx.sender,
                to: tx.tx.to(),
                logs: out.logs.clone(),
                first_log_index: log_index,
                revert: (!out.success).then(|| out.output.clone()),
            });
            log_index += out.logs.len() as u64;
            stored.push((
                tx.hash,
                StoredTx {
                    block: ctx.number,
                    index: i as u32,
                    sender: tx.sender,
                    raw: tx.raw.clone(),
                },
            ));
            ops.extend(out.ops.iter().cloned());
        }
        let txs: Vec<&TxEnvelope> = included.iter().map(|(t, _)| &t.tx).collect();
        let header = Header {
            parent_hash: parent.hash,
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            beneficiary: ctx.beneficiary,
            state_root,
            transactions_root: calculate_transaction_root(&txs),
            receipts_root: calculate_receipt_root(&envelopes),
            logs_bloom: bloom,
            number: ctx.number,
            gas_limit: ctx.gas_limit,
            gas_used: cumulative,
            timestamp: ctx.timestamp,
            base_fee_per_gas: Some(ctx.base_fee),
            extra_data: Bytes::from_static(b"computronium"),
            ..Default::default()
        };
        let block = StoredBlock {
            hash: header.hash_slow(),
            header,
            tx_hashes: stored.iter().map(|(h, _)| *h).collect(),
        };
        (block, stored, receipts, ops)
    }

    /// Runs the producer loop on the current thread until [`Node::shutdown`].
    pub fn run_producer(self: &Arc<Self>) {
        let interval = self.config.block_time;
        let mut next = Instant::now() + interval;
        while !self.shutdown.load(Ordering::SeqCst) {
            let now = Instant::now();
            if now < next {
                std::thread::sleep((next - now).min(Duration::from_millis(50)));
                continue;
            }
            next += interval;
            if next < now {
                next = now + interval;
            }
            if let Err(e) = self.produce_block() {
                tracing::error!(error = %e, "block production failed; stopping the node");
                self.shutdown();
            }
        }
    }
}

/// The ops and state writes of the genesis block (block 0) on the empty `tree`: one mint per dev
/// account (none on an L1-settled chain). The sequencer commits them as block 0; anyone who
/// replays the chain (a prover node's replica) starts from the same writes, so from the same root.
pub fn genesis_block<S: ctm_core::TreeStore>(
    tree: &StateTree<S>,
    rules: &Rules,
    dev_accounts: &[(Address, u128)],
    timestamp: u64,
) -> Result<(Vec<Op>, ctm_core::BlockWrites)> {
    let mut rules = rules.clone();
    rules.allow_mint = true;
    let ops: Vec<Op> =
        dev_accounts.iter().map(|(to, amount)| Op::Mint { to: *to, amount: *amount }).collect();
    let mut exec = Executor::new(tree, rules, timestamp);
    exec.try_ops(&ops).map_err(|e| SequencerError::Config(format!("genesis: {e}")))?;
    Ok((ops, exec.into_writes()))
}

/// Removes the pending queue entries below `next`, the state's queue head (applied, or seen twice).
fn drop_applied(q: &mut std::collections::VecDeque<QueueItem>, next: u64) {
    while q.front().is_some_and(|i| i.index < next) {
        q.pop_front();
    }
}

/// The queue entries a block applied.
#[derive(Debug, Default)]
pub struct AppliedQueue {
    /// Their ops (deposits credit; messages and refused deposits consume the index only).
    pub ops: Vec<Op>,
    /// Queue indices consumed.
    pub consumed: Vec<u64>,
    /// Refused deposits.
    pub rejected: Vec<u64>,
}

/// Applies pending L1 queue entries in order, at most [`MAX_QUEUE_ENTRIES_PER_BATCH`] of them (a
/// batch of one block must stay provable); entries below the state's queue head (already applied)
/// are skipped, and a gap stops the run (the rest waits for the missing entry).
fn apply_queue<S: ctm_core::TreeStore>(
    exec: &mut Executor<'_, S>,
    queue: &[QueueItem],
) -> Result<AppliedQueue> {
    let mut out = AppliedQueue::default();
    let mut next = exec
        .read::<Totals>(&StateKey::Totals)
        .map_err(|e| SequencerError::Execution(e.to_string()))?
        .unwrap_or_default()
        .deposits_consumed;
    for item in queue {
        if item.index < next {
            continue;
        }
        if item.index > next || out.consumed.len() == MAX_QUEUE_ENTRIES_PER_BATCH {
            break;
        }
        let amount = u128::try_from(item.amount).ok();
        let refused = item.kind != ctm_core::l1::QUEUE_KIND_DEPOSIT
            || amount.is_none()
            || crate::system::is_system(&item.l2_target);
        let op = Op::Deposit {
            queue_index: item.index,
            to: item.l2_target,
            amount: if refused { 0 } else { amount.unwrap_or(0) },
        };
        exec.try_op(&op)
            .map_err(|e| SequencerError::Execution(format!("queue entry {}: {e}", item.index)))?;
        if refused && item.kind == ctm_core::l1::QUEUE_KIND_DEPOSIT {
            out.rejected.push(item.index);
        }
        out.ops.push(op);
        out.consumed.push(item.index);
        next += 1;
    }
    Ok(out)
}

/// The withdrawals initiated by a block's transactions, from the bridge's events.
fn withdrawals_of(receipts: &[StoredReceipt]) -> Vec<ctm_core::l1::Withdrawal> {
    use alloy_sol_types::SolEvent;
    receipts
        .iter()
        .flat_map(|r| r.logs.iter())
        .filter(|l| l.address == ctm_core::system::BRIDGE)
        .filter_map(|l| {
            crate::system::IL2Bridge::WithdrawalInitiated::decode_log_data(&l.data).ok()
        })
        .map(|e| ctm_core::l1::Withdrawal { recipient: e.l1Recipient, amount: e.amount })
        .collect()
}

fn changed_accounts(writes: &ctm_core::BlockWrites) -> Result<Vec<(Address, Account)>> {
    let mut out = Vec::new();
    for (key, value) in writes.range(StateKey::Account(Address::ZERO)..) {
        let StateKey::Account(addr) = key else { break };
        let acct = match value {
            Some(v) => {
                Account::from_bytes(v).map_err(|e| SequencerError::Corrupt(e.to_string()))?
            }
            None => Account::default(),
        };
        out.push((*addr, acct));
    }
    Ok(out)
}

fn poison<T>(_: std::sync::PoisonError<T>) -> SequencerError {
    SequencerError::Execution("a lock was poisoned by a panic".into())
}
