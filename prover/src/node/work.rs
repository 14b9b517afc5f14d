//! The CPU-bound part of proving one batch (run on a blocking thread): witness, STARK proof,
//! local verification, L1 encoding, and the replica's advance to the post-batch state.

use ctm_core::Rules;

use super::error::{NodeError, Result};
use super::replica::Replica;
use crate::evm::{L1_FRI, codec};
use crate::witness::{BatchContext, Block};
use crate::{Stage, build_witness, evm_config, prove, verify};

/// Proves batch `batch` (`blocks` on the replica's state, `ctx` from L1 with the expected public
/// inputs) and returns the proof bytes `proveBatch` takes. The replica moves to the post-batch
/// state only on success.
pub(crate) fn prove_batch(
    replica: &mut Replica,
    rules: &Rules,
    batch: u64,
    blocks: &[Block],
    ctx: &BatchContext,
    progress: impl FnMut(Stage),
) -> Result<Vec<u8>> {
    let failed = |source: crate::ProverError| NodeError::Prove { batch, source };
    let (witness, post) =
        build_witness(replica.tree(), rules, blocks, ctx).map_err(|e| failed(e.into()))?;
    let config = evm_config(&L1_FRI);
    let proof = prove(&config, &L1_FRI, &witness, progress).map_err(failed)?;
    verify(&config, &L1_FRI, witness.depth, &witness.public, &proof).map_err(failed)?;
    let bytes = codec::encode(&proof.proof, &proof.lists, &L1_FRI)
        .map_err(|source| NodeError::Codec { batch, source })?;
    replica.replace(batch, post, witness.public.new_state_root)?;
    Ok(bytes)
}
