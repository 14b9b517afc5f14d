//! Poll-based filters (`eth_newFilter`, `eth_newBlockFilter`, `eth_newPendingTransactionFilter`,
//! `eth_getFilterChanges`, `eth_getFilterLogs`, `eth_uninstallFilter`).
//!
//! A filter remembers the last block it reported; a poll scans the blocks after it. Pending
//! transactions are kept in a bounded ring with sequence numbers. Filters not polled for
//! [`FILTER_TTL`] are dropped, as in geth.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use alloy::eips::{BlockId, BlockNumberOrTag};
use alloy::primitives::B256;
use alloy::rpc::types::{Filter, FilterBlockOption};
use serde_json::json;

use super::error::{RpcError, RpcResult};
use super::eth::EthApi;

/// Idle time after which a filter is removed.
pub const FILTER_TTL: Duration = Duration::from_secs(300);
/// Most installed filters.
pub const MAX_FILTERS: usize = 10_000;
const PENDING_RING: usize = 20_000;

#[derive(Debug, Clone)]
enum Kind {
    Logs(Box<Filter>),
    Blocks,
    Pending,
}

#[derive(Debug, Clone)]
struct Installed {
    kind: Kind,
    /// Last block reported (logs, blocks) or last pending sequence number reported.
    cursor: u64,
    polled: Instant,
}

#[derive(Debug, Default)]
struct Inner {
    next_id: u64,
    filters: HashMap<String, Installed>,
    pending: VecDeque<(u64, B256)>,
    pending_seq: u64,
}

/// The filter registry.
#[derive(Debug, Default)]
pub struct Filters(Mutex<Inner>);

impl Filters {
    fn install(&self, kind: Kind, cursor: u64) -> String {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        g.filters.retain(|_, f| now.duration_since(f.polled) < FILTER_TTL);
        if g.filters.len() >= MAX_FILTERS {
            // Drop the stalest filter rather than refuse: clients reinstall on "filter not found".
            if let Some(k) = g.filters.iter().min_by_key(|(_, f)| f.polled).map(|(k, _)| k.clone())
            {
                g.filters.remove(&k);
            }
        }
        g.next_id += 1;
        let id = format!("0x{:x}", g.next_id);
        g.filters.insert(id.clone(), Installed { kind, cursor, polled: now });
        id
    }

    /// A log filter starting after block `head`.
    pub fn new_logs(&self, f: Filter, head: u64) -> String {
        self.install(Kind::Logs(Box::new(f)), head)
    }

    /// A block filter starting after `head`.
    pub fn new_blocks(&self, head: u64) -> String {
        self.install(Kind::Blocks, head)
    }

    /// A pending-transaction filter.
    pub fn new_pending(&self) -> String {
        let seq = self.0.lock().unwrap_or_else(|p| p.into_inner()).pending_seq;
        self.install(Kind::Pending, seq)
    }

    /// Records a transaction that entered the pool.
    pub fn record_pending(&self, hash: B256) {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        g.pending_seq += 1;
        let seq = g.pending_seq;
        g.pending.push_back((seq, hash));
        if g.pending.len() > PENDING_RING {
            g.pending.pop_front();
        }
    }

    /// Removes a filter; whether it existed.
    pub fn uninstall(&self, id: &str) -> bool {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).filters.remove(id).is_some()
    }

    fn take(&self, id: &str) -> RpcResult<Installed> {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let f = g.filters.get_mut(id).ok_or_else(|| RpcError::not_found("filter not found"))?;
        f.polled = Instant::now();
        Ok(f.clone())
    }

    fn set_cursor(&self, id: &str, cursor: u64) {
        if let Some(f) = self.0.lock().unwrap_or_else(|p| p.into_inner()).filters.get_mut(id) {
            f.cursor = cursor;
        }
    }

    /// What changed since the last poll.
    pub fn changes(&self, api: &EthApi, id: &str) -> RpcResult {
        let f = self.take(id)?;
        let head = api.node.head().block.header.number;
        match f.kind {
            Kind::Blocks => {
                let mut hashes = Vec::new();
                for n in f.cursor + 1..=head {
                    if let Some(b) = api.node.storage.block(n)? {
                        hashes.push(b.hash);
                    }
                }
                self.set_cursor(id, head);
                Ok(json!(hashes))
            }
            Kind::Pending => {
                let g = self.0.lock().unwrap_or_else(|p| p.into_inner());
                let hashes: Vec<B256> =
                    g.pending.iter().filter(|(s, _)| *s > f.cursor).map(|(_, h)| *h).collect();
                let seq = g.pending_seq;
                drop(g);
                self.set_cursor(id, seq);
                Ok(json!(hashes))
            }
            Kind::Logs(filter) => {
                let (lo, hi) = range(api, &filter, head, 0)?;
                let from = lo.max(f.cursor + 1);
                let logs = if from > hi { vec![] } else { api.logs_in(&filter, from, hi)? };
                self.set_cursor(id, head.max(f.cursor));
                serde_json::to_value(logs).map_err(RpcError::internal)
            }
        }
    }

    /// Every log matching a log filter.
    pub fn all_logs(&self, api: &EthApi, id: &str) -> RpcResult {
        let f = self.take(id)?;
        let Kind::Logs(filter) = f.kind else {
            return Err(RpcError::invalid_params("not a log filter"));
        };
        let head = api.node.head().block.header.number;
        let (lo, hi) = range(api, &filter, head, head)?;
        let logs = if lo > hi { vec![] } else { api.logs_in(&filter, lo, hi)? };
        serde_json::to_value(logs).map_err(RpcError::internal)
    }
}

/// The block range of a filter; an open `fromBlock` means `default_from`.
fn range(api: &EthApi, filter: &Filter, head: u64, default_from: u64) -> RpcResult<(u64, u64)> {
    match filter.block_option {
        FilterBlockOption::AtBlockHash(h) => {
            let n = api
                .node
                .storage
                .block_number(&h)?
                .ok_or_else(|| RpcError::server("unknown block"))?;
            Ok((n, n))
        }
        FilterBlockOption::Range { from_block, to_block } => {
            let resolve = |t: Option<BlockNumberOrTag>, default: u64| -> RpcResult<u64> {
                match t {
                    None | Some(BlockNumberOrTag::Latest) | Some(BlockNumberOrTag::Pending) => {
                        Ok(default)
                    }
                    Some(tag) => api.block_number(Some(BlockId::Number(tag))).or(Ok(head)),
                }
            };
            let from = match from_block {
                None | Some(BlockNumberOrTag::Latest) | Some(BlockNumberOrTag::Pending) => {
                    default_from
                }
                t => resolve(t, head)?,
            };
            Ok((from, resolve(to_block, head)?))
        }
    }
}
