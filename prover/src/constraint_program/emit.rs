//! Instruction emission: registers by liveness, lane bounds, reductions where a bound requires.

use std::collections::{BTreeSet, HashMap};

use super::compile::{LIN_TERMS, Plan, Step};
use super::dag::{Dag, Node};
use super::{Instruction, Lin, MAX_TEMPS, P, ProgramError, SUB_SHIFT, ctl, op};

/// Lane bound from which a result is reduced at once: keeps `a + b` and `a + (p << 8) − b`
/// below 2^64.
const REDUCE_AT: u128 = 1 << 62;
/// Largest lane bound of a folded value: the fold adds it to `acc·alpha`, whose lanes are
/// below `4p² < 2^64 − 2^58`.
const FOLD_MAX: u128 = (1 << 58) - 1;

/// Temporaries: a free list, lowest first.
struct Temps {
    free: BTreeSet<usize>,
    high_water: usize,
}

impl Temps {
    fn alloc(&mut self) -> Result<usize, ProgramError> {
        let r = self.free.pop_first().unwrap_or(self.high_water);
        self.high_water = self.high_water.max(r + 1);
        if self.high_water > MAX_TEMPS {
            return Err(ProgramError::TooMany("temporaries"));
        }
        Ok(r)
    }
}

/// A register operand: its register and lane bound (inclusive).
type Operand = (usize, u128);

/// Emits the scheduled steps as instructions, tracking registers and lane bounds.
pub(super) struct Emitter<'a> {
    dag: &'a Dag,
    plans: &'a [Plan],
    /// Index of the last step reading each node.
    last_use: Vec<usize>,
    /// Temporary of each computed node.
    reg: Vec<usize>,
    /// Lane bound of each computed node.
    bound: Vec<u128>,
    temps: Temps,
    pool: Vec<u32>,
    pool_index: HashMap<u32, usize>,
    code: Vec<[u8; 4]>,
    /// Index in `code` of the last instruction's first word.
    last: usize,
    /// Instructions emitted (a `LIN` takes two words).
    instructions: usize,
    reads: BTreeSet<usize>,
    /// Temporaries holding the accumulators saved by open groups.
    stashed: Vec<usize>,
}

/// Counts of an emitted program.
pub(super) struct Stats {
    pub(super) temps: usize,
    pub(super) constants: usize,
    pub(super) instructions: usize,
    pub(super) reads: Vec<usize>,
}

impl<'a> Emitter<'a> {
    pub(super) fn new(dag: &'a Dag, plans: &'a [Plan], steps: &[Step]) -> Self {
        let n = dag.nodes.len();
        let mut last_use = vec![0; n];
        for (i, step) in steps.iter().enumerate() {
            match *step {
                Step::Fold(id) => last_use[id as usize] = i,
                Step::Compute(id) => {
                    for o in plans[id as usize].operands() {
                        last_use[o as usize] = i;
                    }
                }
                Step::Merge { factor, pow } => {
                    last_use[factor as usize] = i;
                    last_use[pow as usize] = i;
                }
                Step::Stash => {}
            }
        }
        Self {
            dag,
            plans,
            last_use,
            reg: vec![usize::MAX; n],
            bound: vec![0; n],
            temps: Temps { free: BTreeSet::new(), high_water: 0 },
            pool: Vec::new(),
            pool_index: HashMap::new(),
            code: Vec::new(),
            last: 0,
            instructions: 0,
            reads: BTreeSet::new(),
            stashed: Vec::new(),
        }
    }

    /// Emits every step; returns the encoded program (pool and instructions) and its counts.
    pub(super) fn run(mut self, steps: &[Step]) -> Result<(Vec<u8>, Stats), ProgramError> {
        let mut i = 0;
        while i < steps.len() {
            i = self.step(steps, i)?;
        }
        self.control(ctl::STOP, 0, 0)?;
        let n = u16::try_from(self.pool.len()).map_err(|_| ProgramError::TooMany("constants"))?;
        let mut code = n.to_be_bytes().to_vec();
        code.extend(self.pool.iter().flat_map(|c| c.to_be_bytes()));
        code.extend(self.code.iter().flatten());
        let stats = Stats {
            temps: self.temps.high_water,
            constants: self.pool.len(),
            instructions: self.instructions,
            reads: self.reads.into_iter().collect(),
        };
        Ok((code, stats))
    }

    /// Pool index of constant `c`.
    fn constant(&mut self, c: u32) -> usize {
        *self.pool_index.entry(c).or_insert_with(|| {
            self.pool.push(c);
            self.pool.len() - 1
        })
    }

    /// Register and bound of a node in a register (an input or a computed node).
    fn operand(&mut self, id: u32) -> Operand {
        if let Node::Input(word) = self.dag.nodes[id as usize] {
            self.reads.insert(word);
            return (self.dag.layout.input(word), (P - 1) as u128);
        }
        (self.reg[id as usize], self.bound[id as usize])
    }

    /// Releases the temporaries whose last use is step `i`.
    fn release(&mut self, i: usize, ids: &[u32]) {
        for (j, &id) in ids.iter().enumerate() {
            let temp = self.reg[id as usize] != usize::MAX;
            if temp && self.last_use[id as usize] == i && !ids[..j].contains(&id) {
                self.temps.free.insert(self.reg[id as usize]);
            }
        }
    }

    /// A control instruction (`op` 7) with sub-operation `sub` in the destination field.
    fn control(&mut self, sub: usize, a: usize, b: usize) -> Result<(), ProgramError> {
        self.emit(op::CTRL, sub, a, b)
    }

    fn emit(&mut self, op: u8, d: usize, a: usize, b: usize) -> Result<(), ProgramError> {
        let ins = Instruction { op, fold: false, d, a, b };
        self.push(&ins.encode().ok_or(ProgramError::TooMany("registers"))?);
        Ok(())
    }

    /// Appends one encoded instruction (one or two words).
    fn push(&mut self, bytes: &[u8]) {
        self.last = self.code.len();
        self.instructions += 1;
        self.code.extend(bytes.chunks_exact(4).map(|w| [w[0], w[1], w[2], w[3]]));
    }

    /// Processes step `i` (and the fold right after it, when it can be fused); returns the
    /// next step.
    fn step(&mut self, steps: &[Step], i: usize) -> Result<usize, ProgramError> {
        match steps[i] {
            Step::Stash => {
                let t = self.temps.alloc()?;
                self.control(ctl::STASH, t, 0)?;
                self.stashed.push(t);
                Ok(i + 1)
            }
            Step::Merge { factor, pow } => self.merge(i, factor, pow).map(|()| i + 1),
            Step::Fold(id) => {
                // A value computed earlier (or an input): `SUB t a zero` with the fold flag
                // (`a + (p << 8)`, lanes below 2^58).
                self.fit(id, FOLD_MAX - (u128::from(P) << SUB_SHIFT))?;
                let (a, _) = self.operand(id);
                self.release(i, &[id]);
                let d = self.temps.alloc()?;
                self.temps.free.insert(d);
                let ins = Instruction { op: op::SUB, fold: true, d, a, b: self.dag.layout.zero() };
                self.push(&ins.encode().ok_or(ProgramError::TooMany("registers"))?);
                Ok(i + 1)
            }
            Step::Compute(id) => {
                self.compute(i, id)?;
                if steps.get(i + 1) != Some(&Step::Fold(id)) {
                    return Ok(i + 1);
                }
                self.fit(id, FOLD_MAX)?;
                let last = Instruction::decode(self.code[self.last]).op;
                if last == op::ADD || last == op::LIN {
                    return Ok(i + 1);
                }
                self.code[self.last][0] |= 0x10; // the fold flag
                self.release(i + 1, &[id]);
                Ok(i + 2)
            }
        }
    }

    fn compute(&mut self, i: usize, id: u32) -> Result<(), ProgramError> {
        let plan = self.plans[id as usize];
        let mut ids = plan.operands();
        match plan {
            Plan::Sub(_, b) | Plan::Neg(b) => self.fit(b, u128::from(P) << SUB_SHIFT)?,
            // MUL rotates its first operand, which needs canonical lanes: put a canonical one
            // first, else reduce one in place (the one used longer).
            Plan::Mul(..) => {
                let canonical = |e: &mut Self, id: u32| e.operand(id).1 < u128::from(P);
                if !canonical(self, ids[0]) {
                    ids.swap(0, 1);
                }
                if !canonical(self, ids[0]) {
                    if self.last_use[ids[1] as usize] > self.last_use[ids[0] as usize] {
                        ids.swap(0, 1);
                    }
                    self.fit(ids[0], u128::from(P) - 1)?;
                }
            }
            // LIN sums lanes times up to 3: keep the sum below the reduction bound.
            Plan::Lin(terms) => self.fit_lin(&terms)?,
            _ => {}
        }
        let ops: Vec<Operand> = ids.iter().map(|&o| self.operand(o)).collect();
        self.release(i, &ids);
        let d = self.temps.alloc()?;
        let zero = (self.dag.layout.zero(), 0);
        let reduced = (P - 1) as u128;
        let bound = match plan {
            Plan::None => return Err(ProgramError::Unsupported("input scheduled")),
            Plan::Const(c) => self.imm(op::ADDC, d, zero, c)?,
            Plan::AddC(_, c) => self.imm(op::ADDC, d, ops[0], c)?,
            Plan::MulC(_, c) => self.imm(op::MULC, d, ops[0], c)?,
            Plan::Cube(_, c) => self.imm(op::CUBE, d, ops[0], c)?,
            Plan::Add(..) => {
                self.emit(op::ADD, d, ops[0].0, ops[1].0).map(|_| ops[0].1 + ops[1].1)?
            }
            Plan::Mul(..) => self.emit(op::MUL, d, ops[0].0, ops[1].0).map(|_| reduced)?,
            Plan::Lin(terms) => self.lin(d, &terms)?,
            Plan::Sub(..) => self.sub(d, ops[0], ops[1])?,
            Plan::Neg(_) => self.sub(d, zero, ops[0])?,
        };
        self.reg[id as usize] = d;
        self.bound[id as usize] = bound;
        self.fit(id, REDUCE_AT - 1)
    }

    /// Ends a group: `u = pow · saved` (pow is canonical), then `MERGE u factor`:
    /// `acc = factor · acc + u` (factor reduced first if needed).
    fn merge(&mut self, i: usize, factor: u32, pow: u32) -> Result<(), ProgramError> {
        let saved = self.stashed.pop().ok_or(ProgramError::Unsupported("merge without stash"))?;
        self.fit(factor, P as u128 - 1)?;
        let (p, _) = self.operand(pow);
        let (f, _) = self.operand(factor);
        self.temps.free.insert(saved);
        let u = self.temps.alloc()?;
        self.emit(op::MUL, u, p, saved)?;
        self.control(ctl::MERGE, u, f)?;
        self.temps.free.insert(u);
        self.release(i, &[factor, pow]);
        Ok(())
    }

    /// Reduces the terms of a `LIN` (largest first) until `Σ k·bound` is below the reduction
    /// bound.
    fn fit_lin(&mut self, terms: &[(u32, u8); LIN_TERMS]) -> Result<(), ProgramError> {
        let bound = |e: &mut Self| -> u128 {
            terms.iter().filter(|t| t.1 > 0).map(|t| u128::from(t.1) * e.operand(t.0).1).sum()
        };
        while bound(self) >= REDUCE_AT {
            let widest = terms.iter().filter(|t| t.1 > 0).max_by_key(|t| self.bound[t.0 as usize]);
            let Some(&(id, _)) = widest else { break };
            if self.reg[id as usize] == usize::MAX || self.bound[id as usize] < u128::from(P) {
                break;
            }
            self.fit(id, u128::from(P) - 1)?;
        }
        Ok(())
    }

    /// `LIN d Σ k·x`; returns the result's lane bound.
    fn lin(&mut self, d: usize, terms: &[(u32, u8); LIN_TERMS]) -> Result<u128, ProgramError> {
        // Scaled terms first: the last two coefficients are 1 (unused terms read zero).
        let mut sorted: Vec<(u32, u8)> = terms.iter().copied().filter(|t| t.1 > 0).collect();
        sorted.sort_by_key(|t| core::cmp::Reverse(t.1));
        let mut enc = [(self.dag.layout.zero(), 1u8); LIN_TERMS];
        let mut bound = 0;
        for (slot, &(id, k)) in enc.iter_mut().zip(&sorted) {
            let (r, b) = self.operand(id);
            *slot = (r, k);
            bound += u128::from(k) * b;
        }
        let ins = Lin { fold: false, d, terms: enc };
        self.push(&ins.encode().ok_or(ProgramError::TooMany("registers"))?);
        Ok(bound)
    }

    /// Reduces node `id`'s temporary in place (`MULC r r 1`) if its lanes may exceed `max`
    /// (inputs are canonical).
    fn fit(&mut self, id: u32, max: u128) -> Result<(), ProgramError> {
        let r = self.reg[id as usize];
        if r != usize::MAX && self.bound[id as usize] > max {
            self.bound[id as usize] = self.imm(op::MULC, r, (r, 0), 1)?;
        }
        Ok(())
    }

    /// `SUB d a b`; returns the result's lane bound.
    fn sub(&mut self, d: usize, a: Operand, b: Operand) -> Result<u128, ProgramError> {
        self.emit(op::SUB, d, a.0, b.0)?;
        Ok(a.1 + (u128::from(P) << SUB_SHIFT))
    }

    /// `ADDC`/`MULC`/`CUBE d a k` with `pool[k] = c`; returns the result's lane bound.
    fn imm(&mut self, code: u8, d: usize, a: Operand, c: u32) -> Result<u128, ProgramError> {
        let k = self.constant(c);
        self.emit(code, d, a.0, k)?;
        Ok(if code == op::ADDC { a.1 + u128::from(c) } else { (P - 1) as u128 })
    }
}
