//! Training backends: the CPU reference ([`cpu`]) and, with the `cuda` feature, the CUDA path.
//!
//! One SGD step on a batch of `B` rows, for layers `l = 0..L` (all Q16.16, see [`crate::fixed`]):
//!
//! ```text
//! a_0      = the batch rows (gathered by the schedule)
//! a_{l+1}  = sat(round_shift(Σ_i a_l[i] · W_l[i] + 1.0 · W_l[bias], 16)), ReLU if l + 1 < L
//! g_L      = softmax(a_L) − onehot(label)                          (per row)
//! for l = L−1 down to 0:
//!   g_l    = (a_l > 0) ? sat(round_shift(Σ_o g_{l+1}[o] · W_l[i][o], 16)) : 0   (l > 0, old W_l)
//!   Δ      = sat(round_shift(Σ_b a_l[b][i] · g_{l+1}[b][o], 16), GRAD_MAX)
//!   W_l    = sat(W_l − div_round(Δ · lr, B · 2^16))
//! ```
//!
//! Every output element is one exact `i64` sum computed by one thread, so the result does not
//! depend on how the work is split (rayon threads or CUDA blocks). Plain SGD has no optimizer
//! state: the weights are the whole training state, which is what makes checkpoints resumable
//! and segments re-executable.

pub mod cpu;
#[cfg(feature = "cuda")]
pub mod cuda;
pub mod kernels;

use crate::error::Result;
use crate::model::{TrainSpec, Weights};
use crate::prep::{Schedule, Split};

/// A training backend bound to one job's training rows.
pub trait Backend {
    /// Short name for logs (`cpu`, `cuda`).
    fn name(&self) -> &'static str;

    /// Runs SGD steps `from..to` in place on `weights`, taking batches from `schedule`.
    fn run(
        &mut self,
        weights: &mut Weights,
        schedule: &mut Schedule,
        from: u64,
        to: u64,
    ) -> Result<()>;
}

/// Which backend to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendKind {
    /// CUDA when compiled in and a GPU is usable, else CPU.
    #[default]
    Auto,
    /// The CPU reference (rayon, current thread pool).
    Cpu,
    /// CUDA; an error when it is not available.
    Cuda,
}

/// Opens a backend of `kind` for `spec` on `train`.
pub fn open<'a>(
    kind: BackendKind,
    spec: &TrainSpec,
    train: &'a Split,
) -> Result<Box<dyn Backend + 'a>> {
    match kind {
        BackendKind::Cpu => Ok(Box::new(cpu::CpuBackend::new(spec, train))),
        BackendKind::Cuda => open_cuda(spec, train),
        BackendKind::Auto => match open_cuda(spec, train) {
            Ok(b) => Ok(b),
            Err(e) => {
                tracing::info!("CUDA backend unavailable ({e}); training on the CPU");
                Ok(Box::new(cpu::CpuBackend::new(spec, train)))
            }
        },
    }
}

#[cfg(feature = "cuda")]
fn open_cuda<'a>(spec: &TrainSpec, train: &'a Split) -> Result<Box<dyn Backend + 'a>> {
    Ok(Box::new(cuda::CudaBackend::new(spec, train)?))
}

#[cfg(not(feature = "cuda"))]
fn open_cuda<'a>(_spec: &TrainSpec, _train: &'a Split) -> Result<Box<dyn Backend + 'a>> {
    Err(crate::error::ExecutorError::Cuda(
        "this build has no CUDA support (build with --features cuda)".into(),
    ))
}

/// Whether a CUDA driver and NVRTC can be loaded (always `false` without the `cuda` feature).
pub fn cuda_available() -> bool {
    #[cfg(feature = "cuda")]
    {
        cuda::available()
    }
    #[cfg(not(feature = "cuda"))]
    {
        false
    }
}
