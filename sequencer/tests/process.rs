//! The `sequencer` binary as a process: a second real client (`cast`), Prometheus metrics, and
//! crash safety under `kill -9`.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::consensus::{SignableTransaction, TxEip1559};
use alloy::eips::eip2718::Encodable2718;
use alloy::network::TxSignerSync;
use alloy::primitives::{Address, Bytes, TxKind, U256};
use alloy::signers::local::PrivateKeySigner;
use common::{client, rpc};
use serde_json::json;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct Proc {
    child: Child,
    url: String,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary and waits for its "Listening on" line.
fn spawn(args: &[&str]) -> Proc {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sequencer"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("sequencer binary starts");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(rest) = line.strip_prefix("Listening on") {
            let url = rest.split_whitespace().next().unwrap().to_string();
            std::thread::spawn(move || for _ in lines {});
            return Proc { child, url };
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("sequencer did not report its address");
}

fn key(i: u32) -> PrivateKeySigner {
    ctm_sequencer::service::dev_signers(i + 1).unwrap().pop().unwrap()
}

fn transfer(signer: &PrivateKeySigner, nonce: u64, to: Address) -> Bytes {
    let mut tx = TxEip1559 {
        chain_id: 71117,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1_000,
        to: TxKind::Call(to),
        value: U256::from(1_000 + nonce),
        access_list: Default::default(),
        input: Bytes::new(),
    };
    let sig = signer.sign_transaction_sync(&mut tx).unwrap();
    tx.into_signed(sig).encoded_2718().into()
}

#[tokio::test]
async fn cast_sends_a_transfer_and_reads_the_receipt() {
    let cast = repo().join("tools/cast");
    assert!(
        repo().join("node_modules/.bin/cast").exists(),
        "cast is not installed: run scripts/setup (npm ci)"
    );
    let p = spawn(&["--dev", "--port", "0", "--block-time-ms", "20"]);
    let pk = format!("0x{}", hex::encode(key(3).to_bytes()));
    let out = Command::new(&cast)
        .args([
            "send",
            "--private-key",
            &pk,
            "0x000000000000000000000000000000000000dEaD",
            "--value",
            "12345",
            "--rpc-url",
            &p.url,
            "--json",
        ])
        .output()
        .expect("cast runs");
    assert!(out.status.success(), "cast send failed: {}", String::from_utf8_lossy(&out.stderr));
    let receipt: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(receipt["status"], json!("0x1"));
    let hash = receipt["transactionHash"].as_str().unwrap();
    let again = Command::new(&cast)
        .args(["receipt", hash, "--rpc-url", &p.url, "--json"])
        .output()
        .unwrap();
    assert!(again.status.success());
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["blockHash"], receipt["blockHash"]);
    let bal = Command::new(&cast)
        .args(["balance", "0x000000000000000000000000000000000000dEaD", "--rpc-url", &p.url])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&bal.stdout).trim(), "12345");
}

#[tokio::test]
async fn metrics_are_exported() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let p = spawn(&[
        "--dev",
        "--port",
        "0",
        "--block-time-ms",
        "20",
        "--metrics-port",
        &port.to_string(),
    ]);
    let raw = transfer(&key(4), 0, Address::repeat_byte(9));
    let r = rpc(&p.url, "eth_sendRawTransaction", json!([raw])).await;
    assert!(r.get("result").is_some(), "{r}");
    let _ = rpc(&p.url, "eth_blockNumber", json!([])).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let text = client()
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "ctm_transactions_included_total",
        "ctm_block_build_seconds",
        "ctm_mempool_size",
        "ctm_rpc_latency_seconds",
    ] {
        assert!(text.contains(name), "{name} missing from /metrics:\n{text}");
    }
}

#[tokio::test]
async fn kill_9_under_load_loses_nothing_included() {
    let dir = std::env::temp_dir().join(format!("ctm-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_str().unwrap().to_string();
    let args = ["--dev", "--datadir", d.as_str(), "--port", "0", "--block-time-ms", "10"];
    let mut p = spawn(&args);
    let senders: Vec<PrivateKeySigner> = (0..4).map(key).collect();
    let mut sent = Vec::new();
    for n in 0..150u64 {
        for s in &senders {
            let r = rpc(
                &p.url,
                "eth_sendRawTransaction",
                json!([transfer(s, n, Address::repeat_byte(7))]),
            )
            .await;
            if let Some(h) = r.get("result") {
                sent.push(h.as_str().unwrap().to_string());
            }
        }
    }
    // Whatever has a receipt now was included and must survive.
    let mut included = Vec::new();
    for h in &sent {
        let r = rpc(&p.url, "eth_getTransactionReceipt", json!([h])).await;
        if !r["result"].is_null() {
            included.push((h.clone(), r["result"]["blockHash"].clone()));
        }
    }
    let head_before = rpc(&p.url, "eth_blockNumber", json!([])).await["result"].clone();
    // Keep a second stream of transactions flowing, and SIGKILL in the middle of it.
    let url = p.url.clone();
    let load = tokio::spawn(async move {
        let s = key(6);
        for n in 0..100_000u64 {
            let body = json!({"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":[transfer(&s, n, Address::repeat_byte(5))]});
            if client().post(&url).json(&body).send().await.is_err() {
                return n;
            }
        }
        0
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    p.child.kill().unwrap();
    let sent_during = load.await.unwrap();
    assert!(sent_during > 0, "the load stream was running when the node died");
    p.child.wait().unwrap();
    assert!(!included.is_empty(), "some transactions were included before the crash");

    p = spawn(&args);
    let head_after = rpc(&p.url, "eth_blockNumber", json!([])).await["result"].clone();
    let parse = |v: &serde_json::Value| {
        u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
    };
    assert!(
        parse(&head_after) >= parse(&head_before),
        "head went back: {head_before} -> {head_after}"
    );
    for (h, block) in &included {
        let r = rpc(&p.url, "eth_getTransactionReceipt", json!([h])).await;
        assert_eq!(&r["result"]["blockHash"], block, "receipt of {h} changed or vanished");
    }
    // The head block's state root is the tree's root (checked at open) and the chain goes on.
    let latest = rpc(&p.url, "eth_getBlockByNumber", json!(["latest", false])).await;
    let root = rpc(&p.url, "ctm_stateRoot", json!([])).await;
    assert_eq!(latest["result"]["stateRoot"], root["result"]);
    let nonce =
        rpc(&p.url, "eth_getTransactionCount", json!([senders[0].address(), "latest"])).await;
    let next = parse(&nonce["result"]);
    let r = rpc(
        &p.url,
        "eth_sendRawTransaction",
        json!([transfer(&senders[0], next, Address::repeat_byte(8))]),
    )
    .await;
    assert!(r.get("result").is_some(), "{r}");
    drop(p);
    let _ = std::fs::remove_dir_all(&dir);
}
