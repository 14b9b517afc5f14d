//! Service configuration: a TOML file < `CTM_*` environment variables < command-line flags.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use alloy::primitives::Address;
use clap::Parser;
use ctm_core::config::GenesisConfig;
use serde::Deserialize;

use crate::error::{Result, SequencerError};

/// The test mnemonic whose first accounts are funded on a dev chain (as in anvil and hardhat).
pub const DEV_MNEMONIC: &str = "test test test test test test test test test test test junk";

/// Command-line flags (each also readable from a `CTM_*` variable).
#[derive(Debug, Clone, Default, Parser)]
#[command(
    name = "sequencer",
    version,
    about = "Computronium sequencer: an EVM-compatible zk-rollup node for the compute marketplace"
)]
pub struct Cli {
    /// Run a self-contained dev chain without L1: dev accounts funded, data in a temporary
    /// directory unless --datadir is given.
    #[arg(long, env = "CTM_DEV")]
    pub dev: bool,
    /// TOML config file; its keys are the long flag names with underscores.
    #[arg(long, env = "CTM_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data directory (created if missing).
    #[arg(long, env = "CTM_DATADIR")]
    pub datadir: Option<PathBuf>,
    /// Genesis preset: computronium, tspmo, dpin, or a path to a preset TOML file.
    #[arg(long, env = "CTM_PRESET")]
    pub preset: Option<String>,
    /// Address the JSON-RPC server (HTTP and WebSocket) listens on.
    #[arg(long, env = "CTM_HTTP_ADDR")]
    pub http_addr: Option<IpAddr>,
    /// JSON-RPC port (0 picks a free one).
    #[arg(long, short = 'p', env = "CTM_PORT")]
    pub port: Option<u16>,
    /// Block interval in milliseconds (10 to 2000).
    #[arg(long, env = "CTM_BLOCK_TIME_MS")]
    pub block_time_ms: Option<u64>,
    /// Prometheus metrics port (0 disables the exporter).
    #[arg(long, env = "CTM_METRICS_PORT")]
    pub metrics_port: Option<u16>,
    /// Block gas limit (overrides the preset's).
    #[arg(long, env = "CTM_BLOCK_GAS_LIMIT")]
    pub block_gas_limit: Option<u64>,
    /// Address that receives priority fees.
    #[arg(long, env = "CTM_FEE_RECIPIENT")]
    pub fee_recipient: Option<Address>,
    /// Number of dev accounts to fund (dev mode).
    #[arg(long, env = "CTM_DEV_ACCOUNTS")]
    pub dev_accounts: Option<u32>,
    /// Balance of each dev account in whole tokens (dev mode).
    #[arg(long, env = "CTM_DEV_BALANCE")]
    pub dev_balance: Option<u64>,
    /// Most transactions in the mempool.
    #[arg(long, env = "CTM_MAX_POOL")]
    pub max_pool: Option<usize>,
    /// Most transactions in one block (a block also initiates at most 16 withdrawals and consumes
    /// at most 16 L1 queue entries, the per-batch caps; the rest wait for the next block).
    #[arg(long, env = "CTM_MAX_BLOCK_TXS")]
    pub max_block_txs: Option<usize>,
    /// Produce a block every interval even without transactions.
    #[arg(long, env = "CTM_EMPTY_BLOCKS")]
    pub empty_blocks: bool,
    /// Log filter (tracing env-filter syntax), e.g. `info,ctm_sequencer=debug`.
    #[arg(long, env = "CTM_LOG")]
    pub log: Option<String>,
    /// L1 JSON-RPC URL (runs the deposit watcher and the batcher).
    #[arg(long, env = "CTM_L1_RPC")]
    pub l1_rpc: Option<String>,
    /// Deployment JSON of the L1 contracts (written by l1-contracts/script/Deploy.s.sol).
    #[arg(long, env = "CTM_DEPLOYMENT")]
    pub deployment: Option<PathBuf>,
    /// Private key of the sequencer account on L1 (commits batches).
    #[arg(long, env = "CTM_SEQUENCER_KEY", hide_env_values = true)]
    pub sequencer_key: Option<String>,
    /// L1 blocks to wait before ingesting a deposit.
    #[arg(long, env = "CTM_L1_CONFIRMATIONS")]
    pub l1_confirmations: Option<u64>,
    /// How often the batcher seals and commits a batch, in milliseconds (a batch takes at most the
    /// preset's `batch_max_blocks` blocks, 16 withdrawals and 16 L1 queue entries, so L1 deposits
    /// and messages are committed at most 16 per interval).
    #[arg(long, env = "CTM_BATCH_INTERVAL_MS")]
    pub batch_interval_ms: Option<u64>,
    /// How often to poll L1, in milliseconds.
    #[arg(long, env = "CTM_L1_POLL_MS")]
    pub l1_poll_ms: Option<u64>,
}

/// The same settings from a TOML file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    dev: Option<bool>,
    datadir: Option<PathBuf>,
    preset: Option<String>,
    http_addr: Option<IpAddr>,
    port: Option<u16>,
    block_time_ms: Option<u64>,
    metrics_port: Option<u16>,
    block_gas_limit: Option<u64>,
    fee_recipient: Option<Address>,
    dev_accounts: Option<u32>,
    dev_balance: Option<u64>,
    max_pool: Option<usize>,
    max_block_txs: Option<usize>,
    empty_blocks: Option<bool>,
    log: Option<String>,
    l1_rpc: Option<String>,
    deployment: Option<PathBuf>,
    sequencer_key: Option<String>,
    l1_confirmations: Option<u64>,
    batch_interval_ms: Option<u64>,
    l1_poll_ms: Option<u64>,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct SequencerConfig {
    /// Dev chain.
    pub dev: bool,
    /// Data directory; `None` in dev mode means a fresh temporary one.
    pub datadir: Option<PathBuf>,
    /// Genesis.
    pub genesis: GenesisConfig,
    /// RPC listen address.
    pub rpc: SocketAddr,
    /// Block interval.
    pub block_time: Duration,
    /// Metrics listen address.
    pub metrics: Option<SocketAddr>,
    /// Tip recipient.
    pub fee_recipient: Address,
    /// Dev accounts to fund.
    pub dev_accounts: u32,
    /// Their balance in whole tokens.
    pub dev_balance: u64,
    /// Mempool capacity.
    pub max_pool: usize,
    /// Block capacity in transactions.
    pub max_block_txs: usize,
    /// Produce empty blocks.
    pub empty_blocks: bool,
    /// Log filter.
    pub log: String,
    /// The L1 link, if configured.
    pub l1: Option<crate::l1::L1Config>,
}

/// Default tip recipient: the sequencer's fee account.
pub const DEFAULT_FEE_RECIPIENT: Address =
    alloy::primitives::address!("0x00000000000000000000000000000000000c7a0f");

impl SequencerConfig {
    /// Resolves flags (with their environment variables) over the config file over defaults.
    pub fn resolve(cli: Cli) -> Result<Self> {
        let file = match &cli.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| SequencerError::Config(format!("{}: {e}", path.display())))?;
                toml::from_str::<FileConfig>(&text)
                    .map_err(|e| SequencerError::Config(format!("{}: {e}", path.display())))?
            }
            None => FileConfig::default(),
        };
        let preset = cli.preset.or(file.preset).unwrap_or_else(|| "computronium".into());
        let genesis = if preset.ends_with(".toml") {
            let text = std::fs::read_to_string(&preset)
                .map_err(|e| SequencerError::Config(format!("{preset}: {e}")))?;
            GenesisConfig::from_toml(&text)
        } else {
            GenesisConfig::preset(&preset)
        }
        .map_err(|e| SequencerError::Config(format!("preset {preset}: {e}")))?;
        let mut genesis = genesis;
        if let Some(limit) = cli.block_gas_limit.or(file.block_gas_limit) {
            if limit < 21_000 {
                return Err(SequencerError::Config(format!(
                    "block_gas_limit: {limit} is below 21000"
                )));
            }
            genesis.chain.block_gas_limit = limit;
        }
        let block_time_ms =
            cli.block_time_ms.or(file.block_time_ms).unwrap_or(genesis.chain.block_time_ms);
        if !(10..=2000).contains(&block_time_ms) {
            return Err(SequencerError::Config(format!(
                "block_time_ms: {block_time_ms} is outside 10..=2000"
            )));
        }
        let ip = cli.http_addr.or(file.http_addr).unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let metrics_port = cli.metrics_port.or(file.metrics_port).unwrap_or(0);
        Ok(Self {
            dev: cli.dev || file.dev.unwrap_or(false),
            datadir: cli.datadir.or(file.datadir),
            rpc: SocketAddr::new(ip, cli.port.or(file.port).unwrap_or(8547)),
            block_time: Duration::from_millis(block_time_ms),
            metrics: (metrics_port != 0).then(|| SocketAddr::new(ip, metrics_port)),
            fee_recipient: cli
                .fee_recipient
                .or(file.fee_recipient)
                .unwrap_or(DEFAULT_FEE_RECIPIENT),
            dev_accounts: cli.dev_accounts.or(file.dev_accounts).unwrap_or(10),
            dev_balance: cli.dev_balance.or(file.dev_balance).unwrap_or(10_000),
            max_pool: cli.max_pool.or(file.max_pool).unwrap_or(200_000),
            max_block_txs: cli.max_block_txs.or(file.max_block_txs).unwrap_or(20_000),
            empty_blocks: cli.empty_blocks || file.empty_blocks.unwrap_or(false),
            log: cli.log.or(file.log).unwrap_or_else(|| "info".into()),
            l1: l1_config(
                cli.l1_rpc.or(file.l1_rpc),
                cli.deployment.or(file.deployment),
                cli.sequencer_key.or(file.sequencer_key),
                cli.l1_confirmations.or(file.l1_confirmations).unwrap_or(1),
                cli.batch_interval_ms.or(file.batch_interval_ms).unwrap_or(10_000),
                cli.l1_poll_ms.or(file.l1_poll_ms).unwrap_or(1_000),
            )?,
            genesis,
        })
    }
}

fn l1_config(
    rpc: Option<String>,
    deployment: Option<PathBuf>,
    key: Option<String>,
    confirmations: u64,
    batch_ms: u64,
    poll_ms: u64,
) -> Result<Option<crate::l1::L1Config>> {
    let (rpc, deployment) = match (rpc, deployment) {
        (None, None) => return Ok(None),
        (Some(r), Some(d)) => (r, d),
        _ => return Err(SequencerError::Config("--l1-rpc and --deployment go together".into())),
    };
    let key = key.ok_or_else(|| {
        SequencerError::Config(
            "--sequencer-key (or CTM_SEQUENCER_KEY) is required with --l1-rpc".into(),
        )
    })?;
    let key: alloy::signers::local::PrivateKeySigner =
        key.parse().map_err(|e| SequencerError::Config(format!("sequencer key: {e}")))?;
    if batch_ms < 100 || poll_ms < 10 {
        return Err(SequencerError::Config(
            "batch interval must be >= 100 ms and L1 poll >= 10 ms".into(),
        ));
    }
    Ok(Some(crate::l1::L1Config {
        rpc,
        deployment: crate::l1::Deployment::load(&deployment)?,
        key,
        confirmations,
        batch_interval: Duration::from_millis(batch_ms),
        poll: Duration::from_millis(poll_ms),
    }))
}
