//! The `ctm-executor` command line: argument types (clap) and the commands behind them.
//! `main.rs` only parses and calls [`run`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use ctm_core::Digest;
use ctm_core::attestation::SignedAttestation;
use indicatif::{ProgressBar, ProgressStyle};

use crate::agent::{Agent, AgentConfig, GpuSpec, Retry, format_tokens, parse_tokens};
use crate::attest::{KEY_ENV, attest, parse_key};
use crate::backend::BackendKind;
use crate::data::{BUILTIN, Dataset};
use crate::engine::{Event, Hyper, Job, TrainOptions, make_spec};
use crate::error::{ExecutorError, Result};
use crate::model::{ModelKind, parse_learning_rate};
use crate::store::{ATTESTATION, CheckpointStore};
use crate::{bench, recipe, verify};

/// The Computronium GPU executor: deterministic training, checkpoint commitments, attestations.
#[derive(Debug, Parser)]
#[command(name = "ctm-executor", version, about)]
pub struct Cli {
    /// Rayon threads for the CPU backend and hashing (default: all cores).
    #[arg(long, global = true, env = "CTM_THREADS")]
    pub threads: Option<usize>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a model, write checkpoints (resuming from the last one) and a signed attestation.
    Train(TrainArgs),
    /// Check an attestation's signature and claims, and re-execute sampled segments.
    Verify(VerifyArgs),
    /// List the built-in datasets with their content commitments.
    Datasets,
    /// Measure CPU training throughput and the spot-check cost.
    Bench(BenchArgs),
    /// Run the provider agent: register on L2, take assigned jobs, train, attest, get paid.
    Agent(AgentArgs),
    /// Print the recipes the agent runs with the `dataset` and `model` commitments a client
    /// puts in `postJob`.
    Recipe(RecipeArgs),
}

/// Model families on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelArg {
    /// Multi-layer perceptron (ReLU hidden layers, softmax output).
    Mlp,
    /// Logistic regression (softmax over a single linear layer).
    Logreg,
}

/// Backends on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// CUDA if compiled in and a GPU is found, else CPU.
    Auto,
    /// The CPU reference.
    Cpu,
    /// CUDA only (error without a GPU).
    Cuda,
}

/// `train` arguments.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Model family.
    #[arg(long, value_enum, default_value = "mlp")]
    pub model: ModelArg,
    /// Hidden layer widths of the MLP, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "32")]
    pub hidden: Vec<usize>,
    /// Built-in dataset name (see `datasets`) or path to a CSV (.csv or .csv.gz) file.
    #[arg(long, default_value = "digits")]
    pub dataset: String,
    /// Expected dataset commitment (0x…); training refuses a dataset with another one.
    #[arg(long)]
    pub dataset_commitment: Option<String>,
    /// Rows per SGD step.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Learning rate (decimal, stored as Q16.16), in (0, 16].
    #[arg(long, default_value = "0.25")]
    pub lr: String,
    /// Passes over the training rows.
    #[arg(long, default_value_t = 20)]
    pub epochs: u64,
    /// Seed of the initial weights and the per-epoch shuffles.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Commit a checkpoint every this many steps.
    #[arg(long, default_value_t = 45)]
    pub checkpoint_every: u64,
    /// Held-out share of the rows, per mille.
    #[arg(long, default_value_t = 200)]
    pub holdout_permille: u32,
    /// Output directory for checkpoints, manifest and attestation (resumes if it has a run).
    #[arg(long)]
    pub out: PathBuf,
    /// Backend.
    #[arg(long, value_enum, default_value = "auto")]
    pub backend: BackendArg,
    /// Marketplace job id to attest.
    #[arg(long, default_value_t = 0)]
    pub job_id: u64,
    /// L2 chain id the attestation is signed for.
    #[arg(long, env = "CTM_CHAIN_ID", default_value_t = 71117)]
    pub chain_id: u64,
    /// Provider private key (hex) that signs the attestation; without it none is written.
    #[arg(long, env = KEY_ENV, hide_env_values = true)]
    pub key: Option<String>,
    /// Skip the per-epoch evaluation (faster; progress shows throughput only).
    #[arg(long)]
    pub no_eval: bool,
}

/// `verify` arguments.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The run's output directory (manifest and checkpoints).
    #[arg(long)]
    pub dir: PathBuf,
    /// Signed attestation JSON (default: `DIR/attestation.json`).
    #[arg(long)]
    pub attestation: Option<PathBuf>,
    /// Dataset name or path (default: the one recorded in the manifest); must match the
    /// attested commitment.
    #[arg(long)]
    pub dataset: Option<String>,
    /// Number of segments to re-execute.
    #[arg(long, default_value_t = 0)]
    pub spot_check: usize,
    /// Seed of the segment sample (default: random).
    #[arg(long)]
    pub sample_seed: Option<u64>,
    /// Require this chain id in the attestation.
    #[arg(long)]
    pub chain_id: Option<u64>,
}

/// `bench` arguments.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Workload name or dataset (digits, breast_cancer, iris).
    #[arg(long, default_value = "digits")]
    pub workload: String,
    /// Thread counts to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    pub threads_list: Vec<usize>,
    /// SGD steps per throughput measurement (default: the whole run).
    #[arg(long)]
    pub steps: Option<u64>,
    /// Checkpoint intervals for the spot-check cost, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "45")]
    pub intervals: Vec<u64>,
    /// Segments re-executed in the spot-check cost.
    #[arg(long, default_value_t = 1)]
    pub samples: usize,
    /// Also measure this backend's throughput (`cuda` needs a GPU; includes kernel compilation).
    #[arg(long, value_enum)]
    pub backend: Option<BackendArg>,
    /// Repetitions of each measurement (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub repeats: usize,
}

/// `agent` arguments.
#[derive(Debug, Args)]
pub struct AgentArgs {
    /// L2 JSON-RPC URL of the sequencer.
    #[arg(long, env = "CTM_RPC_URL", default_value = "http://127.0.0.1:8547")]
    pub rpc: String,
    /// Provider private key (hex): registers, accepts jobs, signs attestations.
    #[arg(long, env = KEY_ENV, hide_env_values = true)]
    pub key: String,
    /// Stake sent when registering (tokens, e.g. `1000` or `0.5`, or base units as `123wei`).
    #[arg(long, env = "CTM_STAKE", default_value = "1000")]
    pub stake: String,
    /// GPU model label offered (at most 16 bytes; jobs may require a model).
    #[arg(long, env = "CTM_GPU_MODEL", default_value = "GPU")]
    pub gpu_model: String,
    /// Memory per GPU in MiB.
    #[arg(long, env = "CTM_GPU_MEMORY_MB", default_value_t = 16_384)]
    pub gpu_memory_mb: u32,
    /// Number of GPUs offered.
    #[arg(long, env = "CTM_GPU_COUNT", default_value_t = 1)]
    pub gpu_count: u16,
    /// Price per GPU-hour (tokens, or base units as `123wei`).
    #[arg(long, env = "CTM_PRICE_PER_GPU_HOUR", default_value = "1")]
    pub price_per_gpu_hour: String,
    /// Region label (at most 16 bytes).
    #[arg(long, env = "CTM_REGION", default_value = "local")]
    pub region: String,
    /// Work directory: agent state (`agent.json`) and per-job checkpoints (`jobs/<id>/`).
    #[arg(long, env = "CTM_WORKDIR", default_value = "ctm-agent")]
    pub workdir: PathBuf,
    /// Poll interval for new jobs, in milliseconds.
    #[arg(long, env = "CTM_POLL_MS", default_value_t = 2_000)]
    pub poll_ms: u64,
    /// Process the jobs assigned so far (through settlement) and exit.
    #[arg(long)]
    pub once: bool,
    /// Training backend.
    #[arg(long, env = "CTM_BACKEND", value_enum, default_value = "auto")]
    pub backend: BackendArg,
    /// Attempts per RPC read and per job step before giving up (`--once`) or reporting.
    #[arg(long, env = "CTM_RPC_RETRIES", default_value_t = 6)]
    pub retries: u32,
    /// First block to scan for assignments when the work directory is new.
    #[arg(long, env = "CTM_FROM_BLOCK", default_value_t = 0)]
    pub from_block: u64,
}

/// `recipe` arguments.
#[derive(Debug, Args)]
pub struct RecipeArgs {
    /// Built-in dataset (digits, iris, breast_cancer); all recipes without it.
    #[arg(long)]
    pub dataset: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    if let Some(n) = cli.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|e| ExecutorError::spec("threads", e.to_string()))?;
    }
    match cli.command {
        Command::Train(a) => train(a),
        Command::Verify(a) => verify_cmd(a),
        Command::Datasets => datasets(),
        Command::Bench(a) => bench_cmd(a),
        Command::Agent(a) => agent_cmd(a),
        Command::Recipe(a) => recipe_cmd(a),
    }
}

fn backend_kind(b: BackendArg) -> BackendKind {
    match b {
        BackendArg::Auto => BackendKind::Auto,
        BackendArg::Cpu => BackendKind::Cpu,
        BackendArg::Cuda => BackendKind::Cuda,
    }
}

fn parse_digest(s: &str) -> Result<Digest> {
    s.parse()
        .ok()
        .and_then(|b| Digest::from_bytes32(&b))
        .ok_or_else(|| ExecutorError::spec("dataset_commitment", "not a 32-byte Poseidon2 digest"))
}

fn train(a: TrainArgs) -> Result<()> {
    let key = a.key.as_deref().map(parse_key).transpose()?;
    let dataset = match &a.dataset_commitment {
        Some(c) => Dataset::load_expecting(&a.dataset, &parse_digest(c)?)?,
        None => Dataset::load(&a.dataset)?,
    };
    let model = match a.model {
        ModelArg::Mlp => ModelKind::Mlp { hidden: a.hidden.clone() },
        ModelArg::Logreg => ModelKind::LogReg,
    };
    let hyper = Hyper {
        batch_size: a.batch_size,
        learning_rate: parse_learning_rate(&a.lr)?,
        epochs: a.epochs,
        checkpoint_interval: a.checkpoint_every,
        seed: a.seed,
        holdout_permille: a.holdout_permille,
    };
    let job = Job::new(make_spec(model, &dataset, &hyper)?, &dataset)?;
    let store = CheckpointStore::open(&a.out)?;
    let opts = TrainOptions { backend: backend_kind(a.backend), eval_each_epoch: !a.no_eval };
    let bar = ProgressBar::new(job.spec.steps);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} steps {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let outcome = job.train(&a.dataset, Some(&store), opts, &mut |e| progress(&bar, e))?;
    bar.finish_and_clear();
    println!(
        "done: {} steps, {} checkpoints, train loss {:.4}, held-out accuracy {:.2}% ({}/{})",
        job.spec.steps,
        outcome.manifest.checkpoints.len() - 1,
        outcome.train.loss_f64(),
        outcome.test.accuracy() * 100.0,
        outcome.test.correct,
        outcome.test.total
    );
    let last = outcome.manifest.checkpoints[outcome.manifest.checkpoints.len() - 1];
    println!("dataset        {}", job.spec.dataset);
    println!("final weights  {}", last.weights);
    println!("chain head     {}", last.link);
    if let Some(key) = key {
        let signed = attest(a.job_id, &outcome, &key, a.chain_id)?;
        let json = serde_json::to_string_pretty(&signed)
            .map_err(|e| ExecutorError::corrupt("attestation", e.to_string()))?;
        store.write_atomic(ATTESTATION, json.as_bytes())?;
        println!(
            "attestation    {} (commitment {})",
            store.dir().join(ATTESTATION).display(),
            signed.attestation.commitment()
        );
    } else {
        println!("no provider key (--key or {KEY_ENV}): attestation not written");
    }
    Ok(())
}

/// Prints a line above the progress bar, or plainly when the bar is hidden (not a terminal).
fn say(bar: &ProgressBar, line: String) {
    if bar.is_hidden() { println!("{line}") } else { bar.println(line) }
}

fn progress(bar: &ProgressBar, e: &Event) {
    match e {
        Event::Started { step, total, backend } => {
            bar.set_position(*step);
            let how = if *step > 0 { "resuming" } else { "training" };
            say(bar, format!("{how} at step {step}/{total} on {backend}"));
        }
        Event::Progress { step } => bar.set_position(*step),
        Event::Epoch { epoch, train, test, samples_per_sec, .. } => {
            let mut line = format!("epoch {:>3}", epoch + 1);
            if let (Some(tr), Some(te)) = (train, test) {
                line += &format!(
                    "  loss {:.4}  train acc {:.2}%  held-out acc {:.2}%",
                    tr.loss_f64(),
                    tr.accuracy() * 100.0,
                    te.accuracy() * 100.0
                );
            }
            line += &format!("  {samples_per_sec:.0} samples/s");
            say(bar, line);
        }
        Event::Checkpoint(c) => bar.set_message(format!("checkpoint {} {}", c.index, c.weights)),
    }
}

fn read_attestation(path: &Path) -> Result<SignedAttestation> {
    let text = std::fs::read_to_string(path).map_err(ExecutorError::io(path))?;
    serde_json::from_str(&text)
        .map_err(|e| ExecutorError::corrupt(path.display().to_string(), e.to_string()))
}

fn verify_cmd(a: VerifyArgs) -> Result<()> {
    let store = CheckpointStore::existing(&a.dir)?;
    let signed = read_attestation(&a.attestation.unwrap_or_else(|| a.dir.join(ATTESTATION)))?;
    if let Some(id) = a.chain_id.filter(|&id| id != signed.chain_id) {
        return Err(ExecutorError::ClaimMismatch {
            field: "chainId",
            reason: format!("signed for chain {}, expected {id}", signed.chain_id),
        });
    }
    signed.verify()?;
    println!("signature ok: provider {} on chain {}", signed.attestation.provider, signed.chain_id);
    let manifest = store
        .load_manifest()?
        .ok_or_else(|| ExecutorError::corrupt(a.dir.display().to_string(), "no manifest"))?;
    let name = a.dataset.unwrap_or_else(|| manifest.dataset_name.clone());
    let dataset = Dataset::load_expecting(&name, &manifest.spec.dataset)?;
    let job = Job::new(manifest.spec.clone(), &dataset)?;
    let seed = a.sample_seed.unwrap_or_else(random_seed);
    let report = verify::verify_run(&signed, &job, &store, a.spot_check, seed)?;
    println!(
        "claims ok; re-executed {} of {} segments {:?} (sample seed {seed}): all match",
        report.segments.len(),
        report.total_segments,
        report.segments
    );
    println!("commitment {}", signed.attestation.commitment());
    Ok(())
}

/// A seed from the standard library's per-process random hash keys.
fn random_seed() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

fn datasets() -> Result<()> {
    println!("{:<14} {:>5} {:>8} {:>7}  commitment", "name", "rows", "features", "classes");
    for b in BUILTIN {
        let d = Dataset::parse(b.name, b.bytes)?;
        println!(
            "{:<14} {:>5} {:>8} {:>7}  {}\n{:<14} {}",
            b.name,
            d.rows(),
            d.n_features,
            d.n_classes,
            d.commitment(),
            "",
            b.description
        );
    }
    Ok(())
}

fn bench_cmd(a: BenchArgs) -> Result<()> {
    let w = bench::workload(&a.workload)?;
    let job = w.job()?;
    let steps = a.steps.unwrap_or(job.spec.steps);
    println!("workload {} ({} steps of {} rows)", w.name, steps, job.spec.batch_size);
    let mut runs: Vec<(BackendKind, usize)> =
        a.threads_list.iter().map(|&t| (BackendKind::Cpu, t)).collect();
    if let Some(b) = a.backend.filter(|b| *b != BackendArg::Cpu) {
        runs.push((backend_kind(b), 1));
    }
    for (kind, t) in runs {
        let pool = bench::pool(t)?;
        let mut rates = (0..a.repeats.max(1))
            .map(|_| bench::throughput(&job, kind, &pool, steps).map(|r| r.1))
            .collect::<Result<Vec<_>>>()?;
        rates.sort_by(f64::total_cmp);
        let median = rates[rates.len() / 2];
        println!("  {kind:?}, {t} thread(s): {median:.0} samples/s (median of {})", rates.len());
    }
    for &k in &a.intervals {
        let c = bench::spot_check_cost(&job, k, a.threads_list[0].max(1), a.repeats)?;
        println!(
            "  k = {k}: {} segments; training {:.4} s (median of {}, commitments and files \
             included); one segment check {:.5} s; N = {} sampled = {:.2}% of training",
            c.segments,
            c.train_secs,
            a.repeats,
            c.segment_secs,
            a.samples,
            c.fraction(a.samples) * 100.0
        );
    }
    Ok(())
}

/// The agent configuration of `a`.
pub fn agent_config(a: &AgentArgs) -> Result<AgentConfig> {
    Ok(AgentConfig {
        rpc: a.rpc.clone(),
        key: parse_key(&a.key)?,
        stake: parse_tokens(&a.stake)?,
        gpu: GpuSpec {
            model: a.gpu_model.clone(),
            memory_mb: a.gpu_memory_mb,
            count: a.gpu_count,
            price_per_gpu_hour: parse_tokens(&a.price_per_gpu_hour)?,
            region: a.region.clone(),
        },
        workdir: a.workdir.clone(),
        poll: Duration::from_millis(a.poll_ms.max(10)),
        backend: backend_kind(a.backend),
        retry: Retry { attempts: a.retries.max(1), ..Retry::default() },
        from_block: a.from_block,
        halt_after_checkpoints: None,
    })
}

fn agent_cmd(a: AgentArgs) -> Result<()> {
    let cfg = agent_config(&a)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ExecutorError::io("tokio runtime"))?;
    rt.block_on(async move {
        let mut agent = Agent::new(cfg).await?;
        agent.on_event(|e| println!("{e}"));
        let stop = agent.stop_handle();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("stopping at the next checkpoint (Ctrl-C again to kill)");
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
                let _ = tokio::signal::ctrl_c().await;
                std::process::exit(130);
            }
        });
        println!(
            "provider {} on chain {} via {}; work directory {}",
            agent.address(),
            agent.chain().chain_id,
            a.rpc,
            a.workdir.display()
        );
        let report = if a.once { agent.run_once().await? } else { agent.run().await? };
        println!(
            "{}: {} settled, {} skipped, {} closed, gas paid {}",
            if report.stopped { "stopped" } else { "done" },
            report.settled.len(),
            report.skipped.len(),
            report.closed.len(),
            format_tokens(report.gas_paid)
        );
        Ok(())
    })
}

fn recipe_cmd(a: RecipeArgs) -> Result<()> {
    let recipes = recipe::recipes(a.dataset.as_deref())?;
    if a.json {
        let list: Vec<serde_json::Value> = recipes
            .iter()
            .map(|r| {
                serde_json::json!({
                    "name": r.name,
                    "datasetName": r.dataset_name,
                    "dataset": r.dataset_bytes32(),
                    "model": r.model_bytes32(),
                    "steps": r.spec.steps,
                    "checkpoints": r.spec.checkpoints(),
                })
            })
            .collect();
        let text = serde_json::to_string_pretty(&list)
            .map_err(|e| ExecutorError::corrupt("recipes", e.to_string()))?;
        println!("{text}");
        return Ok(());
    }
    for r in &recipes {
        let model = match &r.model {
            ModelKind::Mlp { hidden } => format!("MLP hidden {hidden:?}"),
            ModelKind::LogReg => "logistic regression".to_string(),
        };
        println!("{} ({} on {})", r.name, model, r.dataset_name);
        println!(
            "  batch {}, lr {}, {} epochs = {} steps, checkpoint every {} ({} checkpoints), seed {}",
            r.hyper.batch_size,
            crate::model::show_q(i64::from(r.hyper.learning_rate)),
            r.hyper.epochs,
            r.spec.steps,
            r.hyper.checkpoint_interval,
            r.spec.checkpoints(),
            r.hyper.seed
        );
        println!("  dataset  {}", r.dataset_bytes32());
        println!("  model    {}", r.model_bytes32());
    }
    Ok(())
}
