//! `ctm-prover`: the Computronium batch prover (Plonky3 0.8, KoalaBear, EVM-verifiable config).
//!
//! Data flow:
//! 1. [`witness::build_witness`] replays a batch's blocks of [`ctm_core::Op`]s on the
//!    pre-state tree with ctm-core's own `Executor` and `write_block`, and records every leaf
//!    change as a single-leaf Merkle update (slot, old leaf, new leaf, siblings), intermediate roots
//!    chaining the previous root to the new one; from the batch context it computes the L1
//!    [`public::PublicInputs`] (keccak commitments included).
//! 2. [`trace::generate_trace`] lays the updates out as rows of [`air::BatchAir`]: per row two
//!    Poseidon2 permutations ([`poseidon2`]), lane A for the old leaf/path and lane B for the new,
//!    plus control, account-arithmetic and range-check columns ([`layout`]).
//! 3. [`prover::prove`] runs Plonky3's uni-STARK over any `StarkGenericConfig` on KoalaBear;
//!    [`config::evm_config`] builds the keccak-256 configuration an EVM verifier can replay.
//!    [`prover::verify`] checks a [`prover::BatchProof`] against the L1 public inputs.
//! 4. [`node::ProverNode`] (the `prover-node run` service) keeps a replica of the L2 state,
//!    finds committed-but-unproven batches on L1, proves its share of them and submits
//!    `Rollup.proveBatch` with the [`evm::codec`] encoding.
//!
//! What the AIR does and does not constrain is listed in `docs/prover.md`; in short: Poseidon2,
//! leaf hashing, Merkle paths and the root chain are constrained for every update, and balance /
//! nonce arithmetic only for account updates; other op kinds are authenticated leaf rewrites.

pub mod air;
pub mod bench;
pub mod config;
pub mod constraint_program;
mod error;
pub mod evm;
pub mod gpu;
pub mod layout;
pub mod node;
pub mod poseidon2;
pub mod prover;
pub mod public;
mod shadow;
pub mod trace;
pub mod witness;

pub use config::{EvmConfig, FriConfig, evm_config};
pub use error::{ProverError, Result};
pub use prover::{BatchProof, Stage, prove, verify};
pub use public::{BatchLists, PublicInputs};
pub use witness::{BatchContext, Block, Witness, build_witness};
