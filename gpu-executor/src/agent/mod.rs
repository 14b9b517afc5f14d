//! The provider agent: registers the provider on L2, watches for jobs assigned to it, and for
//! each one it can run accepts with collateral, trains (resuming from its checkpoints), claims
//! the streamed checkpoint payments, signs and submits the attestation, waits out the
//! challenge window and settles.
//!
//! ```text
//! eth_getLogs JobAssigned(provider = me) from the cursor ──► jobs/<id> record (agent.json)
//!        │                                                        │
//!        ▼                                                        ▼
//! getJob: Assigned ─ recipe for (dataset, model)? ─ no ──► Skipped (logged, not accepted)
//!        │ yes
//!        ▼
//! acceptJob{value: ⌈price/10⌉} ──► Running: train (CUDA or CPU) in jobs/<id>/, and as
//! checkpoint ⌈j·C/10⌉ completes, claimCheckpoint(id, j, link) for j = 1..=10
//!        │
//!        ▼
//! attest + sign (EIP-712) ──► jobs/<id>/attestation.json ──► submitAttestation ──► Attested
//!        │
//!        ▼
//! settle (eth_call first: TooEarly{until} → wait) ──► Settled
//! ```
//!
//! Every step re-reads the job from the chain (`getJob`) and acts on its status, so a restart
//! (or a lost RPC response) resumes where the chain is: an accepted job is never accepted
//! again, training resumes from the last stored checkpoint, the next checkpoint payment index is
//! probed with `eth_call`, and the attestation stored in the job directory is resubmitted rather
//! than re-signed (the run is deterministic anyway, so it is the same attestation: the agent
//! never equivocates).

pub mod chain;
pub mod state;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use alloy::primitives::{Address, B256, Bytes, FixedBytes, U256};
use alloy::rpc::types::TransactionReceipt;
use alloy::signers::local::PrivateKeySigner;
use alloy_sol_types::SolError;
use ctm_core::abi::{IMarketplace as M, Refused, TooEarly};
use ctm_core::attestation::SignedAttestation;
use ctm_core::state::JobStatus;

use crate::attest::attest;
use crate::backend::BackendKind;
use crate::engine::{Event, TrainOptions};
use crate::error::{ExecutorError, Result};
use crate::recipe::{self, Recipe};
use crate::store::{ATTESTATION, CheckpointStore};

pub use chain::{Chain, Retry};
pub use state::{AgentState, JobRecord, Phase};

/// Streamed payments per job (the marketplace's `claimCheckpoint` indices are `1..=10`).
pub const STREAM_PARTS: u32 = 10;
/// Gas limit of a `settle` sent without an estimate (the call costs about 65k).
pub const SETTLE_GAS: u64 = 300_000;
/// Token decimals of the L2's native currency (all presets use 18).
pub const DECIMALS: u32 = 18;

/// The GPUs the provider offers (its `ProviderSpec` on chain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpuSpec {
    /// GPU model label (at most 16 bytes), e.g. `H100`.
    pub model: String,
    /// Memory per GPU in MiB.
    pub memory_mb: u32,
    /// Number of GPUs.
    pub count: u16,
    /// Price per GPU-hour in base units.
    pub price_per_gpu_hour: U256,
    /// Region label (at most 16 bytes).
    pub region: String,
}

fn bytes16(what: &'static str, s: &str) -> Result<FixedBytes<16>> {
    if s.len() > 16 {
        return Err(ExecutorError::spec(what, format!("`{s}` is longer than 16 bytes")));
    }
    Ok(FixedBytes::right_padding_from(s.as_bytes()))
}

impl GpuSpec {
    /// The Solidity `ProviderSpec`.
    pub fn to_abi(&self) -> Result<M::ProviderSpec> {
        Ok(M::ProviderSpec {
            gpuModel: bytes16("gpu_model", &self.model)?,
            gpuMemoryMb: self.memory_mb,
            gpuCount: self.count,
            pricePerGpuHour: self.price_per_gpu_hour,
            region: bytes16("region", &self.region)?,
        })
    }
}

/// Parses a token amount: a decimal number of whole tokens (`1000`, `0.5`) or base units with a
/// `wei` suffix (`123wei`).
pub fn parse_tokens(s: &str) -> Result<U256> {
    let s = s.trim();
    let bad = |r: &str| ExecutorError::spec("amount", format!("`{s}`: {r}"));
    if let Some(w) = s.strip_suffix("wei") {
        return w.trim().parse::<U256>().map_err(|_| bad("not an integer"));
    }
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty()
        || !(int.bytes().chain(frac.bytes())).all(|b| b.is_ascii_digit())
    {
        return Err(bad("not a decimal number"));
    }
    if frac.len() > DECIMALS as usize {
        return Err(bad("more than 18 decimals"));
    }
    let digits = format!("{int}{frac:0<18}");
    digits.trim_start_matches('0').parse::<U256>().or_else(|_| {
        if digits.bytes().all(|b| b == b'0') { Ok(U256::ZERO) } else { Err(bad("too large")) }
    })
}

/// Formats base units as tokens (`1.5`), trailing zeros trimmed.
pub fn format_tokens(v: U256) -> String {
    let unit = U256::from(10u64).pow(U256::from(DECIMALS));
    let (int, frac) = (v / unit, v % unit);
    if frac.is_zero() {
        return int.to_string();
    }
    let frac = format!("{frac:0>18}");
    format!("{int}.{}", frac.trim_end_matches('0'))
}

/// The collateral the agent locks when it accepts a job: 10 % of the price, rounded up.
pub fn collateral(price: U256) -> U256 {
    price.div_ceil(U256::from(10u64))
}

/// The checkpoint (1-based, of `total`) whose completion pays stream part `j` (1..=10):
/// `⌈j·total/10⌉`, so the ten parts spread evenly over the run and the last one needs the
/// last checkpoint.
pub fn checkpoint_for_part(j: u32, total: u64) -> u64 {
    (u64::from(j) * total).div_ceil(u64::from(STREAM_PARTS)).max(1)
}

/// Configuration of the agent.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// L2 JSON-RPC URL.
    pub rpc: String,
    /// Provider key: registers, accepts, signs attestations.
    pub key: PrivateKeySigner,
    /// Stake sent with `registerProvider` (base units).
    pub stake: U256,
    /// The GPUs offered.
    pub gpu: GpuSpec,
    /// Work directory: `agent.json` and `jobs/<id>/` checkpoint stores.
    pub workdir: PathBuf,
    /// Poll interval for new jobs (and for the challenge window in `--once` mode).
    pub poll: Duration,
    /// Training backend.
    pub backend: BackendKind,
    /// RPC retry policy.
    pub retry: Retry,
    /// First block to scan for assignments when the work directory has no cursor yet.
    pub from_block: u64,
    /// Stop (as on Ctrl-C) once this many new checkpoints are stored in this process: for
    /// restart tests and maintenance windows. `None` (the CLI) never stops on its own.
    pub halt_after_checkpoints: Option<u64>,
}

/// Something the agent did, for progress display (see [`Agent::on_event`]).
#[derive(Debug, Clone)]
pub enum AgentEvent {
    /// Registered on L2 with this stake.
    Registered {
        /// Provider address.
        provider: Address,
        /// Stake in base units.
        stake: U256,
    },
    /// Already registered; the on-chain spec was updated to the configured one.
    Updated {
        /// Provider address.
        provider: Address,
    },
    /// A job assigned to this provider was found.
    Assigned {
        /// Job id.
        job: u64,
    },
    /// The agent cannot run the job and leaves it alone.
    Skipped {
        /// Job id.
        job: u64,
        /// Why.
        reason: String,
    },
    /// Accepted with collateral.
    Accepted {
        /// Job id.
        job: u64,
        /// Recipe it will train.
        recipe: String,
        /// Price of the job (base units).
        price: U256,
        /// Collateral locked (base units).
        collateral: U256,
    },
    /// Training starts or resumes.
    Training {
        /// Job id.
        job: u64,
        /// Step it starts at (> 0 when resuming).
        step: u64,
        /// Total steps.
        total: u64,
        /// Backend name.
        backend: &'static str,
    },
    /// A streamed checkpoint payment was claimed.
    Claimed {
        /// Job id.
        job: u64,
        /// Part index (1..=10).
        index: u32,
        /// Checkpoint it pays for.
        checkpoint: u64,
        /// Training checkpoints in the run.
        checkpoints: u64,
        /// Amount paid (base units).
        amount: U256,
    },
    /// Training finished.
    Trained {
        /// Job id.
        job: u64,
        /// Steps.
        steps: u64,
        /// Final training loss.
        loss: f64,
        /// Held-out accuracy in basis points.
        accuracy_bp: u32,
    },
    /// The attestation is on chain.
    Attested {
        /// Job id.
        job: u64,
        /// `hashStruct` of the attestation (what the chain stores).
        commitment: B256,
    },
    /// Waiting for the challenge window to close.
    Waiting {
        /// Job id.
        job: u64,
        /// Chain time (seconds) it closes at.
        until: u64,
    },
    /// Paid out.
    Settled {
        /// Job id.
        job: u64,
    },
    /// Nothing more to do for the job (refunded, reassigned, expired).
    Closed {
        /// Job id.
        job: u64,
        /// Why.
        reason: String,
    },
    /// A step failed; it is retried.
    Error {
        /// Job id (if any).
        job: Option<u64>,
        /// The error.
        error: String,
    },
}

impl fmt::Display for AgentEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgentEvent::Registered { provider, stake } => {
                write!(f, "registered provider {provider} with stake {}", format_tokens(*stake))
            }
            AgentEvent::Updated { provider } => {
                write!(f, "provider {provider}: GPU spec updated on chain")
            }
            AgentEvent::Assigned { job } => write!(f, "job {job}: assigned to this provider"),
            AgentEvent::Skipped { job, reason } => write!(
                f,
                "job {job}: cannot run it ({reason}); not accepting it (the client may cancel \
                 it or let it time out)"
            ),
            AgentEvent::Accepted { job, recipe, price, collateral } => write!(
                f,
                "job {job}: accepted ({recipe}), price {}, collateral {}",
                format_tokens(*price),
                format_tokens(*collateral)
            ),
            AgentEvent::Training { job, step, total, backend } => {
                let how = if *step > 0 { "resuming" } else { "training" };
                write!(f, "job {job}: {how} at step {step}/{total} on {backend}")
            }
            AgentEvent::Claimed { job, index, checkpoint, checkpoints, amount } => write!(
                f,
                "job {job}: checkpoint {checkpoint}/{checkpoints} done, payment {index}/{STREAM_PARTS} \
                 claimed (+{})",
                format_tokens(*amount)
            ),
            AgentEvent::Trained { job, steps, loss, accuracy_bp } => write!(
                f,
                "job {job}: trained {steps} steps, loss {loss:.4}, held-out accuracy {:.2}%",
                f64::from(*accuracy_bp) / 100.0
            ),
            AgentEvent::Attested { job, commitment } => {
                write!(f, "job {job}: attestation submitted (commitment {commitment})")
            }
            AgentEvent::Waiting { job, until } => {
                write!(f, "job {job}: challenge window open until chain time {until}")
            }
            AgentEvent::Settled { job } => write!(f, "job {job}: settled, paid out"),
            AgentEvent::Closed { job, reason } => write!(f, "job {job}: closed ({reason})"),
            AgentEvent::Error { job: Some(job), error } => write!(f, "job {job}: error: {error}"),
            AgentEvent::Error { job: None, error } => write!(f, "error: {error}"),
        }
    }
}

/// What a run of the agent did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Jobs settled in this run.
    pub settled: Vec<u64>,
    /// Jobs skipped (cannot run) in this run, with the reason.
    pub skipped: Vec<(u64, String)>,
    /// Jobs closed without payment in this run.
    pub closed: Vec<u64>,
    /// Gas paid by the agent's transactions in this run (base units).
    pub gas_paid: U256,
    /// Whether the run ended because the stop flag was set.
    pub stopped: bool,
}

/// What one step of a job left to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// Final phase.
    Done,
    /// Come back after this long (challenge window).
    Wait(Duration),
    /// The stop flag was set.
    Stopped,
}

type Observer = Arc<dyn Fn(&AgentEvent) + Send + Sync>;

/// The provider agent (see the module docs).
pub struct Agent {
    cfg: AgentConfig,
    chain: Chain,
    state: AgentState,
    recipes: Vec<Recipe>,
    stop: Arc<AtomicBool>,
    observer: Option<Observer>,
    report: Report,
    /// Challenge-window ends already reported, by job (to log a wait once).
    waiting: BTreeMap<u64, u64>,
}

impl fmt::Debug for Agent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Agent")
            .field("provider", &self.chain.address)
            .field("chain_id", &self.chain.chain_id)
            .field("workdir", &self.cfg.workdir)
            .finish_non_exhaustive()
    }
}

impl Agent {
    /// Connects to the L2, loads the work directory's state and the known recipes.
    pub async fn new(cfg: AgentConfig) -> Result<Agent> {
        cfg.gpu.to_abi()?;
        let chain = Chain::connect(&cfg.rpc, cfg.key.clone(), cfg.retry).await?;
        std::fs::create_dir_all(&cfg.workdir).map_err(ExecutorError::io(&cfg.workdir))?;
        let mut state = AgentState::load(&cfg.workdir, chain.address, chain.chain_id)?;
        state.cursor = state.cursor.max(cfg.from_block);
        state.save(&cfg.workdir)?;
        let recipes = recipe::recipes(None)?;
        Ok(Agent {
            cfg,
            chain,
            state,
            recipes,
            stop: Arc::new(AtomicBool::new(false)),
            observer: None,
            report: Report::default(),
            waiting: BTreeMap::new(),
        })
    }

    /// Sets the progress callback (default: `tracing` at info level only).
    pub fn on_event(&mut self, f: impl Fn(&AgentEvent) + Send + Sync + 'static) {
        self.observer = Some(Arc::new(f));
    }

    /// A flag that stops the agent at the next checkpoint or poll (Ctrl-C); state stays
    /// consistent and a new agent on the same work directory resumes.
    pub fn stop_handle(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// The provider address.
    pub fn address(&self) -> Address {
        self.chain.address
    }

    /// The L2 connection.
    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    /// The persisted state.
    pub fn state(&self) -> &AgentState {
        &self.state
    }

    /// The signed attestation stored for job `id`, if any.
    pub fn attestation(&self, id: u64) -> Result<Option<SignedAttestation>> {
        let path = state::job_dir(&self.cfg.workdir, id).join(ATTESTATION);
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path).map_err(ExecutorError::io(&path))?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| ExecutorError::corrupt(path.display().to_string(), e.to_string()))
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn emit(&self, e: AgentEvent) {
        match &e {
            AgentEvent::Error { .. } => tracing::warn!("{e}"),
            _ => tracing::info!("{e}"),
        }
        if let Some(f) = &self.observer {
            f(&e);
        }
    }

    fn record(&mut self, id: u64, f: impl FnOnce(&mut JobRecord)) -> Result<()> {
        f(self.state.jobs.entry(id).or_insert_with(JobRecord::assigned));
        self.state.save(&self.cfg.workdir)
    }

    fn paid(&mut self, r: &TransactionReceipt) {
        self.report.gas_paid += chain::gas_paid(r);
    }

    /// Registers the provider with the configured stake if it has none; updates the on-chain
    /// GPU spec if it differs from the configured one.
    pub async fn register(&mut self) -> Result<()> {
        let me = self.chain.address;
        let info = self.chain.provider_info(me).await?;
        let spec = self.cfg.gpu.to_abi()?;
        if info.stake.is_zero() {
            let r = self
                .chain
                .send(&M::registerProviderCall { spec }, self.cfg.stake)
                .await
                .map_err(|e| context(e, "registering the provider"))?;
            self.paid(&r);
            self.emit(AgentEvent::Registered { provider: me, stake: self.cfg.stake });
        } else if info.status != 0 {
            tracing::warn!("provider {me} is unbonding: it will not be assigned new jobs");
        } else if !same_spec(&info.spec, &spec) {
            let r = self.chain.send(&M::updateProviderCall { spec }, U256::ZERO).await?;
            self.paid(&r);
            self.emit(AgentEvent::Updated { provider: me });
        }
        Ok(())
    }

    /// Scans `JobAssigned` logs naming this provider from the cursor to the head; records new
    /// jobs and moves the cursor. Returns the new job ids.
    pub async fn scan(&mut self) -> Result<Vec<u64>> {
        let head = self.chain.block_number().await?;
        if self.state.cursor > head {
            return Ok(Vec::new());
        }
        let ids = self.chain.assigned_jobs(self.state.cursor, head).await?;
        let mut new = Vec::new();
        for id in ids {
            if let std::collections::btree_map::Entry::Vacant(e) = self.state.jobs.entry(id) {
                e.insert(JobRecord::assigned());
                new.push(id);
            }
        }
        self.state.cursor = head + 1;
        self.state.save(&self.cfg.workdir)?;
        for &id in &new {
            self.emit(AgentEvent::Assigned { job: id });
        }
        Ok(new)
    }

    /// Registers, then processes every job assigned to this provider until each is settled,
    /// skipped or closed (waiting out challenge windows), then returns. Step failures are
    /// retried per [`Retry::attempts`], then returned.
    pub async fn run_once(&mut self) -> Result<Report> {
        self.report = Report::default();
        self.retrying(false).await?;
        loop {
            self.retrying(true).await?;
            let open = self.state.open_jobs();
            if open.is_empty() {
                break;
            }
            let mut wait: Option<Duration> = None;
            for id in open {
                if self.stopped() {
                    self.report.stopped = true;
                    return Ok(self.report.clone());
                }
                match self.step_retrying(id).await? {
                    Next::Done => {}
                    Next::Wait(d) => wait = Some(wait.map_or(d, |w| w.min(d))),
                    Next::Stopped => {
                        self.report.stopped = true;
                        return Ok(self.report.clone());
                    }
                }
            }
            if let Some(d) = wait {
                tokio::time::sleep(d.min(self.cfg.poll)).await;
            }
        }
        Ok(self.report.clone())
    }

    /// Runs until the stop flag is set: registers, then every poll interval scans for new
    /// assignments and advances every open job. Errors are reported and retried next poll.
    pub async fn run(&mut self) -> Result<Report> {
        self.report = Report::default();
        self.retrying(false).await?;
        while !self.stopped() {
            if let Err(e) = self.scan().await {
                self.emit(AgentEvent::Error { job: None, error: e.to_string() });
            }
            for id in self.state.open_jobs() {
                if self.stopped() {
                    break;
                }
                if let Err(e) = self.step(id).await {
                    self.emit(AgentEvent::Error { job: Some(id), error: e.to_string() });
                }
            }
            let mut slept = Duration::ZERO;
            while slept < self.cfg.poll && !self.stopped() {
                let d = Duration::from_millis(100).min(self.cfg.poll - slept);
                tokio::time::sleep(d).await;
                slept += d;
            }
        }
        self.report.stopped = true;
        Ok(self.report.clone())
    }

    /// Registers (or scans, with `scan`) with retries.
    async fn retrying(&mut self, scan: bool) -> Result<()> {
        let attempts = self.cfg.retry.attempts.max(1);
        let mut backoff = self.cfg.retry.backoff;
        let mut attempt = 1;
        loop {
            let r = if scan { self.scan().await.map(|_| ()) } else { self.register().await };
            match r {
                Ok(()) => return Ok(()),
                Err(e) if attempt < attempts && !self.stopped() => {
                    self.emit(AgentEvent::Error {
                        job: None,
                        error: format!("{e} (attempt {attempt}/{attempts}, retrying)"),
                    });
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(8));
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn step_retrying(&mut self, id: u64) -> Result<Next> {
        let attempts = self.cfg.retry.attempts.max(1);
        let mut backoff = self.cfg.retry.backoff;
        let mut attempt = 1;
        loop {
            match self.step(id).await {
                Ok(n) => return Ok(n),
                Err(e) if attempt < attempts && !self.stopped() => {
                    self.emit(AgentEvent::Error {
                        job: Some(id),
                        error: format!("{e} (attempt {attempt}/{attempts}, retrying)"),
                    });
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(8));
                    attempt += 1;
                }
                Err(e) => return Err(context(e, &format!("job {id}"))),
            }
        }
    }

    /// Advances job `id` as far as it can go without waiting.
    async fn step(&mut self, id: u64) -> Result<Next> {
        loop {
            if self.stopped() {
                return Ok(Next::Stopped);
            }
            let rec = self.state.jobs.get(&id).cloned().unwrap_or_else(JobRecord::assigned);
            if rec.phase.is_final() {
                return Ok(Next::Done);
            }
            let info = self.chain.job(id).await?;
            if info.provider != self.chain.address {
                self.close(id, format!("assigned to {} now", info.provider))?;
                return Ok(Next::Done);
            }
            let status = JobStatus::ALL.iter().copied().find(|s| *s as u8 == info.status);
            match status {
                Some(JobStatus::Assigned) => {
                    if !self.accept(id, &info).await? {
                        return Ok(Next::Done);
                    }
                }
                Some(JobStatus::Running) => {
                    if self.train_and_attest(id, &info).await?.is_none() {
                        return Ok(Next::Stopped);
                    }
                }
                Some(JobStatus::Attested) => {
                    if let Some(wait) = self.settle(id, &info).await? {
                        return Ok(Next::Wait(wait));
                    }
                }
                Some(JobStatus::Settled) => {
                    self.record(id, |r| r.phase = Phase::Settled)?;
                    self.report.settled.push(id);
                    self.emit(AgentEvent::Settled { job: id });
                    return Ok(Next::Done);
                }
                Some(JobStatus::Refunded) => {
                    self.close(id, "refunded to the client".into())?;
                    return Ok(Next::Done);
                }
                Some(JobStatus::Open) | None => {
                    self.close(id, format!("not assigned (status {})", info.status))?;
                    return Ok(Next::Done);
                }
            }
        }
    }

    fn close(&mut self, id: u64, reason: String) -> Result<()> {
        self.record(id, |r| {
            r.phase = Phase::Closed;
            r.note = Some(reason.clone());
        })?;
        self.report.closed.push(id);
        self.emit(AgentEvent::Closed { job: id, reason });
        Ok(())
    }

    fn skip(&mut self, id: u64, reason: String) -> Result<()> {
        self.record(id, |r| {
            r.phase = Phase::Skipped;
            r.note = Some(reason.clone());
        })?;
        self.report.skipped.push((id, reason.clone()));
        self.emit(AgentEvent::Skipped { job: id, reason });
        Ok(())
    }

    /// Decides whether to run an assigned job and accepts it; `false` if skipped.
    async fn accept(&mut self, id: u64, info: &M::JobInfo) -> Result<bool> {
        let Some(recipe) = recipe::find(&self.recipes, &info.spec.dataset, &info.spec.model) else {
            let why = recipe::why_not(&self.recipes, &info.spec.dataset, &info.spec.model);
            self.skip(id, why)?;
            return Ok(false);
        };
        let name = recipe.name.to_string();
        let now = self.chain.now().await?;
        if now >= info.spec.deadline {
            self.skip(id, format!("deadline {} has passed (now {now})", info.spec.deadline))?;
            return Ok(false);
        }
        let collateral = collateral(info.price);
        let r = self
            .chain
            .send(&M::acceptJobCall { jobId: id }, collateral)
            .await
            .map_err(|e| context(e, "accepting"))?;
        self.paid(&r);
        self.record(id, |r| {
            r.phase = Phase::Accepted;
            r.recipe = Some(name.clone());
        })?;
        self.emit(AgentEvent::Accepted { job: id, recipe: name, price: info.price, collateral });
        Ok(true)
    }

    /// The next claimable stream index (probed with `eth_call`), `None` when all are claimed
    /// or the job pays nothing per part.
    async fn next_claim(&self, id: u64) -> Result<Option<u32>> {
        for j in 1..=STREAM_PARTS {
            let call = M::claimCheckpointCall { jobId: id, index: j, checkpoint: B256::ZERO };
            if self.chain.simulate(&call, U256::ZERO).await?.is_ok() {
                return Ok(Some(j));
            }
        }
        Ok(None)
    }

    /// Claims stream part `j` for checkpoint `link`.
    async fn claim(&mut self, id: u64, j: u32, ckpt: u64, total: u64, link: B256) -> Result<()> {
        let call = M::claimCheckpointCall { jobId: id, index: j, checkpoint: link };
        let r = self.chain.send(&call, U256::ZERO).await.map_err(|e| context(e, "claiming"))?;
        self.paid(&r);
        let amount = r
            .inner
            .logs()
            .iter()
            .find_map(|l| l.log_decode::<M::CheckpointPaid>().ok())
            .map_or(U256::ZERO, |l| l.inner.amount);
        self.record(id, |r| r.claimed = j)?;
        self.emit(AgentEvent::Claimed {
            job: id,
            index: j,
            checkpoint: ckpt,
            checkpoints: total,
            amount,
        });
        Ok(())
    }

    /// Trains (resuming), claims the streamed payments as checkpoints complete, signs (or
    /// reloads) and submits the attestation. `None` if stopped.
    async fn train_and_attest(&mut self, id: u64, info: &M::JobInfo) -> Result<Option<()>> {
        let Some(recipe) =
            recipe::find(&self.recipes, &info.spec.dataset, &info.spec.model).cloned()
        else {
            let why = recipe::why_not(&self.recipes, &info.spec.dataset, &info.spec.model);
            self.close(id, format!("accepted but no recipe fits: {why}"))?;
            return Ok(Some(()));
        };
        if self.state.jobs.get(&id).is_none_or(|r| r.phase != Phase::Accepted) {
            let name = recipe.name.to_string();
            self.record(id, |r| {
                r.phase = Phase::Accepted;
                r.recipe = Some(name);
            })?;
        }
        let now = self.chain.now().await?;
        if now > info.spec.deadline {
            self.close(
                id,
                format!("deadline {} passed before the attestation", info.spec.deadline),
            )?;
            return Ok(Some(()));
        }
        let job = recipe.job()?;
        let store = CheckpointStore::open(state::job_dir(&self.cfg.workdir, id))?;
        let total = job.spec.checkpoints();
        let mut links: BTreeMap<u64, B256> = store
            .load_manifest()?
            .filter(|m| m.spec == job.spec)
            .map(|m| {
                m.checkpoints.iter().map(|c| (u64::from(c.index), c.link.to_bytes32())).collect()
            })
            .unwrap_or_default();
        let mut next = self.next_claim(id).await?;

        // Train on a blocking thread; checkpoints come back over a channel and are claimed
        // while training goes on.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
        let abort = Arc::new(AtomicBool::new(false));
        let handle = {
            let (stop, abort) = (self.stop.clone(), abort.clone());
            let opts = TrainOptions { backend: self.cfg.backend, eval_each_epoch: false };
            let (job, store, name) = (job.clone(), store.clone(), recipe.dataset_name);
            let limit = self.cfg.halt_after_checkpoints;
            tokio::task::spawn_blocking(move || {
                let halt = || stop.load(Ordering::Relaxed) || abort.load(Ordering::Relaxed);
                let mut stored = 0u64;
                job.train_until(name, Some(&store), opts, &halt, &mut |e| {
                    if matches!(e, Event::Checkpoint(_)) {
                        stored += 1;
                        if limit.is_some_and(|l| stored >= l) {
                            stop.store(true, Ordering::Relaxed);
                        }
                    }
                    let _ = tx.send(e.clone());
                })
            })
        };
        let mut failure = None;
        while let Some(ev) = rx.recv().await {
            match ev {
                Event::Started { step, total, backend } => {
                    self.emit(AgentEvent::Training { job: id, step, total, backend });
                }
                Event::Checkpoint(c) => {
                    links.insert(u64::from(c.index), c.link.to_bytes32());
                    if failure.is_none()
                        && let Err(e) = self.claim_due(id, &mut next, &links, total).await
                    {
                        abort.store(true, Ordering::Relaxed);
                        failure = Some(e);
                    }
                }
                Event::Progress { .. } | Event::Epoch { .. } => {}
            }
        }
        let outcome = handle
            .await
            .map_err(|e| ExecutorError::BadChain(format!("training thread failed: {e}")))??;
        if let Some(e) = failure {
            return Err(e);
        }
        let Some(outcome) = outcome else { return Ok(None) };
        links = outcome
            .manifest
            .checkpoints
            .iter()
            .map(|c| (u64::from(c.index), c.link.to_bytes32()))
            .collect();
        self.claim_due(id, &mut next, &links, total).await?;
        self.emit(AgentEvent::Trained {
            job: id,
            steps: job.spec.steps,
            loss: outcome.train.loss_f64(),
            accuracy_bp: outcome.test.accuracy_bp(),
        });

        // Reuse a stored attestation for this job: never sign a second, different one.
        let signed = match self.attestation(id)? {
            Some(s)
                if s.attestation.job_id == id
                    && s.attestation.provider == self.chain.address
                    && s.chain_id == self.chain.chain_id =>
            {
                s
            }
            _ => {
                let s = attest(id, &outcome, &self.cfg.key, self.chain.chain_id)?;
                let json = serde_json::to_string_pretty(&s)
                    .map_err(|e| ExecutorError::corrupt("attestation", e.to_string()))?;
                store.write_atomic(ATTESTATION, json.as_bytes())?;
                s
            }
        };
        let a = &signed.attestation;
        if a.dataset != info.spec.dataset || a.initial_weights != info.spec.model {
            return Err(ExecutorError::ClaimMismatch {
                field: "dataset/initialWeights",
                reason: format!("job {id} names another dataset or model than the stored run"),
            });
        }
        let call = M::submitAttestationCall {
            attestation: M::TrainingAttestation::from(a),
            signature: Bytes::from(signed.signature.as_bytes().to_vec()),
        };
        let r = self
            .chain
            .send(&call, U256::ZERO)
            .await
            .map_err(|e| context(e, "submitting the attestation"))?;
        self.paid(&r);
        let commitment = a.commitment();
        self.record(id, |r| {
            r.phase = Phase::Attested;
            r.attestation = Some(commitment);
        })?;
        self.emit(AgentEvent::Attested { job: id, commitment });
        Ok(Some(()))
    }

    /// Claims every stream part whose checkpoint is in `links`.
    async fn claim_due(
        &mut self,
        id: u64,
        next: &mut Option<u32>,
        links: &BTreeMap<u64, B256>,
        total: u64,
    ) -> Result<()> {
        while let Some(j) = *next {
            let ckpt = checkpoint_for_part(j, total);
            let Some(link) = links.get(&ckpt) else { break };
            self.claim(id, j, ckpt, total, *link).await?;
            *next = (j < STREAM_PARTS).then_some(j + 1);
        }
        Ok(())
    }

    /// Settles if the challenge window is over; otherwise how long to wait.
    async fn settle(&mut self, id: u64, info: &M::JobInfo) -> Result<Option<Duration>> {
        let rec = self.state.jobs.get(&id).cloned();
        if let Some(mine) = rec.as_ref().and_then(|r| r.attestation)
            && mine != info.attestation
        {
            tracing::warn!(
                "job {id}: the chain holds attestation {}, this agent submitted {mine}",
                info.attestation
            );
        }
        if rec.is_none_or(|r| r.phase != Phase::Attested) {
            let commitment = info.attestation;
            self.record(id, |r| {
                r.phase = Phase::Attested;
                r.attestation = Some(commitment);
            })?;
        }
        let call = M::settleCall { jobId: id };
        // `eth_call` runs at the head block's timestamp, and a quiet chain makes no blocks: once
        // the wall clock is past the window, send (the new block's timestamp is the clock).
        let mut gas = None;
        if let Err(revert) = self.chain.simulate(&call, U256::ZERO).await? {
            let Some((until, now)) = too_early(&revert) else {
                return Err(ExecutorError::Reverted {
                    what: "settle".into(),
                    reason: revert.reason,
                });
            };
            let clock = unix_now().max(now);
            if clock < until {
                if self.waiting.get(&id) != Some(&until) {
                    self.waiting.insert(id, until);
                    self.emit(AgentEvent::Waiting { job: id, until });
                }
                return Ok(Some(Duration::from_secs(until - clock)));
            }
            gas = Some(SETTLE_GAS);
        }
        let r = self
            .chain
            .send_with_gas(&call, U256::ZERO, gas)
            .await
            .map_err(|e| context(e, "settling"))?;
        self.paid(&r);
        Ok(None)
    }
}

/// Seconds since the Unix epoch on this machine's clock.
fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// `(until, now)` of a "too early" revert: the `TooEarly` custom error, or the rules'
/// `Refused("too early: allowed from U, now N")` that the marketplace reverts with.
fn too_early(r: &chain::Revert) -> Option<(u64, u64)> {
    if let Ok(t) = TooEarly::abi_decode(&r.data) {
        return Some((t.until, t.now));
    }
    let reason =
        Refused::abi_decode(&r.data).map(|e| e.reason).unwrap_or_else(|_| r.reason.clone());
    let rest =
        &reason[reason.find("too early: allowed from ")? + "too early: allowed from ".len()..];
    let (until, now) = rest.split_once(", now ")?;
    let now: String = now.chars().take_while(char::is_ascii_digit).collect();
    Some((until.trim().parse().ok()?, now.parse().ok()?))
}

fn same_spec(a: &M::ProviderSpec, b: &M::ProviderSpec) -> bool {
    (a.gpuModel, a.gpuMemoryMb, a.gpuCount, a.pricePerGpuHour, a.region)
        == (b.gpuModel, b.gpuMemoryMb, b.gpuCount, b.pricePerGpuHour, b.region)
}

/// Prefixes an RPC / revert error with what the agent was doing.
fn context(e: ExecutorError, doing: &str) -> ExecutorError {
    match e {
        ExecutorError::Rpc { what, reason } => {
            ExecutorError::Rpc { what: format!("{doing}: {what}"), reason }
        }
        ExecutorError::Reverted { what, reason } => {
            ExecutorError::Reverted { what: format!("{doing}: {what}"), reason }
        }
        e => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_amounts_parse_and_format() {
        let unit = U256::from(10u64).pow(U256::from(18u64));
        assert_eq!(parse_tokens("1000").unwrap(), U256::from(1000u64) * unit);
        assert_eq!(parse_tokens("0.5").unwrap(), unit / U256::from(2u64));
        assert_eq!(parse_tokens("123wei").unwrap(), U256::from(123u64));
        assert_eq!(parse_tokens("0").unwrap(), U256::ZERO);
        assert!(parse_tokens("1.2.3").is_err());
        assert!(parse_tokens("abc").is_err());
        assert!(parse_tokens("0.0000000000000000001").is_err());
        assert_eq!(format_tokens(U256::from(1500u64) * unit / U256::from(1000u64)), "1.5");
        assert_eq!(format_tokens(U256::from(7u64) * unit), "7");
    }

    #[test]
    fn collateral_rounds_up_and_parts_spread_over_the_run() {
        assert_eq!(collateral(U256::from(20u64)), U256::from(2u64));
        assert_eq!(collateral(U256::from(21u64)), U256::from(3u64));
        assert_eq!(checkpoint_for_part(1, 30), 3);
        assert_eq!(checkpoint_for_part(10, 30), 30);
        assert_eq!(checkpoint_for_part(1, 4), 1);
        assert_eq!(checkpoint_for_part(10, 4), 4);
        let parts: Vec<u64> = (1..=10).map(|j| checkpoint_for_part(j, 20)).collect();
        assert_eq!(parts, vec![2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
    }

    #[test]
    fn too_early_reverts_decode() {
        let refused = Refused { reason: "too early: allowed from 120, now 118".into() };
        let r = chain::Revert { reason: String::new(), data: refused.abi_encode().into() };
        assert_eq!(too_early(&r), Some((120, 118)));
        let t = TooEarly { until: 9, now: 3 };
        let r = chain::Revert { reason: String::new(), data: t.abi_encode().into() };
        assert_eq!(too_early(&r), Some((9, 3)));
        let r = chain::Revert { reason: "unknown job".into(), data: Default::default() };
        assert_eq!(too_early(&r), None);
    }
}
