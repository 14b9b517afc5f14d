//! Symbolic constraints → DAG → plans (fused instructions) → grouped, single-pass schedule →
//! encoded program.

use ctm_core::hash::Felt;
use p3_air::symbolic::{AirLayout, get_all_symbolic_constraints};
use p3_field::PrimeField32;

use super::dag::{Dag, Node};
use super::emit::Emitter;
use super::{ConstraintProgram, Layout, MAX_REGISTERS, ProgramError};
use crate::air::BatchAir;
use crate::config::Challenge;

/// Compiles `BatchAir` at `depth`.
pub fn compile_depth(depth: u8) -> Result<ConstraintProgram, ProgramError> {
    let air = BatchAir::new(depth).ok_or(ProgramError::Depth(depth))?;
    compile(&air)
}

/// Compiles the constraints of `air` into a program (see the module docs for the format).
pub fn compile(air: &BatchAir) -> Result<ConstraintProgram, ProgramError> {
    let layout = Layout::BATCH;
    if layout.registers() > MAX_REGISTERS {
        return Err(ProgramError::TooMany("registers"));
    }
    let air_layout = AirLayout::from_air::<Felt>(air);
    let (base, ext) = get_all_symbolic_constraints::<Felt, Challenge, _>(air, air_layout);
    if !ext.is_empty() {
        return Err(ProgramError::Unsupported("extension-field constraints"));
    }
    let mut dag = Dag::new(layout);
    let roots = base.iter().map(|c| dag.lower(c)).collect::<Result<Vec<_>, _>>()?;
    drop(base);
    let mut items = group(&dag, &roots);
    let mut needed = Vec::new();
    alpha_powers(&mut dag, &mut items, &mut needed);
    let plans = plan(&dag, &needed);
    let mut steps = Vec::new();
    schedule(&items, &plans, &mut vec![false; plans.len()], &mut steps);
    let (code, stats) = Emitter::new(&dag, &plans, &steps).run(&steps)?;
    Ok(ConstraintProgram {
        depth: u8::try_from(air.depth()).map_err(|_| ProgramError::Depth(u8::MAX))?,
        layout,
        num_temps: stats.temps,
        num_constants: stats.constants,
        num_constraints: roots.len(),
        num_instructions: stats.instructions,
        code,
        reads: stats.reads,
    })
}

/// A folded item: one constraint value, or a run of constraints `F·e_k` sharing the factor `F`,
/// folded as `acc·alpha^n + F·Σ_k alpha^(n−1−k)·e_k` (the same value as folding each `F·e_k`).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Item {
    /// Fold this node.
    Fold(u32),
    /// A run of `count` constraints with a common factor.
    Group {
        /// The common factor.
        factor: u32,
        /// Number of constraints in the run.
        count: usize,
        /// The node `alpha^count` (set by [`alpha_powers`]).
        pow: u32,
        /// The cofactors, themselves grouped.
        items: Vec<Item>,
    },
}

/// Shortest run worth grouping: a group costs a stash, a product and a merge (about three
/// multiplications) and saves one multiplication per constraint.
const MIN_RUN: usize = 3;

/// The non-constant factors of node `id` (the operands of a product).
fn factors(dag: &Dag, id: u32) -> Vec<u32> {
    match dag.nodes[id as usize] {
        Node::Mul(a, b) if dag.constant(b).is_none() && dag.constant(a).is_none() => {
            if a == b {
                vec![a]
            } else {
                vec![a, b]
            }
        }
        _ => vec![],
    }
}

/// The other factor of the product `id` with factor `f`.
fn cofactor(dag: &Dag, id: u32, f: u32) -> u32 {
    match dag.nodes[id as usize] {
        Node::Mul(a, b) if a == f => b,
        Node::Mul(a, _) => a,
        _ => id,
    }
}

/// Groups maximal runs of consecutive constraints with a common factor, recursively.
fn group(dag: &Dag, roots: &[u32]) -> Vec<Item> {
    let mut items = Vec::new();
    let mut i = 0;
    while i < roots.len() {
        let run = |f: u32| roots[i..].iter().take_while(|&&r| factors(dag, r).contains(&f)).count();
        let best = factors(dag, roots[i]).into_iter().map(|f| (run(f), f)).max();
        match best {
            Some((count, factor)) if count >= MIN_RUN => {
                let inner: Vec<u32> =
                    roots[i..i + count].iter().map(|&r| cofactor(dag, r, factor)).collect();
                items.push(Item::Group { factor, count, pow: u32::MAX, items: group(dag, &inner) });
                i += count;
            }
            _ => {
                items.push(Item::Fold(roots[i]));
                i += 1;
            }
        }
    }
    items
}

/// Sets the `alpha^count` node of every group (adding it to the DAG) and collects every node
/// the program needs (folded values, factors, powers) into `needed`.
fn alpha_powers(dag: &mut Dag, items: &mut [Item], needed: &mut Vec<u32>) {
    for item in items {
        match item {
            Item::Fold(id) => needed.push(*id),
            Item::Group { factor, count, pow, items } => {
                alpha_powers(dag, items, needed);
                *pow = dag.alpha_pow(*count);
                needed.extend([*factor, *pow]);
            }
        }
    }
}

/// How a node is computed: its instruction and the nodes it needs in registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Plan {
    /// Never computed on its own (an input, or absorbed into a fused instruction).
    None,
    /// `ADD`.
    Add(u32, u32),
    /// `SUB`.
    Sub(u32, u32),
    /// `SUB` from the zero register.
    Neg(u32),
    /// `MUL`.
    Mul(u32, u32),
    /// `MULC` with a constant.
    MulC(u32, u32),
    /// `ADDC` with a constant.
    AddC(u32, u32),
    /// `CUBE`: `(x + c)^3`.
    Cube(u32, u32),
    /// A constant materialized as `ADDC d zero k`.
    Const(u32),
    /// `LIN`: `Σ k·x` over up to four terms (unused terms have `k = 0`).
    Lin([(u32, u8); LIN_TERMS]),
}

impl Plan {
    pub(super) fn operands(self) -> Vec<u32> {
        match self {
            Plan::None | Plan::Const(_) => vec![],
            Plan::Neg(a) | Plan::MulC(a, _) | Plan::AddC(a, _) | Plan::Cube(a, _) => vec![a],
            Plan::Add(a, b) | Plan::Sub(a, b) | Plan::Mul(a, b) => vec![a, b],
            Plan::Lin(terms) => terms.iter().filter(|t| t.1 > 0).map(|t| t.0).collect(),
        }
    }
}

/// Terms of a `LIN` instruction.
pub(super) const LIN_TERMS: usize = 4;
/// Largest `LIN` coefficient.
const LIN_MAX_COEF: u8 = 3;

/// A small non-negative linear combination of nodes.
type Form = Vec<(u32, u8)>;

/// `a + b` if it still fits a `LIN` (at most [`LIN_TERMS`] nodes, coefficients up to
/// [`LIN_MAX_COEF`], at most two of them above 1).
fn merge(a: &[(u32, u8)], b: &[(u32, u8)]) -> Option<Form> {
    let mut out: Form = a.to_vec();
    for &(x, k) in b {
        match out.iter_mut().find(|t| t.0 == x) {
            Some(t) => t.1 += k,
            None => out.push((x, k)),
        }
    }
    let scaled = out.iter().filter(|t| t.1 > 1).count();
    (out.len() <= LIN_TERMS && scaled <= 2 && out.iter().all(|t| t.1 <= LIN_MAX_COEF))
        .then_some(out)
}

/// The linear form of every node that is a small sum (`Add` of forms, or a product with the
/// constant 2 or 3), over other nodes; `None` where no form fits. Operands are inlined where the
/// result still fits, else taken whole.
fn linear_forms(dag: &Dag) -> Vec<Option<Form>> {
    let mut forms: Vec<Option<Form>> = Vec::with_capacity(dag.nodes.len());
    for node in &dag.nodes {
        let whole = |x: u32| vec![(x, 1u8)];
        let part =
            |forms: &[Option<Form>], x: u32| forms[x as usize].clone().unwrap_or(vec![(x, 1)]);
        let form = match *node {
            Node::Add(a, b) if dag.constant(b).is_none() => {
                let options = [
                    (part(&forms, a), part(&forms, b)),
                    (whole(a), part(&forms, b)),
                    (part(&forms, a), whole(b)),
                    (whole(a), whole(b)),
                ];
                options.iter().find_map(|(x, y)| merge(x, y))
            }
            Node::Mul(a, b) => match dag.constant(b).map(|c| c.as_canonical_u32()) {
                Some(k @ (2 | 3)) => {
                    let scaled = |f: Form| {
                        merge(&[], &f.into_iter().map(|t| (t.0, t.1 * k as u8)).collect::<Vec<_>>())
                    };
                    let inline = forms[a as usize]
                        .clone()
                        .filter(|f| f.iter().all(|t| t.1 * k as u8 <= LIN_MAX_COEF));
                    inline.and_then(scaled).or_else(|| merge(&[], &[(a, k as u8)]))
                }
                _ => None,
            },
            _ => None,
        };
        forms.push(form);
    }
    forms
}

/// A `LIN` plan for `form` if its coefficients sum to at least `min` (3 for a sum: it then
/// replaces two or more additions).
fn lin(form: &Option<Form>, min: u32) -> Option<Plan> {
    let f = form.as_ref()?;
    if f.iter().map(|t| u32::from(t.1)).sum::<u32>() < min {
        return None;
    }
    let mut terms = [(u32::MAX, 0u8); LIN_TERMS];
    terms[..f.len()].copy_from_slice(f);
    Some(Plan::Lin(terms))
}

/// Operand-slot use counts of the nodes reachable from `roots`.
fn use_counts(dag: &Dag, roots: &[u32]) -> Vec<u32> {
    let mut uses = vec![0u32; dag.nodes.len()];
    let mut seen = vec![false; dag.nodes.len()];
    let mut stack = roots.to_vec();
    while let Some(id) = stack.pop() {
        if std::mem::replace(&mut seen[id as usize], true) {
            continue;
        }
        for o in dag.nodes[id as usize].operands() {
            uses[o as usize] += 1;
            stack.push(o);
        }
    }
    uses
}

/// The plan of every node: constants become immediates, `x·x·x` (with `x = y + c` used nowhere
/// else) becomes one `CUBE`.
fn plan(dag: &Dag, roots: &[u32]) -> Vec<Plan> {
    let uses = use_counts(dag, roots);
    let konst = |id: u32| match dag.nodes[id as usize] {
        Node::Const(c) => Some(c),
        _ => None,
    };
    let cube = |x: u32, t: u32| {
        (dag.nodes[t as usize] == Node::Mul(x, x) && uses[t as usize] == 1).then(|| {
            match dag.nodes[x as usize] {
                Node::Add(y, c) if uses[x as usize] == 3 && konst(c).is_some() => {
                    Plan::Cube(y, konst(c).unwrap_or(0))
                }
                _ => Plan::Cube(x, 0),
            }
        })
    };
    let forms = linear_forms(dag);
    dag.nodes
        .iter()
        .zip(&forms)
        .map(|(&node, form)| match node {
            Node::Input(_) => Plan::None,
            Node::Const(c) => Plan::Const(c),
            Node::Add(a, b) => konst(b)
                .map(|c| Plan::AddC(a, c))
                .or_else(|| lin(form, 3))
                .unwrap_or(Plan::Add(a, b)),
            Node::Sub(a, b) => Plan::Sub(a, b),
            Node::Neg(a) => Plan::Neg(a),
            Node::Mul(a, b) => lin(form, 0)
                .or_else(|| konst(b).map(|c| Plan::MulC(a, c)))
                .or_else(|| cube(a, b))
                .or_else(|| cube(b, a))
                .unwrap_or(Plan::Mul(a, b)),
        })
        .collect()
}

/// One step of the single-pass schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Step {
    /// Compute a node into a temporary.
    Compute(u32),
    /// Fold a node into the accumulator.
    Fold(u32),
    /// Save the accumulator and restart it at zero (a group begins).
    Stash,
    /// `acc = saved·pow + factor·acc` (a group ends).
    Merge {
        /// The group's factor.
        factor: u32,
        /// `alpha^count`.
        pow: u32,
    },
}

/// Appends the steps computing node `root` (post-order, nodes not yet `done`).
fn compute(root: u32, plans: &[Plan], done: &mut [bool], steps: &mut Vec<Step>) {
    let mut stack = vec![(root, false)];
    while let Some((id, expanded)) = stack.pop() {
        let plan = plans[id as usize];
        if done[id as usize] || plan == Plan::None {
            continue;
        }
        if expanded {
            done[id as usize] = true;
            steps.push(Step::Compute(id));
            continue;
        }
        stack.push((id, true));
        stack.extend(plan.operands().into_iter().rev().map(|o| (o, false)));
    }
}

/// Item by item, in `eval` order: each folded value computed just before its fold; a group's
/// factor and power just before its merge.
fn schedule(items: &[Item], plans: &[Plan], done: &mut [bool], steps: &mut Vec<Step>) {
    for item in items {
        match item {
            Item::Fold(id) => {
                compute(*id, plans, done, steps);
                steps.push(Step::Fold(*id));
            }
            Item::Group { factor, pow, items, .. } => {
                steps.push(Step::Stash);
                schedule(items, plans, done, steps);
                compute(*factor, plans, done, steps);
                compute(*pow, plans, done, steps);
                steps.push(Step::Merge { factor: *factor, pow: *pow });
            }
        }
    }
}
