//! Plonky3's own constraint folder as the reference, and reproducible test vectors from it.

use ctm_core::hash::Felt;
use p3_air::{Air, RowWindow};
use p3_commit::PolynomialSpace;
use p3_field::coset::TwoAdicMultiplicativeCoset;
use p3_field::{BasedVectorSpace, PrimeCharacteristicRing};
use p3_matrix::dense::RowMajorMatrixView;
use p3_matrix::stack::VerticalPair;
use p3_uni_stark::VerifierConstraintFolder;
use serde::Serialize;

use super::{ConstraintProgram, GENERATOR_COMMAND, Layout, OodInputs, P, ProgramError};
use super::{encode_ext, encode_input};
use crate::air::BatchAir;
use crate::config::{Challenge, EvmConfig};

/// The accumulator of Plonky3's `VerifierConstraintFolder` (for [`EvmConfig`]) after
/// `air.eval`: the value an `EvmConfig` verifier compares with the quotient at ζ.
pub fn folder_accumulator(air: &BatchAir, inputs: &OodInputs) -> Result<Challenge, ProgramError> {
    inputs.check(&Layout::BATCH)?;
    let main = VerticalPair::new(
        RowMajorMatrixView::new_row(&inputs.local),
        RowMajorMatrixView::new_row(&inputs.next),
    );
    let empty: &[Challenge] = &[];
    let preprocessed =
        VerticalPair::new(RowMajorMatrixView::new(empty, 0), RowMajorMatrixView::new(empty, 0));
    let [is_first_row, is_last_row, is_transition] = inputs.selectors;
    let mut folder = VerifierConstraintFolder::<EvmConfig> {
        main,
        preprocessed,
        preprocessed_window: RowWindow::from_two_rows(empty, empty),
        periodic_values: &[],
        public_values: &inputs.public,
        is_first_row,
        is_last_row,
        is_transition,
        alpha: inputs.alpha,
        accumulator: Challenge::ZERO,
    };
    air.eval(&mut folder);
    Ok(folder.accumulator)
}

/// One test vector: inputs and Plonky3's accumulator for them.
#[derive(Clone, Debug)]
pub struct TestVector {
    /// What the inputs are.
    pub name: &'static str,
    /// The inputs.
    pub inputs: OodInputs,
    /// [`folder_accumulator`] of the inputs.
    pub expected: Challenge,
}

/// SplitMix64: a fixed, dependency-free generator so the committed vectors are reproducible.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn felt(&mut self) -> Felt {
        Felt::from_u64(self.next() % P)
    }

    fn ext(&mut self) -> Challenge {
        Challenge::from_basis_coefficients_fn(|_| self.felt())
    }
}

fn random_inputs(rng: &mut SplitMix, layout: &Layout) -> OodInputs {
    OodInputs {
        local: (0..layout.width).map(|_| rng.ext()).collect(),
        next: (0..layout.width).map(|_| rng.ext()).collect(),
        public: (0..layout.num_public_values).map(|_| rng.felt()).collect(),
        selectors: [rng.ext(), rng.ext(), rng.ext()],
        alpha: rng.ext(),
    }
}

/// Random rows with the selectors of a 2^10-row trace domain at a random ζ.
fn domain_inputs(rng: &mut SplitMix, layout: &Layout) -> OodInputs {
    let mut inputs = random_inputs(rng, layout);
    if let Some(domain) = TwoAdicMultiplicativeCoset::new(Felt::ONE, 10) {
        let s = domain.selectors_at_point(rng.ext());
        inputs.selectors = [s.is_first_row, s.is_last_row, s.is_transition];
    }
    inputs
}

/// Every lane `p − 1`: the largest lanes the lazy reduction must absorb.
fn max_inputs(layout: &Layout) -> OodInputs {
    let m = Challenge::from_basis_coefficients_fn(|_| Felt::NEG_ONE);
    OodInputs {
        local: vec![m; layout.width],
        next: vec![m; layout.width],
        public: vec![Felt::NEG_ONE; layout.num_public_values],
        selectors: [m; 3],
        alpha: m,
    }
}

/// Three vectors from `seed`: domain selectors at a random ζ, all-random, and all lanes `p − 1`.
pub fn test_vectors(air: &BatchAir, seed: u64) -> Result<Vec<TestVector>, ProgramError> {
    let layout = Layout::BATCH;
    let mut rng = SplitMix(seed);
    let sets = [
        (
            "random rows, selectors of a 2^10 domain at a random zeta",
            domain_inputs(&mut rng, &layout),
        ),
        ("random rows, selectors and alpha", random_inputs(&mut rng, &layout)),
        ("every lane p - 1", max_inputs(&layout)),
    ];
    sets.into_iter()
        .map(|(name, inputs)| {
            let expected = folder_accumulator(air, &inputs)?;
            Ok(TestVector { name, inputs, expected })
        })
        .collect()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VectorsFile<'a> {
    generated_by: &'a str,
    note: &'a str,
    depth: u8,
    width: usize,
    num_public_values: usize,
    input_words: usize,
    num_constraints: usize,
    reads: &'a [usize],
    vectors: Vec<VectorJson>,
}

#[derive(Serialize)]
struct VectorJson {
    name: &'static str,
    input: String,
    expected: String,
}

/// The JSON vector file (`l1-contracts/test/vectors/constraints.json`) for `program`.
pub fn vectors_json(
    program: &ConstraintProgram,
    vectors: &[TestVector],
) -> Result<String, ProgramError> {
    let file = VectorsFile {
        generated_by: GENERATOR_COMMAND,
        note: "input = evaluate() calldata words (local, next, public, isFirstRow, isLastRow, \
               isTransition, alpha); expected = Plonky3 VerifierConstraintFolder accumulator; \
               reads = input words the program reads as operands (every fold also uses alpha)",
        depth: program.depth,
        width: program.layout.width,
        num_public_values: program.layout.num_public_values,
        input_words: program.layout.inputs(),
        num_constraints: program.num_constraints,
        reads: &program.reads,
        vectors: vectors
            .iter()
            .map(|v| VectorJson {
                name: v.name,
                input: format!("0x{}", hex::encode(encode_input(&v.inputs))),
                expected: format!("0x{}", hex::encode(encode_ext(v.expected))),
            })
            .collect(),
    };
    let mut out =
        serde_json::to_string_pretty(&file).map_err(|e| ProgramError::Encoding(e.to_string()))?;
    out.push('\n');
    Ok(out)
}
