//! The JSON-RPC surface through real clients: alloy's provider with a local signer, raw HTTP,
//! WebSocket subscriptions, and every error class wallets rely on.

mod common;

use std::time::Duration;

use alloy::consensus::{SignableTransaction, TxEip1559, TxLegacy};
use alloy::eips::eip2718::Encodable2718;
use alloy::network::{EthereumWallet, TransactionBuilder, TxSignerSync};
use alloy::primitives::{Address, Bytes, TxKind, U256, address};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::{Filter, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::ws::WsConnect;
use alloy_sol_types::{SolCall, SolEvent};
use common::{err, post, rpc, start_dev};
use ctm_sequencer::system::IL2Staking;
use serde_json::json;

const BOB: Address = address!("0x00000000000000000000000000000000000b0b00");

fn eth(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18))
}

#[tokio::test]
async fn transfers_of_all_three_types_with_receipts_and_balances() {
    let node = start_dev().await;
    let signer = node.dev_signers[0].clone();
    let me = signer.address();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(node.http_url().parse().unwrap());
    assert_eq!(provider.get_chain_id().await.unwrap(), 71117);
    let start = provider.get_balance(me).await.unwrap();

    let legacy = TransactionRequest::default()
        .with_to(BOB)
        .with_value(eth(1))
        .with_gas_price(2_000_000_000)
        .with_gas_limit(21_000);
    let r1 = provider.send_transaction(legacy).await.unwrap().get_receipt().await.unwrap();
    let access = TransactionRequest::default()
        .with_to(BOB)
        .with_value(eth(2))
        .with_gas_price(2_000_000_000)
        .with_gas_limit(30_000)
        .with_access_list(Default::default());
    let r2 = provider.send_transaction(access).await.unwrap().get_receipt().await.unwrap();
    let dynamic = TransactionRequest::default().with_to(BOB).with_value(eth(3));
    let r3 = provider.send_transaction(dynamic).await.unwrap().get_receipt().await.unwrap();

    assert!(r1.status() && r2.status() && r3.status());
    assert_eq!(r1.inner.tx_type() as u8, 0);
    assert_eq!(r2.inner.tx_type() as u8, 1);
    assert_eq!(r3.inner.tx_type() as u8, 2);
    assert_eq!(provider.get_balance(BOB).await.unwrap(), eth(6));
    let fees: u128 =
        [&r1, &r2, &r3].iter().map(|r| u128::from(r.gas_used) * r.effective_gas_price).sum();
    assert_eq!(provider.get_balance(me).await.unwrap(), start - eth(6) - U256::from(fees));
    assert_eq!(provider.get_transaction_count(me).await.unwrap(), 3);

    // Blocks, by number and hash, with hashes or full transactions.
    let block = provider
        .get_block_by_number(r3.block_number.unwrap().into())
        .full()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(block.header.hash, r3.block_hash.unwrap());
    assert!(block.transactions.hashes().any(|h| h == r3.transaction_hash));
    let by_hash = provider.get_block_by_hash(r3.block_hash.unwrap()).await.unwrap().unwrap();
    assert_eq!(by_hash.header.number, block.header.number);
    let tx = provider.get_transaction_by_hash(r2.transaction_hash).await.unwrap().unwrap();
    assert_eq!(tx.block_number, r2.block_number);
    let receipts =
        provider.get_block_receipts(r1.block_number.unwrap().into()).await.unwrap().unwrap();
    assert!(receipts.iter().any(|r| r.transaction_hash == r1.transaction_hash));
    // Past-state queries.
    let before = provider.get_balance(BOB).number(r1.block_number.unwrap() - 1).await.unwrap();
    assert_eq!(before, U256::ZERO);
    let at_first = provider.get_balance(BOB).number(r1.block_number.unwrap()).await.unwrap();
    assert_eq!(at_first, eth(1));
    assert_eq!(provider.get_transaction_count(me).number(0).await.unwrap(), 0);
    // ctm_ records keep u128 amounts exact: the genesis mints (10,000 tokens, above 2^64) come
    // back as decimal strings, small integers as numbers.
    let genesis = rpc(&node.http_url(), "ctm_getBlockOps", json!(["0x0"])).await;
    let ops = genesis["result"]["ops"].as_array().unwrap_or_else(|| panic!("{genesis}"));
    let mint = ops.iter().find(|o| o.get("mint").is_some()).unwrap();
    assert_eq!(mint["mint"]["amount"], json!(eth(10_000).to_string()));
    let n = format!("0x{:x}", r3.block_number.unwrap());
    let block = rpc(&node.http_url(), "ctm_getBlockOps", json!([n])).await;
    assert!(block["result"]["ops"].as_array().is_some_and(|o| !o.is_empty()), "{block}");
    node.stop().await;
}

#[tokio::test]
async fn system_contract_logs_filters_and_subscriptions() {
    let node = start_dev().await;
    let signer = node.dev_signers[1].clone();
    let me = signer.address();
    let http = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(node.http_url().parse().unwrap());
    let ws =
        ProviderBuilder::new().connect_pubsub_with(WsConnect::new(node.ws_url())).await.unwrap();
    let mut heads = ws.subscribe_blocks().await.unwrap();
    let staking = ctm_core::system::STAKING;
    let mut logs_sub = ws.subscribe_logs(&Filter::new().address(staking)).await.unwrap();
    let mut pending = ws.subscribe_pending_transactions().await.unwrap();
    let block_filter = http.new_block_filter().await.unwrap();
    let log_filter = http
        .new_filter(
            &Filter::new().address(staking).event_signature(IL2Staking::Staked::SIGNATURE_HASH),
        )
        .await
        .unwrap();

    let call = IL2Staking::stakeCall { role: 3 }.abi_encode();
    let req = TransactionRequest::default().with_to(staking).with_value(eth(5)).with_input(call);
    let receipt = http.send_transaction(req).await.unwrap().get_receipt().await.unwrap();
    assert!(receipt.status(), "stake succeeds");
    let log = &receipt.inner.logs()[0];
    let decoded = IL2Staking::Staked::decode_log(&log.inner).unwrap();
    assert_eq!((decoded.owner, decoded.role, decoded.amount), (me, 3, eth(5)));

    // eth_call on a view function.
    let view = IL2Staking::stakeOfCall { owner: me, role: 3 }.abi_encode();
    let out =
        http.call(TransactionRequest::default().with_to(staking).with_input(view)).await.unwrap();
    let ret = IL2Staking::stakeOfCall::abi_decode_returns(&out).unwrap();
    assert_eq!(ret.amount, eth(5));

    // eth_getLogs with address and topic filters and a block range.
    let n = receipt.block_number.unwrap();
    let found =
        http.get_logs(&Filter::new().address(staking).from_block(n).to_block(n)).await.unwrap();
    assert_eq!(found.len(), 1);
    let none = http.get_logs(&Filter::new().address(BOB).from_block(0).to_block(n)).await.unwrap();
    assert!(none.is_empty());
    let wrong_topic = Filter::new()
        .address(staking)
        .event_signature(IL2Staking::Claimed::SIGNATURE_HASH)
        .from_block(0);
    assert!(http.get_logs(&wrong_topic).await.unwrap().is_empty());

    // Poll filters.
    let changes: Vec<alloy::primitives::B256> =
        http.get_filter_changes(block_filter).await.unwrap();
    assert!(changes.contains(&receipt.block_hash.unwrap()));
    let filter_logs: Vec<alloy::rpc::types::Log> =
        http.get_filter_changes(log_filter).await.unwrap();
    assert_eq!(filter_logs.len(), 1);
    let again: Vec<alloy::rpc::types::Log> = http.get_filter_changes(log_filter).await.unwrap();
    assert!(again.is_empty(), "changes are reported once");
    assert!(http.uninstall_filter(log_filter).await.unwrap());
    let gone = common::rpc(
        &node.http_url(),
        "eth_getFilterChanges",
        json!([format!("0x{:x}", log_filter)]),
    )
    .await;
    assert_eq!(err(&gone).0, -32001);

    // Subscriptions saw the block, the log and the pending transaction.
    let within = Duration::from_secs(10);
    let h = tokio::time::timeout(within, heads.recv()).await.unwrap().unwrap();
    assert!(h.number >= 1);
    let l = tokio::time::timeout(within, logs_sub.recv()).await.unwrap().unwrap();
    assert_eq!(l.transaction_hash, Some(receipt.transaction_hash));
    let p = tokio::time::timeout(within, pending.recv()).await.unwrap().unwrap();
    assert_eq!(p, receipt.transaction_hash);

    // A reverting system call: unstake more than staked reverts with a decodable error.
    let bad = IL2Staking::unstakeCall { role: 3, amount: eth(6) }.abi_encode();
    let e = http
        .call(TransactionRequest::default().from(me).with_to(staking).with_input(bad))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("execution reverted"), "{e}");
    node.stop().await;
}

fn signed_legacy(
    signer: &PrivateKeySigner,
    chain_id: Option<u64>,
    nonce: u64,
    gas_price: u128,
    input: Bytes,
) -> Bytes {
    let mut tx = TxLegacy {
        chain_id,
        nonce,
        gas_price,
        gas_limit: 21_000 + 16 * input.len() as u64,
        to: TxKind::Call(BOB),
        value: U256::from(1),
        input,
    };
    let sig = signer.sign_transaction_sync(&mut tx).unwrap();
    tx.into_signed(sig).encoded_2718().into()
}

#[tokio::test]
async fn errors_wallets_classify() {
    let node = start_dev().await;
    let url = node.http_url();
    let signer = node.dev_signers[2].clone();
    let send = |raw: Bytes| {
        let url = url.clone();
        async move { rpc(&url, "eth_sendRawTransaction", json!([raw])).await }
    };
    let gp = 10_000_000_000u128;

    let (code, msg) = err(&send(signed_legacy(&signer, Some(1), 0, gp, Bytes::new())).await);
    assert_eq!(code, -32000);
    assert!(msg.contains("invalid chain id"), "{msg}");
    let (_, msg) = err(&send(signed_legacy(&signer, None, 0, gp, Bytes::new())).await);
    assert!(msg.contains("EIP-155"), "{msg}");
    let (_, msg) = err(&send(signed_legacy(&signer, Some(71117), 0, 1, Bytes::new())).await);
    assert!(msg.contains("underpriced"), "{msg}");
    let ok = send(signed_legacy(&signer, Some(71117), 0, gp, Bytes::new())).await;
    assert!(ok.get("result").is_some(), "{ok}");
    let (_, msg) = err(&send(signed_legacy(&signer, Some(71117), 0, gp, Bytes::new())).await);
    assert!(msg.contains("already known") || msg.contains("nonce too low"), "{msg}");
    let (_, msg) = err(&send(signed_legacy(&signer, Some(71117), 0, gp + 1, Bytes::new())).await);
    assert!(
        msg.contains("replacement transaction underpriced") || msg.contains("nonce too low"),
        "{msg}"
    );
    let (_, msg) = err(&send(signed_legacy(&signer, Some(71117), 500, gp, Bytes::new())).await);
    assert!(msg.contains("nonce too high"), "{msg}");
    let poor = PrivateKeySigner::random();
    let (_, msg) = err(&send(signed_legacy(&poor, Some(71117), 0, gp, Bytes::new())).await);
    assert!(msg.contains("insufficient funds"), "{msg}");
    let (_, msg) =
        err(&send(signed_legacy(&signer, Some(71117), 1, gp, Bytes::from(vec![1u8; 200_000])))
            .await);
    assert!(msg.contains("oversized"), "{msg}");

    // Contract creation is refused by design.
    let mut create = TxEip1559 {
        chain_id: 71117,
        nonce: 1,
        gas_limit: 100_000,
        max_fee_per_gas: gp,
        max_priority_fee_per_gas: 1,
        to: TxKind::Create,
        value: U256::ZERO,
        access_list: Default::default(),
        input: Bytes::from_static(&[0x60, 0x00]),
    };
    let sig = signer.sign_transaction_sync(&mut create).unwrap();
    let (_, msg) = err(&send(create.into_signed(sig).encoded_2718().into()).await);
    assert!(msg.contains("contract creation"), "{msg}");

    // Bad RLP and a bad signature.
    let (code, _) = err(&send(Bytes::from_static(&[0x02, 0xc0, 0x01])).await);
    assert_eq!(code, -32602);
    let mut raw = signed_legacy(&signer, Some(71117), 1, gp, Bytes::new()).to_vec();
    let len = raw.len();
    raw[len - 10] ^= 0xff; // inside s
    raw[len - 40] ^= 0xff; // inside r
    let bad_sig = send(Bytes::from(raw)).await;
    assert!(bad_sig.get("error").is_some(), "{bad_sig}");

    // Protocol errors.
    assert_eq!(err(&rpc(&url, "eth_nope", json!([])).await).0, -32601);
    assert_eq!(err(&rpc(&url, "eth_getBalance", json!(["0x1234"])).await).0, -32602);
    assert_eq!(err(&rpc(&url, "eth_getBalance", json!({"a": 1})).await).0, -32602);
    assert_eq!(err(&post(&url, "{not json").await.1).0, -32700);
    assert_eq!(err(&post(&url, "[]").await.1).0, -32600);
    assert_eq!(
        err(&post(&url, r#"{"jsonrpc":"1.0","id":1,"method":"eth_chainId"}"#).await.1).0,
        -32600
    );
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert_eq!(err(&post(&url, deep).await.1).0, -32700);
    let (status, body) = post(&url, format!("\"{}\"", "a".repeat(10 * 1024 * 1024))).await;
    assert_eq!(status, 413);
    assert_eq!(err(&body).0, -32005);
    let (_, batch) = post(
        &url,
        json!([
            {"jsonrpc":"2.0","id":1,"method":"eth_chainId"},
            {"jsonrpc":"2.0","id":2,"method":"eth_blockNumber"},
            {"jsonrpc":"2.0","method":"eth_chainId"},
            {"jsonrpc":"2.0","id":3,"method":"nope"}
        ])
        .to_string(),
    )
    .await;
    let batch = batch.as_array().unwrap();
    assert_eq!(batch.len(), 3, "the notification gets no answer");
    assert_eq!(batch[0]["result"], json!("0x115cd"));
    assert_eq!(batch[2]["error"]["code"], json!(-32601));
    // Still serving after all that.
    assert_eq!(rpc(&url, "eth_chainId", json!([])).await["result"], json!("0x115cd"));
    assert_eq!(rpc(&url, "net_version", json!([])).await["result"], json!("71117"));
    assert_eq!(rpc(&url, "eth_syncing", json!([])).await["result"], json!(false));
    let fh = rpc(&url, "eth_feeHistory", json!(["0x2", "latest", [10.0, 90.0]])).await;
    assert!(fh["result"]["baseFeePerGas"].as_array().unwrap().len() >= 2, "{fh}");
    node.stop().await;
}
