//! The `eth_*`, `net_*`, `web3_*` and `ctm_*` methods.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use alloy::consensus::transaction::SignerRecoverable;
use alloy::consensus::{Transaction as _, TxEnvelope};
use alloy::eips::{BlockId, BlockNumberOrTag, Decodable2718, Typed2718};
use alloy::primitives::{Address, B256, Bytes, TxKind, U256};
use alloy::rpc::types::{Filter, FilterBlockOption, Log, TransactionRequest};
use alloy_sol_types::SolError;
use ctm_core::op::Executor;
use revm::context::TxEnv;
use revm::context_interface::result::{EVMError, ExecutionResult};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::convert::{decode_tx, rpc_block, rpc_logs, rpc_pending_tx, rpc_receipt, rpc_tx};
use super::error::{RpcError, RpcResult};
use super::filters::Filters;
use crate::exec::{BlockContext, run_evm, system_marker_code};
use crate::node::Node;
use crate::system;
use crate::types::{PooledTx, StoredBlock};

/// Largest accepted raw transaction.
pub const MAX_TX_BYTES: usize = 128 * 1024;
/// Most blocks one `eth_getLogs` may scan.
pub const MAX_LOG_RANGE: u64 = 10_000;
/// Most logs one `eth_getLogs` may return.
pub const MAX_LOGS: usize = 20_000;
/// Suggested priority fee (wei per gas).
pub const SUGGESTED_TIP: u128 = 1_000_000;
/// Client version string.
pub const CLIENT_VERSION: &str = concat!("computronium/v", env!("CARGO_PKG_VERSION"));

/// Positional parameters.
#[derive(Debug)]
pub struct Params(Vec<Value>);

impl Params {
    /// Wraps the `params` member (absent = none; must be an array).
    pub fn new(v: Option<Value>) -> RpcResult<Self> {
        match v {
            None | Some(Value::Null) => Ok(Self(vec![])),
            Some(Value::Array(a)) => Ok(Self(a)),
            Some(_) => Err(RpcError::invalid_params("params must be an array")),
        }
    }
    /// Required parameter `i`.
    pub fn get<T: DeserializeOwned>(&self, i: usize) -> RpcResult<T> {
        let v = self
            .0
            .get(i)
            .ok_or_else(|| RpcError::invalid_params(format!("missing parameter {i}")))?;
        serde_json::from_value(v.clone())
            .map_err(|e| RpcError::invalid_params(format!("parameter {i}: {e}")))
    }
    /// Optional parameter `i`.
    pub fn opt<T: DeserializeOwned>(&self, i: usize) -> RpcResult<Option<T>> {
        match self.0.get(i) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.get(i).map(Some),
        }
    }
    /// Fails if more than `n` parameters were given.
    pub fn at_most(&self, n: usize) -> RpcResult<()> {
        if self.0.len() > n {
            return Err(RpcError::invalid_params(format!(
                "too many parameters: expected at most {n}, got {}",
                self.0.len()
            )));
        }
        Ok(())
    }
}

fn to_json<T: serde::Serialize>(v: T) -> RpcResult {
    serde_json::to_value(v).map_err(RpcError::internal)
}

/// `ctm_` records: u128 amounts kept exact (integers beyond 2^53 − 1 as decimal strings).
fn exact_json<T: serde::Serialize>(v: &T) -> RpcResult {
    super::exact::to_exact_json(v).map_err(RpcError::internal)
}

fn hex_u64(n: u64) -> Value {
    json!(format!("0x{n:x}"))
}

fn hex_u128(n: u128) -> Value {
    json!(format!("0x{n:x}"))
}

/// The method handlers, shared by HTTP and WebSocket.
#[derive(Debug)]
pub struct EthApi {
    /// The node.
    pub node: Arc<Node>,
    /// Installed filters.
    pub filters: Filters,
}

impl EthApi {
    /// Handlers over `node`.
    pub fn new(node: Arc<Node>) -> Self {
        Self { node, filters: Filters::default() }
    }

    /// Runs one method.
    pub fn call(&self, method: &str, p: &Params) -> RpcResult {
        let started = std::time::Instant::now();
        let out = self.dispatch(method, p);
        let label =
            if KNOWN.contains(&method) { method.to_string() } else { "unknown".to_string() };
        metrics::histogram!("ctm_rpc_latency_seconds", "method" => label.clone())
            .record(started.elapsed().as_secs_f64());
        if out.is_err() {
            metrics::counter!("ctm_rpc_errors_total", "method" => label).increment(1);
        }
        out
    }

    fn dispatch(&self, method: &str, p: &Params) -> RpcResult {
        let node = &self.node;
        match method {
            "web3_clientVersion" => Ok(json!(CLIENT_VERSION)),
            "web3_sha3" => Ok(to_json(alloy::primitives::keccak256(p.get::<Bytes>(0)?))?),
            "net_version" => Ok(json!(node.chain_id().to_string())),
            "net_listening" => Ok(json!(true)),
            "net_peerCount" => Ok(json!("0x0")),
            "eth_chainId" => Ok(hex_u64(node.chain_id())),
            "eth_syncing" => Ok(json!(false)),
            "eth_accounts" => Ok(json!([])),
            "eth_blockNumber" => Ok(hex_u64(node.head().block.header.number)),
            "eth_gasPrice" => Ok(hex_u128(u128::from(node.next_base_fee()) + SUGGESTED_TIP)),
            "eth_maxPriorityFeePerGas" => Ok(hex_u128(SUGGESTED_TIP)),
            "eth_feeHistory" => self.fee_history(p),
            "eth_getBalance" => self.balance(p),
            "eth_getTransactionCount" => self.nonce(p),
            "eth_getCode" => {
                let addr: Address = p.get(0)?;
                self.block_number(p.opt(1)?)?;
                let code = if system::is_system(&addr) {
                    system_marker_code().original_bytes()
                } else {
                    Bytes::new()
                };
                to_json(code)
            }
            "eth_getStorageAt" => {
                let _: Address = p.get(0)?;
                let _: U256 = p.get(1)?;
                self.block_number(p.opt(2)?)?;
                to_json(B256::ZERO)
            }
            "eth_call" => self.eth_call(p, false),
            "eth_estimateGas" => self.eth_call(p, true),
            "eth_sendRawTransaction" => self.send_raw(p),
            "eth_getTransactionByHash" => self.tx_by_hash(p),
            "eth_getTransactionReceipt" => self.receipt(p),
            "eth_getBlockByNumber" => {
                let n = self.block_number(Some(BlockId::Number(p.get(0)?)))?;
                self.block(n, p.opt::<bool>(1)?.unwrap_or(false))
            }
            "eth_getBlockByHash" => match node.storage.block_number(&p.get(0)?)? {
                Some(n) => self.block(n, p.opt::<bool>(1)?.unwrap_or(false)),
                None => Ok(Value::Null),
            },
            "eth_getBlockTransactionCountByNumber" => {
                let n = self.block_number(Some(BlockId::Number(p.get(0)?)))?;
                Ok(node
                    .storage
                    .block(n)?
                    .map_or(Value::Null, |b| hex_u64(b.tx_hashes.len() as u64)))
            }
            "eth_getBlockReceipts" => self.block_receipts(p),
            "eth_getLogs" => to_json(self.logs(&p.get::<Filter>(0)?)?),
            "eth_newFilter" => {
                let f: Filter = p.get(0)?;
                Ok(json!(self.filters.new_logs(f, node.head().block.header.number)))
            }
            "eth_newBlockFilter" => {
                Ok(json!(self.filters.new_blocks(node.head().block.header.number)))
            }
            "eth_newPendingTransactionFilter" => Ok(json!(self.filters.new_pending())),
            "eth_getFilterChanges" => self.filters.changes(self, &p.get::<String>(0)?),
            "eth_getFilterLogs" => self.filters.all_logs(self, &p.get::<String>(0)?),
            "eth_uninstallFilter" => Ok(json!(self.filters.uninstall(&p.get::<String>(0)?))),
            "ctm_getBlockOps" => {
                let n = self.block_number(Some(BlockId::Number(p.get(0)?)))?;
                exact_json(&node.storage.ops(n)?)
            }
            "ctm_stateRoot" => to_json(node.state_root()),
            "ctm_getBatch" => {
                let i: U256 = p.get(0)?;
                exact_json(&node.storage.batch(i.saturating_to())?)
            }
            "ctm_getBatchWitness" => self.batch_witness(p),
            "ctm_getWithdrawalProof" => self.withdrawal_proof(p),
            "eth_subscribe" | "eth_unsubscribe" => Err(RpcError::server(
                "notifications not supported over HTTP: use a WebSocket connection",
            )),
            _ => Err(RpcError::method_not_found(method)),
        }
    }

    /// Resolves a block id to a number at or below the head.
    pub fn block_number(&self, id: Option<BlockId>) -> RpcResult<u64> {
        let head = self.node.head();
        let n = match id.unwrap_or(BlockId::Number(BlockNumberOrTag::Latest)) {
            BlockId::Hash(h) => self
                .node
                .storage
                .block_number(&h.block_hash)?
                .ok_or_else(|| RpcError::server("header not found"))?,
            BlockId::Number(tag) => match tag {
                BlockNumberOrTag::Latest | BlockNumberOrTag::Pending => head.block.header.number,
                BlockNumberOrTag::Earliest => 0,
                BlockNumberOrTag::Safe => head.safe,
                BlockNumberOrTag::Finalized => head.finalized,
                BlockNumberOrTag::Number(n) => n,
            },
        };
        if n > head.block.header.number {
            return Err(RpcError::server("header not found"));
        }
        Ok(n)
    }

    fn is_pending(id: &Option<BlockId>) -> bool {
        matches!(id, Some(BlockId::Number(BlockNumberOrTag::Pending)))
    }

    fn account_at(
        &self,
        addr: &Address,
        id: Option<BlockId>,
    ) -> RpcResult<ctm_core::state::Account> {
        let head = self.node.head().block.header.number;
        let n = self.block_number(id)?;
        if n == head {
            return Ok(self.node.account(addr)?);
        }
        Ok(self.node.storage.account_at(addr, n)?.unwrap_or_default())
    }

    fn balance(&self, p: &Params) -> RpcResult {
        p.at_most(2)?;
        let acct = self.account_at(&p.get(0)?, p.opt(1)?)?;
        to_json(U256::from(acct.balance))
    }

    fn nonce(&self, p: &Params) -> RpcResult {
        p.at_most(2)?;
        let addr: Address = p.get(0)?;
        let id: Option<BlockId> = p.opt(1)?;
        let acct = self.account_at(&addr, id)?;
        if Self::is_pending(&id) {
            let pool = self.node.pool.lock().map_err(RpcError::internal)?;
            return Ok(hex_u64(pool.pending_nonce(&addr, acct.nonce)));
        }
        Ok(hex_u64(acct.nonce))
    }

    fn block(&self, n: u64, full: bool) -> RpcResult {
        let Some(block) = self.node.storage.block(n)? else { return Ok(Value::Null) };
        let txs = if full {
            let mut out = Vec::with_capacity(block.tx_hashes.len());
            for h in &block.tx_hashes {
                let stored =
                    self.node.storage.tx(h)?.ok_or_else(|| RpcError::internal("missing tx"))?;
                let price = self.node.storage.receipt(h)?.map(|r| r.effective_gas_price);
                out.push(rpc_tx(&stored, &block, price)?);
            }
            Some(out)
        } else {
            None
        };
        to_json(rpc_block(&block, txs))
    }

    fn tx_by_hash(&self, p: &Params) -> RpcResult {
        let hash: B256 = p.get(0)?;
        if let Some(stored) = self.node.storage.tx(&hash)? {
            let block = self
                .node
                .storage
                .block(stored.block)?
                .ok_or_else(|| RpcError::internal("missing block"))?;
            let price = self.node.storage.receipt(&hash)?.map(|r| r.effective_gas_price);
            return to_json(rpc_tx(&stored, &block, price)?);
        }
        let pool = self.node.pool.lock().map_err(RpcError::internal)?;
        match pool.get(&hash) {
            Some(t) => to_json(rpc_pending_tx(&t.tx, t.sender)),
            None => Ok(Value::Null),
        }
    }

    fn receipt(&self, p: &Params) -> RpcResult {
        let hash: B256 = p.get(0)?;
        let (Some(stored), Some(r)) =
            (self.node.storage.tx(&hash)?, self.node.storage.receipt(&hash)?)
        else {
            return Ok(Value::Null);
        };
        let block = self
            .node
            .storage
            .block(stored.block)?
            .ok_or_else(|| RpcError::internal("missing block"))?;
        to_json(rpc_receipt(hash, &stored, &r, &block))
    }

    fn block_receipts(&self, p: &Params) -> RpcResult {
        let n = self.block_number(Some(p.get::<BlockId>(0)?))?;
        let Some(block) = self.node.storage.block(n)? else { return Ok(Value::Null) };
        let mut out = Vec::with_capacity(block.tx_hashes.len());
        for h in &block.tx_hashes {
            let (Some(stored), Some(r)) = (self.node.storage.tx(h)?, self.node.storage.receipt(h)?)
            else {
                return Err(RpcError::internal("missing receipt"));
            };
            out.push(rpc_receipt(*h, &stored, &r, &block));
        }
        to_json(out)
    }

    /// The logs of blocks `from..=to` matching `filter`.
    pub fn logs_in(&self, filter: &Filter, from: u64, to: u64) -> RpcResult<Vec<Log>> {
        if to >= from && to - from >= MAX_LOG_RANGE {
            return Err(RpcError::limit(format!(
                "block range too large: at most {MAX_LOG_RANGE} blocks"
            )));
        }
        let mut out = Vec::new();
        for n in from..=to {
            let Some(block) = self.node.storage.block(n)? else { break };
            self.block_logs(filter, &block, &mut out)?;
            if out.len() > MAX_LOGS {
                return Err(RpcError::limit(format!("query returned more than {MAX_LOGS} logs")));
            }
        }
        Ok(out)
    }

    fn block_logs(
        &self,
        filter: &Filter,
        block: &StoredBlock,
        out: &mut Vec<Log>,
    ) -> RpcResult<()> {
        if !filter.matches_bloom(block.header.logs_bloom) {
            return Ok(());
        }
        for h in &block.tx_hashes {
            let (Some(stored), Some(r)) = (self.node.storage.tx(h)?, self.node.storage.receipt(h)?)
            else {
                continue;
            };
            out.extend(
                rpc_logs(*h, &stored, &r, block).into_iter().filter(|l| filter.matches(&l.inner)),
            );
        }
        Ok(())
    }

    fn logs(&self, filter: &Filter) -> RpcResult<Vec<Log>> {
        match filter.block_option {
            FilterBlockOption::AtBlockHash(h) => {
                let n = self
                    .node
                    .storage
                    .block_number(&h)?
                    .ok_or_else(|| RpcError::server("unknown block"))?;
                let block = self
                    .node
                    .storage
                    .block(n)?
                    .ok_or_else(|| RpcError::internal("missing block"))?;
                let mut out = Vec::new();
                self.block_logs(filter, &block, &mut out)?;
                Ok(out)
            }
            FilterBlockOption::Range { from_block, to_block } => {
                let from =
                    self.block_number(Some(BlockId::Number(from_block.unwrap_or_default())))?;
                let to = self.block_number(Some(BlockId::Number(to_block.unwrap_or_default())))?;
                if from > to {
                    return Ok(vec![]);
                }
                self.logs_in(filter, from, to)
            }
        }
    }

    fn fee_history(&self, p: &Params) -> RpcResult {
        let count: U256 = p.get(0)?;
        let count = count.saturating_to::<u64>().clamp(1, 1024);
        let newest = self.block_number(Some(BlockId::Number(p.get(1)?)))?;
        let percentiles: Option<Vec<f64>> = p.opt(2)?;
        if let Some(ps) = &percentiles
            && (ps.len() > 100
                || ps.windows(2).any(|w| w[0] > w[1])
                || ps.iter().any(|x| !(0.0..=100.0).contains(x)))
        {
            return Err(RpcError::invalid_params(
                "reward percentiles must be ascending values in 0..=100",
            ));
        }
        let oldest = newest.saturating_sub(count - 1);
        let mut base_fees = Vec::new();
        let mut ratios = Vec::new();
        let mut rewards = Vec::new();
        let mut last = None;
        for n in oldest..=newest {
            let b =
                self.node.storage.block(n)?.ok_or_else(|| RpcError::internal("missing block"))?;
            let base = b.header.base_fee_per_gas.unwrap_or_default();
            base_fees.push(hex_u128(u128::from(base)));
            ratios.push(b.header.gas_used as f64 / b.header.gas_limit.max(1) as f64);
            if let Some(ps) = &percentiles {
                let mut tips = Vec::new();
                for h in &b.tx_hashes {
                    if let Some(r) = self.node.storage.receipt(h)? {
                        tips.push(r.effective_gas_price.saturating_sub(u128::from(base)));
                    }
                }
                tips.sort_unstable();
                rewards.push(
                    ps.iter()
                        .map(|pc| {
                            let i = ((pc / 100.0) * tips.len() as f64).ceil() as usize;
                            hex_u128(tips.get(i.saturating_sub(1)).copied().unwrap_or(0))
                        })
                        .collect::<Vec<_>>(),
                );
            }
            last = Some(b);
        }
        let next = match last {
            Some(b) if b.header.number == self.node.head().block.header.number => {
                u128::from(self.node.next_base_fee())
            }
            Some(b) => u128::from(b.header.base_fee_per_gas.unwrap_or_default()),
            None => 0,
        };
        base_fees.push(hex_u128(next));
        let mut out = json!({ "oldestBlock": hex_u64(oldest), "baseFeePerGas": base_fees, "gasUsedRatio": ratios });
        if percentiles.is_some() {
            out["reward"] = json!(rewards);
        }
        Ok(out)
    }

    fn eth_call(&self, p: &Params, estimate: bool) -> RpcResult {
        p.at_most(3)?;
        let req: TransactionRequest = p.get(0)?;
        let id: Option<BlockId> = p.opt(1)?;
        let head = self.node.head().block;
        let n = self.block_number(id)?;
        if n != head.header.number {
            return Err(RpcError::server(
                "historical state is not available for calls: use latest or pending",
            ));
        }
        let Some(TxKind::Call(to)) = req.to else {
            return Err(RpcError::server("contract creation is not supported on Computronium"));
        };
        let chain = &self.node.config.genesis.chain;
        let ctx = BlockContext {
            chain_id: chain.chain_id,
            number: head.header.number + 1,
            // Simulate in the next block, as the transaction would run: its timestamp is now.
            timestamp: crate::node::unix_now().max(head.header.timestamp),
            base_fee: 0,
            gas_limit: chain.block_gas_limit,
            beneficiary: self.node.config.beneficiary,
            providers: self.node.providers(),
        };
        let from = req.from.unwrap_or_default();
        let env = TxEnv {
            tx_type: 2,
            caller: from,
            gas_limit: req.gas.unwrap_or(chain.block_gas_limit).min(chain.block_gas_limit),
            gas_price: 0,
            gas_priority_fee: Some(0),
            kind: TxKind::Call(to),
            value: req.value.unwrap_or_default(),
            data: req.input.input().cloned().unwrap_or_default(),
            nonce: 0,
            chain_id: Some(chain.chain_id),
            ..Default::default()
        };
        if estimate {
            let bal = U256::from(self.node.account(&from)?.balance);
            if env.value > bal {
                return Err(RpcError::server(format!(
                    "insufficient funds for transfer: balance {bal}, value {}",
                    env.value
                )));
            }
        }
        let tree = self.node.state.read().map_err(RpcError::internal)?;
        let exec =
            Rc::new(RefCell::new(Executor::new(&tree, self.node.rules.clone(), ctx.timestamp)));
        let (result, _) = run_evm(&exec, &ctx, env, false).map_err(|e| match e {
            EVMError::Transaction(t) => RpcError::server(t.to_string()),
            other => RpcError::internal(other),
        })?;
        match result {
            ExecutionResult::Success { output, .. } if !estimate => to_json(output.into_data()),
            ExecutionResult::Success { .. } => Ok(hex_u64(result.tx_gas_used())),
            ExecutionResult::Revert { output, .. } => {
                Err(RpcError::reverted(&output, revert_reason(&output)))
            }
            ExecutionResult::Halt { reason, .. } => {
                Err(RpcError::server(format!("execution halted: {reason:?}")))
            }
        }
    }

    fn send_raw(&self, p: &Params) -> RpcResult {
        p.at_most(1)?;
        let raw: Bytes = p.get(0)?;
        let hash = self.admit(raw)?;
        to_json(hash)
    }

    /// Validates a raw transaction and adds it to the pool.
    pub fn admit(&self, raw: Bytes) -> RpcResult<B256> {
        if raw.len() > MAX_TX_BYTES {
            return Err(RpcError::server(format!(
                "oversized data: transaction size {}, limit {MAX_TX_BYTES}",
                raw.len()
            )));
        }
        let tx = TxEnvelope::decode_2718(&mut raw.as_ref()).map_err(|e| {
            RpcError::invalid_params(format!("transaction could not be decoded: {e}"))
        })?;
        let chain = &self.node.config.genesis.chain;
        match &tx {
            TxEnvelope::Legacy(_) | TxEnvelope::Eip2930(_) | TxEnvelope::Eip1559(_) => {}
            _ => {
                return Err(RpcError::server(format!(
                    "transaction type {} not supported",
                    tx.ty()
                )));
            }
        }
        match tx.chain_id() {
            None => {
                return Err(RpcError::server(
                    "only replay-protected (EIP-155) transactions allowed over RPC",
                ));
            }
            Some(id) if id != chain.chain_id => {
                return Err(RpcError::server(format!(
                    "invalid chain id: expected {}, got {id}",
                    chain.chain_id
                )));
            }
            _ => {}
        }
        let TxKind::Call(_) = tx.kind() else {
            return Err(RpcError::server(
                "contract creation is not supported on Computronium: every state change must be provable",
            ));
        };
        if tx.gas_limit() > chain.block_gas_limit {
            return Err(RpcError::server("exceeds block gas limit"));
        }
        if tx.gas_limit() < 21_000 {
            return Err(RpcError::server("intrinsic gas too low"));
        }
        if let Some(tip) = tx.max_priority_fee_per_gas()
            && tip > tx.max_fee_per_gas()
        {
            return Err(RpcError::server("max priority fee per gas higher than max fee per gas"));
        }
        let base_fee = self.node.next_base_fee();
        if tx.max_fee_per_gas() < u128::from(base_fee) {
            return Err(RpcError::server(format!(
                "transaction underpriced: max fee per gas {} less than block base fee {base_fee}",
                tx.max_fee_per_gas()
            )));
        }
        let sender =
            tx.recover_signer().map_err(|e| RpcError::server(format!("invalid sender: {e}")))?;
        let acct = self.node.account(&sender)?;
        if tx.nonce() < acct.nonce {
            return Err(RpcError::server(format!(
                "nonce too low: next nonce {}, tx nonce {}",
                acct.nonce,
                tx.nonce()
            )));
        }
        let cost = U256::from(tx.gas_limit()) * U256::from(tx.max_fee_per_gas()) + tx.value();
        if cost > U256::from(acct.balance) {
            return Err(RpcError::server(format!(
                "insufficient funds for gas * price + value: balance {}, tx cost {cost}",
                acct.balance
            )));
        }
        let hash = *tx.tx_hash();
        let pooled = PooledTx { hash, sender, tx, raw };
        let mut pool = self.node.pool.lock().map_err(RpcError::internal)?;
        pool.insert(pooled, acct.nonce).map_err(|e| RpcError::server(e.to_string()))?;
        metrics::gauge!("ctm_mempool_size").set(pool.len() as f64);
        drop(pool);
        metrics::counter!("ctm_transactions_received_total").increment(1);
        self.filters.record_pending(hash);
        let _ = self.node.events.send(crate::node::ChainEvent::PendingTx(hash));
        Ok(hash)
    }

    fn batch_witness(&self, p: &Params) -> RpcResult {
        let i: U256 = p.get(0)?;
        let Some(b) = self.node.storage.batch(i.saturating_to())? else { return Ok(Value::Null) };
        let mut blocks = Vec::new();
        for n in b.from_block..=b.to_block {
            blocks.push(
                self.node
                    .storage
                    .ops(n)?
                    .ok_or_else(|| RpcError::internal(format!("ops of block {n} missing")))?,
            );
        }
        let data = crate::l1::encode_batch_data(&self.node, b.from_block, b.to_block)?;
        let witness = crate::types::BatchWitness { batch: b, blocks, batch_data: data };
        // Amounts are u128, which serde_json's `Value` numbers cannot hold above 2^64: the
        // witness travels as JSON text (a string result) that decodes them exactly.
        Ok(Value::String(serde_json::to_string(&witness).map_err(RpcError::internal)?))
    }

    fn withdrawal_proof(&self, p: &Params) -> RpcResult {
        let batch: U256 = p.get(0)?;
        let i: U256 = p.get(1)?;
        let Some(b) = self.node.storage.batch(batch.saturating_to())? else {
            return Err(RpcError::not_found("unknown batch"));
        };
        let i: usize = i.saturating_to();
        let proof = ctm_core::l1::withdrawal_proof(&b.withdrawals, i).ok_or_else(|| {
            RpcError::not_found(format!("batch has {} withdrawals", b.withdrawals.len()))
        })?;
        Ok(json!({
            "batchIndex": b.index,
            "index": i,
            "recipient": b.withdrawals[i].recipient,
            "amount": exact_json(&b.withdrawals[i].amount)?,
            "proof": proof,
            "withdrawalRoot": b.withdrawal_root,
            "status": b.status,
        }))
    }

    /// Decodes a stored transaction (for filters and subscriptions).
    pub fn decode(&self, raw: &[u8]) -> RpcResult<TxEnvelope> {
        decode_tx(raw)
    }
}

/// A readable reason for revert data: `Error(string)` or a system contract's custom error.
pub fn revert_reason(data: &[u8]) -> Option<String> {
    if let Ok(e) = alloy_sol_types::Revert::abi_decode(data) {
        return Some(e.reason);
    }
    system::describe(data)
}

/// Method names, for metrics labels (unknown methods share one label).
pub const KNOWN: &[&str] = &[
    "web3_clientVersion",
    "web3_sha3",
    "net_version",
    "net_listening",
    "net_peerCount",
    "eth_chainId",
    "eth_syncing",
    "eth_accounts",
    "eth_blockNumber",
    "eth_gasPrice",
    "eth_maxPriorityFeePerGas",
    "eth_feeHistory",
    "eth_getBalance",
    "eth_getTransactionCount",
    "eth_getCode",
    "eth_getStorageAt",
    "eth_call",
    "eth_estimateGas",
    "eth_sendRawTransaction",
    "eth_getTransactionByHash",
    "eth_getTransactionReceipt",
    "eth_getBlockByNumber",
    "eth_getBlockByHash",
    "eth_getBlockTransactionCountByNumber",
    "eth_getBlockReceipts",
    "eth_getLogs",
    "eth_newFilter",
    "eth_newBlockFilter",
    "eth_newPendingTransactionFilter",
    "eth_getFilterChanges",
    "eth_getFilterLogs",
    "eth_uninstallFilter",
    "eth_subscribe",
    "eth_unsubscribe",
    "ctm_getBlockOps",
    "ctm_stateRoot",
];
