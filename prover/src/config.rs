//! FRI parameters and the EVM-friendly concrete configuration (../shared/PLONKY3.md): KoalaBear
//! with its degree-4 extension, keccak-256 Merkle commitments (`Keccak256Hash` bytes,
//! `SerializingHasher` rows, `CompressionFunctionFromHasher<_, 2, 32>` nodes, cap height 0) and
//! the keccak `SerializingChallenger32`. The prover itself is generic over
//! `StarkGenericConfig`; [`EvmConfig`] is the one the binary, benches and tests use.

use crate::gpu::{Backend, ProverDft, ProverKeccak};
use ctm_core::hash::Felt;
use p3_challenger::{HashChallenger, SerializingChallenger32};
use p3_commit::ExtensionMmcs;
use p3_field::extension::BinomialExtensionField;
use p3_fri::{FriParameters, TwoAdicFriPcs};
use p3_keccak::Keccak256Hash;
use p3_merkle_tree::MerkleTreeMmcs;
use p3_symmetric::{CompressionFunctionFromHasher, SerializingHasher};
use p3_uni_stark::StarkConfig;
use serde::{Deserialize, Serialize};

/// FRI parameters of a proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FriConfig {
    /// log2 of the blowup factor (≥ 1: the AIR has degree-3 constraints).
    pub log_blowup: usize,
    /// Number of FRI queries.
    pub num_queries: usize,
    /// Proof-of-work bits before the queries.
    pub pow_bits: usize,
    /// log2 of the largest FRI folding arity (1 = fold by 2 per round, 4 = by 16).
    #[serde(default = "one")]
    pub log_arity: usize,
    /// log2 of the number of coefficients of FRI's final polynomial.
    #[serde(default)]
    pub log_final_poly_len: usize,
}

fn one() -> usize {
    1
}

impl Default for FriConfig {
    /// Blowup 2, 100 queries, 16 PoW bits (116 conjectured bits), binary folding down to a
    /// constant.
    fn default() -> Self {
        Self { log_blowup: 1, num_queries: 100, pow_bits: 16, log_arity: 1, log_final_poly_len: 0 }
    }
}

/// Largest supported FRI folding arity (log2): 16.
pub const MAX_LOG_ARITY: usize = 4;
/// Largest supported final polynomial (log2 of its length): 64 coefficients, below the smallest
/// L1 trace height of 2^7 rows so every proof has at least one folding round.
pub const MAX_LOG_FINAL_POLY_LEN: usize = 6;

/// The smallest conjectured security [`FriConfig::validate`] accepts.
pub const MIN_SECURITY_BITS: usize = 100;

impl FriConfig {
    /// Blowup 8, 33 queries, 16 PoW bits (115 conjectured bits): a smaller proof, slower prover.
    pub fn high_blowup() -> Self {
        Self { log_blowup: 3, num_queries: 33, pow_bits: 16, ..Self::default() }
    }

    /// The FRI folding schedule for a trace of `2^degree_bits` rows: one log-arity per commit
    /// round, exactly as Plonky3 derives it (the LDE is the only folding input).
    pub fn fold_schedule(&self, degree_bits: usize) -> Vec<usize> {
        p3_fri::fold_schedule(
            &[degree_bits + self.log_blowup],
            self.log_blowup + self.log_final_poly_len,
            self.log_arity,
        )
    }

    /// Conjectured (ethSTARK-style) security in bits: `log_blowup · num_queries + pow_bits`.
    /// Not a proven bound (Plonky3's `ProvenSecurity` is far lower for the same parameters).
    pub fn conjectured_security_bits(&self) -> usize {
        self.log_blowup * self.num_queries + self.pow_bits
    }

    /// Refuses parameters the AIR cannot use or below [`MIN_SECURITY_BITS`].
    pub fn validate(&self) -> Result<(), crate::ProverError> {
        let bits = self.conjectured_security_bits();
        if self.log_blowup == 0 || self.log_blowup > 8 || self.pow_bits > 30 {
            return Err(crate::ProverError::BadFriConfig(
                "log_blowup must be 1..=8, pow_bits ≤ 30",
            ));
        }
        if !(1..=MAX_LOG_ARITY).contains(&self.log_arity)
            || self.log_final_poly_len > MAX_LOG_FINAL_POLY_LEN
        {
            return Err(crate::ProverError::BadFriConfig(
                "log_arity must be 1..=4, log_final_poly_len ≤ 6",
            ));
        }
        if bits < MIN_SECURITY_BITS {
            return Err(crate::ProverError::Insecure { bits, min: MIN_SECURITY_BITS });
        }
        Ok(())
    }
}

/// Challenge field: the degree-4 binomial extension of KoalaBear (X^4 = 3).
pub type Challenge = BinomialExtensionField<Felt, 4>;
type FieldHash = SerializingHasher<ProverKeccak>;
type NodeCompress = CompressionFunctionFromHasher<Keccak256Hash, 2, 32>;
/// Keccak-256 Merkle commitments to base-field matrices.
pub type ValMmcs = MerkleTreeMmcs<Felt, u8, FieldHash, NodeCompress, 2, 32>;
type ChallengeMmcs = ExtensionMmcs<Felt, Challenge, ValMmcs>;
/// The FRI PCS.
pub type EvmPcs = TwoAdicFriPcs<Felt, ProverDft, ValMmcs, ChallengeMmcs>;
/// The keccak-256 Fiat–Shamir challenger an EVM verifier replays.
pub type EvmChallenger = SerializingChallenger32<Felt, HashChallenger<u8, Keccak256Hash, 32>>;
/// The EVM-verifiable STARK configuration.
pub type EvmConfig = StarkConfig<EvmPcs, Challenge, EvmChallenger>;

/// Builds the [`EvmConfig`] for `fri`: LDEs and Merkle leaf hashing on the GPU when one is
/// usable ([`crate::gpu`]), on the CPU otherwise.
pub fn evm_config(fri: &FriConfig) -> EvmConfig {
    evm_config_with(fri, Backend::Auto)
}

/// Builds the [`EvmConfig`] for `fri` on `backend` (the proofs are the same on every backend).
pub fn evm_config_with(fri: &FriConfig, backend: Backend) -> EvmConfig {
    let leaves = ProverKeccak::new(backend);
    let mmcs = ValMmcs::new(FieldHash::new(leaves), NodeCompress::new(Keccak256Hash), 0);
    let params = FriParameters {
        log_blowup: fri.log_blowup,
        log_final_poly_len: fri.log_final_poly_len,
        max_log_arity: fri.log_arity,
        num_queries: fri.num_queries,
        batch_proof_of_work_bits: 0,
        commit_proof_of_work_bits: 0,
        query_proof_of_work_bits: fri.pow_bits,
        mmcs: ChallengeMmcs::new(mmcs.clone()),
    };
    let pcs = EvmPcs::new(ProverDft::new(backend), mmcs, params);
    let challenger = EvmChallenger::from_hasher(vec![], Keccak256Hash);
    EvmConfig::new(pcs, challenger)
}
