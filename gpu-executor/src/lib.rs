//! `ctm-gpu-executor`: the provider side of the Computronium marketplace. It trains small models
//! deterministically, commits to what it trained, and signs an attestation that gets it paid.
//!
//! Data flows through it like this:
//!
//! 1. [`data::Dataset`] loads a built-in dataset (digits, iris, breast cancer; shipped in `data/`)
//!    or a CSV file into Q16.16 integers and commits to it (Poseidon2 Merkle root, [`commit`]).
//! 2. [`engine::make_spec`] resolves a model ([`model::ModelKind`]) and hyper-parameters into a
//!    [`model::TrainSpec`]; [`engine::Job::new`] checks the dataset against the spec's commitment
//!    and [`prep`] splits it (train / held-out) and normalizes it, all in integers.
//! 3. [`engine::Job::train`] runs minibatch SGD on a [`backend`]: the CUDA kernels (`cuda`
//!    feature, NVRTC at run time) or the rayon CPU reference, bit-identical to each other and
//!    for any thread count because all arithmetic is fixed point ([`fixed`]) with exact `i64`
//!    sums. Every `k` steps the weights are committed and appended to a checkpoint chain
//!    ([`store`]), written to the output directory so that a restart resumes.
//! 4. [`attest`] turns the finished run into a [`ctm_core::attestation::Attestation`] (dataset,
//!    initial weights, chain head, final weights, steps, loss, held-out accuracy) signed with
//!    EIP-712 by the provider key; its `commitment()` is what `Op::Attest` stores on L2.
//! 5. A verifier ([`verify`]) checks the signature and the claims, and re-executes sampled
//!    segments ([`engine::Job::spot_check`]): the same commitment comes out, or the provider
//!    lied about that segment.
//!
//! 6. The provider [`agent`] puts it on chain: it registers the provider on L2, watches for
//!    jobs assigned to it, runs those whose dataset and initial weights match one of its
//!    [`recipe`]s (accept with collateral, train with resume, claim streamed checkpoint
//!    payments, submit the signed attestation, settle after the challenge window), and keeps
//!    its progress in a work directory so that a restart picks up where it stopped.
//!
//! [`mod@bench`] holds the workloads shared by the criterion bench and the `bench` subcommand;
//! they are also the recipes the agent runs.

pub mod agent;
pub mod attest;
pub mod backend;
pub mod bench;
pub mod cli;
pub mod commit;
pub mod data;
pub mod engine;
pub mod error;
pub mod eval;
pub mod fixed;
pub mod model;
pub mod prep;
pub mod recipe;
pub mod rng;
pub mod store;
pub mod verify;

pub use backend::BackendKind;
pub use data::Dataset;
pub use engine::{Hyper, Job, Outcome, TrainOptions, make_spec, spot_check};
pub use error::{ExecutorError, Result};
pub use model::{ModelKind, TrainSpec, Weights};
pub use store::{Checkpoint, CheckpointStore, Manifest};
