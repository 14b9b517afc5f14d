//! The prover node: watches the L1 Rollup for committed-but-unproven batches, fetches their
//! ops from the sequencer, proves them and submits `proveBatch`.
//!
//! Data flow, per poll ([`ProverNode::step`]):
//! 1. Read `lastCommittedBatch` / `lastFinalizedBatch` from the Rollup ([`l1`]).
//! 2. For the next batch `i` after the node's state [`replica::Replica`] (batch 0 = the
//!    sequencer's genesis block, rebuilt from the preset): read L1's public inputs of `i`; if their
//!    `prevStateRoot` is not the replica's root, batches were reverted and re-committed, so the
//!    replica is rebuilt from genesis. Fetch the batch's blocks of ops with
//!    `ctm_getBatchWitness` ([`sequencer`]); a batch the sequencer has not stored yet ends the
//!    poll.
//! 3. If `i % nodes == node_index` and L1 says `i` is unproven, build the [`BatchContext`] (the
//!    consumed queue entries from `QueueEntryAdded` logs, the expected public inputs from L1),
//!    then witness, prove, verify and encode on a blocking thread (`work.rs`); re-check on L1 that
//!    `i` is still unproven, send `proveBatch` and wait for the receipt. Otherwise just apply the
//!    blocks to the replica. Either way the replica's root must become L1's `newStateRoot`.
//!
//! Work sharing without waste: each batch has exactly one owner among the `nodes` nodes, and an
//! owner checks L1 before proving and again before submitting, so a proof that already landed
//! (from any prover) is never re-proven or re-sent; a `proveBatch` that would revert fails at gas
//! estimation and costs nothing. Restart: the replica lives in memory, so a restarted node
//! replays from genesis (deterministic; or resumes from a snapshot, below) and continues with the
//! first unproven batch it owns.
//!
//! Takeover (`--takeover-secs`, with several nodes): a second replica follows L1's *proven*
//! prefix. When its next batch belongs to another node and is still unproven `rank × delay` after
//! this node first saw it ([`Share::rank`]: 1 for the node right after the owner, 2 for the next,
//! …), this node proves it from that replica, so a dead node stalls finality only for the delay.
//! A slow owner and a backup can both prove a batch; the one whose proof lands second learns it
//! before submitting or at gas estimation, and pays nothing.
//!
//! Snapshots (`--datadir`): each replica is saved after every `--snapshot-every`-th batch
//! ([`snapshot`]); a restarted node resumes from a snapshot whose root L1 confirms for its batch.
//!
//! Finalizing (`--finalize`): after each poll the node sends `finalizeBatch` for every proven
//! batch after `lastFinalizedBatch`, in order (any prover's proof; up to 16 per poll), so the
//! bridge credits deposits, burns fees and opens withdrawals without a separate keeper.
//!
//! Errors from L1 or the sequencer are retried with exponential backoff (counted in
//! `ctm_prover_failures_total`); only configuration errors stop the node.

pub mod config;
pub mod error;
pub mod l1;
pub mod metrics;
pub mod replica;
pub mod sequencer;
pub mod snapshot;
mod work;

use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256};
use ctm_core::Rules;
use tokio::sync::watch;

pub use config::{NodeConfig, RunArgs, Share};
pub use error::{NodeError, Result};
use l1::{Heads, QueueLog, RollupClient};
use replica::Replica;
use sequencer::{BatchInput, SequencerClient};

use crate::ProverError;
use crate::Stage;
use crate::public::PublicInputs;
use crate::witness::{BatchContext, Block, WitnessError};

/// Longest wait between retries of a failing step.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Most batches one step finalizes (each waits for its L1 receipt).
const MAX_FINALIZE_PER_STEP: u64 = 16;

/// What the node reports while it runs (for progress displays; everything is also logged).
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// The node checked L1 and starts with an empty replica.
    Started {
        /// The submitting account.
        prover: Address,
        /// This node's share of the batches.
        share: Share,
    },
    /// L1's batch pointers at the start of a poll.
    Heads(Heads),
    /// Another node's batch is still unproven after this node's takeover delay: proving it.
    TakingOver {
        /// Batch index.
        batch: u64,
        /// The owner's node index.
        owner: u64,
    },
    /// A batch was applied to the replica without proving (not ours, or already proven).
    Replayed {
        /// Batch index.
        batch: u64,
    },
    /// Proving progress of an own batch.
    Proving {
        /// Batch index.
        batch: u64,
        /// Stage reached.
        stage: Stage,
    },
    /// Our proof was accepted on L1.
    Proven {
        /// Batch index.
        batch: u64,
        /// The `proveBatch` transaction (unknown when a timed-out submission landed later).
        tx: Option<B256>,
    },
    /// An own batch was proven by someone else first.
    Skipped {
        /// Batch index.
        batch: u64,
        /// Who proved it.
        by: Address,
    },
    /// This node finalized a proven batch on L1 (`--finalize`).
    Finalized {
        /// Batch index.
        batch: u64,
        /// The `finalizeBatch` transaction.
        tx: B256,
    },
    /// The replica resumed from its snapshot instead of genesis.
    Restored {
        /// The snapshot's batch.
        batch: u64,
    },
    /// L1 no longer extends the replica (batches reverted): replaying from genesis.
    Reset {
        /// The batch whose `prevStateRoot` differed.
        batch: u64,
    },
    /// A step failed and is retried.
    Retrying {
        /// The error.
        error: String,
        /// Wait before the retry.
        after: Duration,
    },
}

/// Receives [`Event`]s (called from async and blocking threads).
pub type Observer = Arc<dyn Fn(&Event) + Send + Sync>;

/// Which of the node's two replicas an operation uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cursor {
    /// Follows every committed batch; proves the node's own.
    Head,
    /// Follows L1's proven prefix; proves another node's batch after the takeover delay.
    Takeover,
}

impl Cursor {
    /// The replica's snapshot name.
    fn name(self) -> &'static str {
        match self {
            Cursor::Head => "head",
            Cursor::Takeover => "takeover",
        }
    }
}

/// A committed batch as [`ProverNode::fetch`] found it.
enum Fetched {
    /// L1's public inputs and the sequencer's batch; the replica is at the batch before.
    Batch(Box<(PublicInputs, BatchInput)>),
    /// L1 no longer extends the replica: it was dropped (rebuilt from genesis next).
    Reset,
    /// The sequencer has not stored the batch yet.
    NotYet,
}

/// A proof made but not yet accepted on L1.
struct Pending {
    batch: u64,
    proof: Vec<u8>,
}

/// A prover node (see the module docs).
pub struct ProverNode {
    cfg: NodeConfig,
    rules: Rules,
    l1: RollupClient,
    l2: SequencerClient,
    queue: QueueLog,
    replica: Option<Replica>,
    /// The takeover replica (only with `takeover` and several nodes).
    behind: Option<Replica>,
    /// The batch the takeover replica waits on and when this node first saw it unproven.
    waiting: Option<(u64, Instant)>,
    pending: Option<Pending>,
    observer: Observer,
    checked: bool,
}

impl std::fmt::Debug for ProverNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProverNode")
            .field("prover", &self.l1.prover())
            .field("share", &self.cfg.share)
            .field("replica", &self.replica)
            .finish_non_exhaustive()
    }
}

impl ProverNode {
    /// A node for `cfg` (connections are opened lazily by the first step).
    pub fn new(cfg: NodeConfig) -> Result<Self> {
        cfg.check()?;
        let l1 = RollupClient::new(&cfg.l1_rpc, cfg.deployment.rollup, cfg.key.clone())?;
        let l2 = SequencerClient::new(&cfg.sequencer_rpc)?;
        Ok(Self {
            rules: Rules::from_config(&cfg.genesis),
            queue: QueueLog::new(cfg.deployment.deploy_block),
            cfg,
            l1,
            l2,
            replica: None,
            behind: None,
            waiting: None,
            pending: None,
            observer: Arc::new(|_| {}),
            checked: false,
        })
    }

    /// Reports events to `observer` as well as to the log.
    pub fn with_observer(mut self, observer: impl Fn(&Event) + Send + Sync + 'static) -> Self {
        self.observer = Arc::new(observer);
        self
    }

    /// The account that submits proofs.
    pub fn prover(&self) -> Address {
        self.l1.prover()
    }

    /// Polls until `stop` turns true (or its sender is dropped); retries failing steps with
    /// exponential backoff. Returns an error only for configuration errors.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) -> Result<()> {
        let poll = self.cfg.poll;
        let mut backoff = poll;
        loop {
            let outcome = tokio::select! {
                r = self.step() => r,
                _ = stop.wait_for(|s| *s) => return Ok(()),
            };
            let wait = match outcome {
                Ok(()) => {
                    backoff = poll;
                    poll
                }
                Err(e) if e.is_fatal() => return Err(e),
                Err(e) => {
                    metrics::failure(e.kind());
                    tracing::warn!(error = %e, retry_in = ?backoff, "prover-node step failed");
                    self.emit(Event::Retrying { error: e.to_string(), after: backoff });
                    let w = backoff;
                    backoff = (backoff * 2).min(MAX_BACKOFF.max(poll));
                    w
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.wait_for(|s| *s) => return Ok(()),
            }
        }
    }

    /// One poll: submits a pending proof, then handles every committed batch after the replica
    /// that the sequencer can serve, then (`--finalize`) finalizes what is proven.
    pub async fn step(&mut self) -> Result<()> {
        if !self.checked {
            self.check_l1().await?;
        }
        if let Some(p) = self.pending.take() {
            self.submit(p).await?;
        }
        let heads = self.l1.heads().await?;
        self.emit(Event::Heads(heads));
        loop {
            let next = self.replica.as_ref().map_or(1, |r| r.batch() + 1);
            if next > heads.committed || !self.handle(next).await? {
                break;
            }
        }
        self.follow(heads.committed).await?;
        if self.cfg.finalize {
            self.finalize().await?;
        }
        Ok(())
    }

    /// Finalizes proven batches in order, at most [`MAX_FINALIZE_PER_STEP`] per step. A batch
    /// that someone else finalized first is passed over; any other failure ends the step.
    async fn finalize(&mut self) -> Result<()> {
        let heads = self.l1.heads().await?;
        let mut i = heads.finalized + 1;
        let last = heads.committed.min(heads.finalized + MAX_FINALIZE_PER_STEP);
        while i <= last && self.l1.prover_of(i).await? != Address::ZERO {
            match self.l1.finalize_batch(i).await {
                Ok(tx) => {
                    ::metrics::counter!(metrics::BATCHES_FINALIZED).increment(1);
                    tracing::info!(batch = i, %tx, "batch finalized on L1");
                    self.emit(Event::Finalized { batch: i, tx });
                }
                Err(e) if self.l1.heads().await?.finalized < i => return Err(e),
                Err(_) => tracing::debug!(batch = i, "batch finalized by someone else"),
            }
            i += 1;
        }
        Ok(())
    }

    /// Refuses an L1 of another chain than the deployment's and a preset whose genesis root is
    /// not the deployment's.
    async fn check_l1(&mut self) -> Result<()> {
        self.replica(Cursor::Head)?;
        let chain = self.l1.chain_id().await?;
        if chain != self.cfg.deployment.chain_id {
            return Err(NodeError::Config(format!(
                "L1 chain id {chain}, the deployment is on {}",
                self.cfg.deployment.chain_id
            )));
        }
        if let Some((dir, _)) = self.cfg.snapshots.clone() {
            let committed = self.l1.heads().await?.committed;
            self.restore(Cursor::Head, &dir, committed).await?;
            if self.cfg.takeover.is_some() && self.cfg.share.nodes() > 1 {
                self.restore(Cursor::Takeover, &dir, committed).await?;
            }
        }
        self.checked = true;
        self.emit(Event::Started { prover: self.prover(), share: self.cfg.share });
        Ok(())
    }

    /// Replaces cursor `c`'s genesis replica by its snapshot in `dir` if L1 has the snapshot's
    /// root as the `newStateRoot` of its batch (otherwise the batches were reverted, or the file
    /// is from another deployment: keep genesis).
    async fn restore(&mut self, c: Cursor, dir: &std::path::Path, committed: u64) -> Result<()> {
        let chain = &self.cfg.genesis.chain;
        let r = match snapshot::load(dir, c.name(), chain.chain_id, chain.tree_depth) {
            Ok(Some(r)) if r.batch() > 0 => r,
            Ok(_) => return Ok(()),
            Err(why) => {
                tracing::warn!(%why, "ignoring the replica snapshot: replaying from genesis");
                return Ok(());
            }
        };
        let b = r.batch();
        if b > committed || self.l1.public_inputs(b).await?.new_state_root != r.root() {
            tracing::warn!(batch = b, cursor = ?c, "the snapshot is not on L1: replaying from genesis");
            return Ok(());
        }
        tracing::info!(batch = b, cursor = ?c, "resuming from the replica snapshot");
        if c == Cursor::Head {
            self.emit(Event::Restored { batch: b });
        }
        *self.slot(c) = Some(r);
        Ok(())
    }

    /// Cursor `c`'s snapshot policy, if the node keeps snapshots.
    fn policy(&self, c: Cursor) -> Option<snapshot::Policy> {
        self.cfg.snapshots.as_ref().map(|(dir, every)| snapshot::Policy {
            dir: dir.clone(),
            every: *every,
            l2_chain_id: self.cfg.genesis.chain.chain_id,
            name: c.name(),
        })
    }

    fn slot(&mut self, c: Cursor) -> &mut Option<Replica> {
        match c {
            Cursor::Head => &mut self.replica,
            Cursor::Takeover => &mut self.behind,
        }
    }

    /// Cursor `c`'s replica, built from genesis if there is none.
    fn replica(&mut self, c: Cursor) -> Result<&mut Replica> {
        if self.slot(c).is_none() {
            let r = Replica::genesis(&self.cfg.genesis, &self.rules)?;
            if r.root() != self.cfg.deployment.genesis_state_root {
                return Err(NodeError::Config(format!(
                    "preset {} gives genesis root {}, the deployment has {}",
                    self.cfg.genesis.name,
                    r.root(),
                    self.cfg.deployment.genesis_state_root
                )));
            }
            *self.slot(c) = Some(r);
        }
        self.slot(c).as_mut().ok_or_else(|| NodeError::Task("replica missing".into()))
    }

    /// Handles batch `i` (the head replica is at `i - 1`). `false`: the sequencer does not
    /// have it yet.
    async fn handle(&mut self, i: u64) -> Result<bool> {
        let (pi, input) = match self.fetch(Cursor::Head, i).await? {
            Fetched::Batch(b) => *b,
            Fetched::Reset => return Ok(true),
            Fetched::NotYet => return Ok(false),
        };
        // Before proving: is it ours and still unproven on L1?
        if self.cfg.share.owns(i) && self.l1.prover_of(i).await? == Address::ZERO {
            self.prove(Cursor::Head, i, pi, input).await?;
        } else {
            self.replay(Cursor::Head, i, pi.new_state_root, input.blocks).await?;
        }
        ::metrics::gauge!(metrics::REPLICA_BATCH).set(i as f64);
        Ok(true)
    }

    /// The takeover cursor (module docs): replays proven batches on its own replica and proves
    /// the first unproven batch of another node once this node's delay for it has passed.
    async fn follow(&mut self, committed: u64) -> Result<()> {
        let Some(delay) = self.cfg.takeover else { return Ok(()) };
        if self.cfg.share.nodes() < 2 {
            return Ok(());
        }
        loop {
            let i = self.replica(Cursor::Takeover)?.batch() + 1;
            if i > committed {
                return Ok(());
            }
            let proven = self.l1.prover_of(i).await? != Address::ZERO;
            if !proven {
                let rank = self.cfg.share.rank(i);
                if rank == 0 {
                    return Ok(()); // ours: the head cursor proves it
                }
                let since = match self.waiting {
                    Some((b, t)) if b == i => t,
                    _ => self.waiting.insert((i, Instant::now())).1,
                };
                let wait = delay.saturating_mul(u32::try_from(rank).unwrap_or(u32::MAX));
                if since.elapsed() < wait {
                    return Ok(());
                }
            }
            let (pi, input) = match self.fetch(Cursor::Takeover, i).await? {
                Fetched::Batch(b) => *b,
                Fetched::Reset => continue,
                Fetched::NotYet => return Ok(()),
            };
            if proven {
                self.replay(Cursor::Takeover, i, pi.new_state_root, input.blocks).await?;
            } else {
                let owner = i % self.cfg.share.nodes();
                tracing::warn!(batch = i, owner, "batch still unproven after the takeover delay");
                ::metrics::counter!(metrics::TAKEOVERS).increment(1);
                self.emit(Event::TakingOver { batch: i, owner });
                self.prove(Cursor::Takeover, i, pi, input).await?;
            }
        }
    }

    /// Batch `i` for cursor `c` (its replica is at `i - 1`): L1's public inputs and the
    /// sequencer's blocks, checked against each other and against the replica.
    async fn fetch(&mut self, c: Cursor, i: u64) -> Result<Fetched> {
        let pi = self.l1.public_inputs(i).await?;
        let replica = self.replica(c)?;
        if pi.prev_state_root != replica.root() {
            if replica.batch() == 0 {
                return Err(NodeError::RootMismatch {
                    batch: 0,
                    expected: pi.prev_state_root,
                    got: replica.root(),
                });
            }
            tracing::warn!(
                batch = i,
                cursor = ?c,
                "L1 batch does not extend the replica: replaying from genesis"
            );
            *self.slot(c) = None;
            if c == Cursor::Head {
                self.emit(Event::Reset { batch: i });
            }
            return Ok(Fetched::Reset);
        }
        let Some(input) = self.l2.batch(i).await? else {
            tracing::debug!(batch = i, "the sequencer has not stored the batch yet");
            return Ok(Fetched::NotYet);
        };
        if input.record.new_state_root != pi.new_state_root {
            return Err(NodeError::BadBatch {
                batch: i,
                reason: format!(
                    "the sequencer's newStateRoot {} is not L1's {}",
                    input.record.new_state_root, pi.new_state_root
                ),
            });
        }
        Ok(Fetched::Batch(Box::new((pi, input))))
    }

    fn take_replica(&mut self, c: Cursor) -> Result<Replica> {
        self.replica(c)?;
        self.slot(c).take().ok_or_else(|| NodeError::Task("replica missing".into()))
    }

    /// Applies batch `i` to cursor `c`'s replica on a blocking thread.
    async fn replay(
        &mut self,
        c: Cursor,
        i: u64,
        new_root: B256,
        blocks: Vec<Block>,
    ) -> Result<()> {
        let mut replica = self.take_replica(c)?;
        let rules = self.rules.clone();
        let policy = self.policy(c);
        let (replica, applied) = tokio::task::spawn_blocking(move || {
            let r = replica.apply(i, &rules, &blocks, new_root);
            if let (Ok(()), Some(p)) = (&r, policy) {
                p.after_batch(&replica);
            }
            (replica, r)
        })
        .await
        .map_err(|e| NodeError::Task(e.to_string()))?;
        // A failed apply leaves a partial state: drop it (the next poll replays from genesis).
        applied?;
        *self.slot(c) = Some(replica);
        tracing::debug!(batch = i, cursor = ?c, "replayed");
        if c == Cursor::Head {
            self.emit(Event::Replayed { batch: i });
        }
        Ok(())
    }

    /// Proves batch `i` from cursor `c`'s replica and submits the proof.
    async fn prove(
        &mut self,
        c: Cursor,
        i: u64,
        pi: PublicInputs,
        input: BatchInput,
    ) -> Result<()> {
        let queue = self.queue.range(&self.l1, pi.queue_start, pi.queue_count).await?;
        let ctx = BatchContext {
            l2_chain_id: pi.l2_chain_id,
            batch_index: i,
            batch_data: input.batch_data,
            queue_start: pi.queue_start,
            queue_hash_start: pi.queue_hash_start,
            queue,
            rejected_deposits: input.record.rejected,
            slashes: Vec::new(),
            expected: Some(pi),
        };
        tracing::info!(batch = i, blocks = input.blocks.len(), "proving");
        let mut replica = self.take_replica(c)?;
        let rules = self.rules.clone();
        let observer = self.observer.clone();
        let policy = self.policy(c);
        let started = Instant::now();
        let (replica, proof) = tokio::task::spawn_blocking(move || {
            let progress = |stage| observer(&Event::Proving { batch: i, stage });
            let r = work::prove_batch(&mut replica, &rules, i, &input.blocks, &ctx, progress);
            if let (Ok(_), Some(p)) = (&r, policy) {
                p.after_batch(&replica);
            }
            (replica, r)
        })
        .await
        .map_err(|e| NodeError::Task(e.to_string()))?;
        *self.slot(c) = Some(replica);
        if let Err(NodeError::Prove { source: ProverError::Witness(w), .. }) = &proof
            && matches!(w, WitnessError::Queue(_) | WitnessError::PublicInputMismatch(_))
        {
            // The cached queue logs may come from L1 blocks that were reorganized away since
            // they were read: read them all again before the retry.
            tracing::warn!(batch = i, "queue entries disagree with L1: re-reading the queue logs");
            self.queue = QueueLog::new(self.cfg.deployment.deploy_block);
        }
        let proof = proof?;
        let secs = started.elapsed().as_secs_f64();
        ::metrics::histogram!(metrics::PROVE_SECONDS).record(secs);
        tracing::info!(batch = i, secs, bytes = proof.len(), "proof ready");
        self.submit(Pending { batch: i, proof }).await
    }

    /// Submits a proof unless L1 already has one; keeps it for the next poll on failure.
    async fn submit(&mut self, p: Pending) -> Result<()> {
        // Before submitting: another prover may have been faster.
        let by = match self.l1.prover_of(p.batch).await {
            Ok(by) => by,
            Err(e) => {
                self.pending = Some(p);
                return Err(e);
            }
        };
        if by != Address::ZERO {
            self.already_proven(p.batch, by, None);
            return Ok(());
        }
        match self.l1.prove_batch(p.batch, p.proof.clone()).await {
            Ok(tx) => {
                self.already_proven(p.batch, self.prover(), Some(tx));
                Ok(())
            }
            Err(e) => match self.l1.prover_of(p.batch).await {
                Ok(by) if by != Address::ZERO => {
                    self.already_proven(p.batch, by, None);
                    Ok(())
                }
                _ => {
                    self.pending = Some(p);
                    Err(e)
                }
            },
        }
    }

    /// Records that `batch` is proven by `by` (this node when `by` is our account).
    fn already_proven(&self, batch: u64, by: Address, tx: Option<B256>) {
        if by == self.prover() {
            metrics::proven(batch);
            tracing::info!(batch, tx = ?tx, "batch proven on L1");
            self.emit(Event::Proven { batch, tx });
        } else {
            ::metrics::counter!(metrics::SKIPPED).increment(1);
            tracing::info!(batch, %by, "batch already proven by another prover: skipped");
            self.emit(Event::Skipped { batch, by });
        }
    }

    fn emit(&self, event: Event) {
        (self.observer)(&event);
    }
}
