//! `prover-node`: proves Computronium batches.
//!
//! - `run`: the prover node ([`ctm_prover::node`]): watches the L1 Rollup for committed but
//!   unproven batches, fetches their ops from the sequencer (`ctm_getBatchWitness`), proves the
//!   batches assigned to it (`i % --nodes == --node-index`) and submits `proveBatch`; Prometheus
//!   metrics on `--metrics-port`. Every flag also reads a `CTM_PROVER_*` environment variable.
//! - `prove` / `verify` / `example-witness` / `bench`: witness files, proofs and benchmarks.
//!
//! This file only parses the command line, draws the progress display and calls the library.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use ctm_prover::node::{self, Event, NodeConfig, ProverNode, RunArgs};
use ctm_prover::{
    BatchProof, EvmConfig, FriConfig, PublicInputs, Stage, Witness, bench, evm_config,
};
use eyre::WrapErr;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Parser)]
#[command(
    name = "prover-node",
    version,
    about = "Computronium batch prover (Plonky3, EVM-verifiable keccak configuration)",
    after_help = "Environment: CTM_PROVER_GPU=0 keeps a `--features cuda` build on the CPU (by \
default the LDEs and Merkle leaf hashes run on a CUDA device when one is found); \
CTM_SPAN_TIMES=1 prints the time of each proving phase; RUST_LOG sets the log filter."
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Args, Clone, Copy)]
struct Fri {
    /// log2 of the FRI blowup factor (1 = 2×, 3 = 8×).
    #[arg(long, env = "CTM_PROVER_LOG_BLOWUP", default_value_t = FriConfig::default().log_blowup)]
    log_blowup: usize,
    /// Number of FRI queries.
    #[arg(long, env = "CTM_PROVER_QUERIES", default_value_t = FriConfig::default().num_queries)]
    queries: usize,
    /// Proof-of-work bits before the FRI queries.
    #[arg(long, env = "CTM_PROVER_POW_BITS", default_value_t = FriConfig::default().pow_bits)]
    pow_bits: usize,
    /// log2 of the largest FRI folding arity (1 = fold by 2 per round, up to 4 = by 16).
    #[arg(long, env = "CTM_PROVER_LOG_ARITY", default_value_t = FriConfig::default().log_arity)]
    log_arity: usize,
    /// log2 of the length of FRI's final polynomial (0 = fold down to a constant; up to 6).
    #[arg(
        long,
        env = "CTM_PROVER_LOG_FINAL_POLY_LEN",
        default_value_t = FriConfig::default().log_final_poly_len
    )]
    log_final_poly_len: usize,
}

impl Fri {
    fn config(self) -> FriConfig {
        FriConfig {
            log_blowup: self.log_blowup,
            num_queries: self.queries,
            pow_bits: self.pow_bits,
            log_arity: self.log_arity,
            log_final_poly_len: self.log_final_poly_len,
        }
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the prover node: prove committed batches from L1 and submit the proofs.
    Run(RunArgs),
    /// Prove a witness file (JSON, as written by `example-witness` or the witness library).
    Prove {
        /// Witness JSON file.
        #[arg(long)]
        witness: PathBuf,
        /// Where to write the proof (JSON).
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        fri: Fri,
    },
    /// Verify a proof file.
    Verify {
        /// Proof JSON file.
        #[arg(long)]
        proof: PathBuf,
        /// The L1 public inputs (JSON); without it the proof's own copy is used, which only
        /// checks self-consistency.
        #[arg(long)]
        public: Option<PathBuf>,
        /// State-tree depth the verifier expects.
        #[arg(long, default_value_t = bench::DEPTH)]
        depth: u8,
        #[command(flatten)]
        fri: Fri,
    },
    /// Write the witness of a synthetic transfer batch (for trying `prove`).
    ExampleWitness {
        /// Number of transfers.
        #[arg(long, default_value_t = 64)]
        transfers: usize,
        /// Where to write the witness (JSON).
        #[arg(long)]
        out: PathBuf,
    },
    /// Measure proving time, proof size and verification time for transfer batches.
    Bench {
        /// Batch sizes in transfers, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "64,128,256,512,1024,2048,4096")]
        sizes: Vec<usize>,
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
        /// Make each transfer a full L2 transaction: its sender's `Fee` op (nonce, burn, tip to
        /// the block producer) before it, as the sequencer records a signed transfer.
        #[arg(long)]
        fees: bool,
        /// Accounts the transfers run among (default: as many as transfers, so each account
        /// sends once); fewer make busier accounts.
        #[arg(long)]
        accounts: Option<usize>,
        #[command(flatten)]
        fri: Fri,
    },
}

/// `CTM_SPAN_TIMES=1` prints every tracing span's busy/idle time when it closes (Plonky3's
/// phases: trace commitment, quotient, opening, FRI), for profiling the prover.
fn span_events() -> tracing_subscriber::fmt::format::FmtSpan {
    use tracing_subscriber::fmt::format::FmtSpan;
    match std::env::var("CTM_SPAN_TIMES").as_deref() {
        Ok("1") => FmtSpan::CLOSE,
        _ => FmtSpan::NONE,
    }
}

fn main() -> eyre::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_span_events(span_events())
        .init();
    match Cli::parse().cmd {
        Cmd::Run(args) => run_node(args)?,
        Cmd::Prove { witness, out, fri } => {
            let fri = fri.config();
            let w: Witness =
                serde_json::from_slice(&std::fs::read(&witness).wrap_err("reading the witness")?)
                    .wrap_err("parsing the witness")?;
            println!(
                "conjectured security: {} bits (log_blowup·queries + pow)",
                fri.conjectured_security_bits()
            );
            let bar = ProgressBar::new_spinner().with_style(ProgressStyle::default_spinner());
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            let t = Instant::now();
            let proof = ctm_prover::prove(&evm_config(&fri), &fri, &w, |s| match s {
                Stage::Trace { rows } => bar.set_message(format!("trace: {rows} rows")),
                Stage::Prove => bar.set_message("proving"),
                Stage::Done => bar.finish_with_message("proven"),
            })?;
            let bytes = serde_json::to_vec(&proof)?;
            std::fs::write(&out, &bytes).wrap_err("writing the proof")?;
            println!(
                "proved {} updates in {:.2?}; proof {} bytes (JSON) → {}",
                w.updates.len(),
                t.elapsed(),
                bytes.len(),
                out.display()
            );
        }
        Cmd::Verify { proof, public, depth, fri } => {
            let fri = fri.config();
            let p: BatchProof<EvmConfig> =
                serde_json::from_slice(&std::fs::read(&proof).wrap_err("reading the proof")?)
                    .wrap_err("parsing the proof")?;
            let pi: PublicInputs = match public {
                Some(f) => {
                    serde_json::from_slice(&std::fs::read(f)?).wrap_err("parsing public inputs")?
                }
                None => p.public.clone(),
            };
            let t = Instant::now();
            ctm_prover::verify(&evm_config(&fri), &fri, depth, &pi, &p)?;
            println!(
                "valid ({:.2?}); {} conjectured bits",
                t.elapsed(),
                fri.conjectured_security_bits()
            );
        }
        Cmd::ExampleWitness { transfers, out } => {
            let wl = bench::transfers(transfers, transfers.max(2), 4)?;
            let (w, _) = ctm_prover::build_witness(&wl.tree, &wl.rules, &wl.blocks, &wl.ctx)?;
            std::fs::write(&out, serde_json::to_vec(&w)?)?;
            println!("{} updates → {}", w.updates.len(), out.display());
        }
        Cmd::Bench { sizes, json, fees, accounts, fri } => {
            let fri = fri.config();
            if !json {
                println!(
                    "FRI log_blowup {} queries {} pow {} → {} conjectured bits; LDEs on the {}",
                    fri.log_blowup,
                    fri.num_queries,
                    fri.pow_bits,
                    fri.conjectured_security_bits(),
                    ctm_prover::gpu::ProverDft::auto().backend()
                );
                println!(
                    "| transfers | updates | rows | witness s | prove s | transfers/s | verify ms | proof KB (JSON) |"
                );
                println!("|---|---|---|---|---|---|---|---|");
            }
            for n in sizes {
                let r = bench::measure(n, accounts, fees, &fri)?;
                if json {
                    println!("{}", serde_json::to_string(&r)?);
                } else {
                    println!(
                        "| {} | {} | 2^{} | {:.2} | {:.2} | {:.0} | {:.1} | {} |",
                        r.transfers,
                        r.updates,
                        r.rows.trailing_zeros(),
                        r.witness_s,
                        r.prove_s,
                        r.transfers_per_s,
                        r.verify_ms,
                        r.proof_json_bytes / 1000
                    );
                }
            }
        }
    }
    Ok(())
}

/// `prover-node run`: the node with a progress spinner, until Ctrl-C.
fn run_node(args: RunArgs) -> eyre::Result<()> {
    let cfg = NodeConfig::resolve(args)?;
    let rt = tokio::runtime::Runtime::new().wrap_err("starting the async runtime")?;
    rt.block_on(async move {
        if let Some(addr) = cfg.metrics {
            node::metrics::install_exporter(addr)?;
            println!("metrics on http://{addr}/metrics");
        }
        let bar = ProgressBar::new_spinner().with_style(ProgressStyle::default_spinner());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        let shown = bar.clone();
        let prover = ProverNode::new(cfg)?.with_observer(move |e| show(&shown, e));
        let (stop, stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            let _ = tokio::signal::ctrl_c().await;
            let _ = stop.send(true);
        });
        prover.run(stopped).await?;
        bar.finish_with_message("stopped");
        Ok(())
    })
}

/// Draws a node event on the spinner.
fn show(bar: &ProgressBar, e: &Event) {
    match e {
        Event::Started { prover, share } => println_or_log(
            bar,
            format!(
                "proving as {prover}, node {} of {}, LDEs on the {}",
                share.index(),
                share.nodes(),
                ctm_prover::gpu::ProverDft::auto().backend()
            ),
        ),
        Event::Heads(h) => {
            bar.set_message(format!("committed {} · finalized {}", h.committed, h.finalized))
        }
        Event::TakingOver { batch, owner } => println_or_log(
            bar,
            format!(
                "batch {batch} of node {owner} is still unproven after the takeover delay: proving it"
            ),
        ),
        Event::Replayed { batch } => bar.set_message(format!("replayed batch {batch}")),
        Event::Proving { batch, stage } => bar.set_message(match stage {
            Stage::Trace { rows } => format!("batch {batch}: trace of {rows} rows"),
            Stage::Prove => format!("batch {batch}: proving"),
            Stage::Done => format!("batch {batch}: proven, submitting"),
        }),
        Event::Proven { batch, tx } => println_or_log(
            bar,
            match tx {
                Some(tx) => format!("batch {batch} proven ({tx})"),
                None => format!("batch {batch} proven"),
            },
        ),
        Event::Skipped { batch, by } => {
            println_or_log(bar, format!("batch {batch} proven by {by}"))
        }
        Event::Finalized { batch, tx } => {
            println_or_log(bar, format!("batch {batch} finalized ({tx})"))
        }
        Event::Restored { batch } => {
            println_or_log(bar, format!("resumed from the replica snapshot of batch {batch}"))
        }
        Event::Reset { batch } => {
            println_or_log(bar, format!("batch {batch} does not extend the replica: replaying"))
        }
        Event::Retrying { error, after } => {
            println_or_log(bar, format!("{error} (retry in {after:?})"))
        }
    }
}

/// A line above the spinner, or on stderr when the spinner is hidden (output not a terminal,
/// e.g. a log file), so logs keep what a terminal shows.
fn println_or_log(bar: &ProgressBar, line: String) {
    if bar.is_hidden() {
        eprintln!("{line}");
    } else {
        bar.println(line);
    }
}
