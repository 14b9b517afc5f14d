//! JSON for the `ctm_` namespace, whose records carry `u128` amounts (18-decimal base units, so
//! anything above ~18.4 tokens exceeds 2^64): `serde_json::Value` cannot hold such numbers, and
//! JavaScript loses precision above 2^53. Values are serialized exactly to JSON text, then every
//! integer beyond ±(2^53 − 1) becomes a decimal string; smaller integers stay numbers.

use serde::Serialize;
use serde_json::Value;

/// The largest integer every JSON client (JavaScript included) reads exactly.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// `v` as JSON with integers beyond [`MAX_SAFE_INTEGER`] as decimal strings.
pub fn to_exact_json<T: Serialize>(v: &T) -> Result<Value, serde_json::Error> {
    let text = serde_json::to_string(v)?;
    serde_json::from_str(&quote_big_integers(&text))
}

/// Rewrites well-formed JSON text, quoting integer literals beyond [`MAX_SAFE_INTEGER`].
fn quote_big_integers(s: &str) -> String {
    let b = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len() + 32);
    let (mut i, mut in_str) = (0, false);
    while i < b.len() {
        let c = b[i];
        if in_str {
            out.push(c);
            if c == b'\\' && i + 1 < b.len() {
                out.push(b[i + 1]);
                i += 1;
            } else if c == b'"' {
                in_str = false;
            }
            i += 1;
        } else if c == b'-' || c.is_ascii_digit() {
            let start = i;
            i += 1;
            while i < b.len() && is_number_byte(b[i]) {
                i += 1;
            }
            let tok = &s[start..i];
            if is_big_integer(tok) {
                out.push(b'"');
                out.extend_from_slice(tok.as_bytes());
                out.push(b'"');
            } else {
                out.extend_from_slice(tok.as_bytes());
            }
        } else {
            in_str = c == b'"';
            out.push(c);
            i += 1;
        }
    }
    // Only ASCII quotes were inserted between whole tokens: still UTF-8.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn is_number_byte(c: u8) -> bool {
    c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-')
}

fn is_big_integer(tok: &str) -> bool {
    if tok.contains(['.', 'e', 'E']) {
        return false;
    }
    match tok.parse::<i64>() {
        Ok(n) => n.unsigned_abs() > MAX_SAFE_INTEGER,
        Err(_) => true, // beyond i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Serialize)]
    struct Rec {
        small: u64,
        safe: u64,
        unsafe_u64: u64,
        amount: u128,
        neg: i128,
        text: &'static str,
        float: f64,
        list: Vec<u128>,
    }

    #[test]
    fn big_integers_become_strings_and_nothing_else_changes() {
        let r = Rec {
            small: 7,
            safe: MAX_SAFE_INTEGER,
            unsafe_u64: MAX_SAFE_INTEGER + 1,
            amount: 10_000 * 10u128.pow(18),
            neg: -(1i128 << 100),
            text: "12345678901234567890 \"quoted 99999999999999999999\" \\",
            float: 1.5e300,
            list: vec![1, u128::MAX],
        };
        let v = to_exact_json(&r).unwrap();
        assert_eq!(v["small"], json!(7));
        assert_eq!(v["safe"], json!(MAX_SAFE_INTEGER));
        assert_eq!(v["unsafe_u64"], json!("9007199254740992"));
        assert_eq!(v["amount"], json!("10000000000000000000000"));
        assert_eq!(v["neg"], json!((-(1i128 << 100)).to_string()));
        assert_eq!(v["text"], json!(r.text));
        assert_eq!(v["float"], json!(1.5e300));
        assert_eq!(v["list"], json!([1, u128::MAX.to_string()]));
    }

    #[test]
    fn plain_serde_json_cannot_hold_these_values() {
        assert!(serde_json::to_value(u128::MAX).is_err());
        assert_eq!(to_exact_json(&u128::MAX).unwrap(), json!(u128::MAX.to_string()));
    }
}
