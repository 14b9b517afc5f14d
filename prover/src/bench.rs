//! Benchmark workloads shared by the criterion bench (`benches/prove.rs`) and
//! `prover-node bench`: a pre-state of funded accounts and a batch of transfers.

use alloy_primitives::{Address, B256, keccak256};
use ctm_core::{GenesisConfig, MemoryStore, Op, Rules, StateTree, apply};

use crate::public::QueueEntry;
use crate::witness::{BatchContext, Block};

/// Tree depth of every preset.
pub const DEPTH: u8 = 32;

/// The `i`-th benchmark account.
pub fn account(i: u64) -> Address {
    let mut b = [0u8; 20];
    b[..8].copy_from_slice(&(i.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1).to_be_bytes());
    b[12..].copy_from_slice(&i.to_be_bytes());
    Address::from(b)
}

/// Rules of the `computronium` preset with minting allowed (for the genesis of the workload).
pub fn rules() -> Rules {
    let mut r = match GenesisConfig::preset("computronium") {
        Ok(cfg) => Rules::from_config(&cfg),
        Err(e) => unreachable!("the built-in preset parses: {e}"),
    };
    r.allow_mint = true;
    r
}

/// A batch of `transfers` transfers among `accounts` pre-funded accounts.
pub struct Workload {
    /// The pre-state.
    pub tree: StateTree<MemoryStore>,
    /// Rules.
    pub rules: Rules,
    /// The batch's blocks.
    pub blocks: Vec<Block>,
    /// The L1 context.
    pub ctx: BatchContext,
}

/// Builds a transfer workload: account `i` sends to account `(7i + 3) mod accounts`, amounts
/// vary; `blocks` blocks of equal size.
pub fn transfers(
    transfers: usize,
    accounts: usize,
    blocks: usize,
) -> Result<Workload, ctm_core::ApplyError> {
    let rules = rules();
    let accounts = accounts.max(2) as u64;
    let mut tree = match StateTree::in_memory(DEPTH) {
        Ok(t) => t,
        Err(e) => unreachable!("depth 32 is valid: {e}"),
    };
    let mints: Vec<Op> =
        (0..accounts).map(|i| Op::Mint { to: account(i), amount: 1_000_000_000_000 }).collect();
    apply(&mut tree, &rules, 1, &mints)?;
    let ops: Vec<Op> = (0..transfers as u64)
        .map(|k| {
            let from = k % accounts;
            let to = (7 * from + 3 + k / accounts) % accounts;
            let to = if to == from { (to + 1) % accounts } else { to };
            Op::Transfer { from: account(from), to: account(to), amount: u128::from(k % 997 + 1) }
        })
        .collect();
    let per = ops.len().div_ceil(blocks.max(1)).max(1);
    let blocks = ops
        .chunks(per)
        .enumerate()
        .map(|(i, c)| Block { timestamp: 10 + i as u64, ops: c.to_vec() })
        .collect();
    let ctx = BatchContext {
        l2_chain_id: 71117,
        batch_index: 1,
        batch_data: b"bench".to_vec(),
        ..Default::default()
    };
    Ok(Workload { tree, rules, blocks, ctx })
}

impl Workload {
    /// Puts `n` L1 queue entries before the first block's ops, consumed in order: every fourth
    /// a message, every fifth deposit rejected, the others deposits of `5000 + k`, to benchmark
    /// accounts (even `k`) or to new accounts (odd `k`).
    pub fn with_deposits(mut self, n: usize) -> Self {
        let mut ops = Vec::with_capacity(n);
        for k in 0..n as u64 {
            let message = k % 4 == 3;
            let refused = !message && k % 5 == 4;
            let to = if k % 2 == 0 { account(k) } else { Address::repeat_byte(0x40 + k as u8) };
            let amount = if message { 0 } else { 5000 + u128::from(k) };
            self.ctx.queue.push(QueueEntry {
                index: k,
                kind: u8::from(message),
                l1_sender: Address::repeat_byte(0xd0),
                l2_target: to,
                amount,
                data_hash: if message { keccak256(k.to_be_bytes()) } else { B256::ZERO },
                timestamp: 1_700_000_000 + k,
            });
            if refused {
                self.ctx.rejected_deposits.push(k);
            }
            let credited = if message || refused { 0 } else { amount };
            ops.push(Op::Deposit { queue_index: k, to, amount: credited });
        }
        match self.blocks.first_mut() {
            Some(first) => {
                ops.append(&mut first.ops);
                first.ops = ops;
            }
            None => self.blocks.push(Block { timestamp: 10, ops }),
        }
        self
    }

    /// Makes every transfer a signed L2 transaction's ops: a `Fee` of its sender (nonce bump,
    /// a base fee burned, a tip to the block's producer `beneficiary`) before the transfer, as
    /// the sequencer records an EIP-1559 transfer.
    pub fn with_fees(mut self, beneficiary: Address) -> Self {
        let mut nonces: std::collections::HashMap<Address, u64> = std::collections::HashMap::new();
        for block in &mut self.blocks {
            let mut ops = Vec::with_capacity(2 * block.ops.len());
            for op in block.ops.drain(..) {
                if let Op::Transfer { from, .. } = op {
                    let nonce = nonces.entry(from).or_default();
                    ops.push(Op::Fee {
                        payer: from,
                        nonce: *nonce,
                        burned: 21_000 * 7,
                        tip: 21_000,
                        beneficiary,
                    });
                    *nonce += 1;
                }
                ops.push(op);
            }
            block.ops = ops;
        }
        self
    }

    /// Appends `n` withdrawals to the last block: account `k` withdraws `1000 + k` to the L1
    /// address `0x…k+1` (repeated byte).
    pub fn with_withdrawals(mut self, n: usize) -> Self {
        let ops = (0..n as u64).map(|k| Op::Withdraw {
            from: account(k),
            l1_recipient: Address::repeat_byte(k as u8 + 1),
            amount: 1000 + u128::from(k),
        });
        if let Some(last) = self.blocks.last_mut() {
            last.ops.extend(ops);
        } else {
            self.blocks.push(Block { timestamp: 10, ops: ops.collect() });
        }
        self
    }
}

/// One measured proof of a transfer batch.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BenchRow {
    /// Transfers in the batch.
    pub transfers: usize,
    /// Leaf updates.
    pub updates: usize,
    /// Trace height.
    pub rows: usize,
    /// Witness generation, seconds.
    pub witness_s: f64,
    /// Trace generation + STARK proving, seconds.
    pub prove_s: f64,
    /// Transfers per second of `prove_s`.
    pub transfers_per_s: f64,
    /// Verification, milliseconds.
    pub verify_ms: f64,
    /// JSON-encoded proof size in bytes.
    pub proof_json_bytes: usize,
    /// Conjectured security bits.
    pub security_bits: usize,
    /// Where the LDEs ran: `cuda` or `cpu` ([`crate::gpu::ProverDft::backend`]).
    pub dft: &'static str,
}

/// Builds, proves and verifies a batch of `transfers` transfers among `accounts` accounts (as
/// many as transfers if `None`), each with its sender's `Fee` op before it if `fees`
/// ([`Workload::with_fees`], the producer being account 0).
pub fn measure(
    transfers: usize,
    accounts: Option<usize>,
    fees: bool,
    fri: &crate::FriConfig,
) -> crate::Result<BenchRow> {
    use std::time::Instant;
    let accounts = accounts.unwrap_or(transfers).max(2);
    let mut wl = self::transfers(transfers, accounts, 4)
        .map_err(|e| crate::ProverError::Stark(format!("workload: {e}")))?;
    if fees {
        wl = wl.with_fees(account(0));
    }
    let t = Instant::now();
    let (w, _) = crate::build_witness(&wl.tree, &wl.rules, &wl.blocks, &wl.ctx)?;
    let witness_s = t.elapsed().as_secs_f64();
    let cfg = crate::evm_config(fri);
    let t = Instant::now();
    let proof = crate::prove(&cfg, fri, &w, |_| {})?;
    let prove_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    crate::verify(&cfg, fri, w.depth, &w.public, &proof)?;
    let verify_ms = t.elapsed().as_secs_f64() * 1e3;
    Ok(BenchRow {
        transfers,
        updates: w.updates.len(),
        rows: crate::trace::trace_height(&w),
        witness_s,
        prove_s,
        transfers_per_s: transfers as f64 / prove_s,
        verify_ms,
        proof_json_bytes: serde_json::to_vec(&proof)?.len(),
        security_bits: fri.conjectured_security_bits(),
        dft: crate::gpu::ProverDft::auto().backend(),
    })
}
