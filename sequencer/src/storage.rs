//! redb storage: blocks, transactions, receipts, ops, account history and the state tree.
//!
//! Every block is written in ONE redb write transaction together with the state-tree changes
//! and the new head, so a crash at any moment leaves either the whole block or none of it.

use std::path::Path;
use std::sync::Arc;

use alloy::primitives::{Address, B256};
use ctm_core::hash::Digest;
use ctm_core::state::Account;
use ctm_core::tree::{Leaf, MemoryStore, TreeChanges, TreeStore};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use crate::error::{Result, SequencerError};
use crate::types::{BlockOps, StoredBlock, StoredReceipt, StoredTx};

const META: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("meta");
const BLOCKS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("blocks");
const BLOCK_HASHES: TableDefinition<'_, &[u8], u64> = TableDefinition::new("block_hashes");
const TXS: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("txs");
const RECEIPTS: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("receipts");
const OPS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("ops");
/// (address ‖ block number BE) → account at the end of that block.
const ACCOUNT_HISTORY: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("account_history");
/// (level ‖ index BE) → digest.
const TREE_NODES: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("tree_nodes");
/// slot → key length (u16 BE) ‖ key ‖ value.
const TREE_LEAVES: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("tree_leaves");

/// batch index → batch record (JSON).
const BATCHES: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("batches");

const HEAD: &str = "head";
const CHAIN: &str = "chain";
const FORMAT: &str = "state_format";

/// Version of the state leaves' encoding a datadir holds, recorded with its genesis block: 2
/// since `Totals::locked` (format 1, unrecorded, had no such field). A datadir of another format
/// is refused at open ([`SequencerError::StateFormat`]) instead of failing on its first block.
pub const STATE_FORMAT: u32 = 2;

fn node_key(level: u8, index: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = level;
    k[1..].copy_from_slice(&index.to_be_bytes());
    k
}

fn history_key(addr: &Address, block: u64) -> [u8; 28] {
    let mut k = [0u8; 28];
    k[..20].copy_from_slice(addr.as_slice());
    k[20..].copy_from_slice(&block.to_be_bytes());
    k
}

fn encode_leaf(leaf: &Leaf) -> Vec<u8> {
    let mut v = Vec::with_capacity(2 + leaf.key.len() + leaf.value.len());
    v.extend_from_slice(&(leaf.key.len() as u16).to_be_bytes());
    v.extend_from_slice(&leaf.key);
    v.extend_from_slice(&leaf.value);
    v
}

fn decode_leaf(bytes: &[u8]) -> Result<Leaf> {
    let corrupt = || SequencerError::Corrupt("tree leaf".into());
    let len = usize::from(u16::from_be_bytes(
        bytes.get(..2).ok_or_else(corrupt)?.try_into().map_err(|_| corrupt())?,
    ));
    let key = bytes.get(2..2 + len).ok_or_else(corrupt)?.to_vec();
    Ok(Leaf { key, value: bytes[2 + len..].to_vec() })
}

fn json<T: serde::Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| SequencerError::Corrupt(e.to_string()))
}

fn unjson<T: serde::de::DeserializeOwned>(b: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(b).map_err(|e| SequencerError::Corrupt(format!("{what}: {e}")))
}

/// The in-memory state-tree store of the sequencer: every node in memory, and the changes of
/// the last `apply_batch` kept until [`Storage::write_block`] persists them.
#[derive(Debug, Default)]
pub struct PersistentStore {
    mem: MemoryStore,
    unsaved: Vec<TreeChanges>,
}

impl PersistentStore {
    /// Every leaf of the state.
    pub fn leaves(&self) -> impl Iterator<Item = &Leaf> {
        self.mem.leaves().map(|(_, l)| l)
    }

    /// Every provider registered in the state (scans the leaves; used at startup).
    pub fn provider_index(&self) -> Vec<Address> {
        use ctm_core::codec::Codec;
        let mut out: Vec<Address> = self
            .mem
            .leaves()
            .filter(|(_, l)| !l.value.is_empty())
            .filter_map(|(_, l)| match ctm_core::StateKey::from_bytes(&l.key) {
                Ok(ctm_core::StateKey::Provider(a)) => Some(a),
                _ => None,
            })
            .collect();
        out.sort();
        out
    }

    /// Takes the changes not yet written to disk.
    pub fn take_unsaved(&mut self) -> Vec<TreeChanges> {
        std::mem::take(&mut self.unsaved)
    }
}

impl TreeStore for PersistentStore {
    type Error = std::convert::Infallible;
    fn node(&self, level: u8, index: u64) -> std::result::Result<Option<Digest>, Self::Error> {
        self.mem.node(level, index)
    }
    fn leaf(&self, slot: u64) -> std::result::Result<Option<Leaf>, Self::Error> {
        self.mem.leaf(slot)
    }
    fn commit(&mut self, changes: TreeChanges) -> std::result::Result<(), Self::Error> {
        self.unsaved.push(changes.clone());
        self.mem.commit(changes)
    }
}

/// Everything one block adds to the database.
#[derive(Debug)]
pub struct BlockWrite<'a> {
    /// The block.
    pub block: &'a StoredBlock,
    /// Its transactions with their hashes.
    pub txs: &'a [(B256, StoredTx)],
    /// Receipts in the same order.
    pub receipts: &'a [StoredReceipt],
    /// Its ops and roots.
    pub ops: &'a BlockOps,
    /// Accounts changed by the block, with their new values.
    pub accounts: &'a [(Address, Account)],
    /// State-tree changes.
    pub tree: Vec<TreeChanges>,
}

/// The sequencer's database.
#[derive(Clone, Debug)]
pub struct Storage {
    db: Arc<Database>,
}

impl Storage {
    /// Opens (or creates) the database file.
    pub fn open(path: &Path) -> Result<Self> {
        let db = Database::create(path)?;
        let tx = db.begin_write()?;
        tx.open_table(META)?;
        tx.open_table(BLOCKS)?;
        tx.open_table(BLOCK_HASHES)?;
        tx.open_table(TXS)?;
        tx.open_table(RECEIPTS)?;
        tx.open_table(OPS)?;
        tx.open_table(ACCOUNT_HISTORY)?;
        tx.open_table(TREE_NODES)?;
        tx.open_table(TREE_LEAVES)?;
        tx.open_table(BATCHES)?;
        tx.commit()?;
        let storage = Self { db: Arc::new(db) };
        storage.check_format()?;
        Ok(storage)
    }

    /// Refuses a datadir with blocks written in another state format.
    fn check_format(&self) -> Result<()> {
        let r = self.db.begin_read()?;
        let t = r.open_table(META)?;
        if t.get(HEAD)?.is_none() {
            return Ok(());
        }
        let found = match t.get(FORMAT)? {
            Some(v) => u32::from_be_bytes(
                v.value().try_into().map_err(|_| SequencerError::Corrupt("state format".into()))?,
            ),
            None => 1,
        };
        if found != STATE_FORMAT {
            return Err(SequencerError::StateFormat { expected: STATE_FORMAT, found });
        }
        Ok(())
    }

    /// The chain identity stored at genesis (preset name and chain id), if any.
    pub fn chain_meta(&self) -> Result<Option<Vec<u8>>> {
        let r = self.db.begin_read()?;
        Ok(r.open_table(META)?.get(CHAIN)?.map(|v| v.value().to_vec()))
    }

    /// The head block number, if any block was written.
    pub fn head(&self) -> Result<Option<u64>> {
        let r = self.db.begin_read()?;
        let t = r.open_table(META)?;
        Ok(match t.get(HEAD)? {
            Some(v) => Some(u64::from_be_bytes(
                v.value().try_into().map_err(|_| SequencerError::Corrupt("head".into()))?,
            )),
            None => None,
        })
    }

    /// Loads the whole state tree into memory.
    pub fn load_tree(&self) -> Result<PersistentStore> {
        let r = self.db.begin_read()?;
        let mut changes = TreeChanges::default();
        for item in r.open_table(TREE_NODES)?.iter()? {
            let (k, v) = item?;
            let (k, v) = (k.value(), v.value());
            let corrupt = || SequencerError::Corrupt("tree node".into());
            let index = u64::from_be_bytes(
                k.get(1..9).ok_or_else(corrupt)?.try_into().map_err(|_| corrupt())?,
            );
            let digest = Digest::from_bytes32(&B256::try_from(v).map_err(|_| corrupt())?)
                .ok_or_else(corrupt)?;
            changes.nodes.push((k[0], index, Some(digest)));
        }
        for item in r.open_table(TREE_LEAVES)?.iter()? {
            let (k, v) = item?;
            changes.leaves.push((k.value(), Some(decode_leaf(v.value())?)));
        }
        let mut mem = MemoryStore::default();
        let Ok(()) = mem.commit(changes);
        Ok(PersistentStore { mem, unsaved: Vec::new() })
    }

    /// Writes a block atomically (see the module docs). `chain` is stored with the genesis block.
    pub fn write_block(&self, w: BlockWrite<'_>, chain: Option<&[u8]>) -> Result<()> {
        let tx = self.db.begin_write()?;
        {
            let number = w.block.header.number;
            let mut meta = tx.open_table(META)?;
            meta.insert(HEAD, number.to_be_bytes().as_slice())?;
            if let Some(c) = chain {
                meta.insert(CHAIN, c)?;
                meta.insert(FORMAT, STATE_FORMAT.to_be_bytes().as_slice())?;
            }
            tx.open_table(BLOCKS)?.insert(number, json(w.block)?.as_slice())?;
            tx.open_table(BLOCK_HASHES)?.insert(w.block.hash.as_slice(), number)?;
            let mut txs = tx.open_table(TXS)?;
            for (hash, t) in w.txs {
                txs.insert(hash.as_slice(), json(t)?.as_slice())?;
            }
            let mut receipts = tx.open_table(RECEIPTS)?;
            for ((hash, _), r) in w.txs.iter().zip(w.receipts) {
                receipts.insert(hash.as_slice(), json(r)?.as_slice())?;
            }
            tx.open_table(OPS)?.insert(number, json(w.ops)?.as_slice())?;
            let mut hist = tx.open_table(ACCOUNT_HISTORY)?;
            for (addr, acct) in w.accounts {
                let mut v = acct.balance.to_be_bytes().to_vec();
                v.extend_from_slice(&acct.nonce.to_be_bytes());
                hist.insert(history_key(addr, number).as_slice(), v.as_slice())?;
            }
            let mut nodes = tx.open_table(TREE_NODES)?;
            let mut leaves = tx.open_table(TREE_LEAVES)?;
            for change in w.tree {
                for (slot, leaf) in change.leaves {
                    match leaf {
                        Some(l) => leaves.insert(slot, encode_leaf(&l).as_slice())?,
                        None => leaves.remove(slot)?,
                    };
                }
                for (level, index, node) in change.nodes {
                    let k = node_key(level, index);
                    match node {
                        Some(d) => nodes.insert(k.as_slice(), d.to_bytes32().as_slice())?,
                        None => nodes.remove(k.as_slice())?,
                    };
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// A block by number.
    pub fn block(&self, number: u64) -> Result<Option<StoredBlock>> {
        let r = self.db.begin_read()?;
        r.open_table(BLOCKS)?.get(number)?.map(|v| unjson(v.value(), "block")).transpose()
    }

    /// A block number by hash.
    pub fn block_number(&self, hash: &B256) -> Result<Option<u64>> {
        let r = self.db.begin_read()?;
        Ok(r.open_table(BLOCK_HASHES)?.get(hash.as_slice())?.map(|v| v.value()))
    }

    /// A transaction by hash.
    pub fn tx(&self, hash: &B256) -> Result<Option<StoredTx>> {
        let r = self.db.begin_read()?;
        r.open_table(TXS)?.get(hash.as_slice())?.map(|v| unjson(v.value(), "tx")).transpose()
    }

    /// A receipt by transaction hash.
    pub fn receipt(&self, hash: &B256) -> Result<Option<StoredReceipt>> {
        let r = self.db.begin_read()?;
        r.open_table(RECEIPTS)?
            .get(hash.as_slice())?
            .map(|v| unjson(v.value(), "receipt"))
            .transpose()
    }

    /// The ops of a block.
    pub fn ops(&self, number: u64) -> Result<Option<BlockOps>> {
        let r = self.db.begin_read()?;
        r.open_table(OPS)?.get(number)?.map(|v| unjson(v.value(), "ops")).transpose()
    }

    /// Stores (or replaces) a batch record.
    pub fn put_batch(&self, b: &crate::types::BatchRecord) -> Result<()> {
        let tx = self.db.begin_write()?;
        tx.open_table(BATCHES)?.insert(b.index, json(b)?.as_slice())?;
        tx.commit()?;
        Ok(())
    }

    /// A batch record.
    pub fn batch(&self, index: u64) -> Result<Option<crate::types::BatchRecord>> {
        let r = self.db.begin_read()?;
        r.open_table(BATCHES)?.get(index)?.map(|v| unjson(v.value(), "batch")).transpose()
    }

    /// The highest stored batch record.
    pub fn last_batch(&self) -> Result<Option<crate::types::BatchRecord>> {
        let r = self.db.begin_read()?;
        let t = r.open_table(BATCHES)?;
        let last = t.last()?;
        last.map(|(_, v)| unjson(v.value(), "batch")).transpose()
    }

    /// An account as of the end of block `number` (`None`: never touched by then).
    pub fn account_at(&self, addr: &Address, number: u64) -> Result<Option<Account>> {
        let r = self.db.begin_read()?;
        let t = r.open_table(ACCOUNT_HISTORY)?;
        let lo = history_key(addr, 0);
        let hi = history_key(addr, number);
        let mut range = t.range(lo.as_slice()..=hi.as_slice())?;
        match range.next_back() {
            Some(item) => {
                let (_, v) = item?;
                let v = v.value();
                let corrupt = || SequencerError::Corrupt("account history".into());
                let balance = u128::from_be_bytes(
                    v.get(..16).ok_or_else(corrupt)?.try_into().map_err(|_| corrupt())?,
                );
                let nonce = u64::from_be_bytes(
                    v.get(16..24).ok_or_else(corrupt)?.try_into().map_err(|_| corrupt())?,
                );
                Ok(Some(Account { balance, nonce }))
            }
            None => Ok(None),
        }
    }
}
