//! Child processes: anvil, the sequencer and the prover node, started and stopped cleanly.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Errors starting or talking to a process.
#[derive(Debug, thiserror::Error)]
pub enum ProcError {
    /// The executable is missing.
    #[error("{0} not found: {1}")]
    Missing(&'static str, String),
    /// Spawning failed.
    #[error("starting {0}: {1}")]
    Spawn(&'static str, std::io::Error),
    /// It never answered JSON-RPC.
    #[error("{0} did not answer JSON-RPC on {1} within 60 s")]
    NotReady(&'static str, String),
    /// It exited while starting.
    #[error("{0} exited while starting ({1}); see {2}")]
    Exited(&'static str, std::process::ExitStatus, String),
    /// The data directory cannot be used.
    #[error("--datadir: {0}")]
    DataDir(String),
    /// Deploying the contracts failed.
    #[error("deploying the contracts failed:\n{0}")]
    Deploy(String),
}

/// A child killed on drop.
#[derive(Debug)]
pub struct Service {
    /// Name for messages.
    pub name: &'static str,
    /// JSON-RPC URL.
    pub url: String,
    child: Child,
}

impl Service {
    /// Its exit status, once it has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The repository root: the nearest ancestor of the current directory with `tools/anvil`.
pub fn repo_root() -> Option<PathBuf> {
    let mut dir = std::env::current_dir().ok()?;
    loop {
        if dir.join("tools/anvil").exists() {
            return Some(dir);
        }
        if !dir.pop() {
            return None;
        }
    }
}

/// Binary `name` of package `package`, next to this executable.
pub fn bin(name: &'static str, package: &str) -> Result<PathBuf, ProcError> {
    let exe = std::env::current_exe().map_err(|e| ProcError::Missing(name, e.to_string()))?;
    let p = exe.with_file_name(name);
    if p.exists() {
        Ok(p)
    } else {
        Err(ProcError::Missing(
            name,
            format!("{} (build it: cargo build --release -p {package})", p.display()),
        ))
    }
}

/// The pinned anvil wrapper (`tools/anvil`), if `npm ci` installed anvil.
pub fn anvil_command(root: &Path) -> Result<PathBuf, ProcError> {
    if !root.join("node_modules/.bin/anvil").exists() {
        return Err(ProcError::Missing("anvil", "run scripts/setup (npm ci)".into()));
    }
    Ok(root.join("tools/anvil"))
}

/// Starts `cmd` with its output in `logdir/<name>.log` and waits until it answers JSON-RPC on
/// `url`.
pub async fn spawn(
    name: &'static str,
    cmd: Command,
    url: &str,
    logdir: &Path,
) -> Result<Service, ProcError> {
    let mut svc = spawn_unready(name, cmd, url, logdir)?;
    let log = logdir.join(format!("{name}.log")).display().to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(status) = svc.exited() {
            return Err(ProcError::Exited(name, status, log));
        }
        if answers(url).await {
            return Ok(svc);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(ProcError::NotReady(name, url.to_string()))
}

/// Starts `cmd` with its output in `logdir/<name>.log`, without waiting for it.
pub fn spawn_unready(
    name: &'static str,
    mut cmd: Command,
    url: &str,
    logdir: &Path,
) -> Result<Service, ProcError> {
    let path = logdir.join(format!("{name}.log"));
    let log = std::fs::File::create(&path).map_err(|e| ProcError::Spawn(name, e))?;
    let err = log.try_clone().map_err(|e| ProcError::Spawn(name, e))?;
    // Its own process group: a Ctrl-C in the terminal reaches only the devnet, which then stops
    // its services itself (so no service's exit is mistaken for a failure).
    let child = std::os::unix::process::CommandExt::process_group(&mut cmd, 0)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err)
        .spawn()
        .map_err(|e| ProcError::Spawn(name, e))?;
    Ok(Service { name, url: url.to_string(), child })
}

/// The `sequencer` binary next to this executable.
pub fn sequencer_bin() -> Result<PathBuf, ProcError> {
    bin("sequencer", "ctm-sequencer")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_or(0, |a| a.port())
}

/// Whether `url` answers `eth_chainId`.
async fn answers(url: &str) -> bool {
    let body = serde_json::json!({"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]});
    let client = alloy::transports::http::reqwest::Client::new();
    matches!(client.post(url).json(&body).send().await, Ok(r) if r.status().is_success())
}

async fn wait_ready(name: &'static str, url: &str) -> Result<(), ProcError> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if answers(url).await {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(ProcError::NotReady(name, url.to_string()))
}

/// Starts `sequencer --dev` with the given block time and a fresh data directory.
pub async fn start_sequencer(block_time_ms: u64, extra: &[&str]) -> Result<Service, ProcError> {
    let port = free_port();
    let mut cmd = Command::new(sequencer_bin()?);
    cmd.args([
        "--dev",
        "--port",
        &port.to_string(),
        "--block-time-ms",
        &block_time_ms.to_string(),
        "--log",
        "warn",
    ])
    .args(extra)
    .stdout(Stdio::null())
    .stderr(Stdio::inherit());
    let child = cmd.spawn().map_err(|e| ProcError::Spawn("sequencer", e))?;
    let svc = Service { name: "sequencer", url: format!("http://127.0.0.1:{port}"), child };
    wait_ready("sequencer", &svc.url).await?;
    Ok(svc)
}

/// Starts anvil with interval mining.
pub async fn start_anvil(
    root: &Path,
    block_time_ms: u64,
    gas_limit: u64,
) -> Result<Service, ProcError> {
    let anvil = anvil_command(root)?;
    let port = free_port();
    let child = Command::new(anvil)
        .args([
            "--port",
            &port.to_string(),
            "--block-time",
            &format!("{}", block_time_ms as f64 / 1000.0),
            "--gas-limit",
            &gas_limit.to_string(),
            "--silent",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| ProcError::Spawn("anvil", e))?;
    let svc = Service { name: "anvil", url: format!("http://127.0.0.1:{port}"), child };
    wait_ready("anvil", &svc.url).await?;
    Ok(svc)
}
