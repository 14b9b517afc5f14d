//! Witness generation agrees with ctm-core by construction: random workloads (every op kind)
//! replayed through the witness give the same root as `ctm_core::apply`, and their traces satisfy
//! every AIR constraint.

mod common;

use alloy_primitives::B256;
use common::*;
use ctm_core::state::Role;
use ctm_core::{Executor, MemoryStore, Op, StateTree, write_block};
use ctm_prover::witness::{
    BatchContext, Block, Fold, WitnessError, build_witness, build_witness_folded,
};
use p3_field::PrimeCharacteristicRing;
use p3_koala_bear::KoalaBear;
use proptest::prelude::*;

fn arb_op() -> impl Strategy<Value = Op> {
    let a = (0u8..5).prop_map(actor);
    let amt = 0u128..3_000;
    let id = 0u64..4;
    prop_oneof![
        4 => (a.clone(), a.clone(), amt.clone()).prop_map(|(from, to, amount)| Op::Transfer { from, to, amount }),
        2 => (a.clone(), 0u64..3, amt.clone(), amt.clone()).prop_map(|(payer, nonce, burned, tip)| {
            Op::Fee { payer, nonce, burned, tip, beneficiary: actor(4) }
        }),
        1 => (a.clone(), amt.clone()).prop_map(|(from, amount)| Op::Withdraw { from, l1_recipient: actor(9), amount }),
        1 => (a.clone(), amt.clone()).prop_map(|(owner, amount)| stake(owner, amount)),
        1 => (a.clone(), amt.clone()).prop_map(|(owner, amount)| Op::Unstake { owner, role: Role::Verifier, amount }),
        1 => (a.clone(), 900u128..2_000).prop_map(|(owner, stake)| Op::RegisterProvider { owner, spec: spec(), stake }),
        1 => (a.clone(), amt.clone(), 0u64..400).prop_map(|(client, budget, d)| Op::PostJob { client, spec: job_spec(T0 + d), budget }),
        1 => (id.clone(), a.clone()).prop_map(|(job, client)| Op::CancelJob { job, client }),
        1 => (id.clone(), a.clone(), amt.clone()).prop_map(|(job, provider, price)| Op::Assign { job, provider, price }),
        1 => (id.clone(), a.clone(), amt.clone()).prop_map(|(job, provider, collateral)| Op::Accept { job, provider, collateral }),
        1 => (id.clone(), a.clone(), amt.clone()).prop_map(|(job, provider, amount)| Op::Stream { job, provider, amount }),
        1 => (id.clone(), a.clone(), 1u8..255).prop_map(|(job, provider, b)| Op::Attest { job, provider, attestation: B256::with_last_byte(b) }),
        1 => id.clone().prop_map(|job| Op::Settle { job }),
        1 => id.clone().prop_map(|job| Op::Timeout { job }),
        1 => (id.clone(), a.clone()).prop_map(|(job, reporter)| Op::Slash { job, reporter }),
        1 => (a.clone(), a.clone(), amt.clone()).prop_map(|(sender, recipient, deposit)| Op::OpenChannel { sender, recipient, deposit }),
        1 => (id.clone(), a.clone(), amt.clone()).prop_map(|(channel, recipient, cumulative)| Op::Redeem { channel, recipient, cumulative }),
        1 => (id.clone(), a.clone()).prop_map(|(channel, by)| Op::CloseChannel { channel, by }),
        1 => (a.clone(), amt.clone()).prop_map(|(owner, price)| listing(owner, price)),
        1 => (id, a).prop_map(|(listing, buyer)| Op::BuyAccess { listing, buyer }),
    ]
}

/// Keeps only the ops that apply (as the sequencer does) and returns the blocks and the root.
fn sequence(
    tree: &StateTree<MemoryStore>,
    raw: &[(u64, Vec<Op>)],
) -> (Vec<Block>, ctm_core::Digest) {
    let mut t = StateTree::new(tree.store().clone(), tree.depth()).unwrap();
    let mut now = T0;
    let mut blocks = Vec::new();
    for (dt, ops) in raw {
        now += dt;
        let mut ex = Executor::new(&t, rules(), now);
        let ok: Vec<Op> = ops.iter().filter(|op| ex.try_op(op).is_ok()).cloned().collect();
        let writes = ex.into_writes();
        write_block(&mut t, writes).unwrap();
        blocks.push(Block { timestamp: now, ops: ok });
    }
    (blocks, t.root())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn witness_root_equals_core_apply_and_trace_satisfies_the_air(
        raw in prop::collection::vec((0u64..80, prop::collection::vec(arb_op(), 1..10)), 1..5)
    ) {
        let pre = world(16);
        let (blocks, root) = sequence(&pre, &raw);
        let ctx = BatchContext::default();
        let (w, post) = build_witness(&pre, &rules(), &blocks, &ctx).unwrap();
        prop_assert_eq!(post.root(), root);
        prop_assert_eq!(w.public.new_state_root, root.to_bytes32());
        prop_assert_eq!(w.public.prev_state_root, pre.root().to_bytes32());
        check(&w);
        // Folded block by block: the same public inputs, at least as many updates.
        let (per_block, _) = build_witness_folded(&pre, &rules(), &blocks, &ctx, Fold::Block).unwrap();
        prop_assert_eq!(&per_block.public, &w.public);
        prop_assert!(per_block.updates.len() >= w.updates.len());
        check(&per_block);
    }
}

/// Every job status transition the ops make (post, assign, cancel ×2, accept, stream, attest,
/// time out ×2, settle, slash) satisfies the AIR, each picking its own transition selector.
#[test]
fn every_job_transition_satisfies_the_air() {
    use ctm_prover::layout::{FIRST, IS_JOB, JOB_TRANSITIONS, JT};
    let (p, client) = (actor(1), actor(0));
    let post = |deadline| Op::PostJob { client, spec: job_spec(deadline), budget: 10_000 };
    let assign = |job| Op::Assign { job, provider: p, price: 5_000 };
    let accept = |job| Op::Accept { job, provider: p, collateral: 500 };
    let attest = |job, b| Op::Attest { job, provider: p, attestation: B256::with_last_byte(b) };
    let first = vec![
        Op::RegisterProvider { owner: p, spec: spec(), stake: 1_000 },
        stake(actor(3), 10),
        post(T0 + 1_000),
        assign(0),
        accept(0),
        Op::Stream { job: 0, provider: p, amount: 100 },
        attest(0, 1),
        post(T0 + 1_000),
        Op::CancelJob { job: 1, client },
        post(T0 + 1_000),
        assign(2),
        Op::CancelJob { job: 2, client },
        post(T0 + 50),
        assign(3),
        accept(3),
        post(T0 + 50),
        assign(4),
        post(T0 + 1_000),
        assign(5),
        accept(5),
        attest(5, 2),
        post(T0 + 50),
    ];
    let later = [
        Op::Settle { job: 0 },
        Op::Slash { job: 5, reporter: actor(3) },
        Op::Timeout { job: 3 },
        Op::Timeout { job: 4 },
        Op::Timeout { job: 6 },
    ];
    let pre = world(16);
    // Slash comes inside the challenge window, settle after it, timeouts after the deadline.
    let blocks = [
        Block { timestamp: T0, ops: first },
        Block { timestamp: T0 + 60, ops: later[1..].to_vec() },
        Block { timestamp: T0 + 100, ops: later[..1].to_vec() },
    ];
    let (w, _) = build_witness(&pre, &rules(), &blocks, &BatchContext::default()).unwrap();
    let trace = check(&w);
    let mut seen = vec![false; JOB_TRANSITIONS.len()];
    for row in trace.values.chunks_exact(trace.width) {
        if row[FIRST] == KoalaBear::ONE && row[IS_JOB] == KoalaBear::ONE {
            let k = (0..seen.len()).find(|k| row[JT + k] == KoalaBear::ONE).unwrap();
            seen[k] = true;
        }
    }
    assert!(seen.iter().all(|s| *s), "transitions not exercised: {seen:?}");
    assert!(stark_accepts(w.depth, trace, &w.public_values().unwrap()));
}

#[test]
fn deleting_and_recreating_accounts_uses_tombstones_and_empty_slots() {
    // actor 0 (nonce 0) sends everything away: its leaf is deleted; then it is credited again.
    let pre = world(16);
    let blocks = vec![
        Block {
            timestamp: T0,
            ops: vec![Op::Transfer { from: actor(0), to: actor(1), amount: 1_000_000 }],
        },
        Block {
            timestamp: T0 + 1,
            ops: vec![
                Op::Transfer { from: actor(1), to: actor(0), amount: 5 },
                Op::Transfer { from: actor(0), to: actor(2), amount: 5 },
                Op::Transfer { from: actor(1), to: actor(7), amount: 9 },
            ],
        },
    ];
    let (w, _) = build_witness(&pre, &rules(), &blocks, &BatchContext::default()).unwrap();
    assert!(
        w.updates
            .iter()
            .any(|u| u.new.is_none() || u.new.as_ref().is_some_and(|l| l.value.is_empty()))
    );
    assert!(w.updates.iter().any(|u| u.old.is_none()));
    check(&w);
}

/// A signed transfer (`Fee` + `Transfer`) is one update of its sender (nonce step, fee and
/// amount), one of the producer and one of `Totals`, and one credit of its recipient.
#[test]
fn fee_and_transfer_fold_into_one_update_of_the_sender() {
    let pre = world(16);
    let ops = vec![
        Op::Fee { payer: actor(0), nonce: 0, burned: 7, tip: 3, beneficiary: actor(4) },
        Op::Transfer { from: actor(0), to: actor(1), amount: 100 },
    ];
    let (w, _) =
        build_witness(&pre, &rules(), &[Block { timestamp: T0, ops }], &BatchContext::default())
            .unwrap();
    // sender, producer, totals, recipient.
    assert_eq!(w.updates.len(), 4);
    let payer = w.updates[0].account.unwrap();
    assert!(payer.nonce_step == 1 && !payer.credit && payer.amount == 110);
    assert!(w.updates[2].account.is_none(), "totals is a generic update");
    let recipient = w.updates[3].account.unwrap();
    assert!(recipient.credit && recipient.nonce_step == 0 && recipient.amount == 100);
    assert_eq!(w.public.fees_burned, 7);
    check(&w);
}

/// Each account's changes fold into one update whose nonce step counts its transactions, and
/// the producer's tips and the `Totals` counters into one each.
#[test]
fn a_blocks_changes_of_each_key_fold_into_one_update() {
    let pre = world(16);
    let producer = actor(4);
    let fee = |payer, nonce| Op::Fee { payer, nonce, burned: 7, tip: 3, beneficiary: producer };
    let mut ops = Vec::new();
    for i in 0..3 {
        ops.push(fee(actor(i), 0));
        ops.push(Op::Transfer { from: actor(i), to: actor(i + 1), amount: 100 });
    }
    // The producer pays two fees of its own, folded into its tips: a nonce step of 2.
    ops.extend([fee(producer, 0), fee(producer, 1)]);
    let blocks = [Block { timestamp: T0, ops }];
    let (w, post) = build_witness(&pre, &rules(), &blocks, &BatchContext::default()).unwrap();
    let deltas: Vec<_> =
        w.updates.iter().map(|u| u.account.map(|d| (d.credit, d.amount, d.nonce_step))).collect();
    let expected = vec![
        Some((false, 110, 1)),              // actor 0: fee and transfer
        Some((false, 2 * (10 - 3) - 9, 2)), // producer: three tips in, two fees of its own
        None,                               // Totals
        Some((false, 10, 1)),               // actor 1: credited 100, then fee and 100 sent
        Some((false, 10, 1)),               // actor 2: the same
        Some((true, 100, 0)),               // actor 3: credited
    ];
    assert_eq!(deltas, expected);
    assert_eq!(w.public.fees_burned, 5 * 7);
    assert_eq!(w.public.new_state_root, post.root().to_bytes32());
    let trace = check(&w);
    assert!(stark_accepts(w.depth, trace, &w.public_values().unwrap()));
}

/// Folding spans the batch: an account's changes in several blocks are one update. A slot that
/// one block frees and a later block gives to another key cannot be laid out over the batch, and
/// the witness falls back to folding block by block.
#[test]
fn a_batch_folds_across_blocks_and_falls_back_on_slot_reuse() {
    use ctm_core::codec::Codec;
    use ctm_core::state::StateKey;
    use ctm_core::tree::slot_of;
    let pre = world(16);
    let send =
        |t, from, to, amount| Block { timestamp: t, ops: vec![Op::Transfer { from, to, amount }] };
    let blocks = [send(T0, actor(0), actor(1), 5), send(T0 + 1, actor(0), actor(1), 7)];
    let ctx = BatchContext::default();
    let (w, _) = build_witness(&pre, &rules(), &blocks, &ctx).unwrap();
    let deltas: Vec<_> =
        w.updates.iter().map(|u| u.account.map(|d| (d.credit, d.amount))).collect();
    assert_eq!(deltas, vec![Some((false, 12)), Some((true, 12))]);
    check(&w);
    let (per_block, _) = build_witness_folded(&pre, &rules(), &blocks, &ctx, Fold::Block).unwrap();
    assert_eq!(per_block.updates.len(), 4);
    assert_eq!(per_block.public, w.public);
    check(&per_block);

    // Actor 0 sends everything away in block 1 (its slot is emptied); in block 2 an address with
    // the same home slot is credited and takes that slot.
    let home = |a: alloy_primitives::Address| slot_of(&StateKey::Account(a).to_bytes(), 16);
    let twin = (1u64..)
        .map(|i| {
            let mut b = [0xeeu8; 20];
            b[12..].copy_from_slice(&i.to_be_bytes());
            alloy_primitives::Address::from(b)
        })
        .find(|a| home(*a) == home(actor(0)))
        .unwrap();
    let blocks = [send(T0, actor(0), actor(1), 1_000_000), send(T0 + 1, actor(1), twin, 5)];
    let batch = build_witness_folded(&pre, &rules(), &blocks, &ctx, Fold::Batch);
    assert!(matches!(batch, Err(WitnessError::SlotReuse { .. })), "{batch:?}");
    let (w, post) = build_witness(&pre, &rules(), &blocks, &ctx).unwrap();
    assert_eq!(w.public.new_state_root, post.root().to_bytes32());
    let slots: Vec<u64> = w.updates.iter().map(|u| u.slot).collect();
    assert_eq!(slots.iter().filter(|s| **s == home(twin)).count(), 2, "both keys at one slot");
    let trace = check(&w);
    assert!(stark_accepts(w.depth, trace, &w.public_values().unwrap()));
}
