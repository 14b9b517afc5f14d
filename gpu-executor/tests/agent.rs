//! The provider agent against an in-process dev sequencer with a 1-second challenge window:
//! a client posts a job for a known recipe, the agent registers, accepts, trains, claims the
//! streamed payments, attests and settles; a job with an unknown dataset is left alone; an
//! agent stopped mid-training resumes from its checkpoints without accepting again.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, B256, FixedBytes, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{Filter, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent};
use ctm_core::abi::IMarketplace as M;
use ctm_core::system::MARKETPLACE;
use ctm_gpu_executor::agent::{
    Agent, AgentConfig, AgentEvent, GpuSpec, Phase, Retry, STREAM_PARTS, collateral,
};
use ctm_gpu_executor::recipe::{self, Recipe};
use ctm_gpu_executor::{CheckpointStore, Dataset, Job, verify};
use ctm_sequencer::config::{Cli, SequencerConfig};
use ctm_sequencer::service::{self, Running};

const FEE_BPS: u64 = 250;

fn eth(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18u64))
}

/// A dev node whose challenge window (and unbonding, channel windows) is `window` seconds.
async fn start_market(window: u64) -> Running {
    let mut text = ctm_core::config::PRESETS[0].1.to_string();
    for key in ["challenge_window_secs", "provider_unbonding_secs", "channel_challenge_secs"] {
        let start = text.find(&format!("{key} = ")).expect("preset key");
        let end = start + text[start..].find('\n').expect("line end");
        text.replace_range(start..end, &format!("{key} = {window}"));
    }
    let dir = tempdir("preset");
    let path = dir.join("preset.toml");
    std::fs::write(&path, text).unwrap();
    let cli = Cli {
        dev: true,
        port: Some(0),
        block_time_ms: Some(20),
        preset: Some(path.to_string_lossy().into_owned()),
        ..Default::default()
    };
    service::start(SequencerConfig::resolve(cli).expect("config")).await.expect("node starts")
}

fn tempdir(name: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "ctm-agent-test-{}-{name}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn wallet(node: &Running, signer: &PrivateKeySigner) -> DynProvider {
    ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer.clone()))
        .connect_http(node.http_url().parse().unwrap())
        .erased()
}

fn config(node: &Running, key: &PrivateKeySigner, workdir: &std::path::Path) -> AgentConfig {
    AgentConfig {
        rpc: node.http_url(),
        key: key.clone(),
        stake: eth(1000),
        gpu: GpuSpec {
            model: "H100".into(),
            memory_mb: 80_000,
            count: 1,
            price_per_gpu_hour: eth(2),
            region: "test".into(),
        },
        workdir: workdir.to_path_buf(),
        poll: Duration::from_millis(200),
        backend: ctm_gpu_executor::BackendKind::Auto,
        retry: Retry { attempts: 4, backoff: Duration::from_millis(100), ..Retry::default() },
        from_block: 0,
        halt_after_checkpoints: None,
    }
}

/// Collects the agent's events.
fn record(agent: &mut Agent) -> Arc<Mutex<Vec<AgentEvent>>> {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    agent.on_event(move |e| {
        println!("{e}");
        sink.lock().unwrap().push(e.clone());
    });
    events
}

fn iris() -> Recipe {
    recipe::recipes(Some("iris")).unwrap().remove(0)
}

/// Posts a job for `(dataset, model)` (price 2/GPU-hour x 10 h = 20) and returns its id and
/// the provider it was matched to.
async fn post(client: &DynProvider, dataset: B256, model: B256) -> (u64, Address, U256) {
    let now =
        client.get_block_by_number(Default::default()).await.unwrap().unwrap().header.timestamp;
    let spec = M::JobSpec {
        model,
        dataset,
        requirements: M::JobRequirements {
            gpuModel: FixedBytes::ZERO,
            minGpuMemoryMb: 16_000,
            gpuCount: 1,
            gpuHours: 10,
        },
        maxPricePerGpuHour: eth(3),
        deadline: now + 3600,
        priority: 1,
    };
    let tx = TransactionRequest::default()
        .with_to(MARKETPLACE)
        .with_input(M::postJobCall { spec }.abi_encode())
        .with_value(eth(100));
    let r = client.send_transaction(tx).await.unwrap().get_receipt().await.unwrap();
    assert!(r.status(), "postJob");
    let a = r
        .inner
        .logs()
        .iter()
        .find_map(|l| l.log_decode::<M::JobAssigned>().ok())
        .expect("matched at once");
    (a.inner.jobId, a.inner.provider, a.inner.price)
}

async fn job(p: &DynProvider, id: u64) -> M::JobInfo {
    let tx = TransactionRequest::default()
        .with_to(MARKETPLACE)
        .with_input(M::getJobCall { jobId: id }.abi_encode());
    M::getJobCall::abi_decode_returns(&p.call(tx).await.unwrap()).unwrap()
}

/// Logs of event `E` for job `id` (topic 1).
async fn count_logs<E: SolEvent>(p: &DynProvider, id: u64) -> usize {
    let f = Filter::new()
        .address(MARKETPLACE)
        .event_signature(E::SIGNATURE_HASH)
        .topic1(U256::from(id))
        .from_block(0);
    p.get_logs(&f).await.unwrap().len()
}

/// The provider's payout for a settled job net of what it locked and got back: price − fee.
fn net_payout(price: U256) -> U256 {
    price - price * U256::from(FEE_BPS) / U256::from(10_000u64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_runs_a_job_from_assignment_to_settlement() {
    let node = start_market(1).await;
    let key = node.dev_signers[1].clone();
    let client = wallet(&node, &node.dev_signers[0]);
    let workdir = tempdir("settle");
    let mut agent = Agent::new(config(&node, &key, &workdir)).await.unwrap();
    let events = record(&mut agent);
    agent.register().await.unwrap();
    assert!(matches!(events.lock().unwrap()[0], AgentEvent::Registered { .. }));
    tokio::time::sleep(Duration::from_millis(100)).await;

    let r = iris();
    let (id, provider, price) = post(&client, r.dataset_bytes32(), r.model_bytes32()).await;
    assert_eq!((provider, price), (key.address(), eth(20)));
    let before = client.get_balance(key.address()).await.unwrap();
    let report = agent.run_once().await.unwrap();
    let after = client.get_balance(key.address()).await.unwrap();

    assert_eq!(report.settled, vec![id]);
    let info = job(&client, id).await;
    assert_eq!(info.status, 4, "settled");
    assert_eq!(info.collateral, collateral(price));
    assert_eq!(info.streamed, net_payout(price) / U256::from(2u64), "all ten parts streamed");
    assert_eq!(count_logs::<M::CheckpointPaid>(&client, id).await, STREAM_PARTS as usize);
    // Collateral out and back nets to zero; streamed parts + settlement = price − fee.
    assert_eq!(after + report.gas_paid - before, net_payout(price));

    // The chain stores exactly the agent's signed attestation, which verifies and matches the
    // job and the checkpoints on disk.
    let signed = agent.attestation(id).unwrap().expect("attestation stored");
    assert_eq!(info.attestation, signed.attestation.commitment());
    signed.verify().unwrap();
    assert_eq!(signed.chain_id, agent.chain().chain_id);
    assert_eq!(signed.attestation.provider, key.address());
    assert_eq!(signed.attestation.dataset, info.spec.dataset);
    assert_eq!(signed.attestation.initial_weights, info.spec.model);
    let store = CheckpointStore::existing(workdir.join("jobs").join(id.to_string())).unwrap();
    let vjob = Job::new(r.spec.clone(), &Dataset::load("iris").unwrap()).unwrap();
    verify::verify_run(&signed, &vjob, &store, 3, 7).unwrap();
    assert_eq!(agent.state().jobs[&id].phase, Phase::Settled);

    // A second pass has nothing to do and spends nothing.
    let again = agent.run_once().await.unwrap();
    assert!(again.settled.is_empty() && again.gas_paid.is_zero());
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_it_cannot_run_are_left_alone() {
    let node = start_market(1).await;
    let key = node.dev_signers[2].clone();
    let client = wallet(&node, &node.dev_signers[0]);
    let workdir = tempdir("skip");
    let mut agent = Agent::new(config(&node, &key, &workdir)).await.unwrap();
    let events = record(&mut agent);
    agent.register().await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let r = iris();
    let (unknown_data, _, _) = post(&client, B256::repeat_byte(0xbb), r.model_bytes32()).await;
    let (unknown_model, _, _) = post(&client, r.dataset_bytes32(), B256::repeat_byte(0xaa)).await;
    let before = client.get_balance(key.address()).await.unwrap();
    let report = agent.run_once().await.unwrap();
    let skipped: Vec<u64> = report.skipped.iter().map(|(id, _)| *id).collect();
    assert_eq!(skipped, vec![unknown_data, unknown_model]);
    assert!(report.skipped[0].1.contains("dataset"), "{}", report.skipped[0].1);
    assert!(report.skipped[1].1.contains("model"), "{}", report.skipped[1].1);
    for id in [unknown_data, unknown_model] {
        assert_eq!(job(&client, id).await.status, 1, "still assigned, not accepted");
        assert_eq!(agent.state().jobs[&id].phase, Phase::Skipped);
    }
    assert_eq!(client.get_balance(key.address()).await.unwrap(), before, "no transaction sent");
    let skips = |ev: &Vec<AgentEvent>| {
        ev.iter().filter(|e| matches!(e, AgentEvent::Skipped { .. })).count()
    };
    assert_eq!(skips(&events.lock().unwrap()), 2);

    // A restarted agent remembers the decision and does not log it again.
    drop(agent);
    let mut agent = Agent::new(config(&node, &key, &workdir)).await.unwrap();
    let events = record(&mut agent);
    let report = agent.run_once().await.unwrap();
    assert!(report.skipped.is_empty());
    assert_eq!(skips(&events.lock().unwrap()), 0);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_agent_resumes_without_accepting_twice() {
    let node = start_market(1).await;
    let key = node.dev_signers[3].clone();
    let client = wallet(&node, &node.dev_signers[0]);
    let workdir = tempdir("restart");
    let mut cfg = config(&node, &key, &workdir);
    cfg.halt_after_checkpoints = Some(7);
    let mut agent = Agent::new(cfg).await.unwrap();
    record(&mut agent);
    agent.register().await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let r = iris();
    let (id, _, price) = post(&client, r.dataset_bytes32(), r.model_bytes32()).await;
    let before = client.get_balance(key.address()).await.unwrap();
    let first = agent.run_once().await.unwrap();
    assert!(first.stopped && first.settled.is_empty());
    assert_eq!(job(&client, id).await.status, 2, "accepted, running");
    assert_eq!(agent.state().jobs[&id].phase, Phase::Accepted);
    // 7 checkpoints of 30 stored: parts 1 (checkpoint 3) and 2 (checkpoint 6) are paid.
    assert_eq!(agent.state().jobs[&id].claimed, 2);
    drop(agent);

    let mut agent = Agent::new(config(&node, &key, &workdir)).await.unwrap();
    let events = record(&mut agent);
    let second = agent.run_once().await.unwrap();
    assert_eq!(second.settled, vec![id]);
    let resumed_at = events.lock().unwrap().iter().find_map(|e| match e {
        AgentEvent::Training { step, .. } => Some(*step),
        _ => None,
    });
    assert_eq!(resumed_at, Some(7 * r.hyper.checkpoint_interval), "resumed from checkpoint 7");
    assert_eq!(count_logs::<M::JobAccepted>(&client, id).await, 1, "accepted once");
    assert_eq!(count_logs::<M::AttestationSubmitted>(&client, id).await, 1, "attested once");
    assert_eq!(count_logs::<M::CheckpointPaid>(&client, id).await, STREAM_PARTS as usize);
    let after = client.get_balance(key.address()).await.unwrap();
    assert_eq!(after + first.gas_paid + second.gas_paid - before, net_payout(price));
    // The resumed run attests to the same chain as an uninterrupted one.
    let signed = agent.attestation(id).unwrap().unwrap();
    let outcome = r.job().unwrap().train("iris", None, Default::default(), &mut |_| {}).unwrap();
    assert_eq!(signed.attestation.checkpoint_head, outcome.manifest.head().unwrap().to_bytes32());
    assert_eq!(job(&client, id).await.attestation, signed.attestation.commitment());
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_runs_once_and_prints_recipes() {
    let exe = env!("CARGO_BIN_EXE_ctm-executor");
    let out = std::process::Command::new(exe)
        .args(["recipe", "--dataset", "iris", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = iris();
    assert_eq!(list[0]["dataset"], serde_json::json!(r.dataset_bytes32()));
    assert_eq!(list[0]["model"], serde_json::json!(r.model_bytes32()));

    let node = start_market(1).await;
    let key = node.dev_signers[4].clone();
    let client = wallet(&node, &node.dev_signers[0]);
    // Register through the library so that the job is matched at once, then let the binary
    // (fresh work directory, same key) take it to settlement.
    let mut agent = Agent::new(config(&node, &key, &tempdir("cli-reg"))).await.unwrap();
    agent.register().await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (id, _, _) = post(&client, r.dataset_bytes32(), r.model_bytes32()).await;
    let workdir = tempdir("cli");
    let args = vec![
        "agent".to_string(),
        "--once".into(),
        "--rpc".into(),
        node.http_url(),
        "--workdir".into(),
        workdir.to_string_lossy().into_owned(),
        "--gpu-model".into(),
        "H100".into(),
        "--gpu-memory-mb".into(),
        "80000".into(),
        "--price-per-gpu-hour".into(),
        "2".into(),
        "--region".into(),
        "test".into(),
        "--poll-ms".into(),
        "200".into(),
    ];
    let key_hex = hex::encode(key.to_bytes());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(exe)
            .args(&args)
            .env("CTM_PROVIDER_KEY", key_hex)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains(&format!("job {id}: settled")), "{text}");
    assert!(text.contains("payment 10/10 claimed"), "{text}");
    assert!(text.contains("done: 1 settled, 0 skipped"), "{text}");
    assert_eq!(job(&client, id).await.status, 4);
    node.stop().await;
}
