//! Shared test helpers.
#![allow(dead_code, unreachable_pub)]

use alloy_primitives::{Address, B256};
use ctm_core::state::{JobRequirements, JobSpec, ListingKind, ProviderSpec, Role, label};
use ctm_core::{GenesisConfig, MemoryStore, Op, Rules, StateTree, apply};
use ctm_prover::air::BatchAir;
use ctm_prover::{FriConfig, Witness, trace::generate_trace};
use p3_koala_bear::KoalaBear;
use p3_matrix::dense::RowMajorMatrix;

pub const T0: u64 = 1_000;

pub fn actor(i: u8) -> Address {
    Address::repeat_byte(i + 1)
}

pub fn rules() -> Rules {
    let mut r = Rules::from_config(&GenesisConfig::preset("computronium").unwrap());
    r.unit = 1;
    r.market.challenge_window_secs = 100;
    r.market.provider_unbonding_secs = 50;
    r.market.channel_challenge_secs = 30;
    r.market.min_provider_stake = 1000;
    r.allow_mint = true;
    r
}

pub fn world(depth: u8) -> StateTree<MemoryStore> {
    let mut t = StateTree::in_memory(depth).unwrap();
    let mints: Vec<Op> = (0..5).map(|i| Op::Mint { to: actor(i), amount: 1_000_000 }).collect();
    apply(&mut t, &rules(), T0, &mints).unwrap();
    t
}

pub fn spec() -> ProviderSpec {
    ProviderSpec {
        gpu_model: label("H100").unwrap(),
        gpu_memory_mb: 80_000,
        gpu_count: 8,
        price_per_gpu_hour: 10,
        region: label("eu").unwrap(),
    }
}

pub fn job_spec(deadline: u64) -> JobSpec {
    JobSpec {
        model: B256::repeat_byte(1),
        dataset: B256::repeat_byte(2),
        requirements: JobRequirements {
            gpu_model: [0; 16],
            min_gpu_memory_mb: 1,
            gpu_count: 1,
            gpu_hours: 10,
        },
        max_price_per_gpu_hour: 1_000,
        deadline,
        priority: 0,
    }
}

pub fn stake(owner: Address, amount: u128) -> Op {
    Op::Stake { owner, role: Role::Verifier, amount }
}

pub fn listing(owner: Address, price: u128) -> Op {
    Op::CreateListing {
        owner,
        kind: ListingKind::Model,
        content: B256::repeat_byte(3),
        price,
        licence: B256::ZERO,
    }
}

/// Recomputes every update's siblings and the public new root after leaves were rewritten (as a
/// cheating prover would), so that the Merkle chain stays consistent and only the rewritten
/// contents can be at fault. A subtree that no earlier update touched keeps its witness value.
pub fn rechain(w: &mut Witness) {
    use ctm_core::hash::compress;
    use ctm_core::tree::leaf_digest;
    use std::collections::HashMap;
    let mut nodes: HashMap<(usize, u64), ctm_core::Digest> = HashMap::new();
    let mut root = ctm_core::Digest::ZERO;
    for u in &mut w.updates {
        for (level, sib) in u.siblings.iter_mut().enumerate() {
            if let Some(d) = nodes.get(&(level, (u.slot >> level) ^ 1)) {
                *sib = *d;
            }
        }
        let mut acc = u.new.as_ref().map_or(ctm_core::Digest::ZERO, leaf_digest);
        for (level, sib) in u.siblings.iter().enumerate() {
            let at = u.slot >> level;
            nodes.insert((level, at), acc);
            nodes.insert((level, at ^ 1), *sib);
            acc = if at & 1 == 0 { compress(&acc, sib) } else { compress(sib, &acc) };
        }
        root = acc;
    }
    w.public.new_state_root = root.to_bytes32();
    w.lists.flows = ctm_prover::witness::flows_of(&w.updates);
}

/// The trace satisfies every constraint (panics otherwise).
pub fn check(w: &Witness) -> RowMajorMatrix<KoalaBear> {
    let trace = generate_trace(w).unwrap();
    let air = BatchAir::new(w.depth).unwrap();
    p3_air::check_constraints(&air, &trace, &w.public_values_unconserved().unwrap());
    trace
}

/// Whether the trace violates some constraint.
pub fn violates(w: &Witness, trace: RowMajorMatrix<KoalaBear>, pv: Vec<KoalaBear>) -> bool {
    let air = BatchAir::new(w.depth).unwrap();
    std::panic::catch_unwind(move || p3_air::check_constraints(&air, &trace, &pv)).is_err()
}

pub fn fri() -> FriConfig {
    FriConfig::default()
}

/// Proves `trace` as it is (the prover does not check constraints in release builds) and
/// reports whether the verifier accepts it with public values `pv`.
pub fn stark_accepts(depth: u8, trace: RowMajorMatrix<KoalaBear>, pv: &[KoalaBear]) -> bool {
    stark_accepts_with(depth, trace, pv, pv)
}

/// Proves with public values `proved` and verifies with `checked`.
pub fn stark_accepts_with(
    depth: u8,
    trace: RowMajorMatrix<KoalaBear>,
    proved: &[KoalaBear],
    checked: &[KoalaBear],
) -> bool {
    let cfg = ctm_prover::evm_config(&fri());
    let air = BatchAir::new(depth).unwrap();
    match p3_uni_stark::prove(&cfg, &air, trace, proved) {
        Ok(proof) => p3_uni_stark::verify(&cfg, &air, &proof, checked).is_ok(),
        Err(_) => false,
    }
}

/// A `2^log_h × width` matrix of uniformly random field elements.
pub fn random_matrix(
    rng: &mut rand::rngs::SmallRng,
    log_h: usize,
    width: usize,
) -> RowMajorMatrix<KoalaBear> {
    use rand::RngExt;
    let v = (0..width << log_h)
        .map(|_| KoalaBear::new(rng.random_range(0..ctm_core::hash::MODULUS)))
        .collect();
    RowMajorMatrix::new(v, width)
}
