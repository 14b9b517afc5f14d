//! `ctm-devnet`: `bench` runs the load generator against the sequencer and anvil.

use std::time::Duration;

use clap::{Parser, Subcommand};
use ctm_devnet::bench::{self, LoadConfig, PhaseReport};
use ctm_devnet::procs;

#[derive(Parser)]
#[command(name = "ctm-devnet", version, about = "Run and measure Computronium locally")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
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
