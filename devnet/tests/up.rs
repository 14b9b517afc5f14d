//! `ctm-devnet up` as a user runs it: the binary starts anvil, deploys the contracts, starts the
//! sequencer and the prover node as processes. Then a deposit from L1 arrives on L2, an L2
//! withdrawal is committed, proven and finalized by the devnet's own prover node (nobody else
//! calls `finalizeBatch`), and is claimed on L1. SIGINT stops every process.
//!
//! Needs the release binaries (`cargo nextest run --release` builds them) and `npm ci`.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionRequest;
use alloy_sol_types::SolCall;
use ctm_core::l1::{IBridge, IERC20, IRollup};
use ctm_sequencer::l1::Deployment;
use ctm_sequencer::system::IL2Bridge;
use ctm_testkit::{
    claim_withdrawal, free_port, key, l1_call, l1_send, repo, wait_until, wallet_provider,
};

/// The devnet process; interrupted (then killed) when dropped, so a failing test stops it too.
struct Up(Child);

impl Drop for Up {
    fn drop(&mut self) {
        interrupt(&self.0);
        let _ = self.0.wait();
    }
}

fn interrupt(child: &Child) {
    let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
}

/// Which committed batch holds L2 block `block` (0: none yet).
async fn batch_of(l1: &DynProvider, l2: &DynProvider, dep: &Deployment, block: u64) -> u64 {
    let n: u64 = l1_call(l1, dep.rollup, IRollup::lastCommittedBatchCall {}).await;
    for i in 1..=n {
        let b: serde_json::Value = l2.raw_request("ctm_getBatch".into(), (i,)).await.unwrap();
        if b["toBlock"].as_u64().is_some_and(|to| to >= block) {
            return i;
        }
    }
    0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_deposits_withdraws_proves_finalizes_and_claims() {
    let (l1_port, l2_port) = (free_port(), free_port());
    let datadir = std::env::temp_dir().join(format!("ctm-devnet-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&datadir);
    let child = Command::new(env!("CARGO_BIN_EXE_ctm-devnet"))
        .current_dir(repo())
        .args(["up", "--l1-port", &l1_port.to_string(), "--l2-port", &l2_port.to_string()])
        .args(["--block-time-ms", "100", "--batch-interval-ms", "500", "--datadir"])
        .arg(&datadir)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut up = Up(child);
    let (l1_url, l2_url) =
        (format!("http://127.0.0.1:{l1_port}"), format!("http://127.0.0.1:{l2_port}"));
    let l2 = wallet_provider(&l2_url, key(0));
    let deadline = std::time::Instant::now() + Duration::from_secs(240);
    while l2.get_chain_id().await.is_err() {
        if let Ok(Some(status)) = up.0.try_wait() {
            panic!("ctm-devnet up exited: {status}; logs in {}", datadir.display());
        }
        assert!(std::time::Instant::now() < deadline, "the devnet's L2 RPC never answered");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let dep_path = repo().join(format!("l1-contracts/deployments/devnet-{l1_port}.json"));
    let dep = Deployment::load(&dep_path).unwrap();
    let l1 = wallet_provider(&l1_url, key(0));

    // Deposit 5 CTM from L1.
    let me = key(0).address();
    let e18 = U256::from(10u64).pow(U256::from(18));
    let amount = U256::from(5u64) * e18;
    l1_send(&l1, dep.token, IERC20::approveCall { spender: dep.bridge, amount }).await;
    l1_send(&l1, dep.bridge, IBridge::depositCall { l2Recipient: me, amount }).await;
    wait_until("the deposit on L2", 60, || async { l2.get_balance(me).await.unwrap() == amount })
        .await;

    // Withdraw 1 CTM to L1.
    let w = e18;
    let req = TransactionRequest::default()
        .with_to(ctm_core::system::BRIDGE)
        .with_value(w)
        .with_input(IL2Bridge::withdrawCall { l1Recipient: me }.abi_encode());
    let r = l2.send_transaction(req).await.unwrap().get_receipt().await.unwrap();
    assert!(r.status());
    let block = r.block_number.unwrap();

    // The devnet's prover proves and finalizes the batch that holds it.
    wait_until("the withdrawal's batch on L1", 60, || async {
        batch_of(&l1, &l2, &dep, block).await > 0
    })
    .await;
    let batch = batch_of(&l1, &l2, &dep, block).await;
    wait_until("the devnet prover's proof and finalization", 180, || async {
        let f: u64 = l1_call(&l1, dep.rollup, IRollup::lastFinalizedBatchCall {}).await;
        f >= batch
    })
    .await;

    // Claim it on L1.
    let paid = claim_withdrawal(&l1, &l2, dep.bridge, dep.token, batch, 0, me, w).await;
    assert_eq!(paid, w, "the withdrawal is paid on L1");
    let prover = key(2).address();
    let proven_by: Address =
        l1_call(&l1, dep.rollup, IRollup::batchCall { batchIndex: U256::from(batch) }).await.prover;
    assert_eq!(proven_by, prover, "the devnet's prover proved it");

    // SIGINT stops the devnet and its services.
    interrupt(&up.0);
    let status = tokio::task::spawn_blocking(move || up.0.wait()).await.unwrap().unwrap();
    assert!(status.success(), "ctm-devnet up exits cleanly on SIGINT: {status}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        std::net::TcpListener::bind(("127.0.0.1", l2_port)).is_ok()
            && std::net::TcpListener::bind(("127.0.0.1", l1_port)).is_ok(),
        "the sequencer and anvil stopped with it"
    );
    assert!(!dep_path.exists(), "the deployment file of the stopped L1 is removed");
    let _ = std::fs::remove_dir_all(datadir);
}
