//! The executor's error type.

use std::path::PathBuf;

use ctm_core::Digest;
use ctm_core::attestation::AttestationError;

/// Result alias of the executor.
pub type Result<T, E = ExecutorError> = std::result::Result<T, E>;

/// Everything that can go wrong while loading data, training, storing or verifying.
#[derive(Debug, thiserror::Error)]
pub enum ExecutorError {
    /// A dataset name that is not built in and not an existing file.
    #[error(
        "dataset `{name}` not found: not a built-in dataset (see `ctm-executor datasets`) and no such file"
    )]
    DatasetNotFound {
        /// What was asked for.
        name: String,
    },
    /// A dataset file that does not parse.
    #[error("dataset `{name}`, line {line}: {reason}")]
    DatasetFormat {
        /// Dataset name or path.
        name: String,
        /// 1-based line number (0 for the whole file).
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The dataset's content commitment is not the one the job names.
    #[error("dataset mismatch: the job commits to {expected}, the loaded dataset is {actual}")]
    DatasetMismatch {
        /// The commitment named by the job or attestation.
        expected: Digest,
        /// The commitment of the data that was loaded.
        actual: Digest,
    },
    /// A training specification outside the supported limits.
    #[error("invalid training spec: {field} {reason}")]
    InvalidSpec {
        /// The offending field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// Weights whose shape does not match the model.
    #[error("weights have shape {actual:?}, the model needs {expected:?}")]
    ShapeMismatch {
        /// Layer sizes the model needs.
        expected: Vec<usize>,
        /// Layer sizes found.
        actual: Vec<usize>,
    },
    /// A file, manifest or checkpoint that does not decode.
    #[error("corrupt {what}: {reason}")]
    Corrupt {
        /// Which file or record.
        what: String,
        /// Why.
        reason: String,
    },
    /// The output directory holds a run of a different job.
    #[error("{dir} holds checkpoints of another job (spec {found}); use a fresh directory")]
    OtherJob {
        /// The directory.
        dir: PathBuf,
        /// Spec digest found there.
        found: Digest,
    },
    /// Checkpoint weights that do not hash to the commitment recorded for them.
    #[error("checkpoint {index}: weights hash to {actual}, the chain records {claimed}")]
    WeightsMismatch {
        /// Checkpoint index.
        index: u32,
        /// Commitment in the chain.
        claimed: Digest,
        /// Commitment of the weights at hand.
        actual: Digest,
    },
    /// Re-executing a segment did not reproduce the next checkpoint: the provider's fault.
    #[error(
        "segment {index} -> {next}: re-execution gives {recomputed}, the chain claims {claimed}"
    )]
    SegmentMismatch {
        /// Starting checkpoint.
        index: u32,
        /// Next checkpoint.
        next: u32,
        /// What the chain claims.
        claimed: Digest,
        /// What re-execution gives.
        recomputed: Digest,
    },
    /// A checkpoint chain that is not well formed or not linked.
    #[error("checkpoint chain: {0}")]
    BadChain(String),
    /// An attestation claim that disagrees with the checkpoint data.
    #[error("attestation field {field} does not match the checkpoints: {reason}")]
    ClaimMismatch {
        /// The attestation field.
        field: &'static str,
        /// How it differs.
        reason: String,
    },
    /// An attestation signature that does not verify.
    #[error(transparent)]
    Attestation(#[from] AttestationError),
    /// A provider key that does not parse or cannot sign.
    #[error("provider key: {0}")]
    Key(String),
    /// The CUDA backend failed (or was requested without a GPU).
    #[error("cuda: {0}")]
    Cuda(String),
    /// A JSON-RPC request that failed (after retries, for reads) or a transaction that could
    /// not be sent or confirmed.
    #[error("RPC {what}: {reason}")]
    Rpc {
        /// What the agent was doing.
        what: String,
        /// The transport or node error.
        reason: String,
    },
    /// A marketplace call that the chain refused (the decoded custom error).
    #[error("{what} reverted: {reason}")]
    Reverted {
        /// The call.
        what: String,
        /// The decoded revert reason.
        reason: String,
    },
    /// The agent's work directory belongs to another provider or chain.
    #[error("work directory {dir}: {reason}")]
    Workdir {
        /// The directory.
        dir: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },
    /// A file-system error with the path involved.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

impl ExecutorError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| ExecutorError::Io { path, source }
    }

    pub(crate) fn spec(field: &'static str, reason: impl Into<String>) -> Self {
        ExecutorError::InvalidSpec { field, reason: reason.into() }
    }

    pub(crate) fn corrupt(what: impl Into<String>, reason: impl Into<String>) -> Self {
        ExecutorError::Corrupt { what: what.into(), reason: reason.into() }
    }
}
