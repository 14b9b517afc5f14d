//! The withdrawal cap on a real node: more than `MAX_WITHDRAWALS_PER_BATCH` signed withdrawal
//! transactions in the pool are spread over blocks of at most that many withdrawals, none is
//! dropped or failed, each sender's transactions land in nonce order, other transactions are not
//! held back, and the batcher's cut keeps each batch within the cap.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use alloy::primitives::{Address, B256};
use alloy::signers::local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use ctm_core::config::GenesisConfig;
use ctm_core::l1::MAX_WITHDRAWALS_PER_BATCH;
use ctm_core::op::Op;
use ctm_core::state::{StateKey, Totals};
use ctm_core::system::BRIDGE;
use ctm_sequencer::node::Node;
use ctm_sequencer::system::IL2Bridge;
use ctm_sequencer::types::PooledTx;

const ETHER: u128 = 10u128.pow(18);

fn key(i: u8) -> PrivateKeySigner {
    let mut seed = [0x5au8; 32];
    seed[0] = i + 1;
    PrivateKeySigner::from_bytes(&B256::from(seed)).unwrap()
}

fn sign(
    key: &PrivateKeySigner,
    nonce: u64,
    tip: u128,
    to: Address,
    value: u128,
    input: Vec<u8>,
) -> PooledTx {
    common::pooled(key, common::eip1559(nonce, 100_000, tip, to, value, input))
}

/// A node in a fresh data directory whose dev accounts are `keys`, 1,000 ether each.
fn open_node(name: &str, keys: &[&PrivateKeySigner]) -> (Arc<Node>, PathBuf) {
    let dir = std::env::temp_dir().join(format!("ctm-withdrawal-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = common::dev_node_config(&dir, keys);
    (Node::open(cfg).unwrap(), dir)
}

fn withdraw(key: &PrivateKeySigner, nonce: u64, tip: u128) -> PooledTx {
    let input = IL2Bridge::withdrawCall { l1Recipient: key.address() }.abi_encode();
    sign(key, nonce, tip, BRIDGE, ETHER + u128::from(nonce), input)
}

fn transfer(key: &PrivateKeySigner, nonce: u64, tip: u128) -> PooledTx {
    sign(key, nonce, tip, Address::repeat_byte(0x42), 1_000, vec![])
}

#[test]
fn blocks_carry_at_most_the_cap_and_defer_the_rest() {
    let (a, b, c) = (key(0), key(1), key(2));
    let (node, dir) = open_node("cap", &[&a, &b, &c]);

    // A (best tip): 20 withdrawals. B: 13 withdrawals, then a transfer. C (worst tip): 5
    // transfers. 33 withdrawals in all, more than two blocks' worth.
    let mut txs = Vec::new();
    txs.extend((0..20).map(|n| withdraw(&a, n, 9)));
    txs.extend((0..13).map(|n| withdraw(&b, n, 7)));
    txs.push(transfer(&b, 13, 7));
    txs.extend((0..5).map(|n| transfer(&c, n, 1)));
    let total_withdrawals = 33;
    {
        let mut pool = node.pool.lock().unwrap();
        for tx in &txs {
            pool.insert(tx.clone(), 0).unwrap();
        }
    }

    let mut blocks = Vec::new();
    while !node.pool.lock().unwrap().is_empty() {
        let n = node.produce_block().unwrap().expect("a block while the pool is not empty");
        blocks.push(n);
        assert!(blocks.len() <= 10, "the pool does not drain");
    }

    // Every block within the cap; the first two full; 3 blocks for 33 withdrawals.
    let mut per_block = Vec::new();
    for &n in &blocks {
        let ops = node.storage.ops(n).unwrap().unwrap();
        let from_ops = ops.ops.iter().filter(|op| matches!(op, Op::Withdraw { .. })).count();
        assert_eq!(from_ops, ops.withdrawals.len(), "block {n}: ops and events agree");
        assert!(ops.withdrawals.len() <= MAX_WITHDRAWALS_PER_BATCH, "block {n}: {from_ops}");
        per_block.push(ops.withdrawals.len());
    }
    assert_eq!(per_block, vec![16, 16, 1], "blocks are filled up to the cap");

    // Nothing dropped or failed; each sender's transactions in nonce order across blocks.
    let mut next_nonce = std::collections::HashMap::<Address, u64>::new();
    let mut included = 0;
    for &n in &blocks {
        let block = node.storage.block(n).unwrap().unwrap();
        for h in &block.tx_hashes {
            let receipt = node.storage.receipt(h).unwrap().unwrap();
            assert!(receipt.success, "tx {h} in block {n} succeeded");
            let tx = txs.iter().find(|t| t.hash == *h).expect("one of ours");
            let expected = next_nonce.entry(tx.sender).or_insert(0);
            assert_eq!(alloy::consensus::Transaction::nonce(&tx.tx), *expected, "nonce order");
            *expected += 1;
            included += 1;
        }
    }
    assert_eq!(included, txs.len(), "every transaction included");
    assert_eq!(node.account(&a.address()).unwrap().nonce, 20);
    assert_eq!(node.account(&b.address()).unwrap().nonce, 14);
    assert_eq!(node.account(&c.address()).unwrap().nonce, 5);
    let totals: Totals = node.state.read().unwrap().get_value(&StateKey::Totals).unwrap().unwrap();
    assert_eq!(totals.withdrawals, total_withdrawals);

    // The cap holds back withdrawals only: C's transfers (lowest tip, selected last) made the
    // first block; B's transfer waited behind B's deferred withdrawal.
    let first = node.storage.block(blocks[0]).unwrap().unwrap();
    for n in 0..5 {
        assert!(first.tx_hashes.contains(&transfer(&c, n, 1).hash), "C's transfer {n}");
    }
    let last = node.storage.block(blocks[2]).unwrap().unwrap();
    assert_eq!(last.tx_hashes, vec![txs[32].hash, txs[33].hash], "B's last withdrawal, transfer");

    // The batcher's cut over these blocks: 16 + 16 > 16, so one block per batch.
    let head = node.head().block.header.number;
    let mut from = 1;
    let mut batches = Vec::new();
    while from <= head {
        let to = ctm_sequencer::l1::batch_end(&node, from, head).unwrap();
        let w: usize =
            (from..=to).map(|n| node.storage.ops(n).unwrap().unwrap().withdrawals.len()).sum();
        assert!(w <= MAX_WITHDRAWALS_PER_BATCH);
        batches.push((from, to));
        from = to + 1;
    }
    assert_eq!(batches, vec![(1, 1), (2, 2), (3, 3)]);
    drop(node);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_batch_takes_blocks_up_to_the_cap() {
    let a = key(7);
    let (node, dir) = open_node("batch", &[&a]);
    // Blocks of 10, 0, 5, 1, 1 withdrawals (block 2: transfers only).
    let mut nonce = 0;
    for (withdrawals, transfers) in [(10, 0), (0, 3), (5, 0), (1, 0), (1, 0)] {
        {
            let mut pool = node.pool.lock().unwrap();
            for _ in 0..withdrawals {
                pool.insert(withdraw(&a, nonce, 1), nonce).unwrap();
                nonce += 1;
            }
            for _ in 0..transfers {
                pool.insert(transfer(&a, nonce, 1), nonce).unwrap();
                nonce += 1;
            }
        }
        node.produce_block().unwrap().unwrap();
        assert!(node.pool.lock().unwrap().is_empty());
    }
    let head = node.head().block.header.number;
    assert_eq!(head, 5);
    // 10 + 0 + 5 + 1 = 16 fits; the fifth block's withdrawal would make 17.
    assert_eq!(ctm_sequencer::l1::batch_end(&node, 1, head).unwrap(), 4);
    assert_eq!(ctm_sequencer::l1::batch_end(&node, 5, head).unwrap(), 5);
    // From block 2: 0 + 5 + 1 + 1 = 7.
    assert_eq!(ctm_sequencer::l1::batch_end(&node, 2, head).unwrap(), 5);
    // The head ends the batch.
    assert_eq!(ctm_sequencer::l1::batch_end(&node, 1, 2).unwrap(), 2);
    drop(node);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_transaction_left_out_for_gas_keeps_its_senders_later_ones() {
    let d = key(9);
    let (node, dir) = open_node("gas", &[&d]);
    let block_gas = GenesisConfig::preset("computronium").unwrap().chain.block_gas_limit;
    // Nonce 1 asks for the whole block's gas, so it cannot follow nonce 0 in the same block;
    // nonce 2 must wait behind it, not be dropped for a nonce gap.
    let big = common::pooled(
        &d,
        common::eip1559(1, block_gas, 1, Address::repeat_byte(0x42), 1_000, vec![]),
    );
    let txs = [transfer(&d, 0, 1), big, transfer(&d, 2, 1)];
    {
        let mut pool = node.pool.lock().unwrap();
        for tx in &txs {
            pool.insert(tx.clone(), 0).unwrap();
        }
    }
    let mut blocks = Vec::new();
    while !node.pool.lock().unwrap().is_empty() {
        blocks.push(node.produce_block().unwrap().expect("a block"));
        assert!(blocks.len() <= 5, "the pool does not drain");
    }
    let layout: Vec<Vec<B256>> =
        blocks.iter().map(|&n| node.storage.block(n).unwrap().unwrap().tx_hashes).collect();
    // (Blocks count gas used, not gas limits, so nonce 2 fits after nonce 1.)
    assert_eq!(layout, vec![vec![txs[0].hash], vec![txs[1].hash, txs[2].hash]]);
    assert_eq!(node.account(&d.address()).unwrap().nonce, 3);
    drop(node);
    let _ = std::fs::remove_dir_all(dir);
}
