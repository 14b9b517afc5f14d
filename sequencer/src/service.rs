//! Starting and stopping a whole sequencer (node, producer thread, RPC server, metrics) — used
//! by the binary and by the integration tests.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use alloy::primitives::Address;
use alloy::signers::local::{MnemonicBuilder, PrivateKeySigner, coins_bip39::English};
use tokio::sync::watch;

use crate::config::{DEV_MNEMONIC, SequencerConfig};
use crate::error::{Result, SequencerError};
use crate::mempool::PoolLimits;
use crate::node::{Node, NodeConfig};
use crate::rpc::{self, EthApi};

/// The first `n` accounts of the dev mnemonic.
pub fn dev_signers(n: u32) -> Result<Vec<PrivateKeySigner>> {
    (0..n)
        .map(|i| {
            MnemonicBuilder::<English>::default()
                .phrase(DEV_MNEMONIC)
                .index(i)
                .and_then(|b| b.build())
                .map_err(|e| SequencerError::Config(format!("dev mnemonic: {e}")))
        })
        .collect()
}

/// A running sequencer.
#[derive(Debug)]
pub struct Running {
    /// The node.
    pub node: Arc<Node>,
    /// Where JSON-RPC listens.
    pub rpc_addr: SocketAddr,
    /// The data directory in use.
    pub datadir: PathBuf,
    /// Funded dev accounts (dev mode).
    pub dev_signers: Vec<PrivateKeySigner>,
    stop: watch::Sender<bool>,
    producer: Option<std::thread::JoinHandle<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    l1_tasks: Vec<tokio::task::JoinHandle<()>>,
    temp: bool,
}

impl Running {
    /// `http://addr`.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.rpc_addr)
    }
    /// `ws://addr`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.rpc_addr)
    }

    /// Stops block production and the server, waiting for both.
    pub async fn stop(mut self) {
        self.shutdown().await;
    }

    async fn shutdown(&mut self) {
        self.node.shutdown();
        let _ = self.stop.send(true);
        if let Some(p) = self.producer.take() {
            let _ = tokio::task::spawn_blocking(move || p.join()).await;
        }
        if let Some(s) = self.server.take() {
            let _ = s.await;
        }
        for t in self.l1_tasks.drain(..) {
            let _ = t.await;
        }
        if self.temp {
            let _ = std::fs::remove_dir_all(&self.datadir);
        }
    }
}

fn temp_datadir() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!("ctm-dev-{}-{nanos}", std::process::id()))
}

/// Starts a sequencer with `cfg`.
pub async fn start(cfg: SequencerConfig) -> Result<Running> {
    if !cfg.dev && cfg.l1.is_none() {
        return Err(SequencerError::Config(
            "without --dev the node needs an L1: --l1-rpc, --deployment and --sequencer-key".into(),
        ));
    }
    let (datadir, temp) = match &cfg.datadir {
        Some(d) => (d.clone(), false),
        None if cfg.dev => (temp_datadir(), true),
        None => (PathBuf::from("ctm-data"), false),
    };
    let signers = if cfg.dev { dev_signers(cfg.dev_accounts)? } else { Vec::new() };
    let unit = cfg.genesis.token.unit();
    let dev_accounts: Vec<(Address, u128)> =
        signers.iter().map(|s| (s.address(), u128::from(cfg.dev_balance) * unit)).collect();
    let node_cfg = NodeConfig {
        genesis: cfg.genesis.clone(),
        datadir: datadir.clone(),
        dev_accounts,
        block_time: cfg.block_time,
        beneficiary: cfg.fee_recipient,
        pool: PoolLimits { max_total: cfg.max_pool, ..Default::default() },
        max_block_txs: cfg.max_block_txs,
        empty_blocks: cfg.empty_blocks,
    };
    let node = tokio::task::spawn_blocking(move || Node::open(node_cfg))
        .await
        .map_err(|e| SequencerError::Execution(e.to_string()))??;
    if let Some(l1) = &cfg.l1 {
        let d = &l1.deployment;
        if d.l2_chain_id != node.chain_id() {
            return Err(SequencerError::Config(format!(
                "deployment is for L2 chain {}, this node runs {}",
                d.l2_chain_id,
                node.chain_id()
            )));
        }
        let genesis = node.storage.ops(0)?.map(|o| o.post_root).unwrap_or_default();
        if d.genesis_state_root != genesis {
            return Err(SequencerError::Config(format!(
                "deployment's genesis state root {} differs from this chain's {genesis}",
                d.genesis_state_root
            )));
        }
    }
    let producer_node = node.clone();
    let producer = std::thread::Builder::new()
        .name("block-producer".into())
        .spawn(move || producer_node.run_producer())?;
    let (stop, mut stop_rx) = watch::channel(false);
    let api = Arc::new(EthApi::new(node.clone()));
    let shutdown = async move {
        let _ = stop_rx.wait_for(|s| *s).await;
    };
    let (rpc_addr, server) = rpc::serve(api, cfg.rpc, shutdown).await?;
    let l1_tasks = match cfg.l1.clone() {
        Some(l1) => crate::l1::spawn(node.clone(), l1, stop.subscribe())?,
        None => Vec::new(),
    };
    Ok(Running {
        node,
        rpc_addr,
        datadir,
        dev_signers: signers,
        stop,
        producer: Some(producer),
        server: Some(server),
        l1_tasks,
        temp,
    })
}
