//! Writes the generated Solidity constraint program (`l1-contracts/src/verifier/BatchAirProgram.sol`)
//! and its test vectors (`l1-contracts/test/vectors/constraints.json`) from the Rust batch AIR.
//!
//! Usage (from anywhere in the repository):
//! `cargo run --release -p ctm-prover --example export-constraints`.
//! `prover/tests/constraint_program.rs` fails when the committed files differ from what this writes.

use std::path::PathBuf;

use ctm_prover::constraint_program::{EXPORT_DEPTH, compile_depth, generated_files};

fn main() -> eyre::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    for (path, contents) in generated_files()? {
        let file = root.join(path);
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&file, contents)?;
        println!("wrote {path}");
    }
    let program = compile_depth(EXPORT_DEPTH)?;
    println!(
        "depth {EXPORT_DEPTH}: {} constraints, {} instructions, {} constants, {} bytes, {} temporaries",
        program.num_constraints,
        program.num_instructions,
        program.num_constants,
        program.code.len(),
        program.num_temps
    );
    Ok(())
}
