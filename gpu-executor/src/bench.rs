//! Benchmark workloads shared by `benches/training.rs` (criterion) and `ctm-executor bench`.
//!
//! - Throughput: SGD steps on the CPU reference in a rayon pool of a given size, reported as
//!   training samples per second (steps · batch / seconds), commitments excluded.
//! - Spot-check cost: a full training run with a checkpoint every `k` steps (commitments
//!   included) against the verifier's work for `N` sampled segments (load, hash check,
//!   re-execute `k` steps, hash) — the fraction is what a verifier pays relative to the provider.

use std::time::Instant;

use crate::backend::BackendKind;
use crate::data::Dataset;
use crate::engine::{Hyper, Job, TrainOptions, make_spec};
use crate::error::{ExecutorError, Result};
use crate::model::{ModelKind, Weights};

/// A named benchmark workload.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Name.
    pub name: &'static str,
    /// Built-in dataset.
    pub dataset: &'static str,
    /// Model.
    pub model: ModelKind,
    /// Hyper-parameters.
    pub hyper: Hyper,
}

/// The standard workloads: the first of each dataset is the one the learning tests train; the
/// wide digits MLP is for throughput scaling only.
pub fn workloads() -> Vec<Workload> {
    let hyper = |batch_size, lr: f64, epochs, k| Hyper {
        batch_size,
        learning_rate: crate::fixed::from_f64(lr).unwrap_or(1 << 14),
        epochs,
        checkpoint_interval: k,
        seed: 1,
        holdout_permille: 200,
    };
    vec![
        Workload {
            name: "digits-mlp-64-32-10",
            dataset: "digits",
            model: ModelKind::Mlp { hidden: vec![32] },
            hyper: hyper(32, 0.25, 20, 45),
        },
        Workload {
            name: "digits-mlp-64-256-10-b128",
            dataset: "digits",
            model: ModelKind::Mlp { hidden: vec![256] },
            hyper: hyper(128, 0.25, 20, 11),
        },
        Workload {
            name: "breast_cancer-logreg",
            dataset: "breast_cancer",
            model: ModelKind::LogReg,
            hyper: hyper(16, 0.1, 20, 28),
        },
        Workload {
            name: "iris-mlp-4-16-3",
            dataset: "iris",
            model: ModelKind::Mlp { hidden: vec![16] },
            hyper: hyper(8, 0.2, 30, 15),
        },
    ]
}

/// The workload called `name`.
pub fn workload(name: &str) -> Result<Workload> {
    workloads()
        .into_iter()
        .find(|w| w.name == name || w.dataset == name)
        .ok_or_else(|| ExecutorError::spec("workload", format!("unknown workload {name}")))
}

impl Workload {
    /// The job of this workload (dataset loaded, checked, prepared).
    pub fn job(&self) -> Result<Job> {
        let d = Dataset::load(self.dataset)?;
        Job::new(make_spec(self.model.clone(), &d, &self.hyper)?, &d)
    }
}

/// A rayon pool of `threads` threads.
pub fn pool(threads: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| ExecutorError::spec("threads", e.to_string()))
}

/// Runs `steps` steps from the initial weights on `backend` (CPU work on `pool`); returns the
/// weights and samples per second (a CUDA run includes compiling the kernels and uploading).
pub fn throughput(
    job: &Job,
    backend: BackendKind,
    pool: &rayon::ThreadPool,
    steps: u64,
) -> Result<(Weights, f64)> {
    let mut w = Weights::init(&job.spec);
    let start = Instant::now();
    pool.install(|| job.run_steps(backend, &mut w, 0, steps))?;
    let secs = start.elapsed().as_secs_f64();
    Ok((w, steps as f64 * job.spec.batch_size as f64 / secs.max(1e-9)))
}

/// Provider cost vs verifier cost of one run.
#[derive(Debug, Clone, Copy)]
pub struct SpotCheckCost {
    /// Checkpoint interval `k`.
    pub interval: u64,
    /// Segments in the chain.
    pub segments: u32,
    /// Median seconds of a full training run, commitments and checkpoint files included.
    pub train_secs: f64,
    /// Mean seconds to check one segment (load, hash check, re-execute `k` steps, hash).
    pub segment_secs: f64,
}

impl SpotCheckCost {
    /// Verifier cost of `n` sampled segments as a fraction of the provider's training cost.
    pub fn fraction(&self, n: usize) -> f64 {
        n as f64 * self.segment_secs / self.train_secs.max(1e-9)
    }
}

/// Trains `job` with a checkpoint every `interval` steps in a pool of `threads` (`repeats`
/// times, median), then checks every segment once on the same pool (mean per segment).
pub fn spot_check_cost(
    job: &Job,
    interval: u64,
    threads: usize,
    repeats: usize,
) -> Result<SpotCheckCost> {
    let mut job = job.clone();
    job.spec.checkpoint_interval = interval;
    pool(threads)?.install(|| {
        let dir = std::env::temp_dir().join(format!("ctm-bench-{}-{interval}", std::process::id()));
        let opts = TrainOptions { backend: BackendKind::Cpu, eval_each_epoch: false };
        let mut times = Vec::new();
        let mut last = None;
        for _ in 0..repeats.max(1) {
            let _ = std::fs::remove_dir_all(&dir);
            let store = crate::store::CheckpointStore::open(&dir)?;
            let start = Instant::now();
            let outcome = job.train("bench", Some(&store), opts, &mut |_| {})?;
            times.push(start.elapsed().as_secs_f64());
            last = Some((store, outcome));
        }
        times.sort_by(f64::total_cmp);
        let Some((store, outcome)) = last else {
            return Err(ExecutorError::spec("repeats", "must be positive"));
        };
        let segments = (outcome.manifest.checkpoints.len() - 1) as u32;
        let start = Instant::now();
        for i in 0..segments {
            crate::verify::check_segment(&job, &outcome.manifest, &store, i)?;
        }
        let segment_secs = start.elapsed().as_secs_f64() / f64::from(segments.max(1));
        let _ = std::fs::remove_dir_all(&dir);
        Ok(SpotCheckCost { interval, segments, train_secs: times[times.len() / 2], segment_secs })
    })
}
