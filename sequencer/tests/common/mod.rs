//! Shared helpers of the sequencer integration tests: a real node on a loopback port.

#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use alloy::consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy::eips::eip2718::Encodable2718;
use alloy::network::TxSignerSync;
use alloy::primitives::{Address, TxKind, U256};
use alloy::signers::local::PrivateKeySigner;
use ctm_sequencer::config::{Cli, SequencerConfig};
use ctm_sequencer::service::{self, Running};
use ctm_sequencer::types::PooledTx;
use serde_json::{Value, json};

/// A dev node on a free loopback port with 20 ms blocks.
pub async fn start_dev() -> Running {
    let cli = Cli { dev: true, port: Some(0), block_time_ms: Some(20), ..Default::default() };
    let cfg = SequencerConfig::resolve(cli).expect("config");
    service::start(cfg).await.expect("node starts")
}

/// An HTTP client.
pub fn client() -> alloy::transports::http::reqwest::Client {
    alloy::transports::http::reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Posts a raw body; returns (status, JSON body).
pub async fn post(url: &str, body: impl Into<String>) -> (u16, Value) {
    let resp = client()
        .post(url)
        .header("content-type", "application/json")
        .body(body.into())
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Calls one method; returns the whole response object.
pub async fn rpc(url: &str, method: &str, params: Value) -> Value {
    post(url, json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }).to_string())
        .await
        .1
}

/// The error message of a response (panics if it succeeded).
pub fn err(v: &Value) -> (i64, String) {
    let e = v.get("error").unwrap_or_else(|| panic!("expected an error, got {v}"));
    (e["code"].as_i64().unwrap(), e["message"].as_str().unwrap().to_string())
}

/// A dev node whose marketplace windows are `window` seconds (challenge, unbonding, channel).
pub async fn start_market(window: u64) -> Running {
    let mut text = ctm_core::config::PRESETS[0].1.to_string();
    for key in ["challenge_window_secs", "provider_unbonding_secs", "channel_challenge_secs"] {
        let start = text.find(&format!("{key} = ")).unwrap();
        let end = start + text[start..].find('\n').unwrap();
        text.replace_range(start..end, &format!("{key} = {window}"));
    }
    let path =
        std::env::temp_dir().join(format!("ctm-market-{}-{window}.toml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    let cli = Cli {
        dev: true,
        port: Some(0),
        block_time_ms: Some(20),
        preset: Some(path.to_string_lossy().into_owned()),
        ..Default::default()
    };
    let cfg = SequencerConfig::resolve(cli).expect("config");
    service::start(cfg).await.expect("node starts")
}

/// An EIP-1559 call on the dev chain (71117) with a 10 gwei fee cap.
pub fn eip1559(
    nonce: u64,
    gas_limit: u64,
    tip: u128,
    to: Address,
    value: u128,
    input: Vec<u8>,
) -> TxEip1559 {
    TxEip1559 {
        chain_id: 71117,
        nonce,
        gas_limit,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: tip,
        to: TxKind::Call(to),
        value: U256::from(value),
        access_list: Default::default(),
        input: input.into(),
    }
}

/// `tx` signed by `key`, as the mempool holds it.
pub fn pooled(key: &PrivateKeySigner, mut tx: TxEip1559) -> PooledTx {
    let sig = key.sign_transaction_sync(&mut tx).unwrap();
    let env: TxEnvelope = tx.into_signed(sig).into();
    PooledTx {
        hash: *env.tx_hash(),
        sender: key.address(),
        raw: env.encoded_2718().into(),
        tx: env,
    }
}

/// The config of an in-process dev node in `dir` whose dev accounts are `keys`, 1,000 ether
/// each (250 ms blocks, no empty blocks).
#[allow(dead_code)] // Not every test binary that includes `common` opens a node.
pub fn dev_node_config(
    dir: &std::path::Path,
    keys: &[&PrivateKeySigner],
) -> ctm_sequencer::node::NodeConfig {
    ctm_sequencer::node::NodeConfig {
        genesis: ctm_core::config::GenesisConfig::preset("computronium").unwrap(),
        datadir: dir.to_path_buf(),
        dev_accounts: keys.iter().map(|k| (k.address(), 1_000 * 10u128.pow(18))).collect(),
        block_time: Duration::from_millis(250),
        beneficiary: Address::repeat_byte(0xfe),
        pool: ctm_sequencer::mempool::PoolLimits::default(),
        max_block_txs: 10_000,
        empty_blocks: false,
    }
}
