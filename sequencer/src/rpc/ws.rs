//! WebSocket connections: requests like HTTP, plus `eth_subscribe` (`newHeads`, `logs`,
//! `newPendingTransactions`) and `eth_unsubscribe`.

use std::collections::HashMap;
use std::sync::Arc;

use alloy::rpc::types::{Filter, Header};
use axum::extract::ws::{Message, WebSocket};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use super::convert::rpc_logs;
use super::error::RpcError;
use super::{EthApi, Params, handle_body};
use crate::node::ChainEvent;

/// Most subscriptions per connection.
pub const MAX_SUBSCRIPTIONS: usize = 128;

#[derive(Debug, Clone)]
enum Sub {
    Heads,
    Logs(Box<Filter>),
    Pending { full: bool },
}

fn notification(id: &str, result: Value) -> String {
    json!({ "jsonrpc": "2.0", "method": "eth_subscription", "params": { "subscription": id, "result": result } }).to_string()
}

/// Serves one WebSocket connection until it closes.
pub async fn serve(api: Arc<EthApi>, mut socket: WebSocket) {
    let (out_tx, mut out_rx) = mpsc::channel::<String>(1024);
    let mut tasks: HashMap<String, tokio::task::JoinHandle<()>> = HashMap::new();
    let mut next = 0u64;
    loop {
        tokio::select! {
            msg = socket.recv() => {
                let Some(Ok(msg)) = msg else { break };
                let text = match msg {
                    Message::Text(t) => t.to_string(),
                    Message::Binary(b) => String::from_utf8_lossy(&b).into_owned(),
                    Message::Close(_) => break,
                    _ => continue,
                };
                let reply = handle_ws(&api, &text, &out_tx, &mut tasks, &mut next);
                if let Some(r) = reply && socket.send(Message::Text(r.to_string().into())).await.is_err() {
                    break;
                }
            }
            Some(note) = out_rx.recv() => {
                if socket.send(Message::Text(note.into())).await.is_err() {
                    break;
                }
            }
        }
    }
    for (_, t) in tasks {
        t.abort();
    }
}

fn handle_ws(
    api: &Arc<EthApi>,
    text: &str,
    out: &mpsc::Sender<String>,
    tasks: &mut HashMap<String, tokio::task::JoinHandle<()>>,
    next: &mut u64,
) -> Option<Value> {
    let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(text) else {
        return handle_body(api, text.as_bytes());
    };
    let method = obj.get("method").and_then(Value::as_str).unwrap_or_default();
    if method != "eth_subscribe" && method != "eth_unsubscribe" {
        return handle_body(api, text.as_bytes());
    }
    let id = obj.get("id").cloned().unwrap_or(Value::Null);
    let result = Params::new(obj.get("params").cloned()).and_then(|p| {
        if method == "eth_unsubscribe" {
            let sid: String = p.get(0)?;
            return Ok(json!(tasks.remove(&sid).map(|t| t.abort()).is_some()));
        }
        if tasks.len() >= MAX_SUBSCRIPTIONS {
            return Err(RpcError::limit(format!(
                "at most {MAX_SUBSCRIPTIONS} subscriptions per connection"
            )));
        }
        let kind: String = p.get(0)?;
        let sub = match kind.as_str() {
            "newHeads" => Sub::Heads,
            "logs" => Sub::Logs(Box::new(p.opt::<Filter>(1)?.unwrap_or_default())),
            "newPendingTransactions" => Sub::Pending { full: p.opt::<bool>(1)?.unwrap_or(false) },
            other => {
                return Err(RpcError::invalid_params(format!("unknown subscription type {other}")));
            }
        };
        *next += 1;
        let sid = format!("0x{:x}", *next);
        let rx = api.node.events.subscribe();
        tasks.insert(
            sid.clone(),
            tokio::spawn(forward(api.clone(), sub, sid.clone(), rx, out.clone())),
        );
        Ok(json!(sid))
    });
    Some(match result {
        Ok(v) => json!({ "jsonrpc": "2.0", "id": id, "result": v }),
        Err(e) => json!({ "jsonrpc": "2.0", "id": id, "error": e.to_json() }),
    })
}

async fn forward(
    api: Arc<EthApi>,
    sub: Sub,
    sid: String,
    mut rx: broadcast::Receiver<ChainEvent>,
    out: mpsc::Sender<String>,
) {
    loop {
        let event = match rx.recv().await {
            Ok(e) => e,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(subscription = %sid, skipped = n, "slow subscriber skipped events");
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let notes: Vec<Value> = match (&sub, event) {
            (Sub::Heads, ChainEvent::Block(block, _)) => {
                let mut h = Header::new(block.header.clone());
                h.total_difficulty = Some(Default::default());
                vec![serde_json::to_value(h).unwrap_or_default()]
            }
            (Sub::Logs(filter), ChainEvent::Block(block, txs)) => {
                if !filter.matches_bloom(block.header.logs_bloom) {
                    continue;
                }
                txs.iter()
                    .flat_map(|t| rpc_logs(t.hash, &t.tx, &t.receipt, &block))
                    .filter(|l| filter.matches(&l.inner))
                    .filter_map(|l| serde_json::to_value(l).ok())
                    .collect()
            }
            (Sub::Pending { full }, ChainEvent::PendingTx(hash)) => {
                if *full {
                    let pool = api.node.pool.lock().unwrap_or_else(|p| p.into_inner());
                    match pool.get(&hash) {
                        Some(t) => vec![
                            serde_json::to_value(super::convert::rpc_pending_tx(&t.tx, t.sender))
                                .unwrap_or_default(),
                        ],
                        None => vec![],
                    }
                } else {
                    vec![json!(hash)]
                }
            }
            _ => continue,
        };
        for n in notes {
            if out.send(notification(&sid, n)).await.is_err() {
                return;
            }
        }
    }
}
