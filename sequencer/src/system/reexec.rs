//! Disputes by re-execution: the dispute path of the training attestations.
//!
//! A provider's attestation commits (through `checkpointHead`) to a chain of checkpoints that
//! starts at the digest of its training spec. A verifier who finds a segment whose re-execution
//! does not reproduce the next checkpoint submits the spec, the chain and that segment's starting
//! weights; the node checks that they are exactly what the recorded attestation commits to,
//! re-trains the one segment natively with the executor's deterministic engine (the same code,
//! bit-identical on every machine), and the fault is proven if the result differs.

use std::sync::OnceLock;

use alloy::primitives::B256;
use ctm_core::attestation::Attestation;
use ctm_core::hash::Digest;
use ctm_core::state::Job;
use ctm_gpu_executor::commit::link;
use ctm_gpu_executor::data::BUILTIN;
use ctm_gpu_executor::{Dataset, TrainSpec, Weights, spot_check};

use super::Revert;
use ctm_core::abi::IMarketplace as M;

/// Most multiply-adds one on-chain re-execution may cost (segment steps × batch × parameters).
pub(super) const MAX_WORK: u128 = 50_000_000;

fn bad(reason: impl Into<String>) -> Revert {
    Revert::error(super::InvalidValue { what: "evidence".into(), reason: reason.into() })
}

fn digest(b: &B256) -> Result<Digest, Revert> {
    Digest::from_bytes32(b).ok_or_else(|| bad("a commitment is not canonical"))
}

/// The shipped datasets with their commitments (computed once).
fn datasets() -> &'static Vec<(B256, Dataset)> {
    static CACHE: OnceLock<Vec<(B256, Dataset)>> = OnceLock::new();
    CACHE.get_or_init(|| {
        BUILTIN
            .iter()
            .filter_map(|b| Dataset::load(b.name).ok())
            .map(|d| (d.commitment().to_bytes32(), d))
            .collect()
    })
}

/// Checks the evidence against the job's recorded attestation and re-executes the segment.
/// `Ok(())` means a fault is proven.
pub(super) fn prove_fault(job: &Job, a: &M::disputeReexecutionCall) -> Result<(), Revert> {
    let att = Attestation::from(&a.attestation);
    if job.attestation == B256::ZERO || att.commitment() != job.attestation {
        return Err(bad("the attestation is not the one recorded for the job"));
    }
    let spec: TrainSpec = serde_json::from_slice(&a.spec).map_err(|e| bad(format!("spec: {e}")))?;
    if spec.dataset.to_bytes32() != att.dataset {
        return Err(bad("spec dataset differs from the attestation's"));
    }
    // The chain: link_0 follows the spec digest, and the last link is the attested head.
    if a.chain.len() < 2 || a.chain.len() != att.checkpoints as usize + 1 {
        return Err(bad("chain length does not match the attestation"));
    }
    let mut head = spec.digest();
    for c in &a.chain {
        head = link(&head, c.step, &digest(&c.weights)?);
    }
    if head.to_bytes32() != att.checkpoint_head {
        return Err(bad("chain does not hash to the attested head"));
    }
    if a.chain[0].weights != att.initial_weights {
        return Err(bad("chain does not start at the attested initial weights"));
    }
    let i = a.segment as usize;
    let (Some(start), Some(end)) = (a.chain.get(i), a.chain.get(i + 1)) else {
        return Err(bad("no such segment"));
    };
    let dims = spec.dims();
    let params: u128 = dims.windows(2).map(|w| (w[0] as u128 + 1) * w[1] as u128).sum();
    let work = u128::from(end.step.saturating_sub(start.step)) * spec.batch_size as u128 * params;
    if work > MAX_WORK {
        return Err(bad(format!(
            "segment costs {work} multiply-adds, above the on-chain limit {MAX_WORK}"
        )));
    }
    let weights = Weights::from_bytes(&a.weights).map_err(|e| bad(format!("weights: {e}")))?;
    if weights.commitment() != digest(&start.weights)? {
        return Err(bad("weights do not match the segment's starting checkpoint"));
    }
    let Some((_, dataset)) = datasets().iter().find(|(c, _)| *c == att.dataset) else {
        return Err(bad("the dataset is not available to the node"));
    };
    let recomputed = spot_check(&spec, dataset, &weights, a.segment)
        .map_err(|e| bad(format!("re-execution: {e}")))?;
    if recomputed == digest(&end.weights)? {
        return Err(bad("re-execution reproduces the next checkpoint: no fault"));
    }
    Ok(())
}
