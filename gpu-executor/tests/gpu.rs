//! GPU conformance: the CUDA backend produces bit-identical weights to the CPU reference at
//! every step and every checkpoint. Each test skips (prints and returns) when no GPU is usable:
//! without the `cuda` feature, without a driver / NVRTC, or without a device.

mod common;

use ctm_gpu_executor::backend::cuda_available;
use ctm_gpu_executor::bench::workload;
use ctm_gpu_executor::{BackendKind, Job, TrainOptions, Weights};

fn gpu() -> bool {
    let ok = cuda_available();
    if !ok {
        eprintln!("no usable CUDA GPU (or built without --features cuda): skipping");
    }
    ok
}

fn chains_match(job: &Job) {
    let run = |backend| {
        job.train("gpu", None, TrainOptions { backend, eval_each_epoch: false }, &mut |_| {})
            .unwrap()
    };
    let (cpu, gpu) = (run(BackendKind::Cpu), run(BackendKind::Cuda));
    assert_eq!(cpu.manifest.checkpoints, gpu.manifest.checkpoints);
    assert_eq!(cpu.final_weights, gpu.final_weights);
}

#[test]
fn gpu_matches_cpu_at_every_step() {
    if !gpu() {
        return;
    }
    let job = workload("digits").unwrap().job().unwrap();
    let mut cpu = Weights::init(&job.spec);
    let mut gpu = cpu.clone();
    for s in 0..60 {
        job.run_steps(BackendKind::Cpu, &mut cpu, s, s + 1).unwrap();
        job.run_steps(BackendKind::Cuda, &mut gpu, s, s + 1).unwrap();
        assert_eq!(cpu, gpu, "weights differ after step {s}");
    }
}

#[test]
fn gpu_matches_cpu_at_every_checkpoint_mlp() {
    if !gpu() {
        return;
    }
    chains_match(&workload("digits").unwrap().job().unwrap());
    chains_match(&workload("iris").unwrap().job().unwrap());
}

#[test]
fn gpu_matches_cpu_at_every_checkpoint_logreg() {
    if !gpu() {
        return;
    }
    chains_match(&workload("breast_cancer").unwrap().job().unwrap());
}

#[test]
fn gpu_matches_cpu_with_two_hidden_layers_and_saturation() {
    if !gpu() {
        return;
    }
    // A large learning rate drives values into saturation, exercising the clamps on both paths.
    let mut job = workload("digits").unwrap().job().unwrap();
    job.spec.model = ctm_gpu_executor::ModelKind::Mlp { hidden: vec![48, 24] };
    job.spec.learning_rate = 8 << 16;
    job.spec.steps = 200;
    chains_match(&job);
}
