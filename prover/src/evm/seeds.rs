//! The domain-separator seeds Plonky3 0.8 absorbs at the start of the STARK, PCS and FRI
//! transcripts, computed with Plonky3's own shape types so they cannot drift from the prover.
//! Each seed is a list of field elements; the keccak challenger absorbs each as its Montgomery
//! `u32`, little endian — the bytes returned here.

use ctm_core::hash::Felt;
use p3_challenger::CanObserve;
use p3_field::PrimeField32;
use p3_fri::{FriShape, PcsShape};
use p3_uni_stark::StarkShape;

use super::{EXT_DEGREE, QUOTIENT_CHUNKS};
use crate::air::BatchAir;
use crate::config::{Challenge, FriConfig};
use crate::layout::WIDTH;

/// Collects the field elements a domain separator absorbs.
#[derive(Default)]
struct Recorder(Vec<u8>);

impl CanObserve<Felt> for Recorder {
    fn observe(&mut self, value: Felt) {
        self.0.extend_from_slice(&value.to_unique_u32().to_le_bytes());
    }
}

/// Seed of the uni-STARK transcript for a trace of `2^degree_bits` rows.
pub fn stark_seed(air: &BatchAir, degree_bits: usize) -> Vec<u8> {
    let shape =
        StarkShape::new::<Felt, _>(air, 0, degree_bits, degree_bits, QUOTIENT_CHUNKS, false, 0);
    let mut r = Recorder::default();
    shape.domain_separator::<Felt, Challenge>().seed(&mut r);
    r.0
}

/// Seed of the PCS opening transcript: trace opened at ζ and ζω, two quotient chunks at ζ.
pub fn pcs_seed() -> Vec<u8> {
    let shape = PcsShape {
        claimed_evaluation_counts: vec![
            vec![vec![WIDTH, WIDTH]],
            vec![vec![EXT_DEGREE]; QUOTIENT_CHUNKS],
        ],
        batch_pow_bits: 0,
    };
    let mut r = Recorder::default();
    shape.domain_separator::<Felt, Challenge>().seed(&mut r);
    r.0
}

/// Seed of the FRI transcript: the folding schedule, the final polynomial's length and the
/// query parameters.
pub fn fri_seed(fri: &FriConfig, degree_bits: usize) -> Vec<u8> {
    let shape = FriShape {
        log_arities: fri.fold_schedule(degree_bits),
        final_poly_len: 1 << fri.log_final_poly_len,
        commit_pow_bits: 0,
        query_pow_bits: fri.pow_bits,
        num_queries: fri.num_queries,
        index_bits: degree_bits + fri.log_blowup,
        log_blowup: fri.log_blowup,
        max_log_arity: fri.log_arity,
    };
    let mut r = Recorder::default();
    shape.domain_separator::<Felt, Challenge>().seed(&mut r);
    r.0
}
