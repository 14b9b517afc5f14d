//! Stored blocks, transactions and receipts → alloy RPC types (the JSON wallets expect).

use alloy::consensus::{Receipt, ReceiptEnvelope, ReceiptWithBloom, TxEnvelope, TxType};
use alloy::eips::Decodable2718;
use alloy::primitives::{B256, U256};
use alloy::rpc::types::{Block, BlockTransactions, Header, Log, Transaction, TransactionReceipt};

use super::error::{RpcError, RpcResult};
use crate::types::{StoredBlock, StoredReceipt, StoredTx};

/// Decodes a stored transaction.
pub fn decode_tx(raw: &[u8]) -> RpcResult<TxEnvelope> {
    TxEnvelope::decode_2718(&mut &raw[..])
        .map_err(|e| RpcError::internal(format!("stored tx: {e}")))
}

/// An included transaction.
pub fn rpc_tx(
    stored: &StoredTx,
    block: &StoredBlock,
    effective_gas_price: Option<u128>,
) -> RpcResult<Transaction> {
    let tx = decode_tx(&stored.raw)?;
    Ok(Transaction {
        inner: alloy::consensus::transaction::Recovered::new_unchecked(tx, stored.sender),
        block_hash: Some(block.hash),
        block_number: Some(block.header.number),
        transaction_index: Some(u64::from(stored.index)),
        effective_gas_price,
        block_timestamp: Some(block.header.timestamp),
    })
}

/// A pending transaction (no block yet).
pub fn rpc_pending_tx(tx: &TxEnvelope, sender: alloy::primitives::Address) -> Transaction {
    Transaction {
        inner: alloy::consensus::transaction::Recovered::new_unchecked(tx.clone(), sender),
        block_hash: None,
        block_number: None,
        transaction_index: None,
        effective_gas_price: None,
        block_timestamp: None,
    }
}

/// The logs of a receipt with their block positions.
pub fn rpc_logs(
    hash: B256,
    stored: &StoredTx,
    receipt: &StoredReceipt,
    block: &StoredBlock,
) -> Vec<Log> {
    receipt
        .logs
        .iter()
        .enumerate()
        .map(|(i, l)| Log {
            inner: l.clone(),
            block_hash: Some(block.hash),
            block_number: Some(block.header.number),
            block_timestamp: Some(block.header.timestamp),
            transaction_hash: Some(hash),
            transaction_index: Some(u64::from(stored.index)),
            log_index: Some(receipt.first_log_index + i as u64),
            removed: false,
        })
        .collect()
}

/// A receipt.
pub fn rpc_receipt(
    hash: B256,
    stored: &StoredTx,
    r: &StoredReceipt,
    block: &StoredBlock,
) -> TransactionReceipt {
    let logs = rpc_logs(hash, stored, r, block);
    let receipt =
        Receipt { status: r.success.into(), cumulative_gas_used: r.cumulative_gas_used, logs };
    let ty = TxType::try_from(r.tx_type).unwrap_or(TxType::Legacy);
    let inner = ReceiptEnvelope::from_typed(ty, ReceiptWithBloom::from(receipt));
    TransactionReceipt {
        inner,
        transaction_hash: hash,
        transaction_index: Some(u64::from(stored.index)),
        block_hash: Some(block.hash),
        block_number: Some(block.header.number),
        gas_used: r.gas_used,
        effective_gas_price: r.effective_gas_price,
        blob_gas_used: None,
        blob_gas_price: None,
        from: r.from,
        to: r.to,
        contract_address: None,
    }
}

/// A block with hashes or full transactions.
pub fn rpc_block(block: &StoredBlock, txs: Option<Vec<Transaction>>) -> Block {
    let mut header = Header::new(block.header.clone());
    header.total_difficulty = Some(U256::ZERO);
    let transactions = match txs {
        Some(full) => BlockTransactions::Full(full),
        None => BlockTransactions::Hashes(block.tx_hashes.clone()),
    };
    Block { header, uncles: vec![], transactions, withdrawals: None }
}
