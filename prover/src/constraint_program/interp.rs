//! The Rust interpreter of a [`ConstraintProgram`]: the lane arithmetic of the Solidity one, with
//! every lane checked to stay below 2^64 (where the EVM would silently carry into the next lane).

use ctm_core::hash::Felt;
use p3_field::{BasedVectorSpace, PrimeCharacteristicRing, PrimeField32};

use super::{
    ALPHA_POWERS, ConstraintProgram, Instruction, Lin, MAX_TEMPS, OodInputs, P, ProgramError,
};
use super::{SUB_SHIFT, ctl, op};
use crate::config::Challenge;

/// An extension element as four 64-bit lanes (possibly unreduced).
type Lanes = [u64; 4];

fn lanes(x: Challenge) -> Lanes {
    let c: &[Felt] = x.as_basis_coefficients_slice();
    core::array::from_fn(|i| u64::from(c[i].as_canonical_u32()))
}

/// The 32-byte big-endian word `c0 | c1<<64 | c2<<128 | c3<<192` of `x` (canonical lanes).
pub fn encode_ext(x: Challenge) -> [u8; 32] {
    let l = lanes(x);
    let mut out = [0u8; 32];
    for (i, lane) in l.iter().enumerate() {
        out[24 - 8 * i..32 - 8 * i].copy_from_slice(&lane.to_be_bytes());
    }
    out
}

/// The Solidity `evaluate` input: local row, next row, public values (one canonical base element
/// per word), is_first_row, is_last_row, is_transition, alpha.
pub fn encode_input(inputs: &OodInputs) -> Vec<u8> {
    let ext = inputs.local.iter().chain(&inputs.next).copied().map(encode_ext);
    let public = inputs.public.iter().map(|&v| encode_ext(Challenge::from(v)));
    let tail = inputs.selectors.iter().chain([&inputs.alpha]).copied().map(encode_ext);
    ext.chain(public).chain(tail).flatten().collect()
}

/// Evaluates `program` on the out-of-domain inputs: the folded constraint accumulator, equal to
/// Plonky3's `VerifierConstraintFolder` result. `sels` = (is_first_row, is_last_row,
/// is_transition).
pub fn evaluate(
    program: &ConstraintProgram,
    local: &[Challenge],
    next: &[Challenge],
    public: &[Felt],
    sels: &[Challenge; 3],
    alpha: Challenge,
) -> Result<Challenge, ProgramError> {
    let inputs = OodInputs {
        local: local.to_vec(),
        next: next.to_vec(),
        public: public.to_vec(),
        selectors: *sels,
        alpha,
    };
    inputs.check(&program.layout)?;
    let code = &program.code;
    let n = code.get(..2).map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])));
    let start =
        n.map(|n| 2 + 4 * n).filter(|&s| s <= code.len() && (code.len() - s).is_multiple_of(4));
    let start = start.ok_or(ProgramError::Malformed(0))?;
    let pool: Vec<u64> = code[2..start]
        .chunks_exact(4)
        .map(|c| u64::from(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
        .collect();
    let mut m = Machine::new(program, &inputs, pool);
    let mut at = start;
    while at + 4 <= code.len() {
        let ins = Instruction::decode([code[at], code[at + 1], code[at + 2], code[at + 3]]);
        if ins.op == op::CTRL && ins.d == ctl::STOP {
            return match at + 4 == code.len() {
                true => Ok(Challenge::from_basis_coefficients_fn(|i| Felt::from_u64(m.acc[i] % P))),
                false => Err(ProgramError::Malformed(at)),
            };
        }
        let step = if ins.op == op::LIN {
            let bytes = code.get(at..at + 8).and_then(|b| <[u8; 8]>::try_from(b).ok());
            bytes.and_then(|b| m.lin(b))
        } else {
            m.exec(&ins)
        };
        step.ok_or(ProgramError::Malformed(at))?.map_err(|()| ProgramError::Overflow(at))?;
        at += if ins.op == op::LIN { 8 } else { 4 };
    }
    Err(ProgramError::Malformed(code.len()))
}

/// Registers, constants and accumulator of a running program.
struct Machine {
    regs: Vec<Lanes>,
    pool: Vec<u64>,
    alpha: Lanes,
    acc: Lanes,
}

impl Machine {
    fn new(program: &ConstraintProgram, inputs: &OodInputs, pool: Vec<u64>) -> Self {
        let layout = program.layout;
        let words = inputs.local.iter().chain(&inputs.next).copied();
        let words = words.chain(inputs.public.iter().map(|&v| Challenge::from(v)));
        let words = words.chain(inputs.selectors).chain([inputs.alpha]);
        let mut regs = vec![[0; 4]; layout.input(0)];
        regs.extend(words.map(lanes));
        regs.resize(layout.registers(), [0; 4]);
        Self { regs, pool, alpha: lanes(inputs.alpha), acc: [0; 4] }
    }

    /// Executes one instruction: `None` if it is malformed, `Some(Err(()))` on a lane overflow.
    fn exec(&mut self, ins: &Instruction) -> Option<Result<(), ()>> {
        let a = self.read(ins.a)?;
        if ins.fold && ins.op == op::ADD {
            return None;
        }
        if ins.op == op::CTRL {
            return self.control(ins, a);
        }
        let reg_b = || self.read(ins.b);
        let k = || self.pool.get(ins.b).copied();
        let result = match ins.op {
            op::ADD => lane_add(a, reg_b()?),
            op::SUB => lane_sub(a, reg_b()?, P << SUB_SHIFT),
            op::MUL => rot_mul(a, reg_b()?).map(reduce),
            op::MULC => {
                let c = u128::from(k()?);
                Some(a.map(|x| ((u128::from(x) * c) % u128::from(P)) as u64))
            }
            op::ADDC => lane_add(a, [k()?, 0, 0, 0]),
            op::CUBE => lane_add(a, [k()?, 0, 0, 0]).and_then(|x| {
                let x = reduce(x);
                rot_mul(x, x).and_then(|sq| rot_mul(x, sq)).map(reduce)
            }),
            _ => return None,
        };
        let Some(r) = result else { return Some(Err(())) };
        self.regs[ins.d] = r;
        Some(if ins.fold { self.fold(r) } else { Ok(()) })
    }

    /// `LIN` (8 bytes; the unused bits must be zero).
    fn lin(&mut self, bytes: [u8; 8]) -> Option<Result<(), ()>> {
        let ins = Lin::decode(bytes);
        if ins.fold || ins.encode() != Some(bytes) {
            return None;
        }
        let mut r = [0u64; 4];
        for &(reg, k) in &ins.terms {
            let x = self.read(reg)?;
            for i in 0..4 {
                let Some(v) = x[i].checked_mul(u64::from(k)).and_then(|v| v.checked_add(r[i]))
                else {
                    return Some(Err(()));
                };
                r[i] = v;
            }
        }
        self.regs[ins.d] = r;
        Some(Ok(()))
    }

    /// `STASH` (into a temporary) and `MERGE`.
    fn control(&mut self, ins: &Instruction, a: Lanes) -> Option<Result<(), ()>> {
        match ins.d {
            ctl::STASH if ins.a < MAX_TEMPS && !ins.fold => {
                self.regs[ins.a] = core::mem::take(&mut self.acc);
                Some(Ok(()))
            }
            ctl::MERGE if !ins.fold => {
                let f = self.read(ins.b)?;
                let merged = rot_mul(f, self.acc).and_then(|t| lane_add(t, a));
                Some(merged.map(|acc| self.acc = acc).ok_or(()))
            }
            _ => None,
        }
    }

    /// A register operand: a temporary, an input or the zero register (not the scratch words).
    fn read(&self, r: usize) -> Option<Lanes> {
        (!(MAX_TEMPS..MAX_TEMPS + ALPHA_POWERS).contains(&r)).then(|| self.regs.get(r).copied())?
    }

    fn fold(&mut self, x: Lanes) -> Result<(), ()> {
        self.acc = rot_mul(self.alpha, self.acc).and_then(|t| lane_add(t, x)).ok_or(())?;
        Ok(())
    }
}

fn lane_add(a: Lanes, b: Lanes) -> Option<Lanes> {
    let mut out = [0; 4];
    for i in 0..4 {
        out[i] = a[i].checked_add(b[i])?;
    }
    Some(out)
}

/// `a + big − b` lane-wise, `None` where a lane of b exceeds `big` or a lane leaves 64 bits.
fn lane_sub(a: Lanes, b: Lanes, big: u64) -> Option<Lanes> {
    let mut out = [0; 4];
    for i in 0..4 {
        out[i] = a[i].checked_add(big.checked_sub(b[i])?)?;
    }
    Some(out)
}

/// Lanes reduced mod p.
fn reduce(a: Lanes) -> Lanes {
    a.map(|x| x % P)
}

/// `a · b` in `F_p[X]/(X^4 − 3)` as the EVM computes it: `Σ_j (b_j mod p) · (a · X^j)`, where
/// `a · X^j` shifts the lanes of `a` up by `j` and puts `3·a_k mod p` into the wrapped ones;
/// lanes unreduced, `None` if one leaves 64 bits (when `a` is not canonical).
fn rot_mul(a: Lanes, b: Lanes) -> Option<Lanes> {
    let mut out = [0u128; 4];
    for j in 0..4 {
        let bj = u128::from(b[j] % P);
        for (i, lane) in out.iter_mut().enumerate() {
            let x = if i >= j { a[i - j] } else { (3 * a[4 + i - j]) % P };
            *lane += bj * u128::from(x);
        }
    }
    let mut r = [0u64; 4];
    for i in 0..4 {
        r[i] = u64::try_from(out[i]).ok()?;
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lane_mul_matches_the_extension_field() {
        let x = Challenge::from_basis_coefficients_fn(|i| Felt::from_u32(0x7eff_0000 + i as u32));
        let y = Challenge::from_basis_coefficients_fn(|i| Felt::from_u32(12345 * (i as u32 + 7)));
        assert_eq!(rot_mul(lanes(x), lanes(y)).map(reduce), Some(lanes(x * y)));
        let big = [1 << 40; 4];
        assert_eq!(rot_mul(big, [P - 1; 4]), None, "a must be canonical");
        assert!(rot_mul([P - 1; 4], [u64::MAX; 4]).is_some(), "b may be any 64-bit lanes");
        let word = encode_ext(x);
        assert_eq!(&word[24..], &0x7eff_0000u64.to_be_bytes());
        assert_eq!(&word[..8], &0x7eff_0003u64.to_be_bytes());
    }
}
