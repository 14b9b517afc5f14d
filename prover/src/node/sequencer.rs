//! The sequencer's JSON-RPC as the node uses it: `ctm_getBatchWitness(index)` → the JSON text
//! of a [`BatchWitness`] `{batch, blocks, batchData}` (sequencer/src/rpc/eth.rs), checked for
//! shape before use.

use alloy::primitives::U256;
use alloy::providers::{Provider, RootProvider};
use ctm_sequencer::types::{BatchRecord, BatchWitness};

use super::error::{NodeError, Result};
use crate::witness::Block;

/// What the sequencer says about one batch.
#[derive(Clone, Debug)]
pub struct BatchInput {
    /// The sequencer's record (roots, queue range, rejected deposits, withdrawals).
    pub record: BatchRecord,
    /// The blocks' ops with their timestamps.
    pub blocks: Vec<Block>,
    /// The batch data posted to L1.
    pub batch_data: Vec<u8>,
}

/// A sequencer JSON-RPC client.
#[derive(Clone, Debug)]
pub struct SequencerClient {
    provider: RootProvider,
}

impl SequencerClient {
    /// A client of the sequencer at `url` (HTTP).
    pub fn new(url: &str) -> Result<Self> {
        let url = url.parse().map_err(|e| NodeError::Config(format!("--sequencer-rpc: {e}")))?;
        Ok(Self { provider: RootProvider::new_http(url) })
    }

    /// Batch `index` with its blocks; `None` while the sequencer has not stored it (it stores a
    /// batch after L1 accepted its commitment, so L1 may know it first).
    pub async fn batch(&self, index: u64) -> Result<Option<BatchInput>> {
        let text: Option<String> = self
            .provider
            .raw_request("ctm_getBatchWitness".into(), (U256::from(index),))
            .await
            .map_err(|e| NodeError::Sequencer(format!("ctm_getBatchWitness({index}): {e}")))?;
        let Some(text) = text else { return Ok(None) };
        let witness: BatchWitness = serde_json::from_str(&text).map_err(|e| {
            NodeError::Sequencer(format!("ctm_getBatchWitness({index}) is not a witness: {e}"))
        })?;
        input_of(index, witness).map(Some)
    }
}

/// Checks the response's shape and converts its blocks.
fn input_of(index: u64, r: BatchWitness) -> Result<BatchInput> {
    let bad = |reason: String| NodeError::BadBatch { batch: index, reason };
    let rec = &r.batch;
    if rec.index != index {
        return Err(bad(format!("the sequencer answered batch {}", rec.index)));
    }
    let expected = rec.to_block.checked_sub(rec.from_block).and_then(|n| n.checked_add(1));
    if expected != Some(r.blocks.len() as u64) {
        return Err(bad(format!(
            "blocks {}..={} but {} block op lists",
            rec.from_block,
            rec.to_block,
            r.blocks.len()
        )));
    }
    for pair in r.blocks.windows(2) {
        if pair[0].post_root != pair[1].pre_root {
            return Err(bad("block roots do not chain".into()));
        }
    }
    if r.blocks.first().is_some_and(|b| b.pre_root != rec.prev_state_root)
        || r.blocks.last().is_some_and(|b| b.post_root != rec.new_state_root)
    {
        return Err(bad("block roots differ from the batch's".into()));
    }
    let blocks =
        r.blocks.into_iter().map(|b| Block { timestamp: b.timestamp, ops: b.ops }).collect();
    Ok(BatchInput { record: r.batch, blocks, batch_data: r.batch_data.to_vec() })
}
