//! Disputes by re-execution, end to end: a provider trains a real job with the executor, signs
//! an attestation whose checkpoint chain fakes one segment, and a staked verifier proves the
//! fault by having the node re-train that segment; a dispute of an honest segment fails.

mod common;

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, B256, Bytes, FixedBytes, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::SignerSync;
use alloy_sol_types::SolCall;
use ctm_core::abi::{IL2Staking, IMarketplace as M};
use ctm_core::system::{MARKETPLACE, STAKING};
use ctm_gpu_executor::bench::workload;
use ctm_gpu_executor::commit::link;
use ctm_gpu_executor::{BackendKind, CheckpointStore, TrainOptions};

const CHAIN: u64 = 71117;

fn eth(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18))
}

async fn send(p: &DynProvider, to: Address, data: Vec<u8>, value: U256) -> bool {
    let req = TransactionRequest::default()
        .with_to(to)
        .with_input(data)
        .with_value(value)
        .with_gas_limit(5_000_000);
    p.send_transaction(req).await.unwrap().get_receipt().await.unwrap().status()
}

async fn reverts(p: &DynProvider, from: Address, data: Vec<u8>) -> String {
    let req = TransactionRequest::default()
        .from(from)
        .with_to(MARKETPLACE)
        .with_input(data)
        .with_gas_limit(5_000_000);
    p.call(req).await.expect_err("must revert").to_string()
}

#[tokio::test]
async fn a_faked_segment_is_slashed_by_re_execution() {
    // Train a small real job (iris MLP, 120 steps, a checkpoint every 20).
    let mut job = workload("iris").unwrap().job().unwrap();
    job.spec.steps = 120;
    job.spec.checkpoint_interval = 20;
    let dir = std::env::temp_dir().join(format!("ctm-dispute-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = CheckpointStore::open(&dir).unwrap();
    let out = job
        .train(
            "iris",
            Some(&store),
            TrainOptions { backend: BackendKind::Cpu, eval_each_epoch: false },
            &mut |_| {},
        )
        .unwrap();
    let m = &out.manifest;
    assert!(m.checkpoints.len() >= 4);

    let node = common::start_market(60).await;
    let url: alloy::transports::http::reqwest::Url = node.http_url().parse().unwrap();
    let wallet = |i: usize| {
        ProviderBuilder::new()
            .wallet(EthereumWallet::from(node.dev_signers[i].clone()))
            .connect_http(url.clone())
            .erased()
    };
    let (client, provider, verifier) = (wallet(0), wallet(1), wallet(2));
    let pkey = node.dev_signers[1].clone();
    let vaddr = node.dev_signers[2].address();

    let spec = M::ProviderSpec {
        gpuModel: FixedBytes::ZERO,
        gpuMemoryMb: 1,
        gpuCount: 1,
        pricePerGpuHour: U256::from(1_000),
        region: FixedBytes::ZERO,
    };
    assert!(
        send(&provider, MARKETPLACE, M::registerProviderCall { spec }.abi_encode(), eth(1000))
            .await
    );
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let model = m.checkpoints[0].weights.to_bytes32();
    let dataset = m.spec.dataset.to_bytes32();
    let jspec = M::JobSpec {
        model,
        dataset,
        requirements: M::JobRequirements {
            gpuModel: FixedBytes::ZERO,
            minGpuMemoryMb: 1,
            gpuCount: 1,
            gpuHours: 1,
        },
        maxPricePerGpuHour: U256::from(2_000),
        deadline: u64::MAX / 2,
        priority: 0,
    };
    assert!(send(&client, MARKETPLACE, M::postJobCall { spec: jspec }.abi_encode(), eth(1)).await);
    assert!(
        send(&provider, MARKETPLACE, M::acceptJobCall { jobId: 0 }.abi_encode(), U256::from(1_000))
            .await
    );

    // The provider fakes checkpoint 3 (segment 2 → 3) and re-links the rest of the chain.
    let mut chain: Vec<M::ChainCheckpoint> = m
        .checkpoints
        .iter()
        .map(|c| M::ChainCheckpoint { step: c.step, weights: c.weights.to_bytes32() })
        .collect();
    chain[3].weights = B256::from(ctm_core::hash::sponge(3, &[]).to_bytes32());
    let mut head = m.spec.digest();
    for c in &chain {
        head = link(&head, c.step, &ctm_core::Digest::from_bytes32(&c.weights).unwrap());
    }
    let mut att = ctm_gpu_executor::attest::attestation(0, pkey.address(), &out).unwrap();
    att.checkpoint_head = head.to_bytes32();
    let sig = pkey.sign_hash_sync(&att.signing_hash(CHAIN)).unwrap();
    let sol_att = M::TrainingAttestation::from(&att);
    let call = M::submitAttestationCall {
        attestation: sol_att.clone(),
        signature: Bytes::from(sig.as_bytes().to_vec()),
    };
    assert!(
        send(&provider, MARKETPLACE, call.abi_encode(), U256::ZERO).await,
        "a signed attestation is accepted"
    );

    let spec_json = Bytes::from(serde_json::to_vec(&m.spec).unwrap());
    let evidence = |segment: u32| M::disputeReexecutionCall {
        jobId: 0,
        attestation: sol_att.clone(),
        spec: spec_json.clone(),
        chain: chain.clone(),
        segment,
        weights: Bytes::from(
            store.load_checked(&m.checkpoints[segment as usize]).unwrap().to_bytes(),
        ),
    };
    let unstaked = reverts(&verifier, vaddr, evidence(2).abi_encode()).await;
    assert!(unstaked.contains("verifier stake"), "{unstaked}");
    assert!(send(&verifier, STAKING, IL2Staking::stakeCall { role: 3 }.abi_encode(), eth(1)).await);
    let honest = reverts(&verifier, vaddr, evidence(1).abi_encode()).await;
    assert!(honest.contains("no fault"), "{honest}");
    let mut wrong_weights = evidence(2);
    wrong_weights.weights = Bytes::from(store.load_checked(&m.checkpoints[1]).unwrap().to_bytes());
    let mismatch = reverts(&verifier, vaddr, wrong_weights.abi_encode()).await;
    assert!(mismatch.contains("do not match"), "{mismatch}");
    assert!(
        send(&verifier, MARKETPLACE, evidence(2).abi_encode(), U256::ZERO).await,
        "the faked segment is proven"
    );
    let out = client
        .call(
            TransactionRequest::default()
                .with_to(MARKETPLACE)
                .with_input(M::getJobCall { jobId: 0 }.abi_encode()),
        )
        .await
        .unwrap();
    assert_eq!(M::getJobCall::abi_decode_returns(&out).unwrap().status, 5, "refunded");
    let p = client
        .call(
            TransactionRequest::default()
                .with_to(MARKETPLACE)
                .with_input(M::getProviderCall { provider: pkey.address() }.abi_encode()),
        )
        .await
        .unwrap();
    assert_eq!(M::getProviderCall::abi_decode_returns(&p).unwrap().disputed, 1);
    node.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}
