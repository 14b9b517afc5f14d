//! The verifier's side: check an attestation against a provider's checkpoint chain and
//! re-execute sampled segments.
//!
//! A dispute reduces to one segment: if re-executing segment `i` from checkpoint `i`'s weights
//! (which must hash to the chain's record) does not give checkpoint `i + 1`'s commitment, the
//! provider signed a false chain. Sampling `N` of `C` segments catches a provider who faked a
//! single segment with probability `N / C`, and one who faked a fraction `f` of them with
//! probability `1 − (1 − f)^N`.

use ctm_core::attestation::SignedAttestation;

use crate::engine::Job;
use crate::error::{ExecutorError, Result};
use crate::rng::Rng;
use crate::store::{CheckpointStore, Manifest};

/// Checks segment `i → i + 1` of `manifest` with the weights in `store`.
pub fn check_segment(
    job: &Job,
    manifest: &Manifest,
    store: &CheckpointStore,
    i: u32,
) -> Result<()> {
    let idx = i as usize;
    let (Some(start), Some(end)) =
        (manifest.checkpoints.get(idx), manifest.checkpoints.get(idx + 1))
    else {
        return Err(ExecutorError::BadChain(format!("no segment {i} in the chain")));
    };
    let weights = store.load_checked(start)?;
    let recomputed = job.spot_check(&weights, i)?;
    if recomputed != end.weights {
        return Err(ExecutorError::SegmentMismatch {
            index: i,
            next: i + 1,
            claimed: end.weights,
            recomputed,
        });
    }
    Ok(())
}

/// What [`verify_run`] checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Segments re-executed (by starting checkpoint).
    pub segments: Vec<u32>,
    /// Total segments in the chain.
    pub total_segments: u32,
}

/// `N` distinct segments out of `total`, drawn with `seed`.
pub fn sample_segments(total: u32, n: usize, seed: u64) -> Vec<u32> {
    let mut all: Vec<u32> = (0..total).collect();
    Rng::new(seed).shuffle(&mut all);
    all.truncate(n);
    all.sort_unstable();
    all
}

/// Verifies a signed attestation against the chain in `store`:
/// the signature; the dataset, chain head, initial and final weights, checkpoint and step counts
/// against the manifest; every link; the final weights file; the attested loss and accuracy
/// (recomputed from the final weights); and `samples` segments drawn with `sample_seed`.
pub fn verify_run(
    signed: &SignedAttestation,
    job: &Job,
    store: &CheckpointStore,
    samples: usize,
    sample_seed: u64,
) -> Result<VerifyReport> {
    signed.verify()?;
    let a = &signed.attestation;
    let manifest = store
        .load_manifest()?
        .ok_or_else(|| ExecutorError::corrupt(store.dir().display().to_string(), "no manifest"))?;
    if manifest.spec != job.spec {
        return Err(ExecutorError::BadChain("the manifest's spec is not the job's".into()));
    }
    manifest.verify_links()?;
    if !manifest.is_complete() {
        return Err(ExecutorError::BadChain("the chain does not reach the last step".into()));
    }
    let claim = |field: &'static str, ok: bool, reason: String| {
        if ok { Ok(()) } else { Err(ExecutorError::ClaimMismatch { field, reason }) }
    };
    let first = manifest.checkpoints[0];
    let last = manifest.checkpoints[manifest.checkpoints.len() - 1];
    let total = (manifest.checkpoints.len() - 1) as u32;
    claim("dataset", a.dataset == job.spec.dataset.to_bytes32(), format!("{}", a.dataset))?;
    claim("initialWeights", a.initial_weights == first.weights.to_bytes32(), String::new())?;
    claim("checkpointHead", a.checkpoint_head == last.link.to_bytes32(), String::new())?;
    claim("finalWeights", a.final_weights == last.weights.to_bytes32(), String::new())?;
    claim("checkpoints", a.checkpoints == total, format!("{} vs {total}", a.checkpoints))?;
    claim("steps", a.steps == job.spec.steps, format!("{} vs {}", a.steps, job.spec.steps))?;
    let final_weights = store.load_checked(&last)?;
    let (train, test) = job.evaluate(&final_weights);
    claim("finalLoss", a.final_loss == train.loss, format!("{} vs {}", a.final_loss, train.loss))?;
    let acc = test.accuracy_bp();
    claim(
        "heldOutAccuracy",
        a.held_out_accuracy == acc,
        format!("{} vs {acc}", a.held_out_accuracy),
    )?;
    let segments = sample_segments(total, samples, sample_seed);
    for &i in &segments {
        check_segment(job, &manifest, store, i)?;
    }
    Ok(VerifyReport { segments, total_segments: total })
}
