//! The CUDA side of [`super::ProverDft`]: the kernels of [`super::kernels`] compiled with NVRTC
//! and launched through cudarc on one stream. Each call uploads a matrix, runs the transform's
//! stages on the device and downloads the result; twiddles and row factors come from the host
//! helpers of [`super`], so the device does exactly the arithmetic listed there.

use std::sync::{Arc, Mutex, OnceLock};

use ctm_core::hash::Felt;
use cudarc::driver::{
    CudaContext, CudaFunction, CudaSlice, CudaStream, DriverError, LaunchConfig, PushKernelArg,
};
use cudarc::nvrtc::compile_ptx;
use p3_field::PrimeCharacteristicRing;
use p3_matrix::Matrix;
use p3_matrix::dense::RowMajorMatrix;
use p3_util::log2_strict_usize;

use super::kernels::{KERNELS, source};
use super::{dif_stages, felts_from_monty, inv_size, monty_words, row_factors, twiddles};
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

/// The process-wide GPU DFT: opened on first use unless `CTM_PROVER_GPU=0` or no device.
pub(crate) fn shared() -> Option<Arc<Gpu>> {
    static GPU: OnceLock<Option<Arc<Gpu>>> = OnceLock::new();
    GPU.get_or_init(|| {
        if std::env::var("CTM_PROVER_GPU").as_deref() == Ok("0") || !available() {
            return None;
        }
        Gpu::new()
            .inspect(|_| tracing::info!("prover DFT on the GPU (CUDA device 0)"))
            .inspect_err(|e| tracing::warn!(error = %e, "no GPU DFT; using the CPU"))
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

/// A matrix on the device, row-major.
struct DevMat {
    data: CudaSlice<u32>,
    rows: usize,
    width: usize,
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

    fn upload(&self, mat: &RowMajorMatrix<Felt>, rows: usize) -> Result<DevMat> {
        let width = mat.width();
        let mut data = self.stream.alloc_zeros::<u32>(rows * width).map_err(gpu_err)?;
        let words = monty_words(&mat.values);
        self.stream.memcpy_htod(words, &mut data.slice_mut(..words.len())).map_err(gpu_err)?;
        Ok(DevMat { data, rows, width })
    }

    fn download(&self, m: &DevMat) -> Result<RowMajorMatrix<Felt>> {
        let words = self.stream.clone_dtoh(&m.data).map_err(gpu_err)?;
        let values = felts_from_monty(words)
            .ok_or_else(|| ProverError::Gpu("device returned a non-canonical element".into()))?;
        Ok(RowMajorMatrix::new(values, m.width.max(1)))
    }

    fn felts(&self, v: &[Felt]) -> Result<CudaSlice<u32>> {
        self.stream.clone_htod(monty_words(v)).map_err(gpu_err)
    }

    /// Size-`rows` DIF transform of every column, in place: natural order in, bit-reversed out.
    fn dif(&self, m: &mut DevMat, inverse: bool) -> Result<()> {
        let log_n = log2_strict_usize(m.rows);
        if log_n == 0 || m.width == 0 {
            return Ok(());
        }
        let tw = self.felts(&twiddles(log_n, inverse))?;
        let width = m.width as u64;
        let total = (m.rows as u64 / 2) * width;
        for (half, step) in dif_stages(log_n) {
            let mut l = self.stream.launch_builder(&self.dif);
            l.arg(&mut m.data).arg(&tw).arg(&width).arg(&half).arg(&step).arg(&total);
            // SAFETY: the arguments match `dif_stage`; it touches rows below `rows` of a
            // `rows × width` buffer and twiddles below `rows/2`, all allocated.
            unsafe { l.launch(launch_cfg(total)?) }.map_err(gpu_err)?;
        }
        Ok(())
    }

    /// Rows `0..src.rows` of `dst` = `src` rows in bit-reversed order.
    fn bitrev_into(&self, src: &DevMat, dst: &mut DevMat) -> Result<()> {
        let log_n = log2_strict_usize(src.rows) as u32;
        let width = src.width as u64;
        let total = src.rows as u64 * width;
        let mut l = self.stream.launch_builder(&self.bitrev);
        l.arg(&src.data).arg(&mut dst.data).arg(&width).arg(&log_n).arg(&total);
        // SAFETY: matches `bitrev_rows`; `dst` has at least `src.rows` rows of the same width.
        unsafe { l.launch(launch_cfg(total)?) }.map_err(gpu_err)?;
        Ok(())
    }

    /// Rows `0..factors.len()` of `m` times their factor.
    fn scale_rows(&self, m: &mut DevMat, factors: &[Felt]) -> Result<()> {
        let f = self.felts(factors)?;
        let width = m.width as u64;
        let total = factors.len() as u64 * width;
        let mut l = self.stream.launch_builder(&self.scale);
        l.arg(&mut m.data).arg(&f).arg(&width).arg(&total);
        // SAFETY: matches `scale_rows`; `m` has at least `factors.len()` rows.
        unsafe { l.launch(launch_cfg(total)?) }.map_err(gpu_err)?;
        Ok(())
    }

    /// Bit-reversed storage of the DFT of each column.
    pub(crate) fn dft(&self, mat: &RowMajorMatrix<Felt>) -> Result<RowMajorMatrix<Felt>> {
        let mut m = self.upload(mat, mat.height())?;
        self.dif(&mut m, false)?;
        self.download(&m)
    }

    /// Bit-reversed storage of the evaluations on `shift·H` of each column's coefficients.
    pub(crate) fn coset_dft(
        &self,
        mat: &RowMajorMatrix<Felt>,
        shift: Felt,
    ) -> Result<RowMajorMatrix<Felt>> {
        let mut m = self.upload(mat, mat.height())?;
        self.scale_rows(&mut m, &row_factors(mat.height(), shift, Felt::ONE))?;
        self.dif(&mut m, false)?;
        self.download(&m)
    }

    /// Coefficients (natural order) of each column's interpolant on `H`.
    pub(crate) fn idft(&self, mat: &RowMajorMatrix<Felt>) -> Result<RowMajorMatrix<Felt>> {
        let h = mat.height();
        let mut m = self.upload(mat, h)?;
        let mut out = DevMat {
            data: self.stream.alloc_zeros(h * mat.width()).map_err(gpu_err)?,
            rows: h,
            width: mat.width(),
        };
        self.interpolate_into(&mut m, &mut out, Felt::ONE)?;
        self.download(&out)
    }

    /// `dst` rows `0..h` = coefficients of `src`'s columns times `shift^r` (`src` is consumed).
    fn interpolate_into(&self, src: &mut DevMat, dst: &mut DevMat, shift: Felt) -> Result<()> {
        let h = src.rows;
        self.dif(src, true)?;
        self.bitrev_into(src, dst)?;
        self.scale_rows(dst, &row_factors(h, shift, inv_size(log2_strict_usize(h))))
    }

    /// Bit-reversed storage of each column's evaluations on `shift·K`, `|K| = h·2^added_bits`.
    pub(crate) fn coset_lde(
        &self,
        mat: &RowMajorMatrix<Felt>,
        added_bits: usize,
        shift: Felt,
    ) -> Result<RowMajorMatrix<Felt>> {
        let h = mat.height();
        let mut src = self.upload(mat, h)?;
        let n = h << added_bits;
        let data = self.stream.alloc_zeros::<u32>(n * mat.width()).map_err(gpu_err)?;
        let mut lde = DevMat { data, rows: n, width: mat.width() };
        self.interpolate_into(&mut src, &mut lde, shift)?;
        drop(src);
        self.dif(&mut lde, false)?;
        self.download(&lde)
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
