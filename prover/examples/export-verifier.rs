//! Writes the generated parts of the L1 verifier and its test fixtures:
//! - `l1-contracts/src/verifier/BatchVerifierSeeds.sol` (parameters + transcript seeds);
//! - `l1-contracts/test/fixtures/batch-<transfers>.json`: real proofs of transfer batches
//!   encoded for L1, with their public inputs and a corpus of single-byte mutations of the proof
//!   and of every public-input word, each with the Rust verifier's verdict.
//!
//! `cargo run --release -p ctm-prover --example export-verifier [-- --sizes 1,8,60 --withdrawals 0,3,16 --deposits 0,5,16 --mutations 240]`
//! (each batch of `size` transfers gets the matching number of withdrawals and L1 queue
//! entries; without `--withdrawals` / `--deposits`, custom sizes get none)
//!
//! For parameter sweeps (scripts/verifier-gas), `--fri LOG_BLOWUP,QUERIES,POW_BITS[,LOG_ARITY,LOG_FINAL_POLY_LEN] --root DIR`
//! writes the seeds and fixtures for other FRI parameters under another copy of l1-contracts.

use std::path::PathBuf;

use ctm_prover::FriConfig;
use ctm_prover::air::BatchAir;
use ctm_prover::evm::codec::encode;
use ctm_prover::evm::{L1_FRI, solidity, verify_encoded};
use ctm_prover::{PublicInputs, bench, build_witness, evm_config, prove};
use serde_json::json;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Rust verdict on `(public, proof bytes)`: decode, then Plonky3's verifier.
fn accepts(fri: &FriConfig, public: &PublicInputs, bytes: &[u8], depth: u8) -> bool {
    verify_encoded(bytes, fri, depth, public).is_ok()
}

fn abi(public: &PublicInputs) -> Vec<u8> {
    public.words().iter().flat_map(|w| w.0).collect()
}

/// Positions of the lists at the end of an encoded proof to mutate: each list's count byte, then
/// a byte of each field that the verifier hashes or turns into public values.
fn list_positions(bytes: &[u8], lists: &ctm_prover::BatchLists) -> Vec<usize> {
    let (nw, nq, nr) = (lists.withdrawals.len(), lists.queue.len(), lists.rejected.len());
    let rejected = bytes.len() - 1 - 8 * nr;
    let queue = rejected - 1 - 105 * nq;
    let withdrawals = queue - 1 - 36 * nw;
    let mut out = vec![withdrawals, queue, rejected];
    out.extend((0..nw).flat_map(|k| [withdrawals + 1 + 36 * k, withdrawals + 36 + 36 * k]));
    // index (low byte), kind, l1Sender, l2Target, amount (low byte), dataHash, timestamp.
    for k in 0..nq {
        let e = queue + 1 + 105 * k;
        out.extend([e + 7, e + 8, e + 9, e + 29, e + 64, e + 65, e + 104]);
    }
    out.extend((0..nr).map(|k| rejected + 8 + 8 * k));
    out
}

fn fixture(
    fri: &FriConfig,
    (transfers, withdrawals, deposits): (usize, usize, usize),
    mutations: usize,
) -> eyre::Result<serde_json::Value> {
    let wl = bench::transfers(transfers, transfers.max(2), 1)?
        .with_withdrawals(withdrawals)
        .with_deposits(deposits);
    let (w, _) = build_witness(&wl.tree, &wl.rules, &wl.blocks, &wl.ctx)?;
    let t = std::time::Instant::now();
    let p = prove(&evm_config(fri), fri, &w, |_| {})?;
    let prove_s = t.elapsed().as_secs_f64();
    let bytes = encode(&p.proof, &p.lists, fri)?;
    let pi = abi(&w.public);
    eyre::ensure!(accepts(fri, &w.public, &bytes, w.depth), "fresh proof does not verify");
    // Single-byte changes spread over the whole proof (header and every section included).
    let mut corpus = Vec::new();
    let step = (bytes.len() / mutations.max(1)).max(1);
    for k in 0..mutations.min(bytes.len()) {
        let pos = if k < 8 { k } else { (k * step + k * 7) % bytes.len() };
        let mut m = bytes.clone();
        let value = m[pos] ^ (1 << (k % 8));
        m[pos] = value;
        corpus.push(json!({"target": "proof", "pos": pos, "value": value, "accept": accepts(fri, &w.public, &m, w.depth)}));
    }
    // The lists at the end: withdrawals, queue entries, rejected deposits.
    for pos in list_positions(&bytes, &p.lists) {
        let mut m = bytes.clone();
        m[pos] ^= 1;
        let accept = accepts(fri, &w.public, &m, w.depth);
        corpus.push(json!({"target": "proof", "pos": pos, "value": m[pos], "accept": accept}));
    }
    // One change in every public-input word (a low byte, so integer words stay in range).
    for word in 0..13 {
        let mut m = pi.clone();
        let pos = 32 * word + 31;
        m[pos] ^= 1;
        let accept = PublicInputs::from_abi(&m).is_ok_and(|p| accepts(fri, &p, &bytes, w.depth));
        corpus.push(json!({"target": "public", "pos": pos, "value": m[pos], "accept": accept}));
    }
    println!(
        "batch of {transfers} transfers, {withdrawals} withdrawals, {deposits} queue entries: 2^{} rows, proven in {prove_s:.2} s, proof {} bytes, {} mutations",
        p.proof.degree_bits,
        bytes.len(),
        corpus.len()
    );
    Ok(json!({
        "transfers": transfers,
        "withdrawals": withdrawals,
        "queueEntries": deposits,
        "queueHashEnd": format!("{}", w.public.queue_hash_end),
        "degreeBits": p.proof.degree_bits,
        "publicInputs": format!("0x{}", hex::encode(&pi)),
        "withdrawalRoot": format!("{}", w.public.withdrawal_root),
        "batchData": format!("0x{}", hex::encode(&wl.ctx.batch_data)),
        "proof": format!("0x{}", hex::encode(&bytes)),
        "mutations": corpus,
    }))
}

fn main() -> eyre::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let opt = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1));
    let list = |s: &String| s.split(',').map(str::parse).collect::<Result<Vec<usize>, _>>();
    let (sizes, withdrawals, deposits) =
        match (opt("--sizes"), opt("--withdrawals"), opt("--deposits")) {
            (None, None, None) => (vec![1, 8, 60], vec![0, 3, 16], vec![0, 5, 16]),
            (Some(s), w, d) => {
                let zeros = vec![0; list(s)?.len()];
                let or_zeros = |o: Option<&String>| o.map_or(Ok(zeros.clone()), list);
                (list(s)?, or_zeros(w)?, or_zeros(d)?)
            }
            (None, ..) => eyre::bail!("--withdrawals and --deposits need --sizes"),
        };
    eyre::ensure!(
        sizes.len() == withdrawals.len() && sizes.len() == deposits.len(),
        "one --withdrawals and one --deposits count per size"
    );
    let mutations: usize = opt("--mutations").map_or(Ok(240), |s| s.parse())?;
    let fri = match opt("--fri") {
        Some(s) => {
            let v: Vec<usize> = s.split(',').map(str::parse).collect::<Result<_, _>>()?;
            eyre::ensure!(
                v.len() == 3 || v.len() == 5,
                "--fri LOG_BLOWUP,QUERIES,POW_BITS[,LOG_ARITY,LOG_FINAL_POLY_LEN]"
            );
            FriConfig {
                log_blowup: v[0],
                num_queries: v[1],
                pow_bits: v[2],
                log_arity: v.get(3).copied().unwrap_or(1),
                log_final_poly_len: v.get(4).copied().unwrap_or(0),
            }
        }
        None => L1_FRI,
    };
    fri.validate()?;
    let base = opt("--root").map_or_else(root, PathBuf::from);
    let air = BatchAir::new(bench::DEPTH).ok_or_else(|| eyre::eyre!("depth"))?;
    std::fs::write(base.join(solidity::SEEDS_PATH), solidity::seeds_contract_for(&air, &fri))?;
    let out = base.join("l1-contracts/test/fixtures");
    std::fs::create_dir_all(&out)?;
    for (i, ((&n, &wd), &dep)) in sizes.iter().zip(&withdrawals).zip(&deposits).enumerate() {
        // The first fixture carries the full mutation corpus; the others a smaller sample.
        let f = fixture(&fri, (n, wd, dep), if i == 0 { mutations } else { mutations.min(24) })?;
        std::fs::write(out.join(format!("batch-{n}.json")), serde_json::to_string_pretty(&f)?)?;
    }
    Ok(())
}
