//! Block production through the sequencer (revm + system contracts + ops + state tree + redb),
//! without RPC: blocks of plain transfers beside blocks of a marketplace mix — a quarter each of
//! post job (matched at once), bid (on an open job), settle (a job attested earlier) and a
//! payment-channel voucher redeem. Run: `cargo bench -p ctm-sequencer --bench blocks`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy::eips::eip2718::Encodable2718;
use alloy::network::TxSignerSync;
use alloy::primitives::{Address, B256, Bytes, FixedBytes, TxKind, U256};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ctm_core::attestation::Attestation;
use ctm_core::config::GenesisConfig;
use ctm_core::market::voucher_signing_hash;
use ctm_core::system::{CHANNELS, MARKETPLACE};
use ctm_sequencer::mempool::PoolLimits;
use ctm_sequencer::node::{Node, NodeConfig};
use ctm_sequencer::system::{IChannels, IMarketplace as M};
use ctm_sequencer::types::PooledTx;

const BLOCK: usize = 1_000;
const CHAIN: u64 = 71117;
const N: usize = 50;

fn key(i: usize) -> PrivateKeySigner {
    let mut seed = [0x22u8; 32];
    seed[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
    PrivateKeySigner::from_bytes(&B256::from(seed)).unwrap()
}

fn eth(n: u64) -> u128 {
    u128::from(n) * 10u128.pow(18)
}

struct Signer {
    key: PrivateKeySigner,
    nonce: u64,
}

impl Signer {
    fn new(i: usize) -> Self {
        Self { key: key(i), nonce: 0 }
    }

    fn tx(&mut self, to: Address, value: u128, input: Vec<u8>) -> PooledTx {
        let mut tx = TxEip1559 {
            chain_id: CHAIN,
            nonce: self.nonce,
            gas_limit: 400_000,
            max_fee_per_gas: 100_000_000_000,
            max_priority_fee_per_gas: 1,
            to: TxKind::Call(to),
            value: U256::from(value),
            access_list: Default::default(),
            input: input.into(),
        };
        self.nonce += 1;
        let sig = self.key.sign_transaction_sync(&mut tx).unwrap();
        let env: TxEnvelope = tx.into_signed(sig).into();
        let raw: Bytes = env.encoded_2718().into();
        PooledTx { hash: *env.tx_hash(), sender: self.key.address(), tx: env, raw }
    }
}

fn node(accounts: &[Address]) -> (Arc<Node>, std::path::PathBuf) {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let dir = std::env::temp_dir().join(format!("ctm-bench-{}-{nanos}", std::process::id()));
    let mut genesis = GenesisConfig::preset("computronium").unwrap();
    genesis.marketplace.challenge_window_secs = 1;
    genesis.chain.block_gas_limit = 1_000_000_000;
    let cfg = NodeConfig {
        genesis,
        datadir: dir.clone(),
        dev_accounts: accounts.iter().map(|a| (*a, eth(1_000_000))).collect(),
        block_time: Duration::from_millis(250),
        beneficiary: Address::repeat_byte(0xfe),
        pool: PoolLimits::default(),
        max_block_txs: 100_000,
        empty_blocks: false,
    };
    (Node::open(cfg).unwrap(), dir)
}

/// Puts `txs` in the pool and produces blocks until it is empty; returns the production time and
/// how many succeeded.
fn produce(node: &Node, txs: Vec<PooledTx>) -> (Duration, usize) {
    let hashes: Vec<B256> = txs.iter().map(|t| t.hash).collect();
    {
        let mut pool = node.pool.lock().unwrap();
        for t in txs {
            let nonce = node.account(&t.sender).unwrap().nonce;
            pool.insert(t, nonce).unwrap();
        }
    }
    let start = Instant::now();
    while !node.pool.lock().unwrap().is_empty() {
        node.produce_block().unwrap();
    }
    let took = start.elapsed();
    let mut ok = 0;
    for h in &hashes {
        match node.storage.receipt(h).unwrap() {
            Some(r) if r.success => ok += 1,
            Some(r) => {
                let why = r.revert.as_ref().and_then(|b| ctm_sequencer::system::describe(b));
                eprintln!("reverted: {why:?}");
            }
            None => eprintln!("dropped {h}"),
        }
    }
    (took, ok)
}

fn transfers(c: &mut Criterion) {
    let mut signers: Vec<Signer> = (0..200).map(Signer::new).collect();
    let addrs: Vec<Address> = signers.iter().map(|s| s.key.address()).collect();
    let (node, dir) = node(&addrs);
    let mut g = c.benchmark_group("sequencer_block");
    g.sample_size(10);
    g.throughput(Throughput::Elements(BLOCK as u64));
    g.bench_function("transfers", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let txs: Vec<PooledTx> = (0..BLOCK)
                    .map(|i| {
                        signers[i % 200].tx(Address::repeat_byte((i % 250) as u8 + 1), 1, vec![])
                    })
                    .collect();
                let (t, ok) = produce(&node, txs);
                assert_eq!(ok, BLOCK);
                total += t;
            }
            total
        })
    });
    g.finish();
    let _ = std::fs::remove_dir_all(dir);
}

fn spec() -> M::ProviderSpec {
    M::ProviderSpec {
        gpuModel: FixedBytes::right_padding_from(b"H100"),
        gpuMemoryMb: 80_000,
        gpuCount: 8,
        pricePerGpuHour: U256::from(eth(1)),
        region: FixedBytes::ZERO,
    }
}

/// A job every provider fits; `max_price` below the providers' 1 token/GPU-hour keeps it open.
fn job(max_price: u128) -> M::JobSpec {
    M::JobSpec {
        model: B256::repeat_byte(0xaa),
        dataset: B256::repeat_byte(0xbb),
        requirements: M::JobRequirements {
            gpuModel: FixedBytes::ZERO,
            minGpuMemoryMb: 1,
            gpuCount: 1,
            gpuHours: 1,
        },
        maxPricePerGpuHour: U256::from(max_price),
        deadline: u64::MAX / 2,
        priority: 0,
    }
}

fn attestation_call(provider: &PrivateKeySigner, id: u64) -> Vec<u8> {
    let a = Attestation {
        job_id: id,
        provider: provider.address(),
        dataset: B256::repeat_byte(0xbb),
        initial_weights: B256::repeat_byte(0xaa),
        checkpoint_head: B256::repeat_byte(1),
        final_weights: B256::repeat_byte(2),
        checkpoints: 1,
        steps: 1,
        final_loss: 1,
        held_out_accuracy: 1,
    };
    let sig = provider.sign_hash_sync(&a.signing_hash(CHAIN)).unwrap();
    let att = M::TrainingAttestation::from(&a);
    M::submitAttestationCall { attestation: att, signature: sig.as_bytes().to_vec().into() }
        .abi_encode()
}

fn job_provider(node: &Node, id: u64) -> Address {
    let tree = node.state.read().unwrap();
    tree.get_value::<ctm_core::state::Job>(&ctm_core::StateKey::Job(id)).unwrap().unwrap().provider
}

struct Market {
    node: Arc<Node>,
    clients: Vec<Signer>,
    providers: Vec<Signer>,
    next_job: u64,
    cumulative: Vec<u128>,
    /// `channels[k]`: the channel opened by `clients[k]` (ids follow inclusion order).
    channels: Vec<u64>,
}

impl Market {
    fn post(&mut self, count: usize, max_price: u128) -> Vec<u64> {
        let posts: Vec<PooledTx> = (0..count)
            .map(|i| {
                self.clients[i % N].tx(
                    MARKETPLACE,
                    eth(10),
                    M::postJobCall { spec: job(max_price) }.abi_encode(),
                )
            })
            .collect();
        let (_, ok) = produce(&self.node, posts);
        assert_eq!(ok, count);
        let ids = (self.next_job..self.next_job + count as u64).collect();
        self.next_job += count as u64;
        ids
    }

    /// Jobs matched, accepted and attested: settleable once the 1 s window passes.
    fn attested(&mut self, count: usize) -> Vec<u64> {
        let ids = self.post(count, eth(2));
        let mut follow = Vec::new();
        for id in &ids {
            let who = job_provider(&self.node, *id);
            let p = self.providers.iter_mut().find(|p| p.key.address() == who).unwrap();
            follow.push(p.tx(MARKETPLACE, eth(1), M::acceptJobCall { jobId: *id }.abi_encode()));
            let call = attestation_call(&p.key, *id);
            follow.push(p.tx(MARKETPLACE, 0, call));
        }
        let (_, ok) = produce(&self.node, follow);
        assert_eq!(ok, 2 * count);
        ids
    }

    fn mix(&mut self, round: usize, settle: &[u64], open: &[u64]) -> Vec<PooledTx> {
        let mut txs = Vec::with_capacity(4 * round);
        for i in 0..round {
            let k = i % N;
            txs.push(self.clients[k].tx(
                MARKETPLACE,
                eth(10),
                M::postJobCall { spec: job(eth(2)) }.abi_encode(),
            ));
            let bid = M::bidCall { jobId: open[i], price: U256::from(eth(1) / 2) };
            txs.push(self.providers[(k + 1) % N].tx(MARKETPLACE, 0, bid.abi_encode()));
            txs.push(self.clients[(k + 2) % N].tx(
                MARKETPLACE,
                0,
                M::settleCall { jobId: settle[i] }.abi_encode(),
            ));
            self.cumulative[k] += 1_000;
            let ch = self.channels[k];
            let h = voucher_signing_hash(CHAIN, ch, self.cumulative[k]);
            let sig = self.clients[k].key.sign_hash_sync(&h).unwrap();
            let redeem = IChannels::redeemCall {
                channelId: ch,
                cumulative: U256::from(self.cumulative[k]),
                signature: sig.as_bytes().to_vec().into(),
            };
            txs.push(self.providers[k].tx(CHANNELS, 0, redeem.abi_encode()));
        }
        self.next_job += round as u64;
        txs
    }
}

fn market(c: &mut Criterion) {
    const ROUND: usize = BLOCK / 4;
    let clients: Vec<Signer> = (0..N).map(|i| Signer::new(1_000 + i)).collect();
    let mut providers: Vec<Signer> = (0..N).map(|i| Signer::new(2_000 + i)).collect();
    let all: Vec<Address> =
        clients.iter().chain(providers.iter()).map(|s| s.key.address()).collect();
    let (node, dir) = node(&all);
    let mut setup: Vec<PooledTx> = providers
        .iter_mut()
        .map(|p| {
            p.tx(MARKETPLACE, eth(1_000), M::registerProviderCall { spec: spec() }.abi_encode())
        })
        .collect();
    let mut m = Market {
        node: node.clone(),
        clients,
        providers,
        next_job: 0,
        cumulative: vec![0; N],
        channels: vec![],
    };
    for i in 0..N {
        let to = m.providers[i].key.address();
        setup.push(m.clients[i].tx(
            CHANNELS,
            eth(10_000),
            IChannels::openCall { recipient: to }.abi_encode(),
        ));
    }
    produce(&node, setup);
    m.channels = (0..N)
        .map(|k| {
            let me = m.clients[k].key.address();
            let tree = node.state.read().unwrap();
            (0..N as u64)
                .find(|id| {
                    let c: Option<ctm_core::state::Channel> =
                        tree.get_value(&ctm_core::StateKey::Channel(*id)).unwrap();
                    c.is_some_and(|c| c.sender == me)
                })
                .unwrap()
        })
        .collect();
    let mut g = c.benchmark_group("sequencer_block");
    g.sample_size(10);
    g.throughput(Throughput::Elements(BLOCK as u64));
    g.bench_function("market_mix", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let settle = m.attested(ROUND);
                let open = m.post(ROUND, eth(1) / 2);
                std::thread::sleep(Duration::from_millis(1_100));
                let txs = m.mix(ROUND, &settle, &open);
                let (t, ok) = produce(&node, txs);
                assert_eq!(ok, BLOCK, "every call of the mix succeeds");
                total += t;
            }
            total
        })
    });
    g.finish();
    let _ = std::fs::remove_dir_all(dir);
}

/// The per-transaction floor of admission: decoding a raw EIP-1559 transfer and recovering its
/// sender (secp256k1), as `eth_sendRawTransaction` does before anything else. At N µs each, one
/// core admits at most 10^6 / N transactions per second.
fn admission(c: &mut Criterion) {
    use alloy::consensus::transaction::SignerRecoverable;
    use alloy::eips::eip2718::Decodable2718;
    let mut s = Signer::new(1);
    let raw = s.tx(key(2).address(), 1, Vec::new()).raw;
    let mut g = c.benchmark_group("admission");
    g.throughput(Throughput::Elements(1));
    g.bench_function("decode_and_recover_sender", |b| {
        b.iter(|| {
            let tx = TxEnvelope::decode_2718(&mut raw.as_ref()).unwrap();
            tx.recover_signer().unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, admission, transfers, market);
criterion_main!(benches);
