//! The JSON-RPC server: HTTP POST and WebSocket on one port (axum), single and batch requests,
//! `eth_subscribe` notifications over WebSocket.

pub mod convert;
pub mod error;
pub mod eth;
pub mod exact;
pub mod filters;
pub mod ws;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State, WebSocketUpgrade};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

pub use error::RpcError;
pub use eth::{EthApi, Params};

/// Largest request body (HTTP) or message (WebSocket).
pub const MAX_BODY: usize = 5 * 1024 * 1024;
/// Most calls in one batch.
pub const MAX_BATCH: usize = 2_000;

fn response(id: Value, result: Result<Value, RpcError>) -> Value {
    match result {
        Ok(v) => json!({ "jsonrpc": "2.0", "id": id, "result": v }),
        Err(e) => json!({ "jsonrpc": "2.0", "id": id, "error": e.to_json() }),
    }
}

/// Handles one request object; `None` for a notification (no id).
pub fn handle_one(api: &EthApi, req: Value) -> Option<Value> {
    let Value::Object(mut obj) = req else {
        return Some(response(
            Value::Null,
            Err(RpcError::invalid_request("request must be an object")),
        ));
    };
    let id = obj.remove("id");
    let is_notification = id.is_none();
    let id = id.unwrap_or(Value::Null);
    if !matches!(id, Value::Null | Value::Number(_) | Value::String(_)) {
        return Some(response(
            Value::Null,
            Err(RpcError::invalid_request("id must be a number, string or null")),
        ));
    }
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Some(response(id, Err(RpcError::invalid_request("jsonrpc must be \"2.0\""))));
    }
    let Some(Value::String(method)) = obj.remove("method") else {
        return Some(response(id, Err(RpcError::invalid_request("method must be a string"))));
    };
    let result = Params::new(obj.remove("params")).and_then(|p| api.call(&method, &p));
    (!is_notification).then(|| response(id, result))
}

/// Handles a request body (single or batch); `None` if nothing is to be answered.
pub fn handle_body(api: &EthApi, body: &[u8]) -> Option<Value> {
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return Some(response(Value::Null, Err(RpcError::parse(e)))),
    };
    match value {
        Value::Array(items) if items.is_empty() => {
            Some(response(Value::Null, Err(RpcError::invalid_request("empty batch"))))
        }
        Value::Array(items) if items.len() > MAX_BATCH => Some(response(
            Value::Null,
            Err(RpcError::limit(format!("batch too large: at most {MAX_BATCH} calls"))),
        )),
        Value::Array(items) => {
            let out: Vec<Value> = items.into_iter().filter_map(|r| handle_one(api, r)).collect();
            (!out.is_empty()).then_some(Value::Array(out))
        }
        other => handle_one(api, other),
    }
}

fn json_response(status: StatusCode, v: &Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response()
}

async fn http(State(api): State<Arc<EthApi>>, req: Request) -> Response {
    let body = match axum::body::to_bytes(req.into_body(), MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            let e = RpcError::limit(format!("request body too large: at most {MAX_BODY} bytes"));
            return json_response(StatusCode::PAYLOAD_TOO_LARGE, &response(Value::Null, Err(e)));
        }
    };
    let api2 = api.clone();
    let answer = tokio::task::spawn_blocking(move || handle_body(&api2, &body)).await;
    match answer {
        Ok(Some(v)) => json_response(StatusCode::OK, &v),
        Ok(None) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &response(Value::Null, Err(RpcError::internal(e))),
        ),
    }
}

async fn get_root(
    State(api): State<Arc<EthApi>>,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    match ws {
        Ok(ws) => ws.max_message_size(MAX_BODY).on_upgrade(move |socket| ws::serve(api, socket)),
        Err(_) => (
            StatusCode::OK,
            Body::from("Computronium JSON-RPC: POST JSON-RPC here, or open a WebSocket\n"),
        )
            .into_response(),
    }
}

async fn health(State(api): State<Arc<EthApi>>) -> Response {
    let head = api.node.head().block.header.number;
    json_response(
        StatusCode::OK,
        &json!({ "status": "ok", "head": head, "chainId": api.node.chain_id() }),
    )
}

/// The router (exposed for tests).
pub fn router(api: Arc<EthApi>) -> Router {
    Router::new().route("/", get(get_root).post(http)).route("/health", get(health)).with_state(api)
}

/// Binds `addr` and serves until `shutdown` resolves. Returns the bound address and the task.
pub async fn serve(
    api: Arc<EthApi>,
    addr: SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let app = router(api);
    let task =
        tokio::spawn(
            async move { axum::serve(listener, app).with_graceful_shutdown(shutdown).await },
        );
    Ok((local, task))
}
