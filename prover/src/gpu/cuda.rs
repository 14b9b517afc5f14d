//! The CUDA side of [`super::ProverDft`]: the kernels of [`super::kernels`] compiled with NVRTC
//! and launched through cudarc on one stream. A transform uploads the matrix, runs the steps of
//! its [`super::plan`] (the same steps the host test runs) and downloads the result.

use std::sync::{Arc, Mutex, OnceLock};

use ctm_core::hash::Felt;
use cudarc::driver::{
    CudaContext, CudaFunction, CudaSlice, CudaStream, DriverError, LaunchConfig, PushKernelArg,
};
use cudarc::nvrtc::compile_ptx;
use p3_matrix::Matrix;
use p3_matrix::dense::RowMajorMatrix;

use super::kernels::{KERNELS, source};
use super::plan::{Step, dif_stages, twiddles};
use super::{felts_from_monty, monty_words};
use crate::{ProverError, Result};

const BLOCK: u32 = 256;

fn gpu_err(e: DriverError) -> ProverError {
    ProverError::Gpu(e.to_string())
}

fn launch_cfg(threads: u64) -> Result<LaunchConfig> {
    let blocks = u32::try_from(threads.div_ceil(u64::from(BLOCK)))
        .map_err(|_| ProverError::Gpu(format!("{threads} threads exceed one grid")))?;
    Ok(LaunchConfig {
        grid_dim: (blocks.max(1), 1, 1),
        block_dim: (BLOCK, 1, 1),
        shared_mem_bytes: 0,
    })
}

/// Whether the CUDA driver and NVRTC libraries load and a device is present
/// (`CudaContext::new` panics when the libraries are missing, so this is checked first).
pub(crate) fn available() -> bool {
    // SAFETY: these only try to dlopen the libraries; no CUDA function is called.
    let libs = unsafe {
        cudarc::driver::sys::is_culib_present() && cudarc::nvrtc::sys::is_culib_present()
    };
    libs && std::panic::catch_unwind(|| CudaContext::device_count().unwrap_or(0) > 0)
        .unwrap_or(false)
}

/// The process-wide GPU: opened on first use unless `CTM_PROVER_GPU=0` or no device.
pub(crate) fn shared() -> Option<Arc<Gpu>> {
    static GPU: OnceLock<Option<Arc<Gpu>>> = OnceLock::new();
    GPU.get_or_init(|| {
        if std::env::var("CTM_PROVER_GPU").as_deref() == Ok("0") || !available() {
            return None;
        }
        Gpu::new()
            .inspect(|_| tracing::info!("prover LDEs and leaf hashing on the GPU (CUDA device 0)"))
            .inspect_err(|e| tracing::warn!(error = %e, "GPU unusable; proving on the CPU"))
            .ok()
            .map(Arc::new)
    })
    .clone()
}

/// NVRTC-compiled kernels on device 0's default stream.
pub(crate) struct Gpu {
    stream: Arc<CudaStream>,
    dif: CudaFunction,
    bitrev: CudaFunction,
    scale: CudaFunction,
    keccak: CudaFunction,
    /// Rayon workers hash Merkle leaves concurrently; one batch at a time goes to the device.
    hashing: Mutex<()>,
}

impl std::fmt::Debug for Gpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gpu").finish_non_exhaustive()
    }
}

impl Gpu {
    fn new() -> Result<Self> {
        let ctx = CudaContext::new(0).map_err(gpu_err)?;
        let stream = ctx.default_stream();
        let ptx = compile_ptx(source()).map_err(|e| ProverError::Gpu(format!("nvrtc: {e}")))?;
        let module = ctx.load_module(ptx).map_err(gpu_err)?;
        let f = |name: &str| module.load_function(name).map_err(gpu_err);
        debug_assert_eq!(KERNELS, ["dif_stage", "bitrev_rows", "scale_rows", "keccak256_many"]);
        Ok(Self {
            dif: f(KERNELS[0])?,
            bitrev: f(KERNELS[1])?,
            scale: f(KERNELS[2])?,
            keccak: f(KERNELS[3])?,
            hashing: Mutex::new(()),
            stream,
        })
    }

    /// Runs `plan` on `mat` and returns the current buffer at its end.
    pub(crate) fn run_plan(
        &self,
        mat: &RowMajorMatrix<Felt>,
        plan: &[Step],
    ) -> Result<RowMajorMatrix<Felt>> {
        let width = mat.width();
        let mut cur = self.stream.clone_htod(monty_words(&mat.values)).map_err(gpu_err)?;
        let mut rows = mat.height();
        for step in plan {
            match step {
                Step::Dif { log_n, inverse } => self.dif(&mut cur, width, *log_n, *inverse)?,
                Step::BitrevInto { log_n, rows: new_rows } => {
                    let mut next =
                        self.stream.alloc_zeros::<u32>(new_rows * width).map_err(gpu_err)?;
                    self.bitrev(&cur, &mut next, width, *log_n)?;
                    (cur, rows) = (next, *new_rows);
                }
                Step::Scale(factors) => self.scale(&mut cur, width, factors)?,
            }
        }
        let words = self.stream.clone_dtoh(&cur).map_err(gpu_err)?;
        debug_assert_eq!(words.len(), rows * width);
        let values = felts_from_monty(words)
            .ok_or_else(|| ProverError::Gpu("device returned a non-canonical element".into()))?;
        Ok(RowMajorMatrix::new(values, width.max(1)))
    }

    fn felts(&self, v: &[Felt]) -> Result<CudaSlice<u32>> {
        self.stream.clone_htod(monty_words(v)).map_err(gpu_err)
    }

    /// [`Step::Dif`] on a `2^log_n × width` buffer.
    fn dif(
        &self,
        buf: &mut CudaSlice<u32>,
        width: usize,
        log_n: usize,
        inverse: bool,
    ) -> Result<()> {
        if log_n == 0 || width == 0 {
            return Ok(());
        }
        let tw = self.felts(&twiddles(log_n, inverse))?;
        let width = width as u64;
        let total = (1u64 << (log_n - 1)) * width;
        for (half, step) in dif_stages(log_n) {
            let mut l = self.stream.launch_builder(&self.dif);
            l.arg(&mut *buf).arg(&tw).arg(&width).arg(&half).arg(&step).arg(&total);
            // SAFETY: the arguments match `dif_stage`; it touches the 2^log_n rows of the
            // buffer and twiddles below 2^(log_n-1), all allocated.
            unsafe { l.launch(launch_cfg(total)?) }.map_err(gpu_err)?;
        }
        Ok(())
    }

    /// [`Step::BitrevInto`]: `src`'s `2^log_n` rows into `dst`'s first rows.
    fn bitrev(
        &self,
        src: &CudaSlice<u32>,
        dst: &mut CudaSlice<u32>,
        width: usize,
        log_n: usize,
    ) -> Result<()> {
        let (width, bits) = (width as u64, log_n as u32);
        let total = (1u64 << log_n) * width;
        let mut l = self.stream.launch_builder(&self.bitrev);
        l.arg(src).arg(dst).arg(&width).arg(&bits).arg(&total);
        // SAFETY: matches `bitrev_rows`; `dst` has at least 2^log_n rows of the same width.
        unsafe { l.launch(launch_cfg(total)?) }.map_err(gpu_err)?;
        Ok(())
    }

    /// [`Step::Scale`] on the buffer's first `factors.len()` rows.
    fn scale(&self, buf: &mut CudaSlice<u32>, width: usize, factors: &[Felt]) -> Result<()> {
        let f = self.felts(factors)?;
        let width = width as u64;
        let total = factors.len() as u64 * width;
        let mut l = self.stream.launch_builder(&self.scale);
        l.arg(buf).arg(&f).arg(&width).arg(&total);
        // SAFETY: matches `scale_rows`; the buffer has at least `factors.len()` rows.
        unsafe { l.launch(launch_cfg(total)?) }.map_err(gpu_err)?;
        Ok(())
    }

    /// `out[i] = keccak256(input[i·len .. (i+1)·len])`, `len = input.len() / out.len()`.
    pub(crate) fn keccak_many(&self, input: &[u8], out: &mut [[u8; 32]]) -> Result<()> {
        if out.is_empty() || !input.len().is_multiple_of(out.len()) {
            return Err(ProverError::Gpu("ragged keccak batch".into()));
        }
        let _one_at_a_time = self.hashing.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (len, count) = ((input.len() / out.len()) as u64, out.len() as u64);
        let msgs = self.stream.clone_htod(input).map_err(gpu_err)?;
        let mut digests = self.stream.alloc_zeros::<u8>(out.len() * 32).map_err(gpu_err)?;
        let mut l = self.stream.launch_builder(&self.keccak);
        l.arg(&msgs).arg(&len).arg(&count).arg(&mut digests);
        // SAFETY: matches `keccak256_many`; `msgs` holds `count·len` bytes, `digests` 32·count.
        unsafe { l.launch(launch_cfg(count)?) }.map_err(gpu_err)?;
        let bytes = self.stream.clone_dtoh(&digests).map_err(gpu_err)?;
        for (d, b) in out.iter_mut().zip(bytes.chunks_exact(32)) {
            d.copy_from_slice(b);
        }
        Ok(())
    }
}
