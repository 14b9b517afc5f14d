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

#[tokio::test]
async fn deposits_batches_and_withdrawal_proofs_against_anvil() {
    let anvil = ctm_testkit::anvil().await;
    let l1_url = anvil.url.clone();
    let (k0, k1) = (key(0), key(1));
    let l1 = wallet_provider(&l1_url, k0.clone());

    // Deploy the contracts for the computronium preset; the sequencer is anvil account 1 and the
    // genesis root is the empty state tree's (an L1-settled chain starts empty).
    let genesis = ctm_core::tree::empty_digests(32)[32].to_bytes32();
    let json_path = ctm_testkit::deploy(&l1_url, k1.address(), genesis, "l1");
    let dep = ctm_sequencer::l1::Deployment::load(&json_path).unwrap();
    assert_eq!(dep.l2_chain_id, 71117);

    let datadir = std::env::temp_dir().join(format!("ctm-l1-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&datadir);
    let cli = Cli {
        port: Some(0),
        block_time_ms: Some(50),
        datadir: Some(datadir.clone()),
        l1_rpc: Some(l1_url.clone()),
        deployment: Some(json_path.clone()),
        sequencer_key: Some(KEYS[1].into()),
        l1_confirmations: Some(0),
        batch_interval_ms: Some(300),
        l1_poll_ms: Some(100),
        ..Default::default()
    };
    let node = service::start(SequencerConfig::resolve(cli).unwrap()).await.unwrap();
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
