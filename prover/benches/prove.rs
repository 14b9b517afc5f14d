//! Criterion bench: proving and verifying transfer batches (shares its workload with
//! `prover-node bench`). `cargo bench -p ctm-prover --bench prove`.

use criterion::{Criterion, criterion_group, criterion_main};
use ctm_prover::{FriConfig, bench, build_witness, evm_config, prove, verify};

fn prove_transfers(c: &mut Criterion) {
    let mut g = c.benchmark_group("prove_transfers");
    g.sample_size(10);
    for (name, fri) in [("blowup2", FriConfig::default()), ("blowup8", FriConfig::high_blowup())] {
        for n in [64usize, 256, 1024] {
            let wl = bench::transfers(n, n, 4).expect("workload");
            let (w, _) = build_witness(&wl.tree, &wl.rules, &wl.blocks, &wl.ctx).expect("witness");
            let cfg = evm_config(&fri);
            g.bench_function(format!("{name}/{n}"), |b| {
                b.iter(|| prove(&cfg, &fri, &w, |_| {}).expect("proof"))
            });
            let proof = prove(&cfg, &fri, &w, |_| {}).expect("proof");
            g.bench_function(format!("{name}/{n}/verify"), |b| {
                b.iter(|| verify(&cfg, &fri, w.depth, &w.public, &proof).expect("valid"))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, prove_transfers);
criterion_main!(benches);
