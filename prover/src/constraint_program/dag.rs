//! The constraint DAG: Plonky3's symbolic expressions hash-consed (structurally equal
//! subexpressions become one node) with constants folded.

use std::collections::HashMap;
use std::sync::Arc;

use ctm_core::hash::Felt;
use p3_air::symbolic::{BaseEntry, BaseLeaf, SymbolicExpr, SymbolicExpression};
use p3_field::{PrimeCharacteristicRing, PrimeField32};

use super::{Layout, ProgramError};

/// A DAG node; operands are node ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Node {
    /// An input word.
    Input(usize),
    /// A canonical base-field constant.
    Const(u32),
    Add(u32, u32),
    Sub(u32, u32),
    Neg(u32),
    Mul(u32, u32),
}

impl Node {
    pub(super) fn operands(self) -> Vec<u32> {
        match self {
            Node::Input(_) | Node::Const(_) => vec![],
            Node::Neg(a) => vec![a],
            Node::Add(a, b) | Node::Sub(a, b) | Node::Mul(a, b) => vec![a, b],
        }
    }
}

/// Hash-consed expression DAG with constant folding.
pub(super) struct Dag {
    pub(super) nodes: Vec<Node>,
    index: HashMap<Node, u32>,
    /// Plonky3's `Arc` children already lowered, by address.
    seen: HashMap<usize, u32>,
    pub(super) layout: Layout,
}

impl Dag {
    pub(super) fn new(layout: Layout) -> Self {
        Self { nodes: Vec::new(), index: HashMap::new(), seen: HashMap::new(), layout }
    }

    fn intern(&mut self, node: Node) -> u32 {
        if let Some(&id) = self.index.get(&node) {
            return id;
        }
        let id = self.nodes.len() as u32;
        self.nodes.push(node);
        self.index.insert(node, id);
        id
    }

    pub(super) fn constant(&self, id: u32) -> Option<Felt> {
        match self.nodes[id as usize] {
            Node::Const(c) => Some(Felt::from_u32(c)),
            _ => None,
        }
    }

    fn konst(&mut self, c: Felt) -> u32 {
        self.intern(Node::Const(c.as_canonical_u32()))
    }

    fn add(&mut self, a: u32, b: u32) -> u32 {
        match (self.constant(a), self.constant(b)) {
            (Some(x), Some(y)) => self.konst(x + y),
            (Some(x), None) if x == Felt::ZERO => b,
            (None, Some(y)) if y == Felt::ZERO => a,
            (Some(_), None) => self.add(b, a),
            (None, Some(y)) => match self.nodes[a as usize] {
                // (x + c1) + c2 = x + (c1 + c2).
                Node::Add(x, c1) if self.constant(c1).is_some() => {
                    let c = self.konst(self.constant(c1).unwrap_or_default() + y);
                    self.add(x, c)
                }
                _ => self.intern(Node::Add(a, b)),
            },
            (None, None) => self.intern(Node::Add(a.min(b), a.max(b))),
        }
    }

    fn sub(&mut self, a: u32, b: u32) -> u32 {
        match (self.constant(a), self.constant(b)) {
            _ if a == b => self.konst(Felt::ZERO),
            (Some(x), Some(y)) => self.konst(x - y),
            (_, Some(y)) => {
                let c = self.konst(-y);
                self.add(a, c)
            }
            (Some(x), None) if x == Felt::ZERO => self.neg(b),
            _ => self.intern(Node::Sub(a, b)),
        }
    }

    fn neg(&mut self, a: u32) -> u32 {
        match self.nodes[a as usize] {
            Node::Const(c) => self.konst(-Felt::from_u32(c)),
            Node::Neg(x) => x,
            _ => self.intern(Node::Neg(a)),
        }
    }

    pub(super) fn mul(&mut self, a: u32, b: u32) -> u32 {
        match (self.constant(a), self.constant(b)) {
            (Some(x), Some(y)) => self.konst(x * y),
            (Some(_), None) => self.mul(b, a),
            (None, Some(y)) if y == Felt::ZERO => b,
            (None, Some(y)) if y == Felt::ONE => a,
            (None, Some(y)) if y == Felt::NEG_ONE => self.neg(a),
            (None, Some(_)) => self.intern(Node::Mul(a, b)),
            (None, None) => self.intern(Node::Mul(a.min(b), a.max(b))),
        }
    }

    fn leaf(&mut self, leaf: &BaseLeaf<Felt>) -> Result<u32, ProgramError> {
        let l = self.layout;
        let word = match leaf {
            BaseLeaf::Constant(c) => return Ok(self.konst(*c)),
            BaseLeaf::IsFirstRow => l.selectors(),
            BaseLeaf::IsLastRow => l.selectors() + 1,
            BaseLeaf::IsTransition => l.selectors() + 2,
            BaseLeaf::Variable(v) => match v.entry {
                BaseEntry::Main { offset: 0 } if v.index < l.width => l.local(v.index),
                BaseEntry::Main { offset: 1 } if v.index < l.width => l.next(v.index),
                BaseEntry::Public if v.index < l.num_public_values => l.public(v.index),
                BaseEntry::Main { .. } | BaseEntry::Public => {
                    return Err(ProgramError::Unsupported("variable out of the layout"));
                }
                BaseEntry::Preprocessed { .. } => {
                    return Err(ProgramError::Unsupported("preprocessed columns"));
                }
                BaseEntry::Periodic => return Err(ProgramError::Unsupported("periodic columns")),
            },
        };
        Ok(self.intern(Node::Input(word)))
    }

    pub(super) fn lower(&mut self, e: &SymbolicExpression<Felt>) -> Result<u32, ProgramError> {
        Ok(match e {
            SymbolicExpr::Leaf(leaf) => self.leaf(leaf)?,
            SymbolicExpr::Add { x, y, .. } => {
                let (a, b) = (self.child(x)?, self.child(y)?);
                self.add(a, b)
            }
            SymbolicExpr::Sub { x, y, .. } => {
                let (a, b) = (self.child(x)?, self.child(y)?);
                self.sub(a, b)
            }
            SymbolicExpr::Neg { x, .. } => {
                let a = self.child(x)?;
                self.neg(a)
            }
            SymbolicExpr::Mul { x, y, .. } => {
                let (a, b) = (self.child(x)?, self.child(y)?);
                self.mul(a, b)
            }
        })
    }

    /// `alpha^n` (n ≥ 1) by square-and-multiply; shared powers are shared nodes.
    pub(super) fn alpha_pow(&mut self, n: usize) -> u32 {
        let alpha = self.intern(Node::Input(self.layout.alpha()));
        if n <= 1 {
            return alpha;
        }
        let half = self.alpha_pow(n / 2);
        let square = self.mul(half, half);
        if n % 2 == 1 { self.mul(square, alpha) } else { square }
    }

    fn child(&mut self, x: &Arc<SymbolicExpression<Felt>>) -> Result<u32, ProgramError> {
        let key = Arc::as_ptr(x) as usize;
        if let Some(&id) = self.seen.get(&key) {
            return Ok(id);
        }
        let id = self.lower(x)?;
        self.seen.insert(key, id);
        Ok(id)
    }
}
