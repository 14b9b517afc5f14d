//! Out-of-domain constraint evaluation of [`BatchAir`] as a compact register-machine program, so
//! that an L1 verifier evaluates exactly the constraints the Rust AIR defines.
//!
//! Data flow:
//! 1. [`compile`] runs `BatchAir::eval` under Plonky3's `SymbolicAirBuilder` and hash-conses the
//!    constraint expressions into one DAG (structurally equal subexpressions become one node,
//!    constants are folded). It then picks fused instructions (small linear combinations become
//!    `LIN`, `(x + c)^3` becomes `CUBE`), groups runs of consecutive constraints `F·e_k` with a
//!    common factor `F` (folded as `acc·alpha^n + F·Σ_k alpha^(n−1−k)·e_k`, which is the same
//!    value), orders everything for a single pass in the order `eval` emits the constraints,
//!    allocates temporaries by liveness, tracks a bound for every lane so lazy reduction never
//!    overflows, and encodes the result as bytes ([`ConstraintProgram`]).
//! 2. [`evaluate`] interprets the bytes in Rust with the same lane arithmetic as the Solidity
//!    interpreter (`l1-contracts/src/verifier/BatchAirConstraints.sol`), checking every lane; the
//!    result equals the accumulator of Plonky3's `VerifierConstraintFolder`
//!    ([`folder_accumulator`]).
//! 3. [`solidity_program`] renders the bytes as `BatchAirProgram.sol` and [`vectors_json`] writes
//!    test vectors whose expected values come from Plonky3's folder; [`generated_files`] (the
//!    `export-constraints` example) produces both.
//!
//! # Program format (version [`VERSION`])
//! Registers are 32-byte words holding an extension element as four 64-bit lanes
//! `c0 | c1<<64 | c2<<128 | c3<<192`; lanes may be unreduced (below 2^64). Register `r` lives at
//! memory byte offset `32·r`: first [`MAX_TEMPS`] temporaries, then [`ALPHA_POWERS`] scratch
//! words, then the inputs in calldata order (local row, next row, public values, is_first_row,
//! is_last_row, is_transition, alpha), then one register that stays zero ([`Layout`]).
//!
//! The code is `n` (2 bytes) ‖ a pool of `n` base-field constants (4 bytes each) ‖ instructions,
//! big-endian. An instruction is 4 bytes, `op` (3 bits) ‖ `f` (1 bit) ‖ `d` (6 bits, a temporary)
//! ‖ `a` (11 bits, a register) ‖ `b` (11 bits: a register, or an index into the pool), except
//! `LIN`: 8 bytes, `op` ‖ `f` ‖ `d` ‖ `k1`, `k2` (2 bits each) ‖ 6 zero bits ‖ `r1..r4` (11 bits
//! each).
//!
//! | op | name | effect |
//! |---|---|---|
//! | 0 | `ADD d a b` | `d = a + b` lane-wise |
//! | 1 | `SUB d a b` | `d = a + (p << 8) − b` lane-wise (every lane of b ≤ `p << 8`) |
//! | 2 | `MUL d a b` | `d = a · b` in `F_p[X]/(X^4 − 3)`, lanes reduced (a canonical) |
//! | 3 | `MULC d a k` | `d = a · pool[k]`, lanes reduced |
//! | 4 | `ADDC d a k` | `d = a + pool[k]` (lane 0) |
//! | 5 | `CUBE d a k` | `d = (a + pool[k])^3`, lanes reduced |
//! | 6 | `LIN d k1 r1 k2 r2 r3 r4` | `d = k1·r1 + k2·r2 + r3 + r4` lane-wise (`k` in 0..=3) |
//! | 7 | `CTRL` | by `d` ([`ctl`]): 0 `STOP` (the last instruction), 1 `STASH a` (`a = acc`, `acc = 0`), 2 `MERGE a b` (`acc = b · acc + a`, b canonical) |
//!
//! With `f` set (never on `ADD` or `LIN`) the result is also folded, `acc = acc · alpha + d` (a
//! value computed earlier is folded by `SUB t a zero`). The accumulator starts at zero; the
//! result is `acc` at `STOP` with its lanes reduced mod p. A group of constraints with a common
//! factor `F` is `STASH t`, the folds of the cofactors, `MUL u alpha^n t`, `MERGE u F`.
//!
//! Products use the packed "rotation" form: with `a` canonical, `a · b = Σ_j b_j · (a · X^j)`,
//! where `a · X^j` is `a` shifted up `j` lanes with the wrapped lanes times 3 (mod p), and each
//! `b_j` (reduced mod p) multiplies all four lanes in one 256-bit multiplication; lane sums stay
//! below `4p² < 2^64`. `MUL` therefore needs canonical lanes in `a` (the compiler puts a
//! canonical operand first, or reduces one in place with `MULC r r 1`), `CUBE` reduces
//! `a + pool[k]` first, and a fold rotates the canonical `alpha`, reduces the accumulator's lanes
//! and adds a value whose lanes are below 2^58.

use ctm_core::hash::Felt;

use crate::air::BatchAir;
use crate::config::Challenge;

mod compile;
mod dag;
mod emit;
mod interp;
mod solidity;
mod vectors;

pub use compile::{compile, compile_depth};
pub use interp::{encode_ext, encode_input, evaluate};
pub use solidity::{CHUNK_SIZE, GENERATOR_COMMAND, SOLIDITY_PATH, VECTORS_PATH, solidity_program};
pub use vectors::{TestVector, folder_accumulator, test_vectors, vectors_json};

/// Program format version.
pub const VERSION: u8 = 1;
/// State-tree depth of the exported program (the presets' `tree_depth`).
pub const EXPORT_DEPTH: u8 = 32;
/// Seed of the exported test vectors.
pub const VECTOR_SEED: u64 = 0x00c0_de5e_ed00_0032;
/// The KoalaBear modulus.
pub const P: u64 = ctm_core::hash::MODULUS as u64;
/// Temporaries (the 6-bit destination field).
pub const MAX_TEMPS: usize = 1 << 6;
/// Scratch words between the temporaries and the inputs, where the Solidity interpreter keeps
/// `alpha · X^j` (j = 0..3) for folding.
pub const ALPHA_POWERS: usize = 4;
/// Registers addressable by the 11-bit operand fields.
pub const MAX_REGISTERS: usize = 1 << 11;
/// Shift of the `SUB` offset: lanes of the subtrahend must not exceed `p << SUB_SHIFT`.
pub const SUB_SHIFT: u32 = 8;

/// Opcodes of the program.
pub mod op {
    /// `ADD d a b`.
    pub const ADD: u8 = 0;
    /// `SUB d a b`.
    pub const SUB: u8 = 1;
    /// `MUL d a b`.
    pub const MUL: u8 = 2;
    /// `MULC d a k`.
    pub const MULC: u8 = 3;
    /// `ADDC d a k`.
    pub const ADDC: u8 = 4;
    /// `CUBE d a k`.
    pub const CUBE: u8 = 5;
    /// `LIN d k1 r1 k2 r2 r3 r4` (two words).
    pub const LIN: u8 = 6;
    /// Control instructions, the sub-operation in the destination field ([`super::ctl`]).
    pub const CTRL: u8 = 7;
}

/// Sub-operations of [`op::CTRL`].
pub mod ctl {
    /// `STOP`: the last instruction.
    pub const STOP: usize = 0;
    /// `STASH a`: `a = acc`, `acc = 0` (a group of constraints with a common factor begins).
    pub const STASH: usize = 1;
    /// `MERGE a b`: `acc = b · acc + a` (b canonical; the group ends).
    pub const MERGE: usize = 2;
}

/// A decoded `LIN` instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lin {
    /// Fold the result into the accumulator.
    pub fold: bool,
    /// Destination temporary.
    pub d: usize,
    /// (register, coefficient): coefficients 0..=3 for the first two, 1 for the last two.
    pub terms: [(usize, u8); 4],
}

impl Lin {
    /// The 8-byte encoding; `None` if a field does not fit (`k3 = k4 = 1`).
    pub fn encode(&self) -> Option<[u8; 8]> {
        let [t1, t2, t3, t4] = self.terms;
        let fits = self.d < MAX_TEMPS && self.terms.iter().all(|t| t.0 < MAX_REGISTERS);
        (fits && t1.1 < 4 && t2.1 < 4 && t3.1 == 1 && t4.1 == 1).then(|| {
            let mut w =
                u64::from(op::LIN) << 61 | u64::from(self.fold) << 60 | (self.d as u64) << 54;
            w |= u64::from(t1.1) << 52 | u64::from(t2.1) << 50;
            for (i, &(r, _)) in self.terms.iter().enumerate() {
                w |= (r as u64) << (33 - 11 * i);
            }
            w.to_be_bytes()
        })
    }

    /// Decodes 8 bytes (the opcode is not checked).
    pub fn decode(bytes: [u8; 8]) -> Self {
        let w = u64::from_be_bytes(bytes);
        let k = [((w >> 52) & 3) as u8, ((w >> 50) & 3) as u8, 1, 1];
        Self {
            fold: (w >> 60) & 1 == 1,
            d: ((w >> 54) & 0x3f) as usize,
            terms: core::array::from_fn(|i| (((w >> (33 - 11 * i)) & 0x7ff) as usize, k[i])),
        }
    }
}

/// One decoded instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instruction {
    /// Opcode ([`op`]).
    pub op: u8,
    /// Fold the result into the accumulator.
    pub fold: bool,
    /// Destination temporary.
    pub d: usize,
    /// First operand register.
    pub a: usize,
    /// Second operand register or pool index.
    pub b: usize,
}

impl Instruction {
    /// The 4-byte encoding; `None` if a field does not fit.
    pub fn encode(&self) -> Option<[u8; 4]> {
        let fits = self.op < 8 && self.d < MAX_TEMPS && self.a < MAX_REGISTERS;
        (fits && self.b < MAX_REGISTERS).then(|| {
            let w = u32::from(self.op) << 29
                | u32::from(self.fold) << 28
                | (self.d as u32) << 22
                | (self.a as u32) << 11
                | self.b as u32;
            w.to_be_bytes()
        })
    }

    /// Decodes 4 bytes.
    pub fn decode(bytes: [u8; 4]) -> Self {
        let w = u32::from_be_bytes(bytes);
        Self {
            op: (w >> 29) as u8,
            fold: (w >> 28) & 1 == 1,
            d: ((w >> 22) & 0x3f) as usize,
            a: ((w >> 11) & 0x7ff) as usize,
            b: (w & 0x7ff) as usize,
        }
    }
}

/// The generated files at [`EXPORT_DEPTH`], as (path relative to the repository root, contents):
/// the Solidity program ([`SOLIDITY_PATH`]) and the test vectors ([`VECTORS_PATH`]).
pub fn generated_files() -> Result<[(&'static str, String); 2], ProgramError> {
    let air = BatchAir::new(EXPORT_DEPTH).ok_or(ProgramError::Depth(EXPORT_DEPTH))?;
    let program = compile(&air)?;
    let vectors = test_vectors(&air, VECTOR_SEED)?;
    Ok([
        (SOLIDITY_PATH, solidity_program(&program)),
        (VECTORS_PATH, vectors_json(&program, &vectors)?),
    ])
}

/// Errors of compiling or interpreting a constraint program.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProgramError {
    /// The AIR uses a feature the program format does not support.
    #[error("unsupported AIR feature: {0}")]
    Unsupported(&'static str),
    /// The depth is not supported by `BatchAir`.
    #[error("unsupported state-tree depth {0}")]
    Depth(u8),
    /// More temporaries, registers or constants than the format addresses.
    #[error("program needs more {0} than the format addresses")]
    TooMany(&'static str),
    /// An input slice has the wrong length.
    #[error("{what}: expected {expected} elements, got {got}")]
    InputLength {
        /// Which input.
        what: &'static str,
        /// Expected length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
    /// The bytes do not decode as a program.
    #[error("malformed program at byte {0}")]
    Malformed(usize),
    /// A lane would leave 64 bits (the compiler's bound tracking is wrong).
    #[error("lane overflow at byte {0}")]
    Overflow(usize),
    /// Writing the vector file failed.
    #[error("encoding: {0}")]
    Encoding(String),
}

/// Register-file layout of a program: where the inputs live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Trace width (columns of the local and of the next row).
    pub width: usize,
    /// Number of public values.
    pub num_public_values: usize,
}

impl Layout {
    /// The layout of `BatchAir`.
    pub const BATCH: Layout =
        Layout { width: crate::layout::WIDTH, num_public_values: crate::public::NUM_PUBLIC_VALUES };

    /// Register of input word `i` (input words: local row, next row, public values, selectors,
    /// alpha), after the temporaries and the [`ALPHA_POWERS`] scratch words.
    pub fn input(&self, i: usize) -> usize {
        MAX_TEMPS + ALPHA_POWERS + i
    }

    /// Input word of the local-row column `i`.
    pub fn local(&self, i: usize) -> usize {
        i
    }

    /// Input word of the next-row column `i`.
    pub fn next(&self, i: usize) -> usize {
        self.width + i
    }

    /// Input word of public value `i`.
    pub fn public(&self, i: usize) -> usize {
        2 * self.width + i
    }

    /// Input word of `is_first_row` (then `is_last_row`, `is_transition`, `alpha`).
    pub fn selectors(&self) -> usize {
        2 * self.width + self.num_public_values
    }

    /// Input word of `alpha`.
    pub fn alpha(&self) -> usize {
        self.selectors() + 3
    }

    /// Number of input words (32 bytes each in the Solidity input).
    pub fn inputs(&self) -> usize {
        self.alpha() + 1
    }

    /// The register that always holds zero.
    pub fn zero(&self) -> usize {
        self.input(self.inputs())
    }

    /// Registers of the register file.
    pub fn registers(&self) -> usize {
        self.zero() + 1
    }
}

/// A compiled constraint program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConstraintProgram {
    /// State-tree depth of the AIR it was compiled from.
    pub depth: u8,
    /// Input layout.
    pub layout: Layout,
    /// Temporaries used.
    pub num_temps: usize,
    /// Constants in the pool.
    pub num_constants: usize,
    /// Constraints of the AIR.
    pub num_constraints: usize,
    /// Instructions (a `LIN` counts once).
    pub num_instructions: usize,
    /// The encoded program: constant pool and instructions.
    pub code: Vec<u8>,
    /// Input words the program reads, ascending.
    pub reads: Vec<usize>,
}

/// Inputs of one out-of-domain evaluation, as the verifier has them at ζ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OodInputs {
    /// Trace row at ζ.
    pub local: Vec<Challenge>,
    /// Trace row at ζ·ω.
    pub next: Vec<Challenge>,
    /// Public values.
    pub public: Vec<Felt>,
    /// `is_first_row`, `is_last_row`, `is_transition` at ζ (unnormalized, as Plonky3 uses them).
    pub selectors: [Challenge; 3],
    /// The constraint-folding challenge.
    pub alpha: Challenge,
}

impl OodInputs {
    /// Checks the slice lengths against `layout`.
    pub fn check(&self, layout: &Layout) -> Result<(), ProgramError> {
        let check = |what, expected, got| {
            if expected == got {
                Ok(())
            } else {
                Err(ProgramError::InputLength { what, expected, got })
            }
        };
        check("local row", layout.width, self.local.len())?;
        check("next row", layout.width, self.next.len())?;
        check("public values", layout.num_public_values, self.public.len())
    }
}
