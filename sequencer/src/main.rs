//! `sequencer`: runs a Computronium sequencer. `sequencer --dev` starts a self-contained dev chain.

use clap::Parser;
use ctm_sequencer::config::{Cli, SequencerConfig};
use ctm_sequencer::service;
use eyre::WrapErr;

#[tokio::main]
async fn main() -> eyre::Result<()> {
    let cli = Cli::parse();
    let cfg = SequencerConfig::resolve(cli)?;
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&cfg.log).wrap_err("--log")?)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    if let Some(addr) = cfg.metrics {
        metrics_exporter_prometheus::PrometheusBuilder::new()
            .with_http_listener(addr)
            .install()
            .wrap_err("starting the metrics exporter")?;
    }
    let running = service::start(cfg.clone()).await?;
    print_banner(&cfg, &running);
    wait_for_signal().await;
    tracing::info!("shutting down");
    running.stop().await;
    Ok(())
}

fn print_banner(cfg: &SequencerConfig, r: &service::Running) {
    let unit = cfg.genesis.token.unit();
    let mode = if cfg.dev { "dev chain" } else { "L1-settled chain" };
    println!("Computronium sequencer ({mode}, preset {})", cfg.genesis.name);
    if let Some(l1) = &cfg.l1 {
        println!(
            "L1:              {} (rollup {}, bridge {})",
            l1.rpc, l1.deployment.rollup, l1.deployment.bridge
        );
    }
    if r.dev_signers.is_empty() {
        print_endpoints(cfg, r, unit);
        return;
    }
    println!();
    println!("Available accounts ({} {} each)", cfg.dev_balance, cfg.genesis.token.symbol);
    println!("==================");
    for (i, s) in r.dev_signers.iter().enumerate() {
        println!("({i}) {}", s.address());
    }
    println!();
    println!("Private keys (the public test mnemonic: never use them with real funds)");
    println!("==================");
    for (i, s) in r.dev_signers.iter().enumerate() {
        println!("({i}) 0x{}", hex::encode(s.to_bytes()));
    }
    print_endpoints(cfg, r, unit);
}

fn print_endpoints(cfg: &SequencerConfig, r: &service::Running, unit: u128) {
    println!();
    println!("Chain id:        {}", r.node.chain_id());
    println!("Token:           {} ({} base units per token)", cfg.genesis.token.symbol, unit);
    println!("Block time:      {} ms", cfg.block_time.as_millis());
    println!("Data directory:  {}", r.datadir.display());
    println!("State root:      {}", r.node.state_root());
    if let Some(m) = cfg.metrics {
        println!("Metrics:         http://{m}/metrics");
    }
    println!("Listening on     {} (HTTP) and {} (WebSocket)", r.http_url(), r.ws_url());
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
