//! The constraint program against Plonky3's own constraint folder, and the committed generated
//! files (`BatchAirProgram.sol`, `constraints.json`) against a fresh generation.
//! Run with `cargo test --release -p ctm-prover --test constraint_program`.

use std::path::PathBuf;

use ctm_core::hash::{Felt, MODULUS};
use ctm_prover::air::BatchAir;
use ctm_prover::config::{Challenge, EvmConfig};
use ctm_prover::constraint_program::{
    ConstraintProgram, EXPORT_DEPTH, GENERATOR_COMMAND, Instruction, Layout, Lin, OodInputs,
    ProgramError, VECTOR_SEED, compile_depth, ctl, evaluate, folder_accumulator, generated_files,
    op, test_vectors,
};
use p3_commit::PolynomialSpace;
use p3_field::coset::TwoAdicMultiplicativeCoset;
use p3_field::{BasedVectorSpace, PrimeCharacteristicRing};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

fn felt(rng: &mut SmallRng) -> Felt {
    Felt::from_u32(rng.random_range(0..MODULUS))
}

fn ext(rng: &mut SmallRng) -> Challenge {
    Challenge::from_basis_coefficients_fn(|_| felt(rng))
}

fn random_inputs(rng: &mut SmallRng) -> OodInputs {
    let l = Layout::BATCH;
    OodInputs {
        local: (0..l.width).map(|_| ext(rng)).collect(),
        next: (0..l.width).map(|_| ext(rng)).collect(),
        public: (0..l.num_public_values).map(|_| felt(rng)).collect(),
        selectors: [ext(rng), ext(rng), ext(rng)],
        alpha: ext(rng),
    }
}

fn run(program: &ConstraintProgram, i: &OodInputs) -> Result<Challenge, ProgramError> {
    evaluate(program, &i.local, &i.next, &i.public, &i.selectors, i.alpha)
}

#[test]
fn program_equals_plonky3_folder_on_random_inputs() {
    let air = BatchAir::new(EXPORT_DEPTH).expect("depth");
    let program = compile_depth(EXPORT_DEPTH).expect("compile");
    let mut rng = SmallRng::seed_from_u64(1);
    for _ in 0..8 {
        let inputs = random_inputs(&mut rng);
        let expected = folder_accumulator(&air, &inputs).expect("folder");
        assert_eq!(run(&program, &inputs), Ok(expected));
    }
}

#[test]
fn program_equals_plonky3_folder_at_every_depth_tried() {
    let mut rng = SmallRng::seed_from_u64(2);
    for depth in [ctm_prover::layout::MIN_DEPTH as u8, 20, 32, 62] {
        let air = BatchAir::new(depth).expect("depth");
        let program = compile_depth(depth).expect("compile");
        assert_eq!(program.depth, depth);
        let inputs = random_inputs(&mut rng);
        assert_eq!(run(&program, &inputs), folder_accumulator(&air, &inputs), "depth {depth}");
    }
    assert_eq!(compile_depth(200), Err(ProgramError::Depth(200)));
}

/// Plonky3's own verifier check: selectors from the trace domain at ζ, and
/// `folded · Z_H(ζ)^{-1} == quotient(ζ)` accepted for the program's result and refused otherwise.
#[test]
fn plonky3_verify_constraints_accepts_the_program_result() {
    let air = BatchAir::new(EXPORT_DEPTH).expect("depth");
    let program = compile_depth(EXPORT_DEPTH).expect("compile");
    let mut rng = SmallRng::seed_from_u64(3);
    for log_n in [4usize, 12] {
        let domain = TwoAdicMultiplicativeCoset::new(Felt::ONE, log_n).expect("domain");
        let zeta = ext(&mut rng);
        let sels = domain.selectors_at_point(zeta);
        let mut inputs = random_inputs(&mut rng);
        inputs.selectors = [sels.is_first_row, sels.is_last_row, sels.is_transition];
        let acc = run(&program, &inputs).expect("evaluate");
        let check = |quotient: Challenge| {
            p3_uni_stark::verify_constraints::<EvmConfig, _, ()>(
                &air,
                &inputs.local,
                &inputs.next,
                None,
                None,
                &[],
                &inputs.public,
                domain,
                zeta,
                inputs.alpha,
                quotient,
            )
        };
        assert!(check(acc * sels.inv_vanishing).is_ok());
        assert!(check(acc * sels.inv_vanishing + Challenge::ONE).is_err());
    }
}

#[test]
fn committed_vectors_match_plonky3_and_the_interpreter() {
    let air = BatchAir::new(EXPORT_DEPTH).expect("depth");
    let program = compile_depth(EXPORT_DEPTH).expect("compile");
    let vectors = test_vectors(&air, VECTOR_SEED).expect("vectors");
    assert_eq!(vectors.len(), 3);
    for v in &vectors {
        assert_eq!(run(&program, &v.inputs), Ok(v.expected), "{}", v.name);
    }
}

/// The program reads exactly the input words Plonky3's folder depends on.
#[test]
fn program_reads_exactly_the_words_the_folder_depends_on() {
    let air = BatchAir::new(EXPORT_DEPTH).expect("depth");
    let program = compile_depth(EXPORT_DEPTH).expect("compile");
    let l = program.layout;
    let base = random_inputs(&mut SmallRng::seed_from_u64(4));
    let acc = folder_accumulator(&air, &base).expect("folder");
    for word in 0..l.inputs() - 1 {
        let mut x = base.clone();
        let bump = Challenge::from_basis_coefficients_fn(|i| Felt::from_u32(1 + i as u32));
        match word {
            w if w < l.next(0) => x.local[w] += bump,
            w if w < l.public(0) => x.next[w - l.width] += bump,
            w if w < l.selectors() => x.public[w - l.public(0)] += Felt::ONE,
            w => x.selectors[w - l.selectors()] += bump,
        }
        let changed = folder_accumulator(&air, &x).expect("folder") != acc;
        assert_eq!(changed, program.reads.binary_search(&word).is_ok(), "input word {word}");
    }
    assert!(program.reads.contains(&l.public(32)) && !program.reads.contains(&l.public(0)));
}

#[test]
fn malformed_programs_are_errors_not_panics() {
    let program = compile_depth(EXPORT_DEPTH).expect("compile");
    let inputs = random_inputs(&mut SmallRng::seed_from_u64(5));
    let with_code = |edit: &dyn Fn(&mut Vec<u8>)| {
        let mut p = program.clone();
        edit(&mut p.code);
        run(&p, &inputs)
    };
    let end = program.code.len();
    assert_eq!(
        with_code(&|c| {
            c.pop();
        }),
        Err(ProgramError::Malformed(0)),
        "truncated"
    );
    assert_eq!(with_code(&|c| c.truncate(end - 4)), Err(ProgramError::Malformed(end - 4)));
    let stop = Instruction { op: op::CTRL, fold: false, d: ctl::STOP, a: 0, b: 0 };
    let stop = stop.encode().expect("fits");
    let early = with_code(&|c| c[end - 8..end - 4].copy_from_slice(&stop));
    assert_eq!(early, Err(ProgramError::Malformed(end - 8)), "STOP before the end");
    let insert = |ins: Instruction| {
        move |c: &mut Vec<u8>| {
            let at = c.len() - 4;
            c.splice(at..at, ins.encode().expect("fits"));
        }
    };
    let fold_add = Instruction { op: op::ADD, fold: true, d: 0, a: 70, b: 71 };
    assert_eq!(with_code(&insert(fold_add)), Err(ProgramError::Malformed(end - 4)));
    let far = Instruction { op: op::MUL, fold: false, d: 0, a: 2047, b: 71 };
    assert_eq!(with_code(&insert(far)), Err(ProgramError::Malformed(end - 4)));
    let no_pool = Instruction { op: op::MULC, fold: false, d: 0, a: 70, b: 2000 };
    assert_eq!(with_code(&insert(no_pool)), Err(ProgramError::Malformed(end - 4)));
    let scratch = Instruction { op: op::ADD, fold: false, d: 0, a: 64, b: 70 };
    assert_eq!(with_code(&insert(scratch)), Err(ProgramError::Malformed(end - 4)));
    let bad_ctl = Instruction { op: op::CTRL, fold: false, d: 9, a: 0, b: 0 };
    assert_eq!(with_code(&insert(bad_ctl)), Err(ProgramError::Malformed(end - 4)));
    let stash_input = Instruction { op: op::CTRL, fold: false, d: ctl::STASH, a: 70, b: 0 };
    assert_eq!(with_code(&insert(stash_input)), Err(ProgramError::Malformed(end - 4)));
    // Doubling a register 41 times leaves 64 bits.
    let overflow = |c: &mut Vec<u8>| {
        let at = c.len() - 4;
        let first = Instruction { op: op::ADD, fold: false, d: 1, a: 70, b: 70 };
        let again = Instruction { op: op::ADD, fold: false, d: 1, a: 1, b: 1 };
        let ops = [first].into_iter().chain([again; 40]).flat_map(|i| i.encode().expect("fits"));
        c.splice(at..at, ops.collect::<Vec<_>>());
    };
    assert!(matches!(with_code(&overflow), Err(ProgramError::Overflow(_))), "lane overflow");
    let mut short = inputs.clone();
    short.local.pop();
    assert!(matches!(run(&program, &short), Err(ProgramError::InputLength { .. })));
}

#[test]
fn program_is_compact() {
    let program = compile_depth(EXPORT_DEPTH).expect("compile");
    let words = (program.code.len() - 2 - 4 * program.num_constants) / 4;
    assert!(program.num_instructions <= words && words < 2 * program.num_instructions);
    // At most two data contracts of ≤ 24,575 bytes each (EIP-170), what BatchAirConstraints
    // loads (MAX_CHUNKS); its initcode embeds them and must stay under 49,152 bytes (EIP-3860).
    assert!(program.code.len() <= 2 * 24_575 - 4096, "two data contracts with initcode room");
    assert!(program.num_temps <= 64);
}

#[test]
fn lin_encoding_round_trips() {
    let lin = Lin { fold: false, d: 63, terms: [(2047, 3), (0, 0), (1210, 1), (70, 1)] };
    let bytes = lin.encode().expect("fits");
    assert_eq!(bytes[0] >> 5, op::LIN);
    assert_eq!(Lin::decode(bytes), lin);
    assert_eq!(Lin { d: 64, ..lin }.encode(), None);
    assert_eq!(Lin { terms: [(0, 4), (0, 1), (0, 1), (0, 1)], ..lin }.encode(), None);
    assert_eq!(Lin { terms: [(0, 1), (0, 1), (0, 2), (0, 1)], ..lin }.encode(), None);
}

#[test]
fn committed_generated_files_are_fresh() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    for (path, fresh) in generated_files().expect("generate") {
        let committed = std::fs::read_to_string(root.join(path)).unwrap_or_default();
        assert!(committed == fresh, "{path} is stale: regenerate with `{GENERATOR_COMMAND}`");
    }
}
