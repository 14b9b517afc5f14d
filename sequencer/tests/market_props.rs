//! Property test: whatever sequence of signed marketplace, staking, channel, listing, bridge and
//! transfer calls the chain executes (successful or reverted), the L2 token total is conserved:
//! balances + stakes + escrows + collateral + channel funds + burned + withdrawn = minted.

mod common;

use std::time::Duration;

use alloy::primitives::{Address, B256, FixedBytes, U256};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use ctm_core::attestation::Attestation;
use ctm_core::config::GenesisConfig;
use ctm_core::system::{BRIDGE, CHANNELS, LISTINGS, MARKETPLACE, STAKING};
use ctm_sequencer::mempool::PoolLimits;
use ctm_sequencer::node::{Node, NodeConfig};
use ctm_sequencer::system::{IChannels, IL2Bridge, IL2Staking, IListings, IMarketplace as M};
use ctm_sequencer::types::PooledTx;
use proptest::prelude::*;

const CHAIN: u64 = 71117;
const ACTORS: usize = 4;

fn key(i: usize) -> PrivateKeySigner {
    let mut seed = [0x33u8; 32];
    seed[0] = i as u8 + 1;
    PrivateKeySigner::from_bytes(&B256::from(seed)).unwrap()
}

fn unit(n: u64) -> u128 {
    u128::from(n) * 10u128.pow(16)
}

#[derive(Debug, Clone)]
enum Call {
    Transfer(usize, usize, u64),
    Register(usize, u64),
    Post(usize, u64, u64),
    Bid(usize, u64, u64),
    Accept(usize, u64, u64),
    Checkpoint(usize, u64, u32),
    Attest(usize, u64),
    Settle(usize, u64),
    Timeout(usize, u64),
    Stake(usize, u64),
    Unstake(usize, u64),
    Open(usize, usize, u64),
    Redeem(usize, u64, u64),
    Close(usize, u64),
    List(usize, u64),
    Buy(usize, u64, u64),
    Withdraw(usize, u64),
}

fn call() -> impl Strategy<Value = Call> {
    let a = 0..ACTORS;
    let amt = 0u64..2_000;
    let id = 0u64..4;
    prop_oneof![
        (a.clone(), a.clone(), amt.clone()).prop_map(|(x, y, v)| Call::Transfer(x, y, v)),
        (a.clone(), 90_000u64..110_000).prop_map(|(x, v)| Call::Register(x, v)),
        (a.clone(), amt.clone(), 0u64..3).prop_map(|(x, v, d)| Call::Post(x, v, d)),
        (a.clone(), id.clone(), amt.clone()).prop_map(|(x, j, v)| Call::Bid(x, j, v)),
        (a.clone(), id.clone(), amt.clone()).prop_map(|(x, j, v)| Call::Accept(x, j, v)),
        (a.clone(), id.clone(), 0u32..4).prop_map(|(x, j, i)| Call::Checkpoint(x, j, i)),
        (a.clone(), id.clone()).prop_map(|(x, j)| Call::Attest(x, j)),
        (a.clone(), id.clone()).prop_map(|(x, j)| Call::Settle(x, j)),
        (a.clone(), id.clone()).prop_map(|(x, j)| Call::Timeout(x, j)),
        (a.clone(), amt.clone()).prop_map(|(x, v)| Call::Stake(x, v)),
        (a.clone(), amt.clone()).prop_map(|(x, v)| Call::Unstake(x, v)),
        (a.clone(), a.clone(), amt.clone()).prop_map(|(x, y, v)| Call::Open(x, y, v)),
        (a.clone(), id.clone(), amt.clone()).prop_map(|(x, c, v)| Call::Redeem(x, c, v)),
        (a.clone(), id.clone()).prop_map(|(x, c)| Call::Close(x, c)),
        (a.clone(), amt.clone()).prop_map(|(x, v)| Call::List(x, v)),
        (a.clone(), id.clone(), amt.clone()).prop_map(|(x, l, v)| Call::Buy(x, l, v)),
        (a, amt).prop_map(|(x, v)| Call::Withdraw(x, v)),
    ]
}

fn spec() -> M::ProviderSpec {
    M::ProviderSpec {
        gpuModel: FixedBytes::ZERO,
        gpuMemoryMb: 1,
        gpuCount: 1,
        pricePerGpuHour: U256::from(unit(1)),
        region: FixedBytes::ZERO,
    }
}

fn job(now: u64, d: u64) -> M::JobSpec {
    M::JobSpec {
        model: B256::repeat_byte(0xaa),
        dataset: B256::repeat_byte(0xbb),
        requirements: M::JobRequirements {
            gpuModel: FixedBytes::ZERO,
            minGpuMemoryMb: 1,
            gpuCount: 1,
            gpuHours: 10,
        },
        maxPricePerGpuHour: U256::from(unit(2)),
        deadline: now + d,
        priority: 0,
    }
}

/// (target, value, calldata) of a call by `keys[actor]`.
fn encode(c: &Call, keys: &[PrivateKeySigner], now: u64) -> (usize, Address, u128, Vec<u8>) {
    let addr = |i: usize| keys[i].address();
    match c.clone() {
        Call::Transfer(x, y, v) => (x, addr(y), unit(v), vec![]),
        Call::Register(x, v) => {
            (x, MARKETPLACE, unit(v), M::registerProviderCall { spec: spec() }.abi_encode())
        }
        Call::Post(x, v, d) => {
            (x, MARKETPLACE, unit(v), M::postJobCall { spec: job(now, d) }.abi_encode())
        }
        Call::Bid(x, j, v) => {
            (x, MARKETPLACE, 0, M::bidCall { jobId: j, price: U256::from(unit(v)) }.abi_encode())
        }
        Call::Accept(x, j, v) => {
            (x, MARKETPLACE, unit(v), M::acceptJobCall { jobId: j }.abi_encode())
        }
        Call::Checkpoint(x, j, i) => (
            x,
            MARKETPLACE,
            0,
            M::claimCheckpointCall { jobId: j, index: i, checkpoint: B256::ZERO }.abi_encode(),
        ),
        Call::Attest(x, j) => {
            let a = Attestation {
                job_id: j,
                provider: addr(x),
                dataset: B256::repeat_byte(0xbb),
                initial_weights: B256::repeat_byte(0xaa),
                checkpoint_head: B256::repeat_byte(1),
                final_weights: B256::repeat_byte(2),
                checkpoints: 1,
                steps: 1,
                final_loss: 1,
                held_out_accuracy: 1,
            };
            let sig = keys[x].sign_hash_sync(&a.signing_hash(CHAIN)).unwrap();
            let att = M::TrainingAttestation::from(&a);
            (
                x,
                MARKETPLACE,
                0,
                M::submitAttestationCall {
                    attestation: att,
                    signature: sig.as_bytes().to_vec().into(),
                }
                .abi_encode(),
            )
        }
        Call::Settle(x, j) => (x, MARKETPLACE, 0, M::settleCall { jobId: j }.abi_encode()),
        Call::Timeout(x, j) => (x, MARKETPLACE, 0, M::timeoutJobCall { jobId: j }.abi_encode()),
        Call::Stake(x, v) => (x, STAKING, unit(v), IL2Staking::stakeCall { role: 3 }.abi_encode()),
        Call::Unstake(x, v) => (
            x,
            STAKING,
            0,
            IL2Staking::unstakeCall { role: 3, amount: U256::from(unit(v)) }.abi_encode(),
        ),
        Call::Open(x, y, v) => {
            (x, CHANNELS, unit(v), IChannels::openCall { recipient: addr(y) }.abi_encode())
        }
        Call::Redeem(x, ch, v) => {
            // Signed by actor (ch % ACTORS), who is the sender when it opened channel `ch`.
            let signer = &keys[(ch as usize) % ACTORS];
            let h = ctm_core::market::voucher_signing_hash(CHAIN, ch, unit(v));
            let sig = signer.sign_hash_sync(&h).unwrap();
            let call = IChannels::redeemCall {
                channelId: ch,
                cumulative: U256::from(unit(v)),
                signature: sig.as_bytes().to_vec().into(),
            };
            (x, CHANNELS, 0, call.abi_encode())
        }
        Call::Close(x, ch) => (x, CHANNELS, 0, IChannels::closeCall { channelId: ch }.abi_encode()),
        Call::List(x, v) => (
            x,
            LISTINGS,
            0,
            IListings::listCall {
                kind: 0,
                content: B256::repeat_byte(5),
                price: U256::from(unit(v)),
                licence: B256::ZERO,
            }
            .abi_encode(),
        ),
        Call::Buy(x, l, v) => {
            (x, LISTINGS, unit(v), IListings::buyCall { listingId: l }.abi_encode())
        }
        Call::Withdraw(x, v) => {
            (x, BRIDGE, unit(v), IL2Bridge::withdrawCall { l1Recipient: addr(x) }.abi_encode())
        }
    }
}

fn sign(key: &PrivateKeySigner, nonce: u64, to: Address, value: u128, input: Vec<u8>) -> PooledTx {
    common::pooled(key, common::eip1559(nonce, 500_000, 7, to, value, input))
}

fn run(blocks: Vec<Vec<Call>>) -> Result<(), TestCaseError> {
    let keys: Vec<PrivateKeySigner> = (0..ACTORS).map(key).collect();
    let dir =
        std::env::temp_dir().join(format!("ctm-props-{}-{}", std::process::id(), rand_suffix()));
    let mut genesis = GenesisConfig::preset("computronium").unwrap();
    genesis.marketplace.challenge_window_secs = 1;
    genesis.marketplace.provider_unbonding_secs = 1;
    genesis.marketplace.channel_challenge_secs = 1;
    genesis.marketplace.min_provider_stake = 1;
    let cfg = NodeConfig {
        genesis,
        datadir: dir.clone(),
        dev_accounts: keys.iter().map(|k| (k.address(), unit(1_000_000))).collect(),
        block_time: Duration::from_millis(250),
        beneficiary: Address::repeat_byte(0xfe),
        pool: PoolLimits::default(),
        max_block_txs: 10_000,
        empty_blocks: false,
    };
    let node = Node::open(cfg).unwrap();
    let mut nonces = [0u64; ACTORS];
    for calls in blocks {
        let now = node.head().block.header.timestamp;
        {
            let mut pool = node.pool.lock().unwrap();
            for c in &calls {
                let (x, to, value, data) = encode(c, &keys, now);
                let tx = sign(&keys[x], nonces[x], to, value, data);
                nonces[x] += 1;
                pool.insert(tx, node.account(&keys[x].address()).unwrap().nonce).unwrap();
            }
        }
        while !node.pool.lock().unwrap().is_empty() {
            node.produce_block().unwrap();
        }
        let tree = node.state.read().unwrap();
        let s = ctm_core::audit::supply(tree.store().leaves()).unwrap();
        prop_assert_eq!(s.accounted(), s.entered(), "supply not conserved: {:?}", s);
        prop_assert_eq!(s.totals.locked, s.held(), "Totals::locked drifted: {:?}", s);
    }
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn token_total_is_conserved_across_random_calls(blocks in prop::collection::vec(prop::collection::vec(call(), 1..25), 1..6)) {
        run(blocks)?;
    }
}
