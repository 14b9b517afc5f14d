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
use super::plan::{self, Order, Step};
use super::{Backend, Device};
#[cfg(feature = "cuda")]
use p3_util::log2_strict_usize;

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

    /// Runs the plan `make(log2 height)` on the GPU for a matrix of at least
    /// [`GPU_MIN_ELEMENTS`] (smaller ones cost more to move than to transform); `None` means
    /// "do it on the CPU".
    #[cfg(feature = "cuda")]
    fn on_gpu(
        &self,
        mat: &RowMajorMatrix<Felt>,
        what: &str,
        make: impl FnOnce(usize) -> (Vec<Step>, Order),
    ) -> Option<(RowMajorMatrix<Felt>, Order)> {
        if mat.values.len() < GPU_MIN_ELEMENTS || mat.height() < 2 {
            return None;
        }
        let (steps, order) = make(log2_strict_usize(mat.height()));
        self.device.run(what, |g| g.run_plan(mat, &steps)).map(|m| (m, order))
    }
}

/// Matrices with fewer elements stay on the CPU.
pub const GPU_MIN_ELEMENTS: usize = 1 << 16;

type Evals = BitReversedMatrixView<RowMajorMatrix<Felt>>;

/// A GPU result (bit-reversed storage, as every evaluation plan leaves it) in the trait's
/// natural-order view.
#[cfg(feature = "cuda")]
fn view((m, order): (RowMajorMatrix<Felt>, Order)) -> Evals {
    debug_assert_eq!(order, Order::BitReversed);
    BitReversalPerm::new_view(m)
}

impl TwoAdicSubgroupDft<Felt> for ProverDft {
    type Evaluations = Evals;

    fn dft_batch(&self, mat: RowMajorMatrix<Felt>) -> Evals {
        #[cfg(feature = "cuda")]
        if let Some(r) = self.on_gpu(&mat, "DFT", plan::dft) {
            return view(r);
        }
        self.cpu.dft_batch(mat)
    }

    fn idft_batch(&self, mat: RowMajorMatrix<Felt>) -> RowMajorMatrix<Felt> {
        #[cfg(feature = "cuda")]
        if let Some((coeffs, order)) = self.on_gpu(&mat, "inverse DFT", plan::idft) {
            debug_assert_eq!(order, Order::Natural);
            return coeffs;
        }
        self.cpu.idft_batch(mat)
    }

    fn coset_dft_batch(&self, mat: RowMajorMatrix<Felt>, shift: Felt) -> Evals {
        #[cfg(feature = "cuda")]
        if let Some(r) = self.on_gpu(&mat, "coset DFT", |log_h| plan::coset_dft(log_h, shift)) {
            return view(r);
        }
        self.cpu.coset_dft_batch(mat, shift)
    }

    fn coset_lde_batch(&self, mat: RowMajorMatrix<Felt>, added_bits: usize, shift: Felt) -> Evals {
        #[cfg(feature = "cuda")]
        if let Some(r) = self.on_gpu(&mat, "LDE", |log_h| plan::coset_lde(log_h, added_bits, shift))
        {
            return view(r);
        }
        self.cpu.coset_lde_batch(mat, added_bits, shift)
    }
}
