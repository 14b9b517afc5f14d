//! Block execution: revm runs every transaction, the marketplace runs as native system
//! contracts inside it, and each transaction's effects become ctm-core `Op`s.
//!
//! The ctm-core state (read through an [`Executor`]) is the only state: revm reads accounts
//! through [`StateDb`] and its own state diff is discarded. What a transaction did is expressed as
//! ops — the system contracts' effects, a `Transfer` for a plain value transfer and a `Fee` for
//! gas and the nonce — and applied to the executor, so the next transaction reads the result.

use std::cell::RefCell;
use std::rc::Rc;

use alloy::consensus::{Transaction, TxEnvelope};
use alloy::eips::Typed2718;
use alloy::primitives::{Address, B256, Bytes, Log, U256};
use ctm_core::op::{Executor, Op};
use ctm_core::state::{Account, StateKey};
use ctm_core::tree::TreeStore;
use revm::context::{BlockEnv, Context, TxEnv};
use revm::context_interface::result::{EVMError, ExecutionResult, InvalidTransaction};
use revm::database_interface::{DBErrorMarker, Database};
use revm::handler::MainContext;
use revm::handler::{ExecuteEvm, MainBuilder};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{KECCAK_EMPTY, TxKind};
use revm::state::{AccountInfo, Bytecode};

use crate::system::{self, SystemPrecompiles};

/// The executor shared between revm's database view and the system contracts.
pub type SharedExecutor<'t, S> = Rc<RefCell<Executor<'t, S>>>;

/// A database read failed.
#[derive(Debug, thiserror::Error)]
#[error("state read: {0}")]
pub struct StateDbError(pub String);

impl DBErrorMarker for StateDbError {}

/// revm's view of the ctm-core state.
#[derive(Debug)]
pub struct StateDb<'t, S> {
    exec: SharedExecutor<'t, S>,
}

impl<'t, S> StateDb<'t, S> {
    /// A view over `exec`.
    pub fn new(exec: SharedExecutor<'t, S>) -> Self {
        Self { exec }
    }
}

/// The code every system contract address reports (a lone INVALID opcode: calls are served
/// natively before any code runs).
pub fn system_marker_code() -> Bytecode {
    Bytecode::new_raw(Bytes::from_static(&[0xfe]))
}

impl<S: TreeStore> Database for StateDb<'_, S> {
    type Error = StateDbError;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, StateDbError> {
        if system::is_system(&address) {
            let code = system_marker_code();
            return Ok(Some(AccountInfo::new(U256::ZERO, 1, code.hash_slow(), code)));
        }
        let acct: Option<Account> = self
            .exec
            .borrow()
            .read(&StateKey::Account(address))
            .map_err(|e| StateDbError(e.to_string()))?;
        Ok(acct.map(|a| AccountInfo::from_balance(U256::from(a.balance)).with_nonce(a.nonce)))
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, StateDbError> {
        if code_hash == KECCAK_EMPTY {
            return Ok(Bytecode::default());
        }
        Ok(system_marker_code())
    }

    fn storage(&mut self, _: Address, _: U256) -> Result<U256, StateDbError> {
        // No EVM contract code runs on this chain, so no EVM storage exists.
        Ok(U256::ZERO)
    }

    fn block_hash(&mut self, _number: u64) -> Result<B256, StateDbError> {
        Ok(B256::ZERO)
    }
}

/// Block-level inputs of execution.
#[derive(Clone, Debug)]
pub struct BlockContext {
    /// Chain id.
    pub chain_id: u64,
    /// Block number.
    pub number: u64,
    /// Block timestamp (seconds).
    pub timestamp: u64,
    /// EIP-1559 base fee.
    pub base_fee: u64,
    /// Block gas limit.
    pub gas_limit: u64,
    /// Tip recipient.
    pub beneficiary: Address,
    /// Registered providers at the start of the block (matching candidates).
    pub providers: std::sync::Arc<Vec<Address>>,
}

/// The outcome of one included transaction.
#[derive(Clone, Debug)]
pub struct TxOutcome {
    /// Success (1) or revert/halt (0).
    pub success: bool,
    /// Gas charged.
    pub gas_used: u64,
    /// Price per gas paid.
    pub effective_gas_price: u128,
    /// Logs.
    pub logs: Vec<Log>,
    /// Return or revert data.
    pub output: Bytes,
    /// The ops this transaction applied, in order.
    pub ops: Vec<Op>,
}

/// Why a transaction could not be included at all (it is dropped, not reverted).
#[derive(Debug, thiserror::Error)]
pub enum ExcludeReason {
    /// revm rejected it (nonce, balance, gas limits …).
    #[error("invalid transaction: {0}")]
    Invalid(String),
    /// The state could not be read or written.
    #[error("state error: {0}")]
    State(String),
    /// Its withdrawals do not fit in what is left of the block's withdrawal budget (nothing was
    /// applied: the block producer keeps it for a later block, or drops it if it alone carries
    /// more than [`MAX_WITHDRAWALS_PER_BATCH`](ctm_core::l1::MAX_WITHDRAWALS_PER_BATCH)).
    #[error("{count} withdrawals, {left} left in the block")]
    WithdrawalCap {
        /// Withdrawals the transaction would initiate.
        count: usize,
        /// Withdrawals the block could still take.
        left: usize,
    },
}

/// The revm transaction environment of a signed transaction.
pub fn tx_env(tx: &TxEnvelope, sender: Address) -> TxEnv {
    let mut env = TxEnv {
        tx_type: tx.ty(),
        caller: sender,
        gas_limit: tx.gas_limit(),
        gas_price: tx.max_fee_per_gas(),
        kind: tx.kind(),
        value: tx.value(),
        data: tx.input().clone(),
        nonce: tx.nonce(),
        chain_id: tx.chain_id(),
        gas_priority_fee: tx.max_priority_fee_per_gas(),
        ..Default::default()
    };
    if let Some(list) = tx.access_list() {
        env.access_list = list.clone();
    }
    env
}

type EvmContext<'t, S> = revm::handler::MainnetContext<StateDb<'t, S>>;
type BlockEvmInner<'t, S> = revm::context::Evm<
    EvmContext<'t, S>,
    (),
    revm::handler::instructions::EthInstructions<
        revm::interpreter::interpreter::EthInterpreter,
        EvmContext<'t, S>,
    >,
    SystemPrecompiles<'t, S>,
    revm::handler::EthFrame<revm::interpreter::interpreter::EthInterpreter>,
>;

/// One revm instance for a whole block (building it per transaction costs more than a transfer).
pub struct BlockEvm<'t, S: TreeStore> {
    evm: BlockEvmInner<'t, S>,
    staged: Rc<RefCell<Vec<Op>>>,
}

impl<S: TreeStore> std::fmt::Debug for BlockEvm<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockEvm").finish_non_exhaustive()
    }
}

impl<'t, S: TreeStore> BlockEvm<'t, S> {
    /// An EVM over `exec` for `block`; `checks` off (calls, estimates) skips nonce, balance and
    /// base-fee checks.
    pub fn new(exec: &SharedExecutor<'t, S>, block: &BlockContext, checks: bool) -> Self {
        let staged: Rc<RefCell<Vec<Op>>> = Rc::default();
        let sys = system::SystemEnv {
            chain_id: block.chain_id,
            now: block.timestamp,
            providers: block.providers.clone(),
        };
        let precompiles = SystemPrecompiles::new(exec.clone(), staged.clone(), sys);
        let evm = Context::mainnet()
            .with_db(StateDb::new(exec.clone()))
            .modify_cfg_chained(|c| {
                c.chain_id = block.chain_id;
                c.spec = SpecId::PRAGUE;
                c.disable_nonce_check = !checks;
                c.disable_balance_check = !checks;
                c.disable_base_fee = !checks;
            })
            .modify_block_chained(|b: &mut BlockEnv| {
                b.number = U256::from(block.number);
                b.timestamp = U256::from(block.timestamp);
                b.basefee = block.base_fee;
                b.gas_limit = block.gas_limit;
                b.beneficiary = block.beneficiary;
                b.prevrandao = Some(B256::ZERO);
            })
            .build_mainnet()
            .with_precompiles(precompiles);
        Self { evm, staged }
    }

    /// Runs one transaction; returns the result and the ops its system calls staged (nothing is
    /// applied: the caller decides).
    pub fn run(
        &mut self,
        env: TxEnv,
    ) -> Result<(ExecutionResult, Vec<Op>), EVMError<StateDbError, InvalidTransaction>> {
        self.staged.borrow_mut().clear();
        let result = self.evm.transact(env)?.result;
        Ok((result, self.staged.take()))
    }
}

/// Runs one revm call against `exec` (a fresh EVM; for `eth_call` and `eth_estimateGas`).
pub fn run_evm<'t, S: TreeStore>(
    exec: &SharedExecutor<'t, S>,
    block: &BlockContext,
    env: TxEnv,
    checks: bool,
) -> Result<(ExecutionResult, Vec<Op>), EVMError<StateDbError, InvalidTransaction>> {
    BlockEvm::new(exec, block, checks).run(env)
}

/// Executes one transaction for inclusion: on success applies its ops to `exec`. A transaction
/// that would initiate more than `withdrawals_left` withdrawals (`Op::Withdraw`) is refused with
/// [`ExcludeReason::WithdrawalCap`] before anything is applied.
pub fn execute_tx<'t, S: TreeStore>(
    evm: &mut BlockEvm<'t, S>,
    exec: &SharedExecutor<'t, S>,
    block: &BlockContext,
    tx: &TxEnvelope,
    sender: Address,
    withdrawals_left: usize,
) -> Result<TxOutcome, ExcludeReason> {
    let env = tx_env(tx, sender);
    let (result, effects) = evm.run(env).map_err(|e| match e {
        EVMError::Transaction(t) => ExcludeReason::Invalid(t.to_string()),
        other => ExcludeReason::State(other.to_string()),
    })?;
    let gas_used = result.tx_gas_used();
    let effective_gas_price = tx.effective_gas_price(Some(block.base_fee));
    let base = u128::from(block.base_fee).min(effective_gas_price);
    let fee = Op::Fee {
        payer: sender,
        nonce: tx.nonce(),
        burned: u128::from(gas_used) * base,
        tip: u128::from(gas_used) * (effective_gas_price - base),
        beneficiary: block.beneficiary,
    };
    let success = result.is_success();
    let mut ops = Vec::with_capacity(effects.len() + 2);
    if success {
        ops.extend(effects);
        let value = tx.value();
        if let TxKind::Call(to) = tx.kind()
            && !value.is_zero()
            && !system::is_system(&to)
        {
            let amount = u128::try_from(value)
                .map_err(|_| ExcludeReason::Invalid("value above 2^128".into()))?;
            ops.push(Op::Transfer { from: sender, to, amount });
        }
    }
    ops.push(fee);
    let count = withdrawal_count(&ops);
    if count > withdrawals_left {
        return Err(ExcludeReason::WithdrawalCap { count, left: withdrawals_left });
    }
    let applied = exec.borrow_mut().try_ops(&ops);
    if let Err(e) = applied {
        // revm accepted what the rules refuse (it checked a stale view): drop the transaction.
        return Err(ExcludeReason::Invalid(e.to_string()));
    }
    let output = match &result {
        ExecutionResult::Success { output, .. } => output.data().clone(),
        ExecutionResult::Revert { output, .. } => output.clone(),
        ExecutionResult::Halt { .. } => Bytes::new(),
    };
    let logs = if success { result.into_logs() } else { Vec::new() };
    Ok(TxOutcome { success, gas_used, effective_gas_price, logs, output, ops })
}

/// How many L2 → L1 withdrawals `ops` initiate.
pub fn withdrawal_count(ops: &[Op]) -> usize {
    ops.iter().filter(|op| matches!(op, Op::Withdraw { .. })).count()
}
