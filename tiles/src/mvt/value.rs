//! Feature property values (`Value` in the MVT schema) and their wire encoding.

use super::wire;

/// A property value. `Int` is written as `sint_value` (zigzag, compact for negatives),
/// `Uint` as `uint_value`, `Float` as `float_value` and `Double` as `double_value`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    String(String),
    Float(f32),
    Double(f64),
    Int(i64),
    Uint(u64),
    Bool(bool),
}

/// A hashable form of [`Value`] for per-layer deduplication (floats by their bits).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum ValueKey {
    String(String),
    Float(u32),
    Double(u64),
    Int(i64),
    Uint(u64),
    Bool(bool),
}

impl Value {
    pub(crate) fn dedup_key(&self) -> ValueKey {
        match self {
            Self::String(s) => ValueKey::String(s.clone()),
            Self::Float(f) => ValueKey::Float(f.to_bits()),
            Self::Double(d) => ValueKey::Double(d.to_bits()),
            Self::Int(i) => ValueKey::Int(*i),
            Self::Uint(u) => ValueKey::Uint(*u),
            Self::Bool(b) => ValueKey::Bool(*b),
        }
    }

    /// Appends the body of a `Value` message (without its own field key).
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Self::String(s) => wire::put_bytes_field(out, 1, s.as_bytes()),
            Self::Float(f) => {
                wire::put_key(out, 2, wire::FIXED32);
                out.extend_from_slice(&f.to_le_bytes());
            }
            Self::Double(d) => {
                wire::put_key(out, 3, wire::FIXED64);
                out.extend_from_slice(&d.to_le_bytes());
            }
            Self::Uint(u) => wire::put_uint_field(out, 5, *u),
            Self::Int(i) => wire::put_uint_field(out, 6, wire::zigzag64(*i)),
            Self::Bool(b) => wire::put_uint_field(out, 7, u64::from(*b)),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Self::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Self::String(s)
    }
}

impl From<f64> for Value {
    fn from(d: f64) -> Self {
        Self::Double(d)
    }
}

impl From<f32> for Value {
    fn from(f: f32) -> Self {
        Self::Float(f)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Self::Int(i)
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Self {
        Self::Int(i.into())
    }
}

impl From<u64> for Value {
    fn from(u: u64) -> Self {
        Self::Uint(u)
    }
}

impl From<u32> for Value {
    fn from(u: u32) -> Self {
        Self::Uint(u.into())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        v.encode_into(&mut out);
        out
    }

    #[test]
    fn encodes_each_kind() {
        assert_eq!(bytes(&"hi".into()), [0x0a, 2, b'h', b'i']);
        assert_eq!(bytes(&Value::Int(-2)), [0x30, 3]);
        assert_eq!(bytes(&Value::Uint(300)), [0x28, 0xac, 0x02]);
        assert_eq!(bytes(&true.into()), [0x38, 1]);
        let d = bytes(&1.5_f64.into());
        assert_eq!(d[0], 0x19);
        assert_eq!(&d[1..], 1.5_f64.to_le_bytes());
        let f = bytes(&1.5_f32.into());
        assert_eq!(f[0], 0x15);
        assert_eq!(&f[1..], 1.5_f32.to_le_bytes());
    }

    #[test]
    fn dedup_keys_tell_types_apart() {
        assert_ne!(Value::Int(1).dedup_key(), Value::Uint(1).dedup_key());
        assert_eq!(
            Value::Double(f64::NAN).dedup_key(),
            Value::Double(f64::NAN).dedup_key()
        );
    }
}
