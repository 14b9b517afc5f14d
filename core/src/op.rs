//! `Op`: the typed state effects of a block, the one contract between sequencer and prover.
//!
//! The sequencer turns every transaction into ops (a [`Op::Fee`] for gas and nonce, then the
//! effects of the call) and applies them with an [`Executor`]; the prover proves that applying
//! exactly these ops to the old root gives the new root. The rules here are pure: given the same
//! state, rules, time and ops, every machine computes the same root.
//!
//! Atomicity: each op either applies completely or not at all ([`Executor::try_op`]), and
//! [`apply`] applies a whole list or nothing.

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256};
use serde::{Deserialize, Serialize};

use crate::codec::Codec;
use crate::config::{GenesisConfig, MarketParams};
use crate::hash::Digest;
use crate::state::*;
use crate::tree::{StateTree, TreeError, TreeStore};

/// Minimum provider collateral on accepting a job, in basis points of the job price.
pub const MIN_COLLATERAL_BPS: u128 = 1_000;
const BPS: u128 = 10_000;

/// One typed state effect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
// Field names are the documentation: actors are the transaction signer (checked by the rules),
// ids are state ids, amounts are base units.
#[allow(missing_docs)]
pub enum Op {
    /// Dev-chain genesis funding; refused unless the rules allow minting.
    Mint { to: Address, amount: Amount },
    /// Gas payment of one transaction: checks and bumps the nonce, burns the base fee, pays the tip.
    Fee { payer: Address, nonce: u64, burned: Amount, tip: Amount, beneficiary: Address },
    /// Native token transfer.
    Transfer { from: Address, to: Address, amount: Amount },
    /// Credit of the L1 deposit-queue entry `queue_index` (consumed strictly in order).
    Deposit { queue_index: u64, to: Address, amount: Amount },
    /// Burn on L2 for a claim on L1; gets the next withdrawal index.
    Withdraw { from: Address, l1_recipient: Address, amount: Amount },
    /// Bond tokens for a role.
    Stake { owner: Address, role: Role, amount: Amount },
    /// Start unbonding part of a role stake.
    Unstake { owner: Address, role: Role, amount: Amount },
    /// Withdraw unbonded stake after the delay.
    ClaimUnstaked { owner: Address, role: Role },
    /// Register as a provider, locking `stake`.
    RegisterProvider { owner: Address, spec: ProviderSpec, stake: Amount },
    /// Change an active provider's offer.
    UpdateProvider { owner: Address, spec: ProviderSpec },
    /// Start the provider's unbonding.
    DeregisterProvider { owner: Address },
    /// Withdraw the provider stake after unbonding and remove the registration.
    ReleaseProvider { owner: Address },
    /// Post a job (gets the next job id) and escrow its budget.
    PostJob { client: Address, spec: JobSpec, budget: Amount },
    /// Cancel an open or assigned (not yet accepted) job; full refund.
    CancelJob { job: u64, client: Address },
    /// A provider's bid on an open job.
    Bid { job: u64, provider: Address, price: Amount },
    /// Assign an open job to a provider at a price (matching engine or accepted bid).
    Assign { job: u64, provider: Address, price: Amount },
    /// The assigned provider accepts, locking collateral.
    Accept { job: u64, provider: Address, collateral: Amount },
    /// Streamed payment for a completed checkpoint.
    Stream { job: u64, provider: Address, amount: Amount },
    /// The provider's training attestation; opens the challenge window.
    Attest { job: u64, provider: Address, attestation: B256 },
    /// After the window: pay the provider, fee to treasury and burn, refund the rest.
    Settle { job: u64 },
    /// After the deadline without an attestation: refund the client, slash collateral.
    Timeout { job: u64 },
    /// A staked verifier proved a fault in the window: refund the client, slash collateral.
    Slash { job: u64, reporter: Address },
    /// Open a payment channel (gets the next channel id).
    OpenChannel { sender: Address, recipient: Address, deposit: Amount },
    /// Add funds to an open channel.
    TopUpChannel { channel: u64, sender: Address, amount: Amount },
    /// Redeem a signed cumulative voucher.
    Redeem { channel: u64, recipient: Address, cumulative: Amount },
    /// Close: the sender starts the challenge period, the recipient closes at once.
    CloseChannel { channel: u64, by: Address },
    /// Refund the rest to the sender once the challenge period is over.
    FinalizeChannel { channel: u64 },
    /// List a dataset or model (gets the next listing id).
    CreateListing { owner: Address, kind: ListingKind, content: B256, price: Amount, licence: B256 },
    /// Change a listing's price or availability.
    UpdateListing { listing: u64, owner: Address, price: Amount, active: bool },
    /// Buy an access grant.
    BuyAccess { listing: u64, buyer: Address },
}

/// Why an op was refused.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// Not enough balance.
    #[error("insufficient balance of {account}: need {needed}, have {available}")]
    InsufficientBalance {
        /// The account.
        account: Address,
        /// Amount required.
        needed: Amount,
        /// Amount available.
        available: Amount,
    },
    /// The nonce is not the account's next one.
    #[error("bad nonce for {account}: expected {expected}, got {got}")]
    BadNonce {
        /// The account.
        account: Address,
        /// The account's nonce.
        expected: u64,
        /// The op's nonce.
        got: u64,
    },
    /// Deposits must be consumed in queue order.
    #[error("deposit out of order: expected queue index {expected}, got {got}")]
    DepositOutOfOrder {
        /// Next queue index.
        expected: u64,
        /// The op's index.
        got: u64,
    },
    /// The entity does not exist.
    #[error("unknown {0:?}")]
    Unknown(StateKey),
    /// The entity already exists.
    #[error("already exists: {0:?}")]
    Exists(StateKey),
    /// The actor may not do this.
    #[error("{actor} is not authorised to {action}")]
    NotAuthorised {
        /// Who tried.
        actor: Address,
        /// What.
        action: &'static str,
    },
    /// The job is not in a state that allows this.
    #[error("job {job} is {status:?}, cannot {action}")]
    JobStatus {
        /// The job.
        job: u64,
        /// Its status.
        status: JobStatus,
        /// What was attempted.
        action: &'static str,
    },
    /// Too early: `until` has not been reached.
    #[error("too early: allowed from {until}, now {now}")]
    TooEarly {
        /// When it becomes allowed.
        until: Timestamp,
        /// Current time.
        now: Timestamp,
    },
    /// Too late: `deadline` has passed.
    #[error("too late: deadline {deadline}, now {now}")]
    TooLate {
        /// The deadline.
        deadline: Timestamp,
        /// Current time.
        now: Timestamp,
    },
    /// A value breaks a rule.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// Which value.
        what: &'static str,
        /// The rule.
        reason: &'static str,
    },
    /// Arithmetic would overflow.
    #[error("amount overflow")]
    Overflow,
    /// The state tree failed.
    #[error(transparent)]
    Tree(#[from] TreeError),
}

/// The op at `index` of a list failed.
#[derive(Debug, thiserror::Error)]
#[error("op {index} failed: {error}")]
pub struct ApplyError {
    /// Position in the list.
    pub index: usize,
    /// Why.
    pub error: OpError,
}

/// The parameters ops are checked against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rules {
    /// Marketplace parameters.
    pub market: MarketParams,
    /// One whole token in base units.
    pub unit: Amount,
    /// The L2 treasury account (receives the protocol-fee share).
    pub treasury: Address,
    /// Whether [`Op::Mint`] is allowed (dev chains at genesis).
    pub allow_mint: bool,
}

impl Rules {
    /// Rules of a genesis config, minting refused.
    pub fn from_config(cfg: &GenesisConfig) -> Self {
        Self {
            market: cfg.marketplace.clone(),
            unit: cfg.token.unit(),
            treasury: crate::system::TREASURY,
            allow_mint: false,
        }
    }
}

/// `amount × bps / 10 000`, the one rounding rule for fees and slashing shares.
pub fn bps(amount: Amount, bps: u16) -> Amount {
    // amount < 2^96 by the supply bound, so the product cannot overflow.
    amount.saturating_mul(u128::from(bps)) / BPS
}

fn add(a: Amount, b: Amount) -> Result<Amount, OpError> {
    a.checked_add(b).ok_or(OpError::Overflow)
}

fn ensure(cond: bool, what: &'static str, reason: &'static str) -> Result<(), OpError> {
    if cond { Ok(()) } else { Err(OpError::Invalid { what, reason }) }
}

fn authorise(actor: Address, expected: Address, action: &'static str) -> Result<(), OpError> {
    if actor == expected { Ok(()) } else { Err(OpError::NotAuthorised { actor, action }) }
}

type Writes = BTreeMap<StateKey, Option<Vec<u8>>>;

/// The writes of a block: canonical key → new canonical value (`None`: removed).
pub type BlockWrites = BTreeMap<StateKey, Option<Vec<u8>>>;

/// Applies ops over a tree, buffering writes; the tree itself is only read, so readers can
/// share it while a block executes. [`Executor::commit`] (or [`Executor::into_writes`] and
/// [`write_block`]) writes the block in one batched update.
#[derive(Debug)]
pub struct Executor<'t, S> {
    tree: &'t StateTree<S>,
    rules: Rules,
    now: Timestamp,
    block: Writes,
    pending: Writes,
}

impl<'t, S: TreeStore> Executor<'t, S> {
    /// Starts a block at time `now`.
    pub fn new(tree: &'t StateTree<S>, rules: Rules, now: Timestamp) -> Self {
        Self { tree, rules, now, block: Writes::new(), pending: Writes::new() }
    }

    /// The block time.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// The rules ops are checked against.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Reads a value as of the ops applied so far.
    pub fn read<V: StateValue>(&self, key: &StateKey) -> Result<Option<V>, OpError> {
        let raw = self.pending.get(key).or_else(|| self.block.get(key));
        match raw {
            Some(Some(bytes)) => Ok(Some(V::from_bytes(bytes).map_err(TreeError::from)?)),
            Some(None) => Ok(None),
            None => Ok(self.tree.get_value(key)?),
        }
    }

    fn get<V: StateValue>(&self, key: StateKey) -> Result<V, OpError> {
        self.read(&key)?.ok_or(OpError::Unknown(key))
    }

    fn get_or_default<V: StateValue>(&self, key: StateKey) -> Result<V, OpError> {
        Ok(self.read(&key)?.unwrap_or_default())
    }

    fn put<V: StateValue>(&mut self, key: StateKey, value: &V) {
        let bytes = value.to_bytes();
        // An all-default account is indistinguishable from an absent one: keep the tree sparse.
        let empty = bytes == V::default().to_bytes() && matches!(key, StateKey::Account(_));
        self.pending.insert(key, (!empty).then_some(bytes));
    }

    fn remove(&mut self, key: StateKey) {
        self.pending.insert(key, None);
    }

    fn account(&self, who: Address) -> Result<Account, OpError> {
        self.get_or_default(StateKey::Account(who))
    }

    fn debit(&mut self, who: Address, amount: Amount) -> Result<(), OpError> {
        let mut a = self.account(who)?;
        if a.balance < amount {
            return Err(OpError::InsufficientBalance {
                account: who,
                needed: amount,
                available: a.balance,
            });
        }
        a.balance -= amount;
        self.put(StateKey::Account(who), &a);
        Ok(())
    }

    fn credit(&mut self, who: Address, amount: Amount) -> Result<(), OpError> {
        if amount == 0 {
            return Ok(());
        }
        let mut a = self.account(who)?;
        a.balance = add(a.balance, amount)?;
        self.put(StateKey::Account(who), &a);
        Ok(())
    }

    fn totals(&self) -> Result<Totals, OpError> {
        self.get_or_default(StateKey::Totals)
    }

    fn burn(&mut self, amount: Amount) -> Result<(), OpError> {
        if amount == 0 {
            return Ok(());
        }
        let mut t = self.totals()?;
        t.burned = add(t.burned, amount)?;
        self.put(StateKey::Totals, &t);
        Ok(())
    }

    /// Moves `amount` from `who`'s balance into what the protocol holds (`Totals::locked`).
    fn lock(&mut self, who: Address, amount: Amount) -> Result<(), OpError> {
        self.debit(who, amount)?;
        self.adjust_locked(amount, true)
    }

    /// Pays `amount` of what the protocol holds to `who`.
    fn unlock(&mut self, who: Address, amount: Amount) -> Result<(), OpError> {
        self.adjust_locked(amount, false)?;
        self.credit(who, amount)
    }

    /// Burns `amount` of what the protocol holds.
    fn burn_locked(&mut self, amount: Amount) -> Result<(), OpError> {
        self.adjust_locked(amount, false)?;
        self.burn(amount)
    }

    fn adjust_locked(&mut self, amount: Amount, up: bool) -> Result<(), OpError> {
        if amount == 0 {
            return Ok(());
        }
        let mut t = self.totals()?;
        t.locked = if up {
            add(t.locked, amount)?
        } else {
            t.locked.checked_sub(amount).ok_or(OpError::Overflow)?
        };
        self.put(StateKey::Totals, &t);
        Ok(())
    }

    /// Applies one op atomically: on error nothing of it remains.
    pub fn try_op(&mut self, op: &Op) -> Result<(), OpError> {
        self.try_ops(std::slice::from_ref(op)).map_err(|e| e.error)
    }

    /// Applies a list of ops atomically (all or none), e.g. the effects of one transaction.
    pub fn try_ops(&mut self, ops: &[Op]) -> Result<(), ApplyError> {
        self.pending.clear();
        for (index, op) in ops.iter().enumerate() {
            if let Err(error) = self.dispatch(op) {
                self.pending.clear();
                return Err(ApplyError { index, error });
            }
        }
        let pending = std::mem::take(&mut self.pending);
        self.block.extend(pending);
        Ok(())
    }

    /// Checks that `ops` would apply now, without applying them.
    pub fn check_ops(&mut self, ops: &[Op]) -> Result<(), ApplyError> {
        self.pending.clear();
        let result = ops.iter().enumerate().try_for_each(|(index, op)| {
            self.dispatch(op).map_err(|error| ApplyError { index, error })
        });
        self.pending.clear();
        result
    }

    /// Keys written so far, with their new encodings (`None`: removed).
    pub fn writes(&self) -> &BlockWrites {
        &self.block
    }

    /// The block's writes, for [`write_block`].
    pub fn into_writes(self) -> BlockWrites {
        self.block
    }

    fn dispatch(&mut self, op: &Op) -> Result<(), OpError> {
        match op {
            Op::Mint { to, amount } => {
                ensure(self.rules.allow_mint, "mint", "minting is only allowed on dev chains")?;
                let mut t = self.totals()?;
                t.genesis_minted = add(t.genesis_minted, *amount)?;
                self.put(StateKey::Totals, &t);
                self.credit(*to, *amount)
            }
            Op::Fee { payer, nonce, burned, tip, beneficiary } => {
                let mut a = self.account(*payer)?;
                if a.nonce != *nonce {
                    return Err(OpError::BadNonce {
                        account: *payer,
                        expected: a.nonce,
                        got: *nonce,
                    });
                }
                a.nonce = a.nonce.checked_add(1).ok_or(OpError::Overflow)?;
                self.put(StateKey::Account(*payer), &a);
                self.debit(*payer, add(*burned, *tip)?)?;
                self.credit(*beneficiary, *tip)?;
                self.burn(*burned)
            }
            Op::Transfer { from, to, amount } => {
                self.debit(*from, *amount)?;
                self.credit(*to, *amount)
            }
            Op::Deposit { queue_index, to, amount } => {
                let mut t = self.totals()?;
                if t.deposits_consumed != *queue_index {
                    return Err(OpError::DepositOutOfOrder {
                        expected: t.deposits_consumed,
                        got: *queue_index,
                    });
                }
                t.deposits_consumed += 1;
                t.deposited = add(t.deposited, *amount)?;
                self.put(StateKey::Totals, &t);
                self.credit(*to, *amount)
            }
            Op::Withdraw { from, l1_recipient, amount } => {
                ensure(*amount > 0, "amount", "must be positive")?;
                ensure(*l1_recipient != Address::ZERO, "l1_recipient", "must not be zero")?;
                self.debit(*from, *amount)?;
                let mut t = self.totals()?;
                t.withdrawals += 1;
                t.withdrawn = add(t.withdrawn, *amount)?;
                self.put(StateKey::Totals, &t);
                Ok(())
            }
            Op::Stake { .. } | Op::Unstake { .. } | Op::ClaimUnstaked { .. } => self.staking(op),
            Op::RegisterProvider { .. }
            | Op::UpdateProvider { .. }
            | Op::DeregisterProvider { .. }
            | Op::ReleaseProvider { .. } => self.providers(op),
            Op::OpenChannel { .. }
            | Op::TopUpChannel { .. }
            | Op::Redeem { .. }
            | Op::CloseChannel { .. }
            | Op::FinalizeChannel { .. } => self.channels(op),
            Op::CreateListing { .. } | Op::UpdateListing { .. } | Op::BuyAccess { .. } => {
                self.listings(op)
            }
            _ => self.jobs(op),
        }
    }

    fn staking(&mut self, op: &Op) -> Result<(), OpError> {
        match *op {
            Op::Stake { owner, role, amount } => {
                ensure(amount > 0, "amount", "must be positive")?;
                self.lock(owner, amount)?;
                let key = StateKey::Stake(owner, role);
                let mut s: Stake = self.get_or_default(key)?;
                s.amount = add(s.amount, amount)?;
                self.put(key, &s);
                Ok(())
            }
            Op::Unstake { owner, role, amount } => {
                let key = StateKey::Stake(owner, role);
                let mut s: Stake = self.get(key)?;
                ensure(
                    amount > 0 && amount <= s.amount,
                    "amount",
                    "must be positive and at most the stake",
                )?;
                s.amount -= amount;
                s.unbonding = add(s.unbonding, amount)?;
                s.unbond_at = self.now.saturating_add(self.rules.market.provider_unbonding_secs);
                self.put(key, &s);
                Ok(())
            }
            Op::ClaimUnstaked { owner, role } => {
                let key = StateKey::Stake(owner, role);
                let mut s: Stake = self.get(key)?;
                ensure(s.unbonding > 0, "unbonding", "nothing to claim")?;
                if self.now < s.unbond_at {
                    return Err(OpError::TooEarly { until: s.unbond_at, now: self.now });
                }
                let amount = std::mem::take(&mut s.unbonding);
                if s.amount == 0 {
                    self.remove(key)
                } else {
                    self.put(key, &s)
                }
                self.unlock(owner, amount)
            }
            _ => unreachable!("dispatch routes only staking ops here"),
        }
    }

    fn providers(&mut self, op: &Op) -> Result<(), OpError> {
        match op {
            Op::RegisterProvider { owner, spec, stake } => {
                let key = StateKey::Provider(*owner);
                if self.read::<Provider>(&key)?.is_some() {
                    return Err(OpError::Exists(key));
                }
                validate_spec(spec)?;
                let min = u128::from(self.rules.market.min_provider_stake) * self.rules.unit;
                ensure(*stake >= min, "stake", "below the minimum provider stake")?;
                self.lock(*owner, *stake)?;
                let p = Provider {
                    spec: spec.clone(),
                    stake: *stake,
                    registered_at: self.now,
                    ..Default::default()
                };
                self.put(key, &p);
                Ok(())
            }
            Op::UpdateProvider { owner, spec } => {
                let key = StateKey::Provider(*owner);
                let mut p: Provider = self.get(key)?;
                ensure(p.status == ProviderStatus::Active, "provider", "is unbonding")?;
                validate_spec(spec)?;
                p.spec = spec.clone();
                self.put(key, &p);
                Ok(())
            }
            Op::DeregisterProvider { owner } => {
                let key = StateKey::Provider(*owner);
                let mut p: Provider = self.get(key)?;
                ensure(p.status == ProviderStatus::Active, "provider", "is already unbonding")?;
                p.status = ProviderStatus::Unbonding;
                p.unbonding_until =
                    self.now.saturating_add(self.rules.market.provider_unbonding_secs);
                self.put(key, &p);
                Ok(())
            }
            Op::ReleaseProvider { owner } => {
                let key = StateKey::Provider(*owner);
                let p: Provider = self.get(key)?;
                ensure(p.status == ProviderStatus::Unbonding, "provider", "must deregister first")?;
                if self.now < p.unbonding_until {
                    return Err(OpError::TooEarly { until: p.unbonding_until, now: self.now });
                }
                self.remove(key);
                self.unlock(*owner, p.stake)
            }
            _ => unreachable!("dispatch routes only provider ops here"),
        }
    }

    fn job(&self, id: u64) -> Result<Job, OpError> {
        self.get(StateKey::Job(id))
    }

    fn expect_status(
        job_id: u64,
        job: &Job,
        allowed: &[JobStatus],
        action: &'static str,
    ) -> Result<(), OpError> {
        if allowed.contains(&job.status) {
            Ok(())
        } else {
            Err(OpError::JobStatus { job: job_id, status: job.status, action })
        }
    }

    /// Pays `amount` out of a job's escrow to `to`.
    fn release_escrow(&mut self, id: u64, to: Address, amount: Amount) -> Result<(), OpError> {
        let key = StateKey::Escrow(id);
        let mut e: Escrow = self.get(key)?;
        ensure(amount <= e.amount, "amount", "exceeds the escrow")?;
        e.amount -= amount;
        self.put(key, &e);
        self.unlock(to, amount)
    }

    /// Refunds the whole escrow to the payer and removes it.
    fn refund_escrow(&mut self, id: u64) -> Result<(), OpError> {
        let key = StateKey::Escrow(id);
        let e: Escrow = self.get(key)?;
        self.remove(key);
        self.unlock(e.payer, e.amount)
    }

    fn record_failure(&mut self, provider: Address, disputed: bool) -> Result<(), OpError> {
        let key = StateKey::Provider(provider);
        if let Some(mut p) = self.read::<Provider>(&key)? {
            p.failed = p.failed.saturating_add(1);
            p.disputed = p.disputed.saturating_add(u32::from(disputed));
            self.put(key, &p);
        }
        Ok(())
    }

    /// Slashes a job's collateral: the burn share is burned, the rest goes to `to`.
    fn slash_collateral(&mut self, job: &Job, to: Address) -> Result<(), OpError> {
        let burned = bps(job.collateral, self.rules.market.slash_burn_bps);
        self.burn_locked(burned)?;
        self.unlock(to, job.collateral - burned)
    }

    fn jobs(&mut self, op: &Op) -> Result<(), OpError> {
        let now = self.now;
        match op {
            Op::PostJob { client, spec, budget } => {
                ensure(*budget > 0, "budget", "must be positive")?;
                ensure(spec.deadline > now, "deadline", "must be in the future")?;
                ensure(spec.requirements.gpu_count > 0, "gpu_count", "must be positive")?;
                self.lock(*client, *budget)?;
                let mut t = self.totals()?;
                let id = t.next_job;
                t.next_job += 1;
                self.put(StateKey::Totals, &t);
                let job = Job {
                    spec: spec.clone(),
                    client: *client,
                    posted_at: now,
                    ..Default::default()
                };
                self.put(StateKey::Job(id), &job);
                self.put(StateKey::Escrow(id), &Escrow { payer: *client, amount: *budget });
                Ok(())
            }
            Op::CancelJob { job: id, client } => {
                let mut job = self.job(*id)?;
                authorise(*client, job.client, "cancel the job")?;
                Self::expect_status(*id, &job, &[JobStatus::Open, JobStatus::Assigned], "cancel")?;
                job.status = JobStatus::Refunded;
                self.put(StateKey::Job(*id), &job);
                self.refund_escrow(*id)
            }
            Op::Bid { job: id, provider, price } => {
                let job = self.job(*id)?;
                Self::expect_status(*id, &job, &[JobStatus::Open], "bid")?;
                self.check_match(&job, *id, *provider, *price)?;
                self.put(StateKey::Bid(*id, *provider), &Bid { price: *price, placed_at: now });
                Ok(())
            }
            Op::Assign { job: id, provider, price } => {
                let mut job = self.job(*id)?;
                Self::expect_status(*id, &job, &[JobStatus::Open], "assign")?;
                self.check_match(&job, *id, *provider, *price)?;
                job.status = JobStatus::Assigned;
                job.provider = *provider;
                job.price = *price;
                self.put(StateKey::Job(*id), &job);
                Ok(())
            }
            Op::Accept { job: id, provider, collateral } => {
                let mut job = self.job(*id)?;
                authorise(*provider, job.provider, "accept the job")?;
                Self::expect_status(*id, &job, &[JobStatus::Assigned], "accept")?;
                ensure(
                    *collateral >= job.price * MIN_COLLATERAL_BPS / BPS,
                    "collateral",
                    "below 10% of the price",
                )?;
                self.lock(*provider, *collateral)?;
                job.status = JobStatus::Running;
                job.collateral = *collateral;
                self.put(StateKey::Job(*id), &job);
                Ok(())
            }
            Op::Stream { job: id, provider, amount } => {
                let mut job = self.job(*id)?;
                authorise(*provider, job.provider, "stream the job's payment")?;
                Self::expect_status(*id, &job, &[JobStatus::Running], "stream")?;
                let payable = job.price - bps(job.price, self.rules.market.protocol_fee_bps);
                job.streamed = add(job.streamed, *amount)?;
                ensure(
                    job.streamed <= payable,
                    "amount",
                    "streams more than the price after fees",
                )?;
                self.put(StateKey::Job(*id), &job);
                self.release_escrow(*id, *provider, *amount)
            }
            Op::Attest { job: id, provider, attestation } => {
                let mut job = self.job(*id)?;
                authorise(*provider, job.provider, "attest the job")?;
                Self::expect_status(*id, &job, &[JobStatus::Running], "attest")?;
                if now > job.spec.deadline {
                    return Err(OpError::TooLate { deadline: job.spec.deadline, now });
                }
                ensure(*attestation != B256::ZERO, "attestation", "must not be zero")?;
                job.status = JobStatus::Attested;
                job.attestation = *attestation;
                job.attested_at = now;
                self.put(StateKey::Job(*id), &job);
                Ok(())
            }
            Op::Settle { job: id } => {
                let mut job = self.job(*id)?;
                Self::expect_status(*id, &job, &[JobStatus::Attested], "settle")?;
                let until = job.attested_at.saturating_add(self.rules.market.challenge_window_secs);
                if now < until {
                    return Err(OpError::TooEarly { until, now });
                }
                let fee = bps(job.price, self.rules.market.protocol_fee_bps);
                let burned = bps(fee, self.rules.market.fee_burn_bps);
                let to_provider = job.price - fee - job.streamed;
                self.release_escrow(*id, job.provider, to_provider)?;
                let treasury = self.rules.treasury;
                self.release_escrow(*id, treasury, fee - burned)?;
                let e: Escrow = self.get(StateKey::Escrow(*id))?;
                // The burned share leaves the escrow and is counted as burned.
                self.put(StateKey::Escrow(*id), &Escrow { amount: e.amount - burned, ..e });
                self.burn_locked(burned)?;
                self.refund_escrow(*id)?;
                self.unlock(job.provider, job.collateral)?;
                let pkey = StateKey::Provider(job.provider);
                if let Some(mut p) = self.read::<Provider>(&pkey)? {
                    p.completed = p.completed.saturating_add(1);
                    self.put(pkey, &p);
                }
                job.status = JobStatus::Settled;
                self.put(StateKey::Job(*id), &job);
                Ok(())
            }
            Op::Timeout { job: id } => {
                let mut job = self.job(*id)?;
                Self::expect_status(
                    *id,
                    &job,
                    &[JobStatus::Open, JobStatus::Assigned, JobStatus::Running],
                    "time out",
                )?;
                if now <= job.spec.deadline {
                    return Err(OpError::TooEarly { until: job.spec.deadline + 1, now });
                }
                if job.status == JobStatus::Running {
                    self.slash_collateral(&job, job.client)?;
                }
                if job.status != JobStatus::Open {
                    self.record_failure(job.provider, false)?;
                }
                job.status = JobStatus::Refunded;
                self.put(StateKey::Job(*id), &job);
                self.refund_escrow(*id)
            }
            Op::Slash { job: id, reporter } => {
                let mut job = self.job(*id)?;
                Self::expect_status(*id, &job, &[JobStatus::Attested], "slash")?;
                let deadline =
                    job.attested_at.saturating_add(self.rules.market.challenge_window_secs);
                if now >= deadline {
                    return Err(OpError::TooLate { deadline, now });
                }
                let stake: Stake =
                    self.get_or_default(StateKey::Stake(*reporter, Role::Verifier))?;
                ensure(stake.amount > 0, "reporter", "must hold a verifier stake")?;
                self.slash_collateral(&job, *reporter)?;
                self.record_failure(job.provider, true)?;
                job.status = JobStatus::Refunded;
                self.put(StateKey::Job(*id), &job);
                self.refund_escrow(*id)
            }
            _ => unreachable!("dispatch routes only job ops here"),
        }
    }

    fn check_match(
        &self,
        job: &Job,
        id: u64,
        provider: Address,
        price: Amount,
    ) -> Result<(), OpError> {
        let p: Provider = self.get(StateKey::Provider(provider))?;
        ensure(provider != job.client, "provider", "cannot serve its own job")?;
        ensure(
            crate::market::meets_requirements(job, &p),
            "provider",
            "is not active or does not meet the job's requirements",
        )?;
        let escrow: Escrow = self.get(StateKey::Escrow(id))?;
        let max = crate::market::max_total_price(job);
        ensure(
            price > 0 && price <= escrow.amount && price <= max,
            "price",
            "must be positive and within budget and max price",
        )
    }

    fn channel(&self, id: u64) -> Result<Channel, OpError> {
        self.get(StateKey::Channel(id))
    }

    fn channels(&mut self, op: &Op) -> Result<(), OpError> {
        let now = self.now;
        match *op {
            Op::OpenChannel { sender, recipient, deposit } => {
                ensure(deposit > 0, "deposit", "must be positive")?;
                ensure(sender != recipient, "recipient", "must differ from the sender")?;
                self.lock(sender, deposit)?;
                let mut t = self.totals()?;
                let id = t.next_channel;
                t.next_channel += 1;
                self.put(StateKey::Totals, &t);
                self.put(
                    StateKey::Channel(id),
                    &Channel { sender, recipient, deposit, redeemed: 0, closing_at: 0 },
                );
                Ok(())
            }
            Op::TopUpChannel { channel, sender, amount } => {
                let mut c = self.channel(channel)?;
                authorise(sender, c.sender, "top up the channel")?;
                ensure(c.closing_at == 0, "channel", "is closing")?;
                self.lock(sender, amount)?;
                c.deposit = add(c.deposit, amount)?;
                self.put(StateKey::Channel(channel), &c);
                Ok(())
            }
            Op::Redeem { channel, recipient, cumulative } => {
                let mut c = self.channel(channel)?;
                authorise(recipient, c.recipient, "redeem the channel")?;
                if c.closing_at != 0 && now >= c.closing_at {
                    return Err(OpError::TooLate { deadline: c.closing_at, now });
                }
                ensure(cumulative > c.redeemed, "cumulative", "voucher already redeemed")?;
                ensure(cumulative <= c.deposit, "cumulative", "exceeds the channel deposit")?;
                let pay = cumulative - c.redeemed;
                c.redeemed = cumulative;
                self.put(StateKey::Channel(channel), &c);
                self.unlock(recipient, pay)
            }
            Op::CloseChannel { channel, by } => {
                let mut c = self.channel(channel)?;
                if by == c.recipient {
                    self.remove(StateKey::Channel(channel));
                    return self.unlock(c.sender, c.deposit - c.redeemed);
                }
                authorise(by, c.sender, "close the channel")?;
                ensure(c.closing_at == 0, "channel", "is already closing")?;
                c.closing_at = now.saturating_add(self.rules.market.channel_challenge_secs);
                self.put(StateKey::Channel(channel), &c);
                Ok(())
            }
            Op::FinalizeChannel { channel } => {
                let c = self.channel(channel)?;
                ensure(c.closing_at != 0, "channel", "is not closing")?;
                if now < c.closing_at {
                    return Err(OpError::TooEarly { until: c.closing_at, now });
                }
                self.remove(StateKey::Channel(channel));
                self.unlock(c.sender, c.deposit - c.redeemed)
            }
            _ => unreachable!("dispatch routes only channel ops here"),
        }
    }

    fn listings(&mut self, op: &Op) -> Result<(), OpError> {
        match *op {
            Op::CreateListing { owner, kind, content, price, licence } => {
                ensure(content != B256::ZERO, "content", "must not be zero")?;
                let mut t = self.totals()?;
                let id = t.next_listing;
                t.next_listing += 1;
                self.put(StateKey::Totals, &t);
                self.put(
                    StateKey::Listing(id),
                    &Listing { owner, kind, content, price, licence, active: true },
                );
                Ok(())
            }
            Op::UpdateListing { listing, owner, price, active } => {
                let mut l: Listing = self.get(StateKey::Listing(listing))?;
                authorise(owner, l.owner, "update the listing")?;
                l.price = price;
                l.active = active;
                self.put(StateKey::Listing(listing), &l);
                Ok(())
            }
            Op::BuyAccess { listing, buyer } => {
                let l: Listing = self.get(StateKey::Listing(listing))?;
                ensure(l.active, "listing", "is not active")?;
                ensure(buyer != l.owner, "buyer", "owns the listing")?;
                let key = StateKey::Grant(listing, buyer);
                if self.read::<Grant>(&key)?.is_some() {
                    return Err(OpError::Exists(key));
                }
                let fee = bps(l.price, self.rules.market.protocol_fee_bps);
                let burned = bps(fee, self.rules.market.fee_burn_bps);
                self.debit(buyer, l.price)?;
                self.credit(l.owner, l.price - fee)?;
                let treasury = self.rules.treasury;
                self.credit(treasury, fee - burned)?;
                self.burn(burned)?;
                self.put(key, &Grant { granted_at: self.now, paid: l.price });
                Ok(())
            }
            _ => unreachable!("dispatch routes only listing ops here"),
        }
    }
}

fn validate_spec(spec: &ProviderSpec) -> Result<(), OpError> {
    ensure(spec.gpu_count > 0, "gpu_count", "must be positive")?;
    ensure(spec.gpu_memory_mb > 0, "gpu_memory_mb", "must be positive")?;
    ensure(spec.price_per_gpu_hour > 0, "price_per_gpu_hour", "must be positive")
}

/// Writes a block's writes to the tree in one batched update; returns the new root.
pub fn write_block<S: TreeStore>(
    tree: &mut StateTree<S>,
    writes: BlockWrites,
) -> Result<Digest, TreeError> {
    tree.apply_batch(writes.into_iter().map(|(k, v)| (k.to_bytes(), v)))
}

/// Applies `ops` in order at time `now`; all or nothing. Returns the new root.
pub fn apply<S: TreeStore>(
    tree: &mut StateTree<S>,
    rules: &Rules,
    now: Timestamp,
    ops: &[Op],
) -> Result<Digest, ApplyError> {
    let mut exec = Executor::new(tree, rules.clone(), now);
    exec.try_ops(ops)?;
    let writes = exec.into_writes();
    write_block(tree, writes).map_err(|e| ApplyError { index: ops.len(), error: e.into() })
}
