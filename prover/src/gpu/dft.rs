//! [`ProverDft`]: Plonky3's DFT trait on the GPU when there is one, else `Radix2DitParallel`.

use ctm_core::hash::Felt;
use p3_dft::{Radix2DitParallel, TwoAdicSubgroupDft};
#[cfg(feature = "cuda")]
use p3_matrix::Matrix;
#[cfg(feature = "cuda")]
use p3_matrix::bitrev::BitReversalPerm;
use p3_matrix::bitrev::BitReversedMatrixView;
use p3_matrix::dense::RowMajorMatrix;

#[cfg(feature = "cuda")]
use super::cuda;
use super::{Backend, Device};

/// The prover's DFT: CUDA when available (feature `cuda`), else Plonky3's parallel radix-2 DIT.
#[derive(Clone, Debug, Default)]
pub struct ProverDft {
    cpu: Radix2DitParallel<Felt>,
    device: Device,
}

impl ProverDft {
    /// The DFT on `backend`.
    pub fn new(backend: Backend) -> Self {
        Self { cpu: Radix2DitParallel::default(), device: Device::new(backend) }
    }

    /// The CPU DFT only.
    pub fn cpu() -> Self {
        Self::new(Backend::Cpu)
    }

    /// [`Backend::Auto`].
    pub fn auto() -> Self {
        Self::new(Backend::Auto)
    }

    /// `"cuda"` or `"cpu"`: which backend computes the LDEs.
    pub fn backend(&self) -> &'static str {
        self.device.name()
    }

    /// Runs `f` on the GPU for a matrix of at least [`GPU_MIN_ELEMENTS`] (smaller ones cost
    /// more to move than to transform); `None` means "do it on the CPU".
    #[cfg(feature = "cuda")]
    fn on_gpu<T>(
        &self,
        mat: &RowMajorMatrix<Felt>,
        what: &str,
        f: impl FnOnce(&cuda::Gpu) -> crate::Result<T>,
    ) -> Option<T> {
        if mat.values.len() < GPU_MIN_ELEMENTS || mat.height() < 2 {
            return None;
        }
        self.device.run(what, f)
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
