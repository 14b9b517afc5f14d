//! `prover-node run` flags (each also a `CTM_PROVER_*` environment variable) and the resolved
//! node configuration.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use alloy::signers::local::PrivateKeySigner;
use ctm_core::GenesisConfig;
use ctm_sequencer::l1::Deployment;

use super::error::{NodeError, Result};

/// Flags of `prover-node run`. Every flag also reads a `CTM_PROVER_*` environment variable and
/// a key of the `--config` TOML file (the long flag name with underscores, e.g.
/// `l1_rpc = "http://…"`): a flag wins over the environment, which wins over the file.
#[derive(Clone, Debug, Default, clap::Args, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunArgs {
    /// TOML file with any of these settings (keys: the long flag names with underscores).
    #[arg(long, env = "CTM_PROVER_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// L1 JSON-RPC URL (HTTP) where the Rollup lives. Required.
    #[arg(long, env = "CTM_PROVER_L1_RPC")]
    pub l1_rpc: Option<String>,
    /// Sequencer JSON-RPC URL (HTTP): serves `ctm_getBatchWitness`. Required.
    #[arg(long, env = "CTM_PROVER_SEQUENCER_RPC")]
    pub sequencer_rpc: Option<String>,
    /// Deployment JSON written by `l1-contracts/script/Deploy.s.sol`. Required.
    #[arg(long, env = "CTM_PROVER_DEPLOYMENT")]
    pub deployment: Option<PathBuf>,
    /// Hex private key of the L1 account that submits proofs (and earns the rewards). Required.
    #[arg(long, env = "CTM_PROVER_KEY", hide_env_values = true)]
    pub key: Option<String>,
    /// Genesis preset (computronium, tspmo, dpin, or a preset TOML path); default: the
    /// deployment's preset.
    #[arg(long, env = "CTM_PROVER_PRESET")]
    pub preset: Option<String>,
    /// This node's index among `--nodes` cooperating nodes: it proves batch `i` iff
    /// `i % nodes == node_index` [default: 0].
    #[arg(long, env = "CTM_PROVER_NODE_INDEX")]
    pub node_index: Option<u64>,
    /// Number of cooperating prover nodes sharing the batches [default: 1].
    #[arg(long, env = "CTM_PROVER_NODES")]
    pub nodes: Option<u64>,
    /// Takeover delay in seconds: a batch of another node still unproven this long after this
    /// node first saw it is proven by its first backup (`(owner + 1) % nodes`), after twice as
    /// long by the second, and so on, so a dead node does not stall finality. 0 = never
    /// [default: 600].
    #[arg(long, env = "CTM_PROVER_TAKEOVER_SECS")]
    pub takeover_secs: Option<u64>,
    /// Port of the Prometheus `/metrics` endpoint (0 = no exporter) [default: 0].
    #[arg(long, env = "CTM_PROVER_METRICS_PORT")]
    pub metrics_port: Option<u16>,
    /// Address the metrics endpoint binds to [default: 127.0.0.1].
    #[arg(long, env = "CTM_PROVER_METRICS_HOST")]
    pub metrics_host: Option<IpAddr>,
    /// How often to poll L1 for committed batches, in milliseconds (≥ 10) [default: 2000].
    #[arg(long, env = "CTM_PROVER_POLL_MS")]
    pub poll_ms: Option<u64>,
    /// Data directory for replica snapshots, so a restart resumes from the last snapshot
    /// instead of replaying from genesis [default: none, always replay].
    #[arg(long, env = "CTM_PROVER_DATADIR")]
    pub datadir: Option<PathBuf>,
    /// Snapshot a replica after every N-th batch it applies (with --datadir) [default: 16].
    #[arg(long, env = "CTM_PROVER_SNAPSHOT_EVERY")]
    pub snapshot_every: Option<u64>,
    /// Also finalize proven batches on L1, in order (`finalizeBatch`, open to anyone), so
    /// deposits are credited, fees burned and withdrawals claimable without anyone else calling
    /// it; this account pays the gas. With several nodes, one finalizing node is enough; where
    /// two race, the loser's call fails at gas estimation [default: false].
    #[arg(long, env = "CTM_PROVER_FINALIZE", num_args = 0..=1, default_missing_value = "true")]
    pub finalize: Option<bool>,
}

impl RunArgs {
    /// These settings over `file`'s: each one that is set here wins.
    pub fn over(self, file: RunArgs) -> RunArgs {
        RunArgs {
            config: self.config,
            l1_rpc: self.l1_rpc.or(file.l1_rpc),
            sequencer_rpc: self.sequencer_rpc.or(file.sequencer_rpc),
            deployment: self.deployment.or(file.deployment),
            key: self.key.or(file.key),
            preset: self.preset.or(file.preset),
            node_index: self.node_index.or(file.node_index),
            nodes: self.nodes.or(file.nodes),
            takeover_secs: self.takeover_secs.or(file.takeover_secs),
            metrics_port: self.metrics_port.or(file.metrics_port),
            metrics_host: self.metrics_host.or(file.metrics_host),
            poll_ms: self.poll_ms.or(file.poll_ms),
            datadir: self.datadir.or(file.datadir),
            snapshot_every: self.snapshot_every.or(file.snapshot_every),
            finalize: self.finalize.or(file.finalize),
        }
    }

    /// Flags and environment over the `--config` file, if one is given.
    pub fn with_file(self) -> Result<RunArgs> {
        let Some(path) = &self.config else { return Ok(self) };
        let text = std::fs::read_to_string(path)
            .map_err(|e| NodeError::Config(format!("{}: {e}", path.display())))?;
        let file: RunArgs = toml::from_str(&text)
            .map_err(|e| NodeError::Config(format!("{}: {e}", path.display())))?;
        Ok(self.over(file))
    }
}

/// A required setting that neither a flag, the environment nor the file gave.
fn required<T>(v: Option<T>, flag: &str, env: &str) -> Result<T> {
    v.ok_or_else(|| {
        NodeError::Config(format!(
            "--{flag} is required (or {env}, or `{}` in the --config file)",
            flag.replace('-', "_")
        ))
    })
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
    /// Replica snapshots: the directory and every how many batches; `None`: none.
    pub snapshots: Option<(PathBuf, u64)>,
    /// Whether the node also finalizes proven batches on L1.
    pub finalize: bool,
}

impl NodeConfig {
    /// Resolves the flags (over the environment over the `--config` file): reads the
    /// deployment and the preset, parses the key.
    pub fn resolve(args: RunArgs) -> Result<Self> {
        let args = args.with_file()?;
        let l1_rpc = required(args.l1_rpc, "l1-rpc", "CTM_PROVER_L1_RPC")?;
        let sequencer_rpc =
            required(args.sequencer_rpc, "sequencer-rpc", "CTM_PROVER_SEQUENCER_RPC")?;
        let deployment_path = required(args.deployment, "deployment", "CTM_PROVER_DEPLOYMENT")?;
        let key = required(args.key, "key", "CTM_PROVER_KEY")?;
        let deployment =
            Deployment::load(&deployment_path).map_err(|e| NodeError::Config(e.to_string()))?;
        let preset = args.preset.unwrap_or_else(|| deployment.preset.clone());
        let genesis = load_preset(&preset)?;
        let key: PrivateKeySigner =
            key.trim().parse().map_err(|e| NodeError::Config(format!("--key: {e}")))?;
        let poll_ms = args.poll_ms.unwrap_or(2_000);
        if poll_ms < 10 {
            return Err(NodeError::Config("--poll-ms must be at least 10".into()));
        }
        let metrics_port = args.metrics_port.unwrap_or(0);
        let metrics_host = args.metrics_host.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let takeover_secs = args.takeover_secs.unwrap_or(600);
        let snapshot_every = args.snapshot_every.unwrap_or(16);
        if snapshot_every == 0 {
            return Err(NodeError::Config("--snapshot-every must be at least 1".into()));
        }
        let cfg = Self {
            l1_rpc,
            sequencer_rpc,
            deployment,
            key,
            genesis,
            share: Share::new(args.node_index.unwrap_or(0), args.nodes.unwrap_or(1))?,
            poll: Duration::from_millis(poll_ms),
            metrics: (metrics_port != 0).then(|| SocketAddr::new(metrics_host, metrics_port)),
            takeover: (takeover_secs != 0).then(|| Duration::from_secs(takeover_secs)),
            snapshots: args.datadir.map(|d| (d, snapshot_every)),
            finalize: args.finalize.unwrap_or(false),
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
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        run: RunArgs,
    }

    fn parse(flags: &[&str]) -> RunArgs {
        Cli::try_parse_from(std::iter::once("prover-node").chain(flags.iter().copied()))
            .unwrap()
            .run
    }

    #[test]
    fn flags_win_over_the_config_file() {
        let path = std::env::temp_dir().join(format!("ctm-prover-{}.toml", std::process::id()));
        std::fs::write(
            &path,
            "l1_rpc = \"http://file:8545\"\nnodes = 3\nnode_index = 2\ntakeover_secs = 30\n",
        )
        .unwrap();
        let p = path.display().to_string();
        let args = parse(&["--config", &p, "--node-index", "1", "--poll-ms", "50", "--finalize"]);
        let merged = args.with_file().unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(merged.l1_rpc.as_deref(), Some("http://file:8545"));
        assert_eq!(merged.nodes, Some(3));
        assert_eq!(merged.node_index, Some(1), "the flag wins");
        assert_eq!(merged.takeover_secs, Some(30));
        assert_eq!(merged.poll_ms, Some(50));
        assert_eq!(merged.finalize, Some(true), "a bare --finalize turns it on");
        assert_eq!(merged.sequencer_rpc, None);
        assert_eq!(parse(&["--finalize", "false"]).finalize, Some(false));
        assert_eq!(parse(&[]).finalize, None);
    }

    #[test]
    fn bad_config_files_and_missing_settings_are_named() {
        let path = std::env::temp_dir().join(format!("ctm-prover-bad-{}.toml", std::process::id()));
        std::fs::write(&path, "l1_rpc = \"http://x\"\nnode_idx = 1\n").unwrap();
        let p = path.display().to_string();
        let err = parse(&["--config", &p]).with_file().unwrap_err().to_string();
        std::fs::remove_file(&path).unwrap();
        assert!(err.contains("node_idx"), "{err}");
        let err = parse(&["--config", "/nonexistent/ctm.toml"]).with_file().unwrap_err();
        assert!(err.to_string().contains("/nonexistent/ctm.toml"), "{err}");
        let err = NodeConfig::resolve(parse(&["--l1-rpc", "http://x"])).unwrap_err().to_string();
        assert!(
            err.contains("--sequencer-rpc") && err.contains("CTM_PROVER_SEQUENCER_RPC"),
            "{err}"
        );
    }

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
