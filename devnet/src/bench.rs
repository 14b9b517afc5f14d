//! The load generator: sustained included tx/s and time-to-receipt, sequencer vs anvil.
//!
//! Method (identical for every target): fund `senders` fresh accounts from the ten dev accounts
//! of the test mnemonic, pre-sign `txs` EIP-1559 transfers round-robin over the senders, then
//! (1) *throughput*: send them all as fast as `workers` concurrent connections can, each posting
//! JSON-RPC batches of `batch` raw transactions; (2) *latency*: send `latency_txs` more at a fixed
//! `rate`. A watcher polls the head every 2 ms and stamps each transaction when the block holding
//! it is first seen, which is when a polling client would get its receipt. Throughput = included
//! transactions / (last inclusion − first send).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::consensus::{SignableTransaction, TxEip1559};
use alloy::eips::eip2718::Encodable2718;
use alloy::network::TxSignerSync;
use alloy::primitives::{Address, B256, Bytes, TxKind, U256};
use alloy::signers::local::{MnemonicBuilder, PrivateKeySigner, coins_bip39::English};
use alloy::transports::http::reqwest::Client;
use serde_json::{Value, json};
use tokio::sync::Mutex;

/// The test mnemonic (funded on both the dev sequencer and anvil).
pub const MNEMONIC: &str = "test test test test test test test test test test test junk";

/// Load parameters.
#[derive(Clone, Debug)]
pub struct LoadConfig {
    /// Transfers in the throughput phase.
    pub txs: usize,
    /// Distinct senders.
    pub senders: usize,
    /// Concurrent connections.
    pub workers: usize,
    /// Transactions per JSON-RPC batch.
    pub batch: usize,
    /// Transactions in the fixed-rate latency phase (0 skips it).
    pub latency_txs: usize,
    /// Rate of the latency phase (tx/s).
    pub rate: u64,
    /// Give up waiting for inclusion after this long.
    pub timeout: Duration,
}

/// What one phase measured.
#[derive(Clone, Debug, Default)]
pub struct PhaseReport {
    /// Transactions sent and accepted.
    pub sent: usize,
    /// Transactions seen in a block.
    pub included: usize,
    /// Rejected by the node at submission.
    pub rejected: usize,
    /// First send → last inclusion.
    pub elapsed: Duration,
    /// Included per second over `elapsed`.
    pub tps: f64,
    /// Time to receipt, median.
    pub p50: Duration,
    /// Time to receipt, 99th percentile.
    pub p99: Duration,
    /// First rejection message, if any.
    pub first_error: Option<String>,
}

/// Errors of the load generator.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// JSON-RPC failed.
    #[error("rpc: {0}")]
    Rpc(String),
    /// Key derivation failed.
    #[error("keys: {0}")]
    Keys(String),
}

type Result<T> = std::result::Result<T, BenchError>;

/// A JSON-RPC client for one target.
#[derive(Clone, Debug)]
pub struct Target {
    url: String,
    http: Client,
}

impl Target {
    /// A client of `url`.
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_string(),
            http: Client::builder().pool_max_idle_per_host(64).build().unwrap_or_default(),
        }
    }

    async fn call(&self, method: &str, params: Value) -> Result<Value> {
        let body = json!({"jsonrpc":"2.0","id":1,"method":method,"params":params});
        let v: Value = self.post(&body).await?;
        if let Some(e) = v.get("error") {
            return Err(BenchError::Rpc(format!("{method}: {e}")));
        }
        Ok(v["result"].clone())
    }

    async fn post(&self, body: &Value) -> Result<Value> {
        let resp = self
            .http
            .post(&self.url)
            .json(body)
            .send()
            .await
            .map_err(|e| BenchError::Rpc(e.to_string()))?;
        resp.json().await.map_err(|e| BenchError::Rpc(e.to_string()))
    }

    async fn u64(&self, method: &str, params: Value) -> Result<u64> {
        let v = self.call(method, params).await?;
        let s = v.as_str().ok_or_else(|| BenchError::Rpc(format!("{method}: not a quantity")))?;
        u64::from_str_radix(s.trim_start_matches("0x"), 16)
            .map_err(|e| BenchError::Rpc(e.to_string()))
    }
}

fn dev_keys() -> Result<Vec<PrivateKeySigner>> {
    (0..10)
        .map(|i| {
            MnemonicBuilder::<English>::default()
                .phrase(MNEMONIC)
                .index(i)
                .and_then(|b| b.build())
                .map_err(|e| BenchError::Keys(e.to_string()))
        })
        .collect()
}

fn sender_keys(n: usize) -> Vec<PrivateKeySigner> {
    (0..n)
        .map(|i| {
            let mut seed = [0x11u8; 32];
            seed[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
            PrivateKeySigner::from_bytes(&B256::from(seed)).expect("a valid scalar")
        })
        .collect()
}

fn sign(
    key: &PrivateKeySigner,
    chain_id: u64,
    nonce: u64,
    to: Address,
    value: U256,
) -> (B256, Bytes) {
    let mut tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: 1_000_000_000_000,
        max_priority_fee_per_gas: 1,
        to: TxKind::Call(to),
        value,
        access_list: Default::default(),
        input: Bytes::new(),
    };
    let sig = key.sign_transaction_sync(&mut tx).expect("local signing");
    let signed = tx.into_signed(sig);
    (*signed.hash(), signed.encoded_2718().into())
}

/// Stamps inclusion times by polling the head.
async fn watch(
    target: Target,
    wanted: Arc<Mutex<HashMap<B256, Option<Instant>>>>,
    sending: Arc<std::sync::atomic::AtomicBool>,
    from: u64,
    stop: Instant,
) -> Result<()> {
    let mut next = from + 1;
    loop {
        let head = target.u64("eth_blockNumber", json!([])).await?;
        while next <= head {
            let block =
                target.call("eth_getBlockByNumber", json!([format!("0x{next:x}"), false])).await?;
            let seen = Instant::now();
            let mut w = wanted.lock().await;
            for h in block["transactions"].as_array().into_iter().flatten() {
                if let Some(h) = h.as_str().and_then(|s| s.parse::<B256>().ok())
                    && let Some(slot) = w.get_mut(&h)
                {
                    slot.get_or_insert(seen);
                }
            }
            next += 1;
        }
        let sent_all = !sending.load(std::sync::atomic::Ordering::SeqCst);
        let done = sent_all && wanted.lock().await.values().all(Option::is_some);
        if done || Instant::now() > stop {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Funds the senders and waits until the funding is included.
async fn fund(t: &Target, chain_id: u64, senders: &[PrivateKeySigner]) -> Result<()> {
    let dev = dev_keys()?;
    let mut nonces = Vec::new();
    for k in &dev {
        nonces.push(t.u64("eth_getTransactionCount", json!([k.address(), "pending"])).await?);
    }
    let amount = U256::from(100u64) * U256::from(10u64).pow(U256::from(18));
    let mut last = B256::ZERO;
    for (i, s) in senders.iter().enumerate() {
        let d = i % dev.len();
        let (h, raw) = sign(&dev[d], chain_id, nonces[d], s.address(), amount);
        nonces[d] += 1;
        t.call("eth_sendRawTransaction", json!([raw])).await?;
        last = h;
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if !t.call("eth_getTransactionReceipt", json!([last])).await?.is_null() {
            // Give the other funding transactions of the same sender batch a block to land.
            tokio::time::sleep(Duration::from_millis(600)).await;
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(BenchError::Rpc("funding was not included within 120 s".into()))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[i.clamp(1, sorted.len()) - 1]
}

/// Sends `txs` (pre-signed) with `workers` connections in batches, optionally paced to `rate`
/// tx/s, and measures inclusion.
async fn phase(
    t: &Target,
    txs: Vec<(B256, Bytes)>,
    cfg: &LoadConfig,
    rate: Option<u64>,
) -> Result<PhaseReport> {
    let head = t.u64("eth_blockNumber", json!([])).await?;
    let wanted: Arc<Mutex<HashMap<B256, Option<Instant>>>> = Arc::new(Mutex::new(HashMap::new()));
    let sent_at: Arc<Mutex<HashMap<B256, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
    let errors: Arc<Mutex<(usize, Option<String>)>> = Arc::new(Mutex::new((0, None)));
    let stop = Instant::now() + cfg.timeout;
    let sending = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let watcher = tokio::spawn(watch(t.clone(), wanted.clone(), sending.clone(), head, stop));
    let chunks: Vec<Vec<(B256, Bytes)>> = txs.chunks(cfg.batch.max(1)).map(<[_]>::to_vec).collect();
    let queue = Arc::new(Mutex::new(
        chunks.into_iter().enumerate().collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>(),
    ));
    let start = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..cfg.workers.max(1) {
        let (t, queue, wanted, sent_at, errors) =
            (t.clone(), queue.clone(), wanted.clone(), sent_at.clone(), errors.clone());
        let batch = cfg.batch.max(1);
        handles.push(tokio::spawn(async move {
            loop {
                let Some((i, chunk)) = queue.lock().await.pop() else { return };
                if let Some(r) = rate {
                    let due = start + Duration::from_secs_f64((i * batch) as f64 / r as f64);
                    tokio::time::sleep_until(due.into()).await;
                }
                let body: Vec<Value> = chunk
                    .iter()
                    .enumerate()
                    .map(|(j, (_, raw))| json!({"jsonrpc":"2.0","id":j,"method":"eth_sendRawTransaction","params":[raw]}))
                    .collect();
                let now = Instant::now();
                let resp = t.post(&Value::Array(body)).await;
                let answers = match resp {
                    Ok(Value::Array(a)) => a,
                    Ok(other) => vec![other],
                    Err(e) => vec![json!({"error": e.to_string()})],
                };
                let mut w = wanted.lock().await;
                let mut s = sent_at.lock().await;
                for (j, (h, _)) in chunk.iter().enumerate() {
                    let ok = answers.iter().find(|a| a["id"] == json!(j)).is_some_and(|a| a.get("result").is_some());
                    if ok {
                        w.insert(*h, None);
                        s.insert(*h, now);
                    } else {
                        let mut e = errors.lock().await;
                        e.0 += 1;
                        if e.1.is_none() {
                            e.1 = Some(answers.first().map(|a| a.to_string()).unwrap_or_default());
                        }
                    }
                }
            }
        }));
    }
    for h in handles {
        let _ = h.await;
    }
    sending.store(false, std::sync::atomic::Ordering::SeqCst);
    watcher.await.map_err(|e| BenchError::Rpc(e.to_string()))??;
    let w = wanted.lock().await;
    let s = sent_at.lock().await;
    let mut lat: Vec<Duration> =
        w.iter().filter_map(|(h, inc)| Some(inc.as_ref()?.duration_since(*s.get(h)?))).collect();
    lat.sort();
    let last = w.values().filter_map(|x| *x).max().unwrap_or(start);
    let elapsed = last.duration_since(start);
    let e = errors.lock().await;
    Ok(PhaseReport {
        sent: w.len(),
        included: lat.len(),
        rejected: e.0,
        elapsed,
        tps: lat.len() as f64 / elapsed.as_secs_f64().max(1e-9),
        p50: percentile(&lat, 50.0),
        p99: percentile(&lat, 99.0),
        first_error: e.1.clone(),
    })
}

/// Runs both phases against one target.
pub async fn run(url: &str, cfg: &LoadConfig) -> Result<(PhaseReport, Option<PhaseReport>)> {
    let t = Target::new(url);
    let chain_id = t.u64("eth_chainId", json!([])).await?;
    let senders = sender_keys(cfg.senders);
    fund(&t, chain_id, &senders).await?;
    let recipient = Address::repeat_byte(0xee);
    let total = cfg.txs + cfg.latency_txs;
    let mut nonces = vec![0u64; senders.len()];
    let signed: Vec<(B256, Bytes)> = (0..total)
        .map(|i| {
            let s = i % senders.len();
            let n = nonces[s];
            nonces[s] += 1;
            sign(&senders[s], chain_id, n, recipient, U256::from(1))
        })
        .collect();
    let (burst, paced) = signed.split_at(cfg.txs);
    let throughput = phase(&t, burst.to_vec(), cfg, None).await?;
    let latency = if cfg.latency_txs > 0 {
        Some(phase(&t, paced.to_vec(), cfg, Some(cfg.rate)).await?)
    } else {
        None
    };
    Ok((throughput, latency))
}
