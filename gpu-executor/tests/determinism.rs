//! CPU determinism: identical weights at every checkpoint across runs and rayon thread counts,
//! and a resumed run ends exactly where an uninterrupted one does.

mod common;

use common::{small_job, temp_dir, train_into};
use ctm_gpu_executor::bench::workload;
use ctm_gpu_executor::{BackendKind, CheckpointStore, Job, TrainOptions, Weights};

/// Trains in a pool of `threads` and returns every checkpoint's weights (as file bytes) and the
/// chain.
fn run(job: &Job, threads: usize, tag: &str) -> (Vec<Vec<u8>>, Vec<ctm_gpu_executor::Checkpoint>) {
    let dir = temp_dir(&format!("det-{tag}-{threads}"));
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    let (store, out) = pool.install(|| train_into(job, &dir));
    let files = out
        .manifest
        .checkpoints
        .iter()
        .map(|c| std::fs::read(store.weights_path(c.index)).unwrap())
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    (files, out.manifest.checkpoints)
}

#[test]
fn identical_weights_at_every_checkpoint_for_1_2_3_threads() {
    let mut job = workload("digits").unwrap().job().unwrap();
    job.spec.steps = 150;
    job.spec.checkpoint_interval = 25;
    let reference = run(&job, 1, "digits");
    assert_eq!(reference.1.len(), 7);
    for threads in [1, 2, 3] {
        let got = run(&job, threads, "digits");
        assert_eq!(got.1, reference.1, "{threads} threads: chain differs");
        for (i, (a, b)) in got.0.iter().zip(&reference.0).enumerate() {
            assert!(a == b, "{threads} threads: checkpoint {i} weights differ");
        }
    }
}

#[test]
fn logreg_is_thread_count_independent_too() {
    let mut job = workload("breast_cancer").unwrap().job().unwrap();
    job.spec.steps = 100;
    job.spec.checkpoint_interval = 20;
    let a = run(&job, 1, "bc");
    let b = run(&job, 3, "bc");
    assert_eq!(a, b);
}

#[test]
fn stepwise_equals_segmented() {
    // Running steps one call at a time gives the same weights as one call for all of them.
    let job = small_job();
    let mut a = Weights::init(&job.spec);
    let mut b = a.clone();
    job.run_steps(BackendKind::Cpu, &mut a, 0, 40).unwrap();
    for s in 0..40 {
        job.run_steps(BackendKind::Cpu, &mut b, s, s + 1).unwrap();
    }
    assert_eq!(a, b);
}

#[test]
fn resume_after_a_crash_reproduces_the_uninterrupted_run() {
    let job = small_job();
    let full_dir = temp_dir("resume-full");
    let (_, full) = train_into(&job, &full_dir);

    // Simulate a crash after checkpoint 3: keep the chain up to it, corrupt checkpoint 3's file
    // too, so that the run must fall back to checkpoint 2.
    let dir = temp_dir("resume-crash");
    let (store, _) = train_into(&job, &dir);
    let mut m = store.load_manifest().unwrap().unwrap();
    m.checkpoints.truncate(4);
    store.save_manifest(&m).unwrap();
    std::fs::write(store.weights_path(3), b"CTMW garbage").unwrap();
    for i in 4..=6 {
        std::fs::remove_file(store.weights_path(i)).unwrap();
    }
    let store = CheckpointStore::open(&dir).unwrap();
    let mut started_at = None;
    let opts = TrainOptions { backend: BackendKind::Cpu, eval_each_epoch: true };
    let resumed = job
        .train("iris", Some(&store), opts, &mut |e| {
            if let ctm_gpu_executor::engine::Event::Started { step, .. } = e {
                started_at = Some(*step);
            }
        })
        .unwrap();
    assert_eq!(started_at, Some(40));
    assert_eq!(resumed.manifest, full.manifest);
    assert_eq!(resumed.final_weights, full.final_weights);
    assert_eq!((resumed.train, resumed.test), (full.train, full.test));
    for d in [full_dir, dir] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn a_directory_of_another_job_is_refused() {
    let job = small_job();
    let dir = temp_dir("other-job");
    train_into(&job, &dir);
    let mut other = job.clone();
    other.spec.seed += 1;
    let store = CheckpointStore::open(&dir).unwrap();
    let err = other.train("iris", Some(&store), TrainOptions::default(), &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("another job"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}
