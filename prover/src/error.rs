//! The crate's error type.

use crate::trace::TraceError;
use crate::witness::WitnessError;

/// Errors of witness generation, proving and verification.
#[derive(Debug, thiserror::Error)]
pub enum ProverError {
    /// The batch is invalid or cannot be witnessed.
    #[error("witness: {0}")]
    Witness(#[from] WitnessError),
    /// The witness does not fit the AIR.
    #[error("trace: {0}")]
    Trace(#[from] TraceError),
    /// The tree depth is not supported by the AIR.
    #[error("unsupported state-tree depth {0}")]
    Depth(u8),
    /// FRI parameters the AIR cannot use.
    #[error("bad FRI parameters: {0}")]
    BadFriConfig(&'static str),
    /// FRI parameters below the security floor.
    #[error("FRI parameters give {bits} conjectured bits, below the minimum {min}")]
    Insecure {
        /// Conjectured bits.
        bits: usize,
        /// Required.
        min: usize,
    },
    /// The STARK prover failed.
    #[error("stark prover: {0}")]
    Stark(String),
    /// The proof envelope does not match (version, depth or FRI parameters).
    #[error("proof envelope does not match the verifier's version, depth or FRI parameters")]
    Envelope,
    /// The proof does not verify.
    #[error("invalid proof: {0}")]
    Invalid(String),
    /// (De)serialization failed.
    #[error("encoding: {0}")]
    Encoding(#[from] serde_json::Error),
    /// A CUDA call of the GPU path failed (the work is then redone on the CPU).
    #[error("gpu: {0}")]
    Gpu(String),
}

/// Result alias of the crate.
pub type Result<T, E = ProverError> = std::result::Result<T, E>;
