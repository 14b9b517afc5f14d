//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;

use ctm_gpu_executor::bench::workload;
use ctm_gpu_executor::{BackendKind, CheckpointStore, Job, Outcome, TrainOptions};

/// A fresh temporary directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ctm-exec-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The iris workload with a short run (fast) and its job.
pub fn small_job() -> Job {
    let mut job = workload("iris").unwrap().job().unwrap();
    job.spec.steps = 120;
    job.spec.checkpoint_interval = 20;
    job
}

/// Trains `job` on the CPU into `dir`.
pub fn train_into(job: &Job, dir: &PathBuf) -> (CheckpointStore, Outcome) {
    let store = CheckpointStore::open(dir).unwrap();
    let opts = TrainOptions { backend: BackendKind::Cpu, eval_each_epoch: false };
    let out = job.train("iris", Some(&store), opts, &mut |_| {}).unwrap();
    (store, out)
}

/// Anvil's first development key (a well-known test key, never a real one).
pub const TEST_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
