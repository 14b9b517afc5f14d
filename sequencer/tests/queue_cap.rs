//! The L1 queue-entry cap on a real node: more than `MAX_QUEUE_ENTRIES_PER_BATCH` pending queue
//! entries (deposits, messages, a refused deposit) are consumed over several blocks of at most
//! that many, in queue order, none lost or applied twice (also across a restart that re-reads the
//! queue from the start); the batcher's cut keeps every batch within the cap, together with the
//! withdrawal cap; a gap in the queue holds the later entries back without losing them.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use alloy::primitives::{Address, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use ctm_core::l1::{
    MAX_QUEUE_ENTRIES_PER_BATCH, MAX_WITHDRAWALS_PER_BATCH, QUEUE_KIND_DEPOSIT, QUEUE_KIND_MESSAGE,
};
use ctm_core::op::Op;
use ctm_core::state::{StateKey, Totals};
use ctm_core::system::BRIDGE;
use ctm_sequencer::l1::{batch_end, build_batch};
use ctm_sequencer::node::Node;
use ctm_sequencer::system::IL2Bridge;
use ctm_sequencer::types::{PooledTx, QueueItem};

const ETHER: u128 = 10u128.pow(18);

fn key(i: u8) -> PrivateKeySigner {
    let mut seed = [0x3cu8; 32];
    seed[0] = i + 1;
    PrivateKeySigner::from_bytes(&B256::from(seed)).unwrap()
}

fn datadir(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("ctm-queue-{name}-{}", std::process::id()))
}

/// A node in `dir` (fresh unless `keep`) whose dev accounts are `keys`, 1,000 ether each.
fn open_node(dir: &PathBuf, keys: &[&PrivateKeySigner], keep: bool) -> Arc<Node> {
    if !keep {
        let _ = std::fs::remove_dir_all(dir);
    }
    let cfg = common::dev_node_config(dir, keys);
    Node::open(cfg).unwrap()
}

fn recipient(index: u64) -> Address {
    let mut a = [0x77u8; 20];
    a[12..].copy_from_slice(&index.to_be_bytes());
    Address::from(a)
}

fn amount(index: u64) -> u128 {
    ETHER + u128::from(index)
}

/// Queue entry `index`: every fifth a message, index 7 a deposit to a system contract (refused
/// on L2), the others deposits to `recipient(index)`.
fn entry(index: u64) -> QueueItem {
    let (kind, target, value) = match index {
        7 => (QUEUE_KIND_DEPOSIT, BRIDGE, U256::from(amount(index))),
        i if i % 5 == 4 => (QUEUE_KIND_MESSAGE, recipient(i), U256::ZERO),
        i => (QUEUE_KIND_DEPOSIT, recipient(i), U256::from(amount(i))),
    };
    QueueItem {
        index,
        kind,
        l1_sender: Address::repeat_byte(0x11),
        l2_target: target,
        amount: value,
    }
}

/// What the L1 watcher does: append entries in queue order.
fn feed(node: &Node, indices: std::ops::Range<u64>) {
    let mut q = node.deposits.lock().unwrap();
    for i in indices {
        if q.back().is_none_or(|b| b.index < i) {
            q.push_back(entry(i));
        }
    }
}

fn pending(node: &Node) -> usize {
    node.deposits.lock().unwrap().len()
}

fn totals(node: &Node) -> Totals {
    node.state.read().unwrap().get_value(&StateKey::Totals).unwrap().unwrap_or_default()
}

/// Produces blocks until the pool and the pending queue are empty; their numbers.
fn drain(node: &Node) -> Vec<u64> {
    let mut blocks = Vec::new();
    while pending(node) > 0 || !node.pool.lock().unwrap().is_empty() {
        blocks.push(node.produce_block().unwrap().expect("a block while work is pending"));
        assert!(blocks.len() <= 20, "the queue does not drain");
    }
    blocks
}

/// Checks the queue entries of `blocks`: each block within the cap, its `Deposit` ops matching
/// its consumed indices; returns the indices consumed per block.
fn consumed(node: &Node, blocks: &[u64]) -> Vec<Vec<u64>> {
    blocks
        .iter()
        .map(|&n| {
            let ops = node.storage.ops(n).unwrap().unwrap();
            assert!(ops.queue.len() <= MAX_QUEUE_ENTRIES_PER_BATCH, "block {n}: {:?}", ops.queue);
            let from_ops: Vec<u64> = ops
                .ops
                .iter()
                .filter_map(|op| match op {
                    Op::Deposit { queue_index, .. } => Some(*queue_index),
                    _ => None,
                })
                .collect();
            assert_eq!(from_ops, ops.queue, "block {n}: ops and consumed indices agree");
            ops.queue
        })
        .collect()
}

/// Cuts blocks `1..=head` into batches as the batcher does and checks each batch's record: both
/// caps hold and the queue ranges follow each other from 0. Returns the (from, to) of each.
fn batches(node: &Node) -> Vec<(u64, u64)> {
    let head = node.head().block.header.number;
    let mut from = 1;
    let mut next_queue = 0;
    let mut out = Vec::new();
    while from <= head {
        let to = batch_end(node, from, head).unwrap();
        let (record, _) = build_batch(node, out.len() as u64 + 1, from, to).unwrap();
        assert!(record.queue_count as usize <= MAX_QUEUE_ENTRIES_PER_BATCH, "{record:?}");
        assert!(record.withdrawals.len() <= MAX_WITHDRAWALS_PER_BATCH, "{record:?}");
        if record.queue_count > 0 {
            assert_eq!(record.queue_start, next_queue, "batch {from}..={to} continues the queue");
            next_queue += record.queue_count;
        }
        out.push((from, to));
        from = to + 1;
    }
    out
}

#[test]
fn queue_entries_drain_at_most_the_cap_per_block_in_order() {
    let dir = datadir("drain");
    let node = open_node(&dir, &[], false);
    // 40 pending entries: two and a half blocks' worth.
    feed(&node, 0..40);
    let blocks = drain(&node);
    let per_block = consumed(&node, &blocks);
    let sizes: Vec<usize> = per_block.iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![16, 16, 8], "blocks are filled up to the cap");
    assert_eq!(per_block.concat(), (0..40).collect::<Vec<u64>>(), "queue order, none lost");
    assert_eq!(totals(&node).deposits_consumed, 40);

    // Deposits credited once each, the refused one and the messages credit nothing.
    let mut credited = 0u128;
    for i in 0..40 {
        let balance = node.account(&recipient(i)).unwrap().balance;
        let expected = match i {
            7 => 0,
            i if i % 5 == 4 => 0,
            i => amount(i),
        };
        assert_eq!(balance, expected, "entry {i}");
        credited += expected;
    }
    assert_eq!(totals(&node).deposited, credited);
    assert_eq!(node.storage.ops(blocks[0]).unwrap().unwrap().rejected, vec![7]);

    // One block per batch (16 + 16 > 16), the queue ranges in order.
    assert_eq!(batches(&node), vec![(1, 1), (2, 2), (3, 3)]);
    let (first, _) = build_batch(&node, 1, 1, 1).unwrap();
    assert_eq!((first.queue_start, first.queue_count, first.rejected), (0, 16, vec![7]));
    let (last, _) = build_batch(&node, 3, 3, 3).unwrap();
    assert_eq!((last.queue_start, last.queue_count), (32, 8));

    // A restart: the watcher re-reads the queue from the deployment block. The applied entries
    // are dropped, not applied again; the new ones are consumed in order.
    drop(node);
    let node = open_node(&dir, &[], true);
    feed(&node, 0..45);
    let blocks = drain(&node);
    assert_eq!(consumed(&node, &blocks), vec![(40..45).collect::<Vec<u64>>()]);
    assert_eq!(totals(&node).deposits_consumed, 45);
    assert_eq!(node.account(&recipient(40)).unwrap().balance, amount(40));
    assert_eq!(node.account(&recipient(0)).unwrap().balance, amount(0), "credited once");
    // Blocks 3 and 4 share a batch: 8 + 5 entries.
    assert_eq!(batches(&node), vec![(1, 1), (2, 2), (3, 4)]);
    drop(node);
    let _ = std::fs::remove_dir_all(dir);
}

fn withdraw(key: &PrivateKeySigner, nonce: u64) -> PooledTx {
    let input = IL2Bridge::withdrawCall { l1Recipient: key.address() }.abi_encode();
    common::pooled(key, common::eip1559(nonce, 100_000, 1, BRIDGE, ETHER, input))
}

#[test]
fn batches_hold_both_caps() {
    let a = key(0);
    let dir = datadir("both");
    let node = open_node(&dir, &[&a], false);
    let mut nonce = 0;
    let mut add_withdrawals = |node: &Node, count: u64| {
        let state_nonce = node.account(&a.address()).unwrap().nonce;
        let mut pool = node.pool.lock().unwrap();
        for _ in 0..count {
            pool.insert(withdraw(&a, nonce), state_nonce).unwrap();
            nonce += 1;
        }
    };
    // 20 withdrawals and 20 entries: blocks of (16, 16) and (4, 4).
    add_withdrawals(&node, 20);
    feed(&node, 0..20);
    let mut blocks = drain(&node);
    // Then (3, 3) and (0, 10).
    add_withdrawals(&node, 3);
    feed(&node, 20..23);
    blocks.extend(drain(&node));
    feed(&node, 23..33);
    blocks.extend(drain(&node));
    let loads: Vec<(usize, usize)> = blocks
        .iter()
        .map(|&n| {
            let ops = node.storage.ops(n).unwrap().unwrap();
            (ops.withdrawals.len(), ops.queue.len())
        })
        .collect();
    assert_eq!(loads, vec![(16, 16), (4, 4), (3, 3), (0, 10)]);
    assert_eq!(consumed(&node, &blocks).concat(), (0..33).collect::<Vec<u64>>());
    assert_eq!(totals(&node).withdrawals, 23);
    // From block 2: 4 + 3 fits both caps; block 4's 10 entries would make 17.
    assert_eq!(batches(&node), vec![(1, 1), (2, 3), (4, 4)]);
    drop(node);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_gap_in_the_queue_holds_later_entries_without_losing_them() {
    let dir = datadir("gap");
    let node = open_node(&dir, &[], false);
    feed(&node, 0..3);
    assert_eq!(consumed(&node, &drain(&node)), vec![vec![0, 1, 2]]);
    // Entry 3 missing: 4 and 5 wait, and no block is made for them.
    node.deposits.lock().unwrap().extend([entry(4), entry(5)]);
    assert_eq!(node.produce_block().unwrap(), None);
    assert_eq!(pending(&node), 2, "the later entries stay pending");
    node.deposits.lock().unwrap().push_front(entry(3));
    assert_eq!(consumed(&node, &drain(&node)), vec![vec![3, 4, 5]]);
    assert_eq!(totals(&node).deposits_consumed, 6);
    drop(node);
    let _ = std::fs::remove_dir_all(dir);
}
