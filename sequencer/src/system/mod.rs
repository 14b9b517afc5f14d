//! Native system contracts: Rust code that revm runs as precompiles at fixed addresses, with a
//! Solidity interface so that wallets call them with plain calldata and read plain logs.
//!
//! A call is decoded with `sol!` bindings, turned into ctm-core ops, checked against the state
//! (a dry run: nothing is applied until the whole transaction succeeds, see [`crate::exec`]),
//! charged a fixed gas cost per function, and answered with ABI-encoded output, an event, or a
//! revert carrying an ABI-encoded custom error.

/// Routes calldata to handlers by selector: `route!(call, Type => (gas, handler), ...)`.
macro_rules! route {
    ($c:expr, $( $call:ty => ($gas:expr, $f:expr) ),+ $(,)?) => {{
        let sel = $crate::system::selector($c.input);
        $(
            if sel == Some(<$call as alloy_sol_types::SolCall>::SELECTOR) {
                let out = $crate::system::decode::<$call>($c.input).and_then(|args| $f($c, args));
                return ($gas, out);
            }
        )+
        ($crate::system::BASE_GAS, Err($crate::system::Revert::error($crate::system::UnknownFunction {})))
    }};
}

mod bridge;
mod channels;
mod listings;
mod marketplace;
mod reexec;
mod staking;

use std::cell::RefCell;
use std::rc::Rc;

use alloy::primitives::{Address, Bytes, Log, LogData, U256};
use alloy_sol_types::{SolError, SolEvent};
use ctm_core::op::{ApplyError, Executor, Op, OpError};
use ctm_core::system::SYSTEM_CONTRACTS;
use ctm_core::tree::TreeStore;
use revm::context::Cfg;
use revm::context_interface::{ContextTr, JournalTr};
use revm::handler::{EthPrecompiles, PrecompileProvider};
use revm::interpreter::{CallInputs, Gas, InstructionResult, InterpreterResult};
use revm::primitives::AddressSet;
use revm::primitives::hardfork::SpecId;

use ctm_core::abi;
pub use ctm_core::abi::*;

/// Whether `addr` is a system contract.
pub fn is_system(addr: &Address) -> bool {
    SYSTEM_CONTRACTS.contains(addr)
}

/// What one system-contract call did.
#[derive(Debug, Default)]
pub struct CallOutcome {
    /// Ops to apply if the transaction succeeds.
    pub ops: Vec<Op>,
    /// ABI-encoded return data.
    pub output: Bytes,
    /// Events (without the emitting address, which is the contract's).
    pub events: Vec<LogData>,
}

/// Why a system-contract call reverts.
#[derive(Debug)]
pub struct Revert(pub Bytes);

impl Revert {
    /// A revert with a `sol!` custom error.
    pub fn error<E: SolError>(e: E) -> Self {
        Revert(e.abi_encode().into())
    }
}

impl From<OpError> for Revert {
    fn from(e: OpError) -> Self {
        Revert::error(abi::op_error(&e))
    }
}

impl From<ApplyError> for Revert {
    fn from(e: ApplyError) -> Self {
        e.error.into()
    }
}

/// A call as the system contracts see it.
#[derive(Debug)]
pub struct Call<'a, 't, S> {
    /// The executor (for reads and dry runs).
    pub exec: &'a mut Executor<'t, S>,
    /// `msg.sender`.
    pub caller: Address,
    /// `msg.value`, in base units.
    pub value: u128,
    /// Calldata.
    pub input: &'a [u8],
    /// Whether state changes are forbidden (STATICCALL).
    pub is_static: bool,
    /// Block-level facts.
    pub env: &'a SystemEnv,
}

/// Block-level facts the system contracts need.
#[derive(Clone, Debug, Default)]
pub struct SystemEnv {
    /// Chain id (EIP-712 domains).
    pub chain_id: u64,
    /// Block timestamp.
    pub now: u64,
    /// Registered providers as of the start of the block (the matching engine's candidates).
    pub providers: std::sync::Arc<Vec<Address>>,
}

impl<S: TreeStore> Call<'_, '_, S> {
    /// Refuses value on a non-payable function.
    pub fn non_payable(&self) -> Result<(), Revert> {
        if self.value == 0 { Ok(()) } else { Err(Revert::error(NonPayable {})) }
    }

    /// Dry-runs `ops`; on success returns an outcome that will apply them.
    pub fn effects(
        &mut self,
        ops: Vec<Op>,
        output: Bytes,
        events: Vec<LogData>,
    ) -> Result<CallOutcome, Revert> {
        if self.is_static {
            return Err(Revert::error(StaticCallStateChange {}));
        }
        self.exec.check_ops(&ops)?;
        Ok(CallOutcome { ops, output, events })
    }
}

/// Gas charged for every system call on top of the intrinsic cost.
pub const BASE_GAS: u64 = 5_000;

/// Dispatches one call to the contract at `to`. Returns the gas cost and the outcome.
pub fn dispatch<S: TreeStore>(
    to: Address,
    call: &mut Call<'_, '_, S>,
) -> (u64, Result<CallOutcome, Revert>) {
    match to {
        ctm_core::system::BRIDGE => bridge::call(call),
        ctm_core::system::STAKING => staking::call(call),
        ctm_core::system::MARKETPLACE => marketplace::call(call),
        ctm_core::system::CHANNELS => channels::call(call),
        ctm_core::system::LISTINGS => listings::call(call),
        _ => (BASE_GAS, Err(Revert::error(UnknownFunction {}))),
    }
}

/// Decodes calldata for `C`, or reverts with `InvalidCalldata`.
pub fn decode<C: alloy_sol_types::SolCall>(input: &[u8]) -> Result<C, Revert> {
    C::abi_decode(input).map_err(|_| Revert::error(InvalidCalldata {}))
}

/// The 4-byte selector of calldata.
pub fn selector(input: &[u8]) -> Option<[u8; 4]> {
    input.get(..4).and_then(|s| s.try_into().ok())
}

/// revm precompile provider: Ethereum's precompiles plus the system contracts.
#[derive(Debug)]
pub struct SystemPrecompiles<'t, S> {
    eth: EthPrecompiles,
    exec: Rc<RefCell<Executor<'t, S>>>,
    staged: Rc<RefCell<Vec<Op>>>,
    env: SystemEnv,
    warm: AddressSet,
}

impl<'t, S> SystemPrecompiles<'t, S> {
    /// A provider staging ops of successful system calls into `staged`.
    pub fn new(
        exec: Rc<RefCell<Executor<'t, S>>>,
        staged: Rc<RefCell<Vec<Op>>>,
        env: SystemEnv,
    ) -> Self {
        let eth = EthPrecompiles::new(SpecId::PRAGUE);
        let mut warm = eth.warm_addresses().clone();
        warm.extend(SYSTEM_CONTRACTS);
        Self { eth, exec, staged, env, warm }
    }
}

fn result(kind: InstructionResult, output: Bytes, gas_limit: u64, cost: u64) -> InterpreterResult {
    let mut gas = Gas::new(gas_limit);
    if !gas.record_regular_cost(cost) {
        return InterpreterResult::new(
            InstructionResult::PrecompileOOG,
            Bytes::new(),
            Gas::new_spent_with_reservoir(gas_limit, 0),
        );
    }
    InterpreterResult::new(kind, output, gas)
}

impl<'t, S: TreeStore, CTX: ContextTr> PrecompileProvider<CTX> for SystemPrecompiles<'t, S>
where
    CTX::Cfg: Cfg<Spec = SpecId>,
{
    type Output = InterpreterResult;

    fn set_spec(&mut self, spec: SpecId) -> bool {
        <EthPrecompiles as PrecompileProvider<CTX>>::set_spec(&mut self.eth, spec)
    }

    fn run(
        &mut self,
        ctx: &mut CTX,
        inputs: &CallInputs,
    ) -> Result<Option<InterpreterResult>, String> {
        let to = inputs.bytecode_address;
        if !is_system(&to) {
            return self.eth.run(ctx, inputs);
        }
        let gas_limit = inputs.gas_limit;
        if inputs.target_address != to {
            let out = Revert::error(DelegateCallRefused {}).0;
            return Ok(Some(result(
                InstructionResult::Revert,
                out,
                gas_limit,
                BASE_GAS.min(gas_limit),
            )));
        }
        let Ok(value) = u128::try_from(inputs.call_value()) else {
            return Ok(Some(result(
                InstructionResult::Revert,
                Revert::error(NonPayable {}).0,
                gas_limit,
                BASE_GAS.min(gas_limit),
            )));
        };
        let input = inputs.input.bytes(ctx);
        let mut exec = self.exec.borrow_mut();
        let mut call = Call {
            exec: &mut exec,
            caller: inputs.caller,
            value,
            input: &input,
            is_static: inputs.is_static,
            env: &self.env,
        };
        let (cost, outcome) = dispatch(to, &mut call);
        drop(exec);
        Ok(Some(match outcome {
            Ok(o) => {
                let r = result(InstructionResult::Return, o.output, gas_limit, cost);
                if r.result == InstructionResult::Return {
                    self.staged.borrow_mut().extend(o.ops);
                    for data in o.events {
                        ctx.journal_mut().log(Log { address: to, data });
                    }
                }
                r
            }
            Err(Revert(data)) => {
                result(InstructionResult::Revert, data, gas_limit, cost.min(gas_limit))
            }
        }))
    }

    fn warm_addresses(&self) -> &AddressSet {
        &self.warm
    }

    fn contains(&self, address: &Address) -> bool {
        is_system(address) || self.eth.contains(address)
    }
}

/// Converts a base-unit amount from an ABI `uint256`, refusing values above `u128`.
pub fn amount(v: U256) -> Result<u128, Revert> {
    u128::try_from(v).map_err(|_| Revert::error(AmountTooLarge {}))
}

/// Encodes an event for [`CallOutcome::events`].
pub fn event<E: SolEvent>(e: &E) -> LogData {
    e.encode_log_data()
}
