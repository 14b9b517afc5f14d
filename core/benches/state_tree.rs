//! State-tree throughput: updates per second at depth 32, batched vs one by one, and the raw
//! Poseidon2 rate. Run: `cargo bench -p ctm-core --bench state_tree`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ctm_core::codec::Codec;
use ctm_core::hash::{Digest, compress, sponge};
use ctm_core::state::{Account, StateKey};
use ctm_core::tree::{MemoryStore, StateTree};
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::hint::black_box;

const DEPTH: u8 = 32;

fn keys(n: usize, rng: &mut StdRng) -> Vec<Vec<u8>> {
    (0..n).map(|_| StateKey::Account(rng.random::<[u8; 20]>().into()).to_bytes()).collect()
}

fn populated(keys: &[Vec<u8>]) -> StateTree<MemoryStore> {
    let mut t = StateTree::in_memory(DEPTH).unwrap();
    let v = Account { balance: 1, nonce: 0 }.to_bytes();
    t.apply_batch(keys.iter().map(|k| (k.clone(), Some(v.clone())))).unwrap();
    t
}

fn updates(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(7);
    let mut g = c.benchmark_group("state_tree_depth32");
    g.sample_size(10);
    for &n in &[1usize << 10, 1 << 16] {
        let ks = keys(n, &mut rng);
        let mut tree = populated(&ks);
        let mut round = 0u64;
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(BenchmarkId::new("batched", n), |b| {
            b.iter(|| {
                round += 1;
                let v = Account { balance: u128::from(round), nonce: round }.to_bytes();
                black_box(
                    tree.apply_batch(ks.iter().map(|k| (k.clone(), Some(v.clone())))).unwrap(),
                )
            })
        });
        g.bench_function(BenchmarkId::new("one_by_one", n), |b| {
            b.iter(|| {
                round += 1;
                let v = Account { balance: u128::from(round), nonce: round }.to_bytes();
                for k in &ks {
                    tree.apply_batch([(k.clone(), Some(v.clone()))]).unwrap();
                }
                black_box(tree.root())
            })
        });
    }
    g.finish();
}

fn poseidon2(c: &mut Criterion) {
    let mut g = c.benchmark_group("poseidon2");
    let a = sponge(1, &[]);
    let b = sponge(2, &[]);
    g.throughput(Throughput::Elements(1));
    g.bench_function("compress", |bench| {
        let mut acc: Digest = a;
        bench.iter(|| {
            acc = compress(black_box(&acc), &b);
            acc
        })
    });
    g.finish();
}

criterion_group!(benches, updates, poseidon2);
criterion_main!(benches);
