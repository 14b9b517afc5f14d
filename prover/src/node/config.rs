//! `prover-node run` flags (each also a `CTM_PROVER_*` environment variable) and the resolved
//! node configuration.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use alloy::signers::local::PrivateKeySigner;
use ctm_core::GenesisConfig;
use ctm_sequencer::l1::Deployment;

use super::error::{NodeError, Result};

/// Flags of `prover-node run`.
#[derive(Clone, Debug, clap::Args)]
pub struct RunArgs {
    /// L1 JSON-RPC URL (HTTP) where the Rollup lives.
    #[arg(long, env = "CTM_PROVER_L1_RPC")]
    pub l1_rpc: String,
    /// Sequencer JSON-RPC URL (HTTP): serves `ctm_getBatchWitness`.
    #[arg(long, env = "CTM_PROVER_SEQUENCER_RPC")]
    pub sequencer_rpc: String,
    /// Deployment JSON written by `l1-contracts/script/Deploy.s.sol`.
    #[arg(long, env = "CTM_PROVER_DEPLOYMENT")]
    pub deployment: PathBuf,
    /// Hex private key of the L1 account that submits proofs (and earns the rewards).
    #[arg(long, env = "CTM_PROVER_KEY", hide_env_values = true)]
    pub key: String,
    /// Genesis preset (computronium, tspmo, dpin, or a preset TOML path); default: the
    /// deployment's preset.
    #[arg(long, env = "CTM_PROVER_PRESET")]
    pub preset: Option<String>,
    /// This node's index among `--nodes` cooperating nodes: it proves batch `i` iff
    /// `i % nodes == node_index`.
    #[arg(long, env = "CTM_PROVER_NODE_INDEX", default_value_t = 0)]
    pub node_index: u64,
    /// Number of cooperating prover nodes sharing the batches.
    #[arg(long, env = "CTM_PROVER_NODES", default_value_t = 1)]
    pub nodes: u64,
    /// Takeover delay in seconds: a batch of another node still unproven this long after this
    /// node first saw it is proven by its first backup (`(owner + 1) % nodes`), after twice as
    /// long by the second, and so on, so a dead node does not stall finality. 0 = never.
    #[arg(long, env = "CTM_PROVER_TAKEOVER_SECS", default_value_t = 600)]
    pub takeover_secs: u64,
    /// Port of the Prometheus `/metrics` endpoint (0 = no exporter).
    #[arg(long, env = "CTM_PROVER_METRICS_PORT", default_value_t = 0)]
    pub metrics_port: u16,
    /// Address the metrics endpoint binds to.
    #[arg(long, env = "CTM_PROVER_METRICS_HOST", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub metrics_host: IpAddr,
    /// How often to poll L1 for committed batches, in milliseconds (≥ 10).
    #[arg(long, env = "CTM_PROVER_POLL_MS", default_value_t = 2_000)]
    pub poll_ms: u64,
}

/// Which batches a node proves: `i % nodes == index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Share {
    index: u64,
    nodes: u64,
}

impl Share {
    /// Node `index` of `nodes` (`index < nodes`).
    pub fn new(index: u64, nodes: u64) -> Result<Self> {
        if nodes == 0 || index >= nodes {
            return Err(NodeError::Config(format!(
                "--node-index {index} must be below --nodes {nodes} (≥ 1)"
            )));
        }
        Ok(Self { index, nodes })
    }

    /// Whether batch `batch` is this node's.
    pub fn owns(&self, batch: u64) -> bool {
        self.rank(batch) == 0
    }

    /// This node's place in the takeover order of `batch`: 0 for the owner, `d` for the node
    /// `d` places after it (`(owner + d) % nodes`), which takes over after `d` delays.
    pub fn rank(&self, batch: u64) -> u64 {
        (self.index + self.nodes - batch % self.nodes) % self.nodes
    }

    /// This node's index.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// Number of nodes.
    pub fn nodes(&self) -> u64 {
        self.nodes
    }
}

/// Everything a [`super::ProverNode`] needs.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// L1 JSON-RPC URL.
    pub l1_rpc: String,
    /// Sequencer JSON-RPC URL.
    pub sequencer_rpc: String,
    /// The L1 contracts.
    pub deployment: Deployment,
    /// The submitting L1 account.
    pub key: PrivateKeySigner,
    /// The chain's genesis preset.
    pub genesis: GenesisConfig,
    /// Which batches this node proves.
    pub share: Share,
    /// L1 poll interval.
    pub poll: Duration,
    /// Where to serve Prometheus metrics, if anywhere.
    pub metrics: Option<SocketAddr>,
    /// Takeover delay ([`Share::rank`] delays after a batch is first seen unproven); `None`:
    /// never prove another node's batches.
    pub takeover: Option<Duration>,
}

impl NodeConfig {
    /// Resolves the flags: reads the deployment and the preset, parses the key.
    pub fn resolve(args: RunArgs) -> Result<Self> {
        let deployment =
            Deployment::load(&args.deployment).map_err(|e| NodeError::Config(e.to_string()))?;
        let preset = args.preset.unwrap_or_else(|| deployment.preset.clone());
        let genesis = load_preset(&preset)?;
        let key: PrivateKeySigner =
            args.key.trim().parse().map_err(|e| NodeError::Config(format!("--key: {e}")))?;
        if args.poll_ms < 10 {
            return Err(NodeError::Config("--poll-ms must be at least 10".into()));
        }
        let cfg = Self {
            l1_rpc: args.l1_rpc,
            sequencer_rpc: args.sequencer_rpc,
            deployment,
            key,
            genesis,
            share: Share::new(args.node_index, args.nodes)?,
            poll: Duration::from_millis(args.poll_ms),
            metrics: (args.metrics_port != 0)
                .then(|| SocketAddr::new(args.metrics_host, args.metrics_port)),
            takeover: (args.takeover_secs != 0).then(|| Duration::from_secs(args.takeover_secs)),
        };
        cfg.check()?;
        Ok(cfg)
    }

    /// Refuses a preset that does not belong to the deployment or whose tree the AIR cannot prove.
    pub fn check(&self) -> Result<()> {
        let chain = &self.genesis.chain;
        if chain.chain_id != self.deployment.l2_chain_id {
            return Err(NodeError::Config(format!(
                "preset {} is L2 chain {}, the deployment is for {}",
                self.genesis.name, chain.chain_id, self.deployment.l2_chain_id
            )));
        }
        if crate::air::BatchAir::new(chain.tree_depth).is_none() {
            return Err(NodeError::Config(format!(
                "the AIR does not support state-tree depth {}",
                chain.tree_depth
            )));
        }
        Ok(())
    }
}

/// A preset by name, or from a TOML file when the name ends in `.toml`.
fn load_preset(preset: &str) -> Result<GenesisConfig> {
    let parsed = if preset.ends_with(".toml") {
        let text = std::fs::read_to_string(preset)
            .map_err(|e| NodeError::Config(format!("{preset}: {e}")))?;
        GenesisConfig::from_toml(&text)
    } else {
        GenesisConfig::preset(preset)
    };
    parsed.map_err(|e| NodeError::Config(format!("preset {preset}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_partition_the_batches() {
        let shares: Vec<Share> = (0..3).map(|i| Share::new(i, 3).unwrap()).collect();
        for batch in 1..50 {
            assert_eq!(shares.iter().filter(|s| s.owns(batch)).count(), 1);
        }
        assert!(Share::new(2, 2).is_err());
        assert!(Share::new(0, 0).is_err());
        assert!(Share::new(0, 1).unwrap().owns(7));
        // Takeover order of batch 7 among 3 nodes: owner 1, then 2, then 0.
        let ranks: Vec<u64> = shares.iter().map(|s| s.rank(7)).collect();
        assert_eq!(ranks, [2, 0, 1]);
        for batch in 1..50 {
            let mut ranks: Vec<u64> = shares.iter().map(|s| s.rank(batch)).collect();
            ranks.sort_unstable();
            assert_eq!(ranks, [0, 1, 2], "batch {batch}: one owner, then one node per delay");
        }
    }
}
