//! The prover node end to end, with nothing mocked: anvil as L1 with the contracts (and the
//! batch STARK verifier) deployed by the forge script, an in-process sequencer that commits
//! batches of real signed L2 transfers (and one withdrawal to L1), and two in-process prover
//! nodes (0 and 1 of 2) that prove them with real proofs checked on-chain. Node 0 is killed mid-stream and restarted; then node 1
//! dies for good and the restarted node 0, which has a takeover delay, proves node 1's batch.
//!
//! Node 0 keeps replica snapshots, so its restart resumes from the last one instead of genesis.
//!
//! Checks: every committed batch is proven exactly once, by its owner (`i % 2`) while the owner
//! lives, no prover sends a transaction that is not an accepted `proveBatch` (its nonce equals its
//! `BatchProven` count), node 0's batches wait while it is down (node 1 has no takeover delay) and
//! get proven after the restart (which resumes from its snapshot), node 1's last batch is taken over
//! by node 0 after its delay and not before, the restarted node 0 (which finalizes) sends
//! `finalizeBatch` for every batch in order once it is proven, the Prometheus endpoint reports the
//! proofs, the finalizations and the takeover, and the withdrawal, whose list the proof of batch 9
//! carried, is paid out on L1.
//!
//! Run with `cargo test --release -p ctm-prover --test node` (needs `npm ci` for anvil/forge).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{Filter, TransactionRequest};
use alloy_sol_types::{SolCall, SolEvent};
use ctm_core::l1::{IBridge, IERC20, IRollup};
use ctm_prover::node::{Event, NodeConfig, ProverNode, Share, metrics};
use ctm_sequencer::config::{Cli, SequencerConfig};
use ctm_sequencer::l1::Deployment;
use ctm_sequencer::service;
use ctm_sequencer::system::IL2Bridge;
use ctm_testkit::{
    Anvil, KEYS, claim_withdrawal, free_port, key, l1_call, l1_send, wait_until, wallet_provider,
};
use tokio::sync::{mpsc, watch};

// Anvil accounts: 0 deployer and L2 user, 1 sequencer, 2 and 3 the two provers.

/// Anvil on a free port plus the contracts of the computronium preset (sequencer = account 1,
/// genesis root = the empty depth-32 tree of an L1-settled chain).
async fn l1() -> (Anvil, String, PathBuf, Deployment) {
    let anvil = ctm_testkit::anvil().await;
    let url = anvil.url.clone();
    let genesis = ctm_core::tree::empty_digests(32)[32].to_bytes32();
    let path = ctm_testkit::deploy(&url, key(1).address(), genesis, "prover-node");
    let dep = Deployment::load(&path).unwrap();
    (anvil, url, path, dep)
}

/// A sequencer linked to L1 that seals a batch every 300 ms.
async fn sequencer(l1_url: &str, deployment: &Path, datadir: &Path) -> service::Running {
    let cli = Cli {
        port: Some(0),
        block_time_ms: Some(50),
        datadir: Some(datadir.to_path_buf()),
        l1_rpc: Some(l1_url.into()),
        deployment: Some(deployment.to_path_buf()),
        sequencer_key: Some(KEYS[1].into()),
        l1_confirmations: Some(0),
        batch_interval_ms: Some(300),
        l1_poll_ms: Some(100),
        ..Default::default()
    };
    service::start(SequencerConfig::resolve(cli).unwrap()).await.unwrap()
}

/// How a test node runs: its index (of 2; L1 key `2 + index`), takeover delay, snapshot
/// directory (snapshots after every batch) and whether it finalizes.
struct Setup<'a> {
    index: u64,
    takeover: Option<Duration>,
    snapshots: Option<&'a Path>,
    finalize: bool,
}

/// A prover node task and its stop switch.
fn spawn_prover(
    l1_url: &str,
    l2_url: &str,
    dep: &Deployment,
    Setup { index, takeover, snapshots, finalize }: Setup<'_>,
    events: mpsc::UnboundedSender<(u64, Event)>,
) -> (tokio::task::JoinHandle<()>, watch::Sender<bool>) {
    let cfg = NodeConfig {
        l1_rpc: l1_url.into(),
        sequencer_rpc: l2_url.into(),
        deployment: dep.clone(),
        key: key(2 + index as usize),
        genesis: ctm_core::GenesisConfig::preset("computronium").unwrap(),
        share: Share::new(index, 2).unwrap(),
        poll: Duration::from_millis(200),
        metrics: None,
        takeover,
        snapshots: snapshots.map(|d| (d.to_path_buf(), 1)),
        finalize,
    };
    let node = ProverNode::new(cfg).unwrap().with_observer(move |e| {
        let _ = events.send((index, e.clone()));
    });
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(async move { node.run(stopped).await.unwrap() });
    (task, stop)
}

/// Who proved each batch, from the `BatchProven` logs (index → provers, in log order).
async fn proven_logs(l1: &DynProvider, dep: &Deployment) -> Vec<(u64, Address)> {
    let filter = Filter::new()
        .address(dep.rollup)
        .event_signature(IRollup::BatchProven::SIGNATURE_HASH)
        .from_block(dep.deploy_block);
    l1.get_logs(&filter)
        .await
        .unwrap()
        .iter()
        .map(|log| {
            let e = IRollup::BatchProven::decode_log_data(&log.inner.data).unwrap();
            (e.batchIndex.to::<u64>(), e.prover)
        })
        .collect()
}

async fn committed(l1: &DynProvider, dep: &Deployment) -> u64 {
    l1_call(l1, dep.rollup, IRollup::lastCommittedBatchCall {}).await
}

async fn prover_of(l1: &DynProvider, dep: &Deployment, i: u64) -> Address {
    l1_call(l1, dep.rollup, IRollup::batchCall { batchIndex: U256::from(i) }).await.prover
}

/// Whether L2 block `block` is in a batch committed on L1.
async fn covered(l1: &DynProvider, l2: &DynProvider, dep: &Deployment, block: u64) -> bool {
    let n = committed(l1, dep).await;
    if n == 0 {
        return false;
    }
    let b: serde_json::Value = l2.raw_request("ctm_getBatch".into(), (n,)).await.unwrap();
    b["toBlock"].as_u64().is_some_and(|to| to >= block)
}

/// Sends `n` transfers, each in its own batch (waits for the batch that commits it before
/// sending the next).
async fn transfers(l1: &DynProvider, l2: &DynProvider, dep: &Deployment, n: u64) {
    for k in 0..n {
        let to = Address::repeat_byte(0x40 + k as u8);
        let req = TransactionRequest::default().with_to(to).with_value(U256::from(1_000 + k));
        let r = l2.send_transaction(req).await.unwrap().get_receipt().await.unwrap();
        assert!(r.status());
        let block = r.block_number.unwrap();
        wait_until("the transfer's batch on L1", 60, || covered(l1, l2, dep, block)).await;
    }
}

/// Withdraws `amount` from L2 to the sender's L1 address in its own batch (waits for the batch
/// that commits it); returns the L2 block.
async fn withdraw(l1: &DynProvider, l2: &DynProvider, dep: &Deployment, amount: U256) -> u64 {
    let me = key(0).address();
    let req = TransactionRequest::default()
        .with_to(ctm_core::system::BRIDGE)
        .with_value(amount)
        .with_input(IL2Bridge::withdrawCall { l1Recipient: me }.abi_encode());
    let r = l2.send_transaction(req).await.unwrap().get_receipt().await.unwrap();
    assert!(r.status());
    let block = r.block_number.unwrap();
    wait_until("the withdrawal's batch on L1", 60, || covered(l1, l2, dep, block)).await;
    block
}

/// The events of the prover nodes: `(node index, event)` in arrival order.
struct Seen {
    rx: mpsc::UnboundedReceiver<(u64, Event)>,
    all: Vec<(u64, Event)>,
}

impl Seen {
    fn drain(&mut self) {
        while let Ok(e) = self.rx.try_recv() {
            self.all.push(e);
        }
    }

    async fn wait(&mut self, what: &str, secs: u64, done: impl Fn(&[(u64, Event)]) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            self.drain();
            if done(&self.all) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("timed out waiting for {what}: {:#?}", self.all);
    }
}

/// The batches node `node` reported proven (receipt seen), in order.
fn proven_by(all: &[(u64, Event)], node: u64) -> Vec<u64> {
    reported(all, node, |e| match e {
        Event::Proven { batch, .. } => Some(*batch),
        _ => None,
    })
}

/// The batches node `node` reported finalized (receipt seen), in order.
fn finalized_by(all: &[(u64, Event)], node: u64) -> Vec<u64> {
    reported(all, node, |e| match e {
        Event::Finalized { batch, .. } => Some(*batch),
        _ => None,
    })
}

/// The batches that `pick` finds in node `node`'s events, in order.
fn reported(all: &[(u64, Event)], node: u64, pick: fn(&Event) -> Option<u64>) -> Vec<u64> {
    all.iter().filter(|(n, _)| *n == node).filter_map(|(_, e)| pick(e)).collect()
}

async fn scrape(addr: std::net::SocketAddr, name: &str) -> f64 {
    let text = alloy::transports::http::reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| l.starts_with(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_prove_every_batch_once_and_a_restarted_node_resumes() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_test_writer()
        .try_init();
    let started = Instant::now();
    let metrics_addr: std::net::SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    metrics::install_exporter(metrics_addr).unwrap();
    let (anvil, l1_url, dep_path, dep) = l1().await;
    let deployed = started.elapsed();
    let l1 = wallet_provider(&l1_url, key(0));
    let datadir = std::env::temp_dir().join(format!("ctm-prover-node-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&datadir);
    let seq = sequencer(&l1_url, &dep_path, &datadir).await;
    let l2 = wallet_provider(&seq.http_url(), key(0));

    // Fund the L2 user with a deposit from L1 (an L1-settled chain starts empty): batch 1
    // consumes the queue entry.
    let me = key(0).address();
    let amount = U256::from(100u64) * U256::from(10u64).pow(U256::from(18));
    l1_send(&l1, dep.token, IERC20::approveCall { spender: dep.bridge, amount }).await;
    l1_send(&l1, dep.bridge, IBridge::depositCall { l2Recipient: me, amount }).await;
    wait_until("the deposit on L2", 60, || async { l2.get_balance(me).await.unwrap() == amount })
        .await;
    let head = l2.get_block_number().await.unwrap();
    wait_until("the deposit's batch on L1", 60, || covered(&l1, &l2, &dep, head)).await;

    let (tx, rx) = mpsc::unbounded_channel();
    let mut seen = Seen { rx, all: Vec::new() };
    // Node 0 keeps snapshots; neither node takes over at first.
    let snapdir = datadir.with_extension("snapshots");
    let _ = std::fs::remove_dir_all(&snapdir);
    let setup0 = Setup { index: 0, takeover: None, snapshots: Some(&snapdir), finalize: false };
    let setup1 = Setup { index: 1, takeover: None, snapshots: None, finalize: false };
    let (a, a_stop) = spawn_prover(&l1_url, &seq.http_url(), &dep, setup0, tx.clone());
    let (b, b_stop) = spawn_prover(&l1_url, &seq.http_url(), &dep, setup1, tx.clone());
    let (pa, pb) = (key(2).address(), key(3).address());

    // Phase 1: batch 2 (one transfer) is node 0's first proof; once its receipt is in, kill
    // node 0 (no graceful stop: the task is dropped where it is).
    transfers(&l1, &l2, &dep, 1).await;
    seen.wait("node 0's proof of batch 2", 120, |all| proven_by(all, 0).contains(&2)).await;
    a.abort();
    let _ = a.await;
    drop(a_stop);

    // Phase 2: five more batches while node 0 is down; node 1 proves only its own.
    transfers(&l1, &l2, &dep, 5).await;
    let last = committed(&l1, &dep).await;
    assert_eq!(last, 7, "the deposit and each transfer got their own batch");
    let odd: Vec<u64> = (1..=last).filter(|i| i % 2 == 1).collect();
    seen.wait("node 1's batches", 120, |all| proven_by(all, 1) == odd).await;
    let waiting: Vec<u64> = (3..=last).filter(|i| i % 2 == 0).collect();
    for &i in &waiting {
        assert_eq!(prover_of(&l1, &dep, i).await, Address::ZERO, "batch {i} waits for node 0");
    }

    // Restart node 0, now with a takeover delay and finalizing: it resumes from its snapshot and
    // proves the batches it owns (node 1 is alive and proves its own, so nothing is taken over).
    let delay = Duration::from_secs(4);
    let setup0 =
        Setup { index: 0, takeover: Some(delay), snapshots: Some(&snapdir), finalize: true };
    let (a2, a2_stop) = spawn_prover(&l1_url, &seq.http_url(), &dep, setup0, tx);
    let restarted = Instant::now();
    let mine: Vec<u64> = std::iter::once(2).chain(waiting.iter().copied()).collect();
    seen.wait("node 0's batches", 180, |all| proven_by(all, 0) == mine).await;
    let resumed = restarted.elapsed();

    // Phase 4: node 1 dies for good; of the next two batches (a transfer, then a withdrawal to
    // L1) node 0 proves its own (8) at once and node 1's (9) once the delay has passed.
    b.abort();
    let _ = b.await;
    drop(b_stop);
    transfers(&l1, &l2, &dep, 1).await;
    let w_amount = U256::from(10u64).pow(U256::from(18));
    withdraw(&l1, &l2, &dep, w_amount).await;
    let last = committed(&l1, &dep).await;
    assert_eq!(last, 9);
    let committed_at = Instant::now();
    seen.wait("node 0's own batch 8", 60, |all| proven_by(all, 0).contains(&8)).await;
    assert_eq!(prover_of(&l1, &dep, 9).await, Address::ZERO, "batch 9 waits for the delay");
    seen.wait("node 0's takeover of batch 9", 120, |all| proven_by(all, 0).contains(&9)).await;
    let taken_after = committed_at.elapsed();
    assert!(taken_after >= delay - Duration::from_millis(500), "taken over after {taken_after:?}");
    let all: Vec<u64> = (1..=last).collect();
    seen.wait("node 0's finalization of every batch", 60, |e| finalized_by(e, 0) == all).await;
    let _ = a2_stop.send(true);
    a2.await.unwrap();
    seen.drain();
    let takeovers: Vec<_> = seen
        .all
        .iter()
        .filter_map(|(n, e)| match e {
            Event::TakingOver { batch, owner } => Some((*n, *batch, *owner)),
            _ => None,
        })
        .collect();
    assert_eq!(takeovers, [(0, 9, 1)], "only node 1's stalled batch is taken over, by node 0");
    assert_eq!(proven_by(&seen.all, 0), [2, 4, 6, 8, 9]);
    assert_eq!(proven_by(&seen.all, 1), odd);
    let replays = seen.all.iter().filter(|(n, e)| *n == 0 && *e == Event::Replayed { batch: 1 });
    assert_eq!(replays.count(), 1, "node 0 replayed from genesis only when it first started");
    let restored: Vec<u64> = seen
        .all
        .iter()
        .filter_map(|(n, e)| match e {
            Event::Restored { batch } if *n == 0 => Some(*batch),
            _ => None,
        })
        .collect();
    assert!(
        matches!(restored[..], [b] if (2..=3).contains(&b)),
        "the restart resumed from the snapshot of batch 2 (or 3): {restored:?}"
    );

    // Exactly one accepted proof per batch, by its owner (batch 9: node 0's takeover); no other
    // prover transaction was sent.
    let logs = proven_logs(&l1, &dep).await;
    let mut indices: Vec<u64> = logs.iter().map(|(i, _)| *i).collect();
    indices.sort_unstable();
    assert_eq!(indices, (1..=last).collect::<Vec<_>>(), "one BatchProven per batch");
    for (i, by) in &logs {
        let expected = if i % 2 == 0 || *i == 9 { pa } else { pb };
        assert_eq!(*by, expected, "batch {i} proven by its owner or its takeover");
    }
    for (p, finalizations) in [(pa, last), (pb, 0)] {
        let sent = l1.get_transaction_count(p).await.unwrap();
        let proofs = logs.iter().filter(|(_, by)| *by == p).count() as u64;
        assert_eq!(
            sent,
            proofs + finalizations,
            "{p}: every transaction sent is an accepted proveBatch or finalizeBatch"
        );
    }
    let finalized: u64 = l1_call(&l1, dep.rollup, IRollup::lastFinalizedBatchCall {}).await;
    assert_eq!(finalized, last, "node 0 finalized every batch");

    // Batch 9's proof carried its withdrawal list (checked against the root by the verifier and
    // bound to the L2 debit by the AIR): the withdrawal is paid out on L1.
    let paid = claim_withdrawal(&l1, &l2, dep.bridge, dep.token, 9, 0, me, w_amount).await;
    assert_eq!(paid, w_amount, "the proven withdrawal is paid on L1");

    // Metrics: every accepted proof counted, a proving time recorded for each, no failures.
    let proven = scrape(metrics_addr, metrics::BATCHES_PROVEN).await;
    assert_eq!(proven, last as f64);
    let timed = scrape(metrics_addr, &format!("{}_count", metrics::PROVE_SECONDS)).await;
    assert_eq!(timed, last as f64, "prove_seconds count");
    assert_eq!(scrape(metrics_addr, metrics::FAILURES).await, 0.0);
    assert_eq!(scrape(metrics_addr, metrics::TAKEOVERS).await, 1.0);
    assert_eq!(scrape(metrics_addr, metrics::BATCHES_FINALIZED).await, last as f64);
    println!(
        "batches {last}; deploy {deployed:.1?}; restart → all proven {resumed:.1?}; takeover after \
         {taken_after:.1?}; total {:.1?}",
        started.elapsed()
    );

    seq.stop().await;
    drop(anvil);
    let _ = std::fs::remove_file(dep_path);
    let _ = std::fs::remove_dir_all(datadir);
    let _ = std::fs::remove_dir_all(snapdir);
}
