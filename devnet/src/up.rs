//! `ctm-devnet up`: the rollup on one machine. Anvil as L1 (instant mining), the contracts and
//! the batch STARK verifier deployed by `l1-contracts/script/Deploy.s.sol`, the sequencer
//! linked to them (deposits in, batches out) and a prover node that proves every batch and
//! finalizes it, so deposits, withdrawals and fee burns complete with nothing else running.
//!
//! Keys are anvil's funded accounts: 0 deploys and holds the CTM supply, 1 is the sequencer,
//! 2 the prover. Each service logs to a file in the data directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use alloy::primitives::{Address, B256};
use alloy::signers::local::PrivateKeySigner;

use crate::procs::{self, ProcError, Service};

/// Anvil's first four funded keys: 0 deployer (holds the CTM supply), 1 sequencer, 2 and 3
/// provers.
pub const KEYS: [&str; 4] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
];

/// How to run the devnet.
#[derive(Clone, Debug)]
pub struct UpConfig {
    /// The repository (tools/, l1-contracts/).
    pub root: PathBuf,
    /// Anvil's port.
    pub l1_port: u16,
    /// The sequencer's JSON-RPC port.
    pub l2_port: u16,
    /// Logs and the services' data.
    pub datadir: PathBuf,
    /// L2 block interval.
    pub block_time_ms: u64,
    /// How often the sequencer commits a batch of new blocks.
    pub batch_interval_ms: u64,
    /// Whether to run the prover node.
    pub prover: bool,
}

/// The running devnet; every process is stopped, and the deployment file removed, when it is
/// dropped.
#[derive(Debug)]
pub struct Devnet {
    /// The deployment JSON.
    pub deployment: PathBuf,
    /// The services, in start order: anvil, sequencer, prover.
    pub services: Vec<Service>,
}

impl Drop for Devnet {
    /// The deployment file describes an L1 that stops with the devnet: it goes too.
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.deployment);
    }
}

impl Devnet {
    /// The first service that exited, with its status.
    pub fn exited(&mut self) -> Option<(&'static str, std::process::ExitStatus)> {
        self.services.iter_mut().find_map(|s| Some((s.name, s.exited()?)))
    }
}

/// The address of anvil key `i`.
pub fn address(i: usize) -> Address {
    KEYS[i].parse::<PrivateKeySigner>().map(|k| k.address()).unwrap_or_default()
}

/// Starts anvil, deploys, starts the sequencer and the prover; `say` gets a line per step.
/// The data directory must be new or empty: anvil starts a fresh L1 every time, and an old L2
/// database would not match it.
pub async fn up(cfg: &UpConfig, say: impl Fn(&str)) -> Result<Devnet, ProcError> {
    let dir = cfg.datadir.display().to_string();
    if std::fs::read_dir(&cfg.datadir).is_ok_and(|mut d| d.next().is_some()) {
        return Err(ProcError::DataDir(format!(
            "{dir} is not empty (anvil starts a fresh L1 each time): remove it or pick another"
        )));
    }
    std::fs::create_dir_all(&cfg.datadir).map_err(|e| ProcError::DataDir(format!("{dir}: {e}")))?;
    let l1_url = format!("http://127.0.0.1:{}", cfg.l1_port);
    let l2_url = format!("http://127.0.0.1:{}", cfg.l2_port);
    let mut services = Vec::new();

    say(&format!("starting anvil on {l1_url}"));
    let anvil = procs::anvil_command(&cfg.root)?;
    let mut anvil_cmd = Command::new(anvil);
    anvil_cmd.args(["--port", &cfg.l1_port.to_string()]);
    services.push(procs::spawn("anvil", anvil_cmd, &l1_url, &cfg.datadir).await?);

    say("deploying the contracts and the batch verifier (forge script)");
    let genesis = ctm_core::GenesisConfig::preset("computronium")
        .map_err(|e| ProcError::Deploy(format!("preset: {e}")))?;
    let depth = genesis.chain.tree_depth;
    let root_hash = ctm_core::tree::empty_digests(depth)[usize::from(depth)].to_bytes32();
    let rel = format!("deployments/devnet-{}.json", cfg.l1_port);
    let deployment = deploy(&cfg.root, &l1_url, address(1), root_hash, &rel)?;

    say(&format!("starting the sequencer on {l2_url}"));
    let mut seq = Command::new(procs::bin("sequencer", "ctm-sequencer")?);
    seq.args(["--port", &cfg.l2_port.to_string(), "--datadir"])
        .arg(cfg.datadir.join("l2"))
        .args(["--l1-rpc", &l1_url, "--deployment"])
        .arg(&deployment)
        .args(["--sequencer-key", KEYS[1], "--l1-confirmations", "0", "--l1-poll-ms", "500"])
        .args(["--block-time-ms", &cfg.block_time_ms.to_string()])
        .args(["--batch-interval-ms", &cfg.batch_interval_ms.to_string()]);
    services.push(procs::spawn("sequencer", seq, &l2_url, &cfg.datadir).await?);

    if cfg.prover {
        say("starting the prover node (proves and finalizes every batch)");
        let mut prover = Command::new(procs::bin("prover-node", "ctm-prover")?);
        prover
            .args(["run", "--l1-rpc", &l1_url, "--sequencer-rpc", &l2_url, "--deployment"])
            .arg(&deployment)
            .args(["--key", KEYS[2], "--finalize", "--poll-ms", "500", "--datadir"])
            .arg(cfg.datadir.join("prover"));
        services.push(procs::spawn_unready("prover", prover, "", &cfg.datadir)?);
    }
    Ok(Devnet { deployment, services })
}

/// Deploys the computronium preset with the forge script (the batch STARK verifier included)
/// against `l1_url`, with `sequencer` and the L2 `genesis` root; writes the deployment JSON to
/// `rel` (inside `l1-contracts/`) and returns its path.
pub fn deploy(
    root: &Path,
    l1_url: &str,
    sequencer: Address,
    genesis: B256,
    rel: &str,
) -> Result<PathBuf, ProcError> {
    let out = Command::new(root.join("tools/forge"))
        .current_dir(root.join("l1-contracts"))
        // `--slow`: one transaction at a time, each after the previous receipt. Sent in batches,
        // a transaction can be left in anvil's pool unmined and forge waits for its receipt
        // forever (seen under load with the 2-core CI machine's parallel tests).
        .args(["script", "script/Deploy.s.sol", "--rpc-url", l1_url, "--broadcast", "--slow"])
        .env("PRESET", "computronium")
        .env("SEQUENCER", sequencer.to_string())
        .env("GENESIS_STATE_ROOT", genesis.to_string())
        .env("DEPLOYMENT_JSON", rel)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| ProcError::Spawn("forge", e))?;
    if !out.status.success() {
        let tail = |b: &[u8]| {
            let s = String::from_utf8_lossy(b);
            s.lines()
                .rev()
                .take(20)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n")
        };
        return Err(ProcError::Deploy(format!("{}\n{}", tail(&out.stdout), tail(&out.stderr))));
    }
    Ok(root.join("l1-contracts").join(rel))
}
