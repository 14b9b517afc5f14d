//! JSON-RPC errors: the one place that maps internal errors to codes and messages.

use serde_json::{Value, json};

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    /// Error code.
    pub code: i64,
    /// Message (wallets classify by its text, e.g. "nonce too low").
    pub message: String,
    /// Optional data (revert data for `eth_call`).
    pub data: Option<Value>,
}

impl RpcError {
    fn new(code: i64, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), data: None }
    }
    /// -32700: the body is not JSON.
    pub fn parse(msg: impl std::fmt::Display) -> Self {
        Self::new(-32700, format!("parse error: {msg}"))
    }
    /// -32600: not a valid request object.
    pub fn invalid_request(msg: impl Into<String>) -> Self {
        Self::new(-32600, msg)
    }
    /// -32601: unknown method.
    pub fn method_not_found(method: &str) -> Self {
        Self::new(-32601, format!("the method {method} does not exist/is not available"))
    }
    /// -32602: bad parameters.
    pub fn invalid_params(msg: impl std::fmt::Display) -> Self {
        Self::new(-32602, format!("invalid params: {msg}"))
    }
    /// -32603: internal failure.
    pub fn internal(msg: impl std::fmt::Display) -> Self {
        Self::new(-32603, format!("internal error: {msg}"))
    }
    /// -32000: a transaction or state error with a geth-compatible message.
    pub fn server(msg: impl Into<String>) -> Self {
        Self::new(-32000, msg)
    }
    /// 3: execution reverted, with the revert data.
    pub fn reverted(data: &[u8], reason: Option<String>) -> Self {
        let message = match reason {
            Some(r) => format!("execution reverted: {r}"),
            None => "execution reverted".into(),
        };
        Self { code: 3, message, data: Some(json!(format!("0x{}", hex::encode(data)))) }
    }
    /// -32001: resource not found (e.g. a filter id).
    pub fn not_found(msg: impl Into<String>) -> Self {
        Self::new(-32001, msg)
    }
    /// -32005: a limit was exceeded.
    pub fn limit(msg: impl Into<String>) -> Self {
        Self::new(-32005, msg)
    }

    /// The error object as JSON.
    pub fn to_json(&self) -> Value {
        let mut v = json!({ "code": self.code, "message": self.message });
        if let Some(d) = &self.data {
            v["data"] = d.clone();
        }
        v
    }
}

impl From<crate::SequencerError> for RpcError {
    fn from(e: crate::SequencerError) -> Self {
        RpcError::internal(e)
    }
}

/// Result alias of RPC handlers.
pub type RpcResult<T = Value> = Result<T, RpcError>;
