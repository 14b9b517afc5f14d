//! Child processes: the sequencer and anvil, started and stopped cleanly.

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

/// The `sequencer` binary next to this executable.
pub fn sequencer_bin() -> Result<PathBuf, ProcError> {
    let exe =
        std::env::current_exe().map_err(|e| ProcError::Missing("sequencer", e.to_string()))?;
    let p = exe.with_file_name("sequencer");
    if p.exists() {
        Ok(p)
    } else {
        Err(ProcError::Missing(
            "sequencer",
            format!("{} (build it: cargo build --release -p ctm-sequencer)", p.display()),
        ))
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_or(0, |a| a.port())
}

async fn wait_ready(name: &'static str, url: &str) -> Result<(), ProcError> {
    let client = alloy::transports::http::reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let body = serde_json::json!({"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]});
    while Instant::now() < deadline {
        if let Ok(r) = client.post(url).json(&body).send().await
            && r.status().is_success()
        {
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
    let anvil = root.join("tools/anvil");
    if !root.join("node_modules/.bin/anvil").exists() {
        return Err(ProcError::Missing("anvil", "run scripts/setup (npm ci)".into()));
    }
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
