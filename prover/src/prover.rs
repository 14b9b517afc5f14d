//! Prove and verify a batch, generic over Plonky3's `StarkGenericConfig`, plus the proof
//! envelope written to disk.

use std::time::Instant;

use ctm_core::hash::Felt;
use p3_challenger::GrindingChallenger;
use p3_commit::{Pcs, PolynomialSpace};
use p3_uni_stark::{Proof, StarkGenericConfig, SymbolicAirBuilder, VerifierConstraintFolder};
use serde::{Deserialize, Serialize};

use crate::ProverError;
use crate::air::BatchAir;
use crate::config::FriConfig;
use crate::public::{BatchLists, PublicInputs};
use crate::trace::generate_trace;
use crate::witness::Witness;

/// Proof format version of [`BatchProof`].
pub const PROOF_VERSION: u32 = 5;

/// A batch proof with what a verifier needs to know about it.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct BatchProof<SC: StarkGenericConfig> {
    /// [`PROOF_VERSION`].
    pub version: u32,
    /// State-tree depth (an AIR parameter).
    pub depth: u8,
    /// FRI parameters used.
    pub fri: FriConfig,
    /// The L1 public inputs proven.
    pub public: PublicInputs,
    /// The batch's withdrawals, consumed queue entries, rejected deposits and token flows: the
    /// verifier checks them against the public inputs (hashes, conservation) and derives public
    /// values from them.
    pub lists: BatchLists,
    /// The STARK proof.
    pub proof: Proof<SC>,
}

/// Stages reported while proving.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Laying out the trace (rows given).
    Trace {
        /// Trace height.
        rows: usize,
    },
    /// Running the STARK prover.
    Prove,
    /// Done.
    Done,
}

/// Bounds shared by [`prove`] and [`verify`]: a KoalaBear configuration.
pub trait KoalaConfig:
    StarkGenericConfig<
        Pcs: Pcs<Self::Challenge, Self::Challenger, Domain: PolynomialSpace<Val = Felt>>,
        Challenger: GrindingChallenger<Witness = Felt>,
    >
{
}

impl<SC> KoalaConfig for SC where
    SC: StarkGenericConfig<
            Pcs: Pcs<SC::Challenge, SC::Challenger, Domain: PolynomialSpace<Val = Felt>>,
            Challenger: GrindingChallenger<Witness = Felt>,
        >
{
}

/// Proves `witness` under `config` (whose FRI parameters are `fri`), reporting progress.
pub fn prove<SC>(
    config: &SC,
    fri: &FriConfig,
    witness: &Witness,
    mut progress: impl FnMut(Stage),
) -> Result<BatchProof<SC>, ProverError>
where
    SC: KoalaConfig,
    BatchAir: p3_uni_stark::QuotientAir<SC>,
{
    fri.validate()?;
    let air = BatchAir::new(witness.depth).ok_or(ProverError::Depth(witness.depth))?;
    let t0 = Instant::now();
    let rows = crate::trace::trace_height(witness);
    progress(Stage::Trace { rows });
    let trace = generate_trace(witness)?;
    let t_trace = t0.elapsed();
    progress(Stage::Prove);
    let pv = witness.public_values()?;
    let proof = p3_uni_stark::prove(config, &air, trace, &pv)
        .map_err(|e| ProverError::Stark(format!("{e}")))?;
    tracing::info!(
        rows,
        updates = witness.updates.len(),
        trace_ms = t_trace.as_millis() as u64,
        total_ms = t0.elapsed().as_millis() as u64,
        security_bits = fri.conjectured_security_bits(),
        "batch proven"
    );
    progress(Stage::Done);
    Ok(BatchProof {
        version: PROOF_VERSION,
        depth: witness.depth,
        fri: *fri,
        public: witness.public.clone(),
        lists: witness.lists.clone(),
        proof,
    })
}

/// Verifies `proof` for `public` (the envelope's own copy of the public inputs is ignored) under
/// `config`, whose FRI parameters must be `fri`. The envelope's lists must hash to
/// `public.withdrawal_root`, `queue_hash_end` and `rejected_deposits_hash`.
pub fn verify<SC>(
    config: &SC,
    fri: &FriConfig,
    depth: u8,
    public: &PublicInputs,
    proof: &BatchProof<SC>,
) -> Result<(), ProverError>
where
    SC: KoalaConfig,
    BatchAir: p3_air::Air<SymbolicAirBuilder<Felt>>
        + for<'a> p3_air::Air<VerifierConstraintFolder<'a, SC>>,
{
    fri.validate()?;
    if proof.version != PROOF_VERSION || proof.depth != depth || proof.fri != *fri {
        return Err(ProverError::Envelope);
    }
    let canonical = |r| ctm_core::Digest::from_bytes32(r).is_some();
    if !canonical(&public.prev_state_root) || !canonical(&public.new_state_root) {
        return Err(ProverError::Invalid(
            "a state root is not 8 canonical KoalaBear elements".into(),
        ));
    }
    let air = BatchAir::new(depth).ok_or(ProverError::Depth(depth))?;
    let pv = public.public_values(&proof.lists)?;
    p3_uni_stark::verify(config, &air, &proof.proof, &pv)
        .map_err(|e| ProverError::Invalid(format!("{e}")))
}
