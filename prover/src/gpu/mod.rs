//! The GPU proving path (feature `cuda`): Plonky3's DFT trait served by CUDA kernels.
//!
//! [`ProverDft`] is the DFT of [`crate::config::evm_config`]. It computes every LDE of the trace
//! and quotient commitments (`coset_lde_batch`, the bulk of the DFT work) on the GPU when the
//! binary was built with `--features cuda` and a CUDA device is usable, and with Plonky3's
//! `Radix2DitParallel` otherwise, or when `CTM_PROVER_GPU=0`, or when a GPU call fails (logged,
//! then redone on the CPU). Both produce the same field elements in the same order, so a proof is
//! byte-for-byte the same on either path (`tests/gpu.rs`, `gpu_*`). The kernels
//! ([`kernels`]) are also run on the host as plain C++ by `tests/gpu_kernels_on_host.rs`.
//!
//! Merkle hashing (keccak of the LDE rows) has a kernel (`keccak256_many`) but is still done by
//! Plonky3's CPU `MerkleTreeMmcs`.

#[cfg(feature = "cuda")]
mod cuda;
pub mod kernels;

use ctm_core::hash::Felt;
use p3_dft::{Radix2DitParallel, TwoAdicSubgroupDft};
use p3_field::{Field, PrimeCharacteristicRing, TwoAdicField};
#[cfg(feature = "cuda")]
use p3_matrix::Matrix;
#[cfg(feature = "cuda")]
use p3_matrix::bitrev::BitReversalPerm;
use p3_matrix::bitrev::BitReversedMatrixView;
use p3_matrix::dense::RowMajorMatrix;

/// The field elements' own words (Montgomery form), without copying.
pub fn monty_words(v: &[Felt]) -> &[u32] {
    // SAFETY: KoalaBear is `MontyField31`, `#[repr(transparent)]` over one `u32` (plus a
    // zero-sized marker), so a slice of it is a slice of `u32` of the same length.
    unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u32>(), v.len()) }
}

/// Field elements from Montgomery words; `None` if a word is not canonical (`≥ p`).
pub fn felts_from_monty(v: Vec<u32>) -> Option<Vec<Felt>> {
    if v.iter().any(|&x| x >= kernels::P) {
        return None;
    }
    let mut v = std::mem::ManuallyDrop::new(v);
    // SAFETY: same layout as above (size and alignment of `u32`), every word is a canonical
    // Montgomery value, and the allocation is handed over with its length and capacity.
    Some(unsafe { Vec::from_raw_parts(v.as_mut_ptr().cast::<Felt>(), v.len(), v.capacity()) })
}

/// `ω^k` for `k < n/2`, `ω` the primitive `n = 2^log_n`-th root of unity (or its inverse): the
/// twiddles of a size-`n` decimation-in-frequency transform.
pub fn twiddles(log_n: usize, inverse: bool) -> Vec<Felt> {
    let mut w = Felt::two_adic_generator(log_n);
    if inverse {
        w = w.inverse();
    }
    w.powers().take((1usize << log_n) / 2).collect()
}

/// `scale · shift^r` for `r < rows`.
pub fn row_factors(rows: usize, shift: Felt, scale: Felt) -> Vec<Felt> {
    shift.shifted_powers(scale).take(rows).collect()
}

/// The `(half, twiddle step)` of each stage of a size-`2^log_n` DIF transform, in order.
pub fn dif_stages(log_n: usize) -> impl Iterator<Item = (u64, u64)> {
    (0..log_n).rev().map(move |s| (1u64 << s, 1u64 << (log_n - 1 - s)))
}

/// `1 / 2^log_n`.
pub fn inv_size(log_n: usize) -> Felt {
    Felt::ONE.div_2exp_u64(log_n as u64)
}

/// The prover's DFT: CUDA when available (feature `cuda`), else Plonky3's parallel radix-2 DIT.
#[derive(Clone, Debug, Default)]
pub struct ProverDft {
    cpu: Radix2DitParallel<Felt>,
    #[cfg(feature = "cuda")]
    gpu: Option<std::sync::Arc<cuda::GpuDft>>,
}

impl ProverDft {
    /// The CPU DFT only.
    pub fn cpu() -> Self {
        Self::default()
    }

    /// The GPU DFT if this build has it, a device is usable and `CTM_PROVER_GPU` is not `0`;
    /// the CPU DFT otherwise. The device is opened once per process.
    pub fn auto() -> Self {
        Self {
            cpu: Radix2DitParallel::default(),
            #[cfg(feature = "cuda")]
            gpu: cuda::shared(),
        }
    }

    /// `"cuda"` or `"cpu"`: which backend computes the LDEs.
    pub fn backend(&self) -> &'static str {
        #[cfg(feature = "cuda")]
        if self.gpu.is_some() {
            return "cuda";
        }
        "cpu"
    }

    /// Runs `f` on the GPU for a matrix of at least [`GPU_MIN_ELEMENTS`] (smaller ones cost
    /// more to move than to transform); `None` means "do it on the CPU".
    #[cfg(feature = "cuda")]
    fn on_gpu<T>(
        &self,
        mat: &RowMajorMatrix<Felt>,
        what: &str,
        f: impl FnOnce(&cuda::GpuDft) -> crate::Result<T>,
    ) -> Option<T> {
        let gpu = self.gpu.as_ref()?;
        if mat.values.len() < GPU_MIN_ELEMENTS || mat.height() < 2 {
            return None;
        }
        f(gpu)
            .inspect_err(
                |e| tracing::warn!(error = %e, "GPU {what} failed; computing it on the CPU"),
            )
            .ok()
    }
}

/// Matrices with fewer elements stay on the CPU.
pub const GPU_MIN_ELEMENTS: usize = 1 << 16;

type Evals = BitReversedMatrixView<RowMajorMatrix<Felt>>;

impl TwoAdicSubgroupDft<Felt> for ProverDft {
    type Evaluations = Evals;

    fn dft_batch(&self, mat: RowMajorMatrix<Felt>) -> Evals {
        #[cfg(feature = "cuda")]
        if let Some(bitrev) = self.on_gpu(&mat, "DFT", |g| g.dft(&mat)) {
            return BitReversalPerm::new_view(bitrev);
        }
        self.cpu.dft_batch(mat)
    }

    fn idft_batch(&self, mat: RowMajorMatrix<Felt>) -> RowMajorMatrix<Felt> {
        #[cfg(feature = "cuda")]
        if let Some(coeffs) = self.on_gpu(&mat, "inverse DFT", |g| g.idft(&mat)) {
            return coeffs;
        }
        self.cpu.idft_batch(mat)
    }

    fn coset_dft_batch(&self, mat: RowMajorMatrix<Felt>, shift: Felt) -> Evals {
        #[cfg(feature = "cuda")]
        if let Some(bitrev) = self.on_gpu(&mat, "coset DFT", |g| g.coset_dft(&mat, shift)) {
            return BitReversalPerm::new_view(bitrev);
        }
        self.cpu.coset_dft_batch(mat, shift)
    }

    fn coset_lde_batch(&self, mat: RowMajorMatrix<Felt>, added_bits: usize, shift: Felt) -> Evals {
        #[cfg(feature = "cuda")]
        if let Some(bitrev) = self.on_gpu(&mat, "LDE", |g| g.coset_lde(&mat, added_bits, shift)) {
            return BitReversalPerm::new_view(bitrev);
        }
        self.cpu.coset_lde_batch(mat, added_bits, shift)
    }
}
