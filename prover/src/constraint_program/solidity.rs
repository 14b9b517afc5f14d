//! Renders a [`ConstraintProgram`] as the generated Solidity library `BatchAirProgram.sol`.

use std::fmt::Write;

use alloy_primitives::keccak256;

use super::{ConstraintProgram, VERSION};

/// The command that regenerates the Solidity program and the test vectors.
pub const GENERATOR_COMMAND: &str =
    "cargo run --release -p ctm-prover --example export-constraints";
/// Path of the generated Solidity library, relative to the repository root.
pub const SOLIDITY_PATH: &str = "l1-contracts/src/verifier/BatchAirProgram.sol";
/// Path of the generated test vectors, relative to the repository root.
pub const VECTORS_PATH: &str = "l1-contracts/test/vectors/constraints.json";
/// Program bytes per data contract: its runtime code is `0x00 ‖ chunk` (EIP-170: 24,576 bytes).
pub const CHUNK_SIZE: usize = 24_575;
/// Program bytes per `hex"…"` line of the generated file.
const LINE_BYTES: usize = 48;

/// The generated `BatchAirProgram.sol` for `program`.
pub fn solidity_program(program: &ConstraintProgram) -> String {
    let mut s = String::new();
    header(&mut s, program);
    constants(&mut s, program);
    chunks(&mut s, program);
    s.push_str("}\n");
    s
}

fn header(s: &mut String, program: &ConstraintProgram) {
    let _ = write!(
        s,
        "// SPDX-License-Identifier: MIT
// GENERATED FILE, DO NOT EDIT. Written by `{GENERATOR_COMMAND}`
// from the Rust batch AIR (prover/src/air.rs, BatchAir::new({depth})) through
// prover/src/constraint_program.rs; prover/tests/constraint_program.rs fails when it is stale.
pragma solidity ^0.8.24;

/// @title BatchAirProgram
/// @notice The out-of-domain constraint program of the batch AIR at depth {depth}: register-machine
///         instructions (format version {VERSION}, see docs/prover.md \"Constraint evaluation on
///         L1\") that BatchAirConstraints interprets. Generated, never edited by hand.
/// @dev The program is split into chunks of at most CHUNK_SIZE bytes; each becomes the runtime code
///      `0x00 ‖ chunk` of a data contract (EIP-170) and is read back with extcodecopy. The
///      constructor of BatchAirConstraints embeds the chunks, so its initcode grows with them
///      (EIP-3860: 49,152 bytes).
library BatchAirProgram {{
",
        depth = program.depth,
    );
}

fn constants(s: &mut String, program: &ConstraintProgram) {
    let l = &program.layout;
    let items: [(&str, &str, String); 13] = [
        ("VERSION", "Program format version.", VERSION.to_string()),
        ("DEPTH", "State-tree depth of the AIR.", program.depth.to_string()),
        ("WIDTH", "Trace width (words of the local and of the next row).", l.width.to_string()),
        ("NUM_PUBLIC_VALUES", "Public values (one word each).", l.num_public_values.to_string()),
        ("INPUT_WORDS", "32-byte words of the evaluate() input.", l.inputs().to_string()),
        (
            "FIRST_INPUT",
            "Register of the first input word (after the temporaries and alpha·X^j).",
            l.input(0).to_string(),
        ),
        (
            "NUM_REGISTERS",
            "Register-file words (temporaries, inputs, zero).",
            l.registers().to_string(),
        ),
        (
            "NUM_CONSTANTS",
            "Base-field constants in the pool at the start of the code.",
            program.num_constants.to_string(),
        ),
        (
            "NUM_CONSTRAINTS",
            "Constraints of the AIR (folded in eval order).",
            program.num_constraints.to_string(),
        ),
        (
            "NUM_INSTRUCTIONS",
            "Instructions after the pool (4 bytes each, LIN 8).",
            program.num_instructions.to_string(),
        ),
        ("CODE_LENGTH", "Program bytes.", program.code.len().to_string()),
        (
            "CHUNK_SIZE",
            "Program bytes per data contract (the last one holds the rest).",
            CHUNK_SIZE.to_string(),
        ),
        ("NUM_CHUNKS", "Data contracts.", program.code.chunks(CHUNK_SIZE).len().to_string()),
    ];
    for (name, doc, value) in items {
        let _ =
            writeln!(s, "    /// @notice {doc}\n    uint256 internal constant {name} = {value};");
    }
    let _ = writeln!(
        s,
        "    /// @notice keccak256 of the program bytes.\n    bytes32 internal constant CODE_HASH = {};",
        keccak256(&program.code)
    );
}

fn chunks(s: &mut String, program: &ConstraintProgram) {
    s.push_str(
        "\n    /// @notice Program chunk `i` (empty past the last).\n    \
         function chunk(uint256 i) internal pure returns (bytes memory) {\n",
    );
    for (i, chunk) in program.code.chunks(CHUNK_SIZE).enumerate() {
        let _ = writeln!(s, "        if (i == {i}) {{\n            return");
        for line in chunk.chunks(LINE_BYTES) {
            let _ = writeln!(s, "                hex\"{}\"", hex::encode(line));
        }
        s.push_str("            ;\n        }\n");
    }
    s.push_str("        return \"\";\n    }\n");
}
