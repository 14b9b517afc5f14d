//! Property test of AIR rule 20 (the credited deposits): for random batches of transfers and
//! deposits, and any queue a cheating prover could pair with any set of flagged account updates
//! (with the queue hashes L1 would hold for it), the trace satisfies the AIR exactly when every
//! flagged update is a credit that follows no transfer debit and the flagged (recipient, amount)
//! pairs, in order, are the queue's credited deposits.

mod common;

use alloy_primitives::{Address, B256};
use common::*;
use ctm_core::Op;
use ctm_core::codec::Codec;
use ctm_core::state::StateKey;
use ctm_prover::public::{QueueEntry, fold_queue_hash, rejected_deposits_hash};
use ctm_prover::trace::generate_trace_unchecked;
use ctm_prover::witness::{BatchContext, Block, Witness, build_witness};
use proptest::prelude::*;

/// A transfer (0) from actor `a`, a deposit (1) to actor `a`, of `amount`, or an L1 message (2),
/// which consumes a queue entry and credits nothing.
fn arb_ops() -> impl Strategy<Value = Vec<(u8, u8, u128)>> {
    prop::collection::vec((0u8..3, 0u8..4, 1u128..4), 1..8)
}

fn entry(index: u64, kind: u8, to: Address, amount: u128) -> QueueEntry {
    QueueEntry {
        index,
        kind,
        l1_sender: actor(8),
        l2_target: to,
        amount,
        data_hash: B256::ZERO,
        timestamp: 5,
    }
}

/// The honest witness and its number of `Deposit` ops (queue entries consumed).
fn honest(ops: &[(u8, u8, u128)]) -> (Witness, usize) {
    let mut queue = Vec::new();
    let ops = ops
        .iter()
        .map(|&(kind, a, amount)| match kind {
            0 => Op::Transfer { from: actor(a), to: actor((a + 1) % 4), amount },
            _ => {
                let index = queue.len() as u64;
                let (kind, amount) = if kind == 1 { (0, amount) } else { (1, 0) };
                queue.push(entry(index, kind, actor(a), amount));
                Op::Deposit { queue_index: index, to: actor(a), amount }
            }
        })
        .collect();
    let deposits = queue.len();
    let ctx = BatchContext { queue, ..Default::default() };
    let blocks = [Block { timestamp: T0, ops }];
    (build_witness(&world(16), &rules(), &blocks, &ctx).unwrap().0, deposits)
}

/// The flagged updates as (recipient, amount, credit).
fn flagged(w: &Witness) -> Vec<(Address, u128, bool)> {
    let mut out = Vec::new();
    for u in &w.updates {
        let Some(d) = u.account.filter(|d| d.deposit) else { continue };
        let key = u.new.as_ref().or(u.old.as_ref()).map(|l| l.key.clone()).unwrap_or_default();
        let Ok(StateKey::Account(to)) = StateKey::from_bytes(&key) else { continue };
        out.push((to, d.amount, d.credit));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn the_air_accepts_exactly_the_queues_the_flagged_credits_spell(
        ops in arb_ops(),
        // Each account update's flag: kept (0) or flipped (1), one in eight flipped.
        flips in prop::collection::vec(prop::sample::select(vec![0u8, 0, 0, 0, 0, 0, 0, 1]), 32),
        // The credits: the flagged ones, or with an amount or a recipient changed, one dropped
        // or one added.
        edit in 0u8..7,
        at in 0usize..8,
        delta in 1u128..3,
    ) {
        let (mut w, deposit_ops) = honest(&ops);
        let accounts: Vec<usize> =
            (0..w.updates.len()).filter(|&i| w.updates[i].account.is_some()).collect();
        for (&i, &flip) in accounts.iter().zip(&flips) {
            if let Some(d) = w.updates[i].account.as_mut() {
                d.deposit ^= flip == 1;
            }
        }
        let flags = flagged(&w);
        let mut credits: Vec<(Address, u128)> = flags.iter().map(|f| (f.0, f.1)).collect();
        match edit {
            1 if !credits.is_empty() => {
                let k = at % credits.len();
                credits[k].1 += delta;
            }
            2 if !credits.is_empty() => {
                let k = at % credits.len();
                credits[k].0 = actor(9);
            }
            3 if !credits.is_empty() => {
                credits.remove(at % credits.len());
            }
            4 => credits.insert(at.min(credits.len()), (actor(2), delta)),
            _ => {}
        }
        // The queue a cheating prover commits: those credits, then messages up to the number of
        // `Deposit` ops (queueCount is bound to the Totals counter on its own).
        let mut queue: Vec<QueueEntry> = credits
            .iter()
            .enumerate()
            .map(|(k, &(to, amount))| entry(k as u64, 0, to, amount))
            .collect();
        while queue.len() < deposit_ops {
            queue.push(entry(queue.len() as u64, 1, actor(7), 0));
        }
        w.public.queue_count = queue.len() as u64;
        w.public.queue_hash_end = fold_queue_hash(w.public.queue_hash_start, &queue);
        w.public.rejected_deposits_hash = rejected_deposits_hash(&[]);
        w.lists.queue = queue;
        w.lists.rejected = vec![];
        let accept = credits.len() <= deposit_ops
            && flags.iter().all(|f| f.2)
            && flags.iter().map(|f| (f.0, f.1)).eq(credits.iter().copied());
        let trace = generate_trace_unchecked(&w).unwrap();
        prop_assert_eq!(!violates(&w, trace, w.public_values_unconserved().unwrap()), accept);
    }
}
