//! `gpu_*`: the CUDA path against the CPU, on a real device (feature `cuda`). Each test prints
//! a message and passes without checking anything when no CUDA device is usable, so the same
//! binary runs everywhere; build it here with
//! `cargo test --release -p ctm-prover --features cuda --test gpu --no-run` and run it on the GPU
//! machine.
#![cfg(feature = "cuda")]

mod common;

use common::random_matrix;
use ctm_core::hash::Felt;
use ctm_prover::config::evm_config_with;
use ctm_prover::gpu::{Backend, ProverDft, ProverKeccak};
use ctm_prover::witness::build_witness;
use ctm_prover::{FriConfig, bench, prove, verify};
use p3_dft::{Radix2DitParallel, TwoAdicSubgroupDft};
use p3_field::Field;
use p3_keccak::Keccak256Hash;
use p3_matrix::bitrev::BitReversibleMatrix;
use p3_symmetric::CryptographicHasher;
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

/// The DFT on the strict GPU backend (a failed GPU call panics, never falls back to the CPU).
fn gpu() -> Option<ProverDft> {
    let dft = ProverDft::new(Backend::Strict);
    if dft.backend() == "cuda" {
        Some(dft)
    } else {
        eprintln!("no usable CUDA device (or CTM_PROVER_GPU=0): skipping");
        None
    }
}

#[test]
fn gpu_transforms_equal_cpu() {
    let Some(gpu) = gpu() else { return };
    let cpu = Radix2DitParallel::<Felt>::default();
    let mut rng = SmallRng::seed_from_u64(1);
    let g = Felt::GENERATOR;
    for (log_h, width) in [(16, 1), (12, 37), (10, 537), (17, 8)] {
        let m = random_matrix(&mut rng, log_h, width);
        let flat =
            |e: <ProverDft as TwoAdicSubgroupDft<Felt>>::Evaluations| e.bit_reverse_rows().values;
        assert!(
            flat(gpu.dft_batch(m.clone())) == cpu.dft_batch(m.clone()).bit_reverse_rows().values
        );
        assert!(gpu.idft_batch(m.clone()).values == cpu.idft_batch(m.clone()).values);
        let cg = gpu.coset_dft_batch(m.clone(), g);
        assert!(flat(cg) == cpu.coset_dft_batch(m.clone(), g).bit_reverse_rows().values);
        for (bits, shift) in [(1, g), (3, g.inverse())] {
            let want = cpu.coset_lde_batch(m.clone(), bits, shift).bit_reverse_rows().values;
            assert!(
                flat(gpu.coset_lde_batch(m.clone(), bits, shift)) == want,
                "LDE 2^{log_h}×{width}"
            );
        }
    }
}

#[test]
fn gpu_keccak_equals_cpu() {
    if gpu().is_none() {
        return;
    }
    let mut rng = SmallRng::seed_from_u64(2);
    for (len, count) in [(1usize, 300usize), (136, 5000), (2148, 4096), (32, 1 << 16)] {
        let msgs: Vec<u8> = (0..len * count).map(|_| rng.random()).collect();
        let mut on_gpu = vec![[0u8; 32]; count];
        ProverKeccak::new(Backend::Strict).hash_many(&msgs, &mut on_gpu);
        let want: Vec<[u8; 32]> = msgs.chunks(len).map(|m| Keccak256Hash.hash_slice(m)).collect();
        assert!(on_gpu == want, "{count} messages of {len} bytes");
    }
}

#[test]
fn gpu_proof_equals_cpu_proof() {
    if gpu().is_none() {
        return;
    }
    let fri = FriConfig::default();
    for n in [1, 300] {
        let wl = bench::transfers(n, n.max(2), 2).unwrap();
        let (w, _) = build_witness(&wl.tree, &wl.rules, &wl.blocks, &wl.ctx).unwrap();
        let on_gpu = prove(&evm_config_with(&fri, Backend::Strict), &fri, &w, |_| {}).unwrap();
        let cpu_cfg = evm_config_with(&fri, Backend::Cpu);
        let on_cpu = prove(&cpu_cfg, &fri, &w, |_| {}).unwrap();
        let bytes = |p| serde_json::to_vec(p).unwrap();
        assert!(bytes(&on_gpu) == bytes(&on_cpu), "{n} transfers: GPU and CPU proofs differ");
        verify(&cpu_cfg, &fri, w.depth, &w.public, &on_gpu).unwrap();
    }
}
