//! The models really learn: held-out accuracy of the standard workloads (see `bench::workloads`)
//! is far above chance. Thresholds are a margin below the measured values.

use ctm_gpu_executor::bench::workload;
use ctm_gpu_executor::{BackendKind, TrainOptions};

fn accuracy(name: &str) -> (f64, f64) {
    let job = workload(name).unwrap().job().unwrap();
    let opts = TrainOptions { backend: BackendKind::Cpu, eval_each_epoch: false };
    let out = job.train(name, None, opts, &mut |_| {}).unwrap();
    println!(
        "{name}: held-out accuracy {:.4}, train accuracy {:.4}, train loss {:.4}, steps {}",
        out.test.accuracy(),
        out.train.accuracy(),
        out.train.loss_f64(),
        job.spec.steps
    );
    (out.test.accuracy(), out.train.loss_f64())
}

#[test]
fn digits_mlp_learns() {
    let (acc, loss) = accuracy("digits");
    assert!(acc >= 0.95, "digits held-out accuracy {acc} (chance 0.10)");
    assert!(loss < 0.3, "train loss {loss}");
}

#[test]
fn breast_cancer_logreg_learns() {
    let (acc, _) = accuracy("breast_cancer");
    assert!(acc >= 0.95, "breast cancer held-out accuracy {acc} (majority class 0.63)");
}

#[test]
fn iris_mlp_learns() {
    let (acc, _) = accuracy("iris");
    assert!(acc >= 0.90, "iris held-out accuracy {acc} (chance 0.33)");
}
