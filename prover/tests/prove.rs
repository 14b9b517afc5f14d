//! Prove/verify round trips through the library API, the proof encoding and the envelope checks.

mod common;

use common::*;
use ctm_core::Op;
use ctm_prover::witness::{BatchContext, Block, build_witness};
use ctm_prover::{BatchProof, EvmConfig, FriConfig, ProverError, bench, evm_config, prove, verify};

fn round_trip(w: &ctm_prover::Witness, fri: &FriConfig) -> BatchProof<EvmConfig> {
    let cfg = evm_config(fri);
    let mut stages = Vec::new();
    let proof = prove(&cfg, fri, w, |s| stages.push(s)).unwrap();
    assert_eq!(stages.len(), 3);
    verify(&cfg, fri, w.depth, &w.public, &proof).unwrap();
    proof
}

#[test]
fn transfer_batches_of_several_sizes() {
    for n in [1, 8, 40] {
        let wl = bench::transfers(n, 16, 2).unwrap();
        let (w, post) = build_witness(&wl.tree, &wl.rules, &wl.blocks, &wl.ctx).unwrap();
        assert_eq!(w.public.new_state_root, post.root().to_bytes32());
        // One update per account whose balance the batch changes (its transfers folded).
        let mut net = std::collections::HashMap::new();
        for op in wl.blocks.iter().flat_map(|b| &b.ops) {
            if let Op::Transfer { from, to, amount } = op {
                *net.entry(*from).or_insert(0i128) -= *amount as i128;
                *net.entry(*to).or_insert(0i128) += *amount as i128;
            }
        }
        let changed = net.values().filter(|v| **v != 0).count();
        assert_eq!(w.updates.len(), changed);
        assert!(changed < 2 * n || n == 1);
        round_trip(&w, &FriConfig::default());
    }
}

#[test]
fn mixed_ops_and_high_blowup() {
    let pre = world(32);
    let ops = vec![
        Op::Fee { payer: actor(0), nonce: 0, burned: 3, tip: 2, beneficiary: actor(4) },
        Op::Transfer { from: actor(0), to: actor(6), amount: 500 },
        stake(actor(1), 700),
        listing(actor(2), 90),
        Op::BuyAccess { listing: 0, buyer: actor(3) },
        Op::Withdraw { from: actor(3), l1_recipient: actor(9), amount: 5 },
    ];
    let ctx = BatchContext {
        l2_chain_id: 71117,
        batch_index: 3,
        batch_data: vec![1, 2, 3],
        ..Default::default()
    };
    let (w, _) = build_witness(&pre, &rules(), &[Block { timestamp: T0, ops }], &ctx).unwrap();
    round_trip(&w, &FriConfig::high_blowup());
}

#[test]
fn empty_batch_proves_prev_root_equals_new_root() {
    let pre = world(32);
    let (w, _) = build_witness(&pre, &rules(), &[], &BatchContext::default()).unwrap();
    assert_eq!(w.public.prev_state_root, w.public.new_state_root);
    round_trip(&w, &FriConfig::default());
}

#[test]
fn json_encoding_round_trips_and_envelope_is_checked() {
    let wl = bench::transfers(4, 8, 1).unwrap();
    let (w, _) = build_witness(&wl.tree, &wl.rules, &wl.blocks, &wl.ctx).unwrap();
    let fri = FriConfig::default();
    let proof = round_trip(&w, &fri);
    let bytes = serde_json::to_vec(&proof).unwrap();
    let back: BatchProof<EvmConfig> = serde_json::from_slice(&bytes).unwrap();
    let cfg = evm_config(&fri);
    verify(&cfg, &fri, 32, &w.public, &back).unwrap();
    // Another depth or other FRI parameters than the verifier's are refused.
    assert!(matches!(verify(&cfg, &fri, 31, &w.public, &back), Err(ProverError::Envelope)));
    let other = FriConfig { num_queries: 101, ..fri };
    assert!(matches!(
        verify(&evm_config(&other), &other, 32, &w.public, &back),
        Err(ProverError::Envelope)
    ));
    // Tampered public inputs.
    let mut bad = w.public.clone();
    bad.fees_burned += 1;
    assert!(matches!(verify(&cfg, &fri, 32, &bad, &back), Err(ProverError::Invalid(_))));
    // Garbage is an error, not a panic.
    assert!(serde_json::from_slice::<BatchProof<EvmConfig>>(&bytes[..bytes.len() / 2]).is_err());
}

#[test]
fn insecure_parameters_are_refused() {
    let wl = bench::transfers(1, 2, 1).unwrap();
    let (w, _) = build_witness(&wl.tree, &wl.rules, &wl.blocks, &wl.ctx).unwrap();
    let weak = FriConfig { log_blowup: 1, num_queries: 20, pow_bits: 0, ..FriConfig::default() };
    assert_eq!(weak.conjectured_security_bits(), 20);
    assert!(matches!(
        prove(&evm_config(&weak), &weak, &w, |_| {}),
        Err(ProverError::Insecure { .. })
    ));
    assert!(FriConfig::default().conjectured_security_bits() >= 100);
    assert!(FriConfig::high_blowup().conjectured_security_bits() >= 100);
}

/// Documents a limitation, not a feature: the AIR does not constrain the keccak words (batch
/// data, queue hashes, rejected deposits, slashes) nor the withdrawal recipients (only their
/// amounts and count), so an honest trace can be proven under any values of them.
/// docs/prover.md says so.
#[test]
fn keccak_words_are_not_constrained_by_the_air() {
    let wl = bench::transfers(2, 4, 1).unwrap().with_withdrawals(1);
    let (mut w, _) = build_witness(&wl.tree, &wl.rules, &wl.blocks, &wl.ctx).unwrap();
    w.public.batch_data_hash = alloy_primitives::B256::repeat_byte(0xee);
    // The withdrawal amounts are bound to the debits, their recipients are not.
    w.lists.withdrawals[0].recipient = alloy_primitives::Address::repeat_byte(0xdd);
    w.public.withdrawal_root = ctm_prover::public::withdrawal_root(&w.lists.withdrawals);
    let fri = FriConfig::default();
    let cfg = evm_config(&fri);
    let proof = prove(&cfg, &fri, &w, |_| {}).unwrap();
    assert!(verify(&cfg, &fri, 32, &w.public, &proof).is_ok());
}
