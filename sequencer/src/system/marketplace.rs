//! The compute marketplace: providers, jobs, the matching engine, streamed checkpoint payments,
//! attestations, settlement, timeouts and disputes. Rules live in ctm-core; this module turns
//! calls into ops and events.

use alloy::primitives::{Address, B256, Bytes, Signature, U256};
use alloy_sol_types::{SolCall, SolValue};
use ctm_core::attestation::Attestation;
use ctm_core::market::{best_match, reputation};
use ctm_core::op::Op;
use ctm_core::state::*;
use ctm_core::tree::TreeStore;

use super::{BASE_GAS, Call, CallOutcome, Revert, amount, event};
use ctm_core::abi::IMarketplace as M;

/// Gas of a state-changing marketplace call.
const WRITE_GAS: u64 = BASE_GAS + 40_000;
/// Gas of a call that runs the matching engine or checks a signature.
const HEAVY_GAS: u64 = BASE_GAS + 80_000;
/// Gas of a re-execution dispute (a bounded native training segment).
const REEXEC_GAS: u64 = BASE_GAS + 3_000_000;
/// Streamed payments: half the price after fees, in this many equal parts.
pub(super) const STREAM_PARTS: u128 = 10;

pub(super) fn call<S: TreeStore>(c: &mut Call<'_, '_, S>) -> (u64, Result<CallOutcome, Revert>) {
    route!(c,
        M::registerProviderCall => (WRITE_GAS, register),
        M::updateProviderCall => (WRITE_GAS, update),
        M::deregisterProviderCall => (WRITE_GAS, deregister),
        M::releaseProviderCall => (WRITE_GAS, release),
        M::postJobCall => (HEAVY_GAS, post_job),
        M::cancelJobCall => (WRITE_GAS, cancel),
        M::bidCall => (WRITE_GAS, bid),
        M::acceptBidCall => (WRITE_GAS, accept_bid),
        M::matchJobCall => (HEAVY_GAS, match_job),
        M::acceptJobCall => (WRITE_GAS, accept_job),
        M::claimCheckpointCall => (WRITE_GAS, claim_checkpoint),
        M::submitAttestationCall => (HEAVY_GAS, attest),
        M::settleCall => (WRITE_GAS, settle),
        M::timeoutJobCall => (WRITE_GAS, timeout),
        M::disputeCall => (HEAVY_GAS, dispute),
        M::disputeReexecutionCall => (REEXEC_GAS, dispute_reexecution),
        M::getProviderCall => (BASE_GAS, get_provider),
        M::getJobCall => (BASE_GAS, get_job),
        M::reputationCall => (BASE_GAS, get_reputation),
        M::nextJobIdCall => (BASE_GAS, next_job_id),
    )
}

fn spec_of(s: &M::ProviderSpec) -> Result<ProviderSpec, Revert> {
    Ok(ProviderSpec {
        gpu_model: s.gpuModel.0,
        gpu_memory_mb: s.gpuMemoryMb,
        gpu_count: s.gpuCount,
        price_per_gpu_hour: amount(s.pricePerGpuHour)?,
        region: s.region.0,
    })
}

fn job_spec_of(s: &M::JobSpec) -> Result<JobSpec, Revert> {
    let r = &s.requirements;
    Ok(JobSpec {
        model: s.model,
        dataset: s.dataset,
        requirements: JobRequirements {
            gpu_model: r.gpuModel.0,
            min_gpu_memory_mb: r.minGpuMemoryMb,
            gpu_count: r.gpuCount,
            gpu_hours: r.gpuHours,
        },
        max_price_per_gpu_hour: amount(s.maxPricePerGpuHour)?,
        deadline: s.deadline,
        priority: s.priority,
    })
}

fn job<S: TreeStore>(c: &Call<'_, '_, S>, id: u64) -> Result<Job, Revert> {
    c.exec
        .read(&StateKey::Job(id))?
        .ok_or_else(|| Revert::error(super::UnknownEntity { kind: "job".into() }))
}

fn register<S: TreeStore>(
    c: &mut Call<'_, '_, S>,
    a: M::registerProviderCall,
) -> Result<CallOutcome, Revert> {
    let spec = spec_of(&a.spec)?;
    let log = event(&M::ProviderRegistered {
        provider: c.caller,
        gpuModel: a.spec.gpuModel,
        gpuCount: a.spec.gpuCount,
        pricePerGpuHour: a.spec.pricePerGpuHour,
        stake: U256::from(c.value),
    });
    c.effects(
        vec![Op::RegisterProvider { owner: c.caller, spec, stake: c.value }],
        Bytes::new(),
        vec![log],
    )
}

fn update<S: TreeStore>(
    c: &mut Call<'_, '_, S>,
    a: M::updateProviderCall,
) -> Result<CallOutcome, Revert> {
    c.non_payable()?;
    let spec = spec_of(&a.spec)?;
    let log = event(&M::ProviderUpdated {
        provider: c.caller,
        gpuModel: a.spec.gpuModel,
        gpuCount: a.spec.gpuCount,
        pricePerGpuHour: a.spec.pricePerGpuHour,
    });
    c.effects(vec![Op::UpdateProvider { owner: c.caller, spec }], Bytes::new(), vec![log])
}

fn deregister<S: TreeStore>(
    c: &mut Call<'_, '_, S>,
    _: M::deregisterProviderCall,
) -> Result<CallOutcome, Revert> {
    c.non_payable()?;
    let until = c.env.now.saturating_add(c.exec.rules().market.provider_unbonding_secs);
    let log = event(&M::ProviderDeregistered { provider: c.caller, unbondingUntil: until });
    c.effects(vec![Op::DeregisterProvider { owner: c.caller }], Bytes::new(), vec![log])
}

fn release<S: TreeStore>(
    c: &mut Call<'_, '_, S>,
    _: M::releaseProviderCall,
) -> Result<CallOutcome, Revert> {
    c.non_payable()?;
    let p: Provider = c.exec.read(&StateKey::Provider(c.caller))?.unwrap_or_default();
    let log = event(&M::ProviderReleased { provider: c.caller, stake: U256::from(p.stake) });
    c.effects(vec![Op::ReleaseProvider { owner: c.caller }], Bytes::new(), vec![log])
}

/// The matching engine over the block's provider snapshot, reading each candidate's current state.
fn find_match<S: TreeStore>(
    c: &Call<'_, '_, S>,
    job: &Job,
    budget: Amount,
) -> Result<Option<(Address, Amount)>, Revert> {
    let mut candidates = Vec::with_capacity(c.env.providers.len());
    for addr in c.env.providers.iter() {
        if let Some(p) = c.exec.read::<Provider>(&StateKey::Provider(*addr))? {
            candidates.push((*addr, p));
        }
    }
    let rules = c.exec.rules();
    Ok(best_match(
        job,
        budget,
        candidates.iter().map(|(a, p)| (a, p)),
        c.env.now,
        &rules.market,
        rules.unit,
    ))
}

fn assigned_event(job: u64, provider: Address, price: Amount) -> alloy::primitives::LogData {
    event(&M::JobAssigned { jobId: job, provider, price: U256::from(price) })
}

fn post_job<S: TreeStore>(
    c: &mut Call<'_, '_, S>,
    a: M::postJobCall,
) -> Result<CallOutcome, Revert> {
    let spec = job_spec_of(&a.spec)?;
    let totals: Totals = c.exec.read(&StateKey::Totals)?.unwrap_or_default();
    let id = totals.next_job;
    let mut ops = vec![Op::PostJob { client: c.caller, spec: spec.clone(), budget: c.value }];
    let mut logs = vec![event(&M::JobPosted {
        jobId: id,
        client: c.caller,
        model: spec.model,
        dataset: spec.dataset,
        budget: U256::from(c.value),
        deadline: spec.deadline,
        priority: spec.priority,
    })];
    let job = Job { spec, client: c.caller, posted_at: c.env.now, ..Default::default() };
    if let Some((provider, price)) = find_match(c, &job, c.value)? {
        ops.push(Op::Assign { job: id, provider, price });
        logs.push(assigned_event(id, provider, price));
    }
    c.effects(ops, M::postJobCall::abi_encode_returns(&id).into(), logs)
}

fn cancel<S: TreeStore>(
    c: &mut Call<'_, '_, S>,
    a: M::cancelJobCall,
) -> Result<CallOutcome, Revert> {
    c.non_payable()?;
    let log = event(&M::JobCancelled { jobId: a.jobId });
    c.effects(vec![Op::CancelJob { job: a.jobId, client: c.caller }], Bytes::new(), vec![log])
}

fn bid<S: TreeStore>(c: &mut Call<'_, '_, S>, a: M::bidCall) -> Result<CallOutcome, Revert> {
    c.non_payable()?;
    let price = amount(a.price)?;
    let log = event(&M::BidPlaced { jobId: a.jobId, provider: c.caller, price: a.price });
    c.effects(vec![Op::Bid { job: a.jobId, provider: c.caller, price }], Bytes::new(), vec![log])
}

fn accept_bid<S: TreeStore>(
    c: &mut Call<'_, '_, S>,
    a: M::acceptBidCall,
) -> Result<CallOutcome, Revert> {
    c.non_payable()?;
    let j = job(c, a.jobId)?;
    if j.client != c.caller {
        return Err(Revert::error(super::NotAuthorised {
            actor: c.caller,
            action: "accept a bid".into(),
        }));
    }
    let b: Bid = c
        .exec
        .read(&StateKey::Bid(a.jobId, a.provider))?
        .ok_or_else(|| Revert::error(super::UnknownEntity { kind: "bid".into() }))?;
    let log = assigned_event(a.jobId, a.provider, b.price);
    c.effects(
        vec![Op::Assign { job: a.jobId, provider: a.provider, price: b.price }],
        Bytes::new(),
        vec![log],
    )
}

fn match_job<S: TreeStore>(
    c: &mut Call<'_, '_, S>,
    a: M::matchJobCall,
) -> Result<CallOutcome, Revert> {
    c.non_payable()?;
    let j = job(c, a.jobId)?;
    let escrow: Escrow = c.exec.read(&StateKey::Escrow(a.jobId))?.unwrap_or_default();
    let (provider, price) = find_match(c, &j, escrow.amount)?.ok_or_else(|| {
        Revert::error(super::Refused { reason: "no registered provider matches the job".into() })
    })?;
    let out = M::matchJobCall::abi_encode_returns(&provider).into();
    c.effects(
        vec![Op::Assign { job: a.jobId, provider, price }],
        out,
        vec![assigned_event(a.jobId, provider, price)],
    )
}

fn accept_job<S: TreeStore>(
    c: &mut Call<'_, '_, S>,
    a: M::acceptJobCall,
) -> Result<CallOutcome, Revert> {
    let log = event(&M::JobAccepted {
        jobId: a.jobId,
        provider: c.caller,
        collateral: U256::from(c.value),
    });
    c.effects(
        vec![Op::Accept { job: a.jobId, provider: c.caller, collateral: c.value }],
        Bytes::new(),
        vec![log],
    )
}

fn claim_checkpoint<S: TreeStore>(
    c: &mut Call<'_, '_, S>,
    a: M::claimCheckpointCall,
) -> Result<CallOutcome, Revert> {
    c.non_payable()?;
    let j = job(c, a.jobId)?;
    let fee = ctm_core::op::bps(j.price, c.exec.rules().market.protocol_fee_bps);
    let part = (j.price - fee.min(j.price)) / 2 / STREAM_PARTS;
    let expected = j.streamed.checked_div(part).map_or(u32::MAX, |n| n as u32 + 1);
    if a.index != expected || u128::from(a.index) > STREAM_PARTS {
        return Err(Revert::error(super::InvalidValue {
            what: "index".into(),
            reason: format!("next claimable checkpoint is {expected} of {STREAM_PARTS}"),
        }));
    }
    let log = event(&M::CheckpointPaid {
        jobId: a.jobId,
        index: a.index,
        checkpoint: a.checkpoint,
        amount: U256::from(part),
    });
    c.effects(
        vec![Op::Stream { job: a.jobId, provider: c.caller, amount: part }],
        Bytes::new(),
        vec![log],
    )
}

fn signature(bytes: &[u8]) -> Result<Signature, Revert> {
    Signature::try_from(bytes).map_err(|_| {
        Revert::error(super::InvalidValue {
            what: "signature".into(),
            reason: "must be 65 bytes r ‖ s ‖ v".into(),
        })
    })
}

/// Checks a signed attestation against the job: signer, provider, dataset and initial weights.
fn check_attestation<S: TreeStore>(
    c: &Call<'_, '_, S>,
    j: &Job,
    att: &Attestation,
    sig: &[u8],
) -> Result<(), Revert> {
    let sig = signature(sig)?;
    att.verify(&sig, c.env.chain_id).map_err(|e| {
        Revert::error(super::InvalidValue { what: "attestation".into(), reason: e.to_string() })
    })?;
    let bad = |reason: &str| {
        Revert::error(super::InvalidValue { what: "attestation".into(), reason: reason.into() })
    };
    if att.provider != j.provider {
        return Err(bad("provider is not the job's provider"));
    }
    if att.dataset != j.spec.dataset {
        return Err(bad("dataset commitment differs from the job's"));
    }
    if att.initial_weights != j.spec.model {
        return Err(bad("initial weights differ from the job's model commitment"));
    }
    Ok(())
}

fn attest<S: TreeStore>(
    c: &mut Call<'_, '_, S>,
    a: M::submitAttestationCall,
) -> Result<CallOutcome, Revert> {
    c.non_payable()?;
    let att = Attestation::from(&a.attestation);
    let j = job(c, att.job_id)?;
    if c.caller != j.provider {
        return Err(Revert::error(super::NotAuthorised {
            actor: c.caller,
            action: "attest the job".into(),
        }));
    }
    check_attestation(c, &j, &att, &a.signature)?;
    let commitment = att.commitment();
    let log = event(&M::AttestationSubmitted {
        jobId: att.job_id,
        provider: c.caller,
        commitment,
        steps: att.steps,
        heldOutAccuracy: att.held_out_accuracy,
    });
    c.effects(
        vec![Op::Attest { job: att.job_id, provider: c.caller, attestation: commitment }],
        Bytes::new(),
        vec![log],
    )
}

fn settle<S: TreeStore>(c: &mut Call<'_, '_, S>, a: M::settleCall) -> Result<CallOutcome, Revert> {
    c.non_payable()?;
    let j = job(c, a.jobId)?;
    let fee = ctm_core::op::bps(j.price, c.exec.rules().market.protocol_fee_bps);
    let log = event(&M::JobSettled {
        jobId: a.jobId,
        provider: j.provider,
        paid: U256::from(j.price - fee.min(j.price)),
        fee: U256::from(fee),
    });
    c.effects(vec![Op::Settle { job: a.jobId }], Bytes::new(), vec![log])
}

fn timeout<S: TreeStore>(
    c: &mut Call<'_, '_, S>,
    a: M::timeoutJobCall,
) -> Result<CallOutcome, Revert> {
    c.non_payable()?;
    let j = job(c, a.jobId)?;
    let slashed = if j.status == JobStatus::Running { j.collateral } else { 0 };
    let log = event(&M::JobTimedOut { jobId: a.jobId, slashed: U256::from(slashed) });
    c.effects(vec![Op::Timeout { job: a.jobId }], Bytes::new(), vec![log])
}

/// Dispute evidence accepted today: an *equivocation* — a second attestation for the same job,
/// validly signed by the provider, that differs from the one recorded. ABI:
/// `abi.encode(TrainingAttestation other, bytes signature)`.
fn dispute<S: TreeStore>(
    c: &mut Call<'_, '_, S>,
    a: M::disputeCall,
) -> Result<CallOutcome, Revert> {
    c.non_payable()?;
    let j = job(c, a.jobId)?;
    let (other, sig) = <(M::TrainingAttestation, Bytes)>::abi_decode_params(&a.evidence)
        .map_err(|_| Revert::error(super::InvalidCalldata {}))?;
    let other = Attestation::from(&other);
    let bad = |reason: &str| {
        Revert::error(super::InvalidValue { what: "evidence".into(), reason: reason.into() })
    };
    if other.job_id != a.jobId {
        return Err(bad("attestation is for another job"));
    }
    let sig = signature(&sig)?;
    other.verify(&sig, c.env.chain_id).map_err(|e| bad(&e.to_string()))?;
    if other.provider != j.provider {
        return Err(bad("not signed by the job's provider"));
    }
    if other.commitment() == j.attestation || j.attestation == B256::ZERO {
        return Err(bad("no conflicting attestation: the provider did not equivocate"));
    }
    let log = event(&M::JobSlashed {
        jobId: a.jobId,
        reporter: c.caller,
        slashed: U256::from(j.collateral),
    });
    c.effects(vec![Op::Slash { job: a.jobId, reporter: c.caller }], Bytes::new(), vec![log])
}

/// A fault proven by re-executing one training segment (see [`super::reexec`]).
fn dispute_reexecution<S: TreeStore>(
    c: &mut Call<'_, '_, S>,
    a: M::disputeReexecutionCall,
) -> Result<CallOutcome, Revert> {
    c.non_payable()?;
    let j = job(c, a.jobId)?;
    if a.attestation.jobId != a.jobId {
        return Err(Revert::error(super::InvalidValue {
            what: "evidence".into(),
            reason: "attestation is for another job".into(),
        }));
    }
    // Cheap checks (window, reporter stake) before the expensive re-execution.
    c.exec.check_ops(&[Op::Slash { job: a.jobId, reporter: c.caller }])?;
    super::reexec::prove_fault(&j, &a)?;
    let log = event(&M::JobSlashed {
        jobId: a.jobId,
        reporter: c.caller,
        slashed: U256::from(j.collateral),
    });
    c.effects(vec![Op::Slash { job: a.jobId, reporter: c.caller }], Bytes::new(), vec![log])
}

fn provider_info<S: TreeStore>(
    c: &Call<'_, '_, S>,
    addr: Address,
) -> Result<M::ProviderInfo, Revert> {
    let p: Provider = c.exec.read(&StateKey::Provider(addr))?.unwrap_or_default();
    let rules = c.exec.rules();
    Ok(M::ProviderInfo {
        spec: M::ProviderSpec {
            gpuModel: p.spec.gpu_model.into(),
            gpuMemoryMb: p.spec.gpu_memory_mb,
            gpuCount: p.spec.gpu_count,
            pricePerGpuHour: U256::from(p.spec.price_per_gpu_hour),
            region: p.spec.region.into(),
        },
        stake: U256::from(p.stake),
        status: p.status as u8,
        unbondingUntil: p.unbonding_until,
        registeredAt: p.registered_at,
        completed: p.completed,
        failed: p.failed,
        disputed: p.disputed,
        reputation: if p.stake == 0 {
            0
        } else {
            reputation(&p, c.env.now, &rules.market, rules.unit)
        },
    })
}

fn get_provider<S: TreeStore>(
    c: &mut Call<'_, '_, S>,
    a: M::getProviderCall,
) -> Result<CallOutcome, Revert> {
    let info = provider_info(c, a.provider)?;
    Ok(CallOutcome {
        output: M::getProviderCall::abi_encode_returns(&info).into(),
        ..Default::default()
    })
}

fn get_reputation<S: TreeStore>(
    c: &mut Call<'_, '_, S>,
    a: M::reputationCall,
) -> Result<CallOutcome, Revert> {
    let info = provider_info(c, a.provider)?;
    Ok(CallOutcome {
        output: M::reputationCall::abi_encode_returns(&info.reputation).into(),
        ..Default::default()
    })
}

fn get_job<S: TreeStore>(c: &mut Call<'_, '_, S>, a: M::getJobCall) -> Result<CallOutcome, Revert> {
    let j = job(c, a.jobId)?;
    let escrow: Escrow = c.exec.read(&StateKey::Escrow(a.jobId))?.unwrap_or_default();
    let r = &j.spec.requirements;
    let info = M::JobInfo {
        spec: M::JobSpec {
            model: j.spec.model,
            dataset: j.spec.dataset,
            requirements: M::JobRequirements {
                gpuModel: r.gpu_model.into(),
                minGpuMemoryMb: r.min_gpu_memory_mb,
                gpuCount: r.gpu_count,
                gpuHours: r.gpu_hours,
            },
            maxPricePerGpuHour: U256::from(j.spec.max_price_per_gpu_hour),
            deadline: j.spec.deadline,
            priority: j.spec.priority,
        },
        client: j.client,
        status: j.status as u8,
        provider: j.provider,
        price: U256::from(j.price),
        collateral: U256::from(j.collateral),
        streamed: U256::from(j.streamed),
        escrow: U256::from(escrow.amount),
        attestation: j.attestation,
        attestedAt: j.attested_at,
        postedAt: j.posted_at,
    };
    Ok(CallOutcome {
        output: M::getJobCall::abi_encode_returns(&info).into(),
        ..Default::default()
    })
}

fn next_job_id<S: TreeStore>(
    c: &mut Call<'_, '_, S>,
    _: M::nextJobIdCall,
) -> Result<CallOutcome, Revert> {
    let t: Totals = c.exec.read(&StateKey::Totals)?.unwrap_or_default();
    Ok(CallOutcome {
        output: M::nextJobIdCall::abi_encode_returns(&t.next_job).into(),
        ..Default::default()
    })
}
