//! Property test of AIR rule 19 (the withdrawal list): for random batches of transfers and
//! withdrawals, and any withdrawal list and any set of flagged account updates a cheating prover
//! could choose, the trace satisfies the AIR exactly when every flagged update is a debit that no
//! transfer credits and the flagged amounts, in order, are the list's amounts.

mod common;

use common::*;
use ctm_core::Op;
use ctm_prover::public::{Withdrawal, withdrawal_root};
use ctm_prover::trace::generate_trace_unchecked;
use ctm_prover::witness::{BatchContext, Block, Witness, build_witness};
use proptest::prelude::*;

/// A transfer (`true`) or a withdrawal from actor `a` of `amount`.
fn arb_ops() -> impl Strategy<Value = Vec<(bool, u8, u128)>> {
    prop::collection::vec((any::<bool>(), 0u8..4, 1u128..4), 1..7)
}

fn honest(ops: &[(bool, u8, u128)]) -> Witness {
    let ops = ops
        .iter()
        .map(|&(transfer, a, amount)| match transfer {
            true => Op::Transfer { from: actor(a), to: actor((a + 1) % 4), amount },
            false => Op::Withdraw { from: actor(a), l1_recipient: actor(9), amount },
        })
        .collect();
    let blocks = [Block { timestamp: T0, ops }];
    build_witness(&world(16), &rules(), &blocks, &BatchContext::default()).unwrap().0
}

/// What rule 19 accepts: flags only on debits, and their amounts are the list's.
fn expected(w: &Witness, list: &[u128]) -> bool {
    let flagged: Vec<_> =
        w.updates.iter().filter_map(|u| u.account.filter(|d| d.withdrawal)).collect();
    flagged.iter().all(|d| !d.credit) && flagged.iter().map(|d| d.amount).eq(list.iter().copied())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn the_air_accepts_exactly_the_lists_the_flagged_debits_spell(
        ops in arb_ops(),
        // Each account update's flag: kept (0) or flipped (1), one in eight flipped.
        flips in prop::collection::vec(prop::sample::select(vec![0u8, 0, 0, 0, 0, 0, 0, 1]), 32),
        // The list: the flagged amounts (0, 4, 5), or with one amount changed, dropped, or added.
        edit in 0u8..6,
        at in 0usize..8,
        delta in 1u128..3,
    ) {
        let mut w = honest(&ops);
        let accounts: Vec<usize> =
            (0..w.updates.len()).filter(|&i| w.updates[i].account.is_some()).collect();
        for (&i, &flip) in accounts.iter().zip(&flips) {
            if let Some(d) = w.updates[i].account.as_mut() {
                d.withdrawal ^= flip == 1;
            }
        }
        // The list a cheating prover would pair with its flags: their amounts, then edited.
        let mut list: Vec<u128> = w
            .updates
            .iter()
            .filter_map(|u| u.account.filter(|d| d.withdrawal).map(|d| d.amount))
            .collect();
        match edit {
            1 if !list.is_empty() => {
                let k = at % list.len();
                list[k] += delta;
            }
            2 if !list.is_empty() => {
                list.remove(at % list.len());
            }
            3 => list.insert(at.min(list.len()), delta),
            _ => {}
        }
        w.lists.withdrawals = list.iter().map(|&amount| Withdrawal { recipient: actor(9), amount }).collect();
        w.public.withdrawal_root = withdrawal_root(&w.lists.withdrawals);
        let accept = expected(&w, &list);
        let trace = generate_trace_unchecked(&w).unwrap();
        prop_assert_eq!(!violates(&w, trace, w.public_values_unconserved().unwrap()), accept);
    }
}
