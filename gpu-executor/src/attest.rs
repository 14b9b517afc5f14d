//! Building and signing the attestation of a finished run (the provider side of
//! [`ctm_core::attestation`], which only verifies).

use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy_primitives::{Address, B256};
use ctm_core::attestation::{Attestation, SignedAttestation};

use crate::engine::Outcome;
use crate::error::{ExecutorError, Result};

/// Environment variable holding the provider key (hex) when `--key` is not given.
pub const KEY_ENV: &str = "CTM_PROVIDER_KEY";

/// Parses a hex private key (with or without `0x`).
pub fn parse_key(hex_key: &str) -> Result<PrivateKeySigner> {
    let bytes = hex::decode(hex_key.trim().trim_start_matches("0x"))
        .map_err(|e| ExecutorError::Key(format!("not hex: {e}")))?;
    let bytes: [u8; 32] =
        bytes.try_into().map_err(|_| ExecutorError::Key("must be 32 bytes".into()))?;
    PrivateKeySigner::from_bytes(&B256::from(bytes)).map_err(|e| ExecutorError::Key(e.to_string()))
}

/// The attestation of `outcome` for marketplace job `job_id` by `provider`.
pub fn attestation(job_id: u64, provider: Address, outcome: &Outcome) -> Result<Attestation> {
    let m = &outcome.manifest;
    let (Some(first), Some(last)) = (m.checkpoints.first(), m.checkpoints.last()) else {
        return Err(ExecutorError::BadChain("empty chain".into()));
    };
    if !m.is_complete() {
        return Err(ExecutorError::BadChain("training did not finish".into()));
    }
    Ok(Attestation {
        job_id,
        provider,
        dataset: m.spec.dataset.to_bytes32(),
        initial_weights: first.weights.to_bytes32(),
        checkpoint_head: last.link.to_bytes32(),
        final_weights: last.weights.to_bytes32(),
        checkpoints: last.index,
        steps: last.step,
        final_loss: outcome.train.loss,
        held_out_accuracy: outcome.test.accuracy_bp(),
    })
}

/// Signs `attestation` (whose provider must be the key's address) for the L2 `chain_id`.
pub fn sign(
    attestation: Attestation,
    key: &PrivateKeySigner,
    chain_id: u64,
) -> Result<SignedAttestation> {
    if key.address() != attestation.provider {
        return Err(ExecutorError::Key(format!(
            "key address {} is not the attestation's provider {}",
            key.address(),
            attestation.provider
        )));
    }
    let signature = key
        .sign_hash_sync(&attestation.signing_hash(chain_id))
        .map_err(|e| ExecutorError::Key(e.to_string()))?;
    Ok(SignedAttestation { chain_id, attestation, signature })
}

/// Builds and signs the attestation of `outcome` with `key`: what the provider agent submits
/// (its `commitment()` goes into `Op::Attest`).
pub fn attest(
    job_id: u64,
    outcome: &Outcome,
    key: &PrivateKeySigner,
    chain_id: u64,
) -> Result<SignedAttestation> {
    sign(attestation(job_id, key.address(), outcome)?, key, chain_id)
}
