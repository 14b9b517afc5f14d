//! The CUDA backend: the kernels of [`super::kernels`] compiled with NVRTC, launched through
//! cudarc on one stream. The training rows live on the device; the weights are uploaded at the
//! start of [`Backend::run`] and downloaded at its end (once per checkpoint segment).

use std::sync::Arc;

use cudarc::driver::{
    CudaContext, CudaFunction, CudaSlice, CudaStream, DriverError, LaunchConfig, PushKernelArg,
};
use cudarc::nvrtc::compile_ptx;

use super::Backend;
use super::kernels::{KERNELS, source};
use crate::error::{ExecutorError, Result};
use crate::fixed::FRAC;
use crate::model::{TrainSpec, Weights};
use crate::prep::{Schedule, Split};

const BLOCK: u32 = 256;

/// Whether the CUDA driver and NVRTC libraries can be loaded. `CudaContext::new` panics when they
/// cannot, so this is checked first.
pub fn available() -> bool {
    // SAFETY: these only try to dlopen the libraries; no CUDA function is called.
    let libs = unsafe {
        cudarc::driver::sys::is_culib_present() && cudarc::nvrtc::sys::is_culib_present()
    };
    libs && std::panic::catch_unwind(|| CudaContext::device_count().unwrap_or(0) > 0)
        .unwrap_or(false)
}

fn cuda_err(e: DriverError) -> ExecutorError {
    ExecutorError::Cuda(e.to_string())
}

/// Device buffers of one layer.
struct Layer {
    w: CudaSlice<i32>,
    grad: CudaSlice<i64>,
}

/// The CUDA backend.
pub struct CudaBackend {
    stream: Arc<CudaStream>,
    funcs: Vec<CudaFunction>,
    dims: Vec<usize>,
    batch: usize,
    lr: i64,
    features: CudaSlice<i32>,
    labels: CudaSlice<i32>,
    order: CudaSlice<u32>,
    order_epoch: Option<u64>,
    acts: Vec<CudaSlice<i32>>,
    grads: Vec<CudaSlice<i32>>,
    batch_labels: CudaSlice<i32>,
    layers: Vec<Layer>,
}

impl std::fmt::Debug for CudaBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CudaBackend").field("dims", &self.dims).finish_non_exhaustive()
    }
}

fn cfg(n: usize) -> LaunchConfig {
    LaunchConfig {
        grid_dim: ((n as u32).div_ceil(BLOCK), 1, 1),
        block_dim: (BLOCK, 1, 1),
        shared_mem_bytes: 0,
    }
}

impl CudaBackend {
    /// Compiles the kernels and uploads the training rows; an error when no GPU is usable.
    pub fn new(spec: &TrainSpec, train: &Split) -> Result<CudaBackend> {
        if !available() {
            return Err(ExecutorError::Cuda("no CUDA driver / NVRTC / device found".into()));
        }
        let ctx = CudaContext::new(0).map_err(cuda_err)?;
        let stream = ctx.default_stream();
        let ptx = compile_ptx(source()).map_err(|e| ExecutorError::Cuda(format!("nvrtc: {e}")))?;
        let module = ctx.load_module(ptx).map_err(cuda_err)?;
        let funcs = KERNELS
            .iter()
            .map(|k| module.load_function(k).map_err(cuda_err))
            .collect::<Result<Vec<_>>>()?;
        let dims = spec.dims();
        let b = spec.batch_size;
        let s = &stream;
        let acts = dims.iter().map(|&d| s.alloc_zeros::<i32>(b * d)).collect::<Result<_, _>>();
        let grads = dims.iter().map(|&d| s.alloc_zeros::<i32>(b * d)).collect::<Result<_, _>>();
        let layers = dims
            .windows(2)
            .map(|w| {
                let n = (w[0] + 1) * w[1];
                Ok(Layer { w: s.alloc_zeros::<i32>(n)?, grad: s.alloc_zeros::<i64>(n)? })
            })
            .collect::<Result<Vec<_>, DriverError>>();
        Ok(CudaBackend {
            features: s.clone_htod(&train.features).map_err(cuda_err)?,
            labels: s.clone_htod(&train.labels).map_err(cuda_err)?,
            order: s.alloc_zeros::<u32>(train.rows()).map_err(cuda_err)?,
            order_epoch: None,
            acts: acts.map_err(cuda_err)?,
            grads: grads.map_err(cuda_err)?,
            batch_labels: s.alloc_zeros::<i32>(b).map_err(cuda_err)?,
            layers: layers.map_err(cuda_err)?,
            lr: i64::from(spec.learning_rate),
            batch: b,
            dims,
            funcs,
            stream,
        })
    }

    fn step(&mut self, offset: usize) -> Result<(), DriverError> {
        let (b, f) = (self.batch as i32, self.dims[0] as i32);
        let n_layers = self.dims.len() - 1;
        let s = self.stream.clone();
        let off = offset as i32;
        // SAFETY (all launches): argument lists match the kernel signatures in `kernels.rs`, and
        // every buffer has the size those kernels index (allocated in `new` from the same dims).
        unsafe {
            let mut l = s.launch_builder(&self.funcs[0]);
            l.arg(&self.features).arg(&self.order).arg(&off).arg(&mut self.acts[0]);
            l.arg(&b).arg(&f).launch(cfg(self.batch * self.dims[0]))?;
            let one = 1i32;
            let mut l = s.launch_builder(&self.funcs[0]);
            l.arg(&self.labels).arg(&self.order).arg(&off).arg(&mut self.batch_labels);
            l.arg(&b).arg(&one).launch(cfg(self.batch))?;
            for k in 0..n_layers {
                let (i, o) = (self.dims[k] as i32, self.dims[k + 1] as i32);
                let relu = i32::from(k + 1 < n_layers);
                let (lo, hi) = self.acts.split_at_mut(k + 1);
                let mut l = s.launch_builder(&self.funcs[1]);
                l.arg(&lo[k]).arg(&self.layers[k].w).arg(&mut hi[0]);
                l.arg(&b).arg(&i).arg(&o).arg(&relu).launch(cfg(self.batch * o as usize))?;
            }
            let c = self.dims[n_layers] as i32;
            let mut l = s.launch_builder(&self.funcs[2]);
            l.arg(&self.acts[n_layers]).arg(&self.batch_labels).arg(&mut self.grads[n_layers]);
            l.arg(&b).arg(&c).launch(cfg(self.batch))?;
            let denom = i64::from(b) << FRAC;
            for k in (0..n_layers).rev() {
                let (i, o) = (self.dims[k] as i32, self.dims[k + 1] as i32);
                let n = (self.dims[k] + 1) * self.dims[k + 1];
                let (lo, hi) = self.grads.split_at_mut(k + 1);
                let layer = &mut self.layers[k];
                let mut l = s.launch_builder(&self.funcs[3]);
                l.arg(&self.acts[k]).arg(&hi[0]).arg(&mut layer.grad);
                l.arg(&b).arg(&i).arg(&o).launch(cfg(n))?;
                if k > 0 {
                    let mut l = s.launch_builder(&self.funcs[4]);
                    l.arg(&hi[0]).arg(&layer.w).arg(&self.acts[k]).arg(&mut lo[k]);
                    l.arg(&b).arg(&i).arg(&o).launch(cfg(self.batch * self.dims[k]))?;
                }
                let n32 = n as i32;
                let mut l = s.launch_builder(&self.funcs[5]);
                l.arg(&mut layer.w).arg(&layer.grad).arg(&n32).arg(&self.lr).arg(&denom);
                l.launch(cfg(n))?;
            }
        }
        Ok(())
    }

    fn run_inner(
        &mut self,
        weights: &mut Weights,
        schedule: &mut Schedule,
        from: u64,
        to: u64,
    ) -> Result<(), DriverError> {
        for (layer, host) in self.layers.iter_mut().zip(&weights.layers) {
            self.stream.memcpy_htod(host, &mut layer.w)?;
        }
        for step in from..to {
            let epoch = schedule.epoch_of(step);
            if self.order_epoch != Some(epoch) {
                let order = schedule.epoch_order(epoch).to_vec();
                self.stream.memcpy_htod(&order, &mut self.order)?;
                self.order_epoch = Some(epoch);
            }
            self.step(schedule.offset(step))?;
        }
        for (layer, host) in self.layers.iter().zip(weights.layers.iter_mut()) {
            self.stream.memcpy_dtoh(&layer.w, host)?;
        }
        self.stream.synchronize()
    }
}

impl Backend for CudaBackend {
    fn name(&self) -> &'static str {
        "cuda"
    }

    fn run(
        &mut self,
        weights: &mut Weights,
        schedule: &mut Schedule,
        from: u64,
        to: u64,
    ) -> Result<()> {
        weights.check_shape(&self.dims)?;
        self.run_inner(weights, schedule, from, to).map_err(cuda_err)
    }
}
