//! The GPU proving path (feature `cuda`): Plonky3's DFT trait and the Merkle leaf hasher served
//! by CUDA kernels.
//!
//! [`ProverDft`] is the DFT of [`crate::config::evm_config`]. It computes every LDE of the trace
//! and quotient commitments (`coset_lde_batch`, the bulk of the DFT work) on the GPU when the
//! binary was built with `--features cuda` and a CUDA device is usable, and with Plonky3's
//! `Radix2DitParallel` otherwise, or when `CTM_PROVER_GPU=0`, or when a GPU call fails (logged,
//! then redone on the CPU). Both produce the same field elements in the same order, so a proof is
//! byte-for-byte the same on either path (`tests/gpu.rs`, `gpu_*`). The kernels
//! ([`kernels`]) are also run on the host as plain C++ by `tests/gpu_kernels_on_host.rs`.
//!
//! [`ProverKeccak`] is the leaf hasher of the Merkle commitments: the keccak-256 of serialized LDE
//! rows, batched onto the GPU the same way (`keccak256_many`), digests identical to Plonky3's.

#[cfg(feature = "cuda")]
mod cuda;
mod dft;
mod hash;
pub mod kernels;
pub mod plan;

pub use dft::{GPU_MIN_ELEMENTS, ProverDft};
pub use hash::{GPU_HASH_ROWS, ProverKeccak};

use ctm_core::hash::Felt;
use p3_maybe_rayon::prelude::*;

/// The field elements' own words (Montgomery form), without copying.
pub fn monty_words(v: &[Felt]) -> &[u32] {
    // SAFETY: KoalaBear is `MontyField31`, `#[repr(transparent)]` over one `u32` (plus a
    // zero-sized marker), so a slice of it is a slice of `u32` of the same length.
    unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u32>(), v.len()) }
}

/// Field elements from Montgomery words; `None` if a word is not canonical (`≥ p`).
pub fn felts_from_monty(v: Vec<u32>) -> Option<Vec<Felt>> {
    // In parallel: a GPU result is gigabytes.
    if !v.par_chunks(1 << 16).all(|c| c.iter().all(|&x| x < kernels::P)) {
        return None;
    }
    let mut v = std::mem::ManuallyDrop::new(v);
    // SAFETY: same layout as above (size and alignment of `u32`), every word is a canonical
    // Montgomery value, and the allocation is handed over with its length and capacity.
    Some(unsafe { Vec::from_raw_parts(v.as_mut_ptr().cast::<Felt>(), v.len(), v.capacity()) })
}

/// Where the prover's LDEs and Merkle leaf hashes run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Backend {
    /// The CPU only.
    Cpu,
    /// The GPU when this build has `cuda`, a device is usable and `CTM_PROVER_GPU` is not `0`;
    /// a failed GPU call is logged and redone on the CPU.
    #[default]
    Auto,
    /// Like `Auto`, but a failed GPU call panics instead of falling back: for the `gpu_*`
    /// tests, which must not pass on the CPU's result.
    Strict,
}

/// The GPU handle shared by [`ProverDft`] and [`ProverKeccak`] (the device is opened once per
/// process), or none.
#[derive(Clone, Debug, Default)]
struct Device {
    #[cfg(feature = "cuda")]
    gpu: Option<std::sync::Arc<cuda::Gpu>>,
    #[cfg_attr(not(feature = "cuda"), allow(dead_code))]
    strict: bool,
}

impl Device {
    fn new(backend: Backend) -> Self {
        match backend {
            Backend::Cpu => Self::default(),
            Backend::Auto | Backend::Strict => Self {
                #[cfg(feature = "cuda")]
                gpu: cuda::shared(),
                strict: backend == Backend::Strict,
            },
        }
    }

    fn name(&self) -> &'static str {
        #[cfg(feature = "cuda")]
        if self.gpu.is_some() {
            return "cuda";
        }
        "cpu"
    }

    /// `f` on the GPU if there is one; `None` means "do it on the CPU" (no GPU, or it failed
    /// and this is not [`Backend::Strict`]).
    #[cfg(feature = "cuda")]
    fn run<T>(&self, what: &str, f: impl FnOnce(&cuda::Gpu) -> crate::Result<T>) -> Option<T> {
        let gpu = self.gpu.as_ref()?;
        match f(gpu) {
            Ok(v) => Some(v),
            Err(e) if self.strict => panic!("GPU {what} failed (strict backend): {e}"),
            Err(e) => {
                tracing::warn!(error = %e, "GPU {what} failed; computing it on the CPU");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p3_field::{PrimeCharacteristicRing, PrimeField32};

    #[test]
    fn words_round_trip_and_non_canonical_words_are_refused() {
        let v: Vec<Felt> =
            (0..100_000u32).map(|i| Felt::from_u32(i.wrapping_mul(2_654_435_761))).collect();
        let words = monty_words(&v).to_vec();
        // The words are the Montgomery form (x·2^32 mod p), not the canonical value.
        assert_eq!(
            u64::from(words[1]),
            (u64::from(v[1].as_canonical_u32()) << 32) % u64::from(kernels::P)
        );
        assert_eq!(felts_from_monty(words.clone()).unwrap(), v);
        let mut bad = words;
        bad[77_777] = kernels::P;
        assert!(felts_from_monty(bad).is_none());
    }
}
