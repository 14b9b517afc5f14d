//! `ctm-devnet`: `bench` runs the load generator against the sequencer and anvil.

use std::time::Duration;

use clap::{Parser, Subcommand};
use ctm_devnet::bench::{self, LoadConfig, PhaseReport};
use ctm_devnet::{procs, up};

#[derive(Parser)]
#[command(name = "ctm-devnet", version, about = "Run and measure Computronium locally")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the rollup locally: anvil (L1) with the contracts and the batch verifier, the
    /// sequencer linked to them and a prover node that proves and finalizes every batch. Runs
    /// until Ctrl-C or SIGTERM; logs go to the data directory.
    Up {
        /// Anvil's JSON-RPC port (L1, chain id 31337).
        #[arg(long, default_value_t = 8545)]
        l1_port: u16,
        /// The sequencer's JSON-RPC port (L2, HTTP and WebSocket).
        #[arg(long, default_value_t = 8547)]
        l2_port: u16,
        /// Directory for the logs, the L2 database and the prover's snapshots; must be new or
        /// empty, as each run starts a fresh L1 [default: a new temporary directory].
        #[arg(long)]
        datadir: Option<std::path::PathBuf>,
        /// L2 block interval in milliseconds.
        #[arg(long, default_value_t = 250)]
        block_time_ms: u64,
        /// How often the sequencer commits new blocks to L1 as a batch, in milliseconds.
        #[arg(long, default_value_t = 2_000)]
        batch_interval_ms: u64,
        /// Do not run the prover node (batches are committed but never proven or finalized).
        #[arg(long)]
        no_prover: bool,
    },
    /// Load-test the sequencer and anvil with the same transfer load and print the ratio.
    Bench {
        /// Transfers in the throughput phase.
        #[arg(long, default_value_t = 60_000)]
        txs: usize,
        /// Distinct senders.
        #[arg(long, default_value_t = 500)]
        senders: usize,
        /// Concurrent connections.
        #[arg(long, default_value_t = 4)]
        workers: usize,
        /// Transactions per JSON-RPC batch request.
        #[arg(long, default_value_t = 200)]
        batch: usize,
        /// Transactions in the fixed-rate latency phase (0 skips it).
        #[arg(long, default_value_t = 10_000)]
        latency_txs: usize,
        /// Rate of the latency phase in tx/s.
        #[arg(long, default_value_t = 5_000)]
        rate: u64,
        /// Block interval for both nodes, in milliseconds.
        #[arg(long, default_value_t = 250)]
        block_time_ms: u64,
        /// Block gas limit for both nodes.
        #[arg(long, default_value_t = 100_000_000)]
        gas_limit: u64,
        /// Which targets: sequencer, anvil, or both.
        #[arg(long, default_value = "both")]
        target: String,
        /// Seconds to wait for inclusion per phase.
        #[arg(long, default_value_t = 120)]
        timeout_secs: u64,
    },
}

fn print(name: &str, phase: &str, r: &PhaseReport) {
    println!(
        "{name:<10} {phase:<11} sent {:>7} included {:>7} rejected {:>5}  {:>9.0} tx/s  p50 {:>7.1} ms  p99 {:>7.1} ms  ({:.2} s)",
        r.sent,
        r.included,
        r.rejected,
        r.tps,
        r.p50.as_secs_f64() * 1e3,
        r.p99.as_secs_f64() * 1e3,
        r.elapsed.as_secs_f64()
    );
    if let Some(e) = &r.first_error {
        println!("{:<10} first rejection: {e}", "");
    }
}

#[tokio::main]
async fn main() -> eyre::Result<()> {
    match Cli::parse().cmd {
        Cmd::Up { l1_port, l2_port, datadir, block_time_ms, batch_interval_ms, no_prover } => {
            let root = procs::repo_root()
                .ok_or_else(|| eyre::eyre!("run from the repository (tools/anvil not found)"))?;
            let datadir = datadir.unwrap_or_else(|| {
                std::env::temp_dir().join(format!("ctm-devnet-{}", std::process::id()))
            });
            let cfg = up::UpConfig {
                root,
                l1_port,
                l2_port,
                datadir,
                block_time_ms,
                batch_interval_ms,
                prover: !no_prover,
            };
            run_devnet(&cfg).await?;
        }
        Cmd::Bench {
            txs,
            senders,
            workers,
            batch,
            latency_txs,
            rate,
            block_time_ms,
            gas_limit,
            target,
            timeout_secs,
        } => {
            let cfg = LoadConfig {
                txs,
                senders,
                workers,
                batch,
                latency_txs,
                rate,
                timeout: Duration::from_secs(timeout_secs),
            };
            println!(
                "load: {txs} transfers from {senders} senders, {workers} connections x {batch}-tx batches; latency phase {latency_txs} at {rate} tx/s; blocks {block_time_ms} ms, gas limit {gas_limit}"
            );
            let mut results = Vec::new();
            if target == "both" || target == "sequencer" {
                let svc = procs::start_sequencer(
                    block_time_ms,
                    &["--block-gas-limit", &gas_limit.to_string()],
                )
                .await?;
                let r = bench::run(&svc.url, &cfg).await?;
                print("sequencer", "throughput", &r.0);
                if let Some(l) = &r.1 {
                    print("sequencer", "latency", l);
                }
                results.push(("sequencer", r));
            }
            if target == "both" || target == "anvil" {
                let root = procs::repo_root().ok_or_else(|| {
                    eyre::eyre!("run from the repository (tools/anvil not found)")
                })?;
                let svc = procs::start_anvil(&root, block_time_ms, gas_limit).await?;
                let r = bench::run(&svc.url, &cfg).await?;
                print("anvil", "throughput", &r.0);
                if let Some(l) = &r.1 {
                    print("anvil", "latency", l);
                }
                results.push(("anvil", r));
            }
            if let [(_, s), (_, a)] = results.as_slice() {
                println!("ratio sequencer/anvil: throughput {:.1}x", s.0.tps / a.0.tps.max(1e-9));
            }
        }
    }
    Ok(())
}

/// Starts the devnet, prints how to reach it, and runs until a signal or a service exits.
async fn run_devnet(cfg: &up::UpConfig) -> eyre::Result<()> {
    let mut net = up::up(cfg, |line| println!("· {line}")).await?;
    let dep: serde_json::Value = serde_json::from_slice(&std::fs::read(&net.deployment)?)?;
    let field = |k: &str| dep[k].as_str().unwrap_or("?").to_string();
    println!();
    println!("Computronium devnet is up.");
    println!("  L1 (anvil)   http://127.0.0.1:{}  chain id 31337", cfg.l1_port);
    println!("  L2 (rollup)  http://127.0.0.1:{}  and ws://127.0.0.1:{}", cfg.l2_port, cfg.l2_port);
    println!("  deployment   {}", net.deployment.display());
    println!("  token {}  bridge {}  rollup {}", field("token"), field("bridge"), field("rollup"));
    println!("  logs         {}", cfg.datadir.display());
    println!("  L1 account 0 {} holds the CTM supply (key {})", up::address(0), up::KEYS[0]);
    println!();
    println!("Deposit 10 CTM to L2 (the L2 starts empty; deposits fund it):");
    println!(
        "  tools/cast send {} 'approve(address,uint256)' {} 10ether --private-key {} --rpc-url http://127.0.0.1:{}",
        field("token"),
        field("bridge"),
        up::KEYS[0],
        cfg.l1_port
    );
    println!(
        "  tools/cast send {} 'deposit(address,uint256)' {} 10ether --private-key {} --rpc-url http://127.0.0.1:{}",
        field("bridge"),
        up::address(0),
        up::KEYS[0],
        cfg.l1_port
    );
    println!("Ctrl-C stops every service.");
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
            _ = tokio::time::sleep(Duration::from_millis(500)) => {
                if let Some((name, status)) = net.exited() {
                    eyre::bail!("{name} exited ({status}); see {}/{name}.log", cfg.datadir.display());
                }
            }
        }
    }
    println!("stopping");
    Ok(())
}
