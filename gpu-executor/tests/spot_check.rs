//! Spot checks: re-executing a segment reproduces the next checkpoint; tampered checkpoints,
//! tampered final weights and false claims are caught.

mod common;

use common::{TEST_KEY, small_job, temp_dir, train_into};
use ctm_core::Digest;
use ctm_gpu_executor::attest::{attest, parse_key, sign};
use ctm_gpu_executor::verify::{check_segment, verify_run};
use ctm_gpu_executor::{
    BackendKind, CheckpointStore, Dataset, ExecutorError, Job, Manifest, Weights, spot_check,
};

const CHAIN: u64 = 71117;

/// Rewrites checkpoint `index`'s weights as a cheating provider would: change one weight, then
/// (if `relink`) continue training from the changed weights and rebuild the chain from there.
fn cheat(job: &Job, store: &CheckpointStore, index: u32, relink: bool) -> Manifest {
    let mut m = store.load_manifest().unwrap().unwrap();
    let mut w = store.load_weights(index).unwrap();
    w.layers[0][3] += 1;
    store.save_weights(index, &w).unwrap();
    if relink {
        m.checkpoints.truncate(index as usize);
        m.checkpoints.push(m.next(&w.commitment()));
        for i in index..job.spec.checkpoints() as u32 {
            let (from, to) =
                (job.spec.checkpoint_step(i.into()), job.spec.checkpoint_step(u64::from(i) + 1));
            job.run_steps(BackendKind::Cpu, &mut w, from, to).unwrap();
            store.save_weights(i + 1, &w).unwrap();
            m.checkpoints.push(m.next(&w.commitment()));
        }
        m.verify_links().unwrap();
        store.save_manifest(&m).unwrap();
    }
    m
}

#[test]
fn honest_run_passes_every_segment_and_the_full_verification() {
    let job = small_job();
    let dir = temp_dir("honest");
    let (store, out) = train_into(&job, &dir);
    let m = &out.manifest;
    for i in 0..job.spec.checkpoints() as u32 {
        check_segment(&job, m, &store, i).unwrap();
    }
    // The free function: from checkpoint 2's weights, segment 2 gives checkpoint 3.
    let d = Dataset::load("iris").unwrap();
    let w2 = store.load_weights(2).unwrap();
    assert_eq!(spot_check(&job.spec, &d, &w2, 2).unwrap(), m.checkpoints[3].weights);
    let key = parse_key(TEST_KEY).unwrap();
    let signed = attest(9, &out, &key, CHAIN).unwrap();
    let report = verify_run(&signed, &job, &store, 100, 1).unwrap();
    assert_eq!(report.segments.len(), 6);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_tampered_checkpoint_file_is_caught() {
    let job = small_job();
    let dir = temp_dir("tampered-file");
    let (store, out) = train_into(&job, &dir);
    cheat(&job, &store, 3, false);
    let err = check_segment(&job, &out.manifest, &store, 3).unwrap_err();
    assert!(matches!(err, ExecutorError::WeightsMismatch { index: 3, .. }), "{err}");
    let signed = attest(9, &out, &parse_key(TEST_KEY).unwrap(), CHAIN).unwrap();
    assert!(verify_run(&signed, &job, &store, 6, 1).is_err());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_consistently_faked_checkpoint_is_caught_by_re_execution() {
    // The provider swaps checkpoint 3 for other weights, trains on from them, rebuilds a valid
    // chain and signs it: links and signature verify, but segment 2 -> 3 does not reproduce.
    let job = small_job();
    let dir = temp_dir("faked-chain");
    let (store, mut out) = train_into(&job, &dir);
    out.manifest = cheat(&job, &store, 3, true);
    out.final_weights = store.load_weights(6).unwrap();
    (out.train, out.test) = job.evaluate(&out.final_weights);
    let signed = attest(9, &out, &parse_key(TEST_KEY).unwrap(), CHAIN).unwrap();
    signed.verify().unwrap();
    for i in [0, 1, 3, 4, 5] {
        check_segment(&job, &out.manifest, &store, i).unwrap();
    }
    let err = check_segment(&job, &out.manifest, &store, 2).unwrap_err();
    assert!(matches!(err, ExecutorError::SegmentMismatch { index: 2, next: 3, .. }), "{err}");
    assert!(verify_run(&signed, &job, &store, 6, 1).is_err());
    // Sampling only unaffected segments does not see it: the catch probability is N / C.
    verify_run(&signed, &job, &store, 0, 1).unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn tampered_final_weights_are_caught() {
    let job = small_job();
    let last = job.spec.checkpoints() as u32;
    // Only the file changed: its hash no longer matches the chain.
    let dir = temp_dir("final-file");
    let (store, out) = train_into(&job, &dir);
    let signed = attest(9, &out, &parse_key(TEST_KEY).unwrap(), CHAIN).unwrap();
    cheat(&job, &store, last, false);
    let err = verify_run(&signed, &job, &store, 0, 1).unwrap_err();
    assert!(matches!(err, ExecutorError::WeightsMismatch { .. }), "{err}");
    // File, chain and attestation all changed consistently: the last segment does not reproduce.
    let dir2 = temp_dir("final-chain");
    let (store, mut out) = train_into(&job, &dir2);
    out.manifest = cheat(&job, &store, last, true);
    out.final_weights = store.load_weights(last).unwrap();
    (out.train, out.test) = job.evaluate(&out.final_weights);
    let signed = attest(9, &out, &parse_key(TEST_KEY).unwrap(), CHAIN).unwrap();
    let err = check_segment(&job, &out.manifest, &store, last - 1).unwrap_err();
    assert!(matches!(err, ExecutorError::SegmentMismatch { .. }), "{err}");
    assert!(verify_run(&signed, &job, &store, 6, 1).is_err());
    for d in [dir, dir2] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn false_claims_and_wrong_datasets_are_caught() {
    let job = small_job();
    let dir = temp_dir("claims");
    let (store, out) = train_into(&job, &dir);
    let key = parse_key(TEST_KEY).unwrap();
    let honest = attest(9, &out, &key, CHAIN).unwrap().attestation;
    let lies: [fn(&mut ctm_core::attestation::Attestation); 6] = [
        |a| a.held_out_accuracy += 100,
        |a| a.final_loss -= 1,
        |a| a.steps += 1,
        |a| a.checkpoints -= 1,
        |a| a.final_weights = Digest::ZERO.to_bytes32(),
        |a| a.initial_weights = a.final_weights,
    ];
    for lie in lies {
        let mut a = honest;
        lie(&mut a);
        let signed = sign(a, &key, CHAIN).unwrap();
        let err = verify_run(&signed, &job, &store, 0, 1).unwrap_err();
        assert!(matches!(err, ExecutorError::ClaimMismatch { .. }), "{err}");
    }
    // A job over another dataset cannot be built from this spec.
    let other = Dataset::load("breast_cancer").unwrap();
    let err = Job::new(job.spec.clone(), &other).unwrap_err();
    assert!(matches!(err, ExecutorError::DatasetMismatch { .. }), "{err}");
    // A spot check from weights of the wrong shape is an error, not a panic.
    let bad = Weights { dims: vec![4, 3], layers: vec![vec![0; 15]] };
    assert!(job.spot_check(&bad, 0).is_err());
    assert!(job.spot_check(&Weights::init(&job.spec), 99).is_err());
    let _ = std::fs::remove_dir_all(dir);
}
