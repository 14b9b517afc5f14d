//! The agent's view of the L2: marketplace views and calls through alloy, with retries on
//! transport failures and decoded revert reasons.
//!
//! Reads (`eth_call`, `eth_getLogs`, balances, receipts) are retried with exponential backoff;
//! a transaction is sent once (the fillers estimate gas, so a call the chain would refuse fails
//! here with its decoded custom error) and its receipt is polled. A send is never blindly
//! retried: the agent re-reads the job from the chain and decides again, so a lost response can
//! at worst cost one reverted transaction, never a second acceptance or attestation.

use std::future::Future;
use std::time::{Duration, Instant};

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{BlockNumberOrTag, Filter, TransactionReceipt, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::TransportError;
use alloy_sol_types::{SolCall, SolEvent};
use ctm_core::abi::{IMarketplace as M, describe};
use ctm_core::system::MARKETPLACE;

use crate::error::{ExecutorError, Result};

/// Most blocks asked for in one `eth_getLogs` (the node allows 10,000).
pub const LOG_CHUNK: u64 = 5_000;

/// How reads are retried.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Attempts per read (at least 1).
    pub attempts: u32,
    /// First backoff; doubles per attempt up to 8 s.
    pub backoff: Duration,
    /// How long to wait for a transaction's receipt.
    pub receipt_timeout: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 6,
            backoff: Duration::from_millis(250),
            receipt_timeout: Duration::from_secs(120),
        }
    }
}

/// A revert: the decoded reason and the raw revert data.
#[derive(Debug, Clone)]
pub struct Revert {
    /// Readable reason ([`ctm_core::abi::describe`], or the node's message).
    pub reason: String,
    /// The revert data (a custom error), empty if the node gave none.
    pub data: Bytes,
}

/// A connection to the L2 with the provider's wallet.
#[derive(Debug, Clone)]
pub struct Chain {
    provider: DynProvider,
    /// The provider's address.
    pub address: Address,
    /// The L2 chain id (from `eth_chainId`).
    pub chain_id: u64,
    retry: Retry,
    url: String,
}

/// Whether a transport error is worth retrying: everything but a node's JSON-RPC error
/// response, unless that response says to retry (rate limits).
fn retryable(e: &TransportError) -> bool {
    match e.as_error_resp() {
        Some(p) => p.is_retry_err(),
        None => true,
    }
}

/// The revert inside a node error, if it is one.
fn revert_of(e: &TransportError) -> Option<Revert> {
    let p = e.as_error_resp()?;
    let data = p.as_revert_data();
    let is_revert = data.is_some() || p.code == 3 || p.message.contains("revert");
    is_revert.then(|| {
        let data = data.unwrap_or_default();
        let reason = describe(&data).unwrap_or_else(|| p.message.to_string());
        Revert { reason, data }
    })
}

impl Chain {
    /// Connects to `url` and reads the chain id (retrying while the node is not up yet).
    pub async fn connect(url: &str, key: PrivateKeySigner, retry: Retry) -> Result<Chain> {
        let parsed = url.parse().map_err(|e| ExecutorError::Rpc {
            what: format!("URL {url}"),
            reason: format!("not a URL: {e}"),
        })?;
        let address = key.address();
        let provider =
            ProviderBuilder::new().wallet(EthereumWallet::from(key)).connect_http(parsed).erased();
        let mut chain = Chain { provider, address, chain_id: 0, retry, url: url.to_string() };
        chain.chain_id =
            chain.read("eth_chainId", |p| async move { p.get_chain_id().await }).await?;
        Ok(chain)
    }

    /// Runs a read with retries on transport failures.
    async fn read<T, F, Fut>(&self, what: &str, f: F) -> Result<T>
    where
        F: Fn(DynProvider) -> Fut,
        Fut: Future<Output = std::result::Result<T, TransportError>>,
    {
        let mut backoff = self.retry.backoff;
        let attempts = self.retry.attempts.max(1);
        for attempt in 1..=attempts {
            match f(self.provider.clone()).await {
                Ok(v) => return Ok(v),
                Err(e) if attempt < attempts && retryable(&e) => {
                    tracing::warn!(
                        "RPC {what} at {} failed (attempt {attempt}/{attempts}): {e}; retrying in \
                         {backoff:?}",
                        self.url
                    );
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(8));
                }
                Err(e) => {
                    let reason = match revert_of(&e) {
                        Some(r) => format!("reverted: {}", r.reason),
                        None => e.to_string(),
                    };
                    return Err(ExecutorError::Rpc {
                        what: format!("{what} at {} (attempt {attempt}/{attempts})", self.url),
                        reason,
                    });
                }
            }
        }
        unreachable!("the loop returns on its last attempt")
    }

    /// A marketplace view call.
    pub async fn view<C: SolCall + Clone>(&self, call: C) -> Result<C::Return> {
        let data = call.abi_encode();
        let out = self
            .read(C::SIGNATURE, |p| {
                let tx =
                    TransactionRequest::default().with_to(MARKETPLACE).with_input(data.clone());
                async move { p.call(tx).await }
            })
            .await?;
        C::abi_decode_returns(&out).map_err(|e| ExecutorError::Rpc {
            what: C::SIGNATURE.to_string(),
            reason: format!("undecodable result: {e}"),
        })
    }

    /// `getJob(id)`.
    pub async fn job(&self, id: u64) -> Result<M::JobInfo> {
        self.view(M::getJobCall { jobId: id }).await
    }

    /// `getProvider(address)`.
    pub async fn provider_info(&self, who: Address) -> Result<M::ProviderInfo> {
        self.view(M::getProviderCall { provider: who }).await
    }

    /// The latest block number.
    pub async fn block_number(&self) -> Result<u64> {
        self.read("eth_blockNumber", |p| async move { p.get_block_number().await }).await
    }

    /// The latest block's timestamp (the chain's clock for deadlines and windows).
    pub async fn now(&self) -> Result<u64> {
        let block = self
            .read("eth_getBlockByNumber(latest)", |p| async move {
                p.get_block_by_number(BlockNumberOrTag::Latest).await
            })
            .await?;
        block.map(|b| b.header.timestamp).ok_or_else(|| ExecutorError::Rpc {
            what: "eth_getBlockByNumber(latest)".into(),
            reason: "no latest block".into(),
        })
    }

    /// A balance.
    pub async fn balance(&self, who: Address) -> Result<U256> {
        self.read("eth_getBalance", |p| async move { p.get_balance(who).await }).await
    }

    /// Ids of the jobs assigned to this provider (`JobAssigned` logs) in blocks `from..=to`,
    /// in order, asked for in chunks of [`LOG_CHUNK`] blocks.
    pub async fn assigned_jobs(&self, from: u64, to: u64) -> Result<Vec<u64>> {
        let mut ids = Vec::new();
        let mut start = from;
        while start <= to {
            let end = to.min(start + LOG_CHUNK - 1);
            let filter = Filter::new()
                .address(MARKETPLACE)
                .event_signature(M::JobAssigned::SIGNATURE_HASH)
                .topic2(self.address.into_word())
                .from_block(start)
                .to_block(end);
            let logs = self
                .read("eth_getLogs(JobAssigned)", |p| {
                    let f = filter.clone();
                    async move { p.get_logs(&f).await }
                })
                .await?;
            for log in logs {
                match M::JobAssigned::decode_log_data(log.data()) {
                    Ok(e) => ids.push(e.jobId),
                    Err(e) => tracing::warn!("skipping an undecodable JobAssigned log: {e}"),
                }
            }
            start = end + 1;
        }
        Ok(ids)
    }

    /// Simulates a marketplace call from the provider (`eth_call`): `Ok(Err(revert))` if the
    /// chain would refuse it now.
    pub async fn simulate<C: SolCall>(
        &self,
        call: &C,
        value: U256,
    ) -> Result<std::result::Result<(), Revert>> {
        let tx = TransactionRequest::default()
            .from(self.address)
            .with_to(MARKETPLACE)
            .with_input(call.abi_encode())
            .with_value(value);
        let mut backoff = self.retry.backoff;
        let attempts = self.retry.attempts.max(1);
        for attempt in 1..=attempts {
            match self.provider.call(tx.clone()).await {
                Ok(_) => return Ok(Ok(())),
                Err(e) => {
                    if let Some(r) = revert_of(&e) {
                        return Ok(Err(r));
                    }
                    if attempt == attempts || !retryable(&e) {
                        return Err(ExecutorError::Rpc {
                            what: format!("eth_call {}", C::SIGNATURE),
                            reason: e.to_string(),
                        });
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(8));
                }
            }
        }
        unreachable!("the loop returns on its last attempt")
    }

    /// Sends a marketplace call with `value` and waits for its receipt; a refused or reverted
    /// call is [`ExecutorError::Reverted`]. Returns the receipt (for the gas paid).
    pub async fn send<C: SolCall>(&self, call: &C, value: U256) -> Result<TransactionReceipt> {
        self.send_with_gas(call, value, None).await
    }

    /// [`Chain::send`] with a fixed gas limit (`None`: estimated). A fixed limit skips
    /// `eth_estimateGas`, which runs against the head block: a call that only becomes valid at
    /// the next block's timestamp (settling after the challenge window on a chain that makes
    /// no empty blocks) would fail the estimate.
    pub async fn send_with_gas<C: SolCall>(
        &self,
        call: &C,
        value: U256,
        gas: Option<u64>,
    ) -> Result<TransactionReceipt> {
        let what = C::SIGNATURE;
        let mut tx = TransactionRequest::default()
            .with_to(MARKETPLACE)
            .with_input(call.abi_encode())
            .with_value(value);
        if let Some(gas) = gas {
            tx = tx.with_gas_limit(gas);
        }
        let pending =
            self.provider.send_transaction(tx).await.map_err(|e| match revert_of(&e) {
                Some(r) => ExecutorError::Reverted { what: what.to_string(), reason: r.reason },
                None => ExecutorError::Rpc { what: format!("send {what}"), reason: e.to_string() },
            })?;
        let hash = *pending.tx_hash();
        tracing::debug!("sent {what}: {hash}");
        let receipt = self.receipt(what, hash).await?;
        if !receipt.status() {
            return Err(ExecutorError::Reverted {
                what: what.to_string(),
                reason: format!("transaction {hash} reverted in block {:?}", receipt.block_number),
            });
        }
        Ok(receipt)
    }

    /// Polls for a transaction's receipt until [`Retry::receipt_timeout`].
    async fn receipt(&self, what: &str, hash: B256) -> Result<TransactionReceipt> {
        let start = Instant::now();
        loop {
            let r = self
                .read("eth_getTransactionReceipt", |p| async move {
                    p.get_transaction_receipt(hash).await
                })
                .await?;
            if let Some(r) = r {
                return Ok(r);
            }
            if start.elapsed() > self.retry.receipt_timeout {
                return Err(ExecutorError::Rpc {
                    what: format!("{what} transaction {hash}"),
                    reason: format!("no receipt after {:?}", self.retry.receipt_timeout),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Gas paid by a receipt, in base units.
pub fn gas_paid(r: &TransactionReceipt) -> U256 {
    U256::from(r.gas_used) * U256::from(r.effective_gas_price)
}
