//! The op rules: lifecycles, every refusal, atomicity, determinism and token conservation.

use alloy_primitives::{Address, B256};
use ctm_core::config::GenesisConfig;
use ctm_core::op::{Executor, Op, OpError, Rules, apply, write_block};
use ctm_core::state::*;
use ctm_core::tree::{MemoryStore, StateTree};
use proptest::prelude::*;

const T0: u64 = 1_000_000;

fn actor(i: u8) -> Address {
    Address::repeat_byte(i + 1)
}

fn rules() -> Rules {
    let mut r = Rules::from_config(&GenesisConfig::preset("computronium").unwrap());
    r.unit = 1; // whole tokens = base units, so small numbers read easily
    r.market.challenge_window_secs = 100;
    r.market.provider_unbonding_secs = 50;
    r.market.channel_challenge_secs = 30;
    r.market.min_provider_stake = 1000;
    r.allow_mint = true;
    r
}

fn world() -> StateTree<MemoryStore> {
    let mut t = StateTree::in_memory(24).unwrap();
    let mints: Vec<Op> = (0..5).map(|i| Op::Mint { to: actor(i), amount: 1_000_000 }).collect();
    apply(&mut t, &rules(), T0, &mints).unwrap();
    t
}

fn balance(t: &StateTree<MemoryStore>, who: Address) -> u128 {
    t.get_value::<Account>(&StateKey::Account(who)).unwrap().unwrap_or_default().balance
}

fn spec() -> ProviderSpec {
    ProviderSpec {
        gpu_model: label("H100").unwrap(),
        gpu_memory_mb: 80_000,
        gpu_count: 8,
        price_per_gpu_hour: 2,
        region: label("eu-west").unwrap(),
    }
}

fn job_spec(deadline: u64) -> JobSpec {
    JobSpec {
        model: B256::repeat_byte(0xaa),
        dataset: B256::repeat_byte(0xbb),
        requirements: JobRequirements {
            gpu_model: [0; 16],
            min_gpu_memory_mb: 40_000,
            gpu_count: 1,
            gpu_hours: 100,
        },
        max_price_per_gpu_hour: 10,
        deadline,
        priority: 1,
    }
}

fn run(t: &mut StateTree<MemoryStore>, now: u64, ops: &[Op]) -> Result<(), OpError> {
    apply(t, &rules(), now, ops).map(|_| ()).map_err(|e| e.error)
}

/// Every token, wherever it sits, must add up to what entered the chain.
fn conservation(t: &StateTree<MemoryStore>) -> (u128, u128) {
    let s = ctm_core::audit::supply(t.store().leaves().map(|(_, l)| l)).unwrap();
    assert_eq!(s.totals.locked, s.held(), "Totals::locked must equal what the protocol holds");
    (s.accounted(), s.entered())
}

#[test]
fn job_lifecycle_settles_with_exact_payouts() {
    let mut t = world();
    let (client, provider) = (actor(0), actor(1));
    run(
        &mut t,
        T0,
        &[
            Op::RegisterProvider { owner: provider, spec: spec(), stake: 1000 },
            Op::PostJob { client, spec: job_spec(T0 + 1000), budget: 500 },
            Op::Bid { job: 0, provider, price: 400 },
            Op::Assign { job: 0, provider, price: 400 },
            Op::Accept { job: 0, provider, collateral: 40 },
            Op::Stream { job: 0, provider, amount: 100 },
            Op::Attest { job: 0, provider, attestation: B256::repeat_byte(1) },
        ],
    )
    .unwrap();
    // Too early inside the challenge window.
    assert!(matches!(
        run(&mut t, T0 + 50, &[Op::Settle { job: 0 }]),
        Err(OpError::TooEarly { .. })
    ));
    run(&mut t, T0 + 100, &[Op::Settle { job: 0 }]).unwrap();
    // fee = 400 * 2.5% = 10, half burned; provider gets 400 - 10 = 390 in total; client 100 back.
    assert_eq!(balance(&t, provider), 1_000_000 - 1000 + 390);
    assert_eq!(balance(&t, client), 1_000_000 - 400);
    assert_eq!(balance(&t, ctm_core::system::TREASURY), 5);
    let p: Provider = t.get_value(&StateKey::Provider(provider)).unwrap().unwrap();
    assert_eq!(p.completed, 1);
    let (a, b) = conservation(&t);
    assert_eq!(a, b);
}

#[test]
fn timeout_refunds_and_slashes() {
    let mut t = world();
    let (client, provider) = (actor(0), actor(1));
    run(
        &mut t,
        T0,
        &[
            Op::RegisterProvider { owner: provider, spec: spec(), stake: 1000 },
            Op::PostJob { client, spec: job_spec(T0 + 10), budget: 500 },
            Op::Assign { job: 0, provider, price: 300 },
            Op::Accept { job: 0, provider, collateral: 100 },
        ],
    )
    .unwrap();
    assert!(matches!(
        run(&mut t, T0 + 10, &[Op::Timeout { job: 0 }]),
        Err(OpError::TooEarly { .. })
    ));
    run(&mut t, T0 + 11, &[Op::Timeout { job: 0 }]).unwrap();
    assert_eq!(
        balance(&t, client),
        1_000_000 + 50,
        "budget back plus the unburned half of the collateral"
    );
    assert_eq!(balance(&t, provider), 1_000_000 - 1000 - 100);
    let p: Provider = t.get_value(&StateKey::Provider(provider)).unwrap().unwrap();
    assert_eq!(p.failed, 1);
    // An attestation after the timeout is refused.
    let err =
        run(&mut t, T0 + 12, &[Op::Attest { job: 0, provider, attestation: B256::repeat_byte(1) }]);
    assert!(matches!(err, Err(OpError::JobStatus { .. })));
}

#[test]
fn dispute_slashes_to_a_staked_reporter_only() {
    let mut t = world();
    let (client, provider, verifier) = (actor(0), actor(1), actor(2));
    run(
        &mut t,
        T0,
        &[
            Op::RegisterProvider { owner: provider, spec: spec(), stake: 1000 },
            Op::PostJob { client, spec: job_spec(T0 + 1000), budget: 500 },
            Op::Assign { job: 0, provider, price: 300 },
            Op::Accept { job: 0, provider, collateral: 100 },
            Op::Attest { job: 0, provider, attestation: B256::repeat_byte(1) },
        ],
    )
    .unwrap();
    let unstaked = run(&mut t, T0 + 1, &[Op::Slash { job: 0, reporter: verifier }]);
    assert!(matches!(unstaked, Err(OpError::Invalid { what: "reporter", .. })));
    run(&mut t, T0 + 1, &[Op::Stake { owner: verifier, role: Role::Verifier, amount: 10 }])
        .unwrap();
    run(&mut t, T0 + 2, &[Op::Slash { job: 0, reporter: verifier }]).unwrap();
    assert_eq!(balance(&t, verifier), 1_000_000 - 10 + 50);
    assert_eq!(balance(&t, client), 1_000_000);
    let p: Provider = t.get_value(&StateKey::Provider(provider)).unwrap().unwrap();
    assert_eq!((p.failed, p.disputed), (1, 1));
}

#[test]
fn unassigned_provider_cannot_accept_or_attest() {
    let mut t = world();
    let (client, provider, other) = (actor(0), actor(1), actor(2));
    run(
        &mut t,
        T0,
        &[
            Op::RegisterProvider { owner: provider, spec: spec(), stake: 1000 },
            Op::RegisterProvider { owner: other, spec: spec(), stake: 1000 },
            Op::PostJob { client, spec: job_spec(T0 + 1000), budget: 500 },
            Op::Assign { job: 0, provider, price: 300 },
        ],
    )
    .unwrap();
    let e = run(&mut t, T0, &[Op::Accept { job: 0, provider: other, collateral: 100 }]);
    assert!(matches!(e, Err(OpError::NotAuthorised { .. })));
    run(&mut t, T0, &[Op::Accept { job: 0, provider, collateral: 100 }]).unwrap();
    let e = run(
        &mut t,
        T0,
        &[Op::Attest { job: 0, provider: other, attestation: B256::repeat_byte(1) }],
    );
    assert!(matches!(e, Err(OpError::NotAuthorised { .. })));
}

#[test]
fn matching_checks_requirements_and_price() {
    let mut t = world();
    let (client, provider) = (actor(0), actor(1));
    let mut small = spec();
    small.gpu_memory_mb = 16_000;
    run(
        &mut t,
        T0,
        &[
            Op::RegisterProvider { owner: provider, spec: small, stake: 1000 },
            Op::PostJob { client, spec: job_spec(T0 + 1000), budget: 500 },
        ],
    )
    .unwrap();
    let e = run(&mut t, T0, &[Op::Assign { job: 0, provider, price: 100 }]);
    assert!(matches!(e, Err(OpError::Invalid { what: "provider", .. })));
    run(&mut t, T0, &[Op::UpdateProvider { owner: provider, spec: spec() }]).unwrap();
    let e = run(&mut t, T0, &[Op::Assign { job: 0, provider, price: 501 }]);
    assert!(matches!(e, Err(OpError::Invalid { what: "price", .. })), "over budget");
    let e = run(&mut t, T0, &[Op::Assign { job: 0, provider: client, price: 100 }]);
    assert!(matches!(e, Err(OpError::Unknown(StateKey::Provider(_)))));
}

#[test]
fn channel_vouchers_redeem_once_and_close() {
    let mut t = world();
    let (agent, seller) = (actor(3), actor(4));
    run(&mut t, T0, &[Op::OpenChannel { sender: agent, recipient: seller, deposit: 10_000 }])
        .unwrap();
    // 10,000 cumulative vouchers off-chain; the recipient redeems a few of them.
    run(&mut t, T0, &[Op::Redeem { channel: 0, recipient: seller, cumulative: 2_500 }]).unwrap();
    let replay =
        run(&mut t, T0, &[Op::Redeem { channel: 0, recipient: seller, cumulative: 2_500 }]);
    assert!(matches!(replay, Err(OpError::Invalid { what: "cumulative", .. })));
    let over = run(&mut t, T0, &[Op::Redeem { channel: 0, recipient: seller, cumulative: 10_001 }]);
    assert!(matches!(over, Err(OpError::Invalid { .. })));
    let thief = run(&mut t, T0, &[Op::Redeem { channel: 0, recipient: agent, cumulative: 3_000 }]);
    assert!(matches!(thief, Err(OpError::NotAuthorised { .. })));
    run(&mut t, T0, &[Op::CloseChannel { channel: 0, by: agent }]).unwrap();
    run(&mut t, T0 + 10, &[Op::Redeem { channel: 0, recipient: seller, cumulative: 10_000 }])
        .unwrap();
    assert!(matches!(
        run(&mut t, T0 + 29, &[Op::FinalizeChannel { channel: 0 }]),
        Err(OpError::TooEarly { .. })
    ));
    run(&mut t, T0 + 30, &[Op::FinalizeChannel { channel: 0 }]).unwrap();
    assert_eq!(balance(&t, seller), 1_010_000);
    assert_eq!(balance(&t, agent), 990_000);
    assert!(t.get_value::<Channel>(&StateKey::Channel(0)).unwrap().is_none());
}

#[test]
fn listings_sell_access_once() {
    let mut t = world();
    let (owner, buyer) = (actor(0), actor(1));
    run(
        &mut t,
        T0,
        &[
            Op::CreateListing {
                owner,
                kind: ListingKind::Dataset,
                content: B256::repeat_byte(9),
                price: 1000,
                licence: B256::ZERO,
            },
            Op::BuyAccess { listing: 0, buyer },
        ],
    )
    .unwrap();
    assert_eq!(balance(&t, owner), 1_000_000 + 975);
    assert!(matches!(
        run(&mut t, T0, &[Op::BuyAccess { listing: 0, buyer }]),
        Err(OpError::Exists(_))
    ));
    let e =
        run(&mut t, T0, &[Op::UpdateListing { listing: 0, owner: buyer, price: 1, active: true }]);
    assert!(matches!(e, Err(OpError::NotAuthorised { .. })));
}

#[test]
fn fees_nonces_deposits_and_withdrawals() {
    let mut t = world();
    let (a, seq) = (actor(0), actor(4));
    run(&mut t, T0, &[Op::Fee { payer: a, nonce: 0, burned: 21, tip: 2, beneficiary: seq }])
        .unwrap();
    let bad =
        run(&mut t, T0, &[Op::Fee { payer: a, nonce: 0, burned: 21, tip: 2, beneficiary: seq }]);
    assert!(matches!(bad, Err(OpError::BadNonce { expected: 1, got: 0, .. })));
    let skip = run(&mut t, T0, &[Op::Deposit { queue_index: 1, to: a, amount: 5 }]);
    assert!(matches!(skip, Err(OpError::DepositOutOfOrder { expected: 0, got: 1 })));
    run(
        &mut t,
        T0,
        &[
            Op::Deposit { queue_index: 0, to: a, amount: 5 },
            Op::Withdraw { from: a, l1_recipient: a, amount: 7 },
        ],
    )
    .unwrap();
    let totals: Totals = t.get_value(&StateKey::Totals).unwrap().unwrap();
    assert_eq!((totals.deposits_consumed, totals.withdrawals, totals.burned), (1, 1, 21));
    let (x, y) = conservation(&t);
    assert_eq!(x, y);
    let mut no_mint = rules();
    no_mint.allow_mint = false;
    assert!(apply(&mut t, &no_mint, T0, &[Op::Mint { to: a, amount: 1 }]).is_err());
}

#[test]
fn a_failing_op_list_leaves_the_tree_untouched() {
    let mut t = world();
    let before = t.root();
    let e = apply(
        &mut t,
        &rules(),
        T0,
        &[
            Op::Transfer { from: actor(0), to: actor(1), amount: 10 },
            Op::Transfer { from: actor(2), to: actor(1), amount: 10_000_000 },
        ],
    );
    let e = e.unwrap_err();
    assert_eq!(e.index, 1);
    assert!(matches!(e.error, OpError::InsufficientBalance { .. }));
    assert_eq!(t.root(), before);
    assert_eq!(balance(&t, actor(0)), 1_000_000);
}

fn arb_op() -> impl Strategy<Value = Op> {
    let a = (0u8..5).prop_map(actor);
    let amt = 0u128..3_000;
    let id = 0u64..4;
    prop_oneof![
        (a.clone(), a.clone(), amt.clone()).prop_map(|(from, to, amount)| Op::Transfer {
            from,
            to,
            amount
        }),
        (a.clone(), 0u64..3, amt.clone(), amt.clone()).prop_map(|(payer, nonce, burned, tip)| {
            Op::Fee { payer, nonce, burned, tip, beneficiary: actor(4) }
        }),
        (0u64..3, a.clone(), amt.clone()).prop_map(|(queue_index, to, amount)| Op::Deposit {
            queue_index,
            to,
            amount
        }),
        (a.clone(), amt.clone()).prop_map(|(from, amount)| Op::Withdraw {
            from,
            l1_recipient: actor(9),
            amount
        }),
        (a.clone(), amt.clone()).prop_map(|(owner, amount)| Op::Stake {
            owner,
            role: Role::Verifier,
            amount
        }),
        (a.clone(), amt.clone()).prop_map(|(owner, amount)| Op::Unstake {
            owner,
            role: Role::Verifier,
            amount
        }),
        a.clone().prop_map(|owner| Op::ClaimUnstaked { owner, role: Role::Verifier }),
        (a.clone(), 900u128..2_000).prop_map(|(owner, stake)| Op::RegisterProvider {
            owner,
            spec: spec(),
            stake
        }),
        a.clone().prop_map(|owner| Op::DeregisterProvider { owner }),
        a.clone().prop_map(|owner| Op::ReleaseProvider { owner }),
        (a.clone(), amt.clone(), 0u64..400).prop_map(|(client, budget, d)| Op::PostJob {
            client,
            spec: job_spec(T0 + d),
            budget
        }),
        (id.clone(), a.clone()).prop_map(|(job, client)| Op::CancelJob { job, client }),
        (id.clone(), a.clone(), amt.clone()).prop_map(|(job, provider, price)| Op::Assign {
            job,
            provider,
            price
        }),
        (id.clone(), a.clone(), amt.clone()).prop_map(|(job, provider, collateral)| Op::Accept {
            job,
            provider,
            collateral
        }),
        (id.clone(), a.clone(), amt.clone()).prop_map(|(job, provider, amount)| Op::Stream {
            job,
            provider,
            amount
        }),
        (id.clone(), a.clone()).prop_map(|(job, provider)| Op::Attest {
            job,
            provider,
            attestation: B256::repeat_byte(5)
        }),
        id.clone().prop_map(|job| Op::Settle { job }),
        id.clone().prop_map(|job| Op::Timeout { job }),
        (id.clone(), a.clone()).prop_map(|(job, reporter)| Op::Slash { job, reporter }),
        (a.clone(), a.clone(), amt.clone()).prop_map(|(sender, recipient, deposit)| {
            Op::OpenChannel { sender, recipient, deposit }
        }),
        (id.clone(), a.clone(), amt.clone()).prop_map(|(channel, recipient, cumulative)| {
            Op::Redeem { channel, recipient, cumulative }
        }),
        (id.clone(), a.clone()).prop_map(|(channel, by)| Op::CloseChannel { channel, by }),
        id.clone().prop_map(|channel| Op::FinalizeChannel { channel }),
        (a.clone(), amt.clone()).prop_map(|(owner, price)| Op::CreateListing {
            owner,
            kind: ListingKind::Model,
            content: B256::repeat_byte(3),
            price,
            licence: B256::ZERO
        }),
        (id, a).prop_map(|(listing, buyer)| Op::BuyAccess { listing, buyer }),
    ]
}

fn blocks() -> impl Strategy<Value = Vec<(u64, Vec<Op>)>> {
    prop::collection::vec((0u64..80, prop::collection::vec(arb_op(), 1..12)), 1..12)
}

/// Runs blocks through executors (failing ops skipped, as the sequencer does); returns the
/// root and the ops that applied, per block.
fn execute(t: &mut StateTree<MemoryStore>, blocks: &[(u64, Vec<Op>)]) -> Vec<(u64, Vec<Op>)> {
    let mut now = T0;
    let mut applied = Vec::new();
    for (dt, ops) in blocks {
        now += dt;
        let root_before = t.root();
        let mut ex = Executor::new(t, rules(), now);
        let mut ok = Vec::new();
        for op in ops {
            if ex.try_op(op).is_ok() {
                ok.push(op.clone());
            }
        }
        let writes = ex.into_writes();
        write_block(t, writes).unwrap();
        if ok.is_empty() {
            assert_eq!(t.root(), root_before, "a block of failing ops changed the root");
        }
        applied.push((now, ok));
    }
    applied
}

/// A world with the marketplace in motion, so that random ops reach every job state.
fn market_world() -> StateTree<MemoryStore> {
    let mut t = world();
    let (c, p1, p2, v) = (actor(0), actor(1), actor(2), actor(3));
    run(
        &mut t,
        T0,
        &[
            Op::RegisterProvider { owner: p1, spec: spec(), stake: 1000 },
            Op::RegisterProvider { owner: p2, spec: spec(), stake: 1000 },
            Op::Stake { owner: v, role: Role::Verifier, amount: 10 },
            Op::PostJob { client: c, spec: job_spec(T0 + 300), budget: 900 },
            Op::PostJob { client: c, spec: job_spec(T0 + 300), budget: 900 },
            Op::PostJob { client: c, spec: job_spec(T0 + 50), budget: 900 },
            Op::Assign { job: 0, provider: p1, price: 800 },
            Op::Accept { job: 0, provider: p1, collateral: 100 },
            Op::Assign { job: 1, provider: p2, price: 700 },
            Op::Accept { job: 1, provider: p2, collateral: 100 },
            Op::Attest { job: 1, provider: p2, attestation: B256::repeat_byte(1) },
            Op::OpenChannel { sender: c, recipient: p1, deposit: 1000 },
        ],
    )
    .unwrap();
    t
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn tokens_are_conserved_and_replay_is_deterministic(blocks in blocks()) {
        let mut t = market_world();
        let applied = execute(&mut t, &blocks);
        let (held, entered) = conservation(&t);
        prop_assert_eq!(held, entered);
        // Replaying exactly the applied ops with `apply` (as the prover does) gives the same root.
        let mut replay = market_world();
        for (now, ops) in &applied {
            apply(&mut replay, &rules(), *now, ops).unwrap();
        }
        prop_assert_eq!(replay.root(), t.root());
    }

    #[test]
    fn a_failing_op_changes_nothing(blocks in blocks()) {
        let mut t = market_world();
        execute(&mut t, &blocks[..blocks.len() - 1]);
        let (dt, ops) = blocks.last().unwrap();
        let before = t.root();
        let now = T0 + dt;
        let mut ex = Executor::new(&t, rules(), now);
        for op in ops {
            let writes_before = ex.writes().clone();
            if ex.try_op(op).is_err() {
                prop_assert_eq!(ex.writes(), &writes_before);
            }
            // A dry run never writes.
            let writes_before = ex.writes().clone();
            let _ = ex.check_ops(std::slice::from_ref(op));
            prop_assert_eq!(ex.writes(), &writes_before);
        }
        drop(ex);
        prop_assert_eq!(t.root(), before, "nothing is written before commit");
    }
}
