//! The L1 (EVM) side of a batch proof: the compact proof encoding the Solidity verifier decodes
//! ([`codec`]), the Fiat–Shamir seeds it must absorb ([`seeds`]) and the generated Solidity
//! constants ([`solidity`]). See `docs/verifier.md` for the byte layout and what the contract
//! checks.

pub mod codec;
pub mod seeds;
pub mod solidity;

use crate::config::FriConfig;
use crate::public::{BatchLists, PublicInputs};
use crate::{BatchProof, ProverError};

/// What the L1 verifier decides, in Rust: decodes an L1 proof (made with
/// [`crate::evm_config`]`(fri)` for a tree of `depth`) and verifies it for `public`, with the
/// lists it carries. Returns those lists.
pub fn verify_encoded(
    bytes: &[u8],
    fri: &FriConfig,
    depth: u8,
    public: &PublicInputs,
) -> Result<BatchLists, ProverError> {
    let (proof, lists) =
        codec::decode(bytes, fri).map_err(|e| ProverError::Invalid(format!("encoding: {e}")))?;
    let envelope = BatchProof {
        version: crate::prover::PROOF_VERSION,
        depth,
        fri: *fri,
        public: public.clone(),
        lists,
        proof,
    };
    crate::verify(&crate::evm_config(fri), fri, depth, public, &envelope)?;
    Ok(envelope.lists)
}

/// FRI parameters of proofs submitted to L1: blowup 8, 33 queries, 16 PoW bits (115 conjectured
/// bits). A larger blowup makes the proof — and with it calldata and Merkle hashing, the bulk of
/// the verification gas — about 3× smaller than the default 2× / 100 queries.
pub const L1_FRI: FriConfig =
    FriConfig { log_blowup: 3, num_queries: 33, pow_bits: 16, log_arity: 3, log_final_poly_len: 3 };

/// Smallest trace height (log2) the L1 verifier accepts.
pub const MIN_DEGREE_BITS: usize = 7;
/// Largest trace height (log2) the L1 verifier accepts (2^22 rows ≈ 60k account updates).
pub const MAX_DEGREE_BITS: usize = 22;

/// Number of quotient chunks of the batch AIR (constraint degree 3).
pub const QUOTIENT_CHUNKS: usize = 2;
/// Extension degree of the challenge field.
pub const EXT_DEGREE: usize = 4;

/// Errors of the EVM proof encoding.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum CodecError {
    /// The proof has a feature the L1 verifier does not support (ZK, preprocessed columns, …).
    #[error("unsupported proof shape: {0}")]
    Shape(&'static str),
    /// The encoding ended early.
    #[error("proof truncated at byte {0}")]
    Truncated(usize),
    /// Bytes remain after the last field.
    #[error("{0} trailing bytes after the proof")]
    Trailing(usize),
    /// A field element is not a canonical Montgomery value (≥ p).
    #[error("non-canonical field element at byte {0}")]
    NonCanonical(usize),
    /// Wrong version byte.
    #[error("unknown proof encoding version {0}")]
    Version(u8),
    /// Trace height out of the supported range.
    #[error("degree bits {0} outside {MIN_DEGREE_BITS}..={MAX_DEGREE_BITS}")]
    DegreeBits(usize),
    /// A count field exceeds its bound.
    #[error("{what} count {got} exceeds the bound {max}")]
    Bound {
        /// Which count.
        what: &'static str,
        /// Its value.
        got: usize,
        /// Its bound.
        max: usize,
    },
}
