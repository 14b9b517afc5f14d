//! The sequencer's error type.

/// Errors of the sequencer library.
#[derive(Debug, thiserror::Error)]
pub enum SequencerError {
    /// The database failed.
    #[error("database: {0}")]
    Db(String),
    /// Stored data does not decode.
    #[error("corrupt database entry: {0}")]
    Corrupt(String),
    /// The state tree failed.
    #[error("state: {0}")]
    Tree(#[from] ctm_core::TreeError),
    /// The configuration is invalid.
    #[error("config: {0}")]
    Config(String),
    /// The datadir belongs to another chain.
    #[error("datadir holds chain {found}, but this node runs {expected}")]
    ChainMismatch {
        /// What the node was started for.
        expected: String,
        /// What the datadir holds.
        found: String,
    },
    /// The datadir was written by a version with another state format.
    #[error(
        "datadir state format {found}, but this node writes format {expected}: the state leaves \
         changed (format 2 added Totals::locked); start with a fresh --datadir (a dev chain) or \
         replay the chain with this version"
    )]
    StateFormat {
        /// The format this version writes ([`crate::storage::STATE_FORMAT`]).
        expected: u32,
        /// The datadir's (1: written before formats were recorded).
        found: u32,
    },
    /// An I/O error.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// EVM execution failed in a way that is not the transaction's fault.
    #[error("execution: {0}")]
    Execution(String),
}

macro_rules! db_errors {
    ($($t:ty),+) => {$(
        impl From<$t> for SequencerError {
            fn from(e: $t) -> Self {
                SequencerError::Db(e.to_string())
            }
        }
    )+};
}
db_errors!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

/// Result alias of the sequencer.
pub type Result<T, E = SequencerError> = std::result::Result<T, E>;
