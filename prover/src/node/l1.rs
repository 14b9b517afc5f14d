//! The Rollup as the node uses it: batch heads and status, the committed public inputs, the
//! L1→L2 queue entries (from `QueueEntryAdded` logs), `proveBatch` and `finalizeBatch`.

use std::collections::BTreeMap;
use std::time::Duration;

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{Filter, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent};
use ctm_core::l1::IRollup;

use super::error::{NodeError, Result};
use crate::public::{PublicInputs, QueueEntry};

/// Blocks per `eth_getLogs` request.
const LOG_CHUNK: u64 = 5_000;
/// How long to wait for a `proveBatch` or `finalizeBatch` receipt.
const RECEIPT_TIMEOUT: Duration = Duration::from_secs(120);

fn l1_err(what: &str, e: impl std::fmt::Display) -> NodeError {
    NodeError::L1(format!("{what}: {e}"))
}

/// The Rollup's batch pointers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Heads {
    /// `lastCommittedBatch`.
    pub committed: u64,
    /// `lastFinalizedBatch`.
    pub finalized: u64,
}

/// An L1 client of the Rollup that signs with the prover's key.
#[derive(Clone, Debug)]
pub struct RollupClient {
    provider: DynProvider,
    rollup: Address,
    prover: Address,
}

impl RollupClient {
    /// Connects (lazily) to `url` (HTTP) with `key` as the signer.
    pub fn new(url: &str, rollup: Address, key: PrivateKeySigner) -> Result<Self> {
        let url = url.parse().map_err(|e| NodeError::Config(format!("--l1-rpc: {e}")))?;
        let prover = key.address();
        let provider =
            ProviderBuilder::new().wallet(EthereumWallet::from(key)).connect_http(url).erased();
        Ok(Self { provider, rollup, prover })
    }

    /// The submitting account.
    pub fn prover(&self) -> Address {
        self.prover
    }

    /// The provider.
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    async fn call<C: SolCall>(&self, call: C) -> Result<C::Return> {
        let req = TransactionRequest::default().with_to(self.rollup).with_input(call.abi_encode());
        let out = self.provider.call(req).await.map_err(|e| l1_err("eth_call", e))?;
        C::abi_decode_returns(&out).map_err(|e| l1_err("decoding a Rollup return", e))
    }

    /// The L1 chain id.
    pub async fn chain_id(&self) -> Result<u64> {
        self.provider.get_chain_id().await.map_err(|e| l1_err("eth_chainId", e))
    }

    /// `lastCommittedBatch` and `lastFinalizedBatch`.
    pub async fn heads(&self) -> Result<Heads> {
        let committed = self.call(IRollup::lastCommittedBatchCall {}).await?;
        let finalized = self.call(IRollup::lastFinalizedBatchCall {}).await?;
        Ok(Heads { committed, finalized })
    }

    /// Who proved batch `index` (zero while unproven).
    pub async fn prover_of(&self, index: u64) -> Result<Address> {
        Ok(self.call(IRollup::batchCall { batchIndex: U256::from(index) }).await?.prover)
    }

    /// The public inputs L1 committed for batch `index`.
    pub async fn public_inputs(&self, index: u64) -> Result<PublicInputs> {
        let bytes =
            self.call(IRollup::encodedPublicInputsCall { batchIndex: U256::from(index) }).await?;
        PublicInputs::from_abi(&bytes).map_err(|e| l1_err("decoding public inputs", e))
    }

    /// Sends `proveBatch(index, proof)` and waits for its receipt. A call that would revert
    /// (invalid proof, already proven) fails at gas estimation and costs nothing.
    pub async fn prove_batch(&self, index: u64, proof: Vec<u8>) -> Result<B256> {
        let call =
            IRollup::proveBatchCall { batchIndex: U256::from(index), proof: Bytes::from(proof) };
        self.send(index, call).await
    }

    /// Sends `finalizeBatch(index)` and waits for its receipt. A call that would revert (not
    /// the next batch, not proven) fails at gas estimation and costs nothing.
    pub async fn finalize_batch(&self, index: u64) -> Result<B256> {
        self.send(index, IRollup::finalizeBatchCall { batchIndex: U256::from(index) }).await
    }

    /// Sends `call` about batch `index` to the Rollup with a gas margin over its estimate and
    /// waits for the receipt; a mined revert is [`NodeError::Reverted`].
    async fn send<C: SolCall>(&self, index: u64, call: C) -> Result<B256> {
        let what = C::SIGNATURE.split('(').next().unwrap_or(C::SIGNATURE);
        let req = TransactionRequest::default().with_to(self.rollup).with_input(call.abi_encode());
        let estimate = self
            .provider
            .estimate_gas(req.clone())
            .await
            .map_err(|e| l1_err(&format!("estimating {what}({index})"), e))?;
        let req = req.with_gas_limit(ctm_core::l1::gas_limit_with_margin(estimate));
        let pending = self
            .provider
            .send_transaction(req)
            .await
            .map_err(|e| l1_err(&format!("sending {what}({index})"), e))?;
        let receipt = pending
            .with_timeout(Some(RECEIPT_TIMEOUT))
            .get_receipt()
            .await
            .map_err(|e| l1_err(&format!("{what}({index}) receipt"), e))?;
        if !receipt.status() {
            return Err(NodeError::Reverted {
                call: what,
                batch: index,
                tx: receipt.transaction_hash,
            });
        }
        Ok(receipt.transaction_hash)
    }

    /// The decoded `QueueEntryAdded` logs of blocks `from..=to`.
    async fn queue_logs(&self, from: u64, to: u64) -> Result<Vec<QueueEntry>> {
        let filter = Filter::new()
            .address(self.rollup)
            .event_signature(IRollup::QueueEntryAdded::SIGNATURE_HASH)
            .from_block(from)
            .to_block(to);
        let logs = self.provider.get_logs(&filter).await.map_err(|e| l1_err("eth_getLogs", e))?;
        logs.iter()
            .map(|log| {
                let e = IRollup::QueueEntryAdded::decode_log_data(&log.inner.data)
                    .map_err(|e| l1_err("decoding QueueEntryAdded", e))?;
                Ok(QueueEntry {
                    index: u64::try_from(e.index)
                        .map_err(|_| l1_err("queue", "index above 2^64"))?,
                    kind: e.kind,
                    l1_sender: e.l1Sender,
                    l2_target: e.l2Target,
                    amount: u128::try_from(e.amount)
                        .map_err(|_| l1_err("queue", "amount above 2^128"))?,
                    data_hash: e.dataHash,
                    timestamp: e.timestamp,
                })
            })
            .collect()
    }
}

/// The L1→L2 queue entries seen so far, read from logs incrementally.
#[derive(Debug)]
pub struct QueueLog {
    next_block: u64,
    entries: BTreeMap<u64, QueueEntry>,
}

impl QueueLog {
    /// Scans from `deploy_block` on.
    pub fn new(deploy_block: u64) -> Self {
        Self { next_block: deploy_block, entries: BTreeMap::new() }
    }

    /// Entries `start..start + count`, scanning new L1 blocks when some are missing.
    pub async fn range(
        &mut self,
        l1: &RollupClient,
        start: u64,
        count: u64,
    ) -> Result<Vec<QueueEntry>> {
        let end = start.checked_add(count).ok_or_else(|| l1_err("queue", "range overflows"))?;
        if !(start..end).all(|i| self.entries.contains_key(&i)) {
            self.scan(l1).await?;
        }
        (start..end)
            .map(|i| {
                self.entries
                    .get(&i)
                    .cloned()
                    .ok_or_else(|| l1_err("queue", format!("no QueueEntryAdded log for entry {i}")))
            })
            .collect()
    }

    /// Reads the logs of every block not scanned yet.
    async fn scan(&mut self, l1: &RollupClient) -> Result<()> {
        let head =
            l1.provider().get_block_number().await.map_err(|e| l1_err("eth_blockNumber", e))?;
        while self.next_block <= head {
            let to = head.min(self.next_block.saturating_add(LOG_CHUNK - 1));
            for e in l1.queue_logs(self.next_block, to).await? {
                self.entries.insert(e.index, e);
            }
            self.next_block = to + 1;
        }
        Ok(())
    }
}
