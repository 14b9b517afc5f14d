//! Training attestations: what a provider claims about a finished training job, signed with
//! EIP-712, so that the sequencer, the prover and anyone reading L1 data can check it without the
//! executor.
//!
//! The GPU executor (`ctm-gpu-executor`) trains in fixed-point arithmetic, commits to the dataset,
//! the initial weights, a chain of checkpoints and the final weights with Poseidon2
//! ([`crate::hash`], packed with [`crate::Digest::to_bytes32`]), and signs an [`Attestation`] with
//! the provider key. This module only *verifies*: signing lives in the executor.
//!
//! Encoding (EIP-712):
//! - domain: name `"Computronium"`, version `"1"`, the L2 chain id, verifying contract
//!   [`crate::system::MARKETPLACE`];
//! - type string: [`ATTESTATION_TYPE`];
//! - the signature is over the EIP-712 *signing hash* `keccak256(0x1901 ‖ domainSeparator ‖
//!   hashStruct(attestation))` ([`Attestation::signing_hash`]);
//! - the *commitment* stored by the marketplace in `Op::Attest { attestation }` is
//!   `hashStruct(attestation)` ([`Attestation::commitment`]): it is chain-independent, binds every
//!   field, and together with the (constant per chain) domain separator gives back the signing
//!   hash, so a stored commitment plus a signature is checkable with one `ecrecover`.
//!
//! Fixed-point fields: `final_loss` is the mean cross-entropy on the training split in Q16.16
//! (`65536` = 1.0 nat); `held_out_accuracy` is in basis points (`10000` = 100 %).

use alloy_primitives::{Address, B256, Signature};
use alloy_sol_types::{Eip712Domain, SolStruct, eip712_domain, sol};
use serde::{Deserialize, Serialize};

sol! {
    /// The EIP-712 struct that a provider signs (field names as in Solidity).
    #[derive(Debug, PartialEq, Eq)]
    struct TrainingAttestation {
        uint64 jobId;
        address provider;
        bytes32 dataset;
        bytes32 initialWeights;
        bytes32 checkpointHead;
        bytes32 finalWeights;
        uint32 checkpoints;
        uint64 steps;
        uint64 finalLoss;
        uint32 heldOutAccuracy;
    }
}

/// The EIP-712 type string of [`TrainingAttestation`].
pub const ATTESTATION_TYPE: &str = "TrainingAttestation(uint64 jobId,address provider,bytes32 dataset,bytes32 initialWeights,bytes32 checkpointHead,bytes32 finalWeights,uint32 checkpoints,uint64 steps,uint64 finalLoss,uint32 heldOutAccuracy)";

/// The EIP-712 domain name.
pub const DOMAIN_NAME: &str = "Computronium";
/// The EIP-712 domain version.
pub const DOMAIN_VERSION: &str = "1";

/// Why an attestation signature was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttestationError {
    /// The signature does not recover to any public key.
    #[error("invalid signature: {0}")]
    InvalidSignature(String),
    /// The signature has a high `s` value (malleable); providers must sign with low `s`.
    #[error("signature has a high s value")]
    HighS,
    /// The signature recovers to someone other than the provider.
    #[error("signed by {recovered}, but the attestation names provider {expected}")]
    WrongSigner {
        /// The provider named in the attestation.
        expected: Address,
        /// The address the signature recovers to.
        recovered: Address,
    },
}

/// A provider's claim about a finished training job (see the module docs for the encoding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attestation {
    /// The marketplace job id.
    pub job_id: u64,
    /// The provider that trained and signs.
    pub provider: Address,
    /// Commitment to the dataset (Poseidon2 Merkle root of its rows, as bytes32).
    pub dataset: B256,
    /// Commitment to the initial weights.
    pub initial_weights: B256,
    /// Head of the checkpoint chain (each checkpoint commits to the previous one).
    pub checkpoint_head: B256,
    /// Commitment to the final weights.
    pub final_weights: B256,
    /// Number of checkpoints after the initial one.
    pub checkpoints: u32,
    /// Number of SGD steps trained.
    pub steps: u64,
    /// Mean training cross-entropy of the final weights, Q16.16.
    pub final_loss: u64,
    /// Held-out accuracy of the final weights, basis points.
    pub held_out_accuracy: u32,
}

/// An attestation with the provider's signature: the JSON the executor writes and the agent
/// submits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedAttestation {
    /// The L2 chain id the signature is bound to.
    pub chain_id: u64,
    /// What is attested.
    pub attestation: Attestation,
    /// The provider's EIP-712 signature over [`Attestation::signing_hash`].
    pub signature: Signature,
}

/// The EIP-712 domain of attestations on the L2 with `chain_id`.
pub fn domain(chain_id: u64) -> Eip712Domain {
    eip712_domain! {
        name: DOMAIN_NAME,
        version: DOMAIN_VERSION,
        chain_id: chain_id,
        verifying_contract: crate::system::MARKETPLACE,
    }
}

impl Attestation {
    /// The Solidity struct of this attestation.
    pub fn to_sol(&self) -> TrainingAttestation {
        TrainingAttestation {
            jobId: self.job_id,
            provider: self.provider,
            dataset: self.dataset,
            initialWeights: self.initial_weights,
            checkpointHead: self.checkpoint_head,
            finalWeights: self.final_weights,
            checkpoints: self.checkpoints,
            steps: self.steps,
            finalLoss: self.final_loss,
            heldOutAccuracy: self.held_out_accuracy,
        }
    }

    /// `hashStruct(attestation)`: the commitment the marketplace stores in `Op::Attest`.
    pub fn commitment(&self) -> B256 {
        self.to_sol().eip712_hash_struct()
    }

    /// The EIP-712 signing hash on the L2 with `chain_id`: what the provider signs.
    pub fn signing_hash(&self, chain_id: u64) -> B256 {
        self.to_sol().eip712_signing_hash(&domain(chain_id))
    }

    /// The address that `sig` recovers to over [`Attestation::signing_hash`].
    pub fn recover(&self, sig: &Signature, chain_id: u64) -> Result<Address, AttestationError> {
        if sig.normalize_s().is_some() {
            return Err(AttestationError::HighS);
        }
        sig.recover_address_from_prehash(&self.signing_hash(chain_id))
            .map_err(|e| AttestationError::InvalidSignature(e.to_string()))
    }

    /// Checks that `sig` is the provider's signature of this attestation on chain `chain_id`.
    pub fn verify(&self, sig: &Signature, chain_id: u64) -> Result<(), AttestationError> {
        let recovered = self.recover(sig, chain_id)?;
        if recovered != self.provider {
            return Err(AttestationError::WrongSigner { expected: self.provider, recovered });
        }
        Ok(())
    }
}

impl SignedAttestation {
    /// Checks the signature against the attestation's provider and the embedded chain id.
    pub fn verify(&self) -> Result<(), AttestationError> {
        self.attestation.verify(&self.signature, self.chain_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_string_matches_the_sol_struct() {
        assert_eq!(TrainingAttestation::eip712_encode_type(), ATTESTATION_TYPE);
    }

    #[test]
    fn commitment_is_chain_independent_but_signing_hash_is_not() {
        let a = Attestation {
            job_id: 7,
            provider: Address::repeat_byte(1),
            dataset: B256::repeat_byte(2),
            initial_weights: B256::repeat_byte(3),
            checkpoint_head: B256::repeat_byte(4),
            final_weights: B256::repeat_byte(5),
            checkpoints: 10,
            steps: 1000,
            final_loss: 12345,
            held_out_accuracy: 9500,
        };
        assert_ne!(a.signing_hash(1), a.signing_hash(2));
        let mut b = a;
        b.held_out_accuracy += 1;
        assert_ne!(a.commitment(), b.commitment());
    }
}
