//! Criterion benches of the executor (the same workloads as `ctm-executor bench`, from
//! `ctm_gpu_executor::bench`): CPU training throughput at 1 and 2 rayon threads, one spot-check
//! segment, and one weights commitment.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ctm_gpu_executor::bench::{pool, throughput, workloads};
use ctm_gpu_executor::{BackendKind, Weights};

fn training(c: &mut Criterion) {
    for w in workloads() {
        let job = w.job().expect("workload job");
        let steps = 100;
        let mut g = c.benchmark_group(format!("train/{}", w.name));
        g.throughput(Throughput::Elements(steps * job.spec.batch_size as u64));
        g.sample_size(20);
        for threads in [1, 2] {
            let pool = pool(threads).expect("thread pool");
            g.bench_function(format!("{threads}-threads-{steps}-steps"), |b| {
                b.iter(|| throughput(&job, BackendKind::Cpu, &pool, steps).expect("train"))
            });
        }
        g.finish();
    }
}

fn spot_check_and_commitment(c: &mut Criterion) {
    let w = &workloads()[0];
    let job = w.job().expect("workload job");
    let init = Weights::init(&job.spec);
    let mut g = c.benchmark_group(format!("verify/{}", w.name));
    g.sample_size(20);
    g.bench_function(format!("spot-check-segment-k{}", job.spec.checkpoint_interval), |b| {
        b.iter(|| job.spot_check(&init, 0).expect("spot check"))
    });
    g.bench_function("weights-commitment", |b| b.iter(|| init.commitment()));
    g.finish();
}

criterion_group!(benches, training, spot_check_and_commitment);
criterion_main!(benches);
