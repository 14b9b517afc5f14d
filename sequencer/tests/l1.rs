//! The L1 link against a real anvil with the real contracts (deployed by the forge script):
//! an L1 deposit is credited on L2, L2 blocks are sealed into batches and committed to the
//! Rollup with matching roots, the `safe` tag follows, and an L2 withdrawal's proof verifies
//! against the root the Rollup stored.

mod common;

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy_sol_types::SolCall;
use ctm_core::l1::{IBridge, IERC20, IRollup, Withdrawal, verify_withdrawal};
use ctm_sequencer::config::{Cli, SequencerConfig};
use ctm_sequencer::service;
use ctm_sequencer::system::IL2Bridge;
use ctm_testkit::{KEYS, key, l1_call, l1_send, wait_until, wallet_provider};
use serde_json::json;

/// Deploys the contracts for the computronium preset on the anvil at `l1_url` (the sequencer is
/// anvil account 1, the genesis root the empty state tree's: an L1-settled chain starts empty)
/// and starts a linked sequencer with 50 ms blocks and the given batch interval.
async fn start_linked(
    l1_url: &str,
    name: &str,
    batch_interval_ms: u64,
) -> (service::Running, ctm_sequencer::l1::Deployment, std::path::PathBuf, std::path::PathBuf) {
    let genesis = ctm_core::tree::empty_digests(32)[32].to_bytes32();
    let json_path = ctm_testkit::deploy(l1_url, key(1).address(), genesis, name);
    let dep = ctm_sequencer::l1::Deployment::load(&json_path).unwrap();
    assert_eq!(dep.l2_chain_id, 71117);
    let datadir = std::env::temp_dir().join(format!("ctm-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&datadir);
    let cli = Cli {
        port: Some(0),
        block_time_ms: Some(50),
        datadir: Some(datadir.clone()),
        l1_rpc: Some(l1_url.to_string()),
        deployment: Some(json_path.clone()),
        sequencer_key: Some(KEYS[1].into()),
        l1_confirmations: Some(0),
        batch_interval_ms: Some(batch_interval_ms),
        l1_poll_ms: Some(100),
        ..Default::default()
    };
    let node = service::start(SequencerConfig::resolve(cli).unwrap()).await.unwrap();
    (node, dep, json_path, datadir)
}

#[tokio::test]
async fn deposits_batches_and_withdrawal_proofs_against_anvil() {
    let anvil = ctm_testkit::anvil().await;
    let l1_url = anvil.url.clone();
    let k0 = key(0);
    let l1 = wallet_provider(&l1_url, k0.clone());
    let (node, dep, json_path, datadir) = start_linked(&l1_url, "l1", 300).await;
    let l2 = ProviderBuilder::new()
        .wallet(EthereumWallet::from(k0.clone()))
        .connect_http(node.http_url().parse().unwrap())
        .erased();
    let me = k0.address();
    assert_eq!(l2.get_balance(me).await.unwrap(), U256::ZERO, "an L1-settled chain starts empty");

    // Deposit 50 tokens from L1.
    let amount = U256::from(50u64) * U256::from(10u64).pow(U256::from(18));
    l1_send(&l1, dep.token, IERC20::approveCall { spender: dep.bridge, amount }).await;
    l1_send(&l1, dep.bridge, IBridge::depositCall { l2Recipient: me, amount }).await;
    wait_until("the deposit on L2", 30, || async { l2.get_balance(me).await.unwrap() == amount })
        .await;

    // Transfer and withdraw on L2.
    let to = Address::repeat_byte(0x42);
    let r = l2
        .send_transaction(TransactionRequest::default().with_to(to).with_value(U256::from(1_000)))
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(r.status());
    let w_amount = U256::from(10u64).pow(U256::from(18));
    let wreq = TransactionRequest::default()
        .with_to(ctm_core::system::BRIDGE)
        .with_value(w_amount)
        .with_input(IL2Bridge::withdrawCall { l1Recipient: me }.abi_encode());
    let wr = l2.send_transaction(wreq).await.unwrap().get_receipt().await.unwrap();
    assert!(wr.status());
    let w_block = wr.block_number.unwrap();

    // The batcher commits batches up to that block; roots match what L1 stored.
    let rpc = |m: &'static str, p: serde_json::Value| {
        let url = node.http_url();
        async move { common::rpc(&url, m, p).await["result"].clone() }
    };
    wait_until("a batch covering the withdrawal", 60, || async {
        let n: u64 = l1_call(&l1, dep.rollup, IRollup::lastCommittedBatchCall {}).await;
        let b = rpc("ctm_getBatch", json!([n])).await;
        n > 0 && b["toBlock"].as_u64().unwrap_or(0) >= w_block
    })
    .await;
    let committed: u64 = l1_call(&l1, dep.rollup, IRollup::lastCommittedBatchCall {}).await;
    let mut found = None;
    for i in 1..=committed {
        let ours = rpc("ctm_getBatch", json!([i])).await;
        let theirs =
            l1_call(&l1, dep.rollup, IRollup::batchCall { batchIndex: U256::from(i) }).await;
        assert_eq!(
            ours["newStateRoot"].as_str().unwrap().parse::<B256>().unwrap(),
            theirs.newStateRoot,
            "batch {i} root"
        );
        let block = l2
            .get_block_by_number(ours["toBlock"].as_u64().unwrap().into())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            block.header.state_root, theirs.newStateRoot,
            "batch {i} ends at that block's state root"
        );
        if !ours["withdrawals"].as_array().unwrap().is_empty() {
            found = Some((i, theirs.withdrawalRoot));
        }
    }
    let (batch, root) = found.expect("a batch carries the withdrawal");
    let proof = rpc("ctm_getWithdrawalProof", json!([batch, 0])).await;
    let siblings: Vec<B256> = serde_json::from_value(proof["proof"].clone()).unwrap();
    let w = Withdrawal { recipient: me, amount: w_amount };
    assert!(verify_withdrawal(root, 0, &w, &siblings), "proof verifies against the root on L1");
    // The safe tag follows committed batches.
    let safe = l2.get_block_by_number(alloy::eips::BlockNumberOrTag::Safe).await.unwrap().unwrap();
    assert!(safe.header.number >= w_block);
    node.stop().await;
    drop(anvil);
    let _ = std::fs::remove_file(json_path);
    let _ = std::fs::remove_dir_all(datadir);
}

/// More queue entries than one batch may consume (16) are committed in one batcher step, as
/// several batches: with a 10 s batch interval, 20 deposits credited on L2 before the first
/// step after start are all on L1 well before the step after it.
#[tokio::test]
async fn a_queue_backlog_is_committed_in_one_batcher_step() {
    let anvil = ctm_testkit::anvil().await;
    let l1_url = anvil.url.clone();
    let l1 = wallet_provider(&l1_url, key(0));
    let (node, dep, json_path, datadir) = start_linked(&l1_url, "l1-backlog", 10_000).await;
    let started = std::time::Instant::now();
    let l2 = ProviderBuilder::new().connect_http(node.http_url().parse().unwrap()).erased();
    let one = U256::from(10u64).pow(U256::from(18));
    let n = 20u8;
    let total = one * U256::from(n);
    l1_send(&l1, dep.token, IERC20::approveCall { spender: dep.bridge, amount: total }).await;
    let to = |i: u8| Address::repeat_byte(0x50 + i);
    for i in 0..n {
        l1_send(&l1, dep.bridge, IBridge::depositCall { l2Recipient: to(i), amount: one }).await;
    }
    // Entries are applied in queue order, so the last one credited means all are.
    wait_until("all deposits on L2", 30, || async {
        l2.get_balance(to(n - 1)).await.unwrap() == one
    })
    .await;
    let credited = started.elapsed();
    assert!(credited.as_secs() < 8, "setup too slow for the timing below: {credited:?}");
    let rpc = |m: &'static str, p: serde_json::Value| {
        let url = node.http_url();
        async move { common::rpc(&url, m, p).await["result"].clone() }
    };
    let committed_entries = || async {
        let last: u64 = l1_call(&l1, dep.rollup, IRollup::lastCommittedBatchCall {}).await;
        let mut sum = 0;
        for i in 1..=last {
            sum += rpc("ctm_getBatch", json!([i])).await["queueCount"].as_u64().unwrap_or(0);
        }
        (last, sum)
    };
    wait_until("every queue entry committed", 40, || async {
        committed_entries().await.1 == u64::from(n)
    })
    .await;
    let done = started.elapsed();
    // The first step ran at start (nothing to commit), the next at ~10 s: it must commit all
    // the batches; the step after it would be at ~20 s.
    assert!(done.as_secs() < 16, "the backlog took more than one batcher step: {done:?}");
    let (last, _) = committed_entries().await;
    assert!(last >= 2, "20 entries need at least two batches");
    let mut next = 0;
    for i in 1..=last {
        let b = rpc("ctm_getBatch", json!([i])).await;
        let (start, count) = (b["queueStart"].as_u64().unwrap(), b["queueCount"].as_u64().unwrap());
        assert_eq!(start, next, "batch {i} continues the queue");
        assert!(count <= ctm_core::l1::MAX_QUEUE_ENTRIES_PER_BATCH as u64, "batch {i}: {count}");
        next += count;
    }
    node.stop().await;
    drop(anvil);
    let _ = std::fs::remove_file(json_path);
    let _ = std::fs::remove_dir_all(datadir);
}
